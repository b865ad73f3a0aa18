import { Either } from "effect"
import type { Decimal } from "../../../domain/decimal.js"
import { ZERO } from "../../../domain/decimal.js"
import type { AccountFact } from "../../../actors/ports/venue-gateway.js"
import type { OrderAccepted, OrderCanceled, OrderEvent, OrderFilled, OrderModified } from "../../../domain/events/orders.js"
import { parseClientOrderId, parseFillId, parseVenueOrderId, type AccountId, type ClientOrderId } from "../../../domain/ids.js"
import { signChallenge } from "./auth.js"
import { DecodeCounter, type DecodeStats } from "./decode-stats.js"
import { VenueDecodeError } from "./errors.js"
import { envelopeSource, instrumentOf, type EnvelopeSource } from "./md-normalize.js"
import { decodeAccountLogEntry, decodeFill, decodeFlex, decodePrivateFrame, type AccountLogEntry, type FillFrame, type PositionFrame, type VenueOrderFrame } from "./private-frames.js"
import { ManagedConnection, type ConnectionConfig, type ConnectionSignal } from "./ws-connection.js"

/**
 * Kraken Futures private feed: challenge auth, then `open_orders`, `balances`, `account_log`,
 * `fills`, `open_positions`. Live order updates and fills become canonical order events; snapshots
 * and positions are handed over as signals for reconciliation; the flex account's margin figures
 * and the account log's funding entries are account facts (`onAccount`). A fill of an order the
 * venue placed itself (no `cli_ord_id`, `fill_type: "liquidation"`) is reported under the client
 * order id `liquidation-<order_id>` with `fillType: "liquidation"`, so the position counts it. Orders are attributed by client order id; the
 * venue's cancel message carries only `order_id`, so the session keeps order_id → cli_ord_id
 * from everything it has seen. Fills of `fills_snapshot` are emitted too: the order actor
 * dedupes by fill id, and after a reconnect the snapshot is how missed fills arrive.
 */

export type PrivateFeedName = "open_orders" | "fills" | "open_positions" | "balances" | "account_log"

/**
 * `balances` and `account_log` come before `fills`: the venue sends each feed's snapshot right
 * after its `subscribed`, so once `fills` is subscribed the margin figure is known.
 */
export const DEFAULT_PRIVATE_FEEDS: ReadonlyArray<PrivateFeedName> = ["open_orders", "balances", "account_log", "fills", "open_positions"]

export type PrivateFeedSignal =
  | ConnectionSignal
  | { readonly _tag: "Authenticated" }
  | { readonly _tag: "AuthenticationFailed"; readonly detail: string }
  | { readonly _tag: "Subscribed"; readonly feed: string }
  | { readonly _tag: "OpenOrdersSnapshot"; readonly orders: ReadonlyArray<VenueOrderFrame> }
  | { readonly _tag: "Positions"; readonly positions: ReadonlyArray<PositionFrame> }
  /** An order or fill without a client order id we can use (placed elsewhere, or unknown). */
  | { readonly _tag: "Unattributed"; readonly what: "order" | "fill"; readonly orderId: string; readonly reason: string }
  | { readonly _tag: "DecodeFailed"; readonly error: VenueDecodeError }
  | { readonly _tag: "VenueMessage"; readonly level: "error" | "alert"; readonly message: string }

export interface PrivateSessionConfig {
  readonly apiKey: string
  readonly secret: string
  readonly account: AccountId
  readonly feeds?: ReadonlyArray<PrivateFeedName>
  readonly onEvent: (event: OrderEvent) => void
  readonly onSignal?: (signal: PrivateFeedSignal) => void
  /** Margin figures and funding entries (see `AccountFact`). */
  readonly onAccount?: (fact: AccountFact) => void
  readonly env?: EnvelopeSource
  /**
   * True while a sendorder reply is still to come. A cancel frame names only `order_id`; for an
   * order that never rested (an IOC remainder) only that reply maps it to our client order id.
   * While it is pending, such a frame is held (see `mapOrder`, `releaseHeld`) instead of dropped.
   */
  readonly awaitingReplies?: () => boolean
}

/** Cancel frames held for a sendorder reply; beyond this many the oldest is given up. */
const MAX_HELD = 1_000

/** open_orders `reason`s that mean the order left the book by filling, not by a cancel. */
const FILLED_REASONS = new Set(["full_fill"])

export class PrivateFeedSession {
  private readonly counter = new DecodeCounter()
  private readonly clientIds = new Map<string, ClientOrderId>()
  private readonly instruments = new Map<string, string>()
  private readonly env: EnvelopeSource
  private authenticated = false
  /** Cancel frames of order ids not known yet, held while sendorder replies are pending. */
  private readonly held = new Map<string, string>()

  private challenge: { readonly original: string; readonly signed: string } | undefined

