import { mkdtemp, readFile, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { runReportCli } from "../../src/analytics/cli.js"
import { loadDataset, openAnalyticsDb, type AnalyticsDb } from "../../src/analytics/dataset.js"
import { buildReportTables, readReport, type Report } from "../../src/analytics/metrics.js"
import { REPORT_TABLES } from "../../src/analytics/metrics.sql.js"
import { exportParquet, money, renderHtml, renderJson, renderText, textTable } from "../../src/analytics/report.js"
import { smallSource } from "./small-fixture.js"

let db: AnalyticsDb
let report: Report
let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "troupe-report-"))
  db = await openAnalyticsDb()
  await loadDataset(db.conn, smallSource())
  await buildReportTables(db)
  report = await readReport(db.conn)
})
afterAll(async () => {
  db.close()
  await rm(dir, { recursive: true, force: true })
})

const capture = (): { out: string[]; err: string[]; io: { out: (t: string) => void; err: (t: string) => void } } => {
  const out: string[] = []
  const err: string[] = []
  return { out, err, io: { out: (t) => void out.push(t), err: (t) => void err.push(t) } }
}

describe("report renderings", () => {
  it("rounds money for display on its text, half away from zero", () => {
    expect([money("9.335"), money("-6.4"), money("-0.004"), money("0.995"), money("12")]).toEqual(["9.34", "-6.4", "0.00", "1.00", "12"])
  })

  it("lays out terminal tables with right-aligned numbers", () => {
    expect(textTable(["scope", "pnl"], [["TOTAL", "9.33"], ["alpha", "-10.5"]])).toBe("scope    pnl\n-----  -----\nTOTAL   9.33\nalpha  -10.5")
  })

  it("prints the total and each strategy in the text report", () => {
    const text = renderText(report)
    // realized gross 8, fees 1.07, realized net 6.93 (the portfolio's realizedPnl), unrealized 2.4, max dd 6.4
    expect(text).toMatch(/^TOTAL QUOTE\s+9\.33\s+8\s+1\.07\s+6\.93\s+2\.4\s+6\.4\s/m)
    expect(text).toMatch(/^alpha QUOTE\s+5\s+6\s+1\s+5\s+0\s+8\.35/m)
    expect(text).toContain("MAX_POSITION")
  })

  it("keeps every digit of money in JSON", () => {
    const parsed = JSON.parse(renderJson(report)) as Report
    expect(parsed.summary.find((s) => s.scope === "total")?.netPnl).toBe("9.33")
    expect(parsed.daily.length).toBe(report.daily.length)
  })

  it("draws four inline SVG charts in a page with no external asset", () => {
    const html = renderHtml(report)
    expect(html.match(/<svg /g)?.length).toBe(4)
    for (const kind of ["equity", "drawdown", "pnl-by-strategy", "latency-histogram"]) expect(html).toContain(`data-chart="${kind}"`)
    expect(html).not.toMatch(/<script|<link|src=|@import|url\(/i)
    // the equity line has one point per bucket of the run, on a time axis
    const equity = html.slice(html.indexOf('data-chart="equity"'))
    const total = report.equityCurve.filter((p) => p.scope === "total")
    expect(total.length).toBeGreaterThan(3)
    expect(equity).toContain(`class="series" data-points="${total.length}"`)
    // marked to market from cash flows, the curve ends where the daily report's net PnL does
    expect(total[total.length - 1]?.equity).toBe(report.summary.find((s) => s.scope === "total")?.netPnl)
    // drawdown is never positive and is 0 at a new peak
    expect(total.every((p) => Number(p.drawdown) <= 0)).toBe(true)
    // two strategy bars: alpha +5 (green), beta +4.33 (green)
    const bars = html.slice(html.indexOf('data-chart="pnl-by-strategy"'), html.indexOf('data-chart="latency-histogram"'))
    expect(bars.match(/class="bar"[^>]*fill="#059669"/g)?.length).toBe(2)
  })

  it("exports every report table to Parquet that DuckDB reads back", async () => {
    const files = await exportParquet(db.conn, join(dir, "pq"))
    expect(files.length).toBe(REPORT_TABLES.length)
    const r = await db.conn.runAndReadAll(
      `SELECT (SELECT count(*) FROM read_parquet('${join(dir, "pq", "report_daily.parquet")}'))::INTEGER,
              (SELECT "netPnl"::VARCHAR FROM read_parquet('${join(dir, "pq", "report_summary.parquet")}') WHERE scope = 'total')`
    )
    expect(r.getRowsJS()).toEqual([[report.daily.length, "9.330000000000000000"]])
  })
})

describe("troupe report", () => {
  it("prints JSON and writes the HTML page and Parquet files it is asked for", async () => {
    const c = capture()
    const html = join(dir, "r.html")
    const code = await runReportCli(["--json", "--html", html, "--parquet", join(dir, "cli-pq"), "--strategy", "alpha"], smallSource(), c.io)
    expect(code).toBe(0)
    const parsed = JSON.parse(c.out.join("")) as Report
    expect(parsed.strategy).toBe("alpha")
    expect(parsed.summary.find((s) => s.scope === "total")?.netPnl).toBe("5")
    expect((await readFile(html, "utf8")).startsWith("<!doctype html>")).toBe(true)
    expect(c.err.join("")).toContain(`wrote ${REPORT_TABLES.length} parquet files`)
  })

  it("exits 2 with the usage on a bad argument", async () => {
    const c = capture()
    expect(await runReportCli(["--since", "yesterday-ish"], smallSource(), c.io)).toBe(2)
    expect(c.err.join("")).toContain("usage: troupe report")
    expect(await runReportCli(["--bogus"], smallSource(), c.io)).toBe(2)
  })

  it("exits 1 naming the bad input when a row cannot be loaded", async () => {
    const c = capture()
    const code = await runReportCli([], { fills: [], marks: [{ instrument: "X", ts: 0, price: "abc" }] }, c.io)
    expect(code).toBe(1)
    expect(c.err.join("")).toContain('marks.price: cannot load "abc"')
  })
})
