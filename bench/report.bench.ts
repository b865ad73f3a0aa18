import { loadDataset, openAnalyticsDb, toUnits, type FillRow, type MarkRow, type OrderRow, type RiskDecisionRow } from "../src/analytics/dataset.js"
import { generateFixture } from "../src/analytics/fixture.js"
import { computeReport } from "../src/analytics/metrics.js"
import { applyFill, type PositionState } from "../src/analytics/positions.js"
import { renderHtml, renderText } from "../src/analytics/report.js"
import { percentile, round, type Bench, type Figure } from "./harness.js"

/**
 * report.1m_fills: seconds for the full post-trade report (position pass, every SQL metric,
 * reading it back, text + HTML rendering; `computeReport` runs its PnL and execution lanes on
 * two connections) over 1M fills already loaded in DuckDB; the load
 * through the appender is reported beside it (`load_seconds`). The baseline is a plain-JS
 * aggregation of the same metrics over the same rows held in memory (parse the decimal text,
 * sort, net with the same `applyFill`, Maps per scope and day, sorts for percentiles), run in
 * the same process. ratio = baseline seconds / report seconds (above 1: the DuckDB report is faster).
 */

const FILLS = Number(process.env.REPORT_BENCH_FILLS ?? 1_000_000)
const DAY = 86_400_000

interface Rows {
  readonly fills: FillRow[]
  readonly orders: OrderRow[]
  readonly marks: MarkRow[]
  readonly risk: RiskDecisionRow[]
}

/** The same metrics in plain JS (total and per strategy; days, PnL, ratios, TCA, latency, denials). */
const plainJsReport = (rows: Rows): Record<string, unknown> => {
  const U9 = 1_000_000_000n
  const fills = rows.fills
    .map((f) => ({ f, p: toUnits(f.price, "fills", "price"), q: toUnits(f.qty, "fills", "qty"), fee: toUnits(f.fee, "fills", "fee") }))
    .sort((a, b) => (a.f.strategy < b.f.strategy ? -1 : a.f.strategy > b.f.strategy ? 1 : a.f.instrument < b.f.instrument ? -1 : a.f.instrument > b.f.instrument ? 1 : a.f.ts - b.f.ts))
  // marks per instrument, sorted, for the as-of lookup at each end of day
  const marks = new Map<string, Array<{ ts: number; p: bigint }>>()
  for (const m of rows.marks) {
    const list = marks.get(m.instrument) ?? []
    list.push({ ts: m.ts, p: toUnits(m.price, "marks", "price") })
    marks.set(m.instrument, list)
  }
  for (const list of marks.values()) list.sort((a, b) => a.ts - b.ts)
  const markAt = (inst: string, ts: number): bigint | undefined => {
    const list = marks.get(inst) ?? []
    let lo = 0
    let hi = list.length - 1
    let best: bigint | undefined
    while (lo <= hi) {
      const mid = (lo + hi) >> 1
      const e = list[mid] as { ts: number; p: bigint }
      if (e.ts <= ts) {
        best = e.p
        lo = mid + 1
      } else hi = mid - 1
    }
    return best
  }
  let lastTs = 0
  for (const f of rows.fills) if (f.ts > lastTs) lastTs = f.ts
  for (const m of rows.marks) if (m.ts > lastTs) lastTs = m.ts
  const lastDay = Math.floor(lastTs / DAY)
  // per key: realized/fees by day, then carried to every day with unrealized
  const dailyNet = new Map<string, Map<number, bigint>>() // scope → day → net (10^-18)
  const add = (scope: string, day: number, v: bigint): void => {
    const m = dailyNet.get(scope) ?? new Map<number, bigint>()
    m.set(day, (m.get(day) ?? 0n) + v)
    dailyNet.set(scope, m)
  }
  let trips = 0
  let wins = 0
  let turnover = 0n
  let i = 0
  while (i < fills.length) {
    const first = fills[i] as (typeof fills)[number]
    const strategy = first.f.strategy
    const inst = first.f.instrument
    const s: PositionState = { qty: 0n, cost: 0n }
    const perDay = new Map<number, { realized: bigint; fees: bigint; qty: bigint; cost: bigint; last: bigint }>()
    let tripPnl = 0n
    for (; i < fills.length; i++) {
      const r = fills[i] as (typeof fills)[number]
      if (r.f.strategy !== strategy || r.f.instrument !== inst) break
      const before = s.qty
      const realized = applyFill(s, r.f.side === "buy" ? r.q : -r.q, r.p)
      const day = Math.floor(r.f.ts / DAY)
      const d = perDay.get(day) ?? { realized: 0n, fees: 0n, qty: 0n, cost: 0n, last: 0n }
      d.realized += realized
      d.fees += r.fee * U9
      d.qty = s.qty
      d.cost = s.cost
      d.last = r.p
      perDay.set(day, d)
      turnover += r.p * r.q
      tripPnl += realized - r.fee * U9
      if (before !== 0n && (s.qty === 0n || before > 0n !== s.qty > 0n)) {
        trips++
        if (tripPnl > 0n) wins++
        tripPnl = 0n
      }
    }
    const days = [...perDay.keys()]
    let qty = 0n
    let cost = 0n
    let last = 0n
    let prevUnreal = 0n
    for (let day = Math.min(...days); day <= lastDay; day++) {
      const d = perDay.get(day)
      if (d !== undefined) {
        qty = d.qty
        cost = d.cost
        last = d.last
      }
      const unreal = qty * (markAt(inst, (day + 1) * DAY - 1) ?? last) - cost
      const net = (d?.realized ?? 0n) + unreal - prevUnreal - (d?.fees ?? 0n)
      prevUnreal = unreal
      add("total", day, net)
      add(`strategy|${strategy}`, day, net)
      add(`${strategy}|${inst}`, day, net)
    }
  }
  const perf: Record<string, unknown> = {}
  for (const [scope, byDay] of dailyNet) {
    const xs = [...byDay.entries()].sort((a, b) => a[0] - b[0]).map(([, v]) => Number(v) / 1e18)
    let equity = 0
    let peak = 0
    let mdd = 0
    for (const x of xs) {
      equity += x
      peak = Math.max(peak, equity)
      mdd = Math.max(mdd, peak - equity)
    }
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length
    const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1))
    const down = Math.sqrt(xs.reduce((a, b) => a + Math.min(b, 0) ** 2, 0) / xs.length)
    const sorted = [...xs].sort((a, b) => a - b)
    const k = Math.ceil(0.05 * xs.length)
    perf[scope] = { sharpe: (mean / sd) * Math.sqrt(365), sortino: (mean / down) * Math.sqrt(365), mdd, var95: -(sorted[k - 1] ?? 0), es95: -sorted.slice(0, k).reduce((a, b) => a + b, 0) / k }
  }
  // execution, TCA, latency, risk
  const filled = new Set(rows.fills.map((f) => f.clientOrderId))
  const exec = new Map<string, { orders: number; filled: number; canceled: number }>()
  const lat = new Map<string, number[]>()
  for (const o of rows.orders) {
    for (const scope of ["total", o.strategy]) {
      const e = exec.get(scope) ?? { orders: 0, filled: 0, canceled: 0 }
      e.orders++
      if (filled.has(o.clientOrderId)) e.filled++
      if (o.finalState === "canceled") e.canceled++
      exec.set(scope, e)
      const push = (stage: string, v: number | undefined): void => {
        if (v === undefined || Number.isNaN(v)) return
        const list = lat.get(`${scope}|${stage}`) ?? []
        list.push(v)
        lat.set(`${scope}|${stage}`, list)
      }
      push("intentToAck", o.acceptedTs === undefined ? undefined : o.acceptedTs - o.submittedTs)
      push("ackToFill", o.firstFillTs === undefined || o.acceptedTs === undefined ? undefined : o.firstFillTs - o.acceptedTs)
      push("intentToFill", o.firstFillTs === undefined ? undefined : o.firstFillTs - o.submittedTs)
    }
  }
  const latency: Record<string, unknown> = {}
  for (const [k, list] of lat) {
    const sorted = Float64Array.from(list).sort()
    latency[k] = { p50: percentile(sorted, 50), p90: percentile(sorted, 90), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] }
  }
  let slipCost = 0n
  let slipBase = 0n
  for (const r of fills) {
    if (r.f.arrivalMid === undefined) continue
    const mid = toUnits(r.f.arrivalMid, "fills", "arrival_mid")
    slipCost += (r.f.side === "buy" ? r.p - mid : mid - r.p) * r.q
    slipBase += mid * r.q
  }
  const denials = new Map<string, number>()
  for (const d of rows.risk) if (!d.approved) denials.set(d.reason ?? "UNSPECIFIED", (denials.get(d.reason ?? "UNSPECIFIED") ?? 0) + 1)
  return { perf, trips, wins, turnover, exec: [...exec], latency, slippageBps: (Number(slipCost) / Number(slipBase)) * 1e4, denials: [...denials] }
}

