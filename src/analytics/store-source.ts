import { Effect } from "effect"
import type { AuditRow, FillRow as StoreFillRow, StoreService } from "../actors/ports/store.js"
import type { SqlSession } from "../persistence/sql-client.js"
import { toUnits, type AnalyticsSource, type FillRow, type FundingRow, type OrderRow, type RiskDecisionRow, type Side } from "./dataset.js"

/**
 * The analytics source from the store (Postgres or PGlite): orders rebuilt from the audit
 * trail, fills from the `fills` table, risk decisions from `RiskApproved` / `RiskDenied`.
 *
 * - Orders: one row per client order id that reached the venue (`OrderSubmitted`, or any venue
 *   reply). `submittedTs` is the intent (first `SubmitOrder`) time, else `OrderSubmitted`'s;
 *   `acceptedTs` the first `OrderAccepted`; `firstFillTs` the first `OrderFilled`; the final state
 *   is the terminal event (`OrderCanceled`, `OrderRejected`, `OrderExpired`, or `filled` once the
 *   filled quantity reaches the (modified) order quantity), else the live state. Intents that
 *   risk denied are not orders: they show only as denials (as in the synthetic fixture).
 * - Strategy: the `strategy` of the intent / `OrderSubmitted`; without one (an order whose intent
 *   is missing from the audit), the client order id minus its `-<run36>-<seq36>` suffix.
 * - Fills: the `fills` table, plus `OrderFilled` audit rows whose fill id the table lacks (the
 *   projection writes the audit batch before the fills batch). Fees are taken as quote currency.
 * - Arrival mid: the store keeps no book, so `arrivalMid` is left unset and TCA/slippage is
 *   omitted (the report shows none). A limit price is not used as a stand-in: a passive order
 *   filled at its limit would always show zero slippage.
 * - Strategy records and marks are not in the store (unrealized PnL falls back to the last fill
 *   price, per the report's conventions).
 */

export interface StoreSourceOptions {
  readonly store: StoreService
  /**
   * The store's SQL session (the adapters' `app` handle). With it the audit and fills tables are
   * read in keyset pages (`id` / `(ts, fill_id)`) of `pageSize` rows; without it through the
   * port: one `queryAudit` with no practical limit and one `queryFills`.
   */
  readonly sql?: SqlSession | undefined
  readonly pageSize?: number | undefined
}

export interface StoreSource extends AnalyticsSource {
  readonly counts: { readonly auditRows: number; readonly orders: number; readonly riskDecisions: number; /** `OrderFilled` rows in the audit trail */ readonly auditFills: number }
}

/** Client order ids are `${strategy}-${run36}-${seq36}`; the strategy is everything before the last two `-` parts. */
export const strategyOfClientOrderId = (clientOrderId: string): string => {
  const last = clientOrderId.lastIndexOf("-")
  const before = last > 0 ? clientOrderId.lastIndexOf("-", last - 1) : -1
  return before > 0 ? clientOrderId.slice(0, before) : clientOrderId
}

/** Client order ids the Kraken adapter gives the venue's own liquidation orders (`liquidation-<order id>`). */
const LIQUIDATION_PREFIX = "liquidation-"

/** The audit event types the source reads. */
export const AUDIT_TYPES = [
  "SubmitOrder",
  "CancelAll",
  "OrderSubmitted",
  "OrderAccepted",
  "OrderRejected",
  "OrderModified",
  "OrderCanceled",
  "OrderExpired",
  "OrderFilled",
  "RiskApproved",
  "RiskDenied",
  "FundingPaid"
] as const

/** The slice of an audit row the source needs. */
export interface AuditEvent {
  readonly eventId: string
  readonly eventType: string
  readonly ts: number
  readonly clientOrderId: string | null
  readonly payload: unknown
}

const DEFAULT_PAGE = 10_000
const ms = (column: string): string => `(extract(epoch from ${column}) * 1000)::float8`
const TYPE_LIST = AUDIT_TYPES.map((t) => `'${t}'`).join(", ")

