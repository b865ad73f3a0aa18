import { Either, ParseResult, Schema } from "effect"
import { Decimal } from "../../../domain/decimal.js"
import { makeInstrument, type Instrument, type InstrumentKind } from "../../../domain/instrument.js"
import { shapeOf, VenueDecodeError } from "./errors.js"
import { InstrumentEntry } from "./rest-replies.js"

/**
 * Kraken's `instruments` list → domain `Instrument`s. Tick comes from `tickSize`; lot is
 * 10^-contractValueTradePrecision (4 ⇒ 0.0001, -2 ⇒ 100). Index entries (`spot index`) are not
 * tradeable and are skipped; an entry that does not decode or validate is reported, not thrown,
 * and does not stop the others.
 */

export const VENUE = "kraken-futures"

export interface KrakenInstrument {
  readonly instrument: Instrument
  /** The venue's own `type`, e.g. `flexible_futures`. */
  readonly venueType: string
  readonly postOnly: boolean
  readonly lastTradingTime?: string
}

export interface InstrumentsLoad {
  readonly instruments: ReadonlyArray<KrakenInstrument>
  readonly skipped: ReadonlyArray<{ readonly symbol: string; readonly reason: string }>
  readonly errors: ReadonlyArray<VenueDecodeError>
}

const MAX_QTY_DEFAULT = new Decimal("1e9")

/** `contractValueTradePrecision` when an entry lacks it: whole contracts. */
export const DEFAULT_TRADE_PRECISION = 0

/** Lot size from `contractValueTradePrecision`: the number of decimals allowed in `size`. */
export const lotFromPrecision = (precision: number): Decimal => new Decimal(10).pow(-precision)

const kindOf = (type: string, dated: boolean): InstrumentKind | undefined => {
  switch (type) {
    case "flexible_futures":
      return dated ? "linearFuture" : "linearPerpetual"
    case "futures_inverse":
      return dated ? "inverseFuture" : "inversePerpetual"
    case "futures_vanilla":
      return "linearFuture"
    default:
      return undefined
  }
}

// PF_XBTUSD, PI_ETHUSD, FI_XBTUSD_230929: the pair is the second part, quote its last 3 letters.
const pairOf = (symbol: string): { base: string; quote: string } | undefined => {
  const pair = symbol.split("_")[1]
  if (pair === undefined || pair.length < 4) return undefined
  return { base: pair.slice(0, -3), quote: pair.slice(-3) }
}

const decodeEntry = Schema.decodeUnknownEither(InstrumentEntry, { onExcessProperty: "ignore" })

export const mapInstruments = (entries: ReadonlyArray<unknown>): InstrumentsLoad => {
  const instruments: Array<KrakenInstrument> = []
  const skipped: Array<{ symbol: string; reason: string }> = []
  const errors: Array<VenueDecodeError> = []
  for (const raw of entries) {
    const decoded = decodeEntry(raw)
    if (Either.isLeft(decoded)) {
      errors.push(new VenueDecodeError({ source: "rest/instruments", reason: ParseResult.TreeFormatter.formatErrorSync(decoded.left).slice(0, 300), shape: shapeOf(raw) }))
      continue
    }
    const e = decoded.right
    const dated = e.lastTradingTime !== undefined && e.lastTradingTime !== null
    const kind = kindOf(e.type, dated)
    if (kind === undefined) {
      skipped.push({ symbol: e.symbol, reason: `type ${e.type} is not a tradeable contract` })
      continue
    }
    const pair = e.base != null && e.quote != null ? { base: e.base, quote: e.quote } : pairOf(e.symbol)
    if (e.tickSize == null || pair === undefined) {
      skipped.push({ symbol: e.symbol, reason: "missing tickSize or pair" })
      continue
    }
    const expiry = dated ? Date.parse(e.lastTradingTime as string) : undefined
    if (expiry !== undefined && !Number.isSafeInteger(expiry)) {
      errors.push(new VenueDecodeError({ source: "rest/instruments", reason: `lastTradingTime ${JSON.stringify(String(e.lastTradingTime).slice(0, 40))} is not a time`, shape: shapeOf(raw) }))
      continue
    }
    // Older replies (and inverse contracts) lack the field: the venue trades whole contracts then.
    const lot = lotFromPrecision(e.contractValueTradePrecision ?? DEFAULT_TRADE_PRECISION)
    const made = makeInstrument({
      id: `${VENUE}:${e.symbol.toUpperCase()}`,
      kind,
      base: pair.base,
      quote: pair.quote,
      tickSize: e.tickSize,
      lotSize: lot,
      minQty: lot,
      maxQty: MAX_QTY_DEFAULT.dividedToIntegerBy(lot).times(lot).greaterThan(0) ? MAX_QTY_DEFAULT.dividedToIntegerBy(lot).times(lot) : lot,
      contractSize: e.contractSize ?? new Decimal(1),
      tradable: e.tradeable,
      ...(expiry === undefined ? {} : { expiry })
    })
    if (Either.isLeft(made)) {
      errors.push(new VenueDecodeError({ source: "rest/instruments", reason: made.left.message, shape: shapeOf(raw) }))
      continue
    }
    instruments.push({
      instrument: made.right,
      venueType: e.type,
      postOnly: e.postOnly ?? false,
      ...(dated && e.lastTradingTime != null ? { lastTradingTime: e.lastTradingTime } : {})
    })
  }
  return { instruments, skipped, errors }
}
