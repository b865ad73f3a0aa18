import { Effect, Either } from "effect"
import { wallClock, type ClockService } from "../../../actors/clock.js"
import { RequestBudgetClosed, type RequestBudgetService, type VenueRead } from "../../../actors/ports/request-budget.js"
import type { AccountFact, VenueGatewayService, VenueReport } from "../../../actors/ports/venue-gateway.js"
import { ApprovedAction } from "../../../actors/risk/approval.js"
import { Hop, hopTrace } from "../../../actors/trace/hop-trace.js"
import { ZERO, type Decimal } from "../../../domain/decimal.js"
import type { CancelAll, CancelOrder, ModifyOrder, SubmitOrder } from "../../../domain/events/intents.js"
import type { OrderEvent, OrderFilled } from "../../../domain/events/orders.js"
import { parseVenueOrderId, symbolOf, type AccountId, type ClientOrderId, type InstrumentId, type VenueOrderId } from "../../../domain/ids.js"
import { outcomeUnknown, type KrakenRestError } from "./errors.js"
import { envelopeSource, type EnvelopeSource } from "./md-normalize.js"
import { KrakenPrivateFeed, type PrivateFeedSignal } from "./private-feed.js"
import type { KrakenOrderType, KrakenRestClient, SendOrderRequest, SendOrderResult } from "./rest.js"
import type { ConnectionConfig } from "./ws-connection.js"


/** A read whose budget is closed (the trading core restarting) is retried this often, this far apart. */
const READ_BUDGET_RETRIES = 20
const READ_BUDGET_RETRY_MS = 500

/**
 * The Kraken Futures venue gateway: `ApprovedAction`s become REST calls, and the venue's
 * answers become canonical order events (`VenueReport`). What comes from where:
 * - REST replies: OrderAccepted / OrderRejected / OrderModified / OrderModifyRejected /
 *   OrderCanceled / OrderCancelRejected for the action we sent.
 * - the private feed: OrderFilled, venue-initiated cancels (dead man's switch, self-trade, ...),
 *   and orders we did not place through this process.
 * Both paths go through one emitter that dedupes per client order id (an order is reported
 * accepted once and terminal once), so whichever arrives first wins and the other is dropped.
 * A fill of an order whose submit reply has not arrived yet is preceded by an OrderAccepted
 * made from the fill (same venue order id), so the order actor never sees a fill first.
 *
 * Nothing is resent. A call whose outcome is unknown (timeout, reset after sending, 5xx,
 * undecodable reply) is reconciled by client order id through `openorders` and `fills` — each
 * read reserved from the account's budget (`RequestBudget`, risk's) before it is sent; if the
 * venue answered with a 5xx and the order is in neither, it was not placed (rejected with a
 * `not_placed` reason); if the request may still be in flight, nothing is reported: the
 * gateway counts it as unresolved and logs it, and the feed or the next reconciliation decides.
 */

export interface KrakenGatewayLog {
  readonly level: "info" | "warn" | "error"
  readonly message: string
  readonly clientOrderId?: string
}

export interface KrakenGatewayCounters {
  /** Approved actions received. */
  readonly actions: number
  /** Values passed to `send` that were not genuine approvals (dropped). */
  readonly forged: number
  readonly reports: number
  readonly rateLimited: number
  /** Calls with an unknown outcome (or a duplicate client order id) that were reconciled. */
  readonly reconciliations: number
  /** Reconciliations that found the order (or its fate). */
  readonly reconciled: number
  /** Reconciliations that could not decide: nothing was reported. */
  readonly unresolved: number
  /** Cancel-all and dead man's switch calls that failed (they have no canonical report). */
  readonly accountCallFailures: number
  readonly feedAuthenticated: boolean
}

