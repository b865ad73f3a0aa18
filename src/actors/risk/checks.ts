import { Decimal } from "../../domain/decimal.js"
import type { Side } from "../../domain/order.js"
import type { RiskReason } from "../../domain/events/risk.js"
import type { OrderType } from "../../domain/schema.js"
import type { TradingStatus } from "../../machines/trading-state.machine.js"
import { lotValue, lotsToQty, ticksToPx, unitsToMoney, type AccountRisk, type InstrumentRisk } from "./limits.js"
import type { MarginView } from "./margin.js"
import { NOT_EXACT, toUnits } from "./scaled.js"

/**
 * The pre-trade checks, one pure function per check. Each returns `undefined` (pass) or a
 * `Denial` with its reason code and the two numbers it compared, which go into `RiskDenied`
 * as `limit` and `actual`. Inputs are the compiled integer limits and aggregates of limits.ts;
 * Decimals are made only on the deny path. Nothing here scans the open orders.
 */
export interface Denial {
  readonly reason: RiskReason
  readonly limit?: Decimal
  readonly actual?: Decimal
  readonly detail: string
  /** A rate denial's budget (`cost`, `weight1m`, `orders10s`, `orders1m`). */
  readonly budget?: string
}

const deny = (reason: RiskReason, detail: string, limit?: Decimal, actual?: Decimal): Denial =>
  limit !== undefined && actual !== undefined ? { reason, detail, limit, actual } : { reason, detail }

/** Why the account is halted, so a halt caused by the loss limit is reported as such. */
export interface HaltCause {
  readonly dailyLoss?: { readonly loss: Decimal; readonly limit: Decimal }
  readonly why: string
}

/** Halted denies submits and modifies; reducing allows only submits that reduce the position. */
export const checkTradingState = (status: TradingStatus, kind: "submit" | "modify", reduces: boolean, cause: HaltCause | undefined): Denial | undefined => {
  if (status === "active") return undefined
  if (status === "halted") {
    if (cause?.dailyLoss !== undefined) return deny("DAILY_LOSS_LIMIT", `trading halted: ${cause.why}`, cause.dailyLoss.limit, cause.dailyLoss.loss)
    return deny("TRADING_HALTED", `trading halted${cause === undefined ? "" : `: ${cause.why}`}`)
  }
  if (kind === "submit" && reduces) return undefined
  return deny("REDUCE_ONLY", kind === "modify" ? "reducing: modifies are not allowed" : "reducing: only orders that reduce the position are allowed")
}

/** Whether a new order of `lots` on `side` only reduces the position, counting open reducing orders. */
export const reducesPosition = (r: InstrumentRisk, side: Side, lots: number): boolean =>
  side === "buy" ? r.positionLots < 0 && r.openBuyLots + lots <= -r.positionLots : r.positionLots > 0 && r.openSellLots + lots <= r.positionLots

export const checkReduceOnlyRoom = (r: InstrumentRisk, side: Side, lots: number): Denial =>
  deny(
    "REDUCE_ONLY",
    "reducing: the order would not only reduce the position",
    lotsToQty(r, Math.max(0, side === "buy" ? -r.positionLots - r.openBuyLots : r.positionLots - r.openSellLots)),
    lotsToQty(r, lots)
  )

export const checkDuplicate = (seen: { has(clientOrderId: string): boolean }, clientOrderId: string): Denial | undefined =>
  seen.has(clientOrderId) ? deny("DUPLICATE_CLIENT_ORDER_ID", `client order id ${clientOrderId} was used before`) : undefined

export const checkInstrument = (r: InstrumentRisk | undefined, id: string, now?: number): Denial | undefined => {
  if (r === undefined) return deny("UNKNOWN_INSTRUMENT", `instrument ${id} is not known to risk`)
  if (!r.instrument.tradable) return deny("NOT_TRADABLE", `instrument ${id} is not tradable`)
  // A dated contract past its last trading time: the venue would refuse it (marketInactive).
  if (now !== undefined && r.instrument.expiry !== undefined && now >= r.instrument.expiry) {
    return deny("NOT_TRADABLE", `instrument ${id} expired at ${new Date(r.instrument.expiry).toISOString()}`)
  }
  return undefined
}