/** Keyset pages of the audit trail in id (= projection) order. */
export async function* pageAudit(sql: SqlSession, pageSize = DEFAULT_PAGE): AsyncGenerator<AuditEvent> {
  let after = "0"
  for (;;) {
    // Qualified: a bare `id` in ORDER BY would be the text output column ("10" < "9").
    const rows = await sql.query<{ id: string; event_id: string; event_type: string; ts: number; client_order_id: string | null; payload: unknown }>(
      `select id::text as id, event_id, event_type, ${ms("ts")} as ts, client_order_id, payload from audit_events
       where audit_events.id > $1::bigint and event_type in (${TYPE_LIST}) order by audit_events.id limit $2`,
      [after, pageSize]
    )
    for (const r of rows) yield { eventId: r.event_id, eventType: r.event_type, ts: r.ts, clientOrderId: r.client_order_id, payload: r.payload }
    const last = rows[rows.length - 1]
    if (last === undefined || rows.length < pageSize) return
    after = last.id
  }
}

interface FillPageRow {
  fill_id: string
  client_order_id: string
  instrument: string
  side: Side
  quantity: string
  price: string
  fee: string
  liquidity: "maker" | "taker" | null
  ts: number
  cursor: string
}

/** Keyset pages of the fills table in (ts, fill_id) order. */
export async function* pageFills(sql: SqlSession, pageSize = DEFAULT_PAGE): AsyncGenerator<Pick<StoreFillRow, "fillId" | "clientOrderId" | "instrument" | "side" | "quantity" | "price" | "fee" | "liquidity" | "ts">> {
  let after: { ts: string; id: string } | undefined
  for (;;) {
    const params: unknown[] = after === undefined ? [pageSize] : [pageSize, after.ts, after.id]
    const rows = await sql.query<FillPageRow>(
      `select fill_id, client_order_id, instrument, side, trim_scale(quantity)::text as quantity, trim_scale(price)::text as price,
         trim_scale(fee)::text as fee, liquidity, ${ms("ts")} as ts, to_char(ts at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as cursor
       from fills ${after === undefined ? "" : "where (ts, fill_id) > ($2::timestamptz, $3::text)"} order by fills.ts, fills.fill_id limit $1`,
      params
    )
    for (const r of rows) yield { fillId: r.fill_id, clientOrderId: r.client_order_id, instrument: r.instrument, side: r.side, quantity: r.quantity, price: r.price, fee: r.fee, liquidity: r.liquidity, ts: r.ts }
    const last = rows[rows.length - 1]
    if (last === undefined || rows.length < pageSize) return
    after = { ts: last.cursor, id: last.fill_id }
  }
}

type Payload = Readonly<Record<string, unknown>>
const text = (p: Payload, key: string): string | undefined => {
  const v = p[key]
  return typeof v === "string" ? v : undefined
}

interface OrderState {
  clientOrderId: string
  strategy: string | undefined
  instrument: string | undefined
  side: Side | undefined
  type: string | undefined
  qty: string | undefined
  price: string | undefined
  intentTs: number | undefined
  sentTs: number | undefined
  acceptedTs: number | undefined
  firstFillTs: number | undefined
  lastFillTs: number | undefined
  finalTs: number | undefined
  terminal: string | undefined
  filledUnits: bigint
  /** reached the venue (OrderSubmitted or a venue reply) */
  sent: boolean
}

const TERMINAL: Readonly<Record<string, string>> = { OrderCanceled: "canceled", OrderRejected: "rejected", OrderExpired: "expired" }

const newOrder = (clientOrderId: string): OrderState => ({
  clientOrderId,
  strategy: undefined,
  instrument: undefined,
  side: undefined,
  type: undefined,
  qty: undefined,
  price: undefined,
  intentTs: undefined,
  sentTs: undefined,
  acceptedTs: undefined,
  firstFillTs: undefined,
  lastFillTs: undefined,
  finalTs: undefined,
  terminal: undefined,
  filledUnits: 0n,
  sent: false
})

const round = (v: number): number => Math.round(v)

