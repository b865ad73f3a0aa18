import { Decimal } from "decimal.js"
import { describe, expect, it } from "vitest"
import { loadDataset, openAnalyticsDb } from "../../src/analytics/dataset.js"
import { generateFixture } from "../../src/analytics/fixture.js"
import { computeReport } from "../../src/analytics/metrics.js"

// 200k fills here, 1M in bench/report.bench.ts: on the 2 shared cores the 1M load alone takes
// longer than a unit test should, and a test must not depend on a timing anyway.
const FILLS = 200_000

describe("the report at scale", () => {
  it("loads 200k generated fills and reports numbers that add up across scopes", async () => {
    const db = await openAnalyticsDb()
    try {
      const counts = await loadDataset(db.conn, generateFixture({ fills: FILLS, seed: 11 }).source)
      expect(counts.fills).toBe(FILLS)
      const r = await computeReport(db)
      const total = r.summary.find((s) => s.scope === "total")
      expect(total?.fills).toBe(FILLS)
      // exact decimal identities: strategies sum to the total; net = realized + unrealized − fees
      const strategies = r.summary.filter((s) => s.scope === "strategy")
      expect(strategies.length).toBe(3)
      const sum = strategies.reduce((acc, s) => acc.plus(s.netPnl), new Decimal(0))
      expect(sum.toString()).toBe(new Decimal(total?.netPnl ?? "NaN").toString())
      for (const s of r.summary) {
        expect(new Decimal(s.realized).plus(s.unrealized).minus(s.fees).toString()).toBe(new Decimal(s.netPnl).toString())
      }
      const exec = r.execution.find((e) => e.scope === "total")
      expect(exec?.fills).toBe(FILLS)
      expect(r.latency.find((l) => l.scope === "total" && l.stage === "intentToAck")?.count).toBe(exec?.orders)
    } finally {
      db.close()
    }
  })

  it("reports an empty dataset as empty tables, not an error", async () => {
    const db = await openAnalyticsDb()
    try {
      const r = await computeReport(db)
      expect([r.summary.length, r.daily.length, r.roundTrips.length, r.latency.length]).toEqual([0, 0, 0, 0])
    } finally {
      db.close()
    }
  })
})
