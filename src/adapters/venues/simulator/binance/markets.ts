import { Decimal } from "../../../../domain/decimal.js"
import { lotSize, type SimInstrument } from "../instruments.js"
import { initialRate, maintenanceRate } from "../margin.js"

/**
 * The Binance face's view of the engine's instruments: each gets a Binance USD-M symbol
 * (`BTCUSDT`; a Kraken-named `PF_XBTUSD` shows as `BTCUSDT`, so one engine can be traded from
 * both faces) and the venue's filters, derived from the instrument's tick and lot.
 */
export interface BinanceMarket {
  readonly symbol: string
  /** The engine's instrument symbol. */
  readonly engineSymbol: string
  readonly baseAsset: string
  readonly instrument: SimInstrument
  readonly tickSize: Decimal
  readonly stepSize: Decimal
  readonly minQty: Decimal
  readonly maxQty: Decimal
  readonly marketMaxQty: Decimal
  readonly minPrice: Decimal
  readonly maxPrice: Decimal
  readonly minNotional: Decimal
  readonly multiplierUp: Decimal
  readonly multiplierDown: Decimal
  readonly maxNumOrders: number
}

export const QUOTE = "USDT"

/** `PF_XBTUSD` → `BTCUSDT`; a symbol already in Binance form (`ETHUSDT`) is kept. */
export const binanceSymbolOf = (engineSymbol: string): string => {
  if (/^[A-Z0-9]+USDT$/.test(engineSymbol)) return engineSymbol
  const base = engineSymbol.replace(/^P[FI]_/, "").replace(/USD$/, "")
  return `${base === "XBT" ? "BTC" : base}${QUOTE}`
}

const decimals = (d: Decimal): number => Math.max(0, d.decimalPlaces())

export const binanceMarket = (instrument: SimInstrument): BinanceMarket => {
  const symbol = binanceSymbolOf(instrument.symbol)
  const step = lotSize(instrument)
  return {
    symbol, engineSymbol: instrument.symbol, baseAsset: symbol.slice(0, -QUOTE.length), instrument,
    tickSize: instrument.tickSize, stepSize: step, minQty: step, maxQty: new Decimal(1_000_000), marketMaxQty: new Decimal(100_000),
    minPrice: instrument.tickSize, maxPrice: new Decimal(10_000_000), minNotional: new Decimal(5),
    multiplierUp: new Decimal("1.0500"), multiplierDown: new Decimal("0.9500"), maxNumOrders: 200
  }
}

const ONBOARD = 1_569_398_400_000
const PERPETUAL_DELIVERY = 4_133_404_800_000

/** One `symbols[]` entry of `GET /fapi/v1/exchangeInfo`. */
export const exchangeInfoSymbol = (m: BinanceMarket, trading: boolean): Record<string, unknown> => ({
  symbol: m.symbol, pair: m.symbol, contractType: "PERPETUAL", deliveryDate: PERPETUAL_DELIVERY, onboardDate: ONBOARD,
  status: trading ? "TRADING" : "SETTLING", maintMarginPercent: maintenanceRate(m.instrument).times(100).toFixed(4),
  requiredMarginPercent: initialRate(m.instrument).times(100).toFixed(4), baseAsset: m.baseAsset, quoteAsset: QUOTE, marginAsset: QUOTE,
  pricePrecision: decimals(m.tickSize), quantityPrecision: decimals(m.stepSize), baseAssetPrecision: 8, quotePrecision: 8,
  underlyingType: "COIN", underlyingSubType: [], settlePlan: 0, triggerProtect: "0.0500",
  filters: [
    { filterType: "PRICE_FILTER", maxPrice: m.maxPrice.toFixed(), minPrice: m.minPrice.toFixed(), tickSize: m.tickSize.toFixed() },
    { filterType: "LOT_SIZE", maxQty: m.maxQty.toFixed(), minQty: m.minQty.toFixed(), stepSize: m.stepSize.toFixed() },
    { filterType: "MARKET_LOT_SIZE", maxQty: m.marketMaxQty.toFixed(), minQty: m.minQty.toFixed(), stepSize: m.stepSize.toFixed() },
    { filterType: "MAX_NUM_ORDERS", limit: m.maxNumOrders },
    { filterType: "MIN_NOTIONAL", notional: m.minNotional.toFixed() },
    { filterType: "PERCENT_PRICE", multiplierUp: m.multiplierUp.toFixed(4), multiplierDown: m.multiplierDown.toFixed(4), multiplierDecimal: "4" }
  ],
  orderTypes: ["LIMIT", "MARKET", "STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET", "TRAILING_STOP_MARKET"],
  timeInForce: ["GTC", "IOC", "FOK", "GTX"], liquidationFee: "0.012500", marketTakeBound: "0.05"
})

export interface FilterError {
  readonly code: number
  readonly msg: string
}

const onGrid = (value: Decimal, min: Decimal, step: Decimal): boolean => step.isZero() || value.minus(min).mod(step).isZero()

/**
 * The symbol filters in the venue's order: LOT_SIZE (MARKET_LOT_SIZE for market orders),
 * PRICE_FILTER (also on the trigger price), PERCENT_PRICE against the mark, MIN_NOTIONAL
 * (market orders at the mark; reduce-only orders exempt).
 */
export const checkFilters = (
  m: BinanceMarket,
  order: { readonly quantity: Decimal; readonly price: Decimal | undefined; readonly stopPrice: Decimal | undefined; readonly side: "BUY" | "SELL"; readonly market: boolean; readonly reduceOnly: boolean },
  mark: Decimal | undefined
): FilterError | undefined => {
  const q = order.quantity
  if (q.lte(0)) return { code: -4003, msg: "Quantity less than or equal to zero." }
  if (q.lt(m.minQty)) return { code: -4004, msg: "Quantity less than min quantity." }
  if (q.gt(order.market ? m.marketMaxQty : m.maxQty)) return { code: -4005, msg: "Quantity greater than max quantity." }
  if (!onGrid(q, m.minQty, m.stepSize)) return { code: -1111, msg: "Precision is over the maximum defined for this asset." }
  for (const price of [order.price, order.stopPrice]) {
    if (price === undefined) continue
    if (price.lt(m.minPrice)) return { code: -4013, msg: "Price less than min price." }
    if (price.gt(m.maxPrice)) return { code: -4016, msg: "Price is higher than mark price multiplier cap." }
    if (!onGrid(price, m.minPrice, m.tickSize)) return { code: -4014, msg: "Price not increased by tick size." }
  }
  if (order.price !== undefined && mark !== undefined) {
    if (order.side === "BUY" && order.price.gt(mark.times(m.multiplierUp))) return { code: -4016, msg: "Price is higher than mark price multiplier cap." }
    if (order.side === "SELL" && order.price.lt(mark.times(m.multiplierDown))) return { code: -4024, msg: "Price is lower than mark price multiplier floor." }
  }
  const notionalPrice = order.price ?? order.stopPrice ?? mark
  if (!order.reduceOnly && notionalPrice !== undefined && notionalPrice.times(q).lt(m.minNotional)) {
    return { code: -4164, msg: `Order's notional must be no smaller than ${m.minNotional.toFixed()} (unless you choose reduce only).` }
  }
  return undefined
}