export interface KrakenGatewayConfig {
  readonly account: AccountId
  readonly rest: KrakenRestClient
  /** Risk's budget for the reads this gateway makes (reconciliation of unknown outcomes). */
  readonly budget: RequestBudgetService
  readonly privateFeed: Omit<ConnectionConfig, "url"> & { readonly url: string; readonly apiKey: string; readonly secret: string }
  readonly clock?: ClockService
  /** Envelope `source` of the reports; default `kraken-futures/gateway/<account>`. */
  readonly source?: string
  /** Reconciliation after an unknown outcome: checks (default 3) and the pause between them (default 1000 ms). */
  readonly reconcile?: { readonly attempts?: number; readonly delayMs?: number }
  /**
   * An IOC/FOK that the venue reports `cancelled` with executions: the cancel of the remainder
   * waits (up to this long, default 5000 ms) for the feed's fills, so fills come before it.
   */
  readonly fillWaitMs?: number
  readonly onLog?: (entry: KrakenGatewayLog) => void
  readonly onFeedSignal?: (signal: PrivateFeedSignal) => void
  /** The daemon's run number, part of every event id (ids unique across restarts); default 0. */
  readonly run?: () => number
}

export interface KrakenVenueGateway extends VenueGatewayService {
  readonly start: () => void
  readonly stop: () => Promise<void>
  readonly counters: () => KrakenGatewayCounters
}

export const krakenOrderType = (t: SubmitOrder["orderType"]): KrakenOrderType => {
  switch (t) {
    case "limit":
      return "lmt"
    case "postOnly":
      return "post"
    case "ioc":
      return "ioc"
    case "fok":
      return "fok"
    case "market":
      return "mkt"
    case "stop":
      return "stp"
    case "takeProfit":
      return "take_profit"
  }
}

/** The rejection reason of a typed REST error whose outcome is known (the call did not take effect). */
export const reasonOf = (e: KrakenRestError): string => {
  switch (e._tag) {
    case "RateLimited":
      return "rate_limited"
    case "AuthenticationFailed":
      return "authentication_failed"
    case "NonceRejected":
      return "nonce_rejected"
    case "AccountInactive":
      return "account_inactive"
    case "InsufficientFunds":
      return "insufficient_funds"
    case "InvalidArgument":
      return `invalid_argument: ${e.detail}`.slice(0, 200)
    case "MarketUnavailable":
      return "market_unavailable"
    case "NotFound":
      return "not_found"
    case "DuplicateClientOrderId":
      return "duplicate_client_order_id"
    case "VenueUnavailable":
      return `venue_unavailable: ${e.cause}${e.status === undefined ? "" : ` ${e.status}`}`
    case "UnknownVenueError":
      return `unknown_venue_error: ${e.error}`.slice(0, 200)
    case "UnexpectedStatus":
      return `unexpected_status: ${e.status}`
    case "VenueDecodeError":
      return "venue_decode_error"
  }
}

/** The venue answered (so the request is no longer in flight) but may or may not have acted. */
const venueAnswered = (e: KrakenRestError): boolean =>
  (e._tag === "VenueUnavailable" && (e.cause === "venue" || (e.cause === "http" && e.status === 500))) || e._tag === "UnknownVenueError"

interface OrderState {
  accepted: boolean
  terminal: boolean
  venueOrderId: VenueOrderId | undefined
  instrument: InstrumentId | undefined
  /** Sum of the distinct fills seen for this order. */
  filled: Decimal
  readonly fillIds: Set<string>
}

interface Waiter {
  readonly qty: Decimal
  readonly fire: () => void
  readonly cancelTimer: () => void
}

const MAX_TRACKED = 50_000

const venueTsOf = (iso: string | undefined): { venueTs?: number } => {
  if (iso === undefined) return {}
  const t = Date.parse(iso)
  return Number.isFinite(t) ? { venueTs: t } : {}
}

export const makeKrakenVenueGateway = (config: KrakenGatewayConfig): KrakenVenueGateway => new Gateway(config)

class Gateway implements KrakenVenueGateway {
  readonly account: AccountId
  private readonly clock: ClockService
  private readonly env: EnvelopeSource
  private readonly feed: KrakenPrivateFeed
  private readonly listeners = new Set<(r: VenueReport) => void>()
  private readonly accountListeners = new Set<(f: AccountFact) => void>()
  private readonly orders = new Map<string, OrderState>()
  /** Submits whose REST reply (or reconciliation) is still pending. */
  private readonly inFlight = new Set<string>()
  /** Modifies whose outcome is unresolved: the feed's OrderModified is let through for them. */
  private readonly unresolvedModifies = new Set<string>()
  private readonly waiters = new Map<string, Waiter>()
  private readonly timers = new Set<() => void>()
  private readonly attempts: number
  private readonly delayMs: number
  private stopped = false
  private c = { actions: 0, forged: 0, reports: 0, rateLimited: 0, reconciliations: 0, reconciled: 0, unresolved: 0, accountCallFailures: 0 }
  private feedAuthenticated = false