/** Quantity in lots, or NOT_EXACT when it is off the lot grid. */
export const lotsOf = (r: InstrumentRisk, qty: Decimal): number => {
  const units = toUnits(qty, r.instrument.qtyDecimals)
  return units === NOT_EXACT || units % r.lotUnits !== 0 ? NOT_EXACT : units / r.lotUnits
}

/** Price in ticks, or NOT_EXACT when it is off the tick grid. */
export const ticksOf = (r: InstrumentRisk, price: Decimal): number => {
  const units = toUnits(price, r.instrument.priceDecimals)
  return units === NOT_EXACT || units % r.tickUnits !== 0 ? NOT_EXACT : units / r.tickUnits
}

export const checkLot = (r: InstrumentRisk, qty: Decimal, lots: number): Denial | undefined =>
  lots === NOT_EXACT ? deny("QTY_NOT_ON_LOT", `quantity ${qty.toString()} is not a multiple of the lot size ${r.instrument.lotSize.toString()}`) : undefined

export const checkTick = (r: InstrumentRisk, price: Decimal, ticks: number): Denial | undefined =>
  ticks === NOT_EXACT || ticks === 0
    ? deny("PRICE_NOT_ON_TICK", `price ${price.toString()} is not a positive multiple of the tick size ${r.instrument.tickSize.toString()}`)
    : undefined

/** The instrument's own min and max quantity (venue rules). */
export const checkQtyBounds = (r: InstrumentRisk, lots: number): Denial | undefined => {
  if (lots < r.minLots || lots === 0) return deny("QTY_BELOW_MIN", "quantity below the instrument minimum", r.instrument.minQty, lotsToQty(r, lots))
  if (lots > r.maxLots) return deny("QTY_ABOVE_MAX", "quantity above the instrument maximum", r.instrument.maxQty, lotsToQty(r, lots))
  return undefined
}

export const checkMaxOrderQty = (r: InstrumentRisk, lots: number): Denial | undefined =>
  lots > r.maxOrderLots ? deny("MAX_ORDER_QTY", "order quantity above the risk limit", lotsToQty(r, r.maxOrderLots), lotsToQty(r, lots)) : undefined

/** qty × contractSize × price ≤ maxOrderNotional, compared in lot·ticks (inverse: qty × contractSize, in lots). */
export const checkNotional = (r: InstrumentRisk, lots: number, priceTicks: number): Denial | undefined => {
  const lotTicks = r.inverse ? lots : lots * priceTicks
  if (lotTicks <= r.maxNotionalLotTicks) return undefined
  const value = r.instrument.lotSize.times(r.inverse ? 1 : r.instrument.tickSize).times(r.instrument.contractSize)
  return deny("MAX_NOTIONAL", "order notional above the risk limit", r.limits.maxOrderNotional, value.times(lotTicks))
}

/** Fat finger: |price − mid| × 10 000 ≤ bps × mid, in exact integers (twice the mid, in ticks). */
export const checkPriceBand = (r: InstrumentRisk, priceTicks: number): Denial | undefined => {
  const m2 = r.midTicks2
  if (m2 <= 0) return deny("PRICE_BAND", "no two-sided book: no mid to check the price against")
  const dev2 = Math.abs(2 * priceTicks - m2)
  if (dev2 * 10_000 <= r.bandBps * m2) return undefined
  const mid = ticksToPx(r, m2).dividedBy(2)
  return deny("PRICE_BAND", `price ${ticksToPx(r, priceTicks).toString()} is outside ${r.bandBps} bps of the mid ${mid.toString()}`, mid.times(r.bandBps).dividedBy(10_000), ticksToPx(r, dev2).dividedBy(2))
}

/**
 * Self-trade prevention against our own resting orders: a buy at or above our best resting
 * sell (a market buy against any of them) would trade with ourselves; the same for sells.
 */
export const checkSelfTrade = (r: InstrumentRisk, side: Side, priceTicks: number): Denial | undefined => {
  if (side === "buy") {
    const ask = r.ownAsks.best()
    if (ask !== undefined && (priceTicks < 0 || priceTicks >= ask)) {
      return deny("SELF_TRADE", "buy would cross our own resting sell", ticksToPx(r, ask), priceTicks < 0 ? ticksToPx(r, ask) : ticksToPx(r, priceTicks))
    }
  } else {
    const bid = r.ownBids.best()
    if (bid !== undefined && (priceTicks < 0 || priceTicks <= bid)) {
      return deny("SELF_TRADE", "sell would cross our own resting buy", ticksToPx(r, bid), priceTicks < 0 ? ticksToPx(r, bid) : ticksToPx(r, priceTicks))
    }
  }
  return undefined
}

