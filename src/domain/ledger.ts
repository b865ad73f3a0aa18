import { Either } from "effect"
import { decodeEventObject, encodeEventObject } from "./codec.js"
import { Decimal, ZERO } from "./decimal.js"
import type { CanonicalEvent } from "./events/index.js"
import type { OrderFilled, OrderSubmitted } from "./events/orders.js"
import type { TradingCause, TradingState } from "./events/risk.js"
import { runOfClientOrderId } from "./ids.js"
import type { Instrument } from "./instrument.js"
import { fillOfEvent } from "./fill.js"
import { applyFill, averageEntry, positionFor, settlePosition, withOpen, type Position } from "./position.js"
import { SpentRequests, type SpentRequest } from "./spent-requests.js"

/**
 * The trading ledger of one account: what the journal says about its orders, fills, positions
 * and trading state — a pure fold of the `orders` topic, so the daemon can rebuild its risk,
 * order and portfolio actors after a crash from a snapshot of it plus the journal after the
 * snapshot's offsets. Only facts are folded (what was sent, what the venue said); decisions
 * that never left the process leave no trace.
 *
 * The fold is per (account, instrument) — every event it reads carries both, so they all live
 * on one journal partition and the ledger does not depend on order across partitions.
 */
export const LEDGER_VERSION = "ledger-v1"

export interface LedgerOrder {
  /** What we sent: the write-ahead record, journaled before the venue call. */
  readonly submitted: OrderSubmitted
  /** Current size and price (after confirmed modifies). */
  qty: Decimal
  price: Decimal | undefined
  venueOrderId: string | undefined
  filled: Decimal
  /** Its fills so far, in the order they were journaled. */
  readonly fills: LedgerFill[]
  /** The venue acknowledged it (accepted, or traded). */
  acknowledged: boolean
  cancelRequested: boolean
}

/** How a finished order ended. */
export type LedgerFinishedStatus = "rejected" | "canceled" | "expired" | "filled"

/**
 * An order that finished (recently): kept so that a fill the venue reports after a restart for an
 * order that had already ended (an IOC's remainder canceled before its fill arrived; a fill that
 * raced a cancel) is still attributed to its order, as the running daemon does for its retained
 * finished orders.
 */
export interface LedgerFinishedOrder extends LedgerOrder {
  status: LedgerFinishedStatus
  /** The cancel or reject reason, as journaled. */
  reason: string | undefined
  /** Journal time of the event that finished it (ms). */
  readonly finishedAt: number
}

export interface LedgerFill {
  readonly fillId: string
  readonly qty: Decimal
  readonly price: Decimal
}

export interface LedgerTradingState {
  readonly state: TradingState
  readonly by: string
  readonly why: string
}

/** An active cause of the trading state as the journal says it (see `machines/trading-state.machine.ts`). */
export interface LedgerCause {
  readonly cause: TradingCause
  readonly level: TradingState
  readonly by: string
  readonly why: string
  readonly since: number
}

/** Fill ids remembered for deduplication beyond the live orders' own (venue snapshots repeat recent fills). */
const RECENT_FILL_IDS = 20_000

/**
 * Finished orders kept for late fills after a restart: the newest 1,000 (the running order
 * manager keeps more in memory; a restart needs only those that ended shortly before the crash).
 * A fill for an order beyond this is still counted in the position and journaled, but its order
 * is a reconciliation event.
 */
export const FINISHED_ORDERS_KEPT = 1_000

export class TradingLedger {
  readonly orders = new Map<string, LedgerOrder>()
  /** Recently finished orders, oldest first (see `FINISHED_ORDERS_KEPT`). */
  readonly finished = new Map<string, LedgerFinishedOrder>()
  readonly positions = new Map<string, Position>()
  private readonly recent = new Set<string>()
  private readonly recentOrder: string[] = []
  private readonly offsets = new Map<string, { readonly topic: string; readonly partition: number; next: bigint }>()
  tradingState: LedgerTradingState | undefined
  /** Recent venue requests and their cost: the rate window a restart starts from. */
  readonly requests = new SpentRequests()
  /** The active causes of the trading state, by cause (the operator's survives a restart). */
  readonly causes = new Map<TradingCause, LedgerCause>()
  /** Funding booked per instrument (+ received, − paid) and the booking ids counted (dedupe, bounded). */
  readonly funding = new Map<string, Decimal>()
  readonly fundingIds = new Set<string>()
  /** Venue time of the newest fill folded (ms), 0 before any. */
  lastFillTs = 0
  applied = 0
  duplicateFills = 0
  /** The highest run number in the client order ids sent (a restart must use a higher one). */
  maxRun = 0

  constructor(private readonly instruments: (id: string) => Instrument | undefined) {}

  hasFill(fillId: string): boolean {
    return this.recent.has(fillId)
  }

