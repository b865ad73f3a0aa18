import { Effect } from "effect"
import type { JournalOffset, JournalService } from "../actors/ports/journal.js"
import type { AuditKind, AuditRow, FillRow, PositionRow, StoreService } from "../actors/ports/store.js"
import { orderProjectionOf, type OrderProjection } from "./order-projection.js"
import type { MetricsRegistry } from "../actors/metrics.js"
import { encodeEvent, encodeEventObject } from "../domain/codec.js"
import { topicOf, type CanonicalEvent, type EventTag } from "../domain/events/index.js"

/**
 * The daemon's write-ahead log of canonical events, and the Postgres/PGlite projection of it.
 *
 * - Order-flow and control events are appended durably; the journal group-commits, so a burst
 *   of appends shares one fsync or one broker round trip. `durable()` resolves when everything
 *   appended so far is durable: the venue gateway waits for it before any call ("the intent and
 *   its decision are in the journal before anything is sent").
 * - The audit trail, fills and positions are a projection written in batches: it may lag, never
 *   lose (rows are keyed by journal offset, so a re-projection inserts nothing twice).
 * - Health: a failed append or an audit lag past the bound makes `healthy()` false; the risk
 *   actor halts new risk then ("no audit, no trade") and resumes when both are healthy again.
 */
const AUDIT_KIND: Partial<Record<EventTag, AuditKind>> = {
  SubmitOrder: "order_action",
  ModifyOrder: "order_action",
  CancelOrder: "order_action",
  CancelAll: "order_action",
  OrderSubmitted: "order_action",
  OrderCancelRequested: "order_action",
  RiskApproved: "risk_decision",
  RiskDenied: "risk_decision",
  TradingStateChanged: "risk_decision",
  OrderAccepted: "venue_reply",
  OrderRejected: "venue_reply",
  OrderModified: "venue_reply",
  OrderModifyRejected: "venue_reply",
  OrderCanceled: "venue_reply",
  OrderCancelRejected: "venue_reply",
  OrderExpired: "venue_reply",
  OrderFilled: "venue_reply",
  FundingPaid: "venue_reply",
  Halt: "operator_action",
  ReduceOnly: "operator_action",
  Resume: "operator_action",
  StrategyCommand: "operator_action",
  OperatorAction: "operator_action",
  ReconciliationNeeded: "reconciliation"
}

export interface EventJournalOptions {
  readonly journal: JournalService
  readonly store: StoreService
  readonly metrics?: MetricsRegistry
  /** Market data is journaled only when recording (it is replayable from the venue otherwise). */
  readonly recordMarketData?: boolean
  readonly projectEveryMs?: number
  /** Unprojected rows beyond this make the journal unhealthy (no audit, no trade). */
  readonly auditLagBound?: number
  /** ... and so does the oldest unprojected row being older than this (default 10 s). */
  readonly auditLagMs?: number
  readonly now?: () => number
  /** Backlog size beyond which strategy records are dropped (counted) while the journal is down. Default 100 000. */
  readonly backlogBound?: number
  readonly onHealth?: (healthy: boolean, reason: string) => void
  /**
   * The same health, as two separate causes of the trading state: `journal` (an append failed)
   * and `audit` (the projection is behind its bound). Called when either changes.
   */
  readonly onCause?: (cause: "journal" | "audit", raised: boolean, why: string) => void
  /**
   * The timer of the backlog's retries and of the projection (default: Node's). The simulation
   * passes its simulated clock's, so a journal outage and its recovery happen on simulated time.
   */
  readonly setTimer?: (ms: number, fn: () => void) => () => void
}

const field = (e: CanonicalEvent, name: string): string | null => {
  const v = (e as unknown as Record<string, unknown>)[name]
  return typeof v === "string" ? v : null
}

export const keyOf = (e: CanonicalEvent): string => {
  const account = field(e, "account")
  const instrument = field(e, "instrument")
  if (account !== null && instrument !== null) return `${account}/${instrument}`
  return instrument ?? account ?? field(e, "strategy") ?? e._tag
}

export class EventJournal {
  private pending: Promise<unknown> = Promise.resolve()
  private queue: Array<{ readonly event: CanonicalEvent; readonly offset: JournalOffset; readonly at: number }> = []
  /** Every appended event with its offset, in append order (the ledger folds them). */
  onAppended: ((event: CanonicalEvent, offset: JournalOffset) => void) | undefined
  private timer: (() => void) | undefined
  private projecting = false
  private appendFailed: string | undefined
  private projectFailed: string | undefined
  private lastHealthy = true
  appended = 0
  projected = 0