  constructor(private readonly config: KrakenGatewayConfig) {
    this.account = config.account
    this.clock = config.clock ?? wallClock
    this.env = envelopeSource(config.source ?? `kraken-futures/gateway/${config.account}`, () => this.clock.now(), config.run)
    this.attempts = Math.max(1, config.reconcile?.attempts ?? 3)
    this.delayMs = Math.max(0, config.reconcile?.delayMs ?? 1000)
    const { url, apiKey, secret, ...connection } = config.privateFeed
    this.feed = new KrakenPrivateFeed({
      ...connection,
      url,
      apiKey,
      secret,
      account: config.account,
      env: this.env,
      awaitingReplies: () => this.inFlight.size > 0,
      onEvent: (e) => this.fromFeed(e),
      onAccount: (f) => this.account_(f),
      onSignal: (s) => {
        if (s._tag === "Authenticated") this.feedAuthenticated = true
        else if (s._tag === "Disconnected" || s._tag === "AuthenticationFailed" || s._tag === "GaveUp") {
          // The margin figure comes on this feed: without it risk's figure is stale until the next snapshot.
          if (this.feedAuthenticated) this.account_({ _tag: "AccountMarginStale", why: `private feed ${s._tag === "Disconnected" ? "disconnected" : s._tag === "GaveUp" ? "gave up reconnecting" : "authentication failed"}` })
          this.feedAuthenticated = false
        }
        // A fill we cannot attribute matters (the position still counts it through reconciliation);
        // an order update we cannot attribute is usually the cancel of an IOC remainder that never
        // rested (its outcome comes from the sendorder reply): not worth a warning each time.
        if (s._tag === "Unattributed" && s.what === "fill") this.log("warn", `private feed: unattributed fill of venue order ${s.orderId}: ${s.reason}`)
        if (s._tag === "DecodeFailed") this.log("warn", `private feed: DecodeFailed: ${s.error.message}`)
        config.onFeedSignal?.(s)
      }
    })
  }

  // ---- port ----

  readonly subscribe = (listener: (r: VenueReport) => void): (() => void) => {
    this.listeners.add(listener)
    return () => {
      this.listeners.delete(listener)
    }
  }

  readonly subscribeAccount = (listener: (f: AccountFact) => void): (() => void) => {
    this.accountListeners.add(listener)
    return () => {
      this.accountListeners.delete(listener)
    }
  }

  private account_(f: AccountFact): void {
    for (const l of this.accountListeners) {
      try {
        l(f)
      } catch (e) {
        this.log("error", `account listener threw: ${e instanceof Error ? e.message : String(e)}`.slice(0, 300))
      }
    }
  }

  readonly send = (action: ApprovedAction): void => {
    if (!ApprovedAction.isGenuine(action)) {
      this.c.forged++
      this.log("error", "send() was given something that is not an ApprovedAction: dropped")
      return
    }
    this.c.actions++
    const run = async () => {
      const a = action.action
      switch (a.kind) {
        case "submit":
          return this.submit(a.intent)
        case "modify":
          return this.modify(a.intent)
        case "cancel":
          return this.cancel(a.intent)
        case "cancelAll":
          return this.cancelAll(a.intent)
        case "cancelAllAfter":
          return this.deadMansSwitch(a.timeoutSec)
      }
    }
    run().catch((e: unknown) => this.log("error", `gateway handler failed: ${e instanceof Error ? e.message : String(e)}`.slice(0, 300)))
  }

  readonly start = (): void => {
    this.stopped = false
    this.feed.start()
  }

  readonly stop = async (): Promise<void> => {
    this.stopped = true
    for (const cancel of this.timers) cancel()
    this.timers.clear()
    for (const w of this.waiters.values()) w.cancelTimer()
    this.waiters.clear()
    await this.feed.stop()
  }

  readonly counters = (): KrakenGatewayCounters => ({ ...this.c, feedAuthenticated: this.feedAuthenticated })

