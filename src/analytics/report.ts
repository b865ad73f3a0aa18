import { mkdir } from "node:fs/promises"
import { resolve } from "node:path"
import type { DuckDBConnection } from "@duckdb/node-api"
import { dec } from "../domain/decimal.js"
import { REPORT_TABLES } from "./metrics.sql.js"
import type { Report, SummaryRow } from "./metrics.js"
import { barChart, escapeXml, lineChart, PALETTE, type Series } from "./svg.js"

/** The report's renderings: terminal text, JSON, a self-contained HTML page, Parquet files. */

type Cell = string | number | null | undefined

const num = (v: number | null | undefined, digits = 2): string => (v === null || v === undefined || !Number.isFinite(v) ? "-" : v.toFixed(digits))
const pct = (v: number | null | undefined): string => (v === null || v === undefined ? "-" : (v * 100).toFixed(1) + "%")
/** Money text rounded half away from zero for display only, on the text (the JSON keeps every digit). */
export const money = (text: string | null | undefined, digits = 2): string => {
  if (text === null || text === undefined) return "-"
  const neg = text.startsWith("-")
  const [int = "0", frac = ""] = (neg ? text.slice(1) : text).split(".")
  if (frac.length <= digits) return text
  const scaled = BigInt(int + frac.slice(0, digits)) + (Number(frac[digits]) >= 5 ? 1n : 0n)
  const s = scaled.toString().padStart(digits + 1, "0")
  const out = `${s.slice(0, s.length - digits)}.${s.slice(s.length - digits)}`
  return neg && /[1-9]/.test(out) ? "-" + out : out
}

const FIAT = new Set(["USD", "USDT", "USDC", "EUR", "GBP", "QUOTE"])
/** Display decimals of a currency's money: 2 for fiat and stablecoins, 8 (a satoshi) for coins such as XBT. */
export const displayDigits = (currency: string | null | undefined): number => (currency === null || currency === undefined || FIAT.has(currency) ? 2 : 8)

export const textTable = (headers: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<Cell>>): string => {
  const cells = rows.map((r) => r.map((c) => (c === null || c === undefined ? "-" : String(c))))
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? "").length)))
  const line = (r: ReadonlyArray<string>): string =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join("  ").trimEnd()
  return [line(headers), widths.map((w) => "-".repeat(w)).join("  "), ...cells.map(line)].join("\n")
}

/** The scope with the currency its money is in: "TOTAL USD", "mm XBT", "mm / kraken-futures:PI_XBTUSD XBT". */
const scopeLabel = (r: { readonly scope: string; readonly strategy: string | null; readonly instrument: string | null; readonly currency?: string | null }): string =>
  (r.scope === "total" ? "TOTAL" : [r.strategy, r.instrument].filter((x) => x !== null).join(" / ")) +
  (r.currency === null || r.currency === undefined ? "" : ` ${r.currency}`)

const SCOPE_ORDER: Readonly<Record<string, number>> = { total: 0, strategy: 1, strategy_instrument: 2 }
/** TOTAL, then each strategy, then each strategy / instrument (per-instrument rows stay in the JSON). */
const mainScopes = <T extends { readonly scope: string; readonly scopeId: string }>(rows: ReadonlyArray<T>): T[] =>
  rows
    .filter((r) => r.scope !== "instrument")
    .sort((a, b) => (SCOPE_ORDER[a.scope] ?? 9) - (SCOPE_ORDER[b.scope] ?? 9) || (a.scopeId < b.scopeId ? -1 : a.scopeId > b.scopeId ? 1 : 0))

interface Section {
  readonly title: string
  readonly headers: ReadonlyArray<string>
  readonly rows: ReadonlyArray<ReadonlyArray<Cell>>
}

const d = (row: { readonly currency?: string | null }): number => displayDigits(row.currency)

