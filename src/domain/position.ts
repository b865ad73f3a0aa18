import { Data, Either } from "effect"
import { Decimal, ZERO } from "./decimal.js"
import { signedQuantity, type Fill } from "./fill.js"
import type { InstrumentId } from "./ids.js"
import { isInverse, type Instrument } from "./instrument.js"

/**
 * A netting position in one linear instrument (PnL in the quote currency).
 *
 * Exactness: the average entry price is a quotient and rarely a finite decimal (3 lots bought
 * for 100 total), so the position keeps the exact signed entry cost (sum of qty * price of the
 * open lots) and derives the average from it. The one rounded number is the cost taken off when
 * reducing by part of the position; it is rounded once, to COST_DECIMALS, and the same rounded
 * amount leaves the cost and enters realized PnL, so realized + unrealized always equals the
 * mark-to-market of the cash flows exactly.
 */
export interface Position {
  readonly instrumentId: InstrumentId
  readonly contractSize: Decimal
  /** Signed contracts: + long, - short, 0 flat. */
  readonly quantity: Decimal
  /** Signed cost of the open quantity at entry (same sign as quantity; 0 when flat). */
  readonly entryCost: Decimal
  /** entryCost / quantity; 0 when flat. Derived, for display and risk; PnL uses entryCost. */
  readonly avgEntryPrice: Decimal
  /** Closed-trade PnL net of all fees paid (NautilusTrader's convention). */
  readonly realizedPnl: Decimal
  /** All fees paid on this position's fills (negative = net rebate); already inside realizedPnl. */
  readonly fees: Decimal
  readonly fillCount: number
}

/** Decimals kept in the entry cost: far below any venue's tick * lot, and small enough that sums stay exact at 40 digits. */
export const COST_DECIMALS = 18

export const flatPosition = (instrumentId: InstrumentId, contractSize: Decimal): Position => ({
  instrumentId,
  contractSize,
  quantity: ZERO,
  entryCost: ZERO,
  avgEntryPrice: ZERO,
  realizedPnl: ZERO,
  fees: ZERO,
  fillCount: 0
})

export class PositionUnsupported extends Data.TaggedError("PositionUnsupported")<{ readonly instrumentId: string; readonly reason: string }> {}

/** Inverse contracts need a harmonic average entry and base-currency PnL; not modelled yet. */
export const positionFor = (instrument: Instrument): Either.Either<Position, PositionUnsupported> =>
  isInverse(instrument.kind)
    ? Either.left(new PositionUnsupported({ instrumentId: instrument.id, reason: "inverse contracts are not supported by the linear position" }))
    : Either.right(flatPosition(instrument.id, instrument.contractSize))

const avgOf = (entryCost: Decimal, quantity: Decimal): Decimal => (quantity.isZero() ? ZERO : entryCost.dividedBy(quantity))

/**
 * Applies one fill: increases, reduces, closes, or flips through zero (closes, then opens the
 * rest on the other side at the fill price). The caller guarantees the fill is for this
 * instrument, validated, not a duplicate, and its fee is in the settlement currency.
 */
export const applyFill = (position: Position, fill: Fill): Position => {
  const q = position.quantity
  const s = signedQuantity(fill)
  const price = fill.price
  let quantity = q
  let entryCost = position.entryCost
  let realized = position.realizedPnl.minus(fill.fee)

  let opening = s
  if (!q.isZero() && q.isNegative() !== s.isNegative()) {
    // Closing `closed` (signed like q) of the open quantity at the fill price.
    const closesAll = s.abs().greaterThanOrEqualTo(q.abs())
    const closed = closesAll ? q : s.negated()
    const removedCost = closesAll ? entryCost : entryCost.times(closed).dividedBy(q).toDecimalPlaces(COST_DECIMALS, Decimal.ROUND_HALF_EVEN)
    realized = realized.plus(closed.times(price).minus(removedCost).times(position.contractSize))
    quantity = q.minus(closed)
    entryCost = entryCost.minus(removedCost)
    opening = s.plus(closed)
  }
  if (!opening.isZero()) {
    quantity = quantity.plus(opening)
    entryCost = entryCost.plus(opening.times(price))
  }
  return {
    instrumentId: position.instrumentId,
    contractSize: position.contractSize,
    quantity,
    entryCost,
    avgEntryPrice: avgOf(entryCost, quantity),
    realizedPnl: realized,
    fees: position.fees.plus(fill.fee),
    fillCount: position.fillCount + 1
  }
}

/** PnL of the open quantity at `mark`: qty * contractSize * (mark - avg entry), computed from the exact cost. */
export const unrealizedPnl = (position: Position, mark: Decimal): Decimal =>
  position.quantity.times(mark).minus(position.entryCost).times(position.contractSize)

export const totalPnl = (position: Position, mark: Decimal): Decimal => position.realizedPnl.plus(unrealizedPnl(position, mark))

export const isFlat = (position: Position): boolean => position.quantity.isZero()
