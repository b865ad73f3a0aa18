import type { Halt, ReduceOnly, Resume } from "../../domain/events/control.js"
import type { CancelAll, CancelOrder, OrderIntent, SubmitOrder } from "../../domain/events/intents.js"
import type { LedgerFinishedOrder, LedgerOrder } from "../../domain/ledger.js"
import type { OrderCancelRequested, OrderFilled, OrderModifyRejected, OrderSubmitted } from "../../domain/events/orders.js"
import { eventIds, type IdSequences, type RunNumber } from "../../domain/event-ids.js"
import type { AccountId, ClientOrderId } from "../../domain/ids.js"
import type { OrderContext } from "../../machines/order.machine.js"
import { compileOrderMachine, type CompiledOrderMachine, type OrderEffect } from "../../machines/order.step.js"
import type { ClockService } from "../clock.js"
import { Hop, hopTrace } from "../trace/hop-trace.js"
import type { VenueGatewayService, VenueReport } from "../ports/venue-gateway.js"
import type { ApprovedAction } from "../risk/approval.js"
import type { Decision, RiskActor } from "../risk/risk.actor.js"
import { OrderActor, orderInputOf } from "./order.actor.js"
import type { ReconciliationEvent } from "./reconciliation.js"

export type OrderJournalEvent = OrderSubmitted | OrderCancelRequested | OrderModifyRejected | VenueReport | ReconciliationEvent

export interface OrderManagerDeps {
  readonly account: AccountId
  readonly clock: ClockService
  readonly risk: RiskActor
  readonly gateway: VenueGatewayService
  /** Journal append: what we send (before the call) and every venue reply as it arrives. */
  readonly emit: (event: OrderJournalEvent) => void
  /** Fills go to the portfolio before risk sees them, so risk never under-counts a position. */
  readonly onFill?: (fill: OrderFilled) => void
  /**
   * Finished orders kept alive for late fills (canceled → filled): every one finished within the
   * last `retainTerminalMs` (default 10 min) up to `retainTerminal` (default 10 000), and beyond
   * that time the newest `retainTerminalMin` (default 1 000). A fill later than that is still
   * counted by the portfolio and journaled; its order is a reconciliation event.
   */
  readonly retainTerminal?: number
  readonly retainTerminalMs?: number
  readonly retainTerminalMin?: number
  readonly onActorError?: (clientOrderId: string, error: unknown) => void
  /** The daemon's run number, part of every event id (ids unique across restarts). */
  readonly run?: RunNumber
  /** Id sequences that outlive this manager (a core rebuilt in the same run continues them). */
  readonly ids?: IdSequences
  /**
   * Fill ids already counted (the portfolio's, restored from the ledger after a restart). A venue
   * fill with one of them is a repeat (the private feed's fill snapshot after every connect):
   * dropped before the journal, so it is journaled and audited once.
   */
  readonly knownFill?: (fillId: string) => boolean
  /** Journals the single cancels a strategy's cancel-all is expanded into (intents, like any other). */
  readonly journalIntent?: (intent: CancelOrder) => void
}

/**
 * A strategy's cancel-all, expanded: risk's decision on each single cancel. Approved when every
 * one was (or there was nothing to cancel); otherwise the first denial is the answer.
 */
export interface StrategyCancelAllApproved {
  readonly _tag: "Approved"
  readonly cancels: ReadonlyArray<Decision>
}

/**
 * The account's orders: every intent goes to risk first; an approval goes to the order's actor
 * (a new one for a submit), whose machine spends it on the gateway. Venue reports are routed by
 * client order id, then venue order id; anything else is a reconciliation event.
 */
export class OrderManager {
  private readonly machine: CompiledOrderMachine
  private readonly live = new Map<string, OrderActor>()
  private readonly byVenueId = new Map<string, string>()
  /** Finished orders, oldest first, with when they finished. */
  private readonly finished: Array<{ readonly cid: string; readonly at: number }> = []
  private readonly source: string
  private readonly unsubscribe: () => void
  private readonly nextId: () => string
  /** Venue fills dropped before the journal as repeats of fills already counted. */
  duplicateFills = 0

  constructor(private readonly deps: OrderManagerDeps) {
    this.source = `orders/${deps.account}`
    this.nextId = eventIds(this.source, deps.run, deps.ids)
    // The order machine compiled once, with this host's clock; every order steps on the same table.
    this.machine = compileOrderMachine(deps.clock.now)
    this.unsubscribe = deps.gateway.subscribe((r) => this.onVenueReport(r))
  }

