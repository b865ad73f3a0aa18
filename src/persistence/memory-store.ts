import { Effect, Option } from "effect"
import type { JournalOffset } from "../actors/ports/journal.js"
import {
  StoreError,
  TERMINAL_ORDER_STATUSES,
  type ActorSnapshot,
  type AuditRow,
  type FillRow,
  type OrderChange,
  type OrderRow,
  type PositionRow,
  type StoreService
} from "../actors/ports/store.js"
import { Decimal } from "../domain/decimal.js"

/**
 * The `Store` service in memory: the same contract as the SQL adapters (test/persistence/
 * store.contract.ts), for the deterministic simulation, where a PGlite per seed (or per crash)
 * would cost more than the whole seed. Nothing survives the process; a simulated crash keeps
 * the same instance (the database outlives the daemon, as a real one does).
 *
 * The SQL semantics it mirrors: decimals are `numeric(38,18)` (rounded to 18 places, trailing
 * zeros trimmed, text that is not a number refused), timestamps are ms, JSON columns are copies
 * (`jsonb`: a caller mutating what it saved changes nothing), the audit trail is append-only
 * (there is no operation that updates or deletes a row), and every projected row only moves
 * forward in its journal partition.
 */

const SCALE = 18

class NotANumber extends Error {
  readonly code = "22P02"
}

const dec = (text: string): string => {
  let d: Decimal
  try {
    d = new Decimal(text)
  } catch {
    throw new NotANumber(`invalid input syntax for type numeric: ${JSON.stringify(text)}`)
  }
  if (!d.isFinite()) throw new NotANumber(`invalid input syntax for type numeric: ${JSON.stringify(text)}`)
  return d.toDecimalPlaces(SCALE).toFixed()
}
const decOrNull = (text: string | null): string | null => (text === null ? null : dec(text))

const json = <A>(value: A): A => JSON.parse(JSON.stringify(value)) as A

const run = <A>(op: string, f: () => A): Effect.Effect<A, StoreError> =>
  Effect.try({ try: f, catch: (cause) => new StoreError({ op, code: cause instanceof NotANumber ? cause.code : undefined, cause }) })

/** True when `next` may replace a row projected from `current` (SQL: the `NEWER` guard). */
const newer = (current: JournalOffset, next: JournalOffset): boolean =>
  current.topic !== next.topic || current.partition !== next.partition || BigInt(current.offset) < BigInt(next.offset)

const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

const TERMINAL = new Set<string>(TERMINAL_ORDER_STATUSES)

export interface MemoryStore extends StoreService {
  /** Rows held, per table (tests and the simulation's reports). */
  readonly sizes: () => { readonly audit: number; readonly orders: number; readonly fills: number; readonly positions: number; readonly snapshots: number }
}

