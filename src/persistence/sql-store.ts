import { Effect, Option } from "effect"
import { isJournalTopic, journalOffset, type JournalOffset, type JournalTopic } from "../actors/ports/journal.js"
import {
  StoreError,
  type ActorSnapshot,
  type AuditKind,
  type AuditRow,
  type FillRow,
  type MigrationReport,
  type OrderRow,
  type OrderStatus,
  type PositionRow,
  type Side,
  type StoreService
} from "../actors/ports/store.js"
import type { SqlClient } from "./sql-client.js"

/**
 * The `Store` service over any `SqlClient`: the statements both adapters share. Decimals go in
 * as text and come out through `trim_scale(x)::text`; timestamps go in as ISO text and come out
 * as epoch ms.
 */

const AUDIT_BATCH = 500

const iso = (ms: number): string => new Date(ms).toISOString()
const ms = (column: string): string => `(extract(epoch from ${column}) * 1000)::float8`
const dec = (column: string): string => `trim_scale(${column})::text`

const sqlState = (cause: unknown): string | undefined => {
  const code = (cause as { code?: unknown } | null)?.code
  return typeof code === "string" ? code : undefined
}

const run = <A>(op: string, f: () => Promise<A>): Effect.Effect<A, StoreError> =>
  Effect.tryPromise({ try: f, catch: (cause) => new StoreError({ op, code: sqlState(cause), cause }) })

const source = (topic: string, partition: number, offset: string): JournalOffset => {
  if (!isJournalTopic(topic)) throw new Error(`unknown journal topic ${JSON.stringify(topic)} in the store`)
  return journalOffset(topic as JournalTopic, partition, BigInt(offset))
}

/** `where` clause and params from optional equality filters. */
const filters = (pairs: ReadonlyArray<readonly [string, unknown]>, extra: ReadonlyArray<string> = []): { where: string; params: unknown[] } => {
  const params: unknown[] = []
  const clauses = [...extra]
  for (const [column, value] of pairs) {
    if (value === undefined) continue
    params.push(value)
    clauses.push(`${column} = $${params.length}`)
  }
  return { where: clauses.length === 0 ? "" : `where ${clauses.join(" and ")}`, params }
}

const SOURCE_COLUMNS = "source_topic, source_partition, source_offset::text as source_offset"
interface SourceColumns {
  source_topic: string
  source_partition: number
  source_offset: string
}

interface AuditDb extends SourceColumns {
  event_id: string
  event_type: string
  kind: AuditKind
  ts: number
  account: string | null
  instrument: string | null
  client_order_id: string | null
  payload: unknown
}
interface OrderDb extends SourceColumns {
  account: string
  client_order_id: string
  venue_order_id: string | null
  instrument: string
  strategy: string | null
  side: Side
  order_type: string
  quantity: string
  price: string | null
  filled_quantity: string
  avg_fill_price: string | null
  status: OrderStatus
  updated_at: number
}
interface FillDb extends SourceColumns {
  fill_id: string
  account: string
  client_order_id: string
  venue_order_id: string | null
  instrument: string
  side: Side
  quantity: string
  price: string
  fee: string
  fee_currency: string | null
  liquidity: "maker" | "taker" | null
  ts: number
}
interface PositionDb extends SourceColumns {
  account: string
  instrument: string
  quantity: string
  avg_entry_price: string | null
  realized_pnl: string
  updated_at: number
}

const ORDER_SELECT = `select account, client_order_id, venue_order_id, instrument, strategy, side, order_type,
  ${dec("quantity")} as quantity, ${dec("price")} as price, ${dec("filled_quantity")} as filled_quantity,
  ${dec("avg_fill_price")} as avg_fill_price, status, ${ms("updated_at")} as updated_at, ${SOURCE_COLUMNS} from orders`

const FILL_SELECT = `select fill_id, account, client_order_id, venue_order_id, instrument, side, ${dec("quantity")} as quantity,
  ${dec("price")} as price, ${dec("fee")} as fee, fee_currency, liquidity, ${ms("ts")} as ts, ${SOURCE_COLUMNS} from fills`