  // ---- actions ----

  private async submit(i: SubmitOrder): Promise<void> {
    const cid = i.clientOrderId
    const st = this.state(cid, i.instrument)
    this.inFlight.add(cid)
    try {
      const type = krakenOrderType(i.orderType)
      const req: SendOrderRequest = {
        orderType: type,
        symbol: symbolOf(i.instrument),
        side: i.side,
        size: i.qty,
        cliOrdId: cid,
        ...(type !== "mkt" && i.price !== undefined ? { limitPrice: i.price } : {}),
        ...((type === "stp" || type === "take_profit") && i.triggerPrice !== undefined ? { stopPrice: i.triggerPrice } : {}),
        ...(i.reduceOnly ? { reduceOnly: true } : {})
      }
      if (hopTrace.on) hopTrace.markOrder(cid, Hop.gateway)
      // The plain Promise path when the client has one: no fiber between the action and the request.
      const rest = this.config.rest
      const res = rest.sendOrderNow !== undefined ? await rest.sendOrderNow(req) : await this.call(rest.sendOrder(req))
      if (Either.isRight(res)) return this.submitted(i, res.right)
      const err = res.left
      if (err._tag === "DuplicateClientOrderId") return await this.reconcileSubmit(i, err, true)
      if (outcomeUnknown(err)) return await this.reconcileSubmit(i, err, false)
      if (err._tag === "RateLimited") this.c.rateLimited++
      if (!st.accepted) this.emit({ _tag: "OrderRejected", ...this.ref(i.instrument, cid), reason: reasonOf(err) })
    } finally {
      this.inFlight.delete(cid)
      // Cancel frames held for a reply that none of the answered submits claimed: not ours.
      if (this.inFlight.size === 0) this.feed.releaseHeld()
    }
  }

  private submitted(i: SubmitOrder, r: SendOrderResult): void {
    const cid = i.clientOrderId
    const ts = venueTsOf(r.receivedTime)
    const vid = r.venueOrderId === undefined ? undefined : Either.getOrUndefined(parseVenueOrderId(r.venueOrderId))
    // The venue id is mapped before anything else of this order is handled: the venue's cancel
    // frame names only `order_id`, and an IOC that never rested is known by no other message.
    // A cancel frame that arrived before this reply was held, and is handled here, after the map.
    if (vid !== undefined) this.feed.mapOrder(vid, cid, symbolOf(i.instrument))
    switch (r.outcome.kind) {
      case "accepted":
      case "modified":
        if (vid === undefined) {
          this.log("warn", `sendorder ${r.status} without a usable order id: waiting for the feed`, cid)
          return
        }
        this.emit({ _tag: "OrderAccepted", ...this.ref(i.instrument, cid), venueOrderId: vid, ...ts })
        return this.immediateShort(i, r.executions.reduce((s, e) => s.plus(e.qty), ZERO))
      case "rejected":
        return this.emit({ _tag: "OrderRejected", ...this.ref(i.instrument, cid), reason: r.outcome.reason, ...ts })
      case "canceled": {
        // Placed and at once canceled by the venue (IOC/FOK remainder). Without executions the
        // order never lived: a rejection. With them, the fills come on the feed (each preceded by
        // an OrderAccepted made from it) and the cancel of the remainder waits for them.
        const reason = r.rejectReasons.length > 0 ? r.rejectReasons.join(",") : "ioc_remainder"
        const executed = r.executions.reduce((s, e) => s.plus(e.qty), ZERO)
        if (executed.isZero()) return this.emit({ _tag: "OrderRejected", ...this.ref(i.instrument, cid), reason: `cancelled: ${reason}`, ...ts })
        const cancel = () => {
          const st = this.state(cid, i.instrument)
          const v = st.venueOrderId ?? vid
          this.emit({ _tag: "OrderCanceled", ...this.ref(i.instrument, cid), ...(v === undefined ? {} : { venueOrderId: v }), reason, ...ts })
        }
        return this.afterFills(cid, executed, cancel)
      }
      case "modifyRejected":
      case "cancelRejected":
        this.log("error", `sendorder answered ${r.status}: not a submit outcome`, cid)
        return
    }
  }

