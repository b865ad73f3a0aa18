import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { loadDataset, openAnalyticsDb, type AnalyticsDb } from "../../src/analytics/dataset.js"
import { computeReport, type Report, type ReportOptions, type SummaryRow } from "../../src/analytics/metrics.js"
import { D0, smallSource } from "./small-fixture.js"

// Every expected number below is derived by hand from small-fixture.ts (its header lists the
// fills, positions and realized PnL step by step).

const reportOf = async (options: ReportOptions = {}): Promise<Report> => {
  const db: AnalyticsDb = await openAnalyticsDb()
  try {
    await loadDataset(db.conn, smallSource())
    return await computeReport(db, options)
  } finally {
    db.close()
  }
}

let report: Report
beforeAll(async () => {
  report = await reportOf({ capital: "1000" })
})
afterAll(() => undefined)

const summary = (scopeId: string): SummaryRow => {
  const row = report.summary.find((s) => s.scopeId === scopeId)
  if (row === undefined) throw new Error(`no summary row ${scopeId}`)
  return row
}
// X and Y are undescribed, unknown names: linear, in a currency labelled QUOTE (instruments.ts)
const TOTAL = "total|||QUOTE"
const ALPHA = "strategy|alpha||QUOTE"
const BETA = "strategy|beta||QUOTE"

