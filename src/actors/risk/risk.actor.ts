import { Either } from "effect"
import { createActor, type Actor } from "xstate"
import { Decimal } from "../../domain/decimal.js"
import type { CancelAll, ModifyOrder, OrderIntent, SubmitOrder } from "../../domain/events/intents.js"
import type { Halt, ReduceOnly, Resume } from "../../domain/events/control.js"
import type { OrderEvent } from "../../domain/events/orders.js"
import type { RiskApproved, RiskDenied, RiskEvent } from "../../domain/events/risk.js"
import { eventId, type IdSequences, type RunNumber } from "../../domain/event-ids.js"
import type { VenueRequestSent } from "../../domain/events/venue.js"
import type { AccountId, InstrumentId } from "../../domain/ids.js"
import type { Instrument } from "../../domain/instrument.js"
import { AUTOMATIC_EVENTS, effectiveStatus, TRADING_CAUSES, tradingStateMachine, type ActiveCause, type AutomaticCause, type TradingStatus } from "../../machines/trading-state.machine.js"
import type { ClockService } from "../clock.js"
import { mintApproval, type ApprovedAction, type VenueAction } from "./approval.js"
import {
  checkDuplicate,
  checkExposure,
  checkInstrument,
  checkMargin,
  checkLot,
  checkMaxOrderQty,
  checkNotional,
  checkOpenOrders,
  checkPosition,
  checkPriceBand,
  checkQtyBounds,
  checkReduceOnlyRoom,
  checkSelfTrade,
  checkTick,
  checkTradingState,
  isBandChecked,
  lotsOf,
  reducesPosition,
  referenceTicks,
  ticksOf,
  type Denial,
  type HaltCause
} from "./checks.js"
import { compileAccount, compileInstrument, refreshExposure, unitsToMoney, type AccountLimits, type AccountRisk, type InstrumentLimits, type InstrumentRisk, type RiskConfigInvalid } from "./limits.js"
import type { RequestBudgetService } from "../ports/request-budget.js"
import { KRAKEN_FUTURES_RATE, retryAfterMs, StrategyRateLimiter, VenueRateLimiter, type BudgetUsage, type RateRefusal, type SpentCost, type StrategyRateConfig, type VenueCall, type VenueRateConfig } from "./rate-limiter.js"
import type { RateBudgets } from "./rate-budgets.js"
import type { VenueCostModel } from "../../domain/venue-rates.js"
import type { VenueRateReportsService } from "../ports/venue-rate-reports.js"
import { ReadBudget } from "./read-budget.js"
import { initialMarginOf, MarginView, type MarginPolicy, type VenueMargin } from "./margin.js"
import { OpenOrders, type OpenOrder } from "./open-orders.js"
import { ClientOrderIds } from "./client-order-ids.js"
import { NOT_EXACT } from "./scaled.js"

export interface RiskActorConfig {
  readonly account: AccountId
  readonly limits: AccountLimits
  /** The venue's cost model (domain/venue-rates.ts), or Kraken's single budget; default Kraken's. */
  readonly venueRate?: VenueRateConfig | VenueCostModel
  /** The address this account sends from, the key of the venue's per-address budgets; default `default`. */
  readonly ip?: string
  readonly strategyRate: StrategyRateConfig
  /** Check available margin (margin.ts) with this policy for an unknown figure; absent: no margin check. */
  readonly margin?: MarginPolicy
}

/** Initial-margin rate when an instrument's limits give none (Kraken's lowest tier for majors: 50×). */
export const DEFAULT_INITIAL_MARGIN_RATE = new Decimal("0.02")

export interface RiskActorDeps {
  readonly clock: ClockService
  /**
   * Appends a decision or state change to the journal. It is called, and returns, before an
   * approval is handed out: the host's journal batches (group commit) and holds the venue call
   * until the batch is durable.
   */
  readonly emit: (event: RiskEvent | VenueRequestSent) => void
  /** Shared when several risk actors trade one venue account; default: one per actor. */
  readonly rateLimiter?: VenueRateLimiter
  /**
   * The daemon's rate windows, shared by every account's risk actor (a per-address budget is one
   * window for all accounts on that address); default: this actor's own.
   */
  readonly rateBudgets?: RateBudgets
  /** Envelope source, default `risk/<account>`. */
  readonly source?: string
  /** The daemon's run number, part of every event id (ids unique across restarts); default 0. */
  readonly run?: RunNumber
  /** Id sequences that outlive this actor (a core rebuilt in the same run continues them). */
  readonly ids?: IdSequences
}