  recentFillIds(): ReadonlyArray<string> {
    return this.recentOrder
  }

  /** Per topic and partition, the offset after the last event folded (resume point). */
  coveredOffsets(): ReadonlyArray<{ readonly topic: string; readonly partition: number; readonly offset: string }> {
    return [...this.offsets.values()].map((o) => ({ topic: o.topic, partition: o.partition, offset: o.next.toString() }))
  }

  /** Folds one journaled event at its offset (offsets only move forward). */
  apply(event: CanonicalEvent, at?: { readonly topic: string; readonly partition: number; readonly offset: string }): void {
    if (at !== undefined) {
      const k = `${at.topic}/${at.partition}`
      const next = BigInt(at.offset) + 1n
      const o = this.offsets.get(k)
      if (o === undefined) this.offsets.set(k, { topic: at.topic, partition: at.partition, next })
      else if (next > o.next) o.next = next
    }
    this.applied++
    switch (event._tag) {
      case "OrderSubmitted":
        this.maxRun = Math.max(this.maxRun, runOfClientOrderId(event.clientOrderId) ?? 0)
        if (!this.orders.has(event.clientOrderId)) {
          this.orders.set(event.clientOrderId, {
            submitted: event,
            qty: event.qty,
            price: event.price,
            venueOrderId: undefined,
            filled: ZERO,
            fills: [],
            acknowledged: false,
            cancelRequested: false
          })
        }
        return
      case "OrderAccepted": {
        const o = this.orders.get(event.clientOrderId)
        if (o === undefined) return
        o.acknowledged = true
        o.venueOrderId = event.venueOrderId
        return
      }
      case "OrderModified": {
        const o = this.orders.get(event.clientOrderId)
        if (o === undefined) return
        if (event.qty !== undefined) o.qty = event.qty
        if (event.price !== undefined) o.price = event.price
        return
      }
      case "OrderCancelRequested": {
        const o = this.orders.get(event.clientOrderId)
        if (o !== undefined) o.cancelRequested = true
        return
      }
      case "OrderCancelRejected": {
        const o = this.orders.get(event.clientOrderId)
        if (o !== undefined) o.cancelRequested = false
        return
      }
      case "OrderRejected":
        return this.finish(event.clientOrderId, "rejected", event.reason, event.ts)
      case "OrderCanceled":
        return this.finish(event.clientOrderId, "canceled", event.reason, event.ts)
      case "OrderExpired":
        return this.finish(event.clientOrderId, "expired", undefined, event.ts)
      case "OrderFilled":
        return this.fill(event)
      case "PositionChanged": {
        // Without a fill id it is a reconciliation (the venue's position replaced ours) or a
        // dated contract's settlement (closed at the settlement price, PnL realized).
        if (event.fillId !== undefined) return
        const current = this.positions.get(event.instrument) ?? (this.instruments(event.instrument) === undefined ? undefined : positionOf(this.instruments(event.instrument)!))
        if (current === undefined) return
        if (event.settlementId !== undefined && event.settlementPrice !== undefined) {
          if (this.recent.has(event.settlementId)) return
          this.remember(event.settlementId)
          this.positions.set(event.instrument, settlePosition(current, event.settlementPrice))
          return
        }
        this.positions.set(event.instrument, withOpen(current, event.qty, event.avgPrice))
        return
      }
      case "TradingStateChanged": {
        this.tradingState = { state: event.to, by: event.by, why: event.why }
        // Records from before causes existed: an operator's change is the operator's cause.
        const cause = event.cause ?? (event.by.startsWith("operator:") && event.by !== "operator:troupe" ? "operator" : undefined)
        if (cause === undefined) return
        const lifted = event.change === undefined ? event.to === "active" : event.change === "lifted"
        if (lifted) this.causes.delete(cause)
        else this.causes.set(cause, { cause, level: event.level ?? event.to, by: event.by, why: event.why, since: event.since ?? event.ts })
        return
      }
      case "VenueRequestSent":
        this.requests.apply(event)
        return
      case "FundingPaid":
        if (this.fundingIds.has(event.bookingId)) return
        this.rememberFunding(event.bookingId)
        this.funding.set(event.instrument, (this.funding.get(event.instrument) ?? ZERO).plus(event.amount))
        return
      default:
        return
    }
  }

  private rememberFunding(id: string): void {
    this.fundingIds.add(id)
    if (this.fundingIds.size > RECENT_FILL_IDS) this.fundingIds.delete(this.fundingIds.values().next().value as string)
  }

