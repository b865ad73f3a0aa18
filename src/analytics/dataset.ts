import {
  BIGINT,
  BOOLEAN,
  DECIMAL,
  DuckDBDataChunk,
  DuckDBDecimalValue,
  DuckDBInstance,
  VARCHAR,
  type DuckDBConnection,
  type DuckDBType,
  type DuckDBValue
} from "@duckdb/node-api"
import { Data } from "effect"

/**
 * The rows post-trade analytics reads, as plain data. Where they come from (the store, the
 * journal, a file) is the caller's business: the loader only takes async iterables.
 *
 * Money and quantities arrive as decimal text and are stored exactly as DECIMAL(18,9)
 * (an int64 underneath). Not DECIMAL(38,18): DuckDB types the product of two (38,18) as
 * (38,36), which overflows at a notional of 100. (18,9) × (18,9) is (36,18), exact, so every
 * derived money column (notional, PnL, cost basis) is DECIMAL(38,18) with no rounding.
 * Text with more than 9 significant decimals, or 1e9 and above, is refused, never rounded.
 * Timestamps are integer epoch milliseconds (the domain's `Timestamp`).
 */

export type Side = "buy" | "sell"

export interface OrderRow {
  readonly clientOrderId: string
  readonly strategy: string
  readonly instrument: string
  readonly side: Side
  readonly type: string
  readonly qty: string
  /** Absent for market orders. */
  readonly price?: string | undefined
  /** The intent (risk-approved submit) time. */
  readonly submittedTs: number
  /** The venue's acknowledgement. */
  readonly acceptedTs?: number | undefined
  readonly firstFillTs?: number | undefined
  readonly finalTs?: number | undefined
  /** `filled`, `canceled`, `rejected`, `expired`, `denied`, or a live state (`accepted`, `partiallyFilled`). */
  readonly finalState: string
}

export interface FillRow {
  readonly fillId: string
  readonly clientOrderId: string
  readonly strategy: string
  readonly instrument: string
  readonly side: Side
  readonly price: string
  readonly qty: string
  /** Positive is a cost, negative a rebate, in the quote currency. */
  readonly fee: string
  readonly liquidity: "maker" | "taker"
  readonly ts: number
  /** Mid price of the book when the intent was made; the TCA benchmark. */
  readonly arrivalMid?: string | undefined
}

export interface RiskDecisionRow {
  readonly ts: number
  readonly strategy: string
  readonly clientOrderId?: string | undefined
  readonly approved: boolean
  /** The risk reason code when denied (`MAX_POSITION`, `RATE_LIMIT`, ...). */
  readonly reason?: string | undefined
}

export interface StrategyRecordRow {
  readonly strategy: string
  readonly name: string
  readonly value: string
  readonly ts: number
}

export interface MarkRow {
  readonly instrument: string
  readonly ts: number
  readonly price: string
}

/**
 * A funding payment booked on a perpetual position (`FundingPaid`): + received, − paid, in the
 * settlement currency. Counted in net PnL on its day, under the strategy it is attributed to.
 */
export interface FundingRow {
  readonly strategy: string
  readonly instrument: string
  readonly amount: string
  readonly ts: number
}

/**
 * What the report needs to know of an instrument: whether it is inverse (PnL, fees and funding
 * in the base currency, cost basis Σ qty × contractSize / price) and the currency its money is
 * in. Every money figure of the report is in one instrument's settlement currency, and the
 * report never adds two currencies (`instruments.ts`).
 */
export interface InstrumentRow {
  readonly instrument: string
  readonly inverse: boolean
  /** Decimal text; the inverse contract's value in the quote currency (Kraken's PI_: 1 USD). */
  readonly contractSize: string
  /** The settlement currency: the base for inverse contracts (XBT), else the quote (USD). */
  readonly currency: string
}

