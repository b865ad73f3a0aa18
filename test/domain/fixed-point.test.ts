import { describe, it, expect } from "vitest"
import fc from "fast-check"
import { dec, Decimal } from "../../src/domain/decimal.js"
import { decimalToScaled, FixedPointCode, parseScaled, parseScaledRange, scaledToDecimal, scaledToText } from "../../src/domain/fixed-point.js"

describe("fixed-point scaling of decimal text", () => {
  it("scales plain, exponent and padded text exactly", () => {
    expect(parseScaled("34981.5", 1)).toBe(349815)
    expect(parseScaled("34981.5", 4)).toBe(349815000)
    expect(parseScaled("0.0005", 4)).toBe(5)
    expect(parseScaled("5e-4", 4)).toBe(5)
    expect(parseScaled("5E+2", 0)).toBe(500)
    expect(parseScaled("1.50000000000000000000000000", 1)).toBe(15)
    expect(parseScaled("0", 8)).toBe(0)
    expect(parseScaled("-0", 8)).toBe(0)
    expect(parseScaled(".5", 1)).toBe(5)
  })

  it("refuses text that the scale cannot hold exactly, with a code and not a rounded value", () => {
    expect(parseScaled("34981.55", 1)).toBe(FixedPointCode.TooPrecise)
    expect(parseScaled("1e-9", 8)).toBe(FixedPointCode.TooPrecise)
    expect(parseScaled("9007199254740992", 0)).toBe(FixedPointCode.TooLarge)
    expect(parseScaled("9007199254740991", 0)).toBe(9007199254740991)
    expect(parseScaled("90071992547409.92", 3)).toBe(FixedPointCode.TooLarge)
    expect(parseScaled("1e30", 0)).toBe(FixedPointCode.TooLarge)
    expect(parseScaled("-1", 0)).toBe(FixedPointCode.Negative)
    for (const bad of ["", ".", "-", "1e", "1e+", "abc", "NaN", "Infinity", "1.2.3", " 1", "1 ", "0x10", "1_000"]) {
      expect(parseScaled(bad, 2), bad).toBe(FixedPointCode.Malformed)
    }
  })

  it("reads only the given range of a longer text", () => {
    const text = `{"price":34981.5,"qty":12}`
    expect(parseScaledRange(text, 9, 16, 1)).toBe(349815)
    expect(parseScaledRange(text, 23, 25, 0)).toBe(12)
  })

  it("agrees with Decimal on any decimal text: exact units when they fit, a refusal otherwise", () => {
    const text = fc
      .tuple(fc.stringMatching(/^[0-9]{1,18}$/), fc.option(fc.stringMatching(/^[0-9]{1,20}$/), { nil: undefined }), fc.option(fc.integer({ min: -25, max: 25 }), { nil: undefined }))
      .map(([int, frac, exp]) => `${int}${frac === undefined ? "" : "." + frac}${exp === undefined ? "" : "e" + exp}`)
    fc.assert(
      fc.property(text, fc.integer({ min: 0, max: 15 }), (t, decimals) => {
        const got = parseScaled(t, decimals)
        const exact = new Decimal(t).times(new Decimal(10).pow(decimals))
        if (!exact.isInteger()) expect(got).toBe(FixedPointCode.TooPrecise)
        else if (exact.greaterThan(Number.MAX_SAFE_INTEGER)) expect(got === FixedPointCode.TooLarge).toBe(true)
        else if (got >= 0) expect(String(got)).toBe(exact.toFixed())
        else {
          // Only refusal allowed for a value that fits: a mantissa wider than 2^53 before its exponent shrinks it.
          expect(got).toBe(FixedPointCode.TooLarge)
          expect(t.replace(".", "").replace(/e.*$/, "").replace(/^0+/, "").replace(/0+$/, "").length).toBeGreaterThan(15)
        }
      }),
      { numRuns: 3000 }
    )
  })

  it("round-trips units through text and Decimal", () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), fc.integer({ min: 0, max: 15 }), (units, decimals) => {
        const text = scaledToText(units, decimals)
        expect(parseScaled(text, decimals)).toBe(units)
        expect(decimalToScaled(scaledToDecimal(units, decimals), decimals)).toBe(units)
        expect(scaledToDecimal(units, decimals).equals(new Decimal(units).dividedBy(new Decimal(10).pow(decimals)))).toBe(true)
      })
    )
    expect(scaledToText(349815, 1)).toBe("34981.5")
    expect(scaledToText(5, 4)).toBe("0.0005")
    expect(scaledToText(1200, 2)).toBe("12")
  })

  it("takes Decimals on the same terms as text", () => {
    expect(decimalToScaled(dec("34981.5"), 1)).toBe(349815)
    expect(decimalToScaled(dec("34981.55"), 1)).toBe(FixedPointCode.TooPrecise)
    expect(decimalToScaled(dec("-1"), 1)).toBe(FixedPointCode.Negative)
    expect(decimalToScaled(new Decimal(Number.NaN), 1)).toBe(FixedPointCode.Malformed)
    expect(decimalToScaled(dec("1e20"), 0)).toBe(FixedPointCode.TooLarge)
  })
})

describe("Decimal to scaled units from decimal.js's limbs", () => {
  // The Decimal arithmetic `decimalToScaled` used before its limb fast path: the oracle.
  const viaArithmetic = (value: Decimal, decimals: number): number => {
    if (!value.isFinite()) return FixedPointCode.Malformed
    if (value.isZero()) return 0
    if (value.isNegative()) return FixedPointCode.Negative
    const scaled = value.times(new Decimal(10).pow(decimals))
    if (!scaled.isInteger()) return FixedPointCode.TooPrecise
    if (scaled.greaterThan(Number.MAX_SAFE_INTEGER)) return FixedPointCode.TooLarge
    return scaled.toNumber()
  }

  it("gives the units the Decimal arithmetic gives, for any value and scale", () => {
    const text = fc
      .tuple(fc.constantFrom("", "", "-"), fc.stringMatching(/^[0-9]{1,18}$/), fc.stringMatching(/^[0-9]{0,18}$/), fc.integer({ min: -20, max: 20 }))
      .map(([sign, int, frac, exp]) => `${sign}${int}${frac.length > 0 ? "." + frac : ""}e${exp}`)
    fc.assert(
      fc.property(text, fc.integer({ min: 0, max: 12 }), (t, decimals) => {
        const d = dec(t)
        expect(decimalToScaled(d, decimals)).toBe(viaArithmetic(d, decimals))
      }),
      { numRuns: 5000 }
    )
  })
})
