import { Effect } from "effect"
import type { CanonicalEvent } from "../domain/events/index.js"
import type { Halt, ReduceOnly, Resume } from "../domain/events/control.js"
import type { ActionState, OperatorAction, OperatorActionKind } from "../domain/events/operator.js"
import type { AccountId } from "../domain/ids.js"
import { CAUSE_LEVEL, effectiveStatus, type ActiveCause, type TradingCause } from "../machines/trading-state.machine.js"
import { ControlError, type OperatorCommand, type OperatorResult, type ReconcileAcceptResult } from "./control.js"
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

  /** Risk off: queued in the journal ahead of its effects, applied at once. */
  private takeOff(event: OperatorAction): void {
    void this.deps.journal.append(event).catch(() => undefined)
    this.deps.publish?.(event)
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
    return Effect.sync(() => {
      this.takeOff(this.record("halt", c, this.intended({ raise: this.operatorCause("halted", c) })))
      this.control("Halt", c)
      return this.result(c.cancelAll === true ? this.cancelAllNow(c) : 0)
    })
  }

  reduce(c: OperatorCommand): Effect.Effect<OperatorResult, ControlError> {
    return Effect.sync(() => {
      this.takeOff(this.record("reduce", c, this.intended({ raise: this.operatorCause("reducing", c) })))
      this.control("ReduceOnly", c)
      return this.result(c.cancelAll === true ? this.cancelAllNow(c) : 0)
    })
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
    const decision = this.deps.trading.orders.handle({ _tag: "CancelAll", id: `operator/${this.deps.account}-${now}-${++this.seq}-cancel-all`, ts: now, source: `operator:${c.who}`, account: this.deps.account })
    return decision._tag === "Approved" ? live : 0
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
