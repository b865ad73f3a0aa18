import { describe, expect, it } from "vitest"
import fc from "fast-check"
import { Decimal, dec } from "../../src/domain/decimal.js"
import {
  DAY_MS,
  evaluatePortfolio,
  historicalEs,
  historicalVar,
  measure,
  nextBreach,
  nextBreaker,
  ReturnWindow,
  sampleStd,
  scenarioPnl,
  stress,
  Z,
  type RiskPosition,
  type StressScenario
} from "../../src/domain/portfolio-risk/index.js"

/**
 * VaR/ES against a reference computation in exact decimals (decimal.js, 40 digits), written from
 * the definition in docs/portfolio-risk.md independently of the implementation: losses sorted
 * with a comparator, the type-7 quantile h = (n − 1)·α with linear interpolation, ES the mean of
 * the losses ≥ VaR. Exact on small fixtures (hand-checked numbers), within 1e-9 relative on
 * random ones (the implementation is Float64).
 */
const refVar = (pnl: ReadonlyArray<number>, alpha: number): Decimal => {
  const losses = pnl.map((p) => new Decimal(p).negated()).sort((a, b) => a.comparedTo(b))
  const h = new Decimal(losses.length - 1).times(alpha)
  const lo = h.floor().toNumber()
  const hi = Math.min(lo + 1, losses.length - 1)
  const a = losses[lo] as Decimal
  return a.plus(h.minus(lo).times((losses[hi] as Decimal).minus(a)))
}
const refEs = (pnl: ReadonlyArray<number>, alpha: number): Decimal => {
  const v = refVar(pnl, alpha)
  const tail = pnl.map((p) => new Decimal(p).negated()).filter((l) => l.greaterThanOrEqualTo(v))
  return tail.reduce((s, l) => s.plus(l), new Decimal(0)).dividedBy(tail.length)
}
const close = (actual: number, expected: Decimal, rel = 1e-9): void => {
  const e = expected.toNumber()
  expect(Math.abs(actual - e)).toBeLessThanOrEqual(rel * Math.max(1, Math.abs(e)))
}

describe("historical VaR and ES: small fixtures, exact", () => {
  // Losses 1..10 (pnl −1..−10): h = 9·0.95 = 8.55 → 9 + 0.55·(10 − 9) = 9.55; h = 9·0.99 = 8.91 → 9.91.
  const pnl = [-1, -2, -3, -4, -5, -6, -7, -8, -9, -10]
  it("interpolates between order statistics (type 7)", () => {
    expect(historicalVar(pnl, 0.95)).toBeCloseTo(9.55, 12)
    expect(historicalVar(pnl, 0.99)).toBeCloseTo(9.91, 12)
    expect(refVar(pnl, 0.95).toString()).toBe("9.55")
    expect(refVar(pnl, 0.99).toString()).toBe("9.91")
  })
  it("ES is the mean of the losses at or beyond VaR", () => {
    // Only the loss 10 is ≥ 9.55.
    expect(historicalEs(pnl, 0.95)).toBe(10)
    const flat = [-5, -5, -5, 3, 4]
    // Losses sorted: −4, −3, 5, 5, 5; h = 4·0.95 = 3.8 → 5; ES = mean(5, 5, 5) = 5.
    expect(historicalVar(flat, 0.95)).toBe(5)
    expect(historicalEs(flat, 0.95)).toBe(5)
  })
  it("a book that gains in every interval has a negative VaR", () => {
    expect(historicalVar([1, 2, 3], 0.99)).toBeCloseTo(-1.02, 12)
  })
  it("scales by √(day / interval) and gives parametric figures from the sample σ", () => {
    const hourly = measure(pnl, 3_600_000)
    const k = Math.sqrt(24)
    expect(hourly.var99).toBeCloseTo(9.91 * k, 9)
    expect(hourly.es95).toBeCloseTo(10 * k, 9)
    // σ of 1..10 (n − 1) = √(82.5/9)
    const sigma = Math.sqrt(82.5 / 9)
    expect(sampleStd(pnl)).toBeCloseTo(sigma, 12)
    expect(hourly.parametricVar99).toBeCloseTo(k * Z["0.99"] * sigma, 9)
    expect(hourly.parametricVar95).toBeCloseTo(k * Z["0.95"] * sigma, 9)
    expect(measure(pnl, DAY_MS).var99).toBeCloseTo(9.91, 12)
  })
})

