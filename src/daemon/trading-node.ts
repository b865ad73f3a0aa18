import type { RateBudgets } from "../actors/risk/rate-budgets.js"
import type { VenueCostModel } from "../domain/venue-rates.js"
import { Data, Effect, Either } from "effect"
import type { ClockService, TroupeClock } from "../actors/clock.js"
import type { InspectionStream } from "../actors/inspection.js"
import { makeInstrumentActor, type InstrumentActor } from "../actors/instrument/instrument.actor.js"
import type { MetricsRegistry } from "../actors/metrics.js"
import { OrderManager, DeadMansSwitch, type OrderJournalEvent } from "../actors/orders/index.js"
import { PortfolioActor } from "../actors/portfolio/index.js"
import type { MarketDataService } from "../actors/ports/market-data.js"
import type { AccountFact, VenueGatewayService, VenueReport } from "../actors/ports/venue-gateway.js"
import { RiskActor, type AccountLimits, type CarriedTradingState, type InstrumentLimits } from "../actors/risk/index.js"
import type { IntentGateway, StrategyMarketFeed } from "../actors/strategy/ports.js"
import { Hop, hopTrace } from "../actors/trace/hop-trace.js"
import { makeSupervisor, supervisorChild, type ChildSpec, type Supervisor } from "../actors/supervisor/index.js"
import type { MarketData } from "../actors/ports/market-data.js"
import { bookViewFromLevels } from "../strategies/book-view.js"
import { Decimal } from "../domain/decimal.js"
import type { Halt, ReduceOnly, Resume } from "../domain/events/control.js"
import type { CanonicalEvent } from "../domain/events/index.js"
import type { OrderEvent } from "../domain/events/orders.js"
import type { OrderIntent } from "../domain/events/intents.js"
import { IdSequences, type RunNumber } from "../domain/event-ids.js"
import type { AccountId, InstrumentId } from "../domain/ids.js"
import type { Instrument } from "../domain/instrument.js"
import type { AutomaticCause } from "../machines/trading-state.machine.js"
import { ConfigError, RISK_DEFAULTS, riskLimit, type RiskLimitsConfig } from "./config.js"
import { checkLimitsForInstruments } from "./config-rules.js"
import type { EventJournal } from "./event-journal.js"

/**
 * One venue account's trading stack: risk gates every intent; the order manager runs one actor
 * per order; the portfolio nets fills into positions and feeds risk; instrument actors own the
 * books. Every fact goes to the journal first; the gateway waits for durability before a call.
 */
export interface TradingNodeDeps {
  readonly account: AccountId
  readonly clock: ClockService
  readonly instruments: ReadonlyArray<Instrument>
  readonly limits: RiskLimitsConfig
  readonly gateway: VenueGatewayService
  readonly marketData: MarketDataService
  readonly journal: EventJournal
  readonly metrics: MetricsRegistry
  readonly inspection: InspectionStream
  /** Every canonical event the node produces, after it is handed to the journal. */
  readonly publish: (event: CanonicalEvent) => void
  readonly onOrderEvent: (event: OrderEvent) => void
  /** The daemon's run number, part of every event id (ids unique across restarts); default 0. */
  readonly run?: RunNumber
  /** Where the node says what went wrong (one line per error); default stderr. */
  readonly log?: (message: string) => void
  /** The account's venue cost model (domain/venue-rates.ts); default Kraken's single budget. */
  readonly venueRate?: VenueCostModel
  /**
   * The daemon's rate windows, shared by every account (and by this account's successive cores:
   * a core restart keeps what was spent); default: each core its own, restored from the ledger.
   */
  readonly rateBudgets?: RateBudgets
}

/**
 * An error inside an account's trading core (risk, orders, portfolio): the core is stopped and
 * its supervisor restarts it rebuilt from the ledger. `where` is the entry point that threw.
 */
export class TradingCoreCrashed extends Data.TaggedError("TradingCoreCrashed")<{
  readonly account: string
  readonly where: string
  readonly context: string
  readonly cause: unknown
}> {
  override get message(): string {
    return `trading core of account ${this.account} failed in ${this.where} (${this.context}): ${errorText(this.cause)}`
  }
}

