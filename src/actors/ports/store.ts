import { Context, Data, type Effect, type Option } from "effect"
import type { JournalOffset } from "./journal.js"

/**
 * The store port: snapshots, the append-only audit trail and the read projections (orders,
 * fills, positions). Adapters: Postgres (`pg`) and embedded PGlite, sharing one SQL dialect
 * and one list of versioned migrations (`persistence/migrations.ts`).
 *
 * Decimals cross this port as decimal text (`"0.015"`), never as JS numbers; timestamps are ms
 * since the epoch from the injected clock. Every projected row carries the journal position it
 * came from (`source`), which makes replaying the journal into the store idempotent.
 */

export const AUDIT_KINDS = ["order_action", "risk_decision", "venue_reply", "reconciliation", "operator_action"] as const
export type AuditKind = (typeof AUDIT_KINDS)[number]

/** One row of the audit trail; unique on `source`, so a replayed event is inserted once. */
export interface AuditRow {
  readonly source: JournalOffset
  readonly eventId: string
  /** The canonical event's type name, e.g. `OrderAccepted`. */
  readonly eventType: string
  readonly kind: AuditKind
  readonly ts: number
  readonly account: string | null
  readonly instrument: string | null
  readonly clientOrderId: string | null
  /** The decoded event as JSON (decimals as text). */
  readonly payload: unknown
}

export interface ActorSnapshot {
  readonly actorId: string
  /** Id + version of the machine definition; a snapshot of another version is not restored. */
  readonly machineVersion: string
  /** XState persisted snapshot plus actor data, as JSON. */
  readonly snapshot: unknown
  /** The journal positions the snapshot covers: replay resumes at these (exclusive ends). */
  readonly offsets: ReadonlyArray<JournalOffset>
  readonly takenAt: number
}

export const ORDER_STATUSES = [
  "initialized",
  "denied",
  "submitted",
  "accepted",
  "rejected",
  "pendingUpdate",
  "pendingCancel",
  "partiallyFilled",
  "filled",
  "canceled",
  "expired",
  "triggered"
] as const
export type OrderStatus = (typeof ORDER_STATUSES)[number]
/** Terminal statuses; every other status counts as open (may be live at the venue). */
export const TERMINAL_ORDER_STATUSES: ReadonlyArray<OrderStatus> = ["denied", "rejected", "filled", "canceled", "expired"]

export type Side = "buy" | "sell"

export interface OrderRow {
  readonly account: string
  readonly clientOrderId: string
  readonly venueOrderId: string | null
  readonly instrument: string
  readonly strategy: string | null
  readonly side: Side
  readonly orderType: string
  readonly quantity: string
  readonly price: string | null
  readonly filledQuantity: string
  readonly avgFillPrice: string | null
  readonly status: OrderStatus
  readonly updatedAt: number
  /** The journal record this state was projected from; older sources never overwrite newer. */
  readonly source: JournalOffset
}

/**
 * A later fact about an order whose row `OrderSubmitted` made (the audit projection's fold of
 * the journal into `orders`): applied only when its journal position is newer than the row's,
 * so a re-projection changes nothing. An order without a row (not submitted by us, or before
 * the projection existed) is left alone: no phantom rows.
 * - `status`: accepted (only from submitted), pendingCancel, reopened (a cancel refused:
 *   back to accepted or partiallyFilled), rejected, canceled, expired; a terminal row keeps its status;
 * - `fill`: adds to the filled quantity and the average price; filled when complete;
 * - `modified`: the new quantity and/or price.
 */
export type OrderChange = {
  readonly account: string
  readonly clientOrderId: string
  readonly updatedAt: number
  readonly source: JournalOffset
} & (
  | { readonly kind: "status"; readonly status: "accepted" | "pendingCancel" | "reopened" | "rejected" | "canceled" | "expired"; readonly venueOrderId: string | null }
  | { readonly kind: "fill"; readonly quantity: string; readonly price: string; readonly venueOrderId: string | null }
  | { readonly kind: "modified"; readonly quantity: string | null; readonly price: string | null }
)