describe("historical VaR and ES: random series against the reference", () => {
  const series = fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true }), { minLength: 1, maxLength: 300 })
  it("VaR and ES at 99 % and 95 % within 1e-9 relative", () => {
    fc.assert(
      fc.property(series, (pnl) => {
        for (const alpha of [0.99, 0.95]) {
          close(historicalVar(pnl, alpha), refVar(pnl, alpha))
          close(historicalEs(pnl, alpha), refEs(pnl, alpha))
        }
        const m = measure(pnl, DAY_MS)
        close(m.var99, refVar(pnl, 0.99))
        close(m.es95, refEs(pnl, 0.95))
      }),
      { numRuns: 300 }
    )
  })
  it("ES ≥ VaR, VaR99 ≥ VaR95, and both are positively homogeneous", () => {
    fc.assert(
      fc.property(series, fc.double({ min: 0.01, max: 100, noNaN: true }), (pnl, c) => {
        const m = measure(pnl, DAY_MS)
        expect(m.es99).toBeGreaterThanOrEqual(m.var99 - 1e-9 * Math.abs(m.var99))
        expect(m.es95).toBeGreaterThanOrEqual(m.var95 - 1e-9 * Math.abs(m.var95))
        expect(m.var99).toBeGreaterThanOrEqual(m.var95 - 1e-9 * Math.abs(m.var95))
        const scaled = measure(
          pnl.map((p) => p * c),
          DAY_MS
        )
        expect(Math.abs(scaled.var99 - c * m.var99)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(c * m.var99)))
      }),
      { numRuns: 200 }
    )
  })
})

describe("the return window", () => {
  it("records one simple return per interval, per instrument, and keeps the newest `capacity`", () => {
    const w = new ReturnWindow({ capacity: 3, intervalMs: 1000 })
    expect(w.observe(0, new Map([["A", 100]]))).toBe(false)
    expect(w.observe(500, new Map([["A", 999]]))).toBe(false) // inside the interval: ignored
    expect(w.observe(1000, new Map([["A", 110]]))).toBe(true)
    expect(w.observe(2000, new Map([["A", 99], ["B", 10]]))).toBe(true) // B first seen: 0
    expect(w.observe(3000, new Map([["A", 99], ["B", 11]]))).toBe(true)
    expect(w.observe(4000, new Map([["A", 198], ["B", 11]]))).toBe(true)
    expect(w.length).toBe(3)
    expect([...(w.returnsOf("A") ?? [])].map((r) => Number(r.toFixed(12)))).toEqual([-0.1, 0, 1])
    expect([...(w.returnsOf("B") ?? [])].map((r) => Number(r.toFixed(12)))).toEqual([0, 0.1, 0])
    // P&L of holding 1000 of A and −500 of B in each kept interval: [−100, −50, 1000] in some order.
    const pnl = [...w.pnlSeries(new Map([["A", 1000], ["B", -500]]))].map((p) => Number(p.toFixed(9))).sort((a, b) => a - b)
    expect(pnl).toEqual([-100, -50, 1000])
  })
  it("incremental equals batch: the P&L series of random marks matches a recomputation from scratch", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.double({ min: 1, max: 1000, noNaN: true }), fc.double({ min: 1, max: 1000, noNaN: true })), { minLength: 2, maxLength: 60 }), fc.integer({ min: 2, max: 20 }), (marks, capacity) => {
        const w = new ReturnWindow({ capacity, intervalMs: 1 })
        marks.forEach(([a, b], t) =>
          w.observe(
            t,
            new Map([
              ["A", a],
              ["B", b]
            ])
          )
        )
        const batch: number[] = []
        for (let t = 1; t < marks.length; t++) {
          const [a0, b0] = marks[t - 1] as [number, number]
          const [a1, b1] = marks[t] as [number, number]
          batch.push(3 * (a1 / a0 - 1) - 2 * (b1 / b0 - 1))
        }
        const kept = batch.slice(-capacity).sort((x, y) => x - y)
        const got = [...w.pnlSeries(new Map([["A", 3], ["B", -2]]))].sort((x, y) => x - y)
        expect(got.length).toBe(kept.length)
        got.forEach((g, i) => expect(Math.abs(g - (kept[i] as number))).toBeLessThan(1e-9))
      }),
      { numRuns: 200 }
    )
  })
})