  /**
   * An IOC, FOK or market order never rests: once placed, what the reply's executions hold is all
   * it will ever fill. When that is less than we asked and the venue sent no cancel for the rest
   * (a reduce-only order the venue reduced to the position before it executed: the venue closes
   * it as `full_fill` of its reduced size, a close the feed passes over), the remainder is
   * reported canceled after the fills, or the order would stay open here for ever.
   */
  private immediateShort(i: SubmitOrder, executed: Decimal): void {
    if (i.orderType !== "ioc" && i.orderType !== "fok" && i.orderType !== "market") return
    if (executed.isZero() || executed.greaterThanOrEqualTo(i.qty)) return
    const cid = i.clientOrderId
    this.afterFills(cid, executed, () => {
      const st = this.state(cid, i.instrument)
      if (st.filled.greaterThanOrEqualTo(i.qty)) return
      const reason = `not executed: ${i.qty.minus(executed).toFixed()} of ${i.qty.toFixed()} (the venue reduced or closed the order)`
      this.emit({ _tag: "OrderCanceled", ...this.ref(i.instrument, cid), ...(st.venueOrderId === undefined ? {} : { venueOrderId: st.venueOrderId }), reason })
    })
  }

  private async modify(i: ModifyOrder): Promise<void> {
    const cid = i.clientOrderId
    this.state(cid, i.instrument)
    const res = await this.call(
      this.config.rest.editOrder({
        ref: { cliOrdId: cid },
        ...(i.qty === undefined ? {} : { size: i.qty }),
        ...(i.price === undefined ? {} : { limitPrice: i.price }),
        ...(i.triggerPrice === undefined ? {} : { stopPrice: i.triggerPrice })
      })
    )
    const change = {
      ...(i.qty === undefined ? {} : { qty: i.qty }),
      ...(i.price === undefined ? {} : { price: i.price }),
      ...(i.triggerPrice === undefined ? {} : { triggerPrice: i.triggerPrice })
    }
    if (Either.isRight(res)) {
      const o = res.right.outcome
      const vid = res.right.venueOrderId === undefined ? undefined : Either.getOrUndefined(parseVenueOrderId(res.right.venueOrderId))
      if (o.kind === "modified") return this.emit({ _tag: "OrderModified", ...this.ref(i.instrument, cid), ...(vid === undefined ? {} : { venueOrderId: vid }), ...change })
      const reason = o.kind === "modifyRejected" || o.kind === "rejected" || o.kind === "cancelRejected" ? o.reason : res.right.status
      return this.emit({ _tag: "OrderModifyRejected", ...this.ref(i.instrument, cid), reason })
    }
    const err = res.left
    if (!outcomeUnknown(err)) {
      if (err._tag === "RateLimited") this.c.rateLimited++
      return this.emit({ _tag: "OrderModifyRejected", ...this.ref(i.instrument, cid), reason: reasonOf(err) })
    }
    // Unknown: the open order shows whether the edit took effect.
    this.c.reconciliations++
    const open = await this.findOpen(cid)
    if (open === "error" || open === undefined) {
      // Gone (filled or canceled: the feed reports it) or not readable: let the feed decide.
      this.unresolvedModifies.add(cid)
      return this.unresolved(cid, `editorder outcome unknown (${reasonOf(err)}); order ${open === "error" ? "not readable" : "no longer open"}`)
    }
    const total = open.unfilledSize.plus(open.filledSize ?? ZERO)
    const applied =
      (i.qty === undefined || i.qty.equals(total)) &&
      (i.price === undefined || (open.limitPrice != null && i.price.equals(open.limitPrice))) &&
      (i.triggerPrice === undefined || (open.stopPrice != null && i.triggerPrice.equals(open.stopPrice)))
    const vid = Either.getOrUndefined(parseVenueOrderId(open.order_id))
    if (applied) {
      this.c.reconciled++
      return this.emit({ _tag: "OrderModified", ...this.ref(i.instrument, cid), ...(vid === undefined ? {} : { venueOrderId: vid }), ...change })
    }
    if (venueAnswered(err)) {
      this.c.reconciled++
      return this.emit({ _tag: "OrderModifyRejected", ...this.ref(i.instrument, cid), reason: `not_applied: ${reasonOf(err)}` })
    }
    this.unresolvedModifies.add(cid)
    this.unresolved(cid, `editorder outcome unknown (${reasonOf(err)}); order still has its old values`)
  }

