import { Either } from "effect"
import { Decimal, parseDecimal } from "../../../domain/decimal.js"
import { makeInstrument, type Instrument, type InstrumentKind } from "../../../domain/instrument.js"
import { shapeOf, VenueDecodeError } from "./errors.js"

/**
 * Binance USD-M `GET /fapi/v1/exchangeInfo` → domain `Instrument`s plus the venue's own order
 * limits. Tick from `PRICE_FILTER.tickSize`, lot from `LOT_SIZE.stepSize` (never
 * `pricePrecision`/`quantityPrecision`, which the venue says not to use as tick/step), min and
 * max quantity from `LOT_SIZE`; `MARKET_LOT_SIZE`, `MIN_NOTIONAL`, `PERCENT_PRICE` and
 * `MAX_NUM_ORDERS` are kept beside the instrument for pre-trade checks. A symbol that does not
 * decode or validate is reported, not thrown, and does not stop the others; a contract type we
 * do not trade is skipped with its reason.
 */

export const VENUE = "binance-usdm"

/** The `deliveryDate` Binance gives perpetuals (2100-12-25). */
export const PERPETUAL_DELIVERY = 4133404800000

export interface QtyLimits {
  readonly minQty: Decimal
  readonly maxQty: Decimal
  readonly stepSize: Decimal
}

export interface BinanceInstrument {
  readonly instrument: Instrument
  /** The venue's `status`, e.g. `TRADING`, `SETTLING`, `PENDING_TRADING`. */
  readonly status: string
  readonly contractType: string
  readonly marginAsset: string
  /** `PRICE_FILTER`: 0 disables a bound. */
  readonly minPrice: Decimal
  readonly maxPrice: Decimal
  /** `MARKET_LOT_SIZE`: applies to MARKET orders; absent ⇒ LOT_SIZE applies. */
  readonly marketLot?: QtyLimits
  /** `MIN_NOTIONAL.notional`: price × qty must be at least this (MARKET orders: mark price). */
  readonly minNotional?: Decimal
  /** `PERCENT_PRICE`: BUY price ≤ mark × up, SELL price ≥ mark × down. */
  readonly percentPrice?: { readonly multiplierUp: Decimal; readonly multiplierDown: Decimal }
  /** `MAX_NUM_ORDERS.limit`: open orders per symbol, algo and normal together. */
  readonly maxOrders?: number
  readonly orderTypes: ReadonlyArray<string>
  readonly timeInForce: ReadonlyArray<string>
  /** Dated contracts only (ms). */
  readonly deliveryDate?: number
}

export interface InstrumentsLoad {
  readonly instruments: ReadonlyArray<BinanceInstrument>
  readonly skipped: ReadonlyArray<{ readonly symbol: string; readonly reason: string }>
  readonly errors: ReadonlyArray<VenueDecodeError>
}

class Bad {
  constructor(readonly reason: string) {}
}

type Obj = Readonly<Record<string, unknown>>

const isObj = (u: unknown): u is Obj => typeof u === "object" && u !== null && !Array.isArray(u)

const str = (o: Obj, key: string): string => {
  const v = o[key]
  if (typeof v !== "string") throw new Bad(`${key} is not a string`)
  return v
}

const optStr = (o: Obj, key: string): string | undefined => (typeof o[key] === "string" ? (o[key] as string) : undefined)

const decimal = (o: Obj, key: string): Decimal => {
  const v = o[key]
  // Binance sends decimals as strings; a JSON number would already be a float: refuse it.
  if (typeof v !== "string") throw new Bad(`${String(o["filterType"] ?? "")}${o["filterType"] === undefined ? "" : "."}${key} is not a decimal string`)
  const d = parseDecimal(v)
  if (Either.isLeft(d) || !d.right.isFinite() || d.right.isNegative()) throw new Bad(`${key} ${JSON.stringify(v.slice(0, 40))} is not a non-negative decimal`)
  return d.right
}

const strings = (o: Obj, key: string): ReadonlyArray<string> => {
  const v = o[key]
  if (v === undefined) return []
  if (!Array.isArray(v) || !v.every((x) => typeof x === "string")) throw new Bad(`${key} is not a list of strings`)
  return v as ReadonlyArray<string>
}

const kindOf = (contractType: string): InstrumentKind | undefined => {
  switch (contractType) {
    case "PERPETUAL":
    case "TRADIFI_PERPETUAL":
      return "linearPerpetual"
    case "CURRENT_MONTH":
    case "NEXT_MONTH":
    case "CURRENT_QUARTER":
    case "NEXT_QUARTER":
      return "linearFuture"
    default:
      return undefined
  }
}

const qtyLimits = (f: Obj): QtyLimits => ({ minQty: decimal(f, "minQty"), maxQty: decimal(f, "maxQty"), stepSize: decimal(f, "stepSize") })