  /**
   * Orders that are live: not terminal (the order actors of finished orders are kept for late
   * fills, see `retainedOrders`, and are not counted). What `status`, the halt reply and
   * `troupe_orders_live` show.
   */
  get liveOrders(): number {
    let n = 0
    for (const a of this.live.values()) if (!a.terminal) n++
    return n
  }

  /** Order actors held: the live ones and the finished ones kept for late fills. */
  get retainedOrders(): number {
    return this.live.size
  }

  order(clientOrderId: string): OrderActor | undefined {
    return this.live.get(clientOrderId)
  }

  /** An intent from a strategy or the operator: decided by risk, then (if approved) acted on. */
  handle(intent: OrderIntent): Decision | StrategyCancelAllApproved {
    if (intent._tag === "CancelAll" && intent.strategy !== undefined) return this.cancelAllOf(intent, intent.strategy)
    const decision = this.deps.risk.decide(intent)
    if (hopTrace.on) hopTrace.mark(Hop.risk)
    if (decision._tag === "Approved") this.act(intent, decision.action)
    return decision
  }

  /**
   * A strategy's cancel-all. Kraken's `cancelallorders` narrows by symbol only, which would take
   * other strategies' orders with it; so it becomes one cancel per live order of the strategy
   * (and instrument, when given), each decided and billed by risk and journaled before it is sent
   * (OrderCancelRequested) like any single cancel. Orders with a cancel already in flight are
   * skipped. No venue read is needed: the order manager knows the strategy's live orders.
   */
  private cancelAllOf(intent: CancelAll, strategy: string): Decision | StrategyCancelAllApproved {
    const targets = [...this.live.values()].filter((a) => a.strategy === strategy && !a.terminal && a.cancelable && (intent.instrument === undefined || a.context.instrumentId === intent.instrument))
    const cancels: Decision[] = []
    let firstDenial: Decision | undefined
    let k = 0
    for (const a of targets) {
      const one: CancelOrder = {
        _tag: "CancelOrder",
        id: `${intent.id}/${++k}`,
        ts: this.deps.clock.now(),
        source: intent.source,
        account: intent.account,
        strategy: intent.strategy ?? (strategy as CancelOrder["strategy"]),
        instrument: a.context.instrumentId as CancelOrder["instrument"],
        clientOrderId: a.clientOrderId as ClientOrderId
      }
      this.deps.journalIntent?.(one)
      const d = this.handle(one) as Decision
      cancels.push(d)
      if (d._tag === "Denied") firstDenial ??= d
    }
    return firstDenial ?? { _tag: "Approved", cancels }
  }

  /** Operator kill switch; `cancelAll` also pulls every open order (the cancel is risk-approved too). */
  control(e: Halt | ReduceOnly | Resume, opts: { readonly cancelAll?: boolean } = {}): boolean {
    const changed = this.deps.risk.control(e)
    if (opts.cancelAll === true) {
      const intent: CancelAll = { _tag: "CancelAll", id: this.nextId(), ts: this.deps.clock.now(), source: `operator:${e.who}`, account: this.deps.account }
      this.handle(intent)
    }
    return changed
  }

  private act(intent: OrderIntent, approval: ApprovedAction): void {
    switch (intent._tag) {
      case "SubmitOrder": {
        const a = new OrderActor(intent.clientOrderId, intent.strategy, this.machine, orderInputOf(intent), this.deps.clock, this.effect, (err) => this.deps.onActorError?.(intent.clientOrderId, err))
        this.live.set(intent.clientOrderId, a)
        a.command({ type: "SUBMIT" }, approval)
        return
      }
      case "ModifyOrder": {
        const a = this.live.get(intent.clientOrderId)
        const change = {
          ...(intent.qty === undefined ? {} : { quantity: intent.qty.toString() }),
          ...(intent.price === undefined ? {} : { price: intent.price.toString() }),
          ...(intent.triggerPrice === undefined ? {} : { triggerPrice: intent.triggerPrice.toString() })
        }
        if (a !== undefined && a.command({ type: "MODIFY", change }, approval)) return
        // Not sent (the order is pending a cancel, or finished): release risk's pending modify.
        const notSent: OrderModifyRejected = {
          _tag: "OrderModifyRejected",
          ...this.envelope(),
          account: this.deps.account,
          instrument: intent.instrument,
          clientOrderId: intent.clientOrderId,
          reason: `not sent: order is ${a?.status ?? "not live"}`
        }
        this.deps.emit(notSent)
        this.deps.risk.onOrderEvent(notSent)
        return
      }
      case "CancelOrder": {
        const a = this.live.get(intent.clientOrderId)
        if (a !== undefined) {
          a.command({ type: "CANCEL" }, approval)
          return
        }
        // Not ours to track (placed before a restart, or elsewhere): the venue may still know it.
        this.send(approval)
        return
      }
      case "CancelAll":
        this.send(approval)
        return
    }
  }