  private async cancel(i: CancelOrder): Promise<void> {
    const cid = i.clientOrderId
    this.state(cid, i.instrument)
    const res = await this.call(this.config.rest.cancelOrder({ cliOrdId: cid }))
    if (Either.isRight(res)) {
      const o = res.right.outcome
      const vid = res.right.venueOrderId === undefined ? undefined : Either.getOrUndefined(parseVenueOrderId(res.right.venueOrderId))
      if (o.kind === "canceled") return this.emit({ _tag: "OrderCanceled", ...this.ref(i.instrument, cid), ...(vid === undefined ? {} : { venueOrderId: vid }) })
      const reason = o.kind === "cancelRejected" || o.kind === "rejected" || o.kind === "modifyRejected" ? o.reason : res.right.status
      return this.emit({ _tag: "OrderCancelRejected", ...this.ref(i.instrument, cid), reason })
    }
    const err = res.left
    if (!outcomeUnknown(err)) {
      if (err._tag === "RateLimited") this.c.rateLimited++
      return this.emit({ _tag: "OrderCancelRejected", ...this.ref(i.instrument, cid), reason: reasonOf(err) })
    }
    this.c.reconciliations++
    const open = await this.findOpen(cid)
    if (open === undefined) {
      // Not open any more: the feed reports how it left (cancel or fill); nothing to add here.
      this.c.reconciled++
      return this.log("info", `cancelorder outcome unknown (${reasonOf(err)}); order is no longer open, the feed reports its end`, cid)
    }
    if (open !== "error" && venueAnswered(err)) {
      this.c.reconciled++
      return this.emit({ _tag: "OrderCancelRejected", ...this.ref(i.instrument, cid), reason: `not_canceled: ${reasonOf(err)}` })
    }
    this.unresolved(cid, `cancelorder outcome unknown (${reasonOf(err)})`)
  }

  private async cancelAll(i: CancelAll): Promise<void> {
    if (i.strategy !== undefined) {
      // Kraken narrows a cancel-all by symbol only, which would take other strategies' orders: a
      // strategy's cancel-all is one risk-approved cancel per order (the order manager expands it).
      this.c.accountCallFailures++
      return this.log("error", `cancel-all for strategy ${i.strategy} reached the gateway: not sent (it is expanded into single cancels before risk)`)
    }
    // One call; each canceled order is reported by the feed (the reply has venue ids only).
    const res = await this.call(this.config.rest.cancelAllOrders(i.instrument === undefined ? undefined : symbolOf(i.instrument)))
    if (Either.isLeft(res)) {
      this.c.accountCallFailures++
      if (res.left._tag === "RateLimited") this.c.rateLimited++
      this.log("error", `cancelallorders failed: ${reasonOf(res.left)}`)
    }
  }

  private async deadMansSwitch(timeoutSec: number): Promise<void> {
    const res = await this.call(this.config.rest.cancelAllOrdersAfter(timeoutSec))
    if (Either.isLeft(res)) {
      this.c.accountCallFailures++
      if (res.left._tag === "RateLimited") this.c.rateLimited++
      this.log("error", `cancelallordersafter(${timeoutSec}) failed: ${reasonOf(res.left)}`)
    }
  }

  // ---- reconciliation ----

