import { describe, expect, it } from "vitest"
import { loadDataset, openAnalyticsDb, type FillRow, type FundingRow } from "../../src/analytics/dataset.js"
import { computeReport } from "../../src/analytics/metrics.js"

// Issue 16 must-show 3: funding payments count in the report's PnL.
const D = 20_000 * 86_400_000 // a UTC midnight
const fill = (id: string, side: "buy" | "sell", price: string, ts: number): FillRow => ({
  fillId: id, clientOrderId: `mm-0-${id}`, strategy: "mm", instrument: "kraken-futures:PF_XBTUSD", side, price, qty: "1", fee: "0.5", liquidity: "taker", ts
})
const fills = [fill("1", "buy", "60000", D + 1000), fill("2", "sell", "60100", D + 86_400_000 + 1000)]
// Day 0: paid 0.6 and 0.61; day 1: received 0.2.
const funding: FundingRow[] = [
  { strategy: "mm", instrument: "kraken-futures:PF_XBTUSD", amount: "-0.6", ts: D + 3_600_000 },
  { strategy: "mm", instrument: "kraken-futures:PF_XBTUSD", amount: "-0.61", ts: D + 7_200_000 },
  { strategy: "mm", instrument: "kraken-futures:PF_XBTUSD", amount: "0.2", ts: D + 86_400_000 + 500 }
]

const report = async (withFunding: boolean) => {
  const db = await openAnalyticsDb()
  try {
    await loadDataset(db.conn, withFunding ? { fills, funding } : { fills })
    return await computeReport(db)
  } finally {
    db.close()
  }
}

describe("funding in the report", () => {
  it("is counted in net PnL on its day and shown in the daily rows and the summary", async () => {
    const [plain, funded] = [await report(false), await report(true)]
    const total = (r: typeof plain) => r.summary.find((s) => s.scope === "total")!
    // Without funding: 100 of PnL less 1 of fees.
    expect(total(plain).netPnl).toBe("99")
    expect(total(plain).funding).toBe("0")
    // With it: 99 − 0.6 − 0.61 + 0.2.
    expect(total(funded).netPnl).toBe("97.99")
    expect(total(funded).funding).toBe("-1.01")
    const days = funded.daily.filter((d) => d.scope === "total").map((d) => ({ funding: d.funding, netPnl: d.netPnl }))
    // Day 0: bought (unrealized 0 at the fill price), fee 0.5, funding −1.21. Day 1: sold +100, fee 0.5, funding +0.2.
    expect(days).toEqual([
      { funding: "-1.21", netPnl: "-1.71" },
      { funding: "0.2", netPnl: "99.7" }
    ])
    expect(plain.daily.filter((d) => d.scope === "total").map((d) => d.netPnl)).toEqual(["-0.5", "99.5"])
  })
})