/** The trading state a restarted core takes over from the core it replaces (see `RiskActor.carried`). */
export interface CarriedTradingState {
  readonly causes: ReadonlyArray<ActiveCause>
  readonly lossAcknowledged: boolean
}

export type Decision =
  | { readonly _tag: "Approved"; readonly event: RiskApproved; readonly action: ApprovedAction }
  | { readonly _tag: "Denied"; readonly event: RiskDenied }


/**
 * One per account. Every intent — submit, modify, cancel, cancel-all — is decided here, and
 * only an approval (an `ApprovedAction`) can reach a venue gateway. Trading state (the kill
 * switch) is the trading-state machine; everything per intent is plain code over integer
 * aggregates kept up to date by order events, positions and market data.
 *
 * Message API (what a host delivers): `decide` (intents), `control` (operator), `onOrderEvent`,
 * `onPosition`, `onBook`, `onMark`, `onDailyPnl`, `approveDeadMansSwitch`.
 */
export class RiskActor {
  readonly account: AccountId
  private readonly acct: AccountRisk
  private readonly instruments = new Map<string, InstrumentRisk>()
  private readonly orders: OpenOrders
  /** Used client order ids, bounded by the rule in client-order-ids.ts (duplicates still caught). */
  private readonly seenIds = new ClientOrderIds()
  private readonly rate: VenueRateLimiter
  private readonly strategyRate: StrategyRateLimiter
  private readonly reads: ReadBudget
  private readonly tradingState: Actor<typeof tradingStateMachine>
  private readonly source: string
  private seq = 0
  private statusNow: TradingStatus = "active"
  private haltCause: HaltCause | undefined
  private dailyPnl: Decimal = new Decimal(0)
  // Scratch of the last successful check, so committing does not convert the intent again.
  private lastLots = 0
  private lastTicks = -1
  private lastTrigger = -1
  private lastMargin: Decimal | undefined
  /** The account's available margin as the venue reports it, less our unconfirmed orders; absent: not checked. */
  readonly margin: MarginView | undefined

  constructor(
    config: RiskActorConfig,
    private readonly deps: RiskActorDeps
  ) {
    this.account = config.account
    this.acct = compileAccount(config.limits)
    this.orders = new OpenOrders(this.acct)
    this.rate =
      deps.rateLimiter ??
      new VenueRateLimiter(deps.clock, config.venueRate ?? KRAKEN_FUTURES_RATE, {
        ...(deps.rateBudgets === undefined ? {} : { budgets: deps.rateBudgets }),
        keys: { account: config.account, ...(config.ip === undefined ? {} : { ip: config.ip }) },
        symbols: () => this.instruments.size
      })
    this.strategyRate = new StrategyRateLimiter(deps.clock, config.strategyRate)
    this.reads = new ReadBudget(this.rate, deps.clock, (call, cost) => this.requestSent(call, cost))
    this.source = deps.source ?? `risk/${config.account}`
    this.margin = config.margin === undefined ? undefined : new MarginView(config.margin)
    const machine = tradingStateMachine.provide({
      actions: {
        announce: ({ context }) => {
          const c = context.lastChange
          if (c === null) return
          this.deps.emit({
            _tag: "TradingStateChanged",
            ...this.envelope(),
            account: this.account,
            from: c.from,
            to: c.to,
            by: c.who,
            why: c.why,
            cause: c.cause,
            change: c.change,
            level: c.level,
            since: c.since
          })
        }
      }
    })
    this.tradingState = createActor(machine, { input: { account: config.account } })
    this.tradingState.subscribe({ error: () => {} })
    this.tradingState.start()
    // A 418 on this account's address (heard from any account on it) halts with its own cause until the ban ends.
    this.stopBanListener = this.rate.onBan((banned, hold) =>
      this.step(banned ? { type: "VENUE_BANNED", why: `${this.rate.model.venue}: ${hold.why}`, at: hold.since } : { type: "VENUE_BAN_ENDED", why: `${this.rate.model.venue}: ban over`, at: this.deps.clock.now() })
    )
  }

  private readonly stopBanListener: () => void
  private readonly rateDenialCounts = new Map<string, number>()

  get status(): TradingStatus {
    return this.statusNow
  }

  /** Every active cause of the trading state, with who raised it, why and since when. */
  causes(): ReadonlyArray<ActiveCause> {
    const c = this.tradingState.getSnapshot().context.causes
    return TRADING_CAUSES.flatMap((k) => (c[k] === undefined ? [] : [c[k]]))
  }

  get openOrderCount(): number {
    return this.acct.openOrders
  }