/** Refused while the core is down (crashed, restart pending) or blocked (fail-closed recovery). */
export class TradingCoreUnavailable extends Data.TaggedError("TradingCoreUnavailable")<{ readonly account: string; readonly reason: string }> {
  override get message(): string {
    return `account ${this.account} is not trading: ${this.reason}`
  }
}

const errorText = (e: unknown): string => (e instanceof Error ? (e.stack ?? e.message).split("\n").slice(0, 3).join(" | ") : String(e)).slice(0, 600)

/** The parts rebuilt together when an account's core restarts. */
interface Core {
  readonly risk: RiskActor
  readonly orders: OrderManager
  readonly portfolio: PortfolioActor
  readonly deadMansSwitch: DeadMansSwitch
}

const ORDER_EVENT_TAGS = new Set([
  "OrderAccepted",
  "OrderRejected",
  "OrderModified",
  "OrderModifyRejected",
  "OrderCanceled",
  "OrderCancelRejected",
  "OrderExpired",
  "OrderFilled",
  "OrderSubmitted",
  "OrderCancelRequested"
])

export const accountLimitsOf = (risk: RiskLimitsConfig): AccountLimits => ({
  maxGrossExposure: riskLimit(risk, "maxGrossExposure"),
  maxNetExposure: riskLimit(risk, "maxNetExposure"),
  maxOpenOrders: risk.maxOpenOrders ?? RISK_DEFAULTS.maxOpenOrders,
  dailyLossLimit: riskLimit(risk, "dailyLossLimit")
})

export const instrumentLimitsOf = (risk: RiskLimitsConfig, instrument: Instrument): InstrumentLimits => ({
  maxOrderQty: Decimal.min(riskLimit(risk, "maxOrderQty"), instrument.maxQty),
  maxOrderNotional: riskLimit(risk, "maxNotional"),
  // Config gives the band as a fraction ("0.05") in whole basis points (checked there); risk wants basis points.
  priceBandBps: riskLimit(risk, "priceBand").times(10_000).toNumber(),
  maxPosition: riskLimit(risk, "maxPosition"),
  ...(risk.initialMarginRate === undefined ? {} : { initialMarginRate: risk.initialMarginRate })
})

export class TradingNode {
  readonly instrumentActors: ReadonlyArray<InstrumentActor>
  readonly account: AccountId
  private readonly byId = new Map<string, Instrument>()
  private core: Core
  /** The order manager's venue-report listener; reports reach it through `relay`. */
  private reportListener: ((r: VenueReport) => void) | undefined
  /** Set while the core is down: venue reports wait here for the rebuilt core. */
  private held: VenueReport[] | undefined
  /**
   * Changes of the trading state (an operator's halt, reduce, resume or lift; an automatic cause
   * raised or lifted) made while the core is down: applied, in order, to the rebuilt core after
   * its restore. Sent to the stopped core they would be lost, and the rebuilt one would trade
   * through an operator's halt (found by the simulation: seeds 208, 504, 627, 918).
   */
  private heldChanges: Array<(core: Core) => void> = []
  /** Set when recovery failed closed: no new risk for this account until an operator restarts it. */
  private blockedReason: string | undefined
  private dmsArmed = false
  /** The last top of each book, for a rebuilt core (books only report changes). */
  private readonly tops = new Map<InstrumentId, { readonly bid: Decimal | undefined; readonly ask: Decimal | undefined }>()
  /** Told of each crash; the account's supervised child fails with it (see trading-core-child.ts). */
  onCrash: ((crash: TradingCoreCrashed) => void) | undefined
  restarts = 0

  /** Event id sequences of risk, portfolio and orders: a rebuilt core continues them (ids never repeat). */
  private readonly ids = new IdSequences()