describe("stress scenarios: each P&L", () => {
  const positions: RiskPosition[] = [
    { instrument: "k:PF_XBTUSD", venue: "kraken-futures", base: "XBT", value: 10_000 },
    { instrument: "k:PF_ETHUSD", venue: "kraken-futures", base: "ETH", value: -4_000 },
    { instrument: "b:SOLUSDT", venue: "binance-usdm", base: "SOL", value: 2_000 }
  ]
  it("uniform: every price −10 %", () => {
    expect(scenarioPnl({ name: "all", kind: "uniform", shock: -0.1 }, positions, 0)).toBeCloseTo(-800, 9)
  })
  it("per asset: BTC −20 %, alts −30 % (instrument id before base asset before `otherwise`)", () => {
    const s: StressScenario = { name: "crash", kind: "perAsset", shocks: { XBT: -0.2, "b:SOLUSDT": -0.5 }, otherwise: -0.3 }
    // 10000·−0.2 + −4000·−0.3 + 2000·−0.5 = −2000 + 1200 − 1000
    expect(scenarioPnl(s, positions, 0)).toBeCloseTo(-1800, 9)
  })
  it("volatility ×3: the 99 % parametric loss with σ tripled", () => {
    expect(scenarioPnl({ name: "vol", kind: "volatility", factor: 3 }, positions, 100)).toBeCloseTo(-3 * Z["0.99"] * 100, 9)
  })
  it("venue down: that venue's positions each move 10 % against them", () => {
    expect(scenarioPnl({ name: "kf", kind: "venueDown", venue: "kraken-futures" }, positions, 0)).toBeCloseTo(-1400, 9)
    expect(scenarioPnl({ name: "bn", kind: "venueDown", venue: "binance-usdm", move: 0.25 }, positions, 0)).toBeCloseTo(-500, 9)
  })
  it("the worst scenario is the largest loss", () => {
    const r = stress(
      [
        { name: "up", kind: "uniform", shock: 0.1 },
        { name: "kf", kind: "venueDown", venue: "kraken-futures" }
      ],
      positions,
      0
    )
    expect(r.worst).toBe("kf")
    expect(r.worstLoss).toBeCloseTo(1400, 9)
  })
  it("evaluatePortfolio: VaR of the positions over the window, enforced from minHistory", () => {
    const w = new ReturnWindow({ capacity: 10, intervalMs: DAY_MS })
    for (let t = 0; t <= 3; t++) w.observe(t * DAY_MS, new Map([["k:PF_XBTUSD", 100 * (1 + 0.01 * t * (t % 2 === 0 ? 1 : -1))]]))
    const f = evaluatePortfolio(w, positions, [], 3)
    expect(f.enforced).toBe(true)
    expect(f.measures.observations).toBe(3)
    expect(evaluatePortfolio(w, positions, [], 4).enforced).toBe(false)
    expect(f.gross).toBe(16_000)
    expect(f.net).toBe(8_000)
  })
})

describe("limits with hysteresis and the circuit breaker", () => {
  it("raises above the limit, lifts only below limit × (1 − h)", () => {
    expect(nextBreach(false, 100, 100, 0.1)).toBe(false)
    expect(nextBreach(false, 100.0001, 100, 0.1)).toBe(true)
    expect(nextBreach(true, 95, 100, 0.1)).toBe(true)
    expect(nextBreach(true, 90, 100, 0.1)).toBe(true)
    expect(nextBreach(true, 89.999, 100, 0.1)).toBe(false)
    expect(nextBreach(true, Number.NaN, 100, 0.1)).toBe(true) // no figure: state kept
  })
  it("the breaker trips at exactly the configured percentage (decimals, no float)", () => {
    const value = dec("123456.78")
    const pct = dec("0.02")
    const limit = value.times(pct) // 2469.1356
    expect(limit.toString()).toBe("2469.1356")
    expect(nextBreaker(false, limit.minus("0.0001"), value, pct, 0.5)).toBe(false)
    expect(nextBreaker(false, limit, value, pct, 0.5)).toBe(true)
    expect(nextBreaker(true, limit.times(0.5), value, pct, 0.5)).toBe(true)
    expect(nextBreaker(true, limit.times(0.5).minus("0.0001"), value, pct, 0.5)).toBe(false)
  })
})
