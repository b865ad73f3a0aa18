import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { loadDataset, openAnalyticsDb, type AnalyticsDb, type OrderRow } from "../../src/analytics/dataset.js"
import { generateFixture } from "../../src/analytics/fixture.js"
import { computeReport, trimDecimal, type Report, type ReportOptions } from "../../src/analytics/metrics.js"

// The report aggregates in two steps where a direct query would scan every row: latency
// percentiles from per-value sample counts, execution and TCA from `fill_flows` (fills summed
// per strategy, instrument, day and --since side). Each is checked here against the direct
// aggregate over every row (quantile_disc, sums over the fills), on data the hand-computed
// fixture is too small to exercise: ties, negative and wide-ranging latencies, a --since that
// cuts a day in two.

const withDb = async <T>(load: (db: AnalyticsDb) => Promise<void>, run: (db: AnalyticsDb) => Promise<T>): Promise<T> => {
  const db = await openAnalyticsDb()
  try {
    await load(db)
    return await run(db)
  } finally {
    db.close()
  }
}

type Json = Record<string, unknown>
const query = async (db: AnalyticsDb, sql: string): Promise<Json[]> => (await db.conn.runAndReadAll(sql)).getRowObjectsJson() as Json[]

const order = (strategy: string, n: number, submittedTs: number, ack: number | null, toFill: number | null): OrderRow => ({
  clientOrderId: `${strategy}-${n}`,
  strategy,
  instrument: "X",
  side: "buy",
  type: "limit",
  qty: "1",
  price: "100",
  submittedTs,
  acceptedTs: ack === null ? undefined : submittedTs + ack,
  firstFillTs: toFill === null ? undefined : submittedTs + (ack ?? 0) + toFill,
  finalState: toFill === null ? "canceled" : "filled"
})