/** Everything optional: a report over fills alone is still a report. */
export interface AnalyticsSource {
  /**
   * Kind and settlement currency per instrument (`instruments.ts`); instruments left out are
   * described by their names (`describeByName`).
   */
  readonly instruments?: AsyncIterable<InstrumentRow> | Iterable<InstrumentRow>
  readonly orders?: AsyncIterable<OrderRow> | Iterable<OrderRow>
  readonly fills?: AsyncIterable<FillRow> | Iterable<FillRow>
  readonly riskDecisions?: AsyncIterable<RiskDecisionRow> | Iterable<RiskDecisionRow>
  readonly strategyRecords?: AsyncIterable<StrategyRecordRow> | Iterable<StrategyRecordRow>
  readonly marks?: AsyncIterable<MarkRow> | Iterable<MarkRow>
  readonly funding?: AsyncIterable<FundingRow> | Iterable<FundingRow>
}

export class DatasetError extends Data.TaggedError("DatasetError")<{
  readonly table: string
  readonly field: string
  readonly input: string
  readonly reason: string
}> {
  override get message(): string {
    return `${this.table}.${this.field}: cannot load ${JSON.stringify(this.input.slice(0, 64))} (${this.reason})`
  }
}

/** Decimals stored for prices, quantities and fees. */
export const SCALE = 9
const MAX_UNITS = 10n ** 18n
const DECIMAL_TEXT = /^([-+]?)(\d+)(?:\.(\d*))?$/

const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9] as const

/**
 * Exact decimal text → integer units of 10^-9. Throws `DatasetError` rather than round.
 * The common short case (≤ 15 digits) is scaled in integer-exact float arithmetic and checked
 * safe; anything longer goes through BigInt on the digit string.
 */
export const toUnits = (text: string, table: string, field: string): bigint => {
  const len = text.length
  if (len > 0 && len <= 16) {
    let i = text.charCodeAt(0) === 45 /* - */ ? 1 : 0
    const neg = i === 1
    let n = 0
    let frac = -1
    let digits = 0
    for (; i < len; i++) {
      const c = text.charCodeAt(i)
      if (c >= 48 && c <= 57) {
        n = n * 10 + (c - 48)
        digits++
        if (frac >= 0) frac++
      } else if (c === 46 /* . */ && frac < 0) frac = 0
      else break
    }
    if (i === len && digits > 0 && digits <= 15 && frac !== 0 && frac <= SCALE) {
      const units = n * (POW10[SCALE - Math.max(frac, 0)] as number)
      if (Number.isSafeInteger(units) && units < 1e18) return BigInt(neg ? -units : units)
    }
  }
  return toUnitsSlow(text, table, field)
}

const toUnitsSlow = (text: string, table: string, field: string): bigint => {
  const m = DECIMAL_TEXT.exec(text)
  if (m === null) throw new DatasetError({ table, field, input: text, reason: "not plain decimal text" })
  let frac = m[3] ?? ""
  if (frac.length > SCALE) {
    if (!/^0*$/.test(frac.slice(SCALE))) throw new DatasetError({ table, field, input: text, reason: `more than ${SCALE} decimals` })
    frac = frac.slice(0, SCALE)
  }
  const units = BigInt((m[2] ?? "0") + frac.padEnd(SCALE, "0"))
  if (units >= MAX_UNITS) throw new DatasetError({ table, field, input: text, reason: "1e9 or more" })
  return m[1] === "-" ? -units : units
}

/** Integer units of 10^-scale → decimal text, exactly. */
export const unitsToText = (units: bigint, scale: number): string => {
  const neg = units < 0n
  const digits = (neg ? -units : units).toString().padStart(scale + 1, "0")
  const int = digits.slice(0, digits.length - scale)
  const frac = digits.slice(digits.length - scale).replace(/0+$/, "")
  return (neg ? "-" : "") + int + (frac.length > 0 ? "." + frac : "")
}

