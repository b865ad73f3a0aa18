import { Effect } from "effect"
import type { ClockService } from "../actors/clock.js"
import type { RequestBudgetService, VenueRead } from "../actors/ports/request-budget.js"
import type { VenueGatewayService, VenueReport } from "../actors/ports/venue-gateway.js"
import { ApprovedAction } from "../actors/risk/approval.js"
import { krakenOrderType } from "../adapters/venues/kraken-futures/gateway.js"
import type { EngineEffect, FillView, OrderView } from "../adapters/venues/simulator/engine-types.js"
import type { Random } from "../adapters/venues/simulator/random.js"
import { CostBudget, endpointCost } from "../adapters/venues/simulator/rate-limit.js"
import type { KrakenRestClient } from "../adapters/venues/kraken-futures/index.js"
import type { ReplayExchange } from "../replay/replay-exchange.js"
import type { CancelOrder, SubmitOrder } from "../domain/events/intents.js"
import { symbolOf, type AccountId, type ClientOrderId, type FillId, type InstrumentId, type VenueOrderId } from "../domain/ids.js"
import type { FaultPlan } from "./faults.js"

/**
 * The venue as the simulated node sees it: the simulator's exchange in-process, behind the
 * faults of a real connection. An approved action reaches the venue after a request latency
 * (in send order: one connection); the venue charges its own rate budget (Kraken's costs,
 * 500 per 10 s) and refuses what does not fit; the answer and the private feed's reports come
 * back after their own delays, so they may be reordered or duplicated.
 *
 * Faults (each drawn from the seed's fault plan): request delays; REST 5xx (not applied);
 * injected `apiLimitExceeded` (not applied); timeouts whose outcome is unknown (applied or not,
 * no answer): the gateway then reads the venue's open orders and order history (billed to the
 * account's read budget, as the Kraken adapter does) and reports what it finds; reports delayed
 * and duplicated; feed disconnects, after which the resubscription delivers what was held and a
 * snapshot of the last fills again (repeats that the order manager must drop).
 *
 * What reaches the venue is told to `observer` before it is applied: the simulation's
 * invariants are checked there against the venue's own state.
 */
export interface VenueObserver {
  /** An approved action arrives at the venue (before the venue applies it). */
  readonly onArrive: (action: ApprovedAction) => void
  /** A value that reached `send` without being a genuine approval. */
  readonly onForged: () => void
  /** A fill of our account at the venue (the venue's truth). */
  readonly onVenueFill: (fill: FillView) => void
  /** A call the venue refused for its rate budget (not an injected fault). */
  readonly onRateRefused: (call: string, cost: number) => void
  /** A cliOrdId the venue was asked to place (before it decides). */
  readonly onSubmitAtVenue: (cliOrdId: string) => void
}

export interface SimVenueDeps {
  readonly account: AccountId
  /** The account's name inside the engine. */
  readonly venueAccount: string
  readonly venue: string
  readonly exchange: ReplayExchange
  readonly clock: ClockService
  readonly random: Random
  readonly faults: FaultPlan
  /** The account's read budget (risk's), looked up at call time (a new node brings a new one). */
  readonly budget: () => RequestBudgetService | undefined
  readonly observer: VenueObserver
  /** How long a lost answer is waited for before the gateway reads the venue's state. */
  readonly timeoutMs?: number
}

const costOf = (call: string): number =>
  call === "fillsBefore" ? endpointCost("fills", new URLSearchParams({ lastFillTime: "" }), 0) : endpointCost(call, new URLSearchParams(), 0)

export class SimVenue implements VenueGatewayService {
  readonly account: AccountId
  private listeners: Array<(r: VenueReport) => void> = []
  private seq = 0
  /** The venue's own rate accounting (one per venue: it outlives the node). */
  private readonly rate = new CostBudget(500, 10_000)
  private lastArrival = 0
  /** Reports waiting for their delivery timer (the run is quiet only when this is 0). */
  inFlight = 0
  /** Set while the private feed is disconnected: reports wait here for the resubscription. */
  private held: VenueReport[] | undefined
  private readonly recentFills: VenueReport[] = []
  private readonly fillLog: VenueReport[] = []
  sent = 0
  delivered = 0

