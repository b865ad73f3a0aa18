import { Decimal } from "../domain/decimal.js"
import { MAX_DECIMALS, scaledToText } from "../domain/fixed-point.js"

/**
 * The order machine's quantity arithmetic on scaled integers. The context keeps decimal text
 * (exact, JSON-safe, the persisted shape); each computation scales its operands to the most
 * decimals among them, works on safe integers, and writes canonical text back. The results are
 * the Decimal results, digit for digit: when an operand does not fit (exponent notation, more
 * than 15 decimals, beyond 2^53, a sign) the same computation runs on Decimal instead, and the
 * average price uses Decimal unless the fill is at the average already (the common case: every
 * fill of a limit order at its price). test/machines/order.step.test.ts checks both paths
 * against the Decimal formulas.
 */

// Decimal's own text for values of this form: no sign, no leading or trailing zeros, no exponent.
const CANONICAL = /^(?:0|[1-9]\d*)(?:\.\d*[1-9])?$/
// A price this short times an executed quantity below 2^53 (16 digits) stays within Decimal's
// 40 significant digits, so price × executed / executed gives the price back exactly.
const MAX_FAST_PRICE_CHARS = 23

/** What `new Decimal(text).toString()` gives, without a Decimal when the text is already that. */
export const canonical = (text: string): string => (CANONICAL.test(text) ? text : new Decimal(text).toString())

const decimalsOf = (text: string): number => {
  const dot = text.indexOf(".")
  return dot < 0 ? 0 : text.length - dot - 1
}

const POW10: ReadonlyArray<number> = Array.from({ length: 16 }, (_, k) => 10 ** k)

/**
 * Plain digits with at most one dot, scaled to `decimals` (>= the text's own decimals), as a
 * safe integer; -1 for anything else (sign, exponent, too large): the caller then uses Decimal.
 * A direct charCode loop: the domain's general parser copies to bytes first, which costs more
 * than the whole rest of a fill here.
 */
const scaled = (text: string, decimals: number): number => {
  let units = 0
  let fraction = -1
  const n = text.length
  if (n === 0) return -1
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i)
    if (c >= 48 && c <= 57) {
      units = units * 10 + (c - 48)
      if (fraction >= 0) fraction++
    } else if (c === 46 && fraction < 0) fraction = 0
    else return -1
  }
  if (fraction === 0) return -1
  const shift = decimals - (fraction < 0 ? 0 : fraction)
  const out = units * (POW10[shift] as number)
  return Number.isSafeInteger(out) && Number.isSafeInteger(units) ? out : -1
}

export interface FillOutcome {
  readonly filledQty: string
  readonly leavesQty: string
  readonly overfillQty: string
  readonly avgPx: string | null
  /** The fill adds to the overfill (the excess grows). */
  readonly overfills: boolean
  /** Filled reaches the quantity. */
  readonly completes: boolean
}

export interface FillInputs {
  readonly quantity: string
  readonly filledQty: string
  readonly overfillQty: string
  readonly avgPx: string | null
}

const avgPxDecimal = (c: FillInputs, executedBefore: Decimal, executed: Decimal, fillQty: string, fillPx: string): string | null => {
  if (executed.isZero()) return c.avgPx
  const notional = c.avgPx === null ? new Decimal(0) : new Decimal(c.avgPx).times(executedBefore)
  return notional.plus(new Decimal(fillPx).times(fillQty)).div(executed).toString()
}

/** The order machine's original Decimal formulas: the reference, and the path for odd operands. */
export const fillOutcomeDecimal = (c: FillInputs, fillQty: string, fillPx: string): FillOutcome => {
  const qty = new Decimal(c.quantity)
  const executedBefore = new Decimal(c.filledQty).plus(c.overfillQty)
  const executed = executedBefore.plus(fillQty)
  const filled = Decimal.min(qty, executed)
  const excess = executed.minus(filled)
  return {
    filledQty: filled.toString(),
    leavesQty: qty.minus(filled).toString(),
    overfillQty: excess.toString(),
    avgPx: avgPxDecimal(c, executedBefore, executed, fillQty, fillPx),
    overfills: excess.greaterThan(c.overfillQty),
    completes: filled.equals(c.quantity)
  }
}

export const fillOutcome = (c: FillInputs, fillQty: string, fillPx: string): FillOutcome => {
  const d = Math.max(decimalsOf(c.quantity), decimalsOf(c.filledQty), decimalsOf(c.overfillQty), decimalsOf(fillQty))
  if (d > MAX_DECIMALS) return fillOutcomeDecimal(c, fillQty, fillPx)
  const q = scaled(c.quantity, d)
  const f = scaled(c.filledQty, d)
  const o = scaled(c.overfillQty, d)
  const x = scaled(fillQty, d)
  if (q < 0 || f < 0 || o < 0 || x < 0) return fillOutcomeDecimal(c, fillQty, fillPx)
  const before = f + o
  const executed = before + x
  if (!Number.isSafeInteger(executed)) return fillOutcomeDecimal(c, fillQty, fillPx)
  const filled = Math.min(q, executed)
  const excess = executed - filled
  let avgPx: string | null
  if (executed === 0) avgPx = c.avgPx
  else if (fillPx.length <= MAX_FAST_PRICE_CHARS && CANONICAL.test(fillPx) && ((c.avgPx === null && before === 0) || c.avgPx === fillPx)) avgPx = fillPx
  else avgPx = avgPxDecimal(c, new Decimal(scaledToText(before, d)), new Decimal(scaledToText(executed, d)), fillQty, fillPx)
  return {
    filledQty: scaledToText(filled, d),
    leavesQty: scaledToText(q - filled, d),
    overfillQty: scaledToText(excess, d),
    avgPx,
    overfills: excess > o,
    completes: filled === q
  }
}

/** `a > b` on decimal text. */
export const greaterThan = (a: string, b: string): boolean => {
  const d = Math.max(decimalsOf(a), decimalsOf(b))
  if (d <= MAX_DECIMALS) {
    const x = scaled(a, d)
    const y = scaled(b, d)
    if (x >= 0 && y >= 0) return x > y
  }
  return new Decimal(a).greaterThan(b)
}

/** `a - b` on decimal text, as canonical text. */
export const minus = (a: string, b: string): string => {
  const d = Math.max(decimalsOf(a), decimalsOf(b))
  if (d <= MAX_DECIMALS) {
    const x = scaled(a, d)
    const y = scaled(b, d)
    if (x >= 0 && y >= 0 && x >= y) return scaledToText(x - y, d)
  }
  return new Decimal(a).minus(b).toString()
}