  constructor(private readonly deps: TradingNodeDeps) {
    this.account = deps.account
    const broken = checkLimitsForInstruments(deps.limits, deps.instruments)
    if (broken !== undefined) throw new ConfigError(broken)
    for (const instrument of deps.instruments) this.byId.set(instrument.id, instrument)
    // One subscription for the node's life: a rebuilt core's order manager takes it over, and
    // reports that arrive while the core is down are held for it, never lost.
    deps.gateway.subscribe((r) => this.relay(r))
    // Account facts (margin figures, funding) the same way: one subscription, the current core.
    deps.gateway.subscribeAccount?.((f) => this.accountFact(f))
    this.core = this.build()
    this.instrumentActors = deps.instruments.map((instrument) =>
      makeInstrumentActor({
        instrumentId: instrument.id,
        priceDecimals: instrument.priceDecimals,
        qtyDecimals: instrument.qtyDecimals,
        metrics: deps.metrics,
        inspection: deps.inspection
      })
    )
    // Books feed risk (fat-finger band, exposure marks) and the portfolio (unrealized PnL).
    for (const actor of this.instrumentActors) {
      // Both only read the top of the book: most updates do not move it, and then nothing is built.
      let lastBid = Number.NaN
      let lastAsk = Number.NaN
      actor.subscribe((view) => {
        const [bidUnits, askUnits] = view.topUnits
        if (bidUnits === lastBid && askUnits === lastAsk) return
        lastBid = bidUnits
        lastAsk = askUnits
        const bid = view.bestBid?.price
        const ask = view.bestAsk?.price
        this.tops.set(view.instrumentId, { bid, ask })
        if (this.held !== undefined) return
        this.guard("book", view.instrumentId, undefined, () => {
          this.risk.onBook(view.instrumentId, bid, ask)
          this.portfolio.onBook(view.instrumentId, bid, ask)
        })
      })
    }
  }

  get risk(): RiskActor {
    return this.core.risk
  }

  get orders(): OrderManager {
    return this.core.orders
  }

  get portfolio(): PortfolioActor {
    return this.core.portfolio
  }

  /** The current core's dead man's switch; armed again after a restart if it was armed. */
  readonly deadMansSwitch = {
    start: (): void => {
      this.dmsArmed = true
      this.core.deadMansSwitch.start()
    },
    stop: (opts: { readonly disarm?: boolean } = {}): void => {
      this.dmsArmed = false
      this.core.deadMansSwitch.stop(opts)
    }
  }