  constructor(private readonly options: EventJournalOptions) {
    const every = options.projectEveryMs ?? 200
    const setTimer = options.setTimer
    if (setTimer === undefined) {
      const timer = setInterval(() => void this.project(), every)
      timer.unref()
      this.timer = () => clearInterval(timer)
    } else {
      let cancel: () => void = () => undefined
      const arm = (): void => {
        cancel = setTimer(every, () => {
          void this.project()
          arm()
        })
      }
      arm()
      this.timer = () => cancel()
    }
  }

  private sleep(ms: number): Promise<void> {
    const setTimer = this.options.setTimer
    return new Promise((r) => (setTimer === undefined ? setTimeout(r, ms) : setTimer(ms, r)))
  }

  /**
   * Appends one event; durable for everything but market data and strategy records. A failed
   * append is never dropped: the event goes to the backlog, later appends queue behind it (so
   * the order per key holds), and the backlog is retried until the journal takes it. Meanwhile
   * the journal is unhealthy and new risk is halted.
   */
  append(event: CanonicalEvent): Promise<JournalOffset | undefined> {
    const topic = topicOf[event._tag]
    if (topic === "md" && this.options.recordMarketData !== true) return Promise.resolve(undefined)
    const durable = topic === "orders" || topic === "control"
    if (this.backlog.length > 0) {
      // A long outage must not grow memory without end: strategy records (analytics, not facts)
      // are dropped beyond the bound, and counted; order and control events always wait.
      if (topic === "strategy" && this.backlog.length >= (this.options.backlogBound ?? 100_000)) {
        this.options.metrics?.counter("journal_records_dropped_total", "strategy records dropped while the journal was down and its backlog full").inc()
        return Promise.resolve(undefined)
      }
      if (durable) this.durableFailures++
      return this.defer(event)
    }
    const writtenBefore = this.writtenNow
    const first = this.write(event)
    // Written in this turn (as durable as the policy promises): nothing to wait for.
    if (this.writtenNow !== writtenBefore) return first
    // Registered before `pending` sees the rejection, so durable() counts the failure.
    const p = first.catch((error: unknown) => {
      this.failed(error)
      if (durable) this.durableFailures++
      return this.defer(event)
    })
    if (durable) {
      // `.then(() => undefined)`: allSettled's value nests the previous one, so without it the chain
      // would keep every durable append's offset for the life of the process.
      this.pending = Promise.allSettled([this.pending, first]).then(() => undefined)
      // Settled after the failure handler above (registered first): a failed append is in the backlog by then.
      this.unsettled++
      const settle = (): void => void this.unsettled--
      first.then(settle, settle)
    }
    return p
  }

  /** Durable appends not settled yet (those written in the caller's turn never count). */
  private unsettled = 0
  /** Appends the adapter wrote in the caller's turn (`appendWritten`). */
  private writtenNow = 0

  private write(event: CanonicalEvent): Promise<JournalOffset> {
    const topic = topicOf[event._tag]
    const durable = topic === "orders" || topic === "control"
    const j = this.options.journal
    const key = keyOf(event)
    const payload = encodeEvent(event)
    if (j.appendWritten !== undefined) {
      let offset: JournalOffset | undefined
      try {
        offset = j.appendWritten(topic, key, payload, { durable })
      } catch (error) {
        return Promise.reject(error)
      }
      if (offset !== undefined) {
        this.writtenNow++
        this.appended++
        this.onAppended?.(event, offset)
        this.enqueue(event, offset)
        return Promise.resolve(offset)
      }
    }
    // The adapter's Promise path when it has one: a fiber per record costs as much as the broker round trip shares.
    const appended = j.appendNow !== undefined ? j.appendNow(topic, key, payload, { durable }) : Effect.runPromise(j.append(topic, key, payload, { durable }))
    return appended.then((offset) => {
      this.appended++
      this.onAppended?.(event, offset)
      this.enqueue(event, offset)
      return offset
    })
  }

  private failed(error: unknown): void {
    this.appendFailed = String(error)
    this.options.metrics?.counter("journal_append_errors_total", "journal appends that failed (each is retried from the backlog)").inc()
    this.checkHealth()
  }

