import { Either, FastCheck as fc } from "effect"
import { describe, expect, it } from "vitest"
import { Decimal, parseDecimal, plainDecimal } from "../../src/domain/decimal.js"

const fields = (d: Decimal) => ({ s: d.s, e: d.e, d: d.d })

// Plain decimal text as venues write it, including the odd corners: signs, leading and trailing
// zeros, a bare point on either side, negative zero, long runs of digits across limb boundaries.
const digitsArb = fc.string({ unit: fc.constantFrom("0", "0", "0", "1", "2", "5", "9"), minLength: 0, maxLength: 30 })
const plainTextArb = fc
  .tuple(fc.constantFrom("", "-", "+"), digitsArb, fc.boolean(), digitsArb)
  .map(([sign, int, dot, frac]) => `${sign}${int}${dot ? "." : ""}${dot ? frac : ""}`)
  .filter((t) => /\d/.test(t))

describe("plain decimal text to Decimal", () => {
  it("builds exactly the Decimal decimal.js builds from the same text, sign, exponent and limbs", () => {
    fc.assert(
      fc.property(plainTextArb, (text) => {
        const fast = plainDecimal(text)
        expect(fast).toBeDefined()
        expect(fields(fast as Decimal)).toEqual(fields(new Decimal(text)))
        expect((fast as Decimal).toString()).toBe(new Decimal(text).toString())
      }),
      { numRuns: 2000 }
    )
  })

  it("agrees on hand-picked limb boundaries and zeros", () => {
    for (const text of ["0", "-0", "0.0", "-.0", "7.", ".5", "1234567", "12345678", "0.1234567", "0.00000001", "1000000.0000001", "-64012.30", "+3", "0000123.4500"]) {
      expect(fields(plainDecimal(text) as Decimal)).toEqual(fields(new Decimal(text)))
    }
  })

  it("leaves text with an exponent or anything else to the full parser", () => {
    for (const text of ["1e5", "1.5E-3", "", "-", ".", "1.2.3", "0x10", " 1", "1 ", "NaN", "Infinity", "1_000"]) expect(plainDecimal(text)).toBeUndefined()
    expect(Either.getOrThrow(parseDecimal("1.5E-3")).toString()).toBe("0.0015")
    expect(Either.isLeft(parseDecimal("1.2.3"))).toBe(true)
    expect(Either.isLeft(parseDecimal("."))).toBe(true)
  })

  it("gives Decimals that compute like any other", () => {
    const a = plainDecimal("64012.3") as Decimal
    expect(a.plus(new Decimal("0.7")).toString()).toBe("64013")
    expect(a.eq(new Decimal("64012.300"))).toBe(true)
    expect(a).toBeInstanceOf(Decimal)
  })
})