  /** Risk, portfolio and order manager, wired; nothing is restored (see `restartCore`). */
  private build(): Core {
    const deps = this.deps
    const { account, clock } = deps
    const record = (event: CanonicalEvent): void => {
      void deps.journal.append(event).catch(() => undefined)
      deps.publish(event)
    }
    // The rate-limit denials are served at 0 from the start, so a dashboard's rate() of them is
    // defined (and alerts can fire) before the first denial.
    for (const reason of ["RATE_LIMIT", "STRATEGY_RATE_LIMIT"]) deps.metrics.counter("risk_denials_total", "intents denied by risk, by reason", { account, reason })
    for (const b of deps.venueRate?.budgets ?? [{ name: "cost" }]) deps.metrics.counter("rate_budget_denials_total", "intents denied by a venue rate budget (over it, backing off after a 429, banned by a 418), by budget", { account, budget: b.name })
    const risk = new RiskActor(
      {
        account,
        limits: accountLimitsOf(deps.limits),
        strategyRate: { maxActions: deps.limits.strategyOrdersPerSecond ?? RISK_DEFAULTS.strategyOrdersPerSecond, windowMs: 1000 },
        ...(deps.venueRate === undefined ? {} : { venueRate: deps.venueRate }),
        // Margin is checked where the venue reports the account's figures (Kraken's `balances` feed).
        ...(deps.gateway.subscribeAccount === undefined ? {} : { margin: { whenUnknown: deps.limits.marginWhenUnknown ?? "deny" } })
      },
      {
        clock,
        ...(deps.run === undefined ? {} : { run: deps.run }),
        ids: this.ids,
        ...(deps.rateBudgets === undefined ? {} : { rateBudgets: deps.rateBudgets }),
        emit: (e) => {
          if (e._tag === "RiskDenied") deps.metrics.counter("risk_denials_total", "intents denied by risk, by reason", { account, reason: e.reason }).inc()
          if (e._tag === "RiskDenied" && e.budget !== undefined) deps.metrics.counter("rate_budget_denials_total", "intents denied by a venue rate budget (over it, backing off after a 429, banned by a 418), by budget", { account, budget: e.budget }).inc()
          // Every intent gets exactly one decision: the denominator of the denial ratio.
          if (e._tag === "RiskDenied" || e._tag === "RiskApproved") {
            deps.metrics.counter("risk_intents_total", "intents decided by risk, by intent kind and decision", { account, intent: e.intent, decision: e._tag === "RiskApproved" ? "approved" : "denied" }).inc()
          }
          record(e as CanonicalEvent)
        }
      }
    )
    const portfolio = new PortfolioActor({
      account,
      clock,
      ...(deps.run === undefined ? {} : { run: deps.run }),
      ids: this.ids,
      emit: (e) => record(e),
      onChange: (u) => {
        risk.onPosition(u.instrument, u.qty)
        risk.onDailyPnl(u.dailyPnl)
      }
    })
    for (const instrument of deps.instruments) {
      const registered = risk.registerInstrument(instrument, instrumentLimitsOf(deps.limits, instrument))
      if (Either.isLeft(registered)) throw registered.left
      const p = portfolio.registerInstrument(instrument)
      if (Either.isLeft(p)) throw p.left
    }
    const reports: VenueGatewayService = {
      account: deps.gateway.account,
      send: (a) => deps.gateway.send(a),
      subscribe: (listener) => {
        this.reportListener = listener
        return () => {
          if (this.reportListener === listener) this.reportListener = undefined
        }
      }
    }
    const orders = new OrderManager({
      account,
      clock,
      risk,
      gateway: reports,
      ...(deps.run === undefined ? {} : { run: deps.run }),
      ids: this.ids,
      knownFill: (fillId) => portfolio.hasFill(fillId),
      emit: (e: OrderJournalEvent) => {
        const event = e as CanonicalEvent
        record(event)
        if (ORDER_EVENT_TAGS.has(event._tag)) deps.onOrderEvent(event as OrderEvent)
        else deps.metrics.counter("reconciliation_events_total", "venue reports for orders we do not know (journaled as ReconciliationNeeded)").inc()
      },
      onFill: (fill) => {
        portfolio.onFill(fill)
      },
      journalIntent: (intent) => record(intent),
      // An order machine that errored is in a state nobody can vouch for: the core restarts.
      onActorError: (clientOrderId, error) => this.crash("order machine", `order ${clientOrderId}`, error)
    })
    const deadMansSwitch = new DeadMansSwitch(clock, risk, deps.gateway)
    return { risk, orders, portfolio, deadMansSwitch }
  }

  /** The venue's last margin figure (or its going stale), for a rebuilt core. */
  private lastMargin: Exclude<AccountFact, { readonly _tag: "FundingPaid" }> | undefined

  /**
   * An account fact from the venue. Margin figures go to risk (the newest is kept for a rebuilt
   * core); a funding payment is journaled, then booked on the position by the portfolio (held
   * while the core is down; the portfolio counts each booking id once).
   */
  private accountFact(f: AccountFact): void {
    if (f._tag === "FundingPaid") {
      void this.deps.journal.append(f).catch(() => undefined)
      this.deps.publish(f)
      this.change((core) => void core.portfolio.onFunding(f), `funding ${f.bookingId}`)
      return
    }
    this.lastMargin = f
    if (this.held !== undefined) return
    this.guard("account margin", f._tag, undefined, () => this.applyMargin(this.core, f))
  }

  private applyMargin(core: Core, f: Exclude<AccountFact, { readonly _tag: "FundingPaid" }>): void {
    if (f._tag === "AccountMarginStale") core.risk.onAccountMarginStale(f.why)
    else core.risk.onAccountMargin(f)
  }

  /** The account's equity as the venue last reported it (its margin feed), if it did. */
  venueEquity(): Decimal | undefined {
    return this.lastMargin?._tag === "AccountMargin" ? this.lastMargin.equity : undefined
  }