export const checkOpenOrders = (a: AccountRisk): Denial | undefined =>
  a.openOrders + 1 > a.maxOpenOrders ? deny("MAX_OPEN_ORDERS", "too many open orders", decOf(a.maxOpenOrders), decOf(a.openOrders + 1)) : undefined

/** Position if every open order on that side (and this one, `addLots`) filled, per side. */
export const checkPosition = (r: InstrumentRisk, side: Side, addLots: number): Denial | undefined => {
  const worst = side === "buy" ? r.positionLots + r.openBuyLots + addLots : -(r.positionLots - r.openSellLots - addLots)
  return worst > r.maxPositionLots && addLots > 0
    ? deny("MAX_POSITION", `${side === "buy" ? "long" : "short"} position with open orders above the limit`, lotsToQty(r, r.maxPositionLots), lotsToQty(r, worst))
    : undefined
}

/**
 * Gross and net exposure of the account if the order is added (`addLots` more on `side`),
 * valued at the mark. An order that does not increase an exposure is never denied by it, so
 * reducing orders pass even when a mark move has put the account over a limit.
 */
export const checkExposure = (a: AccountRisk, r: InstrumentRisk, side: Side, addLots: number): Denial | undefined => {
  const v = lotValue(r)
  if (v < 0) return deny("MAX_GROSS_EXPOSURE", "no mark price to value the order")
  const buy = side === "buy" ? addLots : 0
  const sell = side === "sell" ? addLots : 0
  const long = (r.positionLots + r.openBuyLots + buy) * v
  const short = (r.positionLots - r.openSellLots - sell) * v
  const gross = a.grossUnits - r.grossUnits + Math.max(Math.abs(long), Math.abs(short))
  if (!Number.isSafeInteger(gross)) return deny("MAX_GROSS_EXPOSURE", "exposure beyond exact integer range")
  if (gross > a.maxGrossUnits && gross > a.grossUnits) {
    return deny("MAX_GROSS_EXPOSURE", "gross exposure above the limit", a.limits.maxGrossExposure, unitsToMoney(a, gross))
  }
  const netLong = a.netLongUnits - r.longUnits + long
  const netShort = a.netShortUnits - r.shortUnits + short
  const net = Math.max(Math.abs(netLong), Math.abs(netShort))
  const before = Math.max(Math.abs(a.netLongUnits), Math.abs(a.netShortUnits))
  if (net > a.maxNetUnits && net > before) {
    return deny("MAX_NET_EXPOSURE", "net exposure above the limit", a.limits.maxNetExposure, unitsToMoney(a, net))
  }
  return undefined
}

/**
 * Available margin (see margin.ts): the order's initial margin must fit what the venue reported
 * available, less our orders it does not count yet. `limit` is the available margin, `actual`
 * the order's required initial margin. Unknown or stale: denied under the `deny` policy.
 */
export const checkMargin = (view: MarginView, required: Decimal): Denial | undefined => {
  const why = view.unknownWhy()
  if (why !== undefined) return view.policy.whenUnknown === "deny" ? deny("MARGIN_UNKNOWN", `margin unknown: ${why}`) : undefined
  const available = view.available() as Decimal
  if (required.lessThanOrEqualTo(available)) return undefined
  return deny(
    "INSUFFICIENT_MARGIN",
    `initial margin ${required.toString()} exceeds available margin ${available.toString()} (venue ${view.lastVenue()?.available.toString() ?? "?"} less ${view.reservations} unconfirmed order(s))`,
    available,
    required
  )
}

/** Which price an order is valued at for notional: its limit, else its trigger, else the mark. */
export const referenceTicks = (r: InstrumentRisk, limitTicks: number, triggerTicks: number): number =>
  limitTicks > 0 ? limitTicks : triggerTicks > 0 ? triggerTicks : r.markTicks

/** Order types whose limit price can trade at once, so the fat-finger band applies. */
export const isBandChecked = (t: OrderType): boolean => t === "limit" || t === "postOnly" || t === "ioc" || t === "fok"

/** Order types that rest in the book (our own liquidity a later order could hit). */
export const isRestingType = (t: OrderType): boolean => t === "limit" || t === "postOnly"

const decOf = (n: number): Decimal => new Decimal(n)
