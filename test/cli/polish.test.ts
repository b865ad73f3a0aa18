import fc from "fast-check"
import { Decimal } from "../../src/domain/decimal.js"
import { describe, expect, it } from "vitest"
import { atPrecision } from "../../src/cli/table.js"
import { closest, didYouMean } from "../../src/domain/did-you-mean.js"

describe("numbers for people and names typed wrong", () => {
  it("a decimal printed at the instrument's precision rounds half away from zero, exactly", () => {
    expect(atPrecision("60009.000000000000000000000000000001", 1)).toBe("60009.0")
    expect(atPrecision("-0.1010014", 5)).toBe("-0.10100")
    expect(atPrecision("-0.000001", 2)).toBe("0.00")
    expect(atPrecision("0.95", 1)).toBe("1.0")
    expect(atPrecision("12", 2)).toBe("12.00")
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 8 }), (units, scale, places) => {
        const text = new Decimal(units.toString()).div(new Decimal(10).pow(scale)).toFixed()
        expect(atPrecision(text, places)).toBe(new Decimal(text).toDecimalPlaces(places, Decimal.ROUND_HALF_UP).toFixed(places).replace(/^-(0\.?0*)$/, "$1"))
      })
    )
  })

  it("did-you-mean offers the close names, closest first, and nothing for a name far from all", () => {
    expect(didYouMean("mm-xbtt", ["mm-xbt", "mm-eth", "mm-sol"])).toBe(" — did you mean mm-xbt?")
    expect(didYouMean("stauts", ["status", "actors", "strategy"])).toBe(" — did you mean status?")
    expect(closest("mm-", ["mm-xbt", "mm-eth", "pairs"])).toEqual(["mm-eth", "mm-xbt"])
    expect(didYouMean("zzzzzz", ["status", "actors"])).toBe("")
  })
})
