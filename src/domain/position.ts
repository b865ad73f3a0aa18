import { Data, Either } from "effect"
import { Decimal, ZERO } from "./decimal.js"
import { signedQuantity, type Fill } from "./fill.js"
import type { InstrumentId } from "./ids.js"
import { isInverse, type Instrument } from "./instrument.js"

/**
 * A netting position in one instrument, linear or inverse.
 *
 * Linear (PF_, FF_): PnL in the quote currency, qty × contractSize × (exit − entry).
 * Inverse (PI_, FI_): the contract is worth `contractSize` units of the quote currency (1 USD for
 * PI_XBTUSD) and PnL is in the base currency, qty × contractSize × (1/entry − 1/exit).
 *
 * Exactness: the position keeps the exact signed entry cost and derives the average entry from
 * it. For a linear contract the cost of a fill is qty × price, a finite decimal. For an inverse
 * one it is the fill's value in the base currency, qty × contractSize / price, which is rarely a
 * finite decimal: it is rounded ONCE per fill, half-even, to COST_DECIMALS (`inverseValue`), and
 * the same rounded value is used for the entry cost and the realized PnL of that fill. The other
 * rounded number is the cost taken off when reducing by part of the position (COST_DECIMALS,
 * half-even); the same amount leaves the cost and enters realized PnL, so realized + unrealized
 * always equals the mark-to-market of the (rounded) cash flows exactly. Against exact rational
 * arithmetic, realized PnL is off by at most 0.5e-18 per rounding: two per fill at most
 * (`test/domain/inverse-pnl.property.test.ts` checks it with BigInt fractions).
 */
export interface Position {
  readonly instrumentId: InstrumentId
  readonly contractSize: Decimal
  /** True for inverse contracts: entry cost, PnL and fees are in the base currency. */
  readonly inverse?: boolean
  /** Signed contracts: + long, - short, 0 flat. */
  readonly quantity: Decimal
  /**
   * Signed cost of the open quantity at entry (same sign as quantity; 0 when flat): Σ qty × price
   * for linear, Σ qty × contractSize / price (base currency, rounded per fill) for inverse.
   */
  readonly entryCost: Decimal
  /** Average entry price of the open quantity (harmonic for inverse); 0 when flat. Derived, for display and risk. */
  readonly avgEntryPrice: Decimal
  /** Closed-trade PnL net of all fees paid (NautilusTrader's convention), in the settlement currency. */
  readonly realizedPnl: Decimal
  /** All fees paid on this position's fills (negative = net rebate); already inside realizedPnl. */
  readonly fees: Decimal
  readonly fillCount: number
}

/** Decimals kept in the entry cost: far below any venue's tick * lot, and small enough that sums stay exact at 40 digits. */
export const COST_DECIMALS = 18

/** Decimals of a displayed average entry price when it is a quotient (10, half-even). */
export const AVG_PRICE_DECIMALS = 10

export const flatPosition = (instrumentId: InstrumentId, contractSize: Decimal, inverse = false): Position => ({
  instrumentId,
  contractSize,
  ...(inverse ? { inverse: true } : {}),
  quantity: ZERO,
  entryCost: ZERO,
  avgEntryPrice: ZERO,
  realizedPnl: ZERO,
  fees: ZERO,
  fillCount: 0
})

export class PositionUnsupported extends Data.TaggedError("PositionUnsupported")<{ readonly instrumentId: string; readonly reason: string }> {}

/** A flat position of the instrument's kind (linear or inverse). Never Left today; kept for kinds to come. */
export const positionFor = (instrument: Instrument): Either.Either<Position, PositionUnsupported> =>
  Either.right(flatPosition(instrument.id, instrument.contractSize, isInverse(instrument.kind)))

/**
 * Value of `qty` inverse contracts at `price` in the base currency: qty × contractSize / price,
 * rounded half-even to COST_DECIMALS. The one place 1/price is rounded.
 */
export const inverseValue = (qty: Decimal, contractSize: Decimal, price: Decimal): Decimal =>
  qty.times(contractSize).dividedBy(price).toDecimalPlaces(COST_DECIMALS, Decimal.ROUND_HALF_EVEN)

/** The entry cost of `qty` contracts at `price` (see Position.entryCost). */
const costOf = (position: Position, qty: Decimal, price: Decimal): Decimal =>
  position.inverse === true ? inverseValue(qty, position.contractSize, price) : qty.times(price)