  /** The rate-limit cost spent in the current window (for tests and metrics). */
  get rateUsed(): number {
    return this.rate.used()
  }

  /** The cost spent in the venue's own window (10 s on Kraken, no margin): the `rate_budget_used` metric. */
  get rateUsedAtVenue(): number {
    return this.rate.usedInVenueWindow()
  }

  /** The venue budget for reads (the gateway's and reconciliation's): the only way to send one. */
  get requestBudget(): RequestBudgetService {
    return this.reads
  }

  /** Every rate budget of this account (shared ones included), for the per-budget gauges. */
  rateUsage(): ReadonlyArray<BudgetUsage> {
    return this.rate.usage()
  }

  /** Rate denials since start, by budget (`cost`, `weight1m`, ...), for `rate_budget_denials_total`. */
  rateDenials(): ReadonlyMap<string, number> {
    return this.rateDenialCounts
  }

  /**
   * What the venue gateway reports after each request (the venue's counts, 429, 418): the other
   * half of the rate budget, beside approvals (writes) and `requestBudget` (reads).
   */
  readonly rateReports: VenueRateReportsService = {
    syncFromHeaders: (h) => this.rate.syncFromHeaders(h),
    syncFromRateLimits: (l) => this.rate.syncFromRateLimits(l),
    tooManyRequests: (r) => {
      const after = retryAfterMs(r.headers)
      return this.rate.tooManyRequests({ ...(r.budget === undefined ? {} : { budget: r.budget }), ...(after === undefined ? {} : { retryAfterMs: after }), why: r.why })
    },
    banned: (r) => {
      const after = retryAfterMs(r.headers)
      this.rate.banned({ ...(r.untilWall === undefined ? {} : { untilWall: r.untilWall }), ...(after === undefined ? {} : { retryAfterMs: after }), why: r.why })
    }
  }

  /** Reads waiting for budget (for metrics). */
  get readsWaiting(): number {
    return this.reads.waiting
  }

  /**
   * After a restart, before the gateway starts: the costs the previous run spent in the venue's
   * current window (the ledger's fold of `VenueRequestSent`), so the window does not start empty
   * while the venue's still counts them.
   */
  restoreSpent(spent: ReadonlyArray<SpentCost>): void {
    this.rate.restore(spent)
  }

  registerInstrument(instrument: Instrument, limits: InstrumentLimits): Either.Either<void, RiskConfigInvalid> {
    const compiled = compileInstrument(instrument, limits, this.acct.exposureDecimals)
    if (Either.isLeft(compiled)) return Either.left(compiled.left)
    this.instruments.set(instrument.id, compiled.right)
    return Either.right(undefined)
  }

  // ---------------------------------------------------------------- intents

  /** Runs every check without committing anything: the decision `decide` would take. */
  check(intent: OrderIntent): Denial | undefined {
    switch (intent._tag) {
      case "SubmitOrder":
        return this.checkSubmit(intent)
      case "ModifyOrder":
        return this.checkModify(intent)
      case "CancelOrder":
        return this.checkVenueRate("cancelorder")
      case "CancelAll":
        return this.checkVenueRate("cancelallorders", intent.instrument === undefined ? undefined : 1)
    }
  }

  /** Decides an intent: journals RiskApproved or RiskDenied, and on approval returns the only key to the venue. */
  decide(intent: OrderIntent): Decision {
    const denial = this.check(intent)
    if (denial !== undefined) return this.denied(intent, denial)
    switch (intent._tag) {
      case "SubmitOrder":
        this.commitSubmit(intent)
        return this.approved(intent, "sendorder", { kind: "submit", intent })
      case "ModifyOrder":
        this.commitModify(intent)
        return this.approved(intent, "editorder", { kind: "modify", intent })
      case "CancelOrder":
        return this.approved(intent, "cancelorder", { kind: "cancel", intent })
      case "CancelAll":
        return this.approved(intent, "cancelallorders", { kind: "cancelAll", intent })
    }
  }

  /**
   * Kraken's `cancelallordersafter`: the venue cancels everything unless refreshed. It takes
   * risk away, so it passes in every trading state and may use the cancel reserve; it is
   * journaled as a CancelAll decision (the venue's deferred cancel-all).
   */
  approveDeadMansSwitch(timeoutSec: number): Decision {
    const intentId = eventId(`${this.source}-dms`, this.deps.run?.() ?? 0, this.nextSeq(`${this.source}-dms`))
    const pseudo: CancelAll = { _tag: "CancelAll", id: intentId, ts: this.deps.clock.now(), source: this.source, account: this.account }
    const denial = this.checkVenueRate("cancelallordersafter")
    if (denial !== undefined) return this.denied(pseudo, denial)
    return this.approved(pseudo, "cancelallordersafter", { kind: "cancelAllAfter", account: this.account, timeoutSec })
  }