export const makeMemoryStore = (): MemoryStore => {
  let migrated = false
  const audit: AuditRow[] = []
  const auditKeys = new Set<string>()
  const snapshots = new Map<string, ActorSnapshot>()
  const orders = new Map<string, OrderRow>()
  const fills = new Map<string, FillRow>()
  const positions = new Map<string, PositionRow>()
  const keyOf = (o: JournalOffset): string => `${o.topic}\u0000${o.partition}\u0000${o.offset}`
  const orderKey = (account: string, clientOrderId: string): string => `${account}\u0000${clientOrderId}`

  const applyChange = (c: OrderChange): boolean => {
    const k = orderKey(c.account, c.clientOrderId)
    const row = orders.get(k)
    if (row === undefined || !newer(row.source, c.source)) return false
    const moved = { updatedAt: c.updatedAt, source: c.source }
    switch (c.kind) {
      case "status": {
        const status = TERMINAL.has(row.status)
          ? row.status
          : c.status === "accepted"
            ? row.status === "initialized" || row.status === "submitted"
              ? "accepted"
              : row.status
            : c.status === "reopened"
              ? row.status === "pendingCancel"
                ? new Decimal(row.filledQuantity).gt(0)
                  ? "partiallyFilled"
                  : "accepted"
                : row.status
              : c.status
        orders.set(k, { ...row, ...moved, status, venueOrderId: c.venueOrderId ?? row.venueOrderId })
        return true
      }
      case "fill": {
        const qty = new Decimal(dec(c.quantity))
        const price = new Decimal(dec(c.price))
        const filled = new Decimal(row.filledQuantity)
        const total = filled.plus(qty)
        const avg = new Decimal(row.avgFillPrice ?? 0).times(filled).plus(qty.times(price)).div(total)
        const status = total.gte(row.quantity) ? "filled" : TERMINAL.has(row.status) || row.status === "pendingCancel" ? row.status : "partiallyFilled"
        orders.set(k, { ...row, ...moved, avgFillPrice: dec(avg.toFixed()), filledQuantity: dec(total.toFixed()), status, venueOrderId: row.venueOrderId ?? c.venueOrderId })
        return true
      }
      case "modified":
        orders.set(k, { ...row, ...moved, quantity: c.quantity === null ? row.quantity : dec(c.quantity), price: c.price === null ? row.price : dec(c.price) })
        return true
    }
  }

  const store: MemoryStore = {
    migrate: () =>
      run("migrate", () => {
        const applied = migrated ? [] : [1]
        migrated = true
        return { applied, current: 1 }
      }),

    appendAudit: (rows) =>
      run("appendAudit", () => {
        let inserted = 0
        for (const r of rows) {
          const k = keyOf(r.source)
          if (auditKeys.has(k)) continue
          auditKeys.add(k)
          audit.push(Object.freeze(json(r)))
          inserted++
        }
        return inserted
      }),

    queryAudit: (q) =>
      run("queryAudit", () => {
        const matching = audit.filter((r) => (q.account === undefined || r.account === q.account) && (q.clientOrderId === undefined || r.clientOrderId === q.clientOrderId))
        const limit = q.limit ?? 1000
        return json(limit <= 0 ? [] : matching.slice(Math.max(0, matching.length - limit)))
      }),

    auditHighWatermark: () =>
      run("auditHighWatermark", () => {
        const next = new Map<string, JournalOffset>()
        for (const r of audit) {
          const k = `${r.source.topic}\u0000${r.source.partition}`
          const at = BigInt(r.source.offset) + 1n
          const seen = next.get(k)
          if (seen === undefined || BigInt(seen.offset) < at) next.set(k, { topic: r.source.topic, partition: r.source.partition, offset: at.toString() })
        }
        return [...next.values()].sort((a, b) => byText(a.topic, b.topic) || a.partition - b.partition)
      }),

    saveSnapshot: (s) =>
      run("saveSnapshot", () => {
        snapshots.set(s.actorId, json(s))
      }),

    loadSnapshot: (actorId) =>
      run("loadSnapshot", () => {
        const s = snapshots.get(actorId)
        return s === undefined ? Option.none() : Option.some(json(s))
      }),

    upsertOrder: (o) =>
      run("upsertOrder", () => {
        const k = orderKey(o.account, o.clientOrderId)
        const row = orders.get(k)
        if (row !== undefined && !newer(row.source, o.source)) return false
        orders.set(k, { ...o, quantity: dec(o.quantity), price: decOrNull(o.price), filledQuantity: dec(o.filledQuantity), avgFillPrice: decOrNull(o.avgFillPrice), source: { ...o.source } })
        return true
      }),

    applyOrderChange: (c) => run("applyOrderChange", () => applyChange(c)),

    insertFills: (rows) =>
      run("insertFills", () => {
        // As the SQL adapter: one statement per fill, so the rows before a bad one stay inserted.
        let inserted = 0
        for (const f of rows) {
          if (fills.has(f.fillId)) continue
          fills.set(f.fillId, { ...f, quantity: dec(f.quantity), price: dec(f.price), fee: dec(f.fee), source: { ...f.source } })
          inserted++
        }
        return inserted
      }),

    upsertPosition: (p) =>
      run("upsertPosition", () => {
        const k = orderKey(p.account, p.instrument)
        const row = positions.get(k)
        if (row !== undefined && !newer(row.source, p.source)) return false
        positions.set(k, { ...p, quantity: dec(p.quantity), avgEntryPrice: decOrNull(p.avgEntryPrice), realizedPnl: dec(p.realizedPnl), source: { ...p.source } })
        return true
      }),

    queryOrders: (q) =>
      run("queryOrders", () =>
        [...orders.values()]
          .filter(
            (o) =>
              (q.account === undefined || o.account === q.account) &&
              (q.instrument === undefined || o.instrument === q.instrument) &&
              (q.open === undefined || q.open !== TERMINAL.has(o.status))
          )
          .sort((a, b) => byText(a.account, b.account) || byText(a.clientOrderId, b.clientOrderId))
          .map((o) => ({ ...o, source: { ...o.source } }))
      ),

    queryFills: (q) =>
      run("queryFills", () =>
        [...fills.values()]
          .filter(
            (f) =>
              (q.account === undefined || f.account === q.account) &&
              (q.clientOrderId === undefined || f.clientOrderId === q.clientOrderId) &&
              (q.instrument === undefined || f.instrument === q.instrument)
          )
          .sort((a, b) => a.ts - b.ts || byText(a.fillId, b.fillId))
          .map((f) => ({ ...f, source: { ...f.source } }))
      ),

    queryPositions: (q) =>
      run("queryPositions", () =>
        [...positions.values()]
          .filter((p) => q.account === undefined || p.account === q.account)
          .sort((a, b) => byText(a.account, b.account) || byText(a.instrument, b.instrument))
          .map((p) => ({ ...p, source: { ...p.source } }))
      ),

    close: () => Effect.void,

    sizes: () => ({ audit: audit.length, orders: orders.size, fills: fills.size, positions: positions.size, snapshots: snapshots.size })
  }
  return store
}
