import { Effect, Either } from "effect"
import type { ClockService } from "../actors/clock.js"
import type { InspectionStream } from "../actors/inspection.js"
import { makeInstrumentActor, type InstrumentActor } from "../actors/instrument/instrument.actor.js"
import type { MetricsRegistry } from "../actors/metrics.js"
import { OrderManager, DeadMansSwitch, type OrderJournalEvent } from "../actors/orders/index.js"
import { PortfolioActor } from "../actors/portfolio/index.js"
import type { MarketDataService } from "../actors/ports/market-data.js"
import type { VenueGatewayService } from "../actors/ports/venue-gateway.js"
import { RiskActor, type AccountLimits, type InstrumentLimits } from "../actors/risk/index.js"
import type { IntentGateway, StrategyMarketFeed } from "../actors/strategy/ports.js"
import { makeSupervisor, supervisorChild, type Supervisor } from "../actors/supervisor/index.js"
import type { MarketData } from "../actors/ports/market-data.js"
import { bookViewFromLevels } from "../strategies/book-view.js"
import { dec, Decimal } from "../domain/decimal.js"
import type { CanonicalEvent } from "../domain/events/index.js"
import type { OrderEvent } from "../domain/events/orders.js"
import type { OrderIntent } from "../domain/events/intents.js"
import type { AccountId, InstrumentId } from "../domain/ids.js"
import type { Instrument } from "../domain/instrument.js"
import type { RiskLimitsConfig } from "./config.js"
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

const orDefault = (d: Decimal | undefined, fallback: string): Decimal => d ?? dec(fallback)

/** Config limits → the risk actor's; absent limits are generous defaults, stated here. */
export const accountLimitsOf = (risk: RiskLimitsConfig): AccountLimits => ({
  maxGrossExposure: orDefault(risk.maxGrossExposure, "1000000"),
  maxNetExposure: orDefault(risk.maxNetExposure, "500000"),
  maxOpenOrders: risk.maxOpenOrders ?? 200,
  dailyLossLimit: orDefault(risk.dailyLossLimit, "50000")
})

export const instrumentLimitsOf = (risk: RiskLimitsConfig, instrument: Instrument): InstrumentLimits => ({
  maxOrderQty: Decimal.min(orDefault(risk.maxOrderQty, "1000"), instrument.maxQty),
  maxOrderNotional: orDefault(risk.maxNotional, "250000"),
  // Config gives the band as a fraction ("0.05"); risk wants basis points.
  priceBandBps: risk.priceBand === undefined ? 500 : risk.priceBand.times(10_000).floor().toNumber(),
  maxPosition: orDefault(risk.maxPosition, "100")
})

export class TradingNode {
  readonly risk: RiskActor
  readonly orders: OrderManager
  readonly portfolio: PortfolioActor
  readonly deadMansSwitch: DeadMansSwitch
  readonly instrumentActors: ReadonlyArray<InstrumentActor>
  readonly account: AccountId
  private readonly byId = new Map<string, Instrument>()

  constructor(private readonly deps: TradingNodeDeps) {
    this.account = deps.account
    const { account, clock } = deps
    const record = (event: CanonicalEvent): void => {
      void deps.journal.append(event).catch(() => undefined)
      deps.publish(event)
    }
    this.risk = new RiskActor(
      { account, limits: accountLimitsOf(deps.limits), strategyRate: { maxActions: deps.limits.strategyOrdersPerSecond ?? 20, windowMs: 1000 } },
      {
        clock,
        emit: (e) => {
          if (e._tag === "RiskDenied") deps.metrics.counter("risk_denials_total", "intents denied by risk, by reason", { account, reason: e.reason }).inc()
          record(e as CanonicalEvent)
        }
      }
    )
    this.portfolio = new PortfolioActor({
      account,
      clock,
      emit: (e) => record(e),
      onChange: (u) => {
        this.risk.onPosition(u.instrument, u.qty)
        this.risk.onDailyPnl(u.dailyPnl)
      }
    })
    for (const instrument of deps.instruments) {
      this.byId.set(instrument.id, instrument)
      const registered = this.risk.registerInstrument(instrument, instrumentLimitsOf(deps.limits, instrument))
      if (Either.isLeft(registered)) throw registered.left
      const p = this.portfolio.registerInstrument(instrument)
      if (Either.isLeft(p)) throw p.left
    }
    this.orders = new OrderManager({
      account,
      clock,
      risk: this.risk,
      gateway: deps.gateway,
      emit: (e: OrderJournalEvent) => {
        const event = e as unknown as CanonicalEvent
        if (ORDER_EVENT_TAGS.has(event._tag)) {
          record(event)
          deps.onOrderEvent(event as OrderEvent)
        } else {
          deps.metrics.counter("reconciliation_events_total", "venue reports for orders we do not know").inc()
        }
      },
      onFill: (fill) => {
        this.portfolio.onFill(fill)
      },
      journalIntent: (intent) => record(intent)
    })
    this.deadMansSwitch = new DeadMansSwitch(clock, this.risk, deps.gateway)
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
        this.risk.onBook(view.instrumentId, bid, ask)
        this.portfolio.onBook(view.instrumentId, bid, ask)
      })
    }
  }

  instrument(id: InstrumentId): Instrument | undefined {
    return this.byId.get(id)
  }

  /** The strategies' only way to trade: journal the intent, then risk decides (and acts). */
  readonly intentGateway: IntentGateway = {
    submit: (intent: OrderIntent) => {
      void this.deps.journal.append(intent).catch(() => undefined)
      this.deps.publish(intent)
      return Promise.resolve(this.orders.handle(intent))
    }
  }

  /** Book views for strategies: the StrategyHost's feed (strategy-facing views, at the depth asked). */
  readonly subscribeBook: StrategyMarketFeed["subscribeBook"] = (instrument, depth, deliver) => {
    const actor = this.instrumentActors.find((a) => a.instrumentId === instrument)
    if (actor === undefined) return () => undefined
    return actor.subscribe((view) => deliver(bookViewFromLevels(view)), { depth })
  }

  /**
   * The node's supervision tree under `id`: one child per instrument actor, and a strategies
   * supervisor (empty; strategies are added at run time) handed to `onStrategies` on every start.
   */
  supervisionTree(id: string, onStrategies: (strategies: Supervisor<MarketData>) => void) {
    return makeSupervisor({
      id,
      strategy: "one_for_one",
      children: [
        supervisorChild({ id: "instruments", strategy: "one_for_one", children: this.instrumentActors.map((a) => a.host.child) }),
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
      this.deadMansSwitch.stop()
      this.orders.stop()
      this.risk.stop()
    })
  }
}