  private checkSubmit(i: SubmitOrder): Denial | undefined {
    if (this.statusNow === "halted") return checkTradingState("halted", "submit", false, this.haltCause)
    let d = checkDuplicate(this.seenIds, i.clientOrderId)
    if (d !== undefined) return d
    const r = this.instruments.get(i.instrument)
    d = checkInstrument(r, i.instrument, this.deps.clock.now())
    if (d !== undefined || r === undefined) return d
    const lots = lotsOf(r, i.qty)
    d = checkLot(r, i.qty, lots)
    if (d !== undefined) return d
    let ticks = -1
    if (i.price !== undefined && i.orderType !== "market") {
      ticks = ticksOf(r, i.price)
      d = checkTick(r, i.price, ticks)
      if (d !== undefined) return d
    }
    let trigger = -1
    if (i.triggerPrice !== undefined && (i.orderType === "stop" || i.orderType === "takeProfit")) {
      trigger = ticksOf(r, i.triggerPrice)
      d = checkTick(r, i.triggerPrice, trigger)
      if (d !== undefined) return d
    }
    d = checkQtyBounds(r, lots) ?? checkMaxOrderQty(r, lots)
    if (d !== undefined) return d
    if (this.statusNow === "reducing" && !reducesPosition(r, i.side, lots)) return checkReduceOnlyRoom(r, i.side, lots)
    const ref = referenceTicks(r, ticks, trigger)
    if (ref <= 0) return { reason: "PRICE_BAND", detail: "no price, trigger or mark to value the order" }
    d = checkNotional(r, lots, ref)
    if (d !== undefined) return d
    if (ticks > 0 && isBandChecked(i.orderType)) {
      d = checkPriceBand(r, ticks)
      if (d !== undefined) return d
    }
    if (i.orderType === "market" || isBandChecked(i.orderType)) {
      d = checkSelfTrade(r, i.side, i.orderType === "market" ? -1 : ticks)
      if (d !== undefined) return d
    }
    d = checkOpenOrders(this.acct) ?? checkPosition(r, i.side, lots) ?? checkExposure(this.acct, r, i.side, lots)
    if (d !== undefined) return d
    // Margin last among the limits: an order that only reduces the position needs none.
    let margin: Decimal | undefined
    if (this.margin !== undefined && !i.reduceOnly && !reducesPosition(r, i.side, lots)) {
      margin = this.marginOf(r, i.qty, ref)
      d = checkMargin(this.margin, margin)
      if (d !== undefined) return d
    }
    d = this.checkStrategyRate(i.strategy) ?? this.checkVenueRate("sendorder")
    if (d !== undefined) return d
    this.lastMargin = margin
    this.lastLots = lots
    this.lastTicks = ticks
    this.lastTrigger = trigger
    return undefined
  }

  private checkModify(i: ModifyOrder): Denial | undefined {
    if (this.statusNow !== "active") return checkTradingState(this.statusNow, "modify", false, this.haltCause)
    const o = this.orders.get(i.clientOrderId)
    if (o === undefined || o.r.instrument.id !== i.instrument) {
      // RiskReason has no UNKNOWN_ORDER yet: an order that is not open cannot be traded.
      return { reason: "NOT_TRADABLE", detail: `order ${i.clientOrderId} is not open on ${i.instrument}: nothing to modify` }
    }
    const r = o.r
    let d = checkInstrument(r, i.instrument, this.deps.clock.now())
    if (d !== undefined) return d
    let lots = o.qtyLots
    if (i.qty !== undefined) {
      lots = lotsOf(r, i.qty)
      d = checkLot(r, i.qty, lots) ?? checkQtyBounds(r, lots) ?? checkMaxOrderQty(r, lots)
      if (d !== undefined) return d
    }
    let ticks = o.priceTicks
    if (i.price !== undefined && o.orderType !== "market") {
      ticks = ticksOf(r, i.price)
      d = checkTick(r, i.price, ticks)
      if (d !== undefined) return d
    }
    let trigger = o.triggerTicks
    if (i.triggerPrice !== undefined) {
      trigger = ticksOf(r, i.triggerPrice)
      d = checkTick(r, i.triggerPrice, trigger)
      if (d !== undefined) return d
    }
    const ref = referenceTicks(r, ticks, trigger)
    if (ref <= 0) return { reason: "PRICE_BAND", detail: "no price, trigger or mark to value the order" }
    d = checkNotional(r, lots, ref)
    if (d !== undefined) return d
    if (i.price !== undefined && ticks > 0 && isBandChecked(o.orderType)) {
      d = checkPriceBand(r, ticks) ?? checkSelfTrade(r, o.side, ticks)
      if (d !== undefined) return d
    }
    const addLots = Math.max(0, lots - Math.max(o.qtyLots, o.pendingQtyLots))
    if (addLots > 0) {
      d = checkPosition(r, o.side, addLots) ?? checkExposure(this.acct, r, o.side, addLots)
      if (d !== undefined) return d
      // The added size only (a modify reserves nothing: the venue's next figure counts it).
      if (this.margin !== undefined && !reducesPosition(r, o.side, addLots)) {
        d = checkMargin(this.margin, this.marginOf(r, r.instrument.lotSize.times(addLots), ref))
        if (d !== undefined) return d
      }
    }
    d = this.checkStrategyRate(o.strategy) ?? this.checkVenueRate("editorder")
    if (d !== undefined) return d
    this.lastLots = lots
    this.lastTicks = ticks
    this.lastTrigger = trigger
    return undefined
  }