  constructor(
    private readonly config: PrivateSessionConfig,
    private readonly send: (message: unknown) => void,
    /** The connection this session runs on: told when the challenge is signed or auth failed. */
    private readonly link: { readonly authenticated: () => void; readonly failed: (error: string) => void } = { authenticated: () => {}, failed: () => {} }
  ) {
    this.env = config.env ?? envelopeSource("kraken-futures/private")
  }

  /** After each (re)connect: ask for a challenge. */
  authenticate(): void {
    this.authenticated = false
    this.challenge = undefined
    this.send({ event: "challenge", api_key: this.config.apiKey })
  }

  /** Once the challenge is signed: every private feed carries the credentials. */
  subscribe(): void {
    const c = this.challenge
    if (c === undefined) return
    for (const feed of this.config.feeds ?? DEFAULT_PRIVATE_FEEDS) {
      this.send({ event: "subscribe", feed, api_key: this.config.apiKey, original_challenge: c.original, signed_challenge: c.signed })
    }
  }

  private authFailed(detail: string): void {
    this.signal({ _tag: "AuthenticationFailed", detail })
    this.link.failed(`authentication failed: ${detail.slice(0, 120)}`)
  }

  counters(): DecodeStats {
    return this.counter.snapshot()
  }

  private signal(s: PrivateFeedSignal): void {
    this.config.onSignal?.(s)
  }

  private bad(reason: string, shape: string): void {
    const error = new VenueDecodeError({ source: "ws/private", reason, shape })
    this.counter.error(reason, shape)
    this.signal({ _tag: "DecodeFailed", error })
  }

  handle(text: string): void {
    this.counter.frame()
    const decoded = decodePrivateFrame(text)
    if (Either.isLeft(decoded)) {
      this.counter.error(decoded.left.reason, decoded.left.shape)
      return this.signal({ _tag: "DecodeFailed", error: decoded.left })
    }
    const f = decoded.right
    if ("event" in f) {
      switch (f.event) {
        case "challenge": {
          const challenge = f.message
          if (challenge == null) return this.authFailed("challenge reply without message")
          this.challenge = { original: challenge, signed: signChallenge({ secret: this.config.secret, challenge }) }
          return this.link.authenticated()
        }
        case "subscribed":
          if (!this.authenticated) {
            this.authenticated = true
            this.signal({ _tag: "Authenticated" })
          }
          return this.signal({ _tag: "Subscribed", feed: f.feed ?? "" })
        case "subscribed_failed":
          return this.authFailed(`subscribe ${f.feed ?? "?"} failed: ${f.message ?? ""}`)
        case "error":
          // Before any subscription succeeded, an error is the venue refusing our credentials.
          if (!this.authenticated) return this.authFailed(f.message ?? "error")
          return this.signal({ _tag: "VenueMessage", level: "error", message: f.message ?? "" })
        case "alert":
          return this.signal({ _tag: "VenueMessage", level: "alert", message: f.message ?? "" })
        default:
          return
      }
    }
    switch (f.feed) {
      case "open_orders_snapshot":
        for (const o of f.orders) this.learn(o)
        return this.signal({ _tag: "OpenOrdersSnapshot", orders: f.orders })
      case "open_orders":
        return this.orderUpdate(f.order ?? undefined, f.order_id ?? undefined, f.is_cancel, f.reason ?? "")
      case "fills_snapshot":
      case "fills":
        for (const raw of f.fills) {
          const fill = decodeFill(raw)
          if (Either.isLeft(fill)) this.bad(fill.left.reason, fill.left.shape)
          else this.fill(fill.right)
        }
        return
      case "open_positions":
        return this.signal({ _tag: "Positions", positions: f.positions })
      case "balances":
      case "balances_snapshot":
        return this.balances(f.flex_futures)
      case "account_log_snapshot":
        for (const raw of f.logs) this.accountLog(raw)
        return
      case "account_log":
        return this.accountLog(f.new_entry)
      default:
        return
    }
  }

  private balances(flex: unknown): void {
    // An account without a flex part (single-collateral only) has no figure risk can use.
    if (flex == null) return
    const m = decodeFlex(flex)
    if (Either.isLeft(m)) return this.bad(m.left.reason, m.left.shape)
    const b = m.right
    this.config.onAccount?.({
      _tag: "AccountMargin",
      available: b.available_margin,
      ...(b.initial_margin == null ? {} : { initialMargin: b.initial_margin }),
      ...(b.maintenance_margin == null ? {} : { maintenanceMargin: b.maintenance_margin }),
      ...(b.margin_equity == null ? {} : { equity: b.margin_equity })
    })
  }

