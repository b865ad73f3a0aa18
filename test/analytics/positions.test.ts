import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { applyFill, divRoundHalfEven, type PositionState } from "../../src/analytics/positions.js"

// Units: qty and price in 10^-9, money in 10^-18.
const U = 1_000_000_000n
const q = (n: number): bigint => BigInt(Math.round(n * 1000)) * (U / 1000n)

describe("average-entry position netting", () => {
  it("an add moves the average entry and realizes nothing", () => {
    const s: PositionState = { qty: 0n, cost: 0n }
    expect(applyFill(s, q(2), q(100))).toBe(0n)
    expect(applyFill(s, q(1), q(103))).toBe(0n)
    // basis 2×100 + 1×103 = 303
    expect(s).toEqual({ qty: q(3), cost: 303n * U * U })
  })

  it("a reduce realizes against the average entry and keeps it", () => {
    const s: PositionState = { qty: q(3), cost: 303n * U * U }
    // 1.5 × 104 − 303 × 1.5/3 = 156 − 151.5 = 4.5
    expect(applyFill(s, -q(1.5), q(104))).toBe(45n * U * U / 10n)
    expect(s).toEqual({ qty: q(1.5), cost: 1515n * U * U / 10n })
  })

  it("a flip realizes the closed part and opens the rest at the fill price", () => {
    const s: PositionState = { qty: q(1.5), cost: 1515n * U * U / 10n }
    // 1.5 × 98 − 151.5 = −4.5; the remaining −2 opens at 98 → basis −196
    expect(applyFill(s, -q(3.5), q(98))).toBe(-45n * U * U / 10n)
    expect(s).toEqual({ qty: -q(2), cost: -196n * U * U })
  })

  it("divides half to even", () => {
    expect([divRoundHalfEven(5n, 2n), divRoundHalfEven(7n, 2n), divRoundHalfEven(-5n, 2n), divRoundHalfEven(-7n, 2n)]).toEqual([2n, 4n, -2n, -4n])
    expect([divRoundHalfEven(10n, 3n), divRoundHalfEven(11n, 3n), divRoundHalfEven(-11n, 3n), divRoundHalfEven(11n, -3n)]).toEqual([3n, 4n, -4n, -4n])
  })

  it("any path back to flat realizes exactly its cash flow, however the basis was rounded", () => {
    const fill = fc.record({ qty: fc.integer({ min: -5000, max: 5000 }).filter((n) => n !== 0), price: fc.integer({ min: 1, max: 10_000_000 }) })
    fc.assert(
      fc.property(fc.array(fill, { minLength: 1, maxLength: 30 }), fc.integer({ min: 1, max: 10_000_000 }), (fills, closePrice) => {
        const s: PositionState = { qty: 0n, cost: 0n }
        let realized = 0n
        let cash = 0n
        for (const f of fills) {
          // odd units (10^-9 qty × 7, 10^-9 price × 13) so the basis shares do not divide evenly
          const sq = BigInt(f.qty) * 7n
          const p = BigInt(f.price) * 13n
          realized += applyFill(s, sq, p)
          cash -= sq * p
        }
        const p = BigInt(closePrice) * 13n
        const closing = -s.qty
        if (closing !== 0n) {
          realized += applyFill(s, closing, p)
          cash -= closing * p
        }
        expect(s).toEqual({ qty: 0n, cost: 0n })
        expect(realized).toBe(cash)
      }),
      { numRuns: 300 }
    )
  })
})