  /** Initial margin in the quote (USD): an inverse contract's value is fixed in USD, whatever the price. */
  private marginOf(r: InstrumentRisk, qty: Decimal, refTicks: number): Decimal {
    const rate = r.limits.initialMarginRate ?? DEFAULT_INITIAL_MARGIN_RATE
    if (r.inverse) return qty.abs().times(r.instrument.contractSize).times(rate)
    return initialMarginOf(qty, r.instrument.contractSize, r.instrument.tickSize.times(refTicks), rate)
  }

  private checkStrategyRate(strategy: string): Denial | undefined {
    if (this.strategyRate.fits(strategy)) return undefined
    return {
      reason: "STRATEGY_RATE_LIMIT",
      detail: `strategy ${strategy}: more than ${this.strategyRate.config.maxActions} submits/modifies in ${this.strategyRate.config.windowMs} ms`,
      limit: new Decimal(this.strategyRate.config.maxActions),
      actual: new Decimal(this.strategyRate.used(strategy) + 1)
    }
  }

  private checkVenueRate(call: VenueCall, symbols?: number): Denial | undefined {
    // Submits and modifies leave room for the reads waiting in line; cancels keep their reserve.
    const held = call === "sendorder" || call === "editorder" ? this.reads.held : 0
    const r = this.rate.check(call, held, symbols)
    if (r === undefined) return undefined
    this.rateDenialCounts.set(r.budget, (this.rateDenialCounts.get(r.budget) ?? 0) + 1)
    return rateDenial(call, r, this.rate.now())
  }

  private commitSubmit(i: SubmitOrder): void {
    const r = this.instruments.get(i.instrument) as InstrumentRisk
    this.seenIds.add(i.clientOrderId)
    const o: OpenOrder = {
      clientOrderId: i.clientOrderId,
      r,
      side: i.side,
      strategy: i.strategy,
      orderType: i.orderType,
      qtyLots: this.lastLots,
      filledLots: 0,
      priceTicks: this.lastTicks,
      triggerTicks: this.lastTrigger,
      pendingQtyLots: -1,
      pendingPriceTicks: -1
    }
    this.orders.open(o)
    if (this.lastMargin !== undefined) this.margin?.reserve(i.clientOrderId, this.lastMargin)
    this.strategyRate.spend(i.strategy)
    this.rate.spend("sendorder")
  }

  private commitModify(i: ModifyOrder): void {
    const o = this.orders.get(i.clientOrderId) as OpenOrder
    this.orders.beginModify(o, i.qty === undefined ? undefined : this.lastLots, i.price === undefined ? undefined : this.lastTicks)
    this.strategyRate.spend(o.strategy)
    this.rate.spend("editorder")
  }

  private envelope(): { id: string; ts: number; source: string } {
    return { id: eventId(this.source, this.deps.run?.() ?? 0, this.nextSeq(this.source)), ts: this.deps.clock.now(), source: this.source }
  }

  private nextSeq(source: string): number {
    return this.deps.ids?.next(source) ?? ++this.seq
  }

  private decisionFields(intent: OrderIntent) {
    const base = { ...this.envelope(), account: this.account, intentId: intent.id, intent: intent._tag }
    const withInstrument = intent.instrument === undefined ? base : { ...base, instrument: intent.instrument }
    return "clientOrderId" in intent ? { ...withInstrument, clientOrderId: intent.clientOrderId } : withInstrument
  }

