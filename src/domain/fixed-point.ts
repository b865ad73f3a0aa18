import { Data } from "effect"
import { Decimal } from "./decimal.js"

/**
 * Exact fixed-point: a non-negative decimal value held as a JS integer count of units of
 * 10^-decimals ("34981.5" at 1 decimal is 349815). The hot path (the L2 book) compares and
 * stores these integers; text is scaled digit by digit, never through a float, so the result
 * is exact or the input is refused with a code. Codes are negative numbers so one return value
 * carries either the units or the reason, without allocating on the hot path.
 */
export const FixedPointCode = {
  Malformed: -1,
  /** More significant decimals than the scale holds (trailing zeros beyond it are fine). */
  TooPrecise: -2,
  /** The scaled value is above Number.MAX_SAFE_INTEGER, so it could not be held exactly. */
  TooLarge: -3,
  Negative: -4
} as const
export type FixedPointCode = (typeof FixedPointCode)[keyof typeof FixedPointCode]

/** 10^15 < 2^53 < 10^16: with more decimals than this, one unit of the integer part would not be safe. */
export const MAX_DECIMALS = 15

// Every power of ten up to 1e22 is exactly representable as a double.
const POW10: ReadonlyArray<number> = Array.from({ length: 23 }, (_, k) => 10 ** k)
const pow10 = (k: number): number => POW10[k] as number

export class FixedPointError extends Data.TaggedError("FixedPointError")<{
  readonly input: string
  readonly decimals: number
  readonly reason: "malformed" | "tooPrecise" | "tooLarge" | "negative"
}> {
  override get message(): string {
    return `cannot hold ${JSON.stringify(this.input.slice(0, 64))} exactly at ${this.decimals} decimals: ${this.reason}`
  }
}

export const fixedPointError = (code: FixedPointCode, input: string, decimals: number): FixedPointError =>
  new FixedPointError({
    input,
    decimals,
    reason: code === FixedPointCode.TooPrecise ? "tooPrecise" : code === FixedPointCode.TooLarge ? "tooLarge" : code === FixedPointCode.Negative ? "negative" : "malformed"
  })

/**
 * Scales the ASCII digits in `bytes[start, end)` by 10^decimals. Accepts plain decimal text
 * with an optional sign and exponent (`34981.5`, `0.0005`, `5e-4`, `+12`); JSON numbers are a
 * subset. Returns the units (>= 0) or a negative `FixedPointCode`. Bytes, because indexing a
 * Uint8Array costs about a third of String#charCodeAt, and venue frames arrive as bytes anyway.
 */
export const parseScaledBytes = (bytes: Uint8Array, start: number, end: number, decimals: number): number => {
  let i = start
  if (i >= end) return FixedPointCode.Malformed
  let c = bytes[i] as number
  let negative = false
  if (c === 45 /* - */ || c === 43 /* + */) {
    negative = c === 45
    i++
  }
  let m = 0 // the significant digits as an integer; exact while <= MAX_SAFE_INTEGER
  let digits = 0
  let fractionDigits = 0 // decimals held in m
  let overflow = false
  while (i < end && (c = bytes[i] as number) >= 48 && c <= 57) {
    m = m * 10 + (c - 48)
    digits++
    i++
  }
  if (i < end && c === 46 /* . */) {
    i++
    // Zeros are only folded into m when a non-zero digit follows, so "1.50000000000000000000" stays small.
    let zeros = 0
    while (i < end && (c = bytes[i] as number) >= 48 && c <= 57) {
      if (c === 48) zeros++
      else if (zeros >= 22) overflow = true
      else {
        m = m * pow10(zeros + 1) + (c - 48)
        fractionDigits += zeros + 1
        zeros = 0
      }
      digits++
      i++
    }
  }
  if (digits === 0) return FixedPointCode.Malformed
  let exponent = 0
  if (i < end && (c === 101 || c === 69) /* e E */) {
    i++
    let expNegative = false
    c = i < end ? (bytes[i] as number) : -1
    if (c === 45 || c === 43) {
      expNegative = c === 45
      i++
    }
    let expDigits = 0
    while (i < end && (c = bytes[i] as number) >= 48 && c <= 57) {
      if (exponent < 10_000) exponent = exponent * 10 + (c - 48)
      expDigits++
      i++
    }
    if (expDigits === 0) return FixedPointCode.Malformed
    if (expNegative) exponent = -exponent
  }
  if (i !== end) return FixedPointCode.Malformed
  if (overflow) return FixedPointCode.TooPrecise
  if (m === 0) return 0
  if (negative) return FixedPointCode.Negative
  const shift = decimals + exponent - fractionDigits
  // Float rounding is monotonic, so a true m above 2^53 never computes back below it. Folded
  // fraction digits end in a non-zero digit, so with a negative shift the value is too precise.
  if (m > Number.MAX_SAFE_INTEGER) return shift < 0 && fractionDigits > 0 ? FixedPointCode.TooPrecise : FixedPointCode.TooLarge
  if (shift >= 0) {
    if (shift > 22) return FixedPointCode.TooLarge
    const units = m * pow10(shift)
    return units > Number.MAX_SAFE_INTEGER ? FixedPointCode.TooLarge : units
  }
  // m < 2^53 < 10^16, so it cannot be a multiple of 10^16 or more.
  if (-shift > 15) return FixedPointCode.TooPrecise
  const divisor = pow10(-shift)
  return m % divisor === 0 ? m / divisor : FixedPointCode.TooPrecise
}

