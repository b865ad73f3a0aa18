import { DuckDBTypeId, type DuckDBConnection } from "@duckdb/node-api"
import type { AnalyticsDb } from "./dataset.js"
import { runPositionPass } from "./positions.js"
import { completeInstruments } from "./instruments.js"
import { EXECUTION_STATEMENTS, EXECUTION_TABLES, FILL_FLOWS_SQL, MACROS_SQL, PARAMS_SQL, PNL_STATEMENTS, PNL_TABLES, REPORT_TABLES, type ReportTable } from "./metrics.sql.js"

/**
 * The post-trade report over a loaded dataset (`dataset.ts`). Where each part runs:
 *  - DuckDB sorts the fills; a single TypeScript pass (`positions.ts`) nets them with average
 *    entry in exact BigInt arithmetic and writes back per-day positions and round trips;
 *  - everything else is DuckDB SQL (`metrics.sql.ts`): daily PnL with carried positions and
 *    as-of marks, equity and drawdown (window functions), Sharpe/Sortino/Calmar/VaR/ES,
 *    round-trip statistics, execution ratios, TCA, latency percentiles and histograms, risk
 *    denials — each materialized as a `report_*` table.
 *  - The execution side (ratios, TCA, latency, denials) needs no positions, so it runs on a
 *    second connection while the position pass holds the JS thread: two lanes, joined at the end.
 *
 * Money in the report is exact decimal text ("-12.5"); ratios and statistics are numbers.
 */

export interface ReportOptions {
  /** Only activity at or after this time (epoch ms). Positions still net over all history. */
  readonly since?: number | undefined
  readonly strategy?: string | undefined
  /** Decimal text. When given, daily returns are net PnL / capital. */
  readonly capital?: string | undefined
  /** Annualization periods; 365 (crypto trades every calendar day). */
  readonly periodsPerYear?: number | undefined
}

export type Money = string
export type Scope = "total" | "strategy" | "instrument" | "strategy_instrument"

export interface SummaryRow {
  readonly scope: Scope
  readonly scopeId: string
  readonly strategy: string | null
  readonly instrument: string | null
  /** The settlement currency of every money figure of the row; `total` and `strategy` have one row per currency. */
  readonly currency: string
  readonly days: number
  readonly firstDay: string
  readonly lastDay: string
  readonly realized: Money
  /** At the end of the last day, against the last mark. */
  readonly unrealized: Money
  readonly fees: Money
  /** Funding booked on the positions (+ received, − paid); inside netPnl. */
  readonly funding: Money
  readonly netPnl: Money
  readonly turnover: Money
  readonly fills: number
  readonly maxDrawdown: Money
  readonly sharpe: number | null
  readonly sortino: number | null
  readonly calmar: number | null
  readonly var95: number | null
  readonly es95: number | null
  readonly trips: number
  readonly wins: number
  readonly losses: number
  readonly winRate: number | null
  readonly profitFactor: number | null
  readonly avgWin: number | null
  readonly avgLoss: number | null
}

export interface DailyRow {
  readonly scope: Scope
  readonly scopeId: string
  readonly strategy: string | null
  readonly instrument: string | null
  readonly currency: string
  readonly day: number
  readonly date: string
  readonly realized: Money
  readonly unrealized: Money
  readonly fees: Money
  readonly netPnl: Money
  readonly turnover: Money
  readonly fills: number
  readonly equity: Money
  readonly funding: Money
  readonly drawdown: Money
  readonly return: number | null
}

export interface RoundTripRow {
  readonly strategy: string
  readonly instrument: string
  readonly currency: string
  readonly openTs: number
  readonly closeTs: number
  readonly pnl: Money
  readonly fills: number
}

export interface ExecutionRow {
  readonly scope: Scope
  readonly scopeId: string
  readonly strategy: string | null
  readonly instrument: string | null
  /** null on a row that only has risk decisions (they carry no instrument). */
  readonly currency: string | null
  readonly orders: number
  readonly filledOrders: number
  readonly canceled: number
  readonly rejected: number
  readonly fills: number
  readonly makerFills: number
  readonly turnover: Money
  readonly fees: Money
  readonly orderToTrade: number | null
  readonly fillRatio: number | null
  readonly cancelRatio: number | null
  readonly riskApproved: number | null
  readonly riskDenied: number | null
}

export interface TcaRow {
  readonly scope: Scope
  readonly scopeId: string
  readonly strategy: string | null
  readonly instrument: string | null
  readonly currency: string
  readonly fills: number
  readonly slippageCost: Money
  readonly slippageBps: number | null
  readonly meanSlippageBps: number | null
}