  private approved(intent: OrderIntent, call: VenueCall, action: VenueAction): Decision {
    // A cancel-all of one instrument is one per-symbol call; of the account, one per instrument traded.
    const symbols = intent._tag === "CancelAll" && intent.instrument !== undefined ? 1 : undefined
    if (intent._tag === "CancelOrder" || intent._tag === "CancelAll") this.rate.spend(call, symbols)
    const event: RiskApproved = { _tag: "RiskApproved", ...this.decisionFields(intent) }
    this.deps.emit(event)
    const cost = this.rate.costOf(call, symbols)
    this.requestSent(call, cost)
    return { _tag: "Approved", event, action: mintApproval(event.id, this.account, call, cost, action, event.ts) }
  }

  /** Journals a reserved request's cost (writes at approval, reads as they leave the line). */
  private requestSent(call: VenueCall, cost: number): void {
    this.deps.emit({ _tag: "VenueRequestSent", ...this.envelope(), account: this.account, call, cost })
  }

  private denied(intent: OrderIntent, d: Denial): Decision {
    const base = { _tag: "RiskDenied" as const, ...this.decisionFields(intent), reason: d.reason, detail: d.detail, ...(d.budget === undefined ? {} : { budget: d.budget }) }
    const event: RiskDenied = d.limit !== undefined && d.actual !== undefined ? { ...base, limit: d.limit, actual: d.actual } : base
    this.deps.emit(event)
    return { _tag: "Denied", event }
  }

  // ---------------------------------------------------------------- operator

  /**
   * The operator's kill switch: Halt and ReduceOnly raise (or change) the operator's cause,
   * Resume lifts it — and only it: an automatic cause stays until its own recovery or an
   * explicit `liftCause`. Returns whether the effective trading state changed.
   */
  control(e: Halt | ReduceOnly | Resume): boolean {
    if (e.account !== undefined && e.account !== this.account) return false
    const type = e._tag === "Halt" ? "HALT" : e._tag === "ReduceOnly" ? "REDUCE" : "RESUME"
    return this.step({ type, who: `operator:${e.who}`, why: e.why, at: this.deps.clock.now() })
  }

  /** An operator lifts an automatic cause explicitly (audited by the caller). */
  liftCause(cause: AutomaticCause, who: string, why: string): boolean {
    const changed = this.step({ type: "LIFT", cause, who: `operator:${who}`, why, at: this.deps.clock.now() })
    // The operator says the ban is over: the address's hold goes too (for every account on it).
    if (cause === "venueBan" && changed) this.rate.unban(`lifted by operator:${who}: ${why}`)
    // Lifting a loss that is still beyond the limit acknowledges it: not raised again until it has recovered.
    if (cause === "dailyLoss" && this.tradingState.getSnapshot().context.causes.dailyLoss === undefined) this.lossAcknowledged = this.lossBeyondLimit()
    return changed
  }

  /**
   * An automatic cause from outside risk (journal, audit, reconciliation, the portfolio risk
   * monitor's limits) is raised or has recovered.
   */
  automaticCause(cause: Exclude<AutomaticCause, "dailyLoss">, raised: boolean, why: string): boolean {
    const type = AUTOMATIC_EVENTS[cause][raised ? 0 : 1]
    if (type === undefined) return false
    return this.step({ type, why, at: this.deps.clock.now() })
  }

  /**
   * What a new core must take over from the one it replaces (a trading core restart in a running
   * daemon): every active cause — the journal's and audit's health, a reconciliation mismatch and
   * the daily loss are current facts, not re-detected until their detector next changes — and
   * whether an operator acknowledged the daily loss.
   */
  carried(): CarriedTradingState {
    return { causes: this.causes(), lossAcknowledged: this.lossAcknowledged }
  }

  /**
   * A core restart: the old core's causes, raised with their who, why and since (after the
   * ledger's restore, so the newer state wins; a cause already active at its level is left alone).
   */
  inherit(s: CarriedTradingState): void {
    this.lossAcknowledged = s.lossAcknowledged
    const now = this.tradingState.getSnapshot().context.causes
    for (const c of s.causes) {
      if (now[c.cause]?.level === c.level) continue
      switch (c.cause) {
        case "operator":
          this.restoreOperatorCause({ level: c.level, who: c.who, why: c.why, since: c.since })
          break
        case "journal":
          this.step({ type: "JOURNAL_FAILED", why: c.why, at: c.since })
          break
        case "audit":
          this.step({ type: "AUDIT_LAGGING", why: c.why, at: c.since })
          break
        case "reconciliation":
          this.step({ type: "RECONCILIATION_MISMATCH", why: c.why, at: c.since })
          break
        case "dailyLoss":
          this.step({ type: "DAILY_LOSS_BREACHED", why: c.why, at: c.since })
          break
        case "portfolioVar":
        case "portfolioStress":
        case "lossBreaker":
          this.step({ type: AUTOMATIC_EVENTS[c.cause][0], why: c.why, at: c.since })
          break
        case "venueBan":
          // The shared windows hold the ban and told this actor at construction; nothing to carry.
          break
      }
    }
  }