export interface FillRow {
  readonly fillId: string
  readonly account: string
  readonly clientOrderId: string
  readonly venueOrderId: string | null
  readonly instrument: string
  readonly side: Side
  readonly quantity: string
  readonly price: string
  readonly fee: string
  readonly feeCurrency: string | null
  readonly liquidity: "maker" | "taker" | null
  readonly ts: number
  readonly source: JournalOffset
}

export interface PositionRow {
  readonly account: string
  readonly instrument: string
  /** Signed: negative is short. */
  readonly quantity: string
  readonly avgEntryPrice: string | null
  readonly realizedPnl: string
  readonly updatedAt: number
  readonly source: JournalOffset
}

export interface OrderQuery {
  readonly open?: boolean
  readonly account?: string
  readonly instrument?: string
}
export interface FillQuery {
  readonly account?: string
  readonly clientOrderId?: string
  readonly instrument?: string
}
export interface PositionQuery {
  readonly account?: string
}
export interface AuditQuery {
  readonly account?: string
  readonly clientOrderId?: string
  /** Newest last; default 1000. */
  readonly limit?: number
}

export interface MigrationReport {
  /** Versions applied by this call (empty when the schema was already current). */
  readonly applied: ReadonlyArray<number>
  readonly current: number
}

export class StoreError extends Data.TaggedError("StoreError")<{
  readonly op: string
  /** SQLSTATE when the database gave one, e.g. `42501` (permission denied). */
  readonly code: string | undefined
  readonly cause: unknown
}> {
  override get message(): string {
    const cause = this.cause instanceof Error ? this.cause.message : String(this.cause)
    return `store ${this.op} failed${this.code === undefined ? "" : ` (${this.code})`}: ${cause}`
  }
}

export interface StoreService {
  /** Applies pending migrations as the schema owner. Idempotent; safe to race from two nodes. */
  readonly migrate: () => Effect.Effect<MigrationReport, StoreError>
  /** Batched insert; rows whose journal position is already present are skipped. Returns rows inserted. */
  readonly appendAudit: (rows: ReadonlyArray<AuditRow>) => Effect.Effect<number, StoreError>
  readonly queryAudit: (query: AuditQuery) => Effect.Effect<ReadonlyArray<AuditRow>, StoreError>
  /** Per topic and partition, the offset after the last audited record (where projection resumes). */
  readonly auditHighWatermark: () => Effect.Effect<ReadonlyArray<JournalOffset>, StoreError>
  /** Replaces the actor's snapshot (only the latest is kept). */
  readonly saveSnapshot: (snapshot: ActorSnapshot) => Effect.Effect<void, StoreError>
  readonly loadSnapshot: (actorId: string) => Effect.Effect<Option.Option<ActorSnapshot>, StoreError>
  /** Inserts or updates; returns false when the stored row came from a later journal position. */
  readonly upsertOrder: (order: OrderRow) => Effect.Effect<boolean, StoreError>
  /** Applies a later fact to an order's row (see `OrderChange`); false when not applied (no row, or not newer). */
  readonly applyOrderChange: (change: OrderChange) => Effect.Effect<boolean, StoreError>
  /** Inserts fills not yet known by fill id; returns how many were new. */
  readonly insertFills: (fills: ReadonlyArray<FillRow>) => Effect.Effect<number, StoreError>
  readonly upsertPosition: (position: PositionRow) => Effect.Effect<boolean, StoreError>
  readonly queryOrders: (query: OrderQuery) => Effect.Effect<ReadonlyArray<OrderRow>, StoreError>
  readonly queryFills: (query: FillQuery) => Effect.Effect<ReadonlyArray<FillRow>, StoreError>
  readonly queryPositions: (query: PositionQuery) => Effect.Effect<ReadonlyArray<PositionRow>, StoreError>
  /** Releases connections / the embedded database. Idempotent. */
  readonly close: () => Effect.Effect<void>
}

export class Store extends Context.Tag("troupe/Store")<Store, StoreService>() {}