export type LatencyStage = "intentToAck" | "ackToFill" | "intentToFill"

export interface LatencyRow {
  readonly scope: "total" | "strategy"
  readonly strategy: string | null
  readonly stage: LatencyStage
  readonly count: number
  readonly p50: number
  readonly p90: number
  readonly p99: number
  readonly max: number
  readonly mean: number
}

export interface LatencyBin {
  readonly stage: LatencyStage
  readonly bin: number
  readonly fromMs: number
  /** null for the tail bin (everything above the p99 bins). */
  readonly toMs: number | null
  readonly count: number
}

export interface RiskDenialRow {
  readonly scope: "total" | "strategy"
  readonly strategy: string | null
  readonly reason: string
  readonly denials: number
}

export interface StrategyRecordSummary {
  readonly strategy: string
  readonly name: string
  readonly lastValue: string
  readonly lastTs: number
  readonly count: number
}

/** One point of the equity curve (see EQUITY_CURVE_SQL): `scope` total or strategy, at the end of a bucket. */
export interface EquityPoint {
  readonly scope: "total" | "strategy"
  readonly strategy: string | null
  readonly currency: string
  readonly ts: number
  readonly equity: Money
  readonly drawdown: Money
}

export interface Report {
  readonly generatedAt: string
  readonly since: string | null
  readonly strategy: string | null
  readonly conventions: Readonly<Record<string, string>>
  readonly summary: ReadonlyArray<SummaryRow>
  readonly daily: ReadonlyArray<DailyRow>
  readonly roundTrips: ReadonlyArray<RoundTripRow>
  readonly execution: ReadonlyArray<ExecutionRow>
  readonly tca: ReadonlyArray<TcaRow>
  readonly latency: ReadonlyArray<LatencyRow>
  readonly latencyHistogram: ReadonlyArray<LatencyBin>
  readonly riskDenials: ReadonlyArray<RiskDenialRow>
  readonly strategyRecords: ReadonlyArray<StrategyRecordSummary>
  /** Equity and drawdown over time in buckets that fit the run (minutes or months). */
  readonly equityCurve: ReadonlyArray<EquityPoint>
}

export const CONVENTIONS: Readonly<Record<string, string>> = {
  currency: "every money figure is in the settlement currency of its instruments (inverse contracts such as PI_XBTUSD: the base, XBT; linear: the quote, USD); totals and strategy rows are one per currency, never summed across currencies",
  inverse: "inverse contracts: cost basis, turnover and unrealized = qty x contractSize / price in the base currency, rounded half-even at 1e-18 per fill (as the portfolio)",
  days: "UTC calendar days; every day from a position's first fill to the last fill or mark",
  pnl: "average-entry netting per (strategy, instrument); a flip realizes the closed part and opens the rest at the fill price; unrealized = position x last mark at or before end of day - basis (last fill price if no mark)",
  netPnl: "realized + change in unrealized - fees + funding (booked on the position: + received, - paid), per day",
  annualization: "sqrt(365), risk-free rate 0; Sharpe/Sortino/Calmar on daily net PnL (scale-free, equal to using returns on constant capital)",
  sortino: "downside deviation = sqrt(mean(min(daily pnl, 0)^2)) over all days",
  calmar: "mean daily net PnL x 365 / max drawdown",
  var: "historical on daily net PnL, k = ceil(0.05 n): VaR95 = -(k-th worst day), ES95 = -mean(k worst days)",
  winLoss: "per closed round trip (flat to flat; a flip closes one), net of the fees of its fills",
  orderToTrade: "orders submitted / fills",
  fillRatio: "orders with at least one fill / orders submitted",
  cancelRatio: "orders whose final state is canceled / orders submitted",
  slippage: "bps against the arrival mid, positive = cost, quantity-weighted",
  latency: "ms, nearest-rank percentiles: intent (submit) -> ack (accepted) -> first fill"
}

type Cell = string | number | boolean | null
type Rows = ReadonlyArray<Record<string, Cell>>
type Tables = Partial<Record<ReportTable, Rows>>

/**
 * Runs the position pass and every report statement in two lanes — PnL on `db.conn` after the
 * position pass, execution on a second connection of the same instance — and, with `read`,
 * reads each lane's tables back on its own connection. Leaves the `report_*` tables in the db.
 */