  private readonly backlog: Array<{ readonly event: CanonicalEvent; readonly done: (o: JournalOffset) => void }> = []
  private draining = false
  private durableFailures = 0

  private defer(event: CanonicalEvent): Promise<JournalOffset> {
    return new Promise((done) => {
      this.backlog.push({ event, done })
      void this.drain()
    })
  }

  /** Retries the backlog in order, one event at a time, backing off while the journal fails. */
  private async drain(): Promise<void> {
    if (this.draining) return
    this.draining = true
    try {
      let delay = 100
      while (this.backlog.length > 0 && !this.closed) {
        const head = this.backlog[0]!
        try {
          head.done(await this.write(head.event))
          this.backlog.shift()
          delay = 100
          if (this.backlog.length === 0 && this.appendFailed !== undefined) {
            this.appendFailed = undefined
            this.checkHealth()
          }
        } catch (error) {
          this.failed(error)
          await this.sleep(delay)
          delay = Math.min(delay * 2, 2_000)
        }
      }
    } finally {
      this.draining = false
    }
  }

  get backlogSize(): number {
    return this.backlog.length
  }

  private closed = false

  private enqueue(event: CanonicalEvent, offset: JournalOffset): void {
    if (AUDIT_KIND[event._tag] !== undefined || event._tag === "PositionChanged") this.queue.push({ event, offset, at: this.now() })
  }

  /** Recovery: an event read back from the journal that the audit trail may not have yet (idempotent). */
  reproject(event: CanonicalEvent, offset: JournalOffset): void {
    this.enqueue(event, offset)
  }

  private now(): number {
    return this.options.now?.() ?? Date.now()
  }

  /**
   * Resolves when every durable append made so far is durable (one group commit): true, or
   * false when one of them failed on the way (it is in the backlog, retried, not yet durable).
   * The venue gateway sends nothing that adds risk on false (write-ahead).
   */
  durable(): Promise<boolean> {
    const before = this.durableFailures
    if (this.backlog.length > 0) return Promise.resolve(false)
    return this.pending.then(() => this.durableFailures === before && this.backlog.length === 0)
  }

  /**
   * `durable()` answered in the caller's turn when it can be: true when every durable append
   * made so far is settled and none failed (each was written in its caller's turn, or its
   * promise resolved), false when the backlog holds one; undefined while one is still on its
   * way (ask `durable()`). The write-ahead gateway then sends without waiting for a turn.
   */
  durableNow(): boolean | undefined {
    if (this.backlog.length > 0) return false
    return this.unsettled === 0 ? true : undefined
  }

  /**
   * Resolves once every append made so far is in the journal, the backlog included: waits out a
   * journal outage (retrying every 100 ms). A trading core rebuilt from the ledger waits for this,
   * not for `durable()`, which answers false at once during an outage: the events still in the
   * backlog (an operator's halt, an order, a fill) are not in the ledger yet, and a core rebuilt
   * without them would forget them (found by the simulation: seed 36 of the safety profile then, seed 450 in the regression test now).
   */
  async settled(): Promise<void> {
    while (!this.closed && !(await this.durable())) await this.sleep(100)
  }

  lag(): number {
    return this.queue.length
  }

  /**
   * Healthy unless the last append failed, or the audit projection is behind its bound: more
   * rows than `auditLagBound` waiting, or the oldest waiting longer than `auditLagMs`. A short
   * store outage is absorbed (the rows wait in order); a long one halts new risk.
   */
  healthy(): boolean {
    if (this.appendFailed !== undefined) return false
    if (this.queue.length > (this.options.auditLagBound ?? 50_000)) return false
    const oldest = this.queue[0]
    return oldest === undefined || this.now() - oldest.at <= (this.options.auditLagMs ?? 10_000)
  }

  private reason(): string {
    if (this.appendFailed !== undefined) return this.appendFailed
    const oldest = this.queue[0]
    const age = oldest === undefined ? 0 : this.now() - oldest.at
    return `audit trail ${this.queue.length} rows behind (oldest ${Math.round(age / 1000)} s)${this.projectFailed === undefined ? "" : `: ${this.projectFailed}`}`
  }

  private causeRaised = { journal: false, audit: false }