  /** Funding entries become FundingPaid; every other entry is the fills' and positions' business. */
  private accountLog(raw: unknown): void {
    const d = decodeAccountLogEntry(raw)
    if (Either.isLeft(d)) return this.bad(d.left.reason, d.left.shape)
    const e: AccountLogEntry = d.right
    if (e.info !== "funding rate change" || e.realized_funding == null || e.contract == null || e.booking_uid == null) return
    const instrument = instrumentOf(e.contract.toUpperCase())
    if (Either.isLeft(instrument)) return this.bad("funding entry with an invalid contract", `contract ${JSON.stringify(e.contract.slice(0, 40))}`)
    const venueTs = e.date == null ? Number.NaN : Date.parse(e.date)
    this.config.onAccount?.({
      _tag: "FundingPaid",
      id: this.env.nextId(),
      ts: this.env.now(),
      source: this.env.source,
      account: this.config.account,
      instrument: instrument.right,
      amount: e.realized_funding,
      ...(e.funding_rate == null ? {} : { rate: e.funding_rate }),
      bookingId: e.booking_uid.slice(0, 128),
      ...(Number.isFinite(venueTs) ? { venueTs } : {})
    })
  }

  /**
   * The venue order id → client order id (and instrument) from a sendorder reply. A cancel frame
   * for that order held until now is handled at once, so it is attributed.
   */
  mapOrder(orderId: string, clientOrderId: ClientOrderId, instrumentSymbol: string): void {
    this.remember(orderId, clientOrderId, instrumentSymbol)
    const reason = this.held.get(orderId)
    if (reason === undefined) return
    this.held.delete(orderId)
    this.orderUpdate(undefined, orderId, true, reason)
  }

  /** No reply pending any more: held frames belong to orders placed elsewhere. */
  releaseHeld(): void {
    const held = [...this.held]
    this.held.clear()
    for (const [orderId, reason] of held) this.signal({ _tag: "Unattributed", what: "order", orderId, reason })
  }

  private remember(orderId: string, clientOrderId: ClientOrderId, instrumentSymbol: string): void {
    if (this.clientIds.size > 100_000) {
      // Bounded; the next open_orders snapshot refills it.
      this.clientIds.clear()
      this.instruments.clear()
    }
    this.clientIds.set(orderId, clientOrderId)
    this.instruments.set(orderId, instrumentSymbol)
  }

  private learn(o: VenueOrderFrame): ClientOrderId | undefined {
    this.instruments.set(o.order_id, o.instrument)
    const known = this.clientIds.get(o.order_id)
    if (known !== undefined) return known
    if (o.cli_ord_id == null) return undefined
    const id = parseClientOrderId(o.cli_ord_id)
    if (Either.isLeft(id)) return undefined
    if (this.clientIds.size > 100_000) {
      // Bounded; the next open_orders snapshot refills it.
      this.clientIds.clear()
      this.instruments.clear()
    }
    this.clientIds.set(o.order_id, id.right)
    return id.right
  }

  private ref(orderId: string, instrumentSymbol: string, clientOrderId: ClientOrderId) {
    const instrument = instrumentOf(instrumentSymbol)
    const venueOrderId = parseVenueOrderId(orderId)
    if (Either.isLeft(instrument) || Either.isLeft(venueOrderId)) return undefined
    return {
      id: this.env.nextId(),
      ts: this.env.now(),
      source: this.env.source,
      account: this.config.account,
      instrument: instrument.right,
      clientOrderId,
      venueOrderId: venueOrderId.right
    }
  }

