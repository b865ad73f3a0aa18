import { Either } from "effect"
import type { Decimal } from "../../../src/domain/decimal.js"
import type { InstrumentId } from "../../../src/domain/ids.js"
import type { RiskEvent } from "../../../src/domain/events/risk.js"
import type { VenueRequestSent } from "../../../src/domain/events/venue.js"
import type { OrderIntent } from "../../../src/domain/events/intents.js"
import type { PositionChanged } from "../../../src/domain/events/portfolio.js"
import { OrderManager, type OrderJournalEvent, type OrderManagerDeps } from "../../../src/actors/orders/order-manager.js"
import { PortfolioActor } from "../../../src/actors/portfolio/portfolio.actor.js"
import type { VenueGatewayService } from "../../../src/actors/ports/venue-gateway.js"
import type { RiskActorConfig } from "../../../src/actors/risk/risk.actor.js"
import { FakeVenue, type FakeVenueOptions } from "../../../src/actors/venue-gateway/fake-venue.js"
import { ACCOUNT, eth, makeRisk, xbt } from "../risk/fixtures.js"

/** Everything that goes through the account, in order: risk decisions, order facts, positions, and each gateway call. */
export type JournalEntry =
  | RiskEvent
  | VenueRequestSent
  | OrderJournalEvent
  | PositionChanged
  | { readonly _tag: "GatewayCall"; readonly approvalId: string; readonly ts: number; readonly call: string; readonly cost: number }
  // Test notes: what the test fed in, so limits can be recomputed from the log alone.
  | { readonly _tag: "Book"; readonly instrument: InstrumentId; readonly bid: Decimal; readonly ask: Decimal }
  | { readonly _tag: "Intent"; readonly intent: OrderIntent }
  | { readonly _tag: "DayStart" }

export interface CoreOptions {
  readonly risk?: Partial<RiskActorConfig>
  readonly venue?: Partial<Omit<FakeVenueOptions, "account" | "clock">>
  /** Keep the full journal (tests) or only count it (bench). */
  readonly keepJournal?: boolean
  /** The run number in every event id (as the daemon passes it). */
  readonly run?: number
  /** How many finished order actors the manager keeps, and how long. */
  readonly retain?: Pick<OrderManagerDeps, "retainTerminal" | "retainTerminalMs" | "retainTerminalMin">
  /** The simulated clock's start (epoch ms). */
  readonly start?: number
}

/** Risk → order manager → fake venue, with the portfolio feeding risk: the trading core of one account. */
export const makeCore = (opts: CoreOptions = {}) => {
  const journal: JournalEntry[] = []
  const keep = opts.keepJournal ?? true
  const sink = (e: JournalEntry) => {
    if (keep) journal.push(e)
  }
  const { clock, risk } = makeRisk(opts.risk, opts.start ?? 1_700_000_000_000, sink)
  const venue = new FakeVenue({ account: ACCOUNT, clock, ...opts.venue })
  const gateway: VenueGatewayService = {
    account: ACCOUNT,
    send: (action) => {
      sink({ _tag: "GatewayCall", approvalId: action.approvalId, ts: clock.now(), call: action.call, cost: action.cost })
      venue.send(action)
    },
    subscribe: (l) => venue.subscribe(l)
  }
  const run = opts.run === undefined ? {} : { run: () => opts.run as number }
  const portfolio = new PortfolioActor({
    account: ACCOUNT,
    clock,
    ...run,
    emit: sink,
    onChange: (u) => {
      risk.onPosition(u.instrument, u.qty)
      risk.onDailyPnl(u.dailyPnl)
    }
  })
  Either.getOrThrow(portfolio.registerInstrument(xbt))
  Either.getOrThrow(portfolio.registerInstrument(eth))
  // As the trading node wires it: fills the portfolio already counted are dropped before the journal.
  const manager = new OrderManager({ account: ACCOUNT, clock, risk, gateway, emit: sink, onFill: (f) => portfolio.onFill(f), knownFill: (id) => portfolio.hasFill(id), ...run, ...opts.retain })
  const setBook = (instrument: InstrumentId, bid: Decimal, ask: Decimal) => {
    sink({ _tag: "Book", instrument, bid, ask })
    risk.onBook(instrument, bid, ask)
    portfolio.onBook(instrument, bid, ask)
  }
  const handle = (intent: OrderIntent) => {
    sink({ _tag: "Intent", intent })
    return manager.handle(intent)
  }
  const startDay = () => {
    sink({ _tag: "DayStart" })
    portfolio.startDay()
    risk.onDailyPnl(portfolio.dailyPnl())
  }
  return { clock, risk, venue, gateway, portfolio, manager, journal, setBook, handle, startDay }
}
