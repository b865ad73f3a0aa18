import { Data, Either } from "effect"
import { Decimal } from "../../domain/decimal.js"
import { isInverse, type Instrument } from "../../domain/instrument.js"
import { PriceLevels } from "./price-levels.js"
import { NOT_EXACT, toUnits } from "./scaled.js"

/**
 * Risk limits as configured (decimals, in the instrument's and the account's units), and their
 * compiled form: whole lots, whole ticks, lot·ticks and exposure units, so that the check
 * compares integers only. Every compiled limit is rounded toward strictness (floor), which is
 * exact because the compared values are whole numbers of the same units.
 */
export interface InstrumentLimits {
  /** Largest quantity of one order (contracts). */
  readonly maxOrderQty: Decimal
  /** Largest notional of one order in the quote currency (USD): qty × contractSize × price, or qty × contractSize for inverse contracts. */
  readonly maxOrderNotional: Decimal
  /** Fat-finger band: |price − mid| / mid ≤ bps / 10 000. */
  readonly priceBandBps: number
  /** Largest position (either side), counting our open orders on that side. */
  readonly maxPosition: Decimal
  /** Initial margin per unit of notional (0.02 = 50× leverage) for the margin check; default 0.02. */
  readonly initialMarginRate?: Decimal
}

export interface AccountLimits {
  readonly maxGrossExposure: Decimal
  readonly maxNetExposure: Decimal
  readonly maxOpenOrders: number
  /** A loss (realized + unrealized, today) beyond this halts the account. Positive number. */
  readonly dailyLossLimit: Decimal
  /** Decimals of the exposure unit; every instrument's lot × tick × contractSize must fit. Default 6. */
  readonly exposureDecimals?: number
}

export class RiskConfigInvalid extends Data.TaggedError("RiskConfigInvalid")<{ readonly subject: string; readonly reason: string }> {
  override get message(): string {
    return `risk config for ${this.subject}: ${this.reason}`
  }
}

/** An instrument as the risk actor sees it: compiled limits plus incrementally kept aggregates. */
export interface InstrumentRisk {
  readonly instrument: Instrument
  readonly limits: InstrumentLimits
  /** Scale of prices in units (instrument.priceDecimals) and one tick / one lot in units. */
  readonly tickUnits: number
  readonly lotUnits: number
  readonly minLots: number
  readonly maxLots: number
  readonly maxOrderLots: number
  /** maxOrderNotional in lot·ticks (inverse: in lots, the notional does not depend on the price). */
  readonly maxNotionalLotTicks: number
  /** Inverse contract: notional is qty × contract value in the quote currency (USD), whatever the price. */
  readonly inverse: boolean
  readonly bandBps: number
  readonly maxPositionLots: number
  /** Exposure units per lot·tick (lot × tick × contractSize × 10^exposureDecimals); inverse: per lot (lot × contractSize). */
  readonly valuePerLotTick: number
  // --- aggregates, updated by the risk actor on every order event, position and market update
  positionLots: number
  openBuyLots: number
  openSellLots: number
  /** bestBid + bestAsk in ticks (twice the mid, exact), or -1 without a two-sided book. */
  midTicks2: number
  /** Valuation price in ticks (venue mark, else the mid rounded to a tick), or -1. */
  markTicks: number
  readonly ownBids: PriceLevels
  readonly ownAsks: PriceLevels
  /** This instrument's share of the account sums, so a change replaces it in O(1). */
  grossUnits: number
  longUnits: number
  shortUnits: number
}

