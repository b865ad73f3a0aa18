import { Effect, Option } from "effect"
import type { StoreError, StoreService } from "../actors/ports/store.js"
import type { AccountId } from "../domain/ids.js"
import type { LedgerCause } from "../domain/ledger.js"

/**
 * The operator's cause of an account's trading state (halt, reduce-only, or none), kept in the
 * store as well as in the journal: an operator's halt is made during a journal outage as much as
 * at any other time (it must not wait for the journal), and its journal record then waits in the
 * journal's in-memory backlog — a crash of the node before the backlog is written would lose it.
 * So every operator change of the trading state is also written here (one row per account, the
 * newest), and recovery takes the newer of this and the ledger's (`restoreTradingNode`). A halt is
 * acknowledged once either has it; a resume only once both have it (so this row is never older
 * than a resume the journal has).
 */
export interface StoredOperatorCause {
  readonly level: "active" | "halted" | "reducing"
  readonly who: string
  readonly why: string
  /** When the operator made the change (the node's clock). */
  readonly since: number
}

const VERSION = "operator-cause/1"

export const operatorCauseActorId = (account: AccountId): string => `operator-cause/${account}`

export const saveOperatorCause = (store: StoreService, account: AccountId, c: StoredOperatorCause): Effect.Effect<void, StoreError> =>
  store.saveSnapshot({ actorId: operatorCauseActorId(account), machineVersion: VERSION, snapshot: c, offsets: [], takenAt: c.since })

export const loadOperatorCause = (store: StoreService, account: AccountId): Effect.Effect<StoredOperatorCause | undefined, StoreError> =>
  store.loadSnapshot(operatorCauseActorId(account)).pipe(
    Effect.map((s) => {
      if (Option.isNone(s) || s.value.machineVersion !== VERSION) return undefined
      const c = s.value.snapshot as Partial<StoredOperatorCause>
      if ((c.level !== "active" && c.level !== "halted" && c.level !== "reducing") || typeof c.who !== "string" || typeof c.why !== "string" || typeof c.since !== "number") return undefined
      return { level: c.level, who: c.who, why: c.why, since: c.since }
    })
  )

/**
 * The operator's cause a recovered node holds: the newer of the ledger's (the journal's) and the
 * store's. The store's is newer when the journal lost the record (a crash during an outage); the
 * ledger's when the store could not be written (a store outage). A tie keeps the ledger's.
 */
export const newerOperatorCause = (ledger: LedgerCause | undefined, stored: StoredOperatorCause | undefined): { readonly level: "halted" | "reducing"; readonly who: string; readonly why: string; readonly since: number } | undefined => {
  const fromLedger = ledger !== undefined && ledger.level !== "active" ? { level: ledger.level as "halted" | "reducing", who: ledger.by, why: ledger.why, since: ledger.since } : undefined
  if (stored === undefined || (ledger !== undefined && ledger.since >= stored.since)) return fromLedger
  return stored.level === "active" ? undefined : { level: stored.level, who: stored.who, why: stored.why, since: stored.since }
}
