import { Data, Either } from "effect"
import { Decimal, parseDecimal } from "./decimal.js"
import { MAX_DECIMALS } from "./fixed-point.js"
import { parseInstrumentId, venueOf, symbolOf, type InstrumentId, type VenueId } from "./ids.js"

/**
 * What is traded and in which units. Linear contracts settle in the quote currency
 * (PnL = qty * contractSize * (exit - entry)); inverse ones settle in the base currency
 * (PnL = qty * contractSize * (1/entry - 1/exit)), e.g. Kraken's PI_XBTUSD. The contract value
 * is `contractSize` units of `contractValueCurrency`: the base for linear (PF_XBTUSD: 1 XBT),
 * the quote for inverse (PI_XBTUSD: 1 USD). Futures (`linearFuture`, `inverseFuture`) with an
 * `expiry` stop trading then and are settled by the venue (see `settlePosition`).
 */
export type InstrumentKind = "linearPerpetual" | "inversePerpetual" | "linearFuture" | "inverseFuture" | "spot"

export const isInverse = (kind: InstrumentKind): boolean => kind === "inversePerpetual" || kind === "inverseFuture"

export interface Instrument {
  readonly id: InstrumentId
  readonly venue: VenueId
  readonly symbol: string
  readonly kind: InstrumentKind
  readonly base: string
  readonly quote: string
  /** Prices are whole multiples of this. */
  readonly tickSize: Decimal
  /** Quantities are whole multiples of this (contracts for futures). */
  readonly lotSize: Decimal
  readonly minQty: Decimal
  readonly maxQty: Decimal
  readonly contractSize: Decimal
  readonly tradable: boolean
  /** Decimal places of tickSize: the scale of the book's exact integer prices. */
  readonly priceDecimals: number
  /** Decimal places of lotSize: the scale of the book's exact integer quantities. */
  readonly qtyDecimals: number
  /** Dated futures: the venue's last trading time (epoch ms); absent for perpetuals. */
  readonly expiry?: number
}

/** The raw description, as read from config or the venue's instrument list. Decimals may be text. */
export interface InstrumentSpec {
  readonly id: string
  readonly kind: InstrumentKind
  readonly base: string
  readonly quote: string
  readonly tickSize: Decimal | string
  readonly lotSize: Decimal | string
  readonly minQty: Decimal | string
  readonly maxQty: Decimal | string
  readonly contractSize: Decimal | string
  readonly tradable: boolean
  /** Last trading time of a dated future, epoch ms. */
  readonly expiry?: number
}

export class InstrumentInvalid extends Data.TaggedError("InstrumentInvalid")<{
  readonly instrumentId: string
  readonly field: keyof InstrumentSpec
  readonly input: string
  readonly reason: string
}> {
  override get message(): string {
    return `instrument ${this.instrumentId}: ${this.field} ${JSON.stringify(this.input.slice(0, 64))} ${this.reason}`
  }
}

const CURRENCY = /^[A-Za-z0-9]{1,16}$/
const KINDS: ReadonlyArray<InstrumentKind> = ["linearPerpetual", "inversePerpetual", "linearFuture", "inverseFuture", "spot"]

export const makeInstrument = (spec: InstrumentSpec): Either.Either<Instrument, InstrumentInvalid> => {
  const invalid = (field: keyof InstrumentSpec, input: unknown, reason: string) =>
    Either.left(new InstrumentInvalid({ instrumentId: spec.id, field, input: String(input), reason }))
  const id = parseInstrumentId(spec.id)
  if (Either.isLeft(id)) return invalid("id", spec.id, id.left.reason)
  if (!KINDS.includes(spec.kind)) return invalid("kind", spec.kind, `is not one of ${KINDS.join(", ")}`)
  if (!CURRENCY.test(spec.base)) return invalid("base", spec.base, "is not a currency code")
  if (!CURRENCY.test(spec.quote)) return invalid("quote", spec.quote, "is not a currency code")

  const decimals: Partial<Record<"tickSize" | "lotSize" | "minQty" | "maxQty" | "contractSize", Decimal>> = {}
  for (const field of ["tickSize", "lotSize", "minQty", "maxQty", "contractSize"] as const) {
    const raw = spec[field]
    const value = typeof raw === "string" ? parseDecimal(raw) : Either.right(raw)
    if (Either.isLeft(value)) return invalid(field, raw, value.left.reason)
    if (!value.right.isFinite()) return invalid(field, raw, "is not finite")
    const positive = field === "minQty" ? !value.right.isNegative() : value.right.greaterThan(0)
    if (!positive) return invalid(field, raw, field === "minQty" ? "must not be negative" : "must be positive")
    decimals[field] = value.right
  }
  const tickSize = decimals.tickSize as Decimal
  const lotSize = decimals.lotSize as Decimal
  const minQty = decimals.minQty as Decimal
  const maxQty = decimals.maxQty as Decimal
  if (tickSize.decimalPlaces() > MAX_DECIMALS) return invalid("tickSize", tickSize, `has more than ${MAX_DECIMALS} decimals`)
  if (lotSize.decimalPlaces() > MAX_DECIMALS) return invalid("lotSize", lotSize, `has more than ${MAX_DECIMALS} decimals`)
  if (!minQty.modulo(lotSize).isZero()) return invalid("minQty", minQty, "is not a multiple of lotSize")
  if (!maxQty.modulo(lotSize).isZero()) return invalid("maxQty", maxQty, "is not a multiple of lotSize")
  if (maxQty.lessThan(minQty)) return invalid("maxQty", maxQty, "is below minQty")
  if (spec.expiry !== undefined && !(Number.isSafeInteger(spec.expiry) && spec.expiry > 0)) return invalid("expiry", spec.expiry, "is not epoch milliseconds")

  return Either.right({
    id: id.right,
    venue: venueOf(id.right),
    symbol: symbolOf(id.right),
    kind: spec.kind,
    base: spec.base,
    quote: spec.quote,
    tickSize,
    lotSize,
    minQty,
    maxQty,
    contractSize: decimals.contractSize as Decimal,
    tradable: spec.tradable,
    priceDecimals: tickSize.decimalPlaces(),
    qtyDecimals: lotSize.decimalPlaces(),
    ...(spec.expiry === undefined ? {} : { expiry: spec.expiry })
  })
}