const sections = (r: Report): Section[] => [
  {
    title: "PnL and performance (daily, annualized sqrt(365), rf = 0)",
    // Realized before fees, the fees, and realized net of fees: "realized net" is what
    // `troupe positions` calls REALIZED NET (the portfolio's realizedPnl); net pnl adds unrealized.
    headers: ["scope", "net pnl", "realized gross", "fees", "realized net", "unrealized", "max dd", "sharpe", "sortino", "calmar", "VaR95", "ES95"],
    rows: mainScopes(r.summary).map((s) => [
      scopeLabel(s),
      money(s.netPnl, d(s)),
      money(s.realized, d(s)),
      money(s.fees, d(s)),
      money(dec(s.realized).minus(dec(s.fees)).toFixed(), d(s)),
      money(s.unrealized, d(s)),
      money(s.maxDrawdown, d(s)),
      num(s.sharpe),
      num(s.sortino),
      num(s.calmar),
      num(s.var95),
      num(s.es95)
    ])
  },
  {
    title: "Round trips (net of fees)",
    headers: ["scope", "trips", "win rate", "profit factor", "avg win", "avg loss", "turnover"],
    rows: mainScopes(r.summary).map((s) => [scopeLabel(s), s.trips, pct(s.winRate), num(s.profitFactor), num(s.avgWin, d(s)), num(s.avgLoss, d(s)), money(s.turnover, d(s))])
  },
  {
    title: "Execution",
    headers: ["scope", "orders", "fills", "order/trade", "fill ratio", "cancel ratio", "maker", "risk ok", "risk denied"],
    rows: mainScopes(r.execution).map((e) => [
      scopeLabel(e),
      e.orders,
      e.fills,
      num(e.orderToTrade),
      pct(e.fillRatio),
      pct(e.cancelRatio),
      e.fills > 0 ? pct(e.makerFills / e.fills) : "-",
      e.riskApproved,
      e.riskDenied
    ])
  },
  {
    title: "Slippage vs arrival mid (bps, + = cost)",
    headers: ["scope", "fills", "bps (qty-weighted)", "bps (mean)", "cost"],
    rows: mainScopes(r.tca).map((t) => [scopeLabel(t), t.fills, num(t.slippageBps, 3), num(t.meanSlippageBps, 3), money(t.slippageCost, d(t))])
  },
  {
    title: "Latency (ms)",
    headers: ["scope", "stage", "n", "p50", "p90", "p99", "max"],
    rows: r.latency.map((l) => [l.scope === "total" ? "TOTAL" : l.strategy, l.stage, l.count, l.p50, l.p90, l.p99, l.max])
  },
  {
    title: "Risk denials",
    headers: ["scope", "reason", "denials"],
    rows: r.riskDenials.map((d) => [d.scope === "total" ? "TOTAL" : d.strategy, d.reason, d.denials])
  },
  {
    title: "Strategy records (last value)",
    headers: ["strategy", "name", "last value", "at", "n"],
    rows: r.strategyRecords.map((s) => [s.strategy, s.name, s.lastValue, new Date(s.lastTs).toISOString(), s.count])
  }
]

const header = (r: Report): string =>
  `Troupe post-trade report — generated ${r.generatedAt}` +
  (r.since !== null ? `, since ${r.since}` : "") +
  (r.strategy !== null ? `, strategy ${r.strategy}` : "")

export const renderText = (r: Report): string =>
  [header(r), ...sections(r).map((s) => `\n${s.title}\n${textTable(s.headers, s.rows)}`)].join("\n") + "\n"

export const renderJson = (r: Report): string => JSON.stringify(r, null, 2) + "\n"


const WIDE = { width: 1400, height: 320, time: true } as const

/**
 * Equity per strategy and total and the drawdown of the total, over time in buckets that fit
 * the run (a run of minutes gets a seconds axis, months a dates axis); net PnL by strategy;
 * latency histogram.
 */