  private fill(e: OrderFilled): void {
    if (this.recent.has(e.fillId)) {
      this.duplicateFills++
      return
    }
    this.remember(e.fillId)
    this.lastFillTs = Math.max(this.lastFillTs, e.venueTs ?? e.ts)
    const instrument = this.instruments(e.instrument)
    if (instrument !== undefined) {
      const current = this.positions.get(e.instrument) ?? positionOf(instrument)
      if (current !== undefined) {
        this.positions.set(
          e.instrument,
          applyFill(current, fillOfEvent(e))
        )
      }
    }
    const o = this.orders.get(e.clientOrderId) ?? this.finished.get(e.clientOrderId)
    if (o === undefined) return
    o.acknowledged = true
    o.venueOrderId ??= e.venueOrderId
    o.fills.push({ fillId: e.fillId, qty: e.qty, price: e.price })
    o.filled = o.filled.plus(e.qty)
    if (!o.filled.greaterThanOrEqualTo(o.qty)) return
    const done = this.finished.get(e.clientOrderId)
    // A late fill completing a canceled order makes it filled, as the order machine does.
    if (done !== undefined) done.status = "filled"
    else this.finish(e.clientOrderId, "filled", undefined, e.ts)
  }

  /** A live order ended: kept among the recently finished (oldest dropped beyond the bound). */
  private finish(clientOrderId: string, status: LedgerFinishedStatus, reason: string | undefined, at: number): void {
    const o = this.orders.get(clientOrderId)
    if (o === undefined) return
    this.orders.delete(clientOrderId)
    this.keepFinished({ ...o, status, reason, finishedAt: at })
  }

  private keepFinished(o: LedgerFinishedOrder): void {
    this.finished.delete(o.submitted.clientOrderId)
    this.finished.set(o.submitted.clientOrderId, o)
    if (this.finished.size <= FINISHED_ORDERS_KEPT) return
    const oldest = this.finished.keys().next()
    if (oldest.done !== true) this.finished.delete(oldest.value)
  }

  private remember(fillId: string): void {
    this.recent.add(fillId)
    this.recentOrder.push(fillId)
    if (this.recentOrder.length > RECENT_FILL_IDS * 2) {
      const dropped = this.recentOrder.splice(0, this.recentOrder.length - RECENT_FILL_IDS)
      const live = new Set([...this.orders.values()].flatMap((o) => o.fills.map((f) => f.fillId)))
      for (const id of dropped) if (!live.has(id)) this.recent.delete(id)
    }
  }

  // ---- snapshots ----

  toSnapshot(): LedgerSnapshot {
    return {
      version: LEDGER_VERSION,
      orders: [...this.orders.values()].map(orderSnapshotOf),
      finished: [...this.finished.values()].map((o) => ({ ...orderSnapshotOf(o), status: o.status, reason: o.reason ?? null, finishedAt: o.finishedAt })),
      positions: [...this.positions.values()].map((p) => ({
        instrument: p.instrumentId,
        quantity: p.quantity.toString(),
        entryCost: p.entryCost.toString(),
        realizedPnl: p.realizedPnl.toString(),
        fees: p.fees.toString(),
        fillCount: p.fillCount
      })),
      recentFillIds: this.recentOrder.slice(-RECENT_FILL_IDS),
      tradingState: this.tradingState ?? null,
      causes: [...this.causes.values()],
      lastFillTs: this.lastFillTs,
      applied: this.applied,
      maxRun: this.maxRun,
      requests: [...this.requests.recent()],
      funding: [...this.funding].map(([instrument, amount]) => ({ instrument, amount: amount.toString() })),
      fundingIds: [...this.fundingIds]
    }
  }

  /** A ledger from a snapshot; Left with the reason when it cannot be read (rebuild from the journal then). */
  static fromSnapshot(u: unknown, instruments: (id: string) => Instrument | undefined): Either.Either<TradingLedger, string> {
    try {
      const s = u as LedgerSnapshot
      if (s === null || typeof s !== "object" || s.version !== LEDGER_VERSION) return Either.left(`ledger snapshot version ${String((s as { version?: unknown } | null)?.version)} is not ${LEDGER_VERSION}`)
      const l = new TradingLedger(instruments)
      for (const o of s.orders) {
        const order = orderOfSnapshot(o)
        if (order === undefined) return Either.left("a snapshot order does not decode")
        l.orders.set(order.submitted.clientOrderId, order)
      }
      // Absent in snapshots written before finished orders were kept.
      for (const o of s.finished ?? []) {
        const order = orderOfSnapshot(o)
        if (order === undefined) return Either.left("a snapshot's finished order does not decode")
        l.keepFinished({ ...order, status: o.status, reason: o.reason ?? undefined, finishedAt: o.finishedAt })
      }
      for (const p of s.positions) {
        const instrument = instruments(p.instrument)
        const flat = instrument === undefined ? undefined : positionOf(instrument)
        if (flat === undefined) continue
        const quantity = new Decimal(p.quantity)
        const entryCost = new Decimal(p.entryCost)
        l.positions.set(p.instrument, {
          ...flat,
          quantity,
          entryCost,
          avgEntryPrice: averageEntry(flat, entryCost, quantity),
          realizedPnl: new Decimal(p.realizedPnl),
          fees: new Decimal(p.fees),
          fillCount: p.fillCount
        })
      }
      for (const id of s.recentFillIds) l.remember(id)
      l.tradingState = s.tradingState ?? undefined
      for (const c of s.causes ?? []) l.causes.set(c.cause, c)
      // A snapshot from before causes: an operator's halt or reduce-only is the operator's cause.
      if (s.causes === undefined && s.tradingState !== null && s.tradingState.state !== "active" && s.tradingState.by.startsWith("operator:") && s.tradingState.by !== "operator:troupe")
        l.causes.set("operator", { cause: "operator", level: s.tradingState.state, by: s.tradingState.by, why: s.tradingState.why, since: 0 })
      l.lastFillTs = s.lastFillTs
      l.applied = s.applied
      l.maxRun = typeof s.maxRun === "number" ? s.maxRun : 0
      for (const r of s.requests ?? []) l.requests.add(r)
      for (const f of s.funding ?? []) l.funding.set(f.instrument, new Decimal(f.amount))
      for (const id of s.fundingIds ?? []) l.rememberFunding(id)
      return Either.right(l)
    } catch (error) {
      return Either.left(`ledger snapshot unreadable: ${String(error)}`)
    }
  }