const seconds = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e9

export const benches: ReadonlyArray<Bench> = [
  {
    name: "report.1m_fills",
    run: async (): Promise<ReadonlyArray<Figure>> => {
      const fx = generateFixture({ fills: FILLS, seed: 1 })
      const rows: Rows = {
        fills: [...(fx.source.fills as Iterable<FillRow>)],
        orders: [...(fx.source.orders as Iterable<OrderRow>)],
        marks: [...(fx.source.marks as Iterable<MarkRow>)],
        risk: [...(fx.source.riskDecisions as Iterable<RiskDecisionRow>)]
      }
      const db = await openAnalyticsDb()
      try {
        let t = process.hrtime.bigint()
        await loadDataset(db.conn, { fills: rows.fills, orders: rows.orders, marks: rows.marks, riskDecisions: rows.risk, strategyRecords: fx.source.strategyRecords ?? [] })
        const loadSeconds = seconds(t)
        t = process.hrtime.bigint()
        const report = await computeReport(db)
        const html = renderHtml(report)
        const text = renderText(report)
        const reportSeconds = seconds(t)
        t = process.hrtime.bigint()
        const baseline = plainJsReport(rows)
        const baselineSeconds = seconds(t)
        return [
          {
            name: "report.1m_fills",
            value: round(reportSeconds, 3),
            unit: "s",
            baseline: "plain-js aggregation of the same metrics over the same rows in memory",
            baseline_value: round(baselineSeconds, 3),
            ratio: round(baselineSeconds / reportSeconds, 3),
            ratio_meaning: "baseline seconds / report seconds (above 1: the DuckDB report is faster)",
            goal_seconds: 2,
            fills: rows.fills.length,
            orders: rows.orders.length,
            load_seconds: round(loadSeconds, 3),
            load_rows_per_s: Math.round((rows.fills.length + rows.orders.length) / loadSeconds),
            html_bytes: html.length,
            text_bytes: text.length,
            baseline_scopes: Object.keys(baseline.perf as object).length
          }
        ]
      } finally {
        db.close()
      }
    }
  }
]