/** PnL of closing `closed` (signed like the position) whose entry cost was `removedCost`, at `price`. */
const closingPnl = (position: Position, closed: Decimal, removedCost: Decimal, price: Decimal): Decimal =>
  position.inverse === true
    ? removedCost.minus(inverseValue(closed, position.contractSize, price))
    : closed.times(price).minus(removedCost).times(position.contractSize)

/** Average entry: cost / qty for linear, qty × contractSize / cost (harmonic) for inverse; 0 when flat. */
export const averageEntry = (position: Pick<Position, "inverse" | "contractSize">, entryCost: Decimal, quantity: Decimal): Decimal => {
  if (quantity.isZero() || entryCost.isZero()) return ZERO
  return position.inverse === true ? quantity.times(position.contractSize).dividedBy(entryCost) : entryCost.dividedBy(quantity)
}

/** The position with `qty` open at average entry `avgPrice` (reconciliation: the venue's numbers); realized PnL kept. */
export const withOpen = (position: Position, qty: Decimal, avgPrice: Decimal): Position => {
  const entryCost = qty.isZero() || avgPrice.isZero() ? ZERO : costOf(position, qty, avgPrice)
  return { ...position, quantity: qty, entryCost, avgEntryPrice: qty.isZero() ? ZERO : avgPrice }
}

/**
 * Applies one fill: increases, reduces, closes, or flips through zero (closes, then opens the
 * rest on the other side at the fill price). The caller guarantees the fill is for this
 * instrument, validated, not a duplicate, and its fee is in the settlement currency.
 */
export const applyFill = (position: Position, fill: Fill): Position => {
  const next = trade(position, signedQuantity(fill), fill.price)
  return { ...next, realizedPnl: next.realizedPnl.minus(fill.fee), fees: position.fees.plus(fill.fee), fillCount: position.fillCount + 1 }
}

/** The position after trading `s` (signed) contracts at `price`, fees aside. */
const trade = (position: Position, s: Decimal, price: Decimal): Position => {
  const q = position.quantity
  let quantity = q
  let entryCost = position.entryCost
  let realized = position.realizedPnl

  let opening = s
  if (!q.isZero() && q.isNegative() !== s.isNegative()) {
    // Closing `closed` (signed like q) of the open quantity at the price.
    const closesAll = s.abs().greaterThanOrEqualTo(q.abs())
    const closed = closesAll ? q : s.negated()
    const removedCost = closesAll ? entryCost : entryCost.times(closed).dividedBy(q).toDecimalPlaces(COST_DECIMALS, Decimal.ROUND_HALF_EVEN)
    realized = realized.plus(closingPnl(position, closed, removedCost, price))
    quantity = q.minus(closed)
    entryCost = entryCost.minus(removedCost)
    opening = s.plus(closed)
  }
  if (!opening.isZero()) {
    quantity = quantity.plus(opening)
    entryCost = entryCost.plus(costOf(position, opening, price))
  }
  return { ...position, quantity, entryCost, avgEntryPrice: averageEntry(position, entryCost, quantity), realizedPnl: realized }
}

/**
 * A dated contract settled by the venue at `price`: the whole open quantity is closed at the
 * settlement price (no fee: the venue charges none in the simulator's model), its PnL moves to
 * realized, and the position is flat. Pure, so the live portfolio and a fold of the journal agree.
 */
export const settlePosition = (position: Position, price: Decimal): Position =>
  position.quantity.isZero() ? position : trade(position, position.quantity.negated(), price)

/**
 * PnL of the open quantity at `mark`, computed from the exact cost: qty × contractSize × (mark −
 * avg entry) for linear; entry cost − qty × contractSize / mark (base currency) for inverse.
 */
export const unrealizedPnl = (position: Position, mark: Decimal): Decimal =>
  position.inverse === true
    ? position.quantity.isZero()
      ? ZERO
      : position.entryCost.minus(inverseValue(position.quantity, position.contractSize, mark))
    : position.quantity.times(mark).minus(position.entryCost).times(position.contractSize)

export const totalPnl = (position: Position, mark: Decimal): Decimal => position.realizedPnl.plus(unrealizedPnl(position, mark))

export const isFlat = (position: Position): boolean => position.quantity.isZero()
