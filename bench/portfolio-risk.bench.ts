import { Decimal } from "../src/domain/decimal.js"
import { DAY_MS, evaluatePortfolio, ReturnWindow, type RiskPosition, type StressScenario } from "../src/domain/portfolio-risk/index.js"
import { percentile, round, type Bench, type Figure } from "./harness.js"

/**
 * risk.portfolio_eval: one evaluation of the portfolio risk monitor over 1,000 positions and a
 * 250-day window of daily returns: the positions' values from their exact decimals
 * (qty × contractSize × mark, converted once), the P&L series, historical VaR/ES at 99 % and 95 %,
 * parametric VaR and four stress scenarios. Timed per call (process.hrtime.bigint), p50 and p99.
 * Baseline, same run: the P&L series alone (one pass over the 250,000 returns — the floor of any
 * historical VaR on this window).
 */
const POSITIONS = 1_000
const DAYS = 250
const CALLS = 400

const rng = (seed: number) => () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648
  return seed / 2_147_483_648
}

const portfolioEval: Bench = {
  name: "risk.portfolio_eval",
  run: async () => {
    const rand = rng(21)
    const ids = Array.from({ length: POSITIONS }, (_, k) => `bench:I${k}`)
    const window = new ReturnWindow({ capacity: DAYS, intervalMs: DAY_MS })
    const marks = ids.map(() => 10 + rand() * 1000)
    for (let d = 0; d <= DAYS; d++) {
      const m = new Map<string, number>()
      ids.forEach((id, k) => {
        marks[k] = (marks[k] as number) * (1 + (rand() - 0.5) * 0.08)
        m.set(id, marks[k] as number)
      })
      window.observe(d * DAY_MS, m)
    }
    const held = ids.map((id, k) => ({ instrument: id, venue: k % 2 === 0 ? "kraken-futures" : "binance-usdm", base: `B${k % 50}`, qty: new Decimal(((rand() - 0.5) * 20).toFixed(3)), contractSize: new Decimal(1), mark: new Decimal((marks[k] as number).toFixed(2)) }))
    const scenarios: StressScenario[] = [
      { name: "all -10%", kind: "uniform", shock: -0.1 },
      { name: "BTC -20% alts -30%", kind: "perAsset", shocks: { B0: -0.2 }, otherwise: -0.3 },
      { name: "vol x3", kind: "volatility", factor: 3 },
      { name: "kraken down", kind: "venueDown", venue: "kraken-futures" }
    ]
    const scratch = {}
    let sink = 0
    const evaluate = (): void => {
      const positions: RiskPosition[] = held.map((h) => ({ instrument: h.instrument, venue: h.venue, base: h.base, value: h.qty.times(h.contractSize).times(h.mark).toNumber() }))
      sink += evaluatePortfolio(window, positions, scenarios, 60, scratch).measures.var99
    }
    const values = new Map(held.map((h) => [h.instrument, h.qty.times(h.mark).toNumber()] as const))
    const series = (): void => {
      sink += window.pnlSeries(values)[0] as number
    }
    const time = (fn: () => void): Float64Array => {
      for (let k = 0; k < 40; k++) fn()
      const out = new Float64Array(CALLS)
      for (let k = 0; k < CALLS; k++) {
        const t0 = process.hrtime.bigint()
        fn()
        out[k] = Number(process.hrtime.bigint() - t0) / 1000
      }
      return out.sort()
    }
    const base = time(series)
    const times = time(evaluate)
    if (!Number.isFinite(sink)) throw new Error("the evaluation produced no figure")
    const p50 = percentile(times, 50)
    const figure: Figure = {
      name: "risk.portfolio_eval",
      value: round(p50, 1),
      unit: "µs",
      baseline: "P&L series alone (1,000 × 250 returns)",
      baseline_value: round(percentile(base, 50), 1),
      ratio: round(p50 / percentile(base, 50), 2),
      p50_us: round(p50, 1),
      p99_us: round(percentile(times, 99), 1),
      baseline_p99_us: round(percentile(base, 99), 1),
      positions: POSITIONS,
      window_days: DAYS,
      calls: CALLS
    }
    return [figure]
  }
}

export const benches: ReadonlyArray<Bench> = [portfolioEval]
