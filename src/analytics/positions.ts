import { BIGINT, DECIMAL, DuckDBDataChunk, DuckDBDecimal64Vector, DuckDBDecimalValue, INTEGER, type DuckDBVector, type DuckDBConnection, type DuckDBType, type DuckDBValue } from "@duckdb/node-api"

/**
 * Average-entry netting, the one part of the report that is not set-based: the entry price
 * after a fill depends on the whole path before it (a reduce keeps the average, an add moves
 * it, a flip resets it to the fill price), which no window function expresses. So DuckDB sorts
 * the fills, this pass walks them once in exact integer arithmetic (BigInt), and writes back
 * small tables — one row per (strategy, instrument, day) and one per closed round trip —
 * that the SQL metrics join. Nothing per fill is written back.
 *
 * Units: quantities and prices are integers of 10^-9 (the stored DECIMAL(18,9)); money
 * (cost basis, realized PnL, fees) is integers of 10^-18.
 */

export interface PositionState {
  /** Signed open quantity, 10^-9 units. */
  qty: bigint
  /** Signed cost basis of the open quantity (Σ price × signed qty), 10^-18 units. */
  cost: bigint
}

/** Division rounded half to even, so splitting a cost basis has no bias. */
export const divRoundHalfEven = (n: bigint, d: bigint): bigint => {
  if (d < 0n) return divRoundHalfEven(-n, -d)
  const q = n / d
  const r = n - q * d
  const twice = 2n * (r < 0n ? -r : r)
  if (twice < d) return q
  const away = n < 0n ? q - 1n : q + 1n
  if (twice > d) return away
  return q % 2n === 0n ? q : away
}

/**
 * Value of `signedQty` inverse contracts at `price` in the base currency, 10^-18 units:
 * qty × contractSize / price rounded half-even, as the domain's `inverseValue` (COST_DECIMALS 18)
 * — the one place 1/price is rounded. All three inputs are 10^-9 units.
 */
export const inverseValueUnits = (signedQty: bigint, contractSize: bigint, price: bigint): bigint =>
  divRoundHalfEven(signedQty * contractSize * 1_000_000_000n, price)

/**
 * Applies one fill (signed qty, price) to the position and returns the realized PnL.
 * Linear (`contractSize` undefined): a reduce realizes `close × price − (cost × close / |qty|)`
 * (the share of the basis rounded at 10^-18 and taken off the basis), so a round trip back to
 * flat realizes exactly its cash flow. Inverse (`contractSize` given, 10^-9 units): the basis is
 * Σ qty × contractSize / price in the base currency (`inverseValueUnits`, rounded per fill) and
 * a reduce realizes `share − close × contractSize / price` — the domain's `applyFill` step for
 * step, so the report's inverse PnL is the portfolio's to the last 10^-18.
 */
export const applyFill = (s: PositionState, signedQty: bigint, price: bigint, contractSize?: bigint): bigint => {
  const value = (qty: bigint): bigint => (contractSize === undefined ? price * qty : inverseValueUnits(qty, contractSize, price))
  const q = s.qty
  if (q === 0n || (q > 0n) === (signedQty > 0n)) {
    s.qty = q + signedQty
    s.cost += value(signedQty)
    return 0n
  }
  const absQ = q < 0n ? -q : q
  const absS = signedQty < 0n ? -signedQty : signedQty
  const close = absS < absQ ? absS : absQ
  const share = close === absQ ? s.cost : divRoundHalfEven(s.cost * close, absQ)
  const closed = value(q > 0n ? close : -close)
  const realized = contractSize === undefined ? closed - share : share - closed
  s.cost -= share
  s.qty = q + signedQty
  if (absS > absQ) s.cost = value(s.qty) // the flip's remainder opens at the fill price
  return realized
}

interface RoundTripAcc {
  openTs: number
  /** Realized, 10^-18. */
  pnl: bigint
  /** Fees, 10^-9. */
  fees: bigint
  fills: number
}

const ORDERED_FILLS_SQL = `
SELECT k.key_id, (f.ts // 86400000)::INTEGER AS day, f.ts,
       CASE WHEN f.side = 'buy' THEN f.qty ELSE -f.qty END AS sq, f.price AS p, f.fee
FROM fills f JOIN position_keys k USING (strategy, instrument)
ORDER BY k.key_id, f.ts, f.fill_id`

/** Per key: the contract size of an inverse instrument (10^-9 units), absent for linear. */
const INVERSE_KEYS_SQL = `
SELECT k.key_id, i.contract_size FROM position_keys k JOIN instruments i USING (instrument) WHERE i.inverse`

/**
 * Builds `position_keys`, `position_days` (realized, end-of-day position and basis, last fill
 * price, per key and day with fills) and `round_trips` (flat → flat, a flip closes one and
 * opens the next; PnL net of the fees of its fills, a flip fill's fee going to the trip it closes).
 */