const POSITION_SELECT = `select account, instrument, ${dec("quantity")} as quantity, ${dec("avg_entry_price")} as avg_entry_price,
  ${dec("realized_pnl")} as realized_pnl, ${ms("updated_at")} as updated_at, ${SOURCE_COLUMNS} from positions`

// An upsert applies unless the stored row came from a later record of the same partition.
const NEWER = (table: string): string =>
  `${table}.source_topic <> excluded.source_topic or ${table}.source_partition <> excluded.source_partition or ${table}.source_offset < excluded.source_offset`

export interface SqlStoreOptions {
  /** The application's connection (runs as `troupe_app` where roles exist). */
  readonly app: SqlClient
  readonly migrate: () => Promise<{ applied: number[]; current: number }>
  readonly close: () => Promise<void>
}

export const makeSqlStore = ({ app, migrate, close }: SqlStoreOptions): StoreService => {
  let closed: Promise<void> | undefined
  return {
    migrate: (): Effect.Effect<MigrationReport, StoreError> => run("migrate", migrate),

    appendAudit: (rows) =>
      run("appendAudit", async () => {
        let inserted = 0
        for (let i = 0; i < rows.length; i += AUDIT_BATCH) {
          const batch = rows.slice(i, i + AUDIT_BATCH)
          const params: unknown[] = []
          const values = batch.map((r) => {
            const at = params.length
            params.push(r.source.topic, r.source.partition, r.source.offset, r.eventId, r.eventType, r.kind, iso(r.ts), r.account, r.instrument, r.clientOrderId, JSON.stringify(r.payload))
            return `(${Array.from({ length: 11 }, (_, k) => `$${at + k + 1}`).join(", ")}::jsonb)`
          })
          const result = await app.query(
            `insert into audit_events (journal_topic, journal_partition, journal_offset, event_id, event_type, kind, ts, account, instrument, client_order_id, payload)
             values ${values.join(", ")}
             on conflict (journal_topic, journal_partition, journal_offset) do nothing returning 1 as inserted`,
            params
          )
          inserted += result.length
        }
        return inserted
      }),

    queryAudit: (q) =>
      run("queryAudit", async () => {
        const { where, params } = filters([
          ["account", q.account],
          ["client_order_id", q.clientOrderId]
        ])
        params.push(q.limit ?? 1000)
        const rows = await app.query<AuditDb>(
          `select * from (select journal_topic as source_topic, journal_partition as source_partition, journal_offset::text as source_offset, event_id,
             event_type, kind, ${ms("ts")} as ts, account, instrument, client_order_id, payload, id from audit_events ${where} order by id desc limit $${params.length}) newest order by id`,
          params
        )
        return rows.map(
          (r): AuditRow => ({
            source: source(r.source_topic, r.source_partition, r.source_offset),
            eventId: r.event_id,
            eventType: r.event_type,
            kind: r.kind,
            ts: r.ts,
            account: r.account,
            instrument: r.instrument,
            clientOrderId: r.client_order_id,
            payload: r.payload
          })
        )
      }),

    auditHighWatermark: () =>
      run("auditHighWatermark", async () => {
        const rows = await app.query<{ journal_topic: string; journal_partition: number; next: string }>(
          `select journal_topic, journal_partition, (max(journal_offset) + 1)::text as next from audit_events group by 1, 2 order by 1, 2`
        )
        return rows.map((r) => source(r.journal_topic, r.journal_partition, r.next))
      }),

    saveSnapshot: (s) =>
      run("saveSnapshot", async () => {
        await app.query(
          `insert into snapshots (actor_id, machine_version, snapshot, offsets, taken_at) values ($1, $2, $3::jsonb, $4::jsonb, $5)
           on conflict (actor_id) do update set machine_version = excluded.machine_version, snapshot = excluded.snapshot,
             offsets = excluded.offsets, taken_at = excluded.taken_at`,
          [s.actorId, s.machineVersion, JSON.stringify(s.snapshot), JSON.stringify(s.offsets), iso(s.takenAt)]
        )
      }),

    loadSnapshot: (actorId) =>
      run("loadSnapshot", async () => {
        const rows = await app.query<{ machine_version: string; snapshot: unknown; offsets: JournalOffset[]; taken_at: number }>(
          `select machine_version, snapshot, offsets, ${ms("taken_at")} as taken_at from snapshots where actor_id = $1`,
          [actorId]
        )
        const r = rows[0]
        return r === undefined
          ? Option.none()
          : Option.some<ActorSnapshot>({ actorId, machineVersion: r.machine_version, snapshot: r.snapshot, offsets: r.offsets, takenAt: r.taken_at })
      }),

    upsertOrder: (o) =>
      run("upsertOrder", async () => {
        const rows = await app.query(
          `insert into orders (account, client_order_id, venue_order_id, instrument, strategy, side, order_type, quantity, price, filled_quantity,
             avg_fill_price, status, updated_at, source_topic, source_partition, source_offset)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
           on conflict (account, client_order_id) do update set venue_order_id = excluded.venue_order_id, instrument = excluded.instrument,
             strategy = excluded.strategy, side = excluded.side, order_type = excluded.order_type, quantity = excluded.quantity, price = excluded.price,
             filled_quantity = excluded.filled_quantity, avg_fill_price = excluded.avg_fill_price, status = excluded.status,
             updated_at = excluded.updated_at, source_topic = excluded.source_topic, source_partition = excluded.source_partition,
             source_offset = excluded.source_offset
           where ${NEWER("orders")}
           returning 1 as applied`,
          [
            o.account,
            o.clientOrderId,
            o.venueOrderId,
            o.instrument,
            o.strategy,
            o.side,
            o.orderType,
            o.quantity,
            o.price,
            o.filledQuantity,
            o.avgFillPrice,
            o.status,
            iso(o.updatedAt),
            o.source.topic,
            o.source.partition,
            o.source.offset
          ]
        )
        return rows.length === 1
      }),

    applyOrderChange: (c) =>
      run("applyOrderChange", async () => {
        const terminal = `('denied', 'rejected', 'filled', 'canceled', 'expired')`
        // Positional parameters: $1 account, $2 client order id, $3 updated_at, $4-$6 source; then the change's own.
        const guard = `where account = $1 and client_order_id = $2 and (source_topic <> $4 or source_partition <> $5 or source_offset < $6)`
        const moved = `updated_at = $3, source_topic = $4, source_partition = $5, source_offset = $6`
        const base = [c.account, c.clientOrderId, iso(c.updatedAt), c.source.topic, c.source.partition, c.source.offset]
        let rows: ReadonlyArray<unknown>
        switch (c.kind) {
          case "status":
            rows = await app.query(
              `update orders set status = case
                   when status in ${terminal} then status
                   when $7::text = 'accepted' then (case when status in ('initialized', 'submitted') then 'accepted' else status end)
                   when $7::text = 'reopened' then (case when status = 'pendingCancel' then (case when filled_quantity > 0 then 'partiallyFilled' else 'accepted' end) else status end)
                   else $7::text end,
                 venue_order_id = coalesce($8::text, venue_order_id), ${moved}
               ${guard} returning 1 as applied`,
              [...base, c.status, c.venueOrderId]
            )
            break
          case "fill":
            rows = await app.query(
              `update orders set
                 avg_fill_price = (coalesce(avg_fill_price, 0) * filled_quantity + $7::numeric * $8::numeric) / (filled_quantity + $7::numeric),
                 filled_quantity = filled_quantity + $7::numeric,
                 status = case when filled_quantity + $7::numeric >= quantity then 'filled'
                   when status in ${terminal} or status = 'pendingCancel' then status else 'partiallyFilled' end,
                 venue_order_id = coalesce(venue_order_id, $9::text), ${moved}
               ${guard} returning 1 as applied`,
              [...base, c.quantity, c.price, c.venueOrderId]
            )
            break
          case "modified":
            rows = await app.query(
              `update orders set quantity = coalesce($7::numeric, quantity), price = coalesce($8::numeric, price), ${moved}
               ${guard} returning 1 as applied`,
              [...base, c.quantity, c.price]
            )
            break
        }
        return rows.length === 1
      }),

    insertFills: (fills) =>
      run("insertFills", async () => {
        let inserted = 0
        for (const f of fills) {
          const rows = await app.query(
            `insert into fills (fill_id, account, client_order_id, venue_order_id, instrument, side, quantity, price, fee, fee_currency, liquidity, ts,
               source_topic, source_partition, source_offset)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
             on conflict (fill_id) do nothing returning 1 as inserted`,
            [f.fillId, f.account, f.clientOrderId, f.venueOrderId, f.instrument, f.side, f.quantity, f.price, f.fee, f.feeCurrency, f.liquidity, iso(f.ts), f.source.topic, f.source.partition, f.source.offset]
          )
          inserted += rows.length
        }
        return inserted
      }),

    upsertPosition: (p) =>
      run("upsertPosition", async () => {
        const rows = await app.query(
          `insert into positions (account, instrument, quantity, avg_entry_price, realized_pnl, updated_at, source_topic, source_partition, source_offset)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
           on conflict (account, instrument) do update set quantity = excluded.quantity, avg_entry_price = excluded.avg_entry_price,
             realized_pnl = excluded.realized_pnl, updated_at = excluded.updated_at, source_topic = excluded.source_topic,
             source_partition = excluded.source_partition, source_offset = excluded.source_offset
           where ${NEWER("positions")}
           returning 1 as applied`,
          [p.account, p.instrument, p.quantity, p.avgEntryPrice, p.realizedPnl, iso(p.updatedAt), p.source.topic, p.source.partition, p.source.offset]
        )
        return rows.length === 1
      }),

    queryOrders: (q) =>
      run("queryOrders", async () => {
        const { where, params } = filters(
          [
            ["account", q.account],
            ["instrument", q.instrument]
          ],
          q.open === undefined ? [] : [q.open ? "is_open" : "not is_open"]
        )
        const rows = await app.query<OrderDb>(`${ORDER_SELECT} ${where} order by account, client_order_id`, params)
        return rows.map(
          (r): OrderRow => ({
            account: r.account,
            clientOrderId: r.client_order_id,
            venueOrderId: r.venue_order_id,
            instrument: r.instrument,
            strategy: r.strategy,
            side: r.side,
            orderType: r.order_type,
            quantity: r.quantity,
            price: r.price,
            filledQuantity: r.filled_quantity,
            avgFillPrice: r.avg_fill_price,
            status: r.status,
            updatedAt: r.updated_at,
            source: source(r.source_topic, r.source_partition, r.source_offset)
          })
        )
      }),

    queryFills: (q) =>
      run("queryFills", async () => {
        const { where, params } = filters([
          ["account", q.account],
          ["client_order_id", q.clientOrderId],
          ["instrument", q.instrument]
        ])
        const rows = await app.query<FillDb>(`${FILL_SELECT} ${where} order by ts, fill_id`, params)
        return rows.map(
          (r): FillRow => ({
            fillId: r.fill_id,
            account: r.account,
            clientOrderId: r.client_order_id,
            venueOrderId: r.venue_order_id,
            instrument: r.instrument,
            side: r.side,
            quantity: r.quantity,
            price: r.price,
            fee: r.fee,
            feeCurrency: r.fee_currency,
            liquidity: r.liquidity,
            ts: r.ts,
            source: source(r.source_topic, r.source_partition, r.source_offset)
          })
        )
      }),

    queryPositions: (q) =>
      run("queryPositions", async () => {
        const { where, params } = filters([["account", q.account]])
        const rows = await app.query<PositionDb>(`${POSITION_SELECT} ${where} order by account, instrument`, params)
        return rows.map(
          (r): PositionRow => ({
            account: r.account,
            instrument: r.instrument,
            quantity: r.quantity,
            avgEntryPrice: r.avg_entry_price,
            realizedPnl: r.realized_pnl,
            updatedAt: r.updated_at,
            source: source(r.source_topic, r.source_partition, r.source_offset)
          })
        )
      }),

    close: () =>
      Effect.promise(() => {
        closed ??= close().catch(() => undefined)
        return closed
      })
  }
}