export const isOnTick = (instrument: Instrument, price: Decimal): boolean => price.isFinite() && price.modulo(instrument.tickSize).isZero()

export const isOnLot = (instrument: Instrument, qty: Decimal): boolean => qty.isFinite() && qty.modulo(instrument.lotSize).isZero()

/** How to round onto the grid: a buy limit rounds down and a sell limit up to stay passive; "nearest" is half-even. */
export type Rounding = "down" | "up" | "nearest"

const roundTo = (value: Decimal, step: Decimal, rounding: Rounding): Decimal => {
  const mode = rounding === "down" ? Decimal.ROUND_FLOOR : rounding === "up" ? Decimal.ROUND_CEIL : Decimal.ROUND_HALF_EVEN
  return value.dividedBy(step).toDecimalPlaces(0, mode).times(step)
}

export const roundToTick = (instrument: Instrument, price: Decimal, rounding: Rounding = "nearest"): Decimal => roundTo(price, instrument.tickSize, rounding)

/** Quantities default to rounding down: never trade more than asked. */
export const roundToLot = (instrument: Instrument, qty: Decimal, rounding: Rounding = "down"): Decimal => roundTo(qty, instrument.lotSize, rounding)

/** Whole ticks in `price`, or undefined when it is off the grid or beyond an exact JS integer. */
export const priceToTicks = (instrument: Instrument, price: Decimal): number | undefined => {
  const ticks = price.dividedBy(instrument.tickSize)
  return ticks.isInteger() && ticks.abs().lessThanOrEqualTo(Number.MAX_SAFE_INTEGER) ? ticks.toNumber() : undefined
}

export const ticksToPrice = (instrument: Instrument, ticks: number): Decimal => instrument.tickSize.times(ticks)

/** The currency PnL, fees and settlement are paid in: the base for inverse contracts, else the quote. */
export const settlementCurrency = (instrument: Instrument): string => (isInverse(instrument.kind) ? instrument.base : instrument.quote)

/** The currency of the contract value (`contractSize` units of it): the quote for inverse, else the base. */
export const contractValueCurrency = (instrument: Instrument): string => (isInverse(instrument.kind) ? instrument.quote : instrument.base)

/** Whether a dated contract has stopped trading at `now` (epoch ms); perpetuals never do. */
export const isExpired = (instrument: Instrument, now: number): boolean => instrument.expiry !== undefined && now >= instrument.expiry

/**
 * Notional of `qty` contracts in the quote currency (USD): |qty| × contractSize × price for linear
 * contracts, |qty| × contractSize for inverse ones (their contract value is fixed in the quote).
 */
export const notionalQuote = (instrument: Instrument, qty: Decimal, price: Decimal): Decimal =>
  isInverse(instrument.kind) ? qty.abs().times(instrument.contractSize) : qty.abs().times(instrument.contractSize).times(price)

/** Notional value of `qty` contracts at `price` in the settlement currency (quote for linear, base for inverse). */
export const notional = (instrument: Instrument, qty: Decimal, price: Decimal): Decimal =>
  isInverse(instrument.kind) ? qty.abs().times(instrument.contractSize).dividedBy(price) : qty.abs().times(instrument.contractSize).times(price)
