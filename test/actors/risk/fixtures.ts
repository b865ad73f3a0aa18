import { Either } from "effect"
import { dec, type Decimal } from "../../../src/domain/decimal.js"
import type { CancelAll, CancelOrder, ModifyOrder, SubmitOrder } from "../../../src/domain/events/intents.js"
import type { RiskEvent } from "../../../src/domain/events/risk.js"
import type { VenueRequestSent } from "../../../src/domain/events/venue.js"
import type { AccountId, ClientOrderId, InstrumentId, StrategyId } from "../../../src/domain/ids.js"
import { makeInstrument, type Instrument } from "../../../src/domain/instrument.js"
import { makeSimulatedClock, type SimulatedClock } from "../../../src/actors/clock.js"
import type { AccountLimits, InstrumentLimits } from "../../../src/actors/risk/limits.js"
import { RiskActor, type RiskActorConfig } from "../../../src/actors/risk/risk.actor.js"

export const ACCOUNT = "acct-1" as AccountId
export const STRATEGY = "mm-1" as StrategyId
export const XBT = "kraken-futures:PF_XBTUSD" as InstrumentId
export const ETH = "kraken-futures:PF_ETHUSD" as InstrumentId

const instrument = (id: string, tick: string, lot: string, maxQty = "100"): Instrument =>
  Either.getOrThrow(
    makeInstrument({ id, kind: "linearPerpetual", base: id.includes("XBT") ? "XBT" : "ETH", quote: "USD", tickSize: tick, lotSize: lot, minQty: lot, maxQty, contractSize: "1", tradable: true })
  )

/** tick 0.5, lot 0.001: one lot·tick is 0.0005 USD. */
export const xbt = instrument(XBT, "0.5", "0.001")
export const eth = instrument(ETH, "0.01", "0.01")

export const instrumentLimits: InstrumentLimits = { maxOrderQty: dec(5), maxOrderNotional: dec(250_000), priceBandBps: 100, maxPosition: dec(10) }
export const ethLimits: InstrumentLimits = { maxOrderQty: dec(50), maxOrderNotional: dec(150_000), priceBandBps: 200, maxPosition: dec(100) }
export const accountLimits: AccountLimits = { maxGrossExposure: dec(2_000_000), maxNetExposure: dec(1_500_000), maxOpenOrders: 50, dailyLossLimit: dec(1_000) }

export interface RiskRig {
  readonly clock: SimulatedClock
  readonly risk: RiskActor
  readonly events: Array<RiskEvent | VenueRequestSent>
}

export const makeRisk = (over: Partial<RiskActorConfig> = {}, start = 1_700_000_000_000, sink?: (e: RiskEvent | VenueRequestSent) => void): RiskRig => {
  const clock = makeSimulatedClock(start)
  const events: Array<RiskEvent | VenueRequestSent> = []
  const risk = new RiskActor(
    { account: ACCOUNT, limits: accountLimits, strategyRate: { maxActions: 1_000, windowMs: 1_000 }, ...over },
    {
      clock,
      emit: (e) => {
        events.push(e)
        sink?.(e)
      }
    }
  )
  Either.getOrThrow(risk.registerInstrument(xbt, instrumentLimits))
  Either.getOrThrow(risk.registerInstrument(eth, ethLimits))
  // mid 50 000 exactly (bid 49 999.5, ask 50 000.5); ETH mid 3 000
  risk.onBook(XBT, dec("49999.5"), dec("50000.5"))
  risk.onBook(ETH, dec("2999.99"), dec("3000.01"))
  return { clock, risk, events }
}

let n = 0
export const cid = (): ClientOrderId => `t-${++n}` as ClientOrderId

export const submit = (f: Partial<Omit<SubmitOrder, "qty" | "price">> & { qty?: Decimal | string; price?: Decimal | string | undefined } = {}): SubmitOrder => {
  const { qty, price, ...rest } = f
  const base: SubmitOrder = {
    _tag: "SubmitOrder",
    id: `i-${++n}`,
    ts: 0,
    source: "test",
    account: ACCOUNT,
    strategy: STRATEGY,
    instrument: XBT,
    clientOrderId: cid(),
    side: "buy",
    orderType: "limit",
    qty: dec(qty === undefined ? "1" : typeof qty === "string" ? qty : qty.toString()),
    reduceOnly: false,
    ...rest
  }
  if ("price" in f && price === undefined) return base
  return { ...base, price: dec(price === undefined ? "50000" : typeof price === "string" ? price : price.toString()) }
}

export const modify = (clientOrderId: ClientOrderId, f: { qty?: string; price?: string; instrument?: InstrumentId } = {}): ModifyOrder => ({
  _tag: "ModifyOrder",
  id: `i-${++n}`,
  ts: 0,
  source: "test",
  account: ACCOUNT,
  strategy: STRATEGY,
  instrument: f.instrument ?? XBT,
  clientOrderId,
  ...(f.qty === undefined ? {} : { qty: dec(f.qty) }),
  ...(f.price === undefined ? {} : { price: dec(f.price) })
})

export const cancel = (clientOrderId: ClientOrderId, instrument: InstrumentId = XBT): CancelOrder => ({
  _tag: "CancelOrder",
  id: `i-${++n}`,
  ts: 0,
  source: "test",
  account: ACCOUNT,
  strategy: STRATEGY,
  instrument,
  clientOrderId
})

export const cancelAll = (): CancelAll => ({ _tag: "CancelAll", id: `i-${++n}`, ts: 0, source: "test", account: ACCOUNT })

export const operator = { account: ACCOUNT, who: "alice", why: "test", id: "op", ts: 0, source: "operator" } as const