describe("post-trade metrics on a hand-computed fixture", () => {
  it("realized PnL nets with average entry and realizes a flip through zero", () => {
    // alpha/X: f3 1.5×104 − 303×1.5/3 = 4.5; f4 flips: 1.5×98 − 151.5 = −4.5; f5 −2×95 + 196 = 6 → 6
    // beta/Y: g2 buys back 4 of −10 (basis −50): −4×4.5 + 50×4/10 = −18 + 20 = 2; total 8
    expect(summary("strategy_instrument|alpha|X|QUOTE").realized).toBe("6")
    expect(summary(BETA).realized).toBe("2")
    expect(summary(TOTAL).realized).toBe("8")
  })

  it("unrealized PnL is valued at the last mark at or before the end of the last day", () => {
    // last day is d3. alpha is flat → 0. beta −6 Y, basis −30, no Y mark on d3 so the d2 mark
    // 4.6 carries: −6×4.6 − (−30) = −27.6 + 30 = 2.4
    expect(summary(ALPHA).unrealized).toBe("0")
    expect(summary(BETA).unrealized).toBe("2.4")
    expect(summary(TOTAL).unrealized).toBe("2.4")
  })

  it("fees add up per strategy and in total", () => {
    // alpha 0.2 + 0.1 + 0.15 + 0.35 + 0.2 = 1.0; beta 0.05 + 0.02 = 0.07
    expect(summary(ALPHA).fees).toBe("1")
    expect(summary(BETA).fees).toBe("0.07")
    expect(summary(TOTAL).fees).toBe("1.07")
  })

  it("daily net PnL is realized plus the change in unrealized minus fees", () => {
    // alpha: d0 4.5 + (1.5×102 − 151.5 = 1.5) − 0.45 = 5.55
    //        d1 −4.5 + (−2×97 + 196 = 2) − 1.5 − 0.35 = −4.35
    //        d2 (−2×99 + 196 = −2) − 2 = −4
    //        d3 6 + (0 − (−2)) − 0.2 = 7.8
    // beta:  d1 (−10×5.2 + 50 = −2) − 0.05 = −2.05; d2 2 + (2.4 − (−2)) − 0.02 = 6.38; d3 0
    // total: 5.55, −6.4, 2.38, 7.8
    const total = report.daily.filter((d) => d.scope === "total").map((d) => [d.date, d.netPnl])
    expect(total).toEqual([
      ["2026-01-01", "5.55"],
      ["2026-01-02", "-6.4"],
      ["2026-01-03", "2.38"],
      ["2026-01-04", "7.8"]
    ])
    expect(report.daily.filter((d) => d.scopeId === ALPHA).map((d) => d.netPnl)).toEqual(["5.55", "-4.35", "-4", "7.8"])
    expect(report.daily.filter((d) => d.scopeId === BETA).map((d) => d.netPnl)).toEqual(["-2.05", "6.38", "0"])
  })

  it("the equity curve is cumulative net PnL and drawdown is measured from its running peak", () => {
    // equity 5.55, −0.85, 1.53, 9.33; peak 5.55, 5.55, 5.55, 9.33 → drawdown 0, −6.4, −4.02, 0
    const total = report.daily.filter((d) => d.scope === "total")
    expect(total.map((d) => d.equity)).toEqual(["5.55", "-0.85", "1.53", "9.33"])
    expect(total.map((d) => d.drawdown)).toEqual(["0", "-6.4", "-4.02", "0"])
    expect(summary(TOTAL).netPnl).toBe("9.33")
  })

  it("daily returns are net PnL over the given capital", () => {
    // capital 1000: 5.55/1000, −6.4/1000, 2.38/1000, 7.8/1000
    const returns = report.daily.filter((d) => d.scope === "total").map((d) => d.return)
    expect(returns[0]).toBeCloseTo(0.00555, 12)
    expect(returns[1]).toBeCloseTo(-0.0064, 12)
    expect(returns[2]).toBeCloseTo(0.00238, 12)
    expect(returns[3]).toBeCloseTo(0.0078, 12)
  })

  it("Sharpe is the annualized (sqrt 365) mean over the sample deviation of daily PnL", () => {
    // mean = 9.33/4 = 2.3325; deviations 3.2175, −8.7325, 0.0475, 5.4675; squares sum 116.504675
    // sd = sqrt(116.504675/3) = 6.231764731; Sharpe = 2.3325/6.231764731 × sqrt(365) = 7.1508396
    expect(summary(TOTAL).sharpe).toBeCloseTo(7.1508396, 6)
    // alpha: 5.55, −4.35, −4, 7.8: mean 1.25, sd 6.332850859 → 3.7710057
    expect(summary(ALPHA).sharpe).toBeCloseTo(3.7710057, 6)
  })

  it("Sortino divides by the downside deviation over all days", () => {
    // downside = sqrt((0 + 6.4² + 0 + 0)/4) = sqrt(10.24) = 3.2; 2.3325/3.2 × sqrt(365) = 13.9257344
    expect(summary(TOTAL).sortino).toBeCloseTo(13.9257344, 6)
  })

  it("max drawdown is the deepest fall from a peak of the equity curve, starting at zero", () => {
    // total 6.4 (5.55 → −0.85); alpha 5.55 → −2.8 = 8.35; beta 0 → −2.05 = 2.05
    expect(summary(TOTAL).maxDrawdown).toBe("6.4")
    expect(summary(ALPHA).maxDrawdown).toBe("8.35")
    expect(summary(BETA).maxDrawdown).toBe("2.05")
  })

  it("Calmar is annualized mean daily PnL over max drawdown", () => {
    // 2.3325 × 365 / 6.4 = 133.025390625
    expect(summary(TOTAL).calmar).toBeCloseTo(133.025390625, 9)
  })

  it("win rate, profit factor and average win and loss are per round trip, net of fees", () => {
    // alpha trip 1 = f1..f4 (closed by the flip): 4.5 − 4.5 − (0.2+0.1+0.15+0.35) = −0.8
    // alpha trip 2 = f5 (opened by the flip, closed flat): 6 − 0.2 = 5.8; beta still open → no trip
    // win rate 1/2, profit factor 5.8/0.8 = 7.25, avg win 5.8, avg loss −0.8
    expect(report.roundTrips.map((t) => [t.strategy, t.pnl, t.fills])).toEqual([
      ["alpha", "-0.8", 4],
      ["alpha", "5.8", 1]
    ])
    const t = summary(TOTAL)
    expect([t.trips, t.wins, t.losses]).toEqual([2, 1, 1])
    expect(t.winRate).toBe(0.5)
    expect(t.profitFactor).toBeCloseTo(7.25, 12)
    expect(t.avgWin).toBeCloseTo(5.8, 12)
    expect(t.avgLoss).toBeCloseTo(-0.8, 12)
  })

  it("VaR 95 and expected shortfall are historical on daily PnL", () => {
    // n = 4, k = ceil(0.05×4) = 1: the worst day −6.4 → VaR 6.4, ES 6.4
    // alpha: worst −4.35 → 4.35
    expect(summary(TOTAL).var95).toBeCloseTo(6.4, 12)
    expect(summary(TOTAL).es95).toBeCloseTo(6.4, 12)
    expect(summary(ALPHA).var95).toBeCloseTo(4.35, 12)
  })

  it("turnover is the traded notional", () => {
    // alpha 200 + 103 + 156 + 343 + 190 = 992; beta 50 + 18 = 68
    expect(summary(ALPHA).turnover).toBe("992")
    expect(summary(BETA).turnover).toBe("68")
    expect(summary(TOTAL).turnover).toBe("1060")
  })

  it("order-to-trade, fill and cancel ratios count orders and fills", () => {
    // total: 11 orders (7 filled, 3 canceled, 1 rejected), 7 fills → 11/7, 7/11, 3/11
    // alpha: 8 orders, 5 fills, 2 canceled → 1.6, 0.625, 0.25
    const total = report.execution.find((e) => e.scope === "total")
    const alpha = report.execution.find((e) => e.scopeId === ALPHA)
    expect(total?.orders).toBe(11)
    expect(total?.rejected).toBe(1)
    expect(total?.orderToTrade).toBeCloseTo(11 / 7, 12)
    expect(total?.fillRatio).toBeCloseTo(7 / 11, 12)
    expect(total?.cancelRatio).toBeCloseTo(3 / 11, 12)
    expect([alpha?.orderToTrade, alpha?.fillRatio, alpha?.cancelRatio]).toEqual([1.6, 0.625, 0.25])
  })

  it("slippage against the arrival mid is in bps, quantity-weighted, positive as a cost", () => {
    // alpha: buy 2@100 vs 99.9 → +0.2; buy 1@103 vs 103.1 → −0.1; sell 1.5@104 vs 104.2 → +0.3;
    //        sell 3.5@98 vs 97.9 → −0.35; buy 2@95 vs 95.1 → −0.2 ⇒ cost −0.15
    //        Σ mid×qty = 199.8 + 103.1 + 156.3 + 342.65 + 190.2 = 992.05 ⇒ −0.15/992.05 × 1e4 = −1.5120206 bps
    // beta: +0.1 + 0.04 = 0.14 over 50.1 + 17.96 = 68.06; total −0.01/1060.11 × 1e4 = −0.0943298
    const alpha = report.tca.find((t) => t.scopeId === ALPHA)
    const total = report.tca.find((t) => t.scope === "total")
    expect(alpha?.slippageCost).toBe("-0.15")
    expect(alpha?.slippageBps).toBeCloseTo(-1.5120206, 6)
    expect(total?.slippageCost).toBe("-0.01")
    expect(total?.slippageBps).toBeCloseTo(-0.0943298, 6)
  })

  it("latency percentiles are nearest-rank over intent → ack → first fill", () => {
    // intent→ack: 10, 20, 30, 40, 50, 60, 70, 80, 90, 100 (a8 never acked) → p50 5th = 50, p90 9th = 90, p99 10th = 100
    // ack→fill: 5, 15, 25, 35, 45, 55, 500 → p50 4th = 35, p90 = p99 = 7th = 500
    // intent→fill: 15, 35, 55, 75, 95, 135, 590 → p50 75
    const total = (stage: string) => report.latency.find((l) => l.scope === "total" && l.stage === stage)
    expect(total("intentToAck")).toMatchObject({ count: 10, p50: 50, p90: 90, p99: 100, max: 100 })
    expect(total("ackToFill")).toMatchObject({ count: 7, p50: 35, p90: 500, p99: 500, max: 500 })
    expect(total("intentToFill")).toMatchObject({ count: 7, p50: 75, max: 590 })
    const bins = report.latencyHistogram.filter((b) => b.stage === "ackToFill")
    expect(bins.reduce((n, b) => n + b.count, 0)).toBe(7)
  })

  it("risk denials are counted by reason, in total and per strategy", () => {
    // alpha: MAX_POSITION ×2, RATE_LIMIT ×1; beta: RATE_LIMIT ×1 → total 2 and 2
    const total = report.riskDenials.filter((d) => d.scope === "total").map((d) => [d.reason, d.denials])
    expect(total).toEqual([
      ["MAX_POSITION", 2],
      ["RATE_LIMIT", 2]
    ])
    const alpha = report.execution.find((e) => e.scopeId === ALPHA)
    expect([alpha?.riskApproved, alpha?.riskDenied]).toEqual([3, 3])
  })

  it("strategy records report the last value per name", () => {
    expect(report.strategyRecords).toEqual([{ strategy: "alpha", name: "signal", lastValue: "2.5", lastTs: D0 + 86_400_000, count: 2 }])
  })

  it("--since keeps positions from all history but reports only the days and trips from then on", async () => {
    // since d2: total net 2.38 + 7.8 = 10.18; only trip 2 (closed on d3) remains
    const r = await reportOf({ since: D0 + 2 * 86_400_000 })
    const total = r.summary.find((s) => s.scope === "total")
    expect(total?.netPnl).toBe("10.18")
    expect(total?.days).toBe(2)
    expect(r.roundTrips.map((t) => t.pnl)).toEqual(["5.8"])
  })

  it("--strategy restricts every table to that strategy", async () => {
    // beta: −2.05 + 6.38 + 0 = 4.33
    const r = await reportOf({ strategy: "beta" })
    expect(r.summary.find((s) => s.scope === "total")?.netPnl).toBe("4.33")
    expect(r.execution.find((e) => e.scope === "total")?.orders).toBe(3)
    expect(r.riskDenials.filter((d) => d.scope === "total").map((d) => d.reason)).toEqual(["RATE_LIMIT"])
  })
})
