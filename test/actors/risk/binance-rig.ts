import { Either } from "effect"
import { makeSimulatedClock, type ClockService, type SimulatedClock } from "../../../src/actors/clock.js"
import { RateBudgets } from "../../../src/actors/risk/rate-budgets.js"
import { RiskActor } from "../../../src/actors/risk/risk.actor.js"
import { dec } from "../../../src/domain/decimal.js"
import type { SubmitOrder } from "../../../src/domain/events/intents.js"
import type { RiskEvent } from "../../../src/domain/events/risk.js"
import type { VenueRequestSent } from "../../../src/domain/events/venue.js"
import type { AccountId, ClientOrderId, InstrumentId, StrategyId } from "../../../src/domain/ids.js"
import { makeInstrument } from "../../../src/domain/instrument.js"
import { binanceUsdmModel, type VenueCostModel } from "../../../src/domain/venue-rates.js"
import { accountLimits, instrumentLimits } from "./fixtures.js"

export const BTC = "binance-usdm:BTCUSDT" as InstrumentId
export const btc = Either.getOrThrow(
  makeInstrument({ id: BTC, kind: "linearPerpetual", base: "BTC", quote: "USDT", tickSize: "0.1", lotSize: "0.001", minQty: "0.001", maxQty: "100", contractSize: "1", tradable: true })
)

export interface Account {
  readonly id: AccountId
  readonly risk: RiskActor
  readonly events: Array<RiskEvent | VenueRequestSent>
}

/** Risk actors of several accounts on one daemon: one `RateBudgets`, each account on an address. */
export const makeAccounts = (
  specs: ReadonlyArray<{ readonly id: string; readonly ip?: string; readonly model?: VenueCostModel }>,
  opts: { readonly clock?: SimulatedClock; readonly wall?: ClockService; readonly maxOpenOrders?: number } = {}
): { readonly clock: SimulatedClock; readonly budgets: RateBudgets; readonly accounts: ReadonlyArray<Account> } => {
  const clock = opts.clock ?? makeSimulatedClock(1_700_000_000_000)
  const wall = opts.wall ?? clock
  const budgets = new RateBudgets(wall)
  const accounts = specs.map((s) => {
    const events: Array<RiskEvent | VenueRequestSent> = []
    const id = s.id as AccountId
    const risk = new RiskActor(
      { account: id, limits: { ...accountLimits, maxOpenOrders: opts.maxOpenOrders ?? 100_000 }, strategyRate: { maxActions: 1_000_000, windowMs: 1_000 }, venueRate: s.model ?? binanceUsdmModel(), ...(s.ip === undefined ? {} : { ip: s.ip }) },
      { clock: wall, emit: (e) => events.push(e), rateBudgets: budgets }
    )
    Either.getOrThrow(risk.registerInstrument(btc, { ...instrumentLimits, maxPosition: dec(1_000_000), maxOrderNotional: dec(1_000_000_000) }))
    risk.onBook(BTC, dec("49999.9"), dec("50000.1"))
    return { id, risk, events }
  })
  return { clock, budgets, accounts }
}

let n = 0
export const order = (account: AccountId, side: "buy" | "sell" = "buy"): SubmitOrder => ({
  _tag: "SubmitOrder",
  id: `b-${++n}`,
  ts: 0,
  source: "test",
  account,
  strategy: "s" as StrategyId,
  instrument: BTC,
  clientOrderId: `b-${n}` as ClientOrderId,
  side,
  orderType: "limit",
  qty: dec("0.001"),
  price: dec(side === "buy" ? "49990" : "50010"),
  reduceOnly: false
})
