import { Effect } from "effect"
import { StoreError, type StoreService } from "../actors/ports/store.js"

/**
 * The store with outages and stalls, for the simulation: while an outage lasts every call fails
 * with a connection error (SQLSTATE 08006, as `pg` reports a lost server); a stalled call waits a
 * while on simulated time before it runs. When an outage starts and how long it lasts, and which
 * calls stall, is drawn by the caller (from the seed).
 */
export interface StoreFaults {
  /** The outage's message when the store is down now, else undefined (may start one). */
  readonly refuse: () => string | undefined
  /** Milliseconds this call waits before it runs, or undefined. */
  readonly stall: () => number | undefined
  readonly setTimer: (ms: number, fn: () => void) => () => void
}

export const faultyStore = (store: StoreService, faults: StoreFaults): StoreService => {
  const guard =
    <A extends ReadonlyArray<unknown>, R>(op: string, call: (...args: A) => Effect.Effect<R, StoreError>) =>
    (...args: A): Effect.Effect<R, StoreError> =>
      Effect.suspend(() => {
        const refused = faults.refuse()
        if (refused !== undefined) return Effect.fail(new StoreError({ op, code: "08006", cause: new Error(refused) }))
        const wait = faults.stall()
        if (wait === undefined) return call(...args)
        return Effect.async<void>((resume) => {
          const cancel = faults.setTimer(wait, () => resume(Effect.void))
          return Effect.sync(cancel)
        }).pipe(Effect.zipRight(Effect.suspend(() => call(...args))))
      })
  return {
    migrate: store.migrate,
    close: store.close,
    appendAudit: guard("appendAudit", store.appendAudit),
    queryAudit: guard("queryAudit", store.queryAudit),
    auditHighWatermark: guard("auditHighWatermark", store.auditHighWatermark),
    saveSnapshot: guard("saveSnapshot", store.saveSnapshot),
    loadSnapshot: guard("loadSnapshot", store.loadSnapshot),
    upsertOrder: guard("upsertOrder", store.upsertOrder),
    applyOrderChange: guard("applyOrderChange", store.applyOrderChange),
    insertFills: guard("insertFills", store.insertFills),
    upsertPosition: guard("upsertPosition", store.upsertPosition),
    queryOrders: guard("queryOrders", store.queryOrders),
    queryFills: guard("queryFills", store.queryFills),
    queryPositions: guard("queryPositions", store.queryPositions)
  }
}