  /** Runs `f` against the core; a throw is a crash of the core (observed, logged, counted). */
  private guard<A>(where: string, context: string, fallback: A, f: () => A): A {
    try {
      return f()
    } catch (error) {
      this.crash(where, context, error)
      return fallback
    }
  }

  private relay(r: VenueReport): void {
    if (this.held !== undefined) {
      this.held.push(r)
      return
    }
    const listener = this.reportListener
    if (listener === undefined) return
    this.guard("venue report", `${r._tag} ${r.clientOrderId}`, undefined, () => listener(r))
  }

  /**
   * Every error of the core ends here: logged once with its context, counted, and the core is
   * stopped; its supervisor (`onCrash`) restarts it from the ledger. Without one the account
   * stays down (fail closed).
   */
  crash(where: string, context: string, error: unknown): void {
    const { account, metrics } = this.deps
    metrics.counter("trading_core_errors_total", "errors inside an account's trading core (risk, orders, portfolio); each stops the core", { account, where }).inc()
    const log = this.deps.log ?? ((m: string) => void process.stderr.write(`${new Date().toISOString()} troupe: ${m}\n`))
    const crash = new TradingCoreCrashed({ account, where, context, cause: error })
    if (this.held !== undefined) {
      log(`${crash.message} (the core is already down, restart pending)`)
      return
    }
    log(`${crash.message}; the core stops${this.onCrash === undefined ? " and, unsupervised, stays down" : " and is restarted from the ledger"}`)
    this.held = []
    this.stopCore(this.core)
    this.onCrash?.(crash)
  }

  /**
   * The operator's kill switch (halt, reduce-only, resume; `cancelAll` also pulls every open
   * order). While the core is down it is held and applied to the rebuilt core, never lost.
   */
  control(e: Halt | ReduceOnly | Resume, opts: { readonly cancelAll?: boolean } = {}): void {
    this.change((core) => void core.orders.control(e, opts), `${e._tag} ${e.id}`)
  }

  /** An operator lifts an automatic cause (audited by the caller); held while the core is down. */
  liftCause(cause: AutomaticCause, who: string, why: string): void {
    this.change((core) => void core.risk.liftCause(cause, who, why), `lift ${cause}`)
  }

  /** An automatic cause from outside risk (journal, audit, reconciliation); held while the core is down. */
  automaticCause(cause: Exclude<AutomaticCause, "dailyLoss">, raised: boolean, why: string): void {
    this.change((core) => void core.risk.automaticCause(cause, raised, why), `${cause} ${raised ? "raised" : "lifted"}`)
  }

  private change(f: (core: Core) => void, context: string): void {
    if (this.held !== undefined) this.heldChanges.push(f)
    else this.guard("trading state change", context, undefined, () => f(this.core))
  }

  /** True while the core is down: crashed and not yet rebuilt. */
  get down(): boolean {
    return this.held !== undefined
  }

  /**
   * A new core (fresh risk, orders, portfolio) given the recovered state by `restore` (the
   * ledger's positions, fills and live orders); then the venue reports held while it was down.
   */
  restartCore(restore: (node: TradingNode) => void): void {
    // The causes of the trading state are current facts: the new core takes them over.
    const carried = this.carriedFrom(this.core)
    if (this.held === undefined) this.stopCore(this.core)
    // Down until restored: if `restore` throws, the held reports wait for the next attempt.
    const held = this.held ?? []
    this.held = held
    this.core = this.build()
    for (const [instrument, top] of this.tops) {
      this.core.risk.onBook(instrument, top.bid, top.ask)
      this.core.portfolio.onBook(instrument, top.bid, top.ask)
    }
    if (this.lastMargin !== undefined) this.applyMargin(this.core, this.lastMargin)
    restore(this)
    if (carried !== undefined) this.core.risk.inherit(carried)
    this.restarts++
    this.deps.metrics.counter("trading_core_restarts_total", "restarts of an account's trading core from the ledger", { account: this.account }).inc()
    this.held = undefined
    // The newest facts last: what the operator (or a detector) did while the core was down.
    const changes = this.heldChanges
    this.heldChanges = []
    for (const change of changes) this.guard("trading state change", "held while the core was down", undefined, () => change(this.core))
    if (this.dmsArmed) this.core.deadMansSwitch.start()
    for (const r of held) this.relay(r)
  }

