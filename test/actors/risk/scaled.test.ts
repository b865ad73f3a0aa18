import { createRequire } from "node:module"
import { readFileSync } from "node:fs"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { Decimal } from "../../../src/domain/decimal.js"
import { PriceLevels } from "../../../src/actors/risk/price-levels.js"
import { NOT_EXACT, toUnits } from "../../../src/actors/risk/scaled.js"

describe("toUnits", () => {
  it("runs on exactly the decimal.js version pinned in package.json, whose internal layout it reads", () => {
    const pkg = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { dependencies: Record<string, string> }
    const installed = (createRequire(import.meta.url)("decimal.js/package.json") as { version: string }).version
    // An exact pin, not a range: a new decimal.js is taken on purpose, with this file's property test.
    expect(pkg.dependencies["decimal.js"]).toMatch(/^\d+\.\d+\.\d+$/)
    expect(installed).toBe(pkg.dependencies["decimal.js"])
  })

  it("gives the same integer as decimal.js arithmetic, or NOT_EXACT when the value is off the scale", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 18n }), fc.integer({ min: -12, max: 12 }), fc.integer({ min: 0, max: 12 }), (mantissa, exp, decimals) => {
        const value = new Decimal(mantissa.toString()).times(new Decimal(10).pow(exp))
        const scaled = value.times(new Decimal(10).pow(decimals))
        const expected = scaled.isInteger() && scaled.lessThanOrEqualTo(Number.MAX_SAFE_INTEGER) ? scaled.toNumber() : NOT_EXACT
        expect(toUnits(value, decimals)).toBe(expected)
      }),
      { numRuns: 3_000 }
    )
  })

  it("refuses negative, infinite and NaN values", () => {
    expect(toUnits(new Decimal("-1"), 2)).toBe(NOT_EXACT)
    expect(toUnits(new Decimal(Infinity), 2)).toBe(NOT_EXACT)
    expect(toUnits(new Decimal(NaN), 2)).toBe(NOT_EXACT)
    expect(toUnits(new Decimal("0.0005"), 4)).toBe(5)
  })
})

describe("PriceLevels", () => {
  it("always reports the best of the prices still resting, like a sorted multiset", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 30 })), { maxLength: 400 }), (ops) => {
        const bids = new PriceLevels("bid")
        const asks = new PriceLevels("ask")
        const model: number[] = []
        for (const [add, p] of ops) {
          if (add || !model.includes(p)) {
            model.push(p)
            bids.add(p)
            asks.add(p)
          } else {
            model.splice(model.indexOf(p), 1)
            bids.remove(p)
            asks.remove(p)
          }
          expect(bids.best()).toBe(model.length === 0 ? undefined : Math.max(...model))
          expect(asks.best()).toBe(model.length === 0 ? undefined : Math.min(...model))
        }
      }),
      { numRuns: 200 }
    )
  })
})
