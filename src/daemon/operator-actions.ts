import { Effect } from "effect"
import type { CanonicalEvent } from "../domain/events/index.js"
import type { Halt, ReduceOnly, Resume } from "../domain/events/control.js"
import type { ActionState, OperatorAction, OperatorActionKind } from "../domain/events/operator.js"
import type { AccountId } from "../domain/ids.js"
import type { StoreService } from "../actors/ports/store.js"
import { CAUSE_LEVEL, effectiveStatus, type ActiveCause, type TradingCause } from "../machines/trading-state.machine.js"
import { ControlError, type OperatorCommand, type OperatorResult, type ReconcileAcceptResult } from "./control.js"
import { saveOperatorCause, type StoredOperatorCause } from "./operator-cause-store.js"
import type { PositionMismatches } from "./position-mismatch.js"
import type { TradingNode } from "./trading-node.js"

/**
 * The operator's trading-state actions — halt, reduce, resume (or lift one automatic cause),
 * cancel-all, reconcile accept. Each is an `OperatorAction` in the journal (who, why, client,
 * before and intended after) appended BEFORE it takes effect, and so an `operator_action` row
 * in the audit trail.
 *
 * Actions that take risk off (halt, reduce, cancel-all) are queued in the journal ahead of their
 * effects and applied at once: taking risk off must not wait for a slow or failed journal. Actions
 * that give risk back (resume, lift, reconcile accept) are applied only once their record is
 * durable; with the journal failing they are refused — no audit, no trade.
 *
 * An operator's halt (or reduce-only) is never lost once acknowledged: it is written to the store
 * too (`operator-cause-store.ts`, retried until it is there or a newer change replaces it), and
 * the answer waits until the journal or the store has it (`durableWithinMs`). If neither does by
 * then, the halt still stands in this process but the answer says that it would not survive a
 * crash (`Unavailable`). A resume is applied only once the journal has its record and the store
 * its row, so the store's row is never older than a resume the journal has; recovery takes the
 * newer of the two.
 */
export interface OperatorActionsDeps {
  readonly account: AccountId
  readonly now: () => number
  readonly trading: TradingNode
  readonly journal: {
    readonly append: (event: CanonicalEvent) => Promise<unknown>
    readonly backlogSize: number
  }
  readonly mismatches: PositionMismatches
  /** Reads the venue's positions and adopts those that differ (PositionChanged). */
  readonly adoptVenuePositions: () => Effect.Effect<ReadonlyArray<{ readonly instrument: string; readonly from: string; readonly to: string }>, unknown>
  readonly publish?: (event: CanonicalEvent) => void
  /** How long a risk-giving action waits for its record to be durable. Default 5 s. */
  readonly durableWithinMs?: number
  /** The timer of that wait (default Node's): the simulation passes its simulated clock's. */
  readonly setTimer?: (ms: number, fn: () => void) => () => void
  /** A short random suffix that keeps record ids unique across restarts (default Math.random); seeded in a simulation. */
  readonly randomSuffix?: () => string
  /** The store that keeps the operator's cause beside the journal (see above); without it, the journal only. */
  readonly store?: StoreService
  /** How often a failed store write of the operator's cause is tried again. Default 1 s. */
  readonly storeRetryMs?: number
}

const defaultSetTimer = (ms: number, fn: () => void): (() => void) => {
  const timer = setTimeout(fn, ms)
  return () => clearTimeout(timer)
}
const defaultSuffix = (): string => Math.random().toString(36).slice(2, 8)

type Picture = ActionState

const describeCauses = (causes: ReadonlyArray<ActiveCause>): string => (causes.length === 0 ? "none" : causes.map((c) => `${c.cause}:${c.level}`).join(", "))

export class OperatorActions {
  private seq = 0

  constructor(private readonly deps: OperatorActionsDeps) {}

  private picture(causes: ReadonlyArray<ActiveCause>): Picture {
    const byCause: Partial<Record<TradingCause, ActiveCause>> = {}
    for (const c of causes) byCause[c.cause] = c
    return { state: effectiveStatus(byCause), causes: describeCauses(causes) }
  }

  /** The causes after the action, as intended (the machine decides; this is what the record says was asked). */
  private intended(change: { readonly raise?: ActiveCause; readonly lift?: TradingCause }): Picture {
    const causes = this.deps.trading.risk.causes().filter((c) => c.cause !== change.lift && c.cause !== change.raise?.cause)
    return this.picture(change.raise === undefined ? causes : [...causes, change.raise])
  }