  private carriedFrom(core: Core): CarriedTradingState | undefined {
    try {
      return core.risk.carried()
    } catch {
      // A risk actor that cannot even say its causes: the ledger's (the operator's) must do.
      return undefined
    }
  }

  private stopCore(core: Core): void {
    // Each part is stopped even if another one throws: the old core must not act any more.
    for (const stop of [() => core.deadMansSwitch.stop(), () => core.orders.stop(), () => core.risk.stop()]) {
      try {
        stop()
      } catch {
        // A part that cannot even stop is garbage now; the new core replaces it.
      }
    }
  }

  /** Fail closed: no submit or modify for this account (cancels pass) until a restart. */
  block(reason: string): void {
    this.blockedReason = reason
  }

  get blocked(): string | undefined {
    return this.blockedReason
  }

  instrument(id: InstrumentId): Instrument | undefined {
    return this.byId.get(id)
  }

  /** The strategies' only way to trade: journal the intent, then risk decides (and acts). */
  readonly intentGateway: IntentGateway = {
    submit: (intent: OrderIntent) => {
      const unavailable = this.held !== undefined ? "trading core restarting" : intent._tag === "SubmitOrder" || intent._tag === "ModifyOrder" ? this.blockedReason : undefined
      if (unavailable !== undefined) return Promise.reject(new TradingCoreUnavailable({ account: this.account, reason: unavailable }))
      if (hopTrace.on) hopTrace.intent(intent._tag === "SubmitOrder" ? intent.clientOrderId : undefined)
      void this.deps.journal.append(intent).catch(() => undefined)
      this.deps.publish(intent)
      if (hopTrace.on) hopTrace.mark(Hop.intentJournal)
      try {
        return Promise.resolve(this.orders.handle(intent))
      } catch (error) {
        const context = `${intent._tag}${"clientOrderId" in intent && intent.clientOrderId !== undefined ? ` ${intent.clientOrderId}` : ""}`
        this.crash("risk/orders intent", context, error)
        return Promise.reject(new TradingCoreUnavailable({ account: this.account, reason: "trading core failed on this intent and is restarting" }))
      } finally {
        if (hopTrace.on) hopTrace.done()
      }
    }
  }

  /** Book views for strategies: the StrategyHost's feed (strategy-facing views, at the depth asked). */
  readonly subscribeBook: StrategyMarketFeed["subscribeBook"] = (instrument, depth, deliver) => {
    const actor = this.instrumentActors.find((a) => a.instrumentId === instrument)
    if (actor === undefined) return () => undefined
    return actor.subscribe((view) => deliver(bookViewFromLevels(view)), { depth })
  }

  /**
   * The node's supervision tree under `id`: one child per instrument actor; `accounts` when given
   * (the `accounts` supervisor of trading-core-child.ts, whose child restarts this node's trading
   * core from the ledger after a crash); and a strategies supervisor (empty; strategies are added
   * at run time) handed to `onStrategies` on every start.
   */
  supervisionTree(id: string, onStrategies: (strategies: Supervisor<MarketData>) => void, accounts?: ChildSpec<TroupeClock>) {
    return makeSupervisor({
      id,
      strategy: "one_for_one",
      children: [
        supervisorChild({ id: "instruments", strategy: "one_for_one", children: this.instrumentActors.map((a) => a.host.child) }),
        ...(accounts === undefined ? [] : [accounts]),
        supervisorChild<MarketData>({ id: "strategies", strategy: "one_for_one", children: [] }, { onStarted: onStrategies })
      ]
    })
  }

  /** Synchronous view of open orders for the control API. */
  openOrderCount(): number {
    return this.orders.liveOrders
  }

  stop(): Effect.Effect<void> {
    return Effect.sync(() => {
      this.dmsArmed = false
      this.onCrash = undefined
      this.stopCore(this.core)
    })
  }
}
