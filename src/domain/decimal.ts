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
  const plain = plainDecimal(text)
  if (plain !== undefined) return Either.right(plain)
  if (!DECIMAL_TEXT.test(text)) return Either.left(new DecimalParseError({ input: text, reason: "not plain decimal text" }))
  return Either.right(new Decimal(text))
}

const LOG_BASE = 7
const POW10 = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000]

/**
 * Text without an exponent (`-64012.30`, `.5`, `7.`) straight to a Decimal in one pass over the
 * characters, or undefined for anything else (the regex and decimal.js's own parser decide those).
 * decimal.js's string constructor costs ~0.8 µs (a regex, `replace`, `slice`s and a string per
 * limb); market data parses several per message. The result is the value decimal.js builds from
 * the same text, field for field: sign `s`, base-10 exponent `e`, base-1e7 limbs `d` without
 * trailing zeros (test/domain/decimal.test.ts checks it against `new Decimal(text)`). Text of at
 * most 80 characters cannot reach decimal.js's exponent limits.
 */
export const plainDecimal = (text: string): Decimal | undefined => plainDigits(text, 0, text.length, charAt)

/** `plainDecimal` of ASCII bytes `start..stop` (msgpack string bytes), without making the text. */
export const plainDecimalAscii = (bytes: Uint8Array, start: number, stop: number): Decimal | undefined => plainDigits(bytes, start, stop, byteAt)

const charAt = (text: string, i: number): number => text.charCodeAt(i)
const byteAt = (bytes: Uint8Array, i: number): number => bytes[i] as number

const plainDigits = <T>(text: T, from: number, n: number, code: (t: T, i: number) => number): Decimal | undefined => {
  if (from >= n) return undefined
  let k = from
  let s = 1
  const c0 = code(text, from)
  if (c0 === 45) {
    s = -1
    k = 1
  } else if (c0 === 43) k = 1
  // Pass 1: validate, find the point and the first and last non-zero digits (as digit indices).
  let digits = 0
  let point = -1
  let first = -1
  let last = -1
  for (let i = k; i < n; i++) {
    const c = code(text, i)
    if (c >= 48 && c <= 57) {
      if (c !== 48) {
        if (first < 0) first = digits
        last = digits
      }
      digits++
    } else if (c === 46 && point < 0) point = digits
    else return undefined
  }
  if (digits === 0) return undefined
  if (point < 0) point = digits
  const x = new Decimal(0)
  // decimal.js's fields are readonly in its types only; the constructor above set them in this order.
  const fields = x as unknown as { s: number; e: number; d: Array<number> }
  fields.s = s
  if (first < 0) return x
  const e = point - first - 1
  // Pass 2: the significant digits into limbs; the first limb holds (e + 1) mod 7 digits.
  let size = (e + 1) % LOG_BASE
  if (e < 0) size += LOG_BASE
  if (size === 0) size = LOG_BASE
  const d: Array<number> = []
  let limb = 0
  let count = 0
  let index = 0
  for (let i = k; i < n && index <= last; i++) {
    const c = code(text, i)
    if (c === 46) continue
    if (index++ < first) continue
    limb = limb * 10 + (c - 48)
    if (++count === size) {
      d.push(limb)
      limb = 0
      count = 0
      size = LOG_BASE
    }
  }
  if (count > 0) d.push(limb * (POW10[size - count] as number))
  fields.e = e
  fields.d = d
  return x
}

/** For literals in code and tests: throws on bad text, so never use it on external input. */
export const dec = (text: string | number): Decimal => {
  if (typeof text === "number" && !Number.isSafeInteger(text)) {
    throw new Error(`dec(): only safe integers may be given as numbers, got ${text}`)
  }
  return new Decimal(text)
}

export const isDecimal = (u: unknown): u is Decimal => DecimalJs.isDecimal(u)