describe("the report's two-step aggregates equal the direct ones", () => {
  it("latency percentiles from counted samples equal quantile_disc over every sample", async () => {
    const latency = fc.option(fc.oneof(fc.integer({ min: -5, max: 40 }), fc.integer({ min: 0, max: 5_000_000 })), { freq: 5 })
    const orders = fc.array(fc.record({ strategy: fc.constantFrom("a", "b", "c"), ack: latency, toFill: latency }), { minLength: 1, maxLength: 300 })
    await fc.assert(
      fc.asyncProperty(orders, fc.integer({ min: 0, max: 300 }), async (specs, sinceIndex) => {
        const rows = specs.map((s, i) => order(s.strategy, i, 1_000 * i, s.ack, s.toFill))
        const since = 1_000 * sinceIndex
        await withDb(
          async (db) => void (await loadDataset(db.conn, { orders: rows })),
          async (db) => {
            const report = await computeReport(db, { since })
            const direct = await query(
              db,
              `WITH o AS (SELECT * FROM orders WHERE submitted_ts >= ${since}),
               lat AS (
                 SELECT strategy, 'intentToAck' AS stage, accepted_ts - submitted_ts AS ms FROM o WHERE accepted_ts IS NOT NULL
                 UNION ALL SELECT strategy, 'ackToFill', first_fill_ts - accepted_ts FROM o WHERE first_fill_ts IS NOT NULL AND accepted_ts IS NOT NULL
                 UNION ALL SELECT strategy, 'intentToFill', first_fill_ts - submitted_ts FROM o WHERE first_fill_ts IS NOT NULL)
               SELECT CASE WHEN grouping(strategy) = 0 THEN 'strategy' ELSE 'total' END AS scope, strategy, stage,
                      count(*)::INTEGER AS count, quantile_disc(ms, 0.5)::INTEGER AS p50, quantile_disc(ms, 0.9)::INTEGER AS p90,
                      quantile_disc(ms, 0.99)::INTEGER AS p99, max(ms)::INTEGER AS max, avg(ms) AS mean
               FROM lat GROUP BY GROUPING SETS ((stage), (strategy, stage))
               ORDER BY scope DESC, strategy, stage`
            )
            // means are DOUBLE sums in another order: equal to rounding, the rest exactly
            expect(report.latency.map(({ mean: _mean, ...exact }) => exact)).toEqual(direct.map(({ mean: _mean, ...exact }) => exact))
            report.latency.forEach((row, i) => expect(row.mean).toBeCloseTo(direct[i]?.mean as number, 6))
          }
        )
      }),
      { numRuns: 25 }
    )
  })

  const flowsCase = async (options: ReportOptions): Promise<{ report: Report; execution: Json[]; tca: Json[] }> =>
    withDb(
      async (db) => void (await loadDataset(db.conn, generateFixture({ fills: 20_000, days: 6, seed: 9 }).source)),
      async (db) => {
        const report = await computeReport(db, options)
        const where = `ts >= ${options.since ?? 0}` + (options.strategy === undefined ? "" : ` AND strategy = '${options.strategy}'`)
        const scopeId = `CASE WHEN grouping(strategy) = 0 AND grouping(instrument) = 0 THEN 'strategy_instrument'
          WHEN grouping(strategy) = 0 THEN 'strategy' WHEN grouping(instrument) = 0 THEN 'instrument' ELSE 'total' END
          || '|' || coalesce(strategy, '') || '|' || coalesce(instrument, '') || '|USD'`
        // the fixture's instruments (kf:PF_*) are Kraken linear contracts, all in USD
        const sets = "GROUPING SETS ((), (strategy), (instrument), (strategy, instrument))"
        const execution = await query(
          db,
          `SELECT ${scopeId} AS "scopeId", count(*)::INTEGER AS fills, count(*) FILTER (WHERE liquidity = 'maker')::INTEGER AS "makerFills",
                  sum(price * qty)::VARCHAR AS turnover, sum(fee)::VARCHAR AS fees
           FROM fills WHERE ${where} GROUP BY ${sets} ORDER BY "scopeId"`
        )
        const slip = "CASE WHEN side = 'buy' THEN price - arrival_mid ELSE arrival_mid - price END"
        const tca = await query(
          db,
          `SELECT ${scopeId} AS "scopeId", count(*)::INTEGER AS fills, sum(${slip} * qty)::VARCHAR AS "slippageCost",
                  sum(${slip} * qty)::DOUBLE / sum(arrival_mid * qty)::DOUBLE * 10000 AS "slippageBps",
                  avg(${slip}::DOUBLE / arrival_mid::DOUBLE) * 10000 AS "meanSlippageBps"
           FROM fills WHERE ${where} AND arrival_mid > 0 GROUP BY ${sets} ORDER BY "scopeId"`
        )
        return { report, execution, tca }
      }
    )

  const cases: ReadonlyArray<readonly [string, ReportOptions]> = [
    ["all fills", {}],
    ["--since in the middle of a day", { since: Date.UTC(2026, 0, 3, 13, 17) }],
    ["--since and --strategy", { since: Date.UTC(2026, 0, 2, 5), strategy: "trend" }]
  ]
  for (const [label, options] of cases) {
    it(`execution and TCA rolled up from fill_flows equal sums over every fill: ${label}`, async () => {
      const { report, execution, tca } = await flowsCase(options)
      expect(execution.length).toBeGreaterThan(4)
      const reported = report.execution.filter((e) => e.fills > 0)
      expect(reported.map((e) => [e.scopeId, e.fills, e.makerFills, e.turnover, e.fees])).toEqual(
        execution.map((e) => [e.scopeId, e.fills, e.makerFills, trimDecimal(e.turnover as string), trimDecimal(e.fees as string)])
      )
      expect(report.tca.map((t) => [t.scopeId, t.fills, t.slippageCost])).toEqual(tca.map((t) => [t.scopeId, t.fills, trimDecimal(t.slippageCost as string)]))
      report.tca.forEach((t, i) => {
        expect(t.slippageBps).toBe(tca[i]?.slippageBps)
        expect(t.meanSlippageBps).toBeCloseTo(tca[i]?.meanSlippageBps as number, 9)
      })
    })
  }
})
