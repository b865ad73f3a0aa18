import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { Decimal } from "../../src/domain/decimal.js"
import { GridCode, OffGridError, StepGrid } from "../../src/domain/step-grid.js"

/** The definition, on Decimal only: a count when value / step is a whole number. */
const reference = (grid: StepGrid, value: Decimal): number => {
  if (value.isNeg() && !value.isZero()) return GridCode.Negative
  const q = value.div(grid.step)
  if (!q.isInteger()) return GridCode.OffGrid
  return q.gt(grid.maxSteps) ? GridCode.TooLarge : q.toNumber()
}

const steps = ["0.5", "0.1", "0.0001", "1", "25", "0.0005", "0.01", "0.25", "0.000001"]

describe("step grid", () => {
  it("converts a decimal to a count of steps exactly as value / step would, or refuses it", () => {
    const value = fc.oneof(
      // On the grid: k steps, written in many ways (trailing zeros, exponent forms come from Decimal itself).
      fc.tuple(fc.constantFrom(...steps), fc.integer({ min: 0, max: 2 ** 41 })).map(([s, k]) => ({ step: s, value: new Decimal(s).times(k) })),
      // Anywhere: digits and a decimal point, positive or negative.
      fc.tuple(fc.constantFrom(...steps), fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }), fc.integer({ min: 0, max: 24 })).map(([s, m, dp]) => ({ step: s, value: new Decimal(m.toString()).div(new Decimal(10).pow(dp)) }))
    )
    fc.assert(
      fc.property(value, ({ step, value }) => {
        const grid = new StepGrid(new Decimal(step))
        const n = grid.steps(value)
        const want = reference(grid, value)
        // Beyond the bound, "too large" may win over "off grid": both are refusals.
        if (want === GridCode.OffGrid && n === GridCode.TooLarge) expect(value.gt(grid.step.times(grid.maxSteps))).toBe(true)
        else expect(n).toBe(want)
        if (n >= 0) expect(grid.decimal(n).eq(value)).toBe(true)
      }),
      { numRuns: 3000 }
    )
  })

  it("writes counts back as canonical decimal text", () => {
    const grid = new StepGrid(new Decimal("0.5"))
    expect([grid.text(120001), grid.text(0), grid.text(1), grid.text(-3)]).toEqual(["60000.5", "0", "0.5", "-1.5"])
    expect(new StepGrid(new Decimal("0.0001")).text(12)).toBe("0.0012")
  })

  it("refuses off-grid input with a typed error that names the value and the step", () => {
    const grid = new StepGrid(new Decimal("0.5"))
    const e = grid.stepsOrError(new Decimal("100.25"))
    expect(e).toBeInstanceOf(OffGridError)
    expect(e).toMatchObject({ _tag: "OffGridError", value: "100.25", step: "0.5", reason: "offGrid" })
    expect(grid.stepsOrError(new Decimal("-1"))).toMatchObject({ reason: "negative" })
    expect(grid.stepsOrError(new Decimal("1e30"))).toMatchObject({ reason: "tooLarge" })
    expect(grid.stepsOrError(new Decimal("100.5"))).toBe(201)
  })
})