  private async reconcileSubmit(i: SubmitOrder, err: KrakenRestError, duplicate: boolean): Promise<void> {
    const cid = i.clientOrderId
    const st = this.state(cid, i.instrument)
    this.c.reconciliations++
    let definitiveAbsence = false
    for (let attempt = 0; attempt < this.attempts; attempt++) {
      if (attempt > 0) await this.sleep(this.delayMs)
      if (this.stopped) return
      if (st.accepted || st.terminal) {
        this.c.reconciled++
        return // the feed got there first
      }
      const open = await this.read("openorders", this.config.rest.openOrders())
      if (Either.isRight(open)) {
        const hit = open.right.find((o) => o.cliOrdId === cid)
        const vid = hit === undefined ? undefined : Either.getOrUndefined(parseVenueOrderId(hit.order_id))
        if (vid !== undefined) {
          this.c.reconciled++
          this.feed.mapOrder(vid, cid, symbolOf(i.instrument))
          return this.emit({ _tag: "OrderAccepted", ...this.ref(i.instrument, cid), venueOrderId: vid, ...venueTsOf(hit?.receivedTime ?? undefined) })
        }
      }
      const fills = await this.read("fills", this.config.rest.fills())
      if (Either.isRight(fills)) {
        const hit = fills.right.find((f) => f.cliOrdId === cid)
        const vid = hit === undefined ? undefined : Either.getOrUndefined(parseVenueOrderId(hit.order_id))
        if (vid !== undefined) {
          // It traded; the fills themselves come on the private feed (its snapshot after a reconnect).
          this.c.reconciled++
          this.emit({ _tag: "OrderAccepted", ...this.ref(i.instrument, cid), venueOrderId: vid })
          // Not open and traded: an immediate order's fills are all there will be.
          return this.immediateShort(i, fills.right.filter((f) => f.cliOrdId === cid).reduce((s, f) => s.plus(f.size), ZERO))
        }
      }
      definitiveAbsence = Either.isRight(open) && Either.isRight(fills)
    }
    if (st.accepted || st.terminal) {
      this.c.reconciled++
      return
    }
    if (!duplicate && definitiveAbsence && venueAnswered(err)) {
      // The venue answered the send with an error and the order is neither open nor filled: not placed.
      this.c.reconciled++
      return this.emit({ _tag: "OrderRejected", ...this.ref(i.instrument, cid), reason: `not_placed: ${reasonOf(err)}` })
    }
    this.unresolved(
      cid,
      duplicate
        ? "sendorder: client order id already exists at the venue but the order is neither open nor filled"
        : `sendorder outcome unknown (${reasonOf(err)}); order not found at the venue${definitiveAbsence ? "" : " (venue not readable)"}`
    )
  }

  private async findOpen(cid: string) {
    const open = await this.read("openorders", this.config.rest.openOrders())
    if (Either.isLeft(open)) return "error" as const
    return open.right.find((o) => o.cliOrdId === cid)
  }

  private unresolved(cid: string, message: string): void {
    this.c.unresolved++
    this.log("warn", `${message}: nothing reported, left to reconciliation`, cid)
  }

  // ---- the private feed ----

  private fromFeed(e: OrderEvent): void {
    if (e._tag === "OrderSubmitted" || e._tag === "OrderCancelRequested") return
    const st = this.state(e.clientOrderId, e.instrument)
    switch (e._tag) {
      case "OrderFilled":
        return this.fill(e, st)
      case "OrderModified":
        // Edits we sent are reported from the editorder reply; the feed's copy is only needed
        // when that reply was lost.
        if (!this.unresolvedModifies.delete(e.clientOrderId)) return
        return this.emit(e)
      case "OrderCanceled":
        // A finished order has no edit left to resolve: the set holds only live orders' cids.
        this.unresolvedModifies.delete(e.clientOrderId)
        if (!st.accepted && e.venueOrderId !== undefined) this.emit({ _tag: "OrderAccepted", ...this.ref(e.instrument, e.clientOrderId), venueOrderId: e.venueOrderId })
        return this.emit(e)
      default:
        return this.emit(e)
    }
  }

  private fill(e: OrderFilled, st: OrderState): void {
    if (!st.accepted && !st.terminal && this.inFlight.has(e.clientOrderId)) {
      this.emit({ _tag: "OrderAccepted", ...this.ref(e.instrument, e.clientOrderId), venueOrderId: e.venueOrderId })
    }
    if (!st.fillIds.has(e.fillId)) {
      st.fillIds.add(e.fillId)
      st.filled = st.filled.plus(e.qty)
    }
    st.venueOrderId ??= e.venueOrderId
    // Fills are always passed on: the order actor dedupes by fill id (snapshots repeat them).
    this.deliver(e)
    const w = this.waiters.get(e.clientOrderId)
    if (w !== undefined && st.filled.greaterThanOrEqualTo(w.qty)) {
      this.waiters.delete(e.clientOrderId)
      w.cancelTimer()
      w.fire()
    }
  }