const scratch = new Uint8Array(256)

/** The text form of parseScaledBytes, for `text.slice(start, end)`; non-ASCII text is malformed. */
export const parseScaledRange = (text: string, start: number, end: number, decimals: number): number => {
  const length = end - start
  if (length <= 0) return FixedPointCode.Malformed
  const bytes = length <= scratch.length ? scratch : new Uint8Array(length)
  for (let k = 0; k < length; k++) {
    const c = text.charCodeAt(start + k)
    if (!(c < 128)) return FixedPointCode.Malformed
    bytes[k] = c
  }
  return parseScaledBytes(bytes, 0, length, decimals)
}

export const parseScaled = (text: string, decimals: number): number => parseScaledRange(text, 0, text.length, decimals)

/** Canonical text of `units` at `decimals`, trailing fractional zeros dropped: (349815, 1) -> "34981.5". */
export const scaledToText = (units: number, decimals: number): string => {
  const digits = String(units)
  if (decimals === 0) return digits
  const padded = digits.length <= decimals ? "0".repeat(decimals - digits.length + 1) + digits : digits
  const cut = padded.length - decimals
  let end = padded.length
  while (end > cut && padded.charCodeAt(end - 1) === 48) end--
  return end === cut ? padded.slice(0, cut) : `${padded.slice(0, cut)}.${padded.slice(cut, end)}`
}

export const scaledToDecimal = (units: number, decimals: number): Decimal => new Decimal(scaledToText(units, decimals))

/** The Decimal path into fixed point: units or a negative `FixedPointCode`, like the text path. */
export const decimalToScaled = (value: Decimal, decimals: number): number => {
  const fast = limbsToScaled(value, decimals)
  if (fast !== undefined) return fast
  if (!value.isFinite()) return FixedPointCode.Malformed
  if (value.isZero()) return 0
  if (value.isNegative()) return FixedPointCode.Negative
  const scaled = value.times(pow10(decimals))
  if (!scaled.isInteger()) return FixedPointCode.TooPrecise
  if (scaled.greaterThan(Number.MAX_SAFE_INTEGER)) return FixedPointCode.TooLarge
  return scaled.toNumber()
}

const LIMB_POW10 = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000]

/**
 * `decimalToScaled` for the common case — a positive Decimal of at most two base-1e7 limbs (14
 * significant digits) — from decimal.js's fields, without its arithmetic: value = D * 10^(e+1-N)
 * where D is the integer of the N digits the limbs hold. Undefined hands the case to the Decimal
 * path (zero, negative, non-finite, longer values, scale out of range); the property test in
 * test/domain/fixed-point.test.ts checks both give the same answer.
 */
const limbsToScaled = (value: Decimal, decimals: number): number | undefined => {
  const limbs = value.d as ReadonlyArray<number> | null
  if (limbs === null || value.s !== 1 || limbs.length > 2 || decimals < 0 || decimals > 15) return undefined
  const first = limbs[0] as number
  if (first === 0) return undefined
  let width = 1
  while (first >= (LIMB_POW10[width] as number)) width++
  const d = limbs.length === 1 ? first : first * 10_000_000 + (limbs[1] as number)
  const n = limbs.length === 1 ? width : width + 7
  const k = value.e + 1 - n + decimals
  if (k >= 0) {
    if (n + k > 15) return undefined
    return d * 10 ** k
  }
  if (k < -14) return FixedPointCode.TooPrecise
  const div = 10 ** -k
  const q = Math.floor(d / div)
  return q * div === d ? q : FixedPointCode.TooPrecise
}