/** One symbol entry; throws `Bad` (caught by `mapExchangeInfo`) or returns a skip reason. */
const mapSymbol = (e: Obj): BinanceInstrument | { readonly skip: string } | VenueDecodeError => {
  const symbol = str(e, "symbol")
  const contractType = optStr(e, "contractType") ?? ""
  const kind = kindOf(contractType)
  if (kind === undefined) return { skip: `contractType ${JSON.stringify(contractType)} is not a contract we trade` }
  const status = str(e, "status")
  const filters = e["filters"]
  if (!Array.isArray(filters)) throw new Bad("filters is not a list")
  const byType = new Map<string, Obj>()
  for (const f of filters) if (isObj(f) && typeof f["filterType"] === "string") byType.set(f["filterType"], f)
  const price = byType.get("PRICE_FILTER")
  const lot = byType.get("LOT_SIZE")
  if (price === undefined || lot === undefined) throw new Bad("PRICE_FILTER or LOT_SIZE missing")
  const tickSize = decimal(price, "tickSize")
  const lotLimits = qtyLimits(lot)
  const market = byType.get("MARKET_LOT_SIZE")
  const notional = byType.get("MIN_NOTIONAL")
  const percent = byType.get("PERCENT_PRICE")
  const maxNum = byType.get("MAX_NUM_ORDERS")
  const lotSize = lotLimits.stepSize
  // The domain wants maxQty on the lot grid and minQty at least one lot.
  const minQty = lotLimits.minQty.isZero() ? lotSize : lotLimits.minQty
  const maxQty = lotSize.isZero() ? lotLimits.maxQty : lotLimits.maxQty.dividedToIntegerBy(lotSize).times(lotSize)
  const made = makeInstrument({
    id: `${VENUE}:${symbol}`,
    kind,
    base: str(e, "baseAsset"),
    quote: str(e, "quoteAsset"),
    tickSize,
    lotSize,
    minQty,
    maxQty,
    contractSize: new Decimal(1),
    tradable: status === "TRADING"
  })
  if (Either.isLeft(made)) return new VenueDecodeError({ source: "rest/exchangeInfo", reason: made.left.message, shape: shapeOf(e) })
  const limit = maxNum?.["limit"]
  if (maxNum !== undefined && (typeof limit !== "number" || !Number.isSafeInteger(limit) || limit < 0)) throw new Bad("MAX_NUM_ORDERS.limit is not a count")
  const delivery = e["deliveryDate"]
  return {
    instrument: made.right,
    status,
    contractType,
    marginAsset: optStr(e, "marginAsset") ?? str(e, "quoteAsset"),
    minPrice: decimal(price, "minPrice"),
    maxPrice: decimal(price, "maxPrice"),
    ...(market === undefined ? {} : { marketLot: qtyLimits(market) }),
    ...(notional === undefined ? {} : { minNotional: decimal(notional, "notional") }),
    ...(percent === undefined ? {} : { percentPrice: { multiplierUp: decimal(percent, "multiplierUp"), multiplierDown: decimal(percent, "multiplierDown") } }),
    ...(typeof limit === "number" ? { maxOrders: limit } : {}),
    orderTypes: strings(e, "orderTypes"),
    timeInForce: strings(e, "timeInForce"),
    ...(kind === "linearFuture" && typeof delivery === "number" && delivery !== PERPETUAL_DELIVERY ? { deliveryDate: delivery } : {})
  }
}

/** The whole `exchangeInfo` reply (parsed JSON) → instruments, skips and per-symbol errors. */
export const mapExchangeInfo = (reply: unknown): InstrumentsLoad => {
  if (!isObj(reply) || !Array.isArray(reply["symbols"])) {
    return { instruments: [], skipped: [], errors: [new VenueDecodeError({ source: "rest/exchangeInfo", reason: "no symbols list", shape: shapeOf(reply) })] }
  }
  const instruments: Array<BinanceInstrument> = []
  const skipped: Array<{ symbol: string; reason: string }> = []
  const errors: Array<VenueDecodeError> = []
  for (const raw of reply["symbols"] as ReadonlyArray<unknown>) {
    if (!isObj(raw)) {
      errors.push(new VenueDecodeError({ source: "rest/exchangeInfo", reason: "symbol entry is not an object", shape: shapeOf(raw) }))
      continue
    }
    try {
      const r = mapSymbol(raw)
      if (r instanceof VenueDecodeError) errors.push(r)
      else if ("skip" in r) skipped.push({ symbol: typeof raw["symbol"] === "string" ? raw["symbol"] : "?", reason: r.skip })
      else instruments.push(r)
    } catch (e) {
      if (!(e instanceof Bad)) throw e
      const symbol = typeof raw["symbol"] === "string" ? raw["symbol"].slice(0, 40) : "?"
      errors.push(new VenueDecodeError({ source: "rest/exchangeInfo", reason: `${symbol}: ${e.reason}`, shape: shapeOf(raw) }))
    }
  }
  return { instruments, skipped, errors }
}