export const renderCharts = (r: Report): { equity: string; drawdown: string; pnlByStrategy: string; latency: string } => {
  // one series per currency: amounts in XBT and in USD are never added (nor drawn on one total)
  const strategies = r.summary.filter((s) => s.scope === "strategy")
  const currencies = [...new Set(r.summary.filter((s) => s.scope === "total").map((s) => s.currency))].sort()
  const multi = currencies.length > 1
  const curve = (pred: (p: Report["equityCurve"][number]) => boolean) => r.equityCurve.filter(pred).sort((a, b) => a.ts - b.ts)
  const totals = currencies.map((c) => ({ currency: c, points: curve((p) => p.scope === "total" && p.currency === c) }))
  const total = totals[0]?.points ?? []
  const equitySeries: Series[] = [
    ...totals.map((t, i) => ({
      name: multi ? `total ${t.currency}` : "total",
      color: i === 0 ? "#111827" : "#6b7280",
      points: t.points.map((p) => [p.ts, Number(p.equity)] as const)
    })),
    ...strategies.map((s, i) => ({
      name: multi ? `${s.strategy ?? ""} ${s.currency}` : (s.strategy ?? ""),
      color: PALETTE[i % PALETTE.length] as string,
      points: curve((p) => p.scope === "strategy" && p.strategy === s.strategy && p.currency === s.currency).map((p) => [p.ts, Number(p.equity)] as const)
    }))
  ]
  const timeLabel = (t: number): string => new Date(t).toISOString().slice(0, 19).replace("T", " ")
  const equity = lineChart(`Equity curve (net PnL marked to market, incl. fees${multi ? "; each series in its own currency" : ""})`, "equity", equitySeries, timeLabel, WIDE)
  const drawdown = lineChart(
    `Drawdown from peak (total${multi ? ` ${currencies[0] ?? ""}` : ""})`,
    "drawdown",
    [{ name: "drawdown", color: "#dc2626", points: total.map((p) => [p.ts, Number(p.drawdown)] as const) }],
    timeLabel,
    { ...WIDE, area: true }
  )
  const pnlByStrategy = barChart(
    multi ? "Net PnL by strategy (each bar in its own currency)" : "Net PnL by strategy",
    "pnl-by-strategy",
    strategies.map((s: SummaryRow) => ({ label: multi ? `${s.strategy ?? ""} ${s.currency}` : (s.strategy ?? ""), value: Number(s.netPnl) }))
  )
  const stage = r.latencyHistogram.some((b) => b.stage === "intentToFill") ? "intentToFill" : "intentToAck"
  const latency = barChart(
    `Latency histogram, ${stage} (ms; last bin = tail above p99)`,
    "latency-histogram",
    r.latencyHistogram
      .filter((b) => b.stage === stage)
      .map((b) => ({ label: b.toMs === null ? `${b.fromMs}+` : String(b.fromMs), value: b.count })),
    { color: "#2563eb", gap: 0.08 }
  )
  return { equity, drawdown, pnlByStrategy, latency }
}

const htmlTable = (s: Section): string =>
  `<h2>${escapeXml(s.title)}</h2><table><thead><tr>${s.headers.map((h) => `<th>${escapeXml(h)}</th>`).join("")}</tr></thead><tbody>` +
  s.rows.map((row) => `<tr>${row.map((c) => `<td>${escapeXml(c === null || c === undefined ? "-" : String(c))}</td>`).join("")}</tr>`).join("") +
  `</tbody></table>`

/** One self-contained page: inline CSS and SVG, no script, no external asset. */
export const renderHtml = (r: Report): string => {
  const charts = renderCharts(r)
  const conventions = Object.entries(r.conventions)
    .map(([k, v]) => `<dt>${escapeXml(k)}</dt><dd>${escapeXml(v)}</dd>`)
    .join("")
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Troupe report</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:13px/1.4 system-ui,sans-serif;margin:24px;color:#111;background:#f8fafc}
h1{font-size:18px}h2{font-size:14px;margin:22px 0 6px}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(560px,1fr));gap:12px}
.chart{border:1px solid #e5e7eb;border-radius:6px;width:100%;height:auto}
.chart[data-chart="equity"],.chart[data-chart="drawdown"]{grid-column:1/-1}
table{border-collapse:collapse;background:#fff}td,th{border:1px solid #e5e7eb;padding:3px 8px;text-align:right}
td:first-child,th:first-child{text-align:left}th{background:#f1f5f9}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;color:#444}dt{font-weight:600}
</style></head><body>
<h1>${escapeXml(header(r))}</h1>
<div class="charts">${charts.equity}${charts.drawdown}${charts.pnlByStrategy}${charts.latency}</div>
${sections(r).map(htmlTable).join("\n")}
<h2>Conventions</h2><dl>${conventions}</dl>
</body></html>
`
}

const sqlString = (s: string): string => `'${s.replace(/'/g, "''")}'`

/** Writes each `report_*` table (left by `buildReportTables`) as `<dir>/<table>.parquet`. */
export const exportParquet = async (conn: DuckDBConnection, dir: string): Promise<ReadonlyArray<string>> => {
  await mkdir(dir, { recursive: true })
  const files: string[] = []
  for (const table of REPORT_TABLES) {
    const file = resolve(dir, `${table}.parquet`)
    await conn.run(`COPY ${table} TO ${sqlString(file)} (FORMAT parquet, COMPRESSION zstd)`)
    files.push(file)
  }
  return files
}