export const SCHEMA_SQL = `
CREATE TABLE orders (
  client_order_id VARCHAR NOT NULL, strategy VARCHAR NOT NULL, instrument VARCHAR NOT NULL,
  side VARCHAR NOT NULL, type VARCHAR NOT NULL, qty DECIMAL(18,9) NOT NULL, price DECIMAL(18,9),
  submitted_ts BIGINT NOT NULL, accepted_ts BIGINT, first_fill_ts BIGINT, final_ts BIGINT,
  final_state VARCHAR NOT NULL);
CREATE TABLE fills (
  fill_id VARCHAR NOT NULL, client_order_id VARCHAR NOT NULL, strategy VARCHAR NOT NULL,
  instrument VARCHAR NOT NULL, side VARCHAR NOT NULL, price DECIMAL(18,9) NOT NULL,
  qty DECIMAL(18,9) NOT NULL, fee DECIMAL(18,9) NOT NULL, liquidity VARCHAR NOT NULL,
  ts BIGINT NOT NULL, arrival_mid DECIMAL(18,9));
CREATE TABLE risk_decisions (
  ts BIGINT NOT NULL, strategy VARCHAR NOT NULL, client_order_id VARCHAR, approved BOOLEAN NOT NULL,
  reason VARCHAR);
CREATE TABLE strategy_records (strategy VARCHAR NOT NULL, name VARCHAR NOT NULL, value VARCHAR NOT NULL, ts BIGINT NOT NULL);
CREATE TABLE marks (instrument VARCHAR NOT NULL, ts BIGINT NOT NULL, price DECIMAL(18,9) NOT NULL);
CREATE TABLE funding (strategy VARCHAR NOT NULL, instrument VARCHAR NOT NULL, ts BIGINT NOT NULL, amount DECIMAL(18,9) NOT NULL);
CREATE TABLE instruments (instrument VARCHAR NOT NULL, inverse BOOLEAN NOT NULL, contract_size DECIMAL(18,9) NOT NULL, currency VARCHAR NOT NULL);
`

export interface AnalyticsDb {
  readonly instance: DuckDBInstance
  readonly conn: DuckDBConnection
  readonly close: () => void
}

/** An in-memory DuckDB with the analytics schema. Nothing is downloaded: parquet is built in. */
export const openAnalyticsDb = async (path = ":memory:"): Promise<AnalyticsDb> => {
  const instance = await DuckDBInstance.create(path, { autoinstall_known_extensions: "false", autoload_known_extensions: "false" })
  const conn = await instance.connect()
  await conn.run(SCHEMA_SQL)
  return {
    instance,
    conn,
    close: () => {
      conn.closeSync()
      instance.closeSync()
    }
  }
}

interface Column<R> {
  readonly type: DuckDBType
  readonly get: (row: R) => DuckDBValue
}

const dec = <R>(table: string, field: string, pick: (r: R) => string | undefined): Column<R> => ({
  type: DECIMAL(18, SCALE),
  get: (r) => {
    const text = pick(r)
    return text === undefined ? null : new DuckDBDecimalValue(toUnits(text, table, field), 18, SCALE)
  }
})
const str = <R>(pick: (r: R) => string | undefined): Column<R> => ({ type: VARCHAR, get: (r) => pick(r) ?? null })
const ms = <R>(pick: (r: R) => number | undefined): Column<R> => ({
  type: BIGINT,
  get: (r) => {
    const v = pick(r)
    return v === undefined ? null : BigInt(v)
  }
})

const ORDER_COLUMNS: ReadonlyArray<Column<OrderRow>> = [
  str((r) => r.clientOrderId),
  str((r) => r.strategy),
  str((r) => r.instrument),
  str((r) => r.side),
  str((r) => r.type),
  dec("orders", "qty", (r) => r.qty),
  dec("orders", "price", (r) => r.price),
  ms((r) => r.submittedTs),
  ms((r) => r.acceptedTs),
  ms((r) => r.firstFillTs),
  ms((r) => r.finalTs),
  str((r) => r.finalState)
]
const FILL_COLUMNS: ReadonlyArray<Column<FillRow>> = [
  str((r) => r.fillId),
  str((r) => r.clientOrderId),
  str((r) => r.strategy),
  str((r) => r.instrument),
  str((r) => r.side),
  dec("fills", "price", (r) => r.price),
  dec("fills", "qty", (r) => r.qty),
  dec("fills", "fee", (r) => r.fee),
  str((r) => r.liquidity),
  ms((r) => r.ts),
  dec("fills", "arrival_mid", (r) => r.arrivalMid)
]
const RISK_COLUMNS: ReadonlyArray<Column<RiskDecisionRow>> = [
  ms((r) => r.ts),
  str((r) => r.strategy),
  str((r) => r.clientOrderId),
  { type: BOOLEAN, get: (r) => r.approved },
  str((r) => r.reason)
]
const RECORD_COLUMNS: ReadonlyArray<Column<StrategyRecordRow>> = [str((r) => r.strategy), str((r) => r.name), str((r) => r.value), ms((r) => r.ts)]
const MARK_COLUMNS: ReadonlyArray<Column<MarkRow>> = [str((r) => r.instrument), ms((r) => r.ts), dec("marks", "price", (r) => r.price)]