/** Reads the store and returns the source; orders and risk decisions are built in memory, fills stream. */
export const loadStoreSource = async (options: StoreSourceOptions): Promise<StoreSource> => {
  const { store, sql } = options
  const pageSize = options.pageSize ?? DEFAULT_PAGE
  const audit: AsyncIterable<AuditEvent> | Iterable<AuditRow> =
    sql !== undefined ? pageAudit(sql, pageSize) : await Effect.runPromise(store.queryAudit({ limit: 2 ** 31 - 1 }))

  const orders = new Map<string, OrderState>()
  const auditFills = new Map<string, FillRow>()
  const cancelAllStrategy = new Map<string, string>()
  const funding: Array<{ readonly instrument: string; readonly amount: string; readonly ts: number }> = []
  const decisions: Array<{ ts: number; clientOrderId: string | undefined; intentId: string | undefined; approved: boolean; reason: string | undefined }> = []
  let auditRows = 0
  const order = (id: string): OrderState => {
    let o = orders.get(id)
    if (o === undefined) {
      o = newOrder(id)
      orders.set(id, o)
    }
    return o
  }

  for await (const row of audit) {
    auditRows++
    const p = (row.payload ?? {}) as Payload
    const ts = round(row.ts)
    const coid = row.clientOrderId ?? text(p, "clientOrderId")
    switch (row.eventType) {
      case "SubmitOrder":
      case "OrderSubmitted": {
        if (coid === undefined) break
        const o = order(coid)
        o.strategy ??= text(p, "strategy")
        o.instrument ??= text(p, "instrument")
        o.side ??= text(p, "side") as Side | undefined
        o.type ??= text(p, "orderType")
        o.qty ??= text(p, "qty")
        o.price ??= text(p, "price")
        if (row.eventType === "SubmitOrder") o.intentTs ??= ts
        else {
          o.sentTs ??= ts
          o.sent = true
        }
        break
      }
      case "CancelAll": {
        const strategy = text(p, "strategy")
        if (strategy !== undefined) cancelAllStrategy.set(row.eventId, strategy)
        break
      }
      case "FundingPaid": {
        const instrument = text(p, "instrument")
        const amount = text(p, "amount")
        const venueTs = (p as Record<string, unknown>).venueTs
        if (instrument !== undefined && amount !== undefined) funding.push({ instrument, amount, ts: typeof venueTs === "number" ? round(venueTs) : ts })
        break
      }
      case "RiskApproved":
      case "RiskDenied":
        decisions.push({ ts, clientOrderId: coid, intentId: text(p, "intentId"), approved: row.eventType === "RiskApproved", reason: text(p, "reason") })
        break
      default: {
        if (coid === undefined) break
        const o = order(coid)
        o.sent = true
        o.instrument ??= text(p, "instrument")
        if (row.eventType === "OrderAccepted") o.acceptedTs ??= ts
        else if (row.eventType === "OrderModified") {
          o.qty = text(p, "qty") ?? o.qty
          o.price = text(p, "price") ?? o.price
        } else if (row.eventType === "OrderFilled") {
          o.firstFillTs ??= ts
          o.lastFillTs = ts
          const qty = text(p, "qty") ?? "0"
          o.filledUnits += toUnits(qty, "fills", "qty")
          o.side ??= text(p, "side") as Side | undefined
          const fillId = text(p, "fillId")
          if (fillId !== undefined && !auditFills.has(fillId)) {
            const liquidity = text(p, "liquidity")
            auditFills.set(fillId, {
              fillId,
              clientOrderId: coid,
              strategy: "",
              instrument: text(p, "instrument") ?? "",
              side: text(p, "side") as Side,
              price: text(p, "price") ?? "0",
              qty,
              fee: text(p, "fee") ?? "0",
              liquidity: liquidity === "maker" ? "maker" : "taker",
              ts
            })
          }
        } else {
          const terminal = TERMINAL[row.eventType]
          if (terminal !== undefined && o.terminal === undefined) {
            o.terminal = terminal
            o.finalTs = ts
          }
        }
      }
    }
  }

  // A netting account has one position per instrument, whoever traded it. Funding and the venue's
  // liquidation fills belong to that position: to the one strategy that traded the instrument,
  // else to `account` (the total is right either way; a per-strategy split would be a guess).
  const tradedBy = new Map<string, Set<string>>()
  for (const o of orders.values()) {
    if (o.instrument === undefined || o.clientOrderId.startsWith(LIQUIDATION_PREFIX)) continue
    const set = tradedBy.get(o.instrument) ?? new Set<string>()
    set.add(o.strategy ?? strategyOfClientOrderId(o.clientOrderId))
    tradedBy.set(o.instrument, set)
  }
  const positionOwner = (instrument: string): string => {
    const s = tradedBy.get(instrument)
    return s !== undefined && s.size === 1 ? ([...s][0] as string) : "account"
  }
  const strategyOf = (coid: string, instrument?: string): string =>
    coid.startsWith(LIQUIDATION_PREFIX) && instrument !== undefined ? positionOwner(instrument) : (orders.get(coid)?.strategy ?? strategyOfClientOrderId(coid))

  const orderRows: OrderRow[] = []
  for (const o of orders.values()) {
    const submittedTs = o.intentTs ?? o.sentTs ?? o.acceptedTs
    if (!o.sent || submittedTs === undefined || o.instrument === undefined || o.side === undefined || o.qty === undefined) continue
    let finalState = o.terminal
    let finalTs = o.finalTs
    if (finalState === undefined) {
      if (o.filledUnits > 0n && o.filledUnits >= toUnits(o.qty, "orders", "qty")) {
        finalState = "filled"
        finalTs = o.lastFillTs
      } else finalState = o.filledUnits > 0n ? "partiallyFilled" : o.acceptedTs !== undefined ? "accepted" : "submitted"
    }
    orderRows.push({
      clientOrderId: o.clientOrderId,
      strategy: o.strategy ?? strategyOfClientOrderId(o.clientOrderId),
      instrument: o.instrument,
      side: o.side,
      type: o.type ?? "limit",
      qty: o.qty,
      price: o.price,
      submittedTs,
      acceptedTs: o.acceptedTs,
      firstFillTs: o.firstFillTs,
      finalTs,
      finalState
    })
  }

  const riskRows: RiskDecisionRow[] = decisions.map((d) => ({
    ts: d.ts,
    strategy:
      d.clientOrderId !== undefined ? strategyOf(d.clientOrderId) : ((d.intentId === undefined ? undefined : cancelAllStrategy.get(d.intentId)) ?? "unknown"),
    clientOrderId: d.clientOrderId,
    approved: d.approved,
    reason: d.approved ? undefined : d.reason
  }))

  const toFill = (f: Pick<StoreFillRow, "fillId" | "clientOrderId" | "instrument" | "side" | "quantity" | "price" | "fee" | "liquidity" | "ts">): FillRow => ({
    fillId: f.fillId,
    clientOrderId: f.clientOrderId,
    strategy: strategyOf(f.clientOrderId, f.instrument),
    instrument: f.instrument,
    side: f.side,
    price: f.price,
    qty: f.quantity,
    fee: f.fee,
    liquidity: f.liquidity ?? "taker",
    ts: round(f.ts)
  })
  async function* fills(): AsyncGenerator<FillRow> {
    const table = sql !== undefined ? pageFills(sql, pageSize) : await Effect.runPromise(store.queryFills({}))
    for await (const f of table) {
      auditFills.delete(f.fillId)
      yield toFill(f)
    }
    for (const f of auditFills.values()) yield { ...f, strategy: strategyOf(f.clientOrderId, f.instrument) }
  }
  const fundingRows: FundingRow[] = funding.map((f) => ({ ...f, strategy: positionOwner(f.instrument) }))

  return {
    orders: orderRows,
    fills: { [Symbol.asyncIterator]: fills },
    riskDecisions: riskRows,
    funding: fundingRows,
    counts: { auditRows, orders: orderRows.length, riskDecisions: riskRows.length, auditFills: auditFills.size }
  }
}