  private record(action: OperatorActionKind, c: OperatorCommand, after: Picture, target?: string): OperatorAction {
    const now = this.deps.now()
    return {
      _tag: "OperatorAction",
      id: `operator/${this.deps.account}-${now}-${++this.seq}-${(this.deps.randomSuffix ?? defaultSuffix)()}`,
      ts: now,
      source: `operator:${c.who}`,
      action,
      account: this.deps.account,
      ...(target === undefined ? {} : { target }),
      who: c.who,
      why: c.why,
      client: (c.client ?? "unknown").slice(0, 512),
      before: this.picture(this.deps.trading.risk.causes()),
      after
    }
  }

  /** Risk off: queued in the journal ahead of its effects, applied at once. Resolves true once durable there. */
  private takeOff(event: OperatorAction): Promise<boolean> {
    const durable = this.deps.journal.append(event).then(
      () => true,
      () => false
    )
    this.deps.publish?.(event)
    return durable
  }

  private timer(ms: number, fn: () => void): () => void {
    return (this.deps.setTimer ?? defaultSetTimer)(ms, fn)
  }

  /** Operator-cause writes so far: a newer one supersedes an older one still being retried. */
  private causeWrites = 0

  /** No more store retries (the node stops: what it did not write by now its successor does not see, and was not acknowledged). */
  stop(): void {
    this.causeWrites++
  }

  /** Writes the operator's cause to the store, retrying until it is there (or superseded). Resolves true once written. */
  private persist(cause: StoredOperatorCause): Promise<boolean> {
    const store = this.deps.store
    if (store === undefined) return Promise.resolve(false)
    const generation = ++this.causeWrites
    return new Promise<boolean>((resolve) => {
      const attempt = (): void => {
        if (generation !== this.causeWrites) return resolve(false)
        Effect.runPromise(saveOperatorCause(store, this.deps.account, cause)).then(
          () => resolve(true),
          () => void this.timer(this.deps.storeRetryMs ?? 1_000, attempt)
        )
      }
      attempt()
    })
  }

  /** A risk-off action's answer: once the journal or the store has it, or `Unavailable` (applied, not durable) after the wait. */
  private acknowledge(action: string, durable: ReadonlyArray<Promise<boolean>>, result: () => OperatorResult): Effect.Effect<OperatorResult, ControlError> {
    const wait = this.deps.durableWithinMs ?? 5_000
    return Effect.tryPromise({
      try: () =>
        new Promise<void>((resolve, reject) => {
          let pending = durable.length
          const cancel = this.timer(wait, () => reject(new Error("timeout")))
          for (const d of durable)
            void d.then((ok) => {
              if (ok) {
                cancel()
                resolve()
              } else if (--pending === 0) {
                // Both gave up (no store, and the journal's append failed): wait for the store's retries no more.
                if (this.deps.store === undefined) {
                  cancel()
                  reject(new Error("not durable"))
                }
              }
            })
        }),
      catch: () =>
        new ControlError({
          code: "Unavailable",
          message: `${action} applied in this process, but neither the journal nor the store has it yet: it would not survive a crash of the node (the store write is retried)`
        })
    }).pipe(Effect.map(result))
  }

  /** Risk back: applied only when its record is durable. */
  private giveBack(event: OperatorAction): Effect.Effect<void, ControlError> {
    const unavailable = new ControlError({ code: "Unavailable", message: `journal unavailable: '${event.action}' not applied (no audit, no trade)` })
    if (this.deps.journal.backlogSize > 0) return Effect.fail(unavailable)
    const wait = this.deps.durableWithinMs ?? 5_000
    return Effect.tryPromise({
      try: () =>
        new Promise<void>((resolve, reject) => {
          const cancel = (this.deps.setTimer ?? defaultSetTimer)(wait, () => reject(new Error("timeout")))
          this.deps.journal.append(event).then(
            () => {
              cancel()
              resolve()
            },
            (e: unknown) => {
              cancel()
              reject(e instanceof Error ? e : new Error(String(e)))
            }
          )
        }),
      catch: () => unavailable
    }).pipe(Effect.tap(() => Effect.sync(() => this.deps.publish?.(event))))
  }

  private control(tag: Halt["_tag"] | ReduceOnly["_tag"] | Resume["_tag"], c: OperatorCommand): void {
    const now = this.deps.now()
    this.deps.trading.control({ _tag: tag, id: `operator/${this.deps.account}-${now}-${++this.seq}`, ts: now, source: `operator:${c.who}`, who: c.who, why: c.why, account: this.deps.account })
  }

  private result(canceled: number): OperatorResult {
    return { trading: { [this.deps.account]: this.deps.trading.risk.status }, canceled }
  }

  private operatorCause(level: "halted" | "reducing", c: OperatorCommand): ActiveCause {
    return { cause: "operator", level, who: `operator:${c.who}`, why: c.why, since: this.deps.now() }
  }

  halt(c: OperatorCommand): Effect.Effect<OperatorResult, ControlError> {
    return this.raise("halt", "halted", c)
  }