const runReport = async (db: AnalyticsDb, options: ReportOptions, read: boolean): Promise<Tables> => {
  await db.conn.run(MACROS_SQL)
  await completeInstruments(db.conn)
  await db.conn.run(PARAMS_SQL, {
    since: options.since ?? 0,
    strategy: options.strategy ?? null,
    capital: options.capital ?? null,
    periods: options.periodsPerYear ?? 365
  })
  const tables: Tables = {}
  const readBack = async (conn: DuckDBConnection, names: ReadonlyArray<ReportTable>): Promise<void> => {
    if (read) for (const t of names) tables[t] = await readTable(conn, t)
  }
  const side = await db.instance.connect()
  try {
    // fill_flows starts the execution lane and is the PnL lane's one input from it
    const flows = side.run(FILL_FLOWS_SQL)
    const executionLane = async (): Promise<void> => {
      await flows
      for (const sql of EXECUTION_STATEMENTS) await side.run(sql)
      await readBack(side, EXECUTION_TABLES)
    }
    const pnlLane = async (): Promise<void> => {
      await runPositionPass(db.conn)
      await flows
      for (const sql of PNL_STATEMENTS) await db.conn.run(sql)
      await readBack(db.conn, PNL_TABLES)
    }
    // both lanes settle before the side connection closes, even when one fails
    const lanes = await Promise.allSettled([pnlLane(), executionLane()])
    for (const lane of lanes) if (lane.status === "rejected") throw lane.reason
  } finally {
    side.closeSync()
  }
  return tables
}

/** Runs the position pass and every report statement; leaves the `report_*` tables in `db`. */
export const buildReportTables = async (db: AnalyticsDb, options: ReportOptions = {}): Promise<void> => {
  await runReport(db, options, false)
}

/** Reads a report table: DECIMAL as exact text without trailing zeros, BIGINT/HUGEINT as numbers. */
export const readTable = async (conn: DuckDBConnection, table: ReportTable): Promise<Rows> => {
  const reader = await conn.runAndReadAll(`SELECT * FROM ${table}`)
  const names = reader.columnNames()
  const types = reader.columnTypes()
  const rows = reader.getRowsJson()
  return rows.map((row) => {
    const out: Record<string, Cell> = {}
    names.forEach((name, i) => {
      const v = row[i] ?? null
      const typeId = types[i]?.typeId
      if (typeof v === "string" && typeId === DuckDBTypeId.DECIMAL) out[name] = trimDecimal(v)
      else if (typeof v === "string" && (typeId === DuckDBTypeId.BIGINT || typeId === DuckDBTypeId.HUGEINT)) out[name] = Number(v)
      else if (v === "NaN" || v === "Infinity" || v === "-Infinity") out[name] = null
      else out[name] = v as Cell
    })
    return out
  })
}

export const trimDecimal = (text: string): string => {
  if (!text.includes(".")) return text
  const t = text.replace(/0+$/, "").replace(/\.$/, "")
  return t === "-0" ? "0" : t
}

const assemble = (tables: Tables, options: ReportOptions): Report => {
  const rows = (t: ReportTable): Rows => tables[t] ?? []
  return {
    generatedAt: new Date().toISOString(),
    since: options.since === undefined ? null : new Date(options.since).toISOString(),
    strategy: options.strategy ?? null,
    conventions: CONVENTIONS,
    summary: rows("report_summary") as unknown as ReadonlyArray<SummaryRow>,
    daily: rows("report_daily") as unknown as ReadonlyArray<DailyRow>,
    roundTrips: rows("report_round_trips") as unknown as ReadonlyArray<RoundTripRow>,
    execution: rows("report_execution") as unknown as ReadonlyArray<ExecutionRow>,
    tca: rows("report_tca") as unknown as ReadonlyArray<TcaRow>,
    latency: rows("report_latency") as unknown as ReadonlyArray<LatencyRow>,
    latencyHistogram: rows("report_latency_histogram") as unknown as ReadonlyArray<LatencyBin>,
    riskDenials: rows("report_risk_denials") as unknown as ReadonlyArray<RiskDenialRow>,
    strategyRecords: rows("report_strategy_records") as unknown as ReadonlyArray<StrategyRecordSummary>,
    equityCurve: rows("report_equity_curve") as unknown as ReadonlyArray<EquityPoint>
  }
}

/** Reads the report tables left by `buildReportTables`, one after the other on `conn`. */
export const readReport = async (conn: DuckDBConnection, options: ReportOptions = {}): Promise<Report> => {
  const tables: Tables = {}
  for (const t of REPORT_TABLES) tables[t] = await readTable(conn, t)
  return assemble(tables, options)
}

/** Builds the report tables and reads them back (each lane reads its own as soon as it is done). */
export const computeReport = async (db: AnalyticsDb, options: ReportOptions = {}): Promise<Report> =>
  assemble(await runReport(db, options, true), options)