  /** Recovery: the operator's cause as it was before the restart (who, why and since kept). */
  restoreOperatorCause(c: { readonly level: "halted" | "reducing"; readonly who: string; readonly why: string; readonly since: number }): boolean {
    return this.step({ type: c.level === "halted" ? "HALT" : "REDUCE", who: c.who.startsWith("operator:") ? c.who : `operator:${c.who}`, why: c.why, at: c.since })
  }

  private step(event: Parameters<Actor<typeof tradingStateMachine>["send"]>[0]): boolean {
    const before = this.statusNow
    this.tradingState.send(event)
    this.syncStatus()
    return this.statusNow !== before
  }

  private syncStatus(): void {
    const causes = this.tradingState.getSnapshot().context.causes
    this.statusNow = effectiveStatus(causes)
    const loss = causes.dailyLoss
    this.haltCause =
      this.statusNow !== "halted"
        ? undefined
        : loss !== undefined && Object.values(causes).filter((c) => c?.level === "halted").length === 1
          ? { dailyLoss: { loss: this.dailyPnl.negated(), limit: this.acct.limits.dailyLossLimit }, why: loss.why }
          : { why: this.causes().filter((c) => c.level === "halted").map((c) => `${c.who}: ${c.why}`).join("; ") }
  }

  /**
   * Recovery: an order the journal says is open at the venue (approved before a restart).
   * It counts toward open orders, exposure and duplicate ids as if approved now, without
   * spending rate budget (that was spent when it was sent). False if it cannot be valued.
   */
  adoptOpenOrder(o: { readonly clientOrderId: string; readonly strategy: string; readonly instrument: InstrumentId; readonly side: SubmitOrder["side"]; readonly orderType: SubmitOrder["orderType"]; readonly qty: Decimal; readonly filled: Decimal; readonly price: Decimal | undefined; readonly triggerPrice: Decimal | undefined }): boolean {
    const r = this.instruments.get(o.instrument)
    this.seenIds.add(o.clientOrderId)
    if (r === undefined || this.orders.get(o.clientOrderId) !== undefined) return false
    const lots = lotsOf(r, o.qty)
    const filled = lotsOf(r, o.filled)
    if (lots === NOT_EXACT || filled === NOT_EXACT) return false
    this.orders.open({
      clientOrderId: o.clientOrderId,
      r,
      side: o.side,
      strategy: o.strategy,
      orderType: o.orderType,
      qtyLots: lots,
      filledLots: filled,
      priceTicks: o.price === undefined || o.orderType === "market" ? -1 : ticksOf(r, o.price),
      triggerTicks: o.triggerPrice === undefined ? -1 : ticksOf(r, o.triggerPrice),
      pendingQtyLots: -1,
      pendingPriceTicks: -1
    })
    return true
  }

  /** Recovery: a client order id used before the restart can never be used again. */
  rememberClientOrderId(clientOrderId: string): void {
    this.seenIds.add(clientOrderId)
  }

  // ---------------------------------------------------------------- facts

  /** Order lifecycle facts keep the open-order aggregates. Unknown orders are ignored here. */
  onOrderEvent(e: OrderEvent): void {
    this.orders.apply(e)
    this.margin?.onOrderEvent(e)
  }

  /** The venue's figures for the account (private `balances` feed or REST `accounts`). */
  onAccountMargin(m: Omit<VenueMargin, "at">): void {
    this.margin?.onVenue({ ...m, at: this.deps.clock.now() })
  }

  /** The venue's account figures stopped coming (feed down): unknown until the next one. */
  onAccountMarginStale(why: string): void {
    this.margin?.onStale(why)
  }

  /** The account's position in an instrument (from the portfolio), signed contracts. */
  onPosition(instrument: InstrumentId, qty: Decimal): void {
    const r = this.instruments.get(instrument)
    if (r === undefined) return
    const lots = lotsOf(r, qty.abs())
    if (lots === NOT_EXACT) return
    r.positionLots = qty.isNegative() ? -lots : lots
    refreshExposure(this.acct, r)
  }