const FUNDING_COLUMNS: ReadonlyArray<Column<FundingRow>> = [str((r) => r.strategy), str((r) => r.instrument), ms((r) => r.ts), dec("funding", "amount", (r) => r.amount)]

const INSTRUMENT_COLUMNS: ReadonlyArray<Column<InstrumentRow>> = [
  str((r) => r.instrument),
  { type: BOOLEAN, get: (r) => r.inverse },
  dec("instruments", "contract_size", (r) => r.contractSize),
  str((r) => r.currency)
]

export const loadInstruments = async (conn: DuckDBConnection, rows: AsyncIterable<InstrumentRow> | Iterable<InstrumentRow>): Promise<number> =>
  appendRows(conn, "instruments", INSTRUMENT_COLUMNS, rows)

const CHUNK_ROWS = 2048

/**
 * Streams rows into `table` through DuckDB's appender, a data chunk (2048 rows, column-major)
 * at a time: row-by-row `appendX` calls cost ~3 µs each through the binding, chunks ~20× less.
 */
export const appendRows = async <R>(
  conn: DuckDBConnection,
  table: string,
  columns: ReadonlyArray<Column<R>>,
  rows: AsyncIterable<R> | Iterable<R>
): Promise<number> => {
  const appender = await conn.createAppender(table)
  const chunk = DuckDBDataChunk.create(columns.map((c) => c.type), CHUNK_ROWS)
  const buffers: DuckDBValue[][] = columns.map(() => [])
  let n = 0
  let pending = 0
  const flush = (): void => {
    if (pending === 0) return
    chunk.rowCount = pending
    chunk.setColumns(buffers)
    appender.appendDataChunk(chunk)
    for (const b of buffers) b.length = 0
    pending = 0
  }
  try {
    for await (const row of rows) {
      for (let c = 0; c < columns.length; c++) (buffers[c] as DuckDBValue[]).push((columns[c] as Column<R>).get(row))
      pending++
      n++
      if (pending === CHUNK_ROWS) flush()
    }
    flush()
    appender.flushSync()
  } finally {
    appender.closeSync()
  }
  return n
}

export interface LoadCounts {
  readonly orders: number
  readonly fills: number
  readonly riskDecisions: number
  readonly strategyRecords: number
  readonly marks: number
}

/** Loads every stream of `source` (one after the other: DuckDB appends on one connection). */
export const loadDataset = async (conn: DuckDBConnection, source: AnalyticsSource): Promise<LoadCounts> => {
  const orders = source.orders ? await appendRows(conn, "orders", ORDER_COLUMNS, source.orders) : 0
  const fills = source.fills ? await appendRows(conn, "fills", FILL_COLUMNS, source.fills) : 0
  const riskDecisions = source.riskDecisions ? await appendRows(conn, "risk_decisions", RISK_COLUMNS, source.riskDecisions) : 0
  const strategyRecords = source.strategyRecords ? await appendRows(conn, "strategy_records", RECORD_COLUMNS, source.strategyRecords) : 0
  const marks = source.marks ? await appendRows(conn, "marks", MARK_COLUMNS, source.marks) : 0
  // Funding rows are not in LoadCounts (a count of the input's main streams); they show in the report.
  if (source.funding) await appendRows(conn, "funding", FUNDING_COLUMNS, source.funding)
  if (source.instruments) await loadInstruments(conn, source.instruments)
  return { orders, fills, riskDecisions, strategyRecords, marks }
}