export const runPositionPass = async (conn: DuckDBConnection): Promise<void> => {
  await conn.run(`
    CREATE OR REPLACE TABLE position_keys AS
      SELECT (row_number() OVER (ORDER BY strategy, instrument))::INTEGER AS key_id, strategy, instrument
      FROM (SELECT DISTINCT strategy, instrument FROM fills);
    CREATE OR REPLACE TABLE position_days_raw (key_id INTEGER, day INTEGER, realized DECIMAL(38,18),
      qty DECIMAL(38,9), cost DECIMAL(38,18), last_price DECIMAL(18,9));
    CREATE OR REPLACE TABLE round_trips_raw (key_id INTEGER, open_ts BIGINT, close_ts BIGINT, pnl DECIMAL(38,18), fills INTEGER);`)

  const dayRows: DuckDBValue[][] = [[], [], [], [], [], []]
  const tripRows: DuckDBValue[][] = [[], [], [], [], []]
  const inverseKeys = new Map<number, bigint>()
  const inv = await conn.run(INVERSE_KEYS_SQL)
  for (;;) {
    const chunk = await inv.fetchChunk()
    if (chunk === null || chunk.rowCount === 0) break
    const vSize = decimal64(chunk.getColumnVector(1))
    for (let i = 0; i < chunk.rowCount; i++) inverseKeys.set(chunk.getColumnVector(0).getItem(i) as number, vSize.getScaledValue(i) as bigint)
  }
  const result = await conn.run(ORDERED_FILLS_SQL)
  let contractSize: bigint | undefined

  let key = -1
  let day = -1
  let state: PositionState = { qty: 0n, cost: 0n }
  let realizedDay = 0n
  let lastPrice = 0n
  let trip: RoundTripAcc | undefined
  const endDay = (): void => {
    if (key < 0) return
    dayRows[0]?.push(key)
    dayRows[1]?.push(day)
    dayRows[2]?.push(money(realizedDay))
    dayRows[3]?.push(new DuckDBDecimalValue(state.qty, 38, 9))
    dayRows[4]?.push(money(state.cost))
    dayRows[5]?.push(new DuckDBDecimalValue(lastPrice, 18, 9))
    realizedDay = 0n
  }
  for (;;) {
    const chunk = await result.fetchChunk()
    // read once: the getter is a call into the binding, ~60 ns, which adds up over 1M rows
    const rows = chunk?.rowCount ?? 0
    if (chunk === null || rows === 0) break
    const vKey = chunk.getColumnVector(0)
    const vDay = chunk.getColumnVector(1)
    const vTs = chunk.getColumnVector(2)
    // DECIMAL(18,9) read as its int64 (units of 10^-9): casting to BIGINT in SQL costs ~1 µs a value.
    const vQty = decimal64(chunk.getColumnVector(3))
    const vPrice = decimal64(chunk.getColumnVector(4))
    const vFee = decimal64(chunk.getColumnVector(5))
    for (let i = 0; i < rows; i++) {
      const k = vKey.getItem(i) as number
      const d = vDay.getItem(i) as number
      if (k !== key) {
        endDay()
        key = k
        day = d
        state = { qty: 0n, cost: 0n }
        trip = undefined
        contractSize = inverseKeys.get(k)
      } else if (d !== day) {
        endDay()
        day = d
      }
      const sq = vQty.getScaledValue(i) as bigint
      const p = vPrice.getScaledValue(i) as bigint
      const before = state.qty
      const realized = applyFill(state, sq, p, contractSize)
      if (realized !== 0n) realizedDay += realized
      lastPrice = p
      // timestamps are read only where a trip opens or closes; fees stay in 10^-9 until it closes
      trip ??= { openTs: Number(vTs.getItem(i) as bigint), pnl: 0n, fees: 0n, fills: 0 }
      if (realized !== 0n) trip.pnl += realized
      trip.fees += vFee.getScaledValue(i) as bigint
      trip.fills++
      const closed = before !== 0n && (state.qty === 0n || (before > 0n) !== (state.qty > 0n))
      if (closed) {
        const ts = Number(vTs.getItem(i) as bigint)
        tripRows[0]?.push(key)
        tripRows[1]?.push(BigInt(trip.openTs))
        tripRows[2]?.push(BigInt(ts))
        tripRows[3]?.push(money(trip.pnl - trip.fees * 1_000_000_000n))
        tripRows[4]?.push(trip.fills)
        trip = state.qty === 0n ? undefined : { openTs: ts, pnl: 0n, fees: 0n, fills: 0 }
      }
    }
  }
  endDay()
  await appendColumns(conn, "position_days_raw", [INTEGER, INTEGER, DECIMAL(38, 18), DECIMAL(38, 9), DECIMAL(38, 18), DECIMAL(18, 9)], dayRows)
  await appendColumns(conn, "round_trips_raw", [INTEGER, BIGINT, BIGINT, DECIMAL(38, 18), INTEGER], tripRows)
}

const decimal64 = (v: DuckDBVector): DuckDBDecimal64Vector => {
  if (v instanceof DuckDBDecimal64Vector && v.type.scale === 9) return v
  throw new Error(`position pass: expected a DECIMAL(18,9) column, got ${v.type.toString()}`)
}

const money = (units: bigint): DuckDBDecimalValue => new DuckDBDecimalValue(units, 38, 18)

const appendColumns = async (conn: DuckDBConnection, table: string, types: ReadonlyArray<DuckDBType>, columns: DuckDBValue[][]): Promise<void> => {
  const total = columns[0]?.length ?? 0
  if (total === 0) return
  const appender = await conn.createAppender(table)
  const chunk = DuckDBDataChunk.create([...types], 2048)
  try {
    for (let start = 0; start < total; start += 2048) {
      const end = Math.min(total, start + 2048)
      chunk.rowCount = end - start
      chunk.setColumns(columns.map((c) => c.slice(start, end)))
      appender.appendDataChunk(chunk)
    }
    appender.flushSync()
  } finally {
    appender.closeSync()
  }
}