  /**
   * Recovery: an order the journal says is live, its machine rebuilt by replaying the facts
   * (submitted, accepted, each fill, a cancel in flight) with the send actions suppressed:
   * nothing goes to the venue. Risk counts it as open again.
   */
  adopt(o: LedgerOrder): OrderActor {
    const a = this.rebuild(o)
    const s = o.submitted
    if (o.cancelRequested) this.replay(() => a.send({ type: "CANCEL" }))
    this.deps.risk.adoptOpenOrder({
      clientOrderId: s.clientOrderId,
      strategy: s.strategy,
      instrument: s.instrument,
      side: s.side,
      orderType: s.orderType,
      qty: o.qty,
      filled: o.filled,
      price: o.price,
      triggerPrice: s.triggerPrice
    })
    return a
  }

  /**
   * Recovery: an order that had finished shortly before the restart, rebuilt as a finished order
   * actor (kept like any finished order, see `retainTerminal`) so a fill the venue reports late
   * for it — an IOC's remainder canceled before its fill arrived — is attributed to it, not an
   * external order. Nothing is sent and risk does not count it as open.
   */
  adoptFinished(o: LedgerFinishedOrder): OrderActor {
    const a = this.rebuild(o)
    const s = o.submitted
    this.replay(() => {
      if (o.status === "canceled") a.report({ _tag: "OrderCanceled", id: s.id, ts: o.finishedAt, source: this.source, account: s.account, instrument: s.instrument, clientOrderId: s.clientOrderId, ...(o.reason === undefined ? {} : { reason: o.reason }) })
      else if (o.status === "rejected") a.send({ type: "REJECTED", reason: o.reason ?? "rejected" })
      else if (o.status === "expired") a.send({ type: "EXPIRED" })
    })
    if (a.terminal) this.finished.push({ cid: s.clientOrderId, at: o.finishedAt })
    return a
  }

  /** An order actor rebuilt from the journal's facts (submitted, accepted, each fill), sending nothing. */
  private rebuild(o: LedgerOrder): OrderActor {
    const s = o.submitted
    const intent: SubmitOrder = {
      _tag: "SubmitOrder",
      id: s.id,
      ts: s.ts,
      source: s.source,
      account: s.account,
      strategy: s.strategy,
      instrument: s.instrument,
      clientOrderId: s.clientOrderId,
      side: s.side,
      orderType: s.orderType,
      qty: o.qty,
      reduceOnly: s.reduceOnly,
      ...(o.price === undefined ? {} : { price: o.price }),
      ...(s.triggerPrice === undefined ? {} : { triggerPrice: s.triggerPrice })
    }
    const a = new OrderActor(s.clientOrderId, s.strategy, this.machine, orderInputOf(intent), this.deps.clock, this.effect, (err) => this.deps.onActorError?.(s.clientOrderId, err))
    this.live.set(s.clientOrderId, a)
    this.replay(() => {
      a.send({ type: "SUBMIT" })
      if (o.venueOrderId !== undefined) {
        this.byVenueId.set(o.venueOrderId, s.clientOrderId)
        if (o.acknowledged) a.send({ type: "ACCEPTED", venueOrderId: o.venueOrderId })
      }
      for (const f of o.fills) a.send({ type: "FILL", fillId: f.fillId, quantity: f.qty.toString(), price: f.price.toString() })
    })
    return a
  }

  /** Runs `f` with the machine's send actions suppressed (recovery replays facts; nothing goes out). */
  private replay(f: () => void): void {
    this.replaying = true
    try {
      f()
    } finally {
      this.replaying = false
    }
  }

  /** Live orders (recovery reconciles them with the venue). */
  liveOrderIds(): ReadonlyArray<string> {
    return [...this.live.keys()].filter((cid) => this.live.get(cid)?.terminal === false)
  }

  private replaying = false

  /** The order machine's side effects, performed for the order that asked. */
  private readonly effect = (name: OrderEffect, context: OrderContext, a: OrderActor): void => {
    switch (name) {
      case "sendSubmit":
      case "sendModify":
      case "sendCancel":
        this.dispatch(context.clientOrderId)
        return
      case "denyCommand":
        a.refused = true
        return
      case "reportOverfill":
        this.reconcile("overfill", this.lastReport, context.clientOrderId)
        return
      case "recordIgnored":
        return
    }
  }