  reduce(c: OperatorCommand): Effect.Effect<OperatorResult, ControlError> {
    return this.raise("reduce", "reducing", c)
  }

  private raise(action: "halt" | "reduce", level: "halted" | "reducing", c: OperatorCommand): Effect.Effect<OperatorResult, ControlError> {
    return Effect.suspend(() => {
      const cause = this.operatorCause(level, c)
      const journaled = this.takeOff(this.record(action, c, this.intended({ raise: cause })))
      const stored = this.persist({ level, who: cause.who, why: cause.why, since: cause.since })
      this.control(level === "halted" ? "Halt" : "ReduceOnly", c)
      const canceled = c.cancelAll === true ? this.cancelAllNow(c) : 0
      return this.acknowledge(action, [journaled, stored], () => this.result(canceled))
    })
  }

  /** A resume's store row: required before the resume is applied (see above). */
  private storeResume(c: OperatorCommand): Effect.Effect<void, ControlError> {
    if (this.deps.store === undefined) return Effect.void
    const store = this.deps.store
    ++this.causeWrites
    return saveOperatorCause(store, this.deps.account, { level: "active", who: `operator:${c.who}`, why: c.why, since: this.deps.now() }).pipe(
      Effect.mapError(() => new ControlError({ code: "Unavailable", message: "store unavailable: 'resume' not applied (the operator's halt is kept in the store too, and a resume must replace it there)" }))
    )
  }

  /** Lifts the operator's own cause, or with `cause` that automatic cause only. Nothing else is touched. */
  resume(c: OperatorCommand): Effect.Effect<OperatorResult, ControlError> {
    const cause = c.cause
    if (cause !== undefined && !(cause in CAUSE_LEVEL)) return Effect.fail(new ControlError({ code: "Invalid", message: `no cause '${String(cause)}' to lift (one of ${Object.keys(CAUSE_LEVEL).join(", ")})` }))
    const active = this.deps.trading.risk.causes().some((x) => x.cause === (cause ?? "operator"))
    if (!active) {
      const held = this.deps.trading.risk.causes()
      return Effect.fail(new ControlError({ code: "Conflict", message: `no ${cause ?? "operator"} cause to lift (active: ${describeCauses(held)})` }))
    }
    const event = cause === undefined ? this.record("resume", c, this.intended({ lift: "operator" })) : this.record("lift", c, this.intended({ lift: cause }), cause)
    return this.giveBack(event).pipe(
      Effect.zipRight(cause === undefined ? this.storeResume(c) : Effect.void),
      Effect.map(() => {
        if (cause === undefined) this.control("Resume", c)
        else this.deps.trading.liftCause(cause, c.who, c.why)
        return this.result(0)
      })
    )
  }

  cancelAll(c: OperatorCommand): Effect.Effect<OperatorResult, ControlError> {
    return Effect.sync(() => this.result(this.cancelAllNow(c)))
  }

  private cancelAllNow(c: OperatorCommand): number {
    const live = this.deps.trading.orders.liveOrders
    const before = this.picture(this.deps.trading.risk.causes())
    this.takeOff({ ...this.record("cancelAll", c, before), before: { ...before, openOrders: live }, after: { ...before, openOrders: 0 } })
    const now = this.deps.now()
    // Through the trading node: while the core is down (a crash, its rebuild pending) the rebuilt core sends it.
    const outcome = this.deps.trading.operatorCancelAll({ _tag: "CancelAll", id: `operator/${this.deps.account}-${now}-${++this.seq}-cancel-all`, ts: now, source: `operator:${c.who}`, account: this.deps.account })
    return outcome === "denied" ? 0 : live
  }

  reconcileAccept(c: OperatorCommand): Effect.Effect<ReconcileAcceptResult, ControlError> {
    const mismatches = this.deps.mismatches.list
    const raised = this.deps.trading.risk.causes().some((x) => x.cause === "reconciliation")
    if (mismatches.length === 0 && !raised) return Effect.fail(new ControlError({ code: "Conflict", message: "no position mismatch to accept" }))
    const event = this.record("reconcileAccept", c, this.intended({ lift: "reconciliation" }), mismatches.map((m) => `${m.instrument} ours ${m.ours} venue ${m.venue}`).join("; ").slice(0, 256))
    return this.giveBack(event).pipe(
      Effect.zipRight(this.deps.adoptVenuePositions().pipe(Effect.mapError((e) => new ControlError({ code: "Unavailable", message: `the venue's positions could not be read: ${String(e)}` })))),
      Effect.map((adopted) => {
        this.deps.mismatches.clear()
        this.deps.trading.liftCause("reconciliation", c.who, c.why)
        return { trading: { [this.deps.account]: this.deps.trading.risk.status }, adopted }
      })
    )
  }
}
