import { Decimal as DecimalJs } from "decimal.js"
import { Data, Either } from "effect"

/**
 * Money and quantities are decimal.js values, never JS floats. One configured constructor
 * for the whole system so precision and rounding are the same everywhere.
 */
export const Decimal = DecimalJs.clone({ precision: 40, rounding: DecimalJs.ROUND_HALF_EVEN, toExpNeg: -30, toExpPos: 40 })
export type Decimal = InstanceType<typeof Decimal>

export const ZERO: Decimal = new Decimal(0)
export const ONE: Decimal = new Decimal(1)

export class DecimalParseError extends Data.TaggedError("DecimalParseError")<{
  readonly input: string
  readonly reason: string
}> {
  override get message(): string {
    return `not a decimal number: ${JSON.stringify(this.input.slice(0, 64))} (${this.reason})`
  }
}

// Plain decimal text as venues send it: optional sign, digits, optional fraction, optional exponent.
const DECIMAL_TEXT = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/

/** Parses decimal text exactly (no float on the way). NaN, Infinity, hex and blanks are rejected. */
export const parseDecimal = (text: string): Either.Either<Decimal, DecimalParseError> => {
  if (text.length === 0 || text.length > 80) {
    return Either.left(new DecimalParseError({ input: text, reason: text.length === 0 ? "empty" : "too long" }))
  }
  if (!DECIMAL_TEXT.test(text)) return Either.left(new DecimalParseError({ input: text, reason: "not plain decimal text" }))
  return Either.right(new Decimal(text))
}

/** For literals in code and tests: throws on bad text, so never use it on external input. */
export const dec = (text: string | number): Decimal => {
  if (typeof text === "number" && !Number.isSafeInteger(text)) {
    throw new Error(`dec(): only safe integers may be given as numbers, got ${text}`)
  }
  return new Decimal(text)
}

export const isDecimal = (u: unknown): u is Decimal => DecimalJs.isDecimal(u)