  /** Top of the book: the mid for the price band, and the mark when the venue gives none. */
  onBook(instrument: InstrumentId, bestBid: Decimal | undefined, bestAsk: Decimal | undefined): void {
    const r = this.instruments.get(instrument)
    if (r === undefined) return
    const bid = bestBid === undefined ? NOT_EXACT : ticksOf(r, bestBid)
    const ask = bestAsk === undefined ? NOT_EXACT : ticksOf(r, bestAsk)
    r.midTicks2 = bid > 0 && ask > 0 ? bid + ask : -1
    if (!this.venueMarked.has(instrument) && r.midTicks2 > 0) {
      const m2 = r.midTicks2
      // Half-even onto the tick grid.
      r.markTicks = m2 % 2 === 0 ? m2 / 2 : ((m2 - 1) / 2) % 2 === 0 ? (m2 - 1) / 2 : (m2 + 1) / 2
      refreshExposure(this.acct, r)
    }
  }

  private readonly venueMarked = new Set<string>()

  /** The venue's mark price: from now on it values this instrument's exposure. */
  onMark(instrument: InstrumentId, mark: Decimal): void {
    const r = this.instruments.get(instrument)
    if (r === undefined) return
    this.venueMarked.add(instrument)
    r.markTicks = mark.dividedBy(r.instrument.tickSize).toDecimalPlaces(0, Decimal.ROUND_HALF_EVEN).toNumber()
    refreshExposure(this.acct, r)
  }

  /**
   * Today's PnL (realized + unrealized, net of fees) from the portfolio. A loss beyond the limit
   * raises the daily-loss cause (halted, whatever else holds the account); the loss back within
   * the limit lifts it. An operator may lift it earlier (`liftCause`): then it is not raised
   * again until the loss has come back within the limit once.
   */
  onDailyPnl(pnl: Decimal): void {
    this.dailyPnl = pnl
    this.enforceLossLimit()
  }

  private lossAcknowledged = false

  private lossBeyondLimit(): boolean {
    return this.dailyPnl.negated().greaterThan(this.acct.limits.dailyLossLimit)
  }

  private enforceLossLimit(): void {
    const limit = this.acct.limits.dailyLossLimit
    const loss = this.dailyPnl.negated()
    const raised = this.tradingState.getSnapshot().context.causes.dailyLoss !== undefined
    if (!this.lossBeyondLimit()) {
      this.lossAcknowledged = false
      if (raised) this.step({ type: "DAILY_LOSS_RECOVERED", why: `daily loss ${loss.toString()} back within limit ${limit.toString()}`, at: this.deps.clock.now() })
      return
    }
    if (raised) {
      if (this.haltCause?.dailyLoss !== undefined) this.haltCause = { ...this.haltCause, dailyLoss: { loss, limit } }
      return
    }
    if (this.lossAcknowledged) return
    this.step({ type: "DAILY_LOSS_BREACHED", why: `daily loss ${loss.toString()} beyond limit ${limit.toString()}`, at: this.deps.clock.now() })
  }

  /** Exposure sums, for tests and metrics. */
  exposures(): { readonly gross: Decimal; readonly netLong: Decimal; readonly netShort: Decimal; readonly dailyPnl: Decimal } {
    return {
      gross: unitsToMoney(this.acct, this.acct.grossUnits),
      netLong: unitsToMoney(this.acct, this.acct.netLongUnits),
      netShort: unitsToMoney(this.acct, this.acct.netShortUnits),
      dailyPnl: this.dailyPnl
    }
  }

  stop(): void {
    this.stopBanListener()
    this.reads.close()
    this.tradingState.stop()
  }
}

/** A rate refusal as a denial: which budget, its key, and for a hold until when (limiter time `now`). */
const rateDenial = (call: VenueCall, r: RateRefusal, now: number): Denial => {
  const what = `${call} (${r.budget} cost ${r.cost})`
  if (r.kind === "budget")
    return {
      reason: "RATE_LIMIT",
      budget: r.budget,
      detail: `${what} does not fit the venue budget ${r.key}${r.reserved ? " less the cancel reserve" : ""}`,
      limit: new Decimal(r.limit),
      actual: new Decimal(r.actual)
    }
  const left = Math.max(0, Math.ceil(((r.until ?? now) - now) / 1000))
  return {
    reason: r.kind === "banned" ? "VENUE_BANNED" : "RATE_LIMIT_BACKOFF",
    budget: r.budget,
    detail: `${what}: ${r.kind === "banned" ? "the venue banned this address" : "backing off after the venue's 429"} on ${r.key} for ${left} s more${r.why === undefined ? "" : ` (${r.why})`}`
  }
}