  /** The machine's send actions land here: spend the approval that came with the command. */
  private dispatch(clientOrderId: string): void {
    if (this.replaying) return
    if (hopTrace.on) hopTrace.mark(Hop.machine)
    const a = this.live.get(clientOrderId)
    if (a === undefined) return
    let approval = a.pending
    a.pending = undefined
    if (approval === undefined) {
      // A cancel the machine raised itself (good-till-date expiry): it needs risk's approval too.
      const ctx = a.context
      const intent: CancelOrder = {
        _tag: "CancelOrder",
        ...this.envelope(),
        account: this.deps.account,
        strategy: "orders" as CancelOrder["strategy"],
        instrument: ctx.instrumentId,
        clientOrderId: ctx.clientOrderId
      }
      const d = this.deps.risk.decide(intent)
      if (d._tag !== "Approved") return
      approval = d.action
    }
    const act = approval.action
    if (act.kind === "submit") {
      const i = act.intent
      const submitted: OrderSubmitted = {
        _tag: "OrderSubmitted",
        ...this.envelope(),
        account: i.account,
        instrument: i.instrument,
        clientOrderId: i.clientOrderId,
        strategy: i.strategy,
        side: i.side,
        orderType: i.orderType,
        qty: i.qty,
        reduceOnly: i.reduceOnly,
        ...(i.price === undefined ? {} : { price: i.price }),
        ...(i.triggerPrice === undefined ? {} : { triggerPrice: i.triggerPrice })
      }
      this.deps.emit(submitted)
      if (hopTrace.on) hopTrace.mark(Hop.journal)
    } else if (act.kind === "cancel") {
      const venueOrderId = a.context.venueOrderId
      const requested: OrderCancelRequested = {
        _tag: "OrderCancelRequested",
        ...this.envelope(),
        account: this.deps.account,
        instrument: act.intent.instrument,
        clientOrderId: act.intent.clientOrderId,
        ...(venueOrderId === null ? {} : { venueOrderId: venueOrderId as NonNullable<OrderCancelRequested["venueOrderId"]> })
      }
      this.deps.emit(requested)
    }
    this.send(approval)
  }

  private send(approval: ApprovedAction): void {
    this.deps.gateway.send(approval)
  }

  private lastReport: VenueReport | undefined

  /** A venue reply: journal it, keep the portfolio and risk current, then drive the order's machine. */
  onVenueReport(r: VenueReport): void {
    if (r._tag === "OrderFilled" && this.deps.knownFill?.(r.fillId) === true) {
      this.duplicateFills++
      return
    }
    this.lastReport = r
    this.deps.emit(r)
    if (r._tag === "OrderFilled") this.deps.onFill?.(r)
    this.deps.risk.onOrderEvent(r)
    let a = this.live.get(r.clientOrderId)
    if (a === undefined && "venueOrderId" in r && r.venueOrderId !== undefined) {
      const cid = this.byVenueId.get(r.venueOrderId)
      if (cid !== undefined) a = this.live.get(cid)
    }
    if (a === undefined) {
      this.reconcile("externalOrder", r, r.clientOrderId)
      return
    }
    if (r._tag === "OrderAccepted") this.byVenueId.set(r.venueOrderId, a.clientOrderId)
    const wasTerminal = a.terminal
    a.report(r)
    if (!wasTerminal && a.terminal) this.retire(a.clientOrderId)
  }

  private retire(clientOrderId: string): void {
    const now = this.deps.clock.now()
    this.finished.push({ cid: clientOrderId, at: now })
    const max = this.deps.retainTerminal ?? 10_000
    const min = Math.min(max, this.deps.retainTerminalMin ?? 1_000)
    const horizon = now - (this.deps.retainTerminalMs ?? 600_000)
    while (this.finished.length > max || (this.finished.length > min && (this.finished[0] as { at: number }).at < horizon)) {
      const old = (this.finished.shift() as { cid: string }).cid
      const a = this.live.get(old)
      if (a === undefined) continue
      a.stop()
      this.live.delete(old)
      const vid = a.context.venueOrderId
      if (vid !== null) this.byVenueId.delete(vid)
    }
  }

  private reconcile(kind: ReconciliationEvent["kind"], r: VenueReport | undefined, clientOrderId: string): void {
    if (r === undefined) return
    this.deps.emit({
      _tag: "ReconciliationNeeded",
      ...this.envelope(),
      account: this.deps.account,
      instrument: r.instrument,
      clientOrderId: clientOrderId as ClientOrderId,
      kind,
      report: r
    })
  }

  private envelope(): { id: string; ts: number; source: string } {
    return { id: this.nextId(), ts: this.deps.clock.now(), source: this.source }
  }

  stop(): void {
    this.unsubscribe()
    for (const a of this.live.values()) a.stop()
    this.live.clear()
  }
}