const floorUnits = (value: Decimal, step: Decimal): number => {
  const n = value.dividedBy(step).floor()
  return n.greaterThan(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : n.toNumber()
}

export const compileInstrument = (
  instrument: Instrument,
  limits: InstrumentLimits,
  exposureDecimals: number
): Either.Either<InstrumentRisk, RiskConfigInvalid> => {
  const bad = (reason: string) => Either.left(new RiskConfigInvalid({ subject: instrument.id, reason }))
  // Notional is in the quote currency (USD): qty × contractSize × price for linear contracts,
  // qty × contractSize for inverse ones (their contract value is fixed in USD).
  const inverse = isInverse(instrument.kind)
  const tickUnits = toUnits(instrument.tickSize, instrument.priceDecimals)
  const lotUnits = toUnits(instrument.lotSize, instrument.qtyDecimals)
  if (tickUnits <= 0 || lotUnits <= 0) return bad("tick or lot size cannot be held in integer units")
  const lotTick = instrument.lotSize.times(inverse ? 1 : instrument.tickSize).times(instrument.contractSize)
  const valuePerLotTick = toUnits(lotTick, exposureDecimals)
  if (valuePerLotTick === NOT_EXACT || valuePerLotTick === 0) {
    return bad(`lot × ${inverse ? "" : "tick × "}contractSize = ${lotTick.toString()} is not a whole number of 1e-${exposureDecimals} exposure units`)
  }
  if (!(Number.isInteger(limits.priceBandBps) && limits.priceBandBps >= 0)) return bad("priceBandBps must be a non-negative integer")
  return Either.right({
    instrument,
    limits,
    tickUnits,
    lotUnits,
    minLots: Math.ceil(instrument.minQty.dividedBy(instrument.lotSize).toNumber()),
    maxLots: floorUnits(instrument.maxQty, instrument.lotSize),
    maxOrderLots: floorUnits(limits.maxOrderQty, instrument.lotSize),
    maxNotionalLotTicks: floorUnits(limits.maxOrderNotional, lotTick),
    inverse,
    bandBps: limits.priceBandBps,
    maxPositionLots: floorUnits(limits.maxPosition, instrument.lotSize),
    valuePerLotTick,
    positionLots: 0,
    openBuyLots: 0,
    openSellLots: 0,
    midTicks2: -1,
    markTicks: -1,
    ownBids: new PriceLevels("bid"),
    ownAsks: new PriceLevels("ask"),
    grossUnits: 0,
    longUnits: 0,
    shortUnits: 0
  })
}

/** Account-wide compiled limits and sums (exposure in units of 10^-exposureDecimals). */
export interface AccountRisk {
  readonly limits: AccountLimits
  readonly exposureDecimals: number
  readonly maxGrossUnits: number
  readonly maxNetUnits: number
  readonly maxOpenOrders: number
  openOrders: number
  grossUnits: number
  /** Σ (position + open buys) × value: the net exposure if every buy filled. */
  netLongUnits: number
  /** Σ (position − open sells) × value: the net exposure if every sell filled. */
  netShortUnits: number
}

export const compileAccount = (limits: AccountLimits): AccountRisk => {
  const exposureDecimals = limits.exposureDecimals ?? 6
  const unit = new Decimal(10).pow(-exposureDecimals)
  return {
    limits,
    exposureDecimals,
    maxGrossUnits: floorUnits(limits.maxGrossExposure, unit),
    maxNetUnits: floorUnits(limits.maxNetExposure, unit),
    maxOpenOrders: limits.maxOpenOrders,
    openOrders: 0,
    grossUnits: 0,
    netLongUnits: 0,
    netShortUnits: 0
  }
}

/** Exposure units of one lot at the mark (inverse: whatever the mark), or -1 without a mark for a linear contract. */
export const lotValue = (r: InstrumentRisk): number => (r.inverse ? r.valuePerLotTick : r.markTicks < 0 ? -1 : r.markTicks * r.valuePerLotTick)

/** Worst-case exposure of one instrument if all buys (long) or all sells (short) fill. */
export const instrumentExposure = (r: InstrumentRisk, buyLots: number, sellLots: number): { gross: number; long: number; short: number } => {
  const v = lotValue(r)
  if (v < 0) return { gross: 0, long: 0, short: 0 }
  const long = (r.positionLots + buyLots) * v
  const short = (r.positionLots - sellLots) * v
  return { gross: Math.max(Math.abs(long), Math.abs(short)), long, short }
}

/** Recomputes the instrument's share after any change of position, open orders or mark. */
export const refreshExposure = (account: AccountRisk, r: InstrumentRisk): void => {
  const e = instrumentExposure(r, r.openBuyLots, r.openSellLots)
  account.grossUnits += e.gross - r.grossUnits
  account.netLongUnits += e.long - r.longUnits
  account.netShortUnits += e.short - r.shortUnits
  r.grossUnits = e.gross
  r.longUnits = e.long
  r.shortUnits = e.short
}

export const lotsToQty = (r: InstrumentRisk, lots: number): Decimal => r.instrument.lotSize.times(lots)
export const ticksToPx = (r: InstrumentRisk, ticks: number): Decimal => r.instrument.tickSize.times(ticks)
export const unitsToMoney = (account: AccountRisk, units: number): Decimal => new Decimal(units).dividedBy(new Decimal(10).pow(account.exposureDecimals))