  private checkCauses(): void {
    const cb = this.options.onCause
    if (cb === undefined) return
    const journal = this.appendFailed !== undefined
    if (journal !== this.causeRaised.journal) {
      this.causeRaised.journal = journal
      cb("journal", journal, journal ? `journal append failed: ${this.appendFailed}` : "journal appends succeed again")
    }
    const oldest = this.queue[0]
    const audit = this.queue.length > (this.options.auditLagBound ?? 50_000) || (oldest !== undefined && this.now() - oldest.at > (this.options.auditLagMs ?? 10_000))
    if (audit !== this.causeRaised.audit) {
      this.causeRaised.audit = audit
      const age = oldest === undefined ? 0 : this.now() - oldest.at
      cb("audit", audit, audit ? `audit trail ${this.queue.length} rows behind (oldest ${Math.round(age / 1000)} s)${this.projectFailed === undefined ? "" : `: ${this.projectFailed}`}` : "audit trail caught up")
    }
  }

  private checkHealth(): void {
    this.checkCauses()
    const now = this.healthy()
    if (now !== this.lastHealthy) {
      this.lastHealthy = now
      this.options.onHealth?.(now, now ? "journal and audit healthy" : this.reason())
    }
  }

  /** Writes the queued projection rows in one batch per table. */
  async project(): Promise<void> {
    if (this.projecting || this.queue.length === 0) {
      this.checkHealth()
      return
    }
    this.projecting = true
    const batch = this.queue.slice(0, 2000)
    try {
      const audit: AuditRow[] = []
      const fills: FillRow[] = []
      const positions: PositionRow[] = []
      const orders: OrderProjection[] = []
      for (const { event, offset } of batch) {
        const order = orderProjectionOf(event, offset)
        if (order !== undefined) orders.push(order)
        const kind = AUDIT_KIND[event._tag]
        if (kind !== undefined) {
          audit.push({
            source: offset,
            eventId: event.id,
            eventType: event._tag,
            kind,
            ts: event.ts,
            account: field(event, "account"),
            instrument: field(event, "instrument"),
            clientOrderId: field(event, "clientOrderId"),
            payload: encodeEventObject(event)
          })
        }
        if (event._tag === "OrderFilled") {
          fills.push({
            fillId: event.fillId,
            account: event.account,
            clientOrderId: event.clientOrderId,
            venueOrderId: event.venueOrderId,
            instrument: event.instrument,
            side: event.side,
            quantity: event.qty.toString(),
            price: event.price.toString(),
            fee: event.fee.toString(),
            feeCurrency: event.feeCurrency,
            liquidity: event.liquidity,
            ts: event.ts,
            source: offset
          })
        } else if (event._tag === "PositionChanged") {
          positions.push({
            account: event.account,
            instrument: event.instrument,
            quantity: event.qty.toString(),
            avgEntryPrice: event.qty.isZero() ? null : event.avgPrice.toString(),
            realizedPnl: event.realizedPnl.toString(),
            updatedAt: event.ts,
            source: offset
          })
        }
      }
      const { store } = this.options
      if (audit.length > 0) await Effect.runPromise(store.appendAudit(audit))
      if (fills.length > 0) await Effect.runPromise(store.insertFills(fills))
      for (const p of positions) await Effect.runPromise(store.upsertPosition(p))
      // In journal order: each change is guarded by its offset, so a re-projection is a no-op.
      for (const o of orders) await Effect.runPromise(o._tag === "row" ? store.upsertOrder(o.row) : store.applyOrderChange(o.change))
      this.queue = this.queue.slice(batch.length)
      this.projected += batch.length
      this.projectFailed = undefined
    } catch (error) {
      this.projectFailed = String(error)
      this.options.metrics?.counter("audit_projection_errors_total", "audit projection batches that failed").inc()
    } finally {
      this.projecting = false
      this.checkHealth()
    }
  }

  /**
   * Flushes the journal and the projection (graceful shutdown). Returns what could not be written:
   * backlogged events (the journal stayed down through the last 5 s) and unprojected audit rows
   * (these are re-projected from the journal at the next start).
   */
  async close(): Promise<{ readonly unjournaled: number; readonly unprojected: number }> {
    this.timer?.()
    this.timer = undefined
    // A last chance for a backlog (journal back?) before giving up on it.
    for (let i = 0; i < 20 && this.backlog.length > 0; i++) await this.sleep(250)
    this.closed = true
    await this.durable()
    for (let i = 0; i < 50 && this.queue.length > 0; i++) {
      const before = this.queue.length
      await this.project()
      if (this.queue.length === before) break
    }
    return { unjournaled: this.backlog.length, unprojected: this.queue.length }
  }
}
