import { Data } from "effect"
import { Decimal, ZERO } from "./decimal.js"
import { scaledToText } from "./fixed-point.js"

/**
 * An instrument's price or size grid — whole multiples of a step (tick size 0.5, lot size
 * 0.0001) — and the exact conversion between venue decimals and integer step counts ("ticks",
 * "lots"). The matching engine works on the counts; Decimal and text exist only at its edge.
 *
 * Counts are JS numbers holding exact integers (|n| <= Number.MAX_SAFE_INTEGER), not bigint:
 * prices in ticks and sizes in lots stay far below 2^53 for every real contract (60,000 USD at
 * a 0.5 tick is 120,000 ticks; 10^6 BTC at a 0.0001 lot is 10^10 lots), integer adds and
 * compares on numbers cost nothing, and a bigint would allocate on every operation. Products
 * (notional, fees, PnL) are never taken on counts: they are Decimal, at the edge.
 *
 * A value off the grid is refused with a code, never rounded: `steps` returns the count or a
 * negative `GridCode`, so the hot path does not allocate; `stepsOrError` gives the typed error.
 */
export const GridCode = {
  /** Not a whole multiple of the step (includes more decimals than the step has). */
  OffGrid: -1,
  Negative: -2,
  /** The count would exceed the grid's bound, so it could not be held exactly. */
  TooLarge: -3
} as const
export type GridCode = (typeof GridCode)[keyof typeof GridCode]

export class OffGridError extends Data.TaggedError("OffGridError")<{
  readonly value: string
  readonly step: string
  readonly reason: "offGrid" | "negative" | "tooLarge"
}> {
  override get message(): string {
    return `${this.value} is not a count of steps of ${this.step}: ${this.reason}`
  }
}

const MEMO_SIZE = 4096
const POW10: ReadonlyArray<number> = Array.from({ length: 23 }, (_, k) => 10 ** k)
const WORD = 1e7 // decimal.js holds coefficients in base-10^7 words

/** Digits of a positive integer below 10^7 (a decimal.js word). */
const digitsOf = (w: number): number => (w < 10 ? 1 : w < 100 ? 2 : w < 1e3 ? 3 : w < 1e4 ? 4 : w < 1e5 ? 5 : w < 1e6 ? 6 : 7)

export class StepGrid {
  /** Decimals of the step: values are held as integer units of 10^-dp on the way to a count. */
  readonly dp: number
  /** The step in units of 10^-dp (0.5 -> 5, 0.0001 -> 1). */
  readonly stepUnits: number
  /** Largest count accepted: counts and sums of a few thousand of them stay exact. */
  readonly maxSteps: number
  private readonly ten: Decimal
  private readonly memo = new Map<number, Decimal>()
  private readonly texts = new Map<number, string>()

  constructor(readonly step: Decimal) {
    if (!step.isFinite() || step.lte(0)) throw new Error(`a grid step must be positive, got ${step.toString()}`)
    this.dp = Math.max(0, step.decimalPlaces())
    if (this.dp > 15) throw new Error(`a grid step has at most 15 decimals, got ${step.toString()}`)
    this.ten = new Decimal(POW10[this.dp] as number)
    const units = step.times(this.ten)
    if (!units.isInteger() || units.gt(Number.MAX_SAFE_INTEGER)) throw new Error(`unsupported grid step ${step.toString()}`)
    this.stepUnits = units.toNumber()
    // 2^40 steps per value leaves 2^13 of headroom for sums (a level's total of 8,192 maximal orders).
    this.maxSteps = Math.min(2 ** 40, Math.floor(Number.MAX_SAFE_INTEGER / this.stepUnits / 2 ** 13))
  }

  /** Integer units of 10^-dp, or a negative code; exact (decimal.js's documented `d`/`e`/`s` fields, no float). */
  private units(value: Decimal): number {
    const d = value.d as number[] | null | undefined
    if (d === null || d === undefined) return GridCode.OffGrid // NaN, Infinity
    if (d.length === 1 && d[0] === 0) return 0
    if (value.s < 0) return GridCode.Negative
    if (d.length > 2) return this.slowUnits(value)
    const w0 = d[0] as number
    const c = d.length === 1 ? w0 : w0 * WORD + (d[1] as number) // < 10^14: exact
    const k = digitsOf(w0) + (d.length - 1) * 7
    const shift = value.e - k + 1 + this.dp
    if (shift >= 0) {
      if (shift > 22) return GridCode.TooLarge
      const u = c * (POW10[shift] as number)
      return u > Number.MAX_SAFE_INTEGER ? GridCode.TooLarge : u
    }
    if (-shift > 15) return GridCode.OffGrid // c < 10^14 has no factor 10^15
    const div = POW10[-shift] as number
    return c % div === 0 ? c / div : GridCode.OffGrid
  }

  private slowUnits(value: Decimal): number {
    const scaled = value.times(this.ten)
    if (!scaled.isInteger()) return GridCode.OffGrid
    if (scaled.gt(Number.MAX_SAFE_INTEGER)) return GridCode.TooLarge
    return scaled.toNumber()
  }

  /** The count of steps in `value` (>= 0), or a negative `GridCode`. */
  steps(value: Decimal): number {
    const u = this.units(value)
    if (u < 0) return u
    if (u % this.stepUnits !== 0) return GridCode.OffGrid
    const n = u / this.stepUnits
    return n > this.maxSteps ? GridCode.TooLarge : n
  }

  stepsOrError(value: Decimal): number | OffGridError {
    const n = this.steps(value)
    if (n >= 0) return n
    return new OffGridError({ value: value.toString(), step: this.step.toString(), reason: n === GridCode.Negative ? "negative" : n === GridCode.TooLarge ? "tooLarge" : "offGrid" })
  }

  /** Canonical text of a count (trailing zeros dropped): 120001 ticks of 0.5 -> "60000.5". */
  text(steps: number): string {
    const hit = this.texts.get(steps)
    if (hit !== undefined) return hit
    const units = steps * this.stepUnits
    const text = units < 0 ? `-${scaledToText(-units, this.dp)}` : scaledToText(units, this.dp)
    if (this.texts.size >= MEMO_SIZE) this.texts.clear()
    this.texts.set(steps, text)
    return text
  }

  /**
   * The Decimal of a count. Decimals are immutable, and a market repeats a few sizes and prices
   * over and over, so they are memoized (bounded; cleared when full): decimal.js takes a few
   * microseconds to parse text, a Map lookup tens of nanoseconds.
   */
  decimal(steps: number): Decimal {
    if (steps === 0) return ZERO
    const hit = this.memo.get(steps)
    if (hit !== undefined) return hit
    if (this.memo.size >= MEMO_SIZE) this.memo.clear()
    const d = new Decimal(this.text(steps))
    this.memo.set(steps, d)
    return d
  }
}