  /** Restores the covered offsets recorded beside a snapshot. */
  restoreOffsets(offsets: ReadonlyArray<{ readonly topic: string; readonly partition: number; readonly offset: string }>): void {
    for (const o of offsets) this.offsets.set(`${o.topic}/${o.partition}`, { topic: o.topic, partition: o.partition, next: BigInt(o.offset) })
  }
}

type OrderSnapshot = LedgerSnapshot["orders"][number]

const orderSnapshotOf = (o: LedgerOrder): OrderSnapshot => ({
  submitted: encodeEventObject(o.submitted),
  qty: o.qty.toString(),
  price: o.price?.toString() ?? null,
  venueOrderId: o.venueOrderId ?? null,
  filled: o.filled.toString(),
  fills: o.fills.map((f) => ({ fillId: f.fillId, qty: f.qty.toString(), price: f.price.toString() })),
  acknowledged: o.acknowledged,
  cancelRequested: o.cancelRequested
})

const orderOfSnapshot = (o: OrderSnapshot): LedgerOrder | undefined => {
  const submitted = decodeEventObject(o.submitted)
  if (Either.isLeft(submitted) || submitted.right._tag !== "OrderSubmitted") return undefined
  return {
    submitted: submitted.right,
    qty: new Decimal(o.qty),
    price: o.price === null ? undefined : new Decimal(o.price),
    venueOrderId: o.venueOrderId ?? undefined,
    filled: new Decimal(o.filled),
    fills: o.fills.map((f) => ({ fillId: f.fillId, qty: new Decimal(f.qty), price: new Decimal(f.price) })),
    acknowledged: o.acknowledged,
    cancelRequested: o.cancelRequested
  }
}

const positionOf = (instrument: Instrument): Position | undefined => {
  const p = positionFor(instrument)
  return Either.isRight(p) ? p.right : undefined
}

export interface LedgerSnapshot {
  readonly version: string
  readonly orders: ReadonlyArray<{
    readonly submitted: unknown
    readonly qty: string
    readonly price: string | null
    readonly venueOrderId: string | null
    readonly filled: string
    readonly fills: ReadonlyArray<{ readonly fillId: string; readonly qty: string; readonly price: string }>
    readonly acknowledged: boolean
    readonly cancelRequested: boolean
  }>
  /** Recently finished orders, oldest first; absent in snapshots written before they were kept. */
  readonly finished?: ReadonlyArray<LedgerSnapshot["orders"][number] & { readonly status: LedgerFinishedStatus; readonly reason: string | null; readonly finishedAt: number }>
  readonly positions: ReadonlyArray<{
    readonly instrument: string
    readonly quantity: string
    readonly entryCost: string
    readonly realizedPnl: string
    readonly fees: string
    readonly fillCount: number
  }>
  readonly recentFillIds: ReadonlyArray<string>
  readonly tradingState: LedgerTradingState | null
  readonly causes?: ReadonlyArray<LedgerCause>
  readonly lastFillTs: number
  readonly applied: number
  readonly maxRun?: number
  /** Absent in snapshots written before requests were journaled. */
  readonly requests?: ReadonlyArray<SpentRequest>
  /** Funding per instrument and its booking ids; absent in snapshots written before funding was booked. */
  readonly funding?: ReadonlyArray<{ readonly instrument: string; readonly amount: string }>
  readonly fundingIds?: ReadonlyArray<string>
}