  private orderUpdate(order: VenueOrderFrame | undefined, orderId: string | undefined, isCancel: boolean, reason: string): void {
    const id = order?.order_id ?? orderId
    if (id === undefined) return this.bad("open_orders update without order or order_id", "object{feed,is_cancel}")
    const wasKnown = this.clientIds.has(id)
    const clientOrderId = order === undefined ? this.clientIds.get(id) : this.learn(order)
    if (clientOrderId === undefined) {
      if (order === undefined && isCancel && this.config.awaitingReplies?.() === true) {
        // Possibly the remainder of our own IOC whose sendorder reply is still on its way.
        if (this.held.size >= MAX_HELD) {
          const [oldId, oldReason] = this.held.entries().next().value as [string, string]
          this.held.delete(oldId)
          this.signal({ _tag: "Unattributed", what: "order", orderId: oldId, reason: oldReason })
        }
        this.held.set(id, reason)
        return
      }
      return this.signal({ _tag: "Unattributed", what: "order", orderId: id, reason })
    }
    if (isCancel) {
      this.clientIds.delete(id)
      if (FILLED_REASONS.has(reason)) return // the fills feed moves the order to filled
      // A cancel message carries no instrument; the order frame may. Without it we cannot key the event.
      const symbol = order?.instrument ?? this.instruments.get(id)
      if (symbol === undefined) return this.signal({ _tag: "Unattributed", what: "order", orderId: id, reason: `cancel (${reason}) of an order whose instrument is unknown` })
      const r = this.ref(id, symbol, clientOrderId)
      if (r === undefined) return this.bad("order with invalid instrument or order id", `order ${JSON.stringify(id.slice(0, 40))}`)
      const ev: OrderCanceled = { _tag: "OrderCanceled", ...r, ...(reason === "" ? {} : { reason: reason.slice(0, 4096) }) }
      this.instruments.delete(id)
      return this.config.onEvent(ev)
    }
    if (order === undefined) return this.bad("open_orders update without order", `order ${JSON.stringify(id.slice(0, 40))}`)
    this.instruments.set(id, order.instrument)
    const r = this.ref(id, order.instrument, clientOrderId)
    if (r === undefined) return this.bad("order with invalid instrument or order id", `order ${JSON.stringify(id.slice(0, 40))}`)
    const venueTs = order.last_update_time ?? order.time
    const ts = venueTs == null ? {} : { venueTs }
    if (!wasKnown) {
      const ev: OrderAccepted = { _tag: "OrderAccepted", ...r, ...ts }
      return this.config.onEvent(ev)
    }
    if (reason.includes("edit")) {
      const price = order.type === "stop" ? undefined : order.limit_price
      const ev: OrderModified = {
        _tag: "OrderModified",
        ...r,
        qty: order.qty,
        ...(price == null ? {} : { price }),
        ...(order.stop_price == null ? {} : { triggerPrice: order.stop_price }),
        ...ts
      }
      return this.config.onEvent(ev)
    }
    // Partial fills and other in-place updates: the fills feed carries the facts.
  }

  private fill(f: FillFrame): void {
    const liquidation = f.fill_type === "liquidation"
    const clientOrderId =
      f.cli_ord_id == null
        ? (this.clientIds.get(f.order_id) ?? (liquidation ? Either.getOrUndefined(parseClientOrderId(`liquidation-${f.order_id}`)) : undefined))
        : Either.getOrUndefined(parseClientOrderId(f.cli_ord_id))
    if (clientOrderId === undefined) return this.signal({ _tag: "Unattributed", what: "fill", orderId: f.order_id, reason: "no client order id" })
    // A fill names both ids: a later cancel frame of this order (only `order_id`) is attributable.
    if (!this.clientIds.has(f.order_id)) this.remember(f.order_id, clientOrderId, f.instrument)
    const r = this.ref(f.order_id, f.instrument, clientOrderId)
    const fillId = parseFillId(f.fill_id)
    if (r === undefined || Either.isLeft(fillId)) return this.bad("fill with invalid instrument, order id or fill id", `fill ${JSON.stringify(f.fill_id.slice(0, 40))}`)
    const fee: Decimal = f.fee_paid ?? ZERO
    const ev: OrderFilled = {
      _tag: "OrderFilled",
      ...r,
      fillId: fillId.right,
      side: f.buy ? "buy" : "sell",
      price: f.price,
      qty: f.qty,
      fee,
      feeCurrency: f.fee_currency ?? "",
      // Only `maker` rests; taker, takerAfterEdit, liquidation, assignment all took liquidity.
      liquidity: f.fill_type === "maker" ? "maker" : "taker",
      ...(f.time == null ? {} : { venueTs: f.time }),
      ...(liquidation ? { fillType: "liquidation" as const } : {})
    }
    this.config.onEvent(ev)
  }
}

export interface PrivateFeedConfig extends ConnectionConfig, PrivateSessionConfig {}

export class KrakenPrivateFeed {
  private readonly connection: ManagedConnection
  private readonly session: PrivateFeedSession

  constructor(config: PrivateFeedConfig) {
    const onSignal = config.onSignal
    this.connection = new ManagedConnection(config, {
      authenticate: () => this.session.authenticate(),
      subscribe: () => this.session.subscribe(),
      onText: (text) => this.session.handle(text),
      onSignal: (s) => onSignal?.(s)
    })
    this.session = new PrivateFeedSession(config, (m) => this.connection.send(m), {
      authenticated: () => this.connection.authenticated(),
      failed: (error) => this.connection.failed(error)
    })
  }

  connectionState(): ReturnType<ManagedConnection["state"]> {
    return this.connection.state()
  }

  start(): void {
    this.connection.start()
  }

  stop(): Promise<void> {
    return this.connection.stop()
  }

  counters(): DecodeStats {
    return this.session.counters()
  }

  /** See `PrivateFeedSession.mapOrder`. */
  mapOrder(orderId: string, clientOrderId: ClientOrderId, instrumentSymbol: string): void {
    this.session.mapOrder(orderId, clientOrderId, instrumentSymbol)
  }

  /** See `PrivateFeedSession.releaseHeld`. */
  releaseHeld(): void {
    this.session.releaseHeld()
  }
}