  private afterFills(cid: string, qty: Decimal, fire: () => void): void {
    const st = this.orders.get(cid)
    if (st !== undefined && st.filled.greaterThanOrEqualTo(qty)) return fire()
    const wait = this.config.fillWaitMs ?? 5000
    let cancelTimer = () => {}
    const w: Waiter = {
      qty,
      fire,
      cancelTimer: () => cancelTimer()
    }
    const cancel = this.clock.setTimer(wait, () => {
      this.timers.delete(cancel)
      if (this.waiters.get(cid) !== w) return
      this.waiters.delete(cid)
      this.log("warn", `fills of an IOC/FOK did not arrive within ${wait} ms: reporting the cancel of the remainder anyway`, cid)
      fire()
    })
    this.timers.add(cancel)
    cancelTimer = () => {
      this.timers.delete(cancel)
      cancel()
    }
    this.waiters.set(cid, w)
  }

  // ---- plumbing ----

  private state(cid: string, instrument: InstrumentId | undefined): OrderState {
    let st = this.orders.get(cid)
    if (st === undefined) {
      if (this.orders.size >= MAX_TRACKED) {
        // Oldest first (insertion order); an order that old is long settled.
        const oldest = this.orders.keys().next()
        if (oldest.done !== true) {
          this.orders.delete(oldest.value)
          this.unresolvedModifies.delete(oldest.value)
        }
      }
      st = { accepted: false, terminal: false, venueOrderId: undefined, instrument, filled: ZERO, fillIds: new Set() }
      this.orders.set(cid, st)
    }
    return st
  }

  private ref(instrument: InstrumentId, clientOrderId: ClientOrderId) {
    return { id: this.env.nextId(), ts: this.clock.now(), source: this.env.source, account: this.account, instrument, clientOrderId }
  }

  /** Reports once per fact: accepted once, terminal once per client order id. */
  private emit(r: VenueReport): void {
    const st = this.state(r.clientOrderId, r.instrument)
    switch (r._tag) {
      case "OrderAccepted":
        if (st.accepted) return
        st.accepted = true
        st.venueOrderId = r.venueOrderId
        break
      case "OrderRejected":
      case "OrderCanceled":
      case "OrderExpired":
        if (st.terminal) return
        st.terminal = true
        break
      default:
        break
    }
    this.deliver(r)
  }

  private deliver(r: VenueReport): void {
    this.c.reports++
    for (const l of this.listeners) {
      try {
        l(r)
      } catch (e) {
        this.log("error", `report listener threw: ${e instanceof Error ? e.message : String(e)}`.slice(0, 300), r.clientOrderId)
      }
    }
  }

  private call<A>(e: Effect.Effect<A, KrakenRestError>): Promise<Either.Either<A, KrakenRestError>> {
    return Effect.runPromise(Effect.either(e))
  }

  /** A read: its cost is reserved from risk's budget first (it may wait there), then it is sent. */
  private async read<A>(call: VenueRead, e: Effect.Effect<A, KrakenRestError>): Promise<Either.Either<A, KrakenRestError | RequestBudgetClosed>> {
    // A budget closed under a running gateway is a trading core restarting (its risk actor, and
    // so its budget, is rebuilt from the ledger): wait for the new one rather than leave an
    // unknown outcome unresolved until the next restart (simulation seed 48, safety).
    for (let attempt = 0; ; attempt++) {
      try {
        await this.config.budget.reserve(call)
        break
      } catch (closed) {
        if (this.stopped || attempt >= READ_BUDGET_RETRIES) return Either.left(closed as RequestBudgetClosed)
        await this.sleep(READ_BUDGET_RETRY_MS)
      }
    }
    if (this.stopped) return Either.left(new RequestBudgetClosed({ call }))
    return this.call(e)
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const cancel = this.clock.setTimer(ms, () => {
        this.timers.delete(cancel)
        resolve()
      })
      this.timers.add(cancel)
    })
  }

  private log(level: KrakenGatewayLog["level"], message: string, clientOrderId?: string): void {
    try {
      this.config.onLog?.(clientOrderId === undefined ? { level, message } : { level, message, clientOrderId })
    } catch {
      // a throwing logger must not break the gateway
    }
  }
}