  constructor(private readonly deps: SimVenueDeps) {
    this.account = deps.account
  }

  readonly subscribe = (listener: (report: VenueReport) => void): (() => void) => {
    this.listeners.push(listener)
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener)
    }
  }

  /**
   * The node's periodic reads of its open orders and positions (the adapter's position check),
   * every `everyMs`, each billed to the account's read budget before it is sent: with the order
   * traffic they keep the venue's rate budget busy, so reads the budget did not charge show.
   */
  startPolling(everyMs: number, until: () => boolean): void {
    // One poll at a time: the next one is armed when the previous one was answered (or dropped).
    let outstanding = false
    const tick = (): void => {
      if (until()) return
      if (!outstanding || this.waiting.size === 0) {
        outstanding = true
        this.read(this.polls++ % 2 === 0 ? "openorders" : "openpositions", () => {
          outstanding = false
        })
      }
      this.deps.clock.setTimer(everyMs, tick)
    }
    this.deps.clock.setTimer(everyMs, tick)
  }
  private polls = 0

  /** A crash: the node's subscriptions are gone with it (the new node subscribes again). */
  dropSubscribers(): void {
    this.listeners = []
    this.waiting.clear()
    this.generation++
  }

  /** Node incarnations so far: a read retried after a crash belongs to the dead node and is dropped. */
  private generation = 0

  get rateTruth(): { readonly refused: number; readonly peak: number } {
    return this.rate.stats(this.deps.venueAccount)
  }

  readonly send = (action: ApprovedAction): void => {
    const { clock, faults } = this.deps
    if (!ApprovedAction.isGenuine(action)) {
      this.deps.observer.onForged()
      return
    }
    this.sent++
    const latency = faults.roll("requestDelayed", clock.now()) ? this.deps.random.int(1, 200) : 0
    // One connection: requests arrive in the order they were sent.
    const at = Math.max(this.lastArrival, clock.now() + latency)
    this.lastArrival = at
    this.inFlight++
    clock.setTimer(at - clock.now(), () => {
      this.inFlight--
      this.arrive(action)
    })
  }

  /** Reads waiting for the account's budget; a crash drops them with the node that made them. */
  private readonly waiting = new Set<object>()

  /** A read the gateway makes (billed to the account's budget first, then charged by the venue). */
  read(call: VenueRead, then: () => void, attempt = 0): void {
    const budget = this.deps.budget()
    // No live node (crashed, or its successor still starting): nobody reads.
    if (budget === undefined) return
    const go = (): void => {
      if (!this.charge(call)) return
      then()
    }
    const token = {}
    this.waiting.add(token)
    budget.reserve(call).then(
      () => {
        if (this.waiting.delete(token)) go()
      },
      () => {
        if (!this.waiting.delete(token)) return
        // As the Kraken gateway: a budget closed by a trading core's restart is asked again
        // (20 times, 500 ms apart); a dead node's reads go with it (the budget is then undefined).
        if (attempt >= 20) return
        const generation = this.generation
        this.inFlight++
        this.deps.clock.setTimer(500, () => {
          this.inFlight--
          if (generation === this.generation) this.read(call, then, attempt + 1)
        })
      }
    )
  }

  describePending(): string {
    return `${this.inFlight} calls/reports in flight, ${this.waiting.size} reads waiting for the read budget`
  }

  /** Calls, reports and reads not landed yet: the run is settled only when this is 0. */
  get pending(): number {
    return this.inFlight + this.waiting.size
  }

  /**
   * The venue's REST reads a restarted node's reconciliation (`daemon/reconcile.ts`,
   * `reconcileWithVenue`) makes: fills (newest first, 100 a page, `lastFillTime` pages back),
   * open orders and open positions, in the Kraken reply shapes the adapter decodes. Each read is
   * charged by the venue's own rate accounting (the caller reserved it from the account's budget
   * first, as the daemon does); a read the venue refuses fails, and reconcile retries.
   */
  rest(): Pick<KrakenRestClient, "fills" | "openOrders" | "openPositions"> {
    const engine = this.deps.exchange.engine
    const account = this.deps.venueAccount
    const read = <A>(call: string, f: () => A) =>
      Effect.suspend(() => (this.charge(call) ? Effect.succeed(f()) : Effect.fail(new Error(`simulated venue: ${call} refused (apiLimitExceeded)`) as never)))
    return {
      fills: (lastFillTime) =>
        read(lastFillTime === undefined ? "fills" : "fillsBefore", () => {
          const before = lastFillTime === undefined ? Number.POSITIVE_INFINITY : Date.parse(lastFillTime)
          return engine
            .fills(account)
            .filter((f) => f.time < before)
            .slice(-100)
            .reverse()
            .map((f) => ({
              fill_id: f.fillId,
              order_id: f.orderId,
              ...(f.cliOrdId === undefined ? {} : { cliOrdId: f.cliOrdId }),
              symbol: f.symbol,
              side: f.side,
              size: f.qty,
              price: f.price,
              fillTime: new Date(f.time).toISOString(),
              fillType: f.liquidity
            }))
        }),
      openOrders: () =>
        read("openorders", () =>
          engine.openOrders(account).map((o) => ({
            order_id: o.orderId,
            ...(o.cliOrdId === undefined ? {} : { cliOrdId: o.cliOrdId }),
            symbol: o.symbol,
            side: o.side,
            orderType: o.type,
            ...(o.limitPrice === undefined ? {} : { limitPrice: o.limitPrice }),
            ...(o.stopPrice === undefined ? {} : { stopPrice: o.stopPrice }),
            unfilledSize: o.size.minus(o.filled),
            filledSize: o.filled,
            receivedTime: new Date(o.receivedTime).toISOString(),
            reduceOnly: o.reduceOnly
          }))
        ),
      openPositions: () =>
        read("openpositions", () =>
          engine
            .positions(account)
            .filter((p) => !p.balance.isZero())
            .map((p) => ({ symbol: p.symbol, side: p.balance.isNegative() ? ("short" as const) : ("long" as const), size: p.balance.abs(), price: p.entryPrice }))
        )
    }
  }

  private charge(call: string): boolean {
    const cost = costOf(call)
    if (this.rate.tryConsume(this.deps.venueAccount, cost, this.deps.clock.now())) return true
    this.deps.observer.onRateRefused(call, cost)
    return false
  }

  private arrive(action: ApprovedAction): void {
    const { clock, faults } = this.deps
    const now = clock.now()
    this.deps.observer.onArrive(action)
    const a = action.action
    const refuse = (reason: string): void => {
      if (a.kind === "submit") this.answer({ _tag: "OrderRejected", ...this.ref(a.intent.instrument, a.intent.clientOrderId), reason })
      else if (a.kind === "modify") this.answer({ _tag: "OrderModifyRejected", ...this.ref(a.intent.instrument, a.intent.clientOrderId), reason })
      else if (a.kind === "cancel") this.answer({ _tag: "OrderCancelRejected", ...this.ref(a.intent.instrument, a.intent.clientOrderId), reason })
    }
    if (faults.roll("venue5xx", now)) return refuse("venue 503: service unavailable (not applied)")
    if (faults.roll("apiLimitExceeded", now)) return refuse("apiLimitExceeded")
    if (!this.charge(action.call)) return refuse("apiLimitExceeded")
    const lost = faults.roll("timeoutUnknownOutcome", now)
    const applied = !lost || this.deps.random.next() < 0.5
    if (applied) this.apply(action, lost)
    if (lost) {
      // The answer is lost: after the timeout the gateway asks the venue what became of it.
      this.inFlight++
      clock.setTimer(this.deps.timeoutMs ?? 2_000, () => {
        this.inFlight--
        this.read("openorders", () => this.resolve(action, applied))
      })
    }
  }

  /** After a timeout: the venue's order history says whether the call was applied. */
  private resolve(action: ApprovedAction, applied: boolean): void {
    const a = action.action
    if (a.kind === "submit") {
      const found = this.deps.exchange.engine.allOrders(this.deps.venueAccount).find((o) => o.cliOrdId === a.intent.clientOrderId)
      const ref = this.ref(a.intent.instrument, a.intent.clientOrderId)
      this.answer(found !== undefined ? { _tag: "OrderAccepted", ...ref, venueOrderId: found.orderId as VenueOrderId } : { _tag: "OrderRejected", ...ref, reason: "request timed out: not at the venue" })
      if (found !== undefined && found.state !== "open" && found.state !== "untriggered") this.immediateShort(a.intent, found)
    } else if (a.kind === "modify" && !applied) {
      this.answer({ _tag: "OrderModifyRejected", ...this.ref(a.intent.instrument, a.intent.clientOrderId), reason: "request timed out: not applied" })
    } else if (a.kind === "modify") {
      const i = a.intent
      this.answer({ _tag: "OrderModified", ...this.ref(i.instrument, i.clientOrderId), ...(i.qty === undefined ? {} : { qty: i.qty }), ...(i.price === undefined ? {} : { price: i.price }), ...(i.triggerPrice === undefined ? {} : { triggerPrice: i.triggerPrice }) })
    } else if (a.kind === "cancel" && !applied) {
      const open = this.deps.exchange.engine.openOrders(this.deps.venueAccount).some((o) => o.cliOrdId === a.intent.clientOrderId)
      // Still open: the cancel did not happen (refused, the order machine decides what next).
      if (open) this.answer({ _tag: "OrderCancelRejected", ...this.ref(a.intent.instrument, a.intent.clientOrderId), reason: "request timed out: not applied" })
    }
  }

  /**
   * The gateway's report for an immediate order (IOC, FOK, market) whose executions are short of
   * what was asked and whose rest the venue did not cancel — a reduce-only order the venue reduced
   * to the position, then closed as `full_fill` (see the Kraken gateway's `immediateShort`): the
   * remainder is reported canceled, after the fills.
   */
  private immediateShort(i: SubmitOrder, placed: OrderView): void {
    if (i.orderType !== "ioc" && i.orderType !== "fok" && i.orderType !== "market") return
    if (placed.filled.isZero() || placed.filled.greaterThanOrEqualTo(i.qty) || placed.state === "cancelled") return
    const reason = `not executed: ${i.qty.minus(placed.filled).toFixed()} of ${i.qty.toFixed()} (the venue reduced or closed the order)`
    this.answer({ _tag: "OrderCanceled", ...this.ref(i.instrument, i.clientOrderId), venueOrderId: placed.orderId as VenueOrderId, reason })
  }

  private apply(action: ApprovedAction, answerLost: boolean): void {
    const { exchange } = this.deps
    const account = this.deps.venueAccount
    const a = action.action
    const answer = (r: VenueReport): void => {
      if (!answerLost) this.answer(r)
    }
    switch (a.kind) {
      case "submit": {
        const i = a.intent
        const type = krakenOrderType(i.orderType)
        this.deps.observer.onSubmitAtVenue(i.clientOrderId)
        const mark = this.effectsMark()
        const out = exchange.send({
          account,
          symbol: symbolOf(i.instrument),
          orderType: type,
          side: i.side,
          size: i.qty,
          cliOrdId: i.clientOrderId,
          ...(type !== "mkt" && i.price !== undefined ? { limitPrice: i.price } : {}),
          ...(type === "stp" && i.triggerPrice !== undefined ? { stopPrice: i.triggerPrice } : {}),
          ...(i.reduceOnly ? { reduceOnly: true } : {})
        })
        const ref = this.ref(i.instrument, i.clientOrderId)
        // The command's own answer before the fills its effects reported (as a REST reply precedes the feed).
        this.answerBefore(mark, answerLost, out.status === "placed" && out.order !== undefined ? { _tag: "OrderAccepted", ...ref, venueOrderId: out.order.orderId as VenueOrderId } : { _tag: "OrderRejected", ...ref, reason: out.status })
        if (!answerLost && out.status === "placed" && out.order !== undefined) this.immediateShort(i, out.order)
        break
      }
      case "modify": {
        const i = a.intent
        const mark = this.effectsMark()
        const out = exchange.edit({
          account,
          cliOrdId: i.clientOrderId,
          ...(i.qty === undefined ? {} : { size: i.qty }),
          ...(i.price === undefined ? {} : { limitPrice: i.price }),
          ...(i.triggerPrice === undefined ? {} : { stopPrice: i.triggerPrice })
        })
        const ref = this.ref(i.instrument, i.clientOrderId)
        this.answerBefore(
          mark,
          answerLost,
          out.status === "edited"
            ? {
                _tag: "OrderModified",
                ...ref,
                ...(out.order === undefined ? {} : { venueOrderId: out.order.orderId as VenueOrderId }),
                ...(i.qty === undefined ? {} : { qty: i.qty }),
                ...(i.price === undefined ? {} : { price: i.price }),
                ...(i.triggerPrice === undefined ? {} : { triggerPrice: i.triggerPrice })
              }
            : { _tag: "OrderModifyRejected", ...ref, reason: out.status }
        )
        break
      }
      case "cancel":
        this.cancel(a.intent, answer)
        break
      case "cancelAll": {
        const i = a.intent
        const symbol = i.instrument === undefined ? undefined : symbolOf(i.instrument)
        if (i.strategy === undefined) {
          exchange.cancelAll(account, symbol)
          break
        }
        const prefix = `${i.strategy}-`
        for (const o of exchange.engine.openOrders(account, symbol)) {
          if (o.cliOrdId === undefined || !o.cliOrdId.startsWith(prefix)) continue
          this.cancel({ ...i, _tag: "CancelOrder", strategy: i.strategy, instrument: this.instrumentOf(o.symbol), clientOrderId: o.cliOrdId as ClientOrderId }, answer)
        }
        break
      }
      case "cancelAllAfter":
        exchange.cancelAllAfter(account, a.timeoutSec)
        break
    }
  }

  private cancel(i: CancelOrder, answer: (r: VenueReport) => void): void {
    const out = this.deps.exchange.cancel({ account: this.deps.venueAccount, cliOrdId: i.clientOrderId })
    if (out.status !== "cancelled") answer({ _tag: "OrderCancelRejected", ...this.ref(i.instrument, i.clientOrderId), reason: out.status })
  }

  // ---- reports --------------------------------------------------------------------------------

  /** Reports made by the engine's effects during the current command wait here to follow its answer. */
  private staged: VenueReport[] | undefined

  private effectsMark(): void {
    this.staged = []
  }

  private answerBefore(_mark: void, lost: boolean, r: VenueReport): void {
    const staged = this.staged ?? []
    this.staged = undefined
    if (!lost) this.answer(r)
    for (const s of staged) this.feed(s)
  }

  /** The engine's effects for our account: fills and the cancels the venue made. */
  onEffect(e: EngineEffect): void {
    let r: VenueReport
    if (e.kind === "fill") {
      this.deps.observer.onVenueFill(e.fill)
      r = this.filled(e.fill)
      this.recentFills.push(r)
      this.fillLog.push(r)
      if (this.recentFills.length > 5) this.recentFills.shift()
    } else if (e.kind === "order" && e.isCancel && e.reason !== "full_fill") r = this.canceled(e.order, e.reason)
    else return
    if (this.staged !== undefined) this.staged.push(r)
    else this.feed(r)
  }

  /** A REST answer: delayed, maybe duplicated (a retried request's second reply). */
  private answer(r: VenueReport): void {
    this.deliverLater(r)
  }

  /** A private-feed report: held while the feed is down. */
  private feed(r: VenueReport): void {
    const { faults, clock } = this.deps
    if (this.held === undefined && faults.roll("feedDisconnect", clock.now())) {
      this.held = []
      this.inFlight++
      clock.setTimer(this.deps.random.int(100, 3_000), () => {
        this.inFlight--
        this.reconnect()
      })
    }
    if (this.held !== undefined) this.held.push(r)
    else this.deliverLater(r)
  }

  /**
   * A restarted node's resubscription to the private feed: the venue's fills since `since` (the
   * fills snapshot; the ones the node already has are repeats it must drop). Orders and positions
   * that changed while the node was down are the reconciliation's (`reconcileWithVenue`, run by the
   * restarted node over `rest()` before its strategies start, as the daemon does).
   */
  resubscribe(since: number): void {
    for (const r of this.fillLog) if (r.ts >= since) this.deliverLater(r)
  }

  /** The resubscription: what the feed missed, then its snapshot of the last fills again. */
  private reconnect(): void {
    const held = this.held ?? []
    this.held = undefined
    for (const r of held) this.deliverLater(r)
    for (const r of this.recentFills) this.deliverLater(r)
  }

  private deliverLater(r: VenueReport): void {
    const { faults, clock, random } = this.deps
    const now = clock.now()
    const delay = faults.roll("reportDelayed", now) ? random.int(1, 300) : 0
    this.schedule(r, delay)
    if (faults.roll("reportDuplicated", now)) this.schedule(r, delay + random.int(0, 300))
  }

  private schedule(r: VenueReport, delay: number): void {
    this.inFlight++
    const go = (): void => {
      this.inFlight--
      this.delivered++
      // Each delivery is a frame of its own, parsed by the adapter into an event with its own id
      // (as the Kraken adapter's private feed does): a duplicate or a resent report is not the same event.
      const frame: VenueReport = { ...r, id: `venue/sim-${++this.seq}` }
      for (const l of this.listeners) l(frame)
    }
    // Not inside the command: a venue answers after the call returns.
    if (delay === 0) queueMicrotask(go)
    else this.deps.clock.setTimer(delay, go)
  }

  private filled(f: FillView): VenueReport {
    return {
      _tag: "OrderFilled",
      ...this.ref(this.instrumentOf(f.symbol), (f.cliOrdId ?? "") as ClientOrderId),
      venueOrderId: f.orderId as VenueOrderId,
      fillId: f.fillId as FillId,
      side: f.side,
      price: f.price,
      qty: f.qty,
      fee: f.fee,
      feeCurrency: f.feeCurrency,
      liquidity: f.liquidity
    }
  }

  private canceled(o: OrderView, reason: string): VenueReport {
    const base = { _tag: "OrderCanceled" as const, ...this.ref(this.instrumentOf(o.symbol), (o.cliOrdId ?? "") as ClientOrderId), venueOrderId: o.orderId as VenueOrderId }
    return reason === "cancelled_by_user" ? base : { ...base, reason }
  }

  private instrumentOf(symbol: string): InstrumentId {
    return `${this.deps.venue}:${symbol}` as InstrumentId
  }

  private ref(instrument: InstrumentId, clientOrderId: ClientOrderId) {
    return { id: `venue/sim-${++this.seq}`, ts: this.deps.clock.now(), source: "venue/sim", account: this.account, instrument, clientOrderId }
  }
}
