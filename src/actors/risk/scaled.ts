import type { Decimal } from "../../domain/decimal.js"

/**
 * Decimal → exact integer units without a Decimal operation: the risk check converts every
 * intent's price and quantity, and one decimal.js division costs more than the whole check's
 * budget. decimal.js keeps a value as base-1e7 words `d` (the first without leading zeros),
 * the base-10 exponent `e` of its first digit, and the sign `s`; the digits of the words,
 * read as one integer N with D digits, give value = N × 10^(e − D + 1).
 * The property test in test/actors/risk/scaled.test.ts holds this to decimal.js arithmetic.
 * That layout is not a public contract, so decimal.js is pinned to an exact version in
 * package.json (the test checks the installed one): an upgrade is taken on purpose, with that
 * test. Doing without the internals (through `toFixed()`) was measured at +50% on the whole
 * risk check (bench risk.check p50 about 0.65 → 1.0 µs), see docs/architecture.md.
 */
interface DecimalInternals {
  readonly d: ReadonlyArray<number> | null
  readonly e: number
  readonly s: number
}

/** Returned when the value is not a whole number of units, is negative, not finite or too large. */
export const NOT_EXACT = -1

const POW10: ReadonlyArray<number> = Array.from({ length: 23 }, (_, k) => 10 ** k)

const digitsOf = (w: number): number =>
  w < 10 ? 1 : w < 100 ? 2 : w < 1_000 ? 3 : w < 10_000 ? 4 : w < 100_000 ? 5 : w < 1_000_000 ? 6 : 7

/** `value × 10^decimals` as a safe non-negative integer, or NOT_EXACT. */
export const toUnits = (value: Decimal, decimals: number): number => {
  const x = value as unknown as DecimalInternals
  const d = x.d
  if (d === null || x.s < 0) return NOT_EXACT
  const len = d.length
  // Trailing zeros of the last word are not significant: drop them so N has only significant digits.
  let last = d[len - 1] as number
  if (last === 0) return 0
  let tz = 0
  while (last % 10 === 0) {
    last /= 10
    tz++
  }
  let n = 0
  for (let i = 0; i < len - 1; i++) {
    n = n * 1e7 + (d[i] as number)
    if (n > Number.MAX_SAFE_INTEGER) return NOT_EXACT
  }
  n = len === 1 ? last : n * (POW10[7 - tz] as number) + last
  if (n > Number.MAX_SAFE_INTEGER) return NOT_EXACT
  const total = digitsOf(d[0] as number) + 7 * (len - 1) - tz
  const k = x.e - total + 1 + decimals
  if (k >= 0) {
    if (k > 22) return NOT_EXACT
    const r = n * (POW10[k] as number)
    return r <= Number.MAX_SAFE_INTEGER ? r : NOT_EXACT
  }
  if (-k > 22) return NOT_EXACT
  const p = POW10[-k] as number
  return n % p === 0 ? n / p : NOT_EXACT
}
