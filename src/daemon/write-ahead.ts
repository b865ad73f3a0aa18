import type { ClockService } from "../actors/clock.js"
import type { RequestBudgetService } from "../actors/ports/request-budget.js"
import type { VenueGatewayService, VenueReport } from "../actors/ports/venue-gateway.js"
import type { ApprovedAction } from "../actors/risk/index.js"
import { Hop, hopTrace } from "../actors/trace/hop-trace.js"

/** What the write-ahead gateway needs of the journal. */
export interface DurabilityGate {
  /** True once every durable append made so far is durable; false if one failed (backlogged). */
  readonly durable: () => Promise<boolean>
  /** The same answer in the caller's turn when it is known (undefined: ask `durable`). */
  readonly durableNow?: () => boolean | undefined
}

/**
 * Holds every venue call until the journal appends made before it (the intent, risk's
 * decision, OrderSubmitted) are durable. If the journal could not take them, a submit or a
 * modify is not sent — it comes back rejected ("journal unavailable: not sent") — while
 * cancels still go out: taking risk off must not wait for the journal (their records are in
 * the backlog and are journaled when it drains).
 */
export const writeAheadGateway = (inner: VenueGatewayService, journal: DurabilityGate, clock: ClockService, run: () => number = () => 0): VenueGatewayService => {
  const local = new Set<(r: VenueReport) => void>()
  let seq = 0
  const report = (r: VenueReport): void => {
    for (const l of local) l(r)
  }
  const refuse = (action: ApprovedAction): void => {
    const a = action.action
    const reason = "journal unavailable: not sent"
    const envelope = { id: `write-ahead/${action.account}-r${run()}-${++seq}`, ts: clock.now(), source: `write-ahead/${action.account}` }
    if (a.kind === "submit") {
      report({ _tag: "OrderRejected", ...envelope, account: a.intent.account, instrument: a.intent.instrument, clientOrderId: a.intent.clientOrderId, reason })
    } else if (a.kind === "modify") {
      report({ _tag: "OrderModifyRejected", ...envelope, account: a.intent.account, instrument: a.intent.instrument, clientOrderId: a.intent.clientOrderId, reason })
    }
  }
  return {
    account: inner.account,
    ...(inner.subscribeAccount === undefined ? {} : { subscribeAccount: inner.subscribeAccount }),
    subscribe: (listener) => {
      local.add(listener)
      const off = inner.subscribe(listener)
      return () => {
        local.delete(listener)
        off()
      }
    },
    send: (action) => {
      const decide = (ok: boolean): void => {
        const kind = action.action.kind
        if (hopTrace.on && action.action.kind === "submit") hopTrace.markOrder(action.action.intent.clientOrderId, Hop.durable)
        if (ok || kind === "cancel" || kind === "cancelAll" || kind === "cancelAllAfter") inner.send(action)
        else refuse(action)
      }
      // Everything appended so far is already written (the `os` policy's caller-turn write):
      // sent in this turn. Otherwise the action waits for the appends before it, as always.
      const now = journal.durableNow?.()
      if (now === true) decide(true)
      else void journal.durable().then(decide)
    }
  }
}

/**
 * The read side of the write-ahead rule: a read (the gateway's check of an unknown outcome,
 * reconciliation, fill paging) is sent only once its cost is reserved AND the journal has taken
 * everything appended before — its `VenueRequestSent` included. A node that crashes during a
 * journal outage loses its backlog; reads sent meanwhile would still count in the venue's rate
 * window while the restarted node's limiter, restored from the journal, knew nothing of them
 * (found by the simulation: seeds 732, 866, 912). During an outage reads wait for the journal
 * (trading is halted by the journal cause anyway); a read that never went out costs the budget
 * but not the venue, which errs on the safe side.
 */
export const writeAheadBudget = (inner: RequestBudgetService, journal: { readonly settled: () => Promise<void> }): RequestBudgetService => ({
  reserve: (call) => inner.reserve(call).then(() => journal.settled())
})
