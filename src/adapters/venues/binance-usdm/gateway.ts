import { Effect, Either } from "effect"
import { wallClock, type ClockService } from "../../../actors/clock.js"
import { RequestBudgetClosed, type RequestBudgetService, type VenueRead } from "../../../actors/ports/request-budget.js"
import type { AccountFact, VenueGatewayService, VenueReport } from "../../../actors/ports/venue-gateway.js"
import { ApprovedAction } from "../../../actors/risk/approval.js"
import { Decimal, ZERO } from "../../../domain/decimal.js"
import type { CancelAll, CancelOrder, ModifyOrder, SubmitOrder } from "../../../domain/events/intents.js"
import { parseClientOrderId, parseFillId, parseVenueOrderId, symbolOf, type AccountId, type ClientOrderId, type InstrumentId, type VenueOrderId } from "../../../domain/ids.js"
import { envelopeSource, type EnvelopeSource } from "../kraken-futures/md-normalize.js"
import type { ConnectionConfig } from "../kraken-futures/ws-connection.js"
import { outcomeUnknown, type Banned, type BinanceRestError, type RateLimited } from "./errors.js"
import { VENUE } from "./instruments.js"
import type { BinanceOrder, BinanceRestClient, BinanceSide, PlaceAlgoRequest, PlaceOrderRequest, PlaceOutcome } from "./rest.js"
import { BinanceUserStream, type AccountUpdate, type AlgoUpdate, type OrderUpdate, type UserStreamSignal, type UserUpdate } from "./user-stream.js"
import type { BinanceWsApiClient } from "./ws-api.js"

/**
 * The Binance USD-M venue gateway: `ApprovedAction`s become REST calls (or WebSocket API
 * requests, `orderEntry: "ws"`), the venue's answers and the user data stream become canonical
 * order events (`VenueReport`), as the Kraken gateway does for Kraken. What comes from where:
 * - the order-entry reply: OrderAccepted / OrderRejected / OrderModified / OrderModifyRejected /
 *   OrderCanceled / OrderCancelRejected for the action we sent;
 * - the user data stream: OrderFilled (`ORDER_TRADE_UPDATE` x=TRADE), venue-initiated ends
 *   (CANCELED by the dead man's switch, EXPIRED IOC remainders), conditional orders' life
 *   (`ALGO_UPDATE`), the venue's positions (`ACCOUNT_UPDATE`, kept for reconciliation).
 * One emitter dedupes per client order id (accepted once, terminal once; fills by id).
 *
 * Stop and take-profit orders go to the algo-order endpoints (`clientAlgoId` = Troupe's client
 * order id; the triggered order carries it as its `clientOrderId`, so its fills need no map).
 * The dead man's switch is `countdownCancelAll`, per symbol of the account's instruments.
 *
 * When the user stream resumes (a new listenKey after expiry, a socket that reconnected) events
 * may have been missed: every order still live here is reconciled by REST — open orders, open
 * algo orders, the account's trades since the oldest live order, a query by client order id for
 * one that is no longer open — each read billed to risk's budget first. Nothing is resent.
 *
 * 429 and 418 are the typed errors `RateLimited` and `Banned` (errors.ts): the action's report
 * carries `rate_limited`/`banned` and the error itself goes to `onVenueLimit`, for the risk side
 * (back off until `retryAfterMs`; a ban halts the venue until `untilMs`).
 */

export interface BinanceGatewayLog {
  readonly level: "info" | "warn" | "error"
  readonly message: string
  readonly clientOrderId?: string
}

export interface BinanceGatewayCounters {
  readonly actions: number
  readonly forged: number
  readonly reports: number
  readonly rateLimited: number
  readonly banned: number
  readonly reconciliations: number
  readonly reconciled: number
  readonly unresolved: number
  readonly accountCallFailures: number
  /** Resumes of the user stream that were reconciled by REST, and the reports they produced. */
  readonly resumes: number
  readonly resumeReports: number
  readonly streamListening: boolean
}

export interface BinanceGatewayConfig {
  readonly account: AccountId
  readonly rest: BinanceRestClient
  /** Order entry path: REST (default) or the WebSocket API client (which must be given). */
  readonly orderEntry?: "rest" | "ws"
  readonly wsApi?: BinanceWsApiClient
  /** Risk's budget for the reads this gateway makes. */
  readonly budget: RequestBudgetService
  /** The account's symbols: cancel-all and the dead man's switch run per symbol. */
  readonly symbols: ReadonlyArray<string>
  readonly userStream: Omit<ConnectionConfig, "url"> & { readonly wsUrl: string; readonly keepAliveMs?: number }
  readonly clock?: ClockService
  readonly source?: string
  readonly reconcile?: { readonly attempts?: number; readonly delayMs?: number }
  readonly onLog?: (entry: BinanceGatewayLog) => void
  readonly onStreamSignal?: (signal: UserStreamSignal) => void
  /** A 429 or a 418 the venue answered: the risk side backs off (429) or halts the venue (418). */
  readonly onVenueLimit?: (error: RateLimited | Banned) => void
  readonly run?: () => number
}

export interface BinanceVenueGateway extends VenueGatewayService {
  readonly start: () => void
  readonly stop: () => Promise<void>
  readonly counters: () => BinanceGatewayCounters
  /** The venue's positions as the last `ACCOUNT_UPDATE`s gave them (symbol → signed amount). */
  readonly venuePositions: () => ReadonlyMap<string, Decimal>
  /** The user stream (tests and the inspector). */
  readonly userStream: BinanceUserStream
}

interface OrderState {
  accepted: boolean
  terminal: boolean
  venueOrderId: VenueOrderId | undefined
  readonly instrument: InstrumentId
  /** Numeric venue order id (trades name it). */
  orderId: number | undefined
  side: BinanceSide | undefined
  qty: Decimal | undefined
  price: Decimal | undefined
  algo: boolean
  triggered: boolean
  /** Local time the order was sent or first seen: reconciliation reads trades from here. */
  since: number
  filled: Decimal
  readonly fillIds: Set<string>
}

const MAX_TRACKED = 50_000

/** Troupe order type → the venue's type and time in force. */
export const binanceOrderType = (i: SubmitOrder): { readonly algo: false; readonly type: PlaceOrderRequest["type"]; readonly tif?: PlaceOrderRequest["timeInForce"] } | { readonly algo: true; readonly type: PlaceAlgoRequest["type"] } => {
  switch (i.orderType) {
    case "limit":
      return { algo: false, type: "LIMIT", tif: "GTC" }
    case "postOnly":
      return { algo: false, type: "LIMIT", tif: "GTX" }
    case "ioc":
      return i.price === undefined ? { algo: false, type: "MARKET" } : { algo: false, type: "LIMIT", tif: "IOC" }
    case "fok":
      return { algo: false, type: "LIMIT", tif: "FOK" }
    case "market":
      return { algo: false, type: "MARKET" }
    case "stop":
      return { algo: true, type: i.price === undefined ? "STOP_MARKET" : "STOP" }
    case "takeProfit":
      return { algo: true, type: i.price === undefined ? "TAKE_PROFIT_MARKET" : "TAKE_PROFIT" }
  }
}

/** The rejection reason of a typed error whose outcome is known. */
export const reasonOf = (e: BinanceRestError): string => {
  switch (e._tag) {
    case "RateLimited":
      return `rate_limited: ${e.limit}`
    case "Banned":
      return "banned"
    case "Throttled":
      return "throttled"
    case "AuthenticationFailed":
      return `authentication_failed: ${e.code}`
    case "TimestampRejected":
      return "timestamp_rejected"
    case "UnknownSymbol":
      return "unknown_symbol"
    case "InvalidArgument":
      return `invalid_argument: ${e.field} ${e.code} ${e.detail}`.slice(0, 200)
    case "OrderRejected":
      return `${e.reason}: ${e.code} ${e.detail}`.slice(0, 200)
    case "InsufficientFunds":
      return "insufficient_funds"
    case "OrderNotFound":
      return "not_found"
    case "DuplicateClientOrderId":
      return "duplicate_client_order_id"
    case "AccountSettingRejected":
      return `account_setting_rejected: ${e.code}`
    case "VenueUnavailable":
      return `venue_unavailable: ${e.cause}${e.status === undefined ? "" : ` ${e.status}`} ${e.detail}`.slice(0, 200)
    case "UnknownVenueError":
      return `unknown_venue_error: ${e.code} ${e.detail}`.slice(0, 200)
    case "VenueDecodeError":
      return "venue_decode_error"
  }
}

const fillIdOf = (symbol: string, tradeId: number): string => `${symbol}-${tradeId}`
const algoVenueId = (algoId: number): string => `algo-${algoId}`
const toSide = (s: "buy" | "sell"): BinanceSide => (s === "buy" ? "BUY" : "SELL")

export const makeBinanceVenueGateway = (config: BinanceGatewayConfig): BinanceVenueGateway => new Gateway(config)

class Gateway implements BinanceVenueGateway {
  readonly account: AccountId
  readonly userStream: BinanceUserStream
  private readonly clock: ClockService
  private readonly env: EnvelopeSource
  private readonly listeners = new Set<(r: VenueReport) => void>()
  private readonly accountListeners = new Set<(f: AccountFact) => void>()
  private readonly orders = new Map<string, OrderState>()
  private readonly byOrderId = new Map<number, string>()
  private readonly unresolvedModifies = new Set<string>()
  private readonly positions = new Map<string, Decimal>()
  private readonly timers = new Set<() => void>()
  private readonly attempts: number
  private readonly delayMs: number
  private stopped = false
  private listening = false
  private resuming: Promise<void> | undefined
  private c = { actions: 0, forged: 0, reports: 0, rateLimited: 0, banned: 0, reconciliations: 0, reconciled: 0, unresolved: 0, accountCallFailures: 0, resumes: 0, resumeReports: 0 }

  constructor(private readonly config: BinanceGatewayConfig) {
    this.account = config.account
    this.clock = config.clock ?? wallClock
    this.env = envelopeSource(config.source ?? `${VENUE}/gateway/${config.account}`, () => this.clock.now(), config.run)
    this.attempts = Math.max(1, config.reconcile?.attempts ?? 3)
    this.delayMs = Math.max(0, config.reconcile?.delayMs ?? 500)
    if (config.orderEntry === "ws" && config.wsApi === undefined) throw new Error("orderEntry ws needs a wsApi client")
    const { wsUrl, keepAliveMs, ...connection } = config.userStream
    this.userStream = new BinanceUserStream({
      ...connection,
      rest: config.rest,
      wsUrl,
      ...(keepAliveMs === undefined ? {} : { keepAliveMs }),
      onUpdate: (u) => this.fromStream(u),
      onSignal: (s) => {
        if (s._tag === "Listening") {
          this.listening = true
          if (s.resumed) void this.resume()
        } else if (s._tag === "Disconnected" || s._tag === "GaveUp" || s._tag === "ListenKeyExpired") this.listening = false
        if (s._tag === "DecodeFailed") this.log("warn", `user stream: ${s.error.reason} ${s.error.shape}`)
        if (s._tag === "ListenKeyFailed") this.log("warn", `user stream: listenKey request failed: ${reasonOf(s.error)}`)
        config.onStreamSignal?.(s)
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
    this.config.wsApi?.start()
    this.userStream.start()
  }

  readonly stop = async (): Promise<void> => {
    this.stopped = true
    for (const cancel of this.timers) cancel()
    this.timers.clear()
    await Promise.allSettled([this.userStream.stop(), this.config.wsApi?.stop()])
  }

  readonly counters = (): BinanceGatewayCounters => ({ ...this.c, streamListening: this.listening })

  readonly venuePositions = (): ReadonlyMap<string, Decimal> => this.positions

  private get entry() {
    return this.config.orderEntry === "ws" && this.config.wsApi !== undefined ? this.config.wsApi : this.config.rest
  }

  // ---- actions ----

  private async submit(i: SubmitOrder): Promise<void> {
    const cid = i.clientOrderId
    const st = this.state(cid, i.instrument)
    st.side = toSide(i.side)
    st.qty = i.qty
    st.price = i.price
    st.since = this.clock.now()
    const kind = binanceOrderType(i)
    const symbol = symbolOf(i.instrument)
    if (kind.algo) {
      st.algo = true
      if (i.triggerPrice === undefined) return this.emit({ _tag: "OrderRejected", ...this.ref(i.instrument, cid), reason: "invalid_argument: a stop order needs a trigger price" })
      const res = await this.call(
        this.config.rest.placeAlgoOrder({
          symbol,
          side: st.side,
          type: kind.type,
          quantity: i.qty.toFixed(),
          triggerPrice: i.triggerPrice.toFixed(),
          ...(i.price === undefined ? {} : { price: i.price.toFixed() }),
          ...(i.reduceOnly ? { reduceOnly: true } : {}),
          clientOrderId: cid
        })
      )
      if (Either.isRight(res)) return this.emit({ _tag: "OrderAccepted", ...this.ref(i.instrument, cid), venueOrderId: this.vid(algoVenueId(res.right.algoId)) })
      const err = res.left
      this.noteLimit(err)
      if (outcomeUnknown(err) || err._tag === "DuplicateClientOrderId") {
        // Reconciled by the algo query: the order exists or it does not.
        this.c.reconciliations++
        for (let a = 0; a < this.attempts; a++) {
          if (a > 0) await this.sleep(this.delayMs)
          const q = await this.read("openorders", this.config.rest.queryAlgoOrder(symbol, cid))
          if (Either.isRight(q)) {
            this.c.reconciled++
            return this.emit({ _tag: "OrderAccepted", ...this.ref(i.instrument, cid), venueOrderId: this.vid(algoVenueId(q.right.algoId)) })
          }
          if (q.left._tag === "OrderNotFound" && err._tag === "VenueUnavailable" && err.cause === "http") {
            this.c.reconciled++
            return this.emit({ _tag: "OrderRejected", ...this.ref(i.instrument, cid), reason: `not_placed: ${reasonOf(err)}` })
          }
        }
        return this.unresolved(cid, `algoOrder outcome unknown (${reasonOf(err)})`)
      }
      return this.emit({ _tag: "OrderRejected", ...this.ref(i.instrument, cid), reason: reasonOf(err) })
    }
    const req: PlaceOrderRequest = {
      symbol,
      side: st.side,
      type: kind.type,
      quantity: i.qty.toFixed(),
      ...(kind.type === "LIMIT" && i.price !== undefined ? { price: i.price.toFixed() } : {}),
      ...(kind.tif === undefined ? {} : { timeInForce: kind.tif }),
      ...(i.reduceOnly ? { reduceOnly: true } : {}),
      clientOrderId: cid
    }
    const out: PlaceOutcome = await Effect.runPromise(this.entry.placeOrder(req))
    switch (out._tag) {
      case "Placed":
        if (out.reconciled) {
          this.c.reconciliations++
          this.c.reconciled++
        }
        return this.placed(i.instrument, cid, out.order)
      case "Rejected":
        this.noteLimit(out.error)
        return this.emit({ _tag: "OrderRejected", ...this.ref(i.instrument, cid), reason: reasonOf(out.error) })
      case "NotPlaced":
        this.c.reconciliations++
        this.c.reconciled++
        return this.emit({ _tag: "OrderRejected", ...this.ref(i.instrument, cid), reason: `not_placed: ${reasonOf(out.error)}` })
      case "Unresolved":
        this.c.reconciliations++
        return this.unresolved(cid, `order outcome unknown (${reasonOf(out.error)})`)
    }
  }

  /** A reply with the venue's order: accepted; an end without fills is reported here, fills and ends after fills come from the stream. */
  private placed(instrument: InstrumentId, cid: ClientOrderId, o: BinanceOrder): void {
    const st = this.state(cid, instrument)
    this.mapOrder(st, cid, o.orderId)
    const ts = o.updateTime === undefined ? {} : { venueTs: o.updateTime }
    this.emit({ _tag: "OrderAccepted", ...this.ref(instrument, cid), venueOrderId: this.vid(String(o.orderId)), ...ts })
    if (new Decimal(o.executedQty).isZero()) {
      if (o.status === "EXPIRED") this.emit({ _tag: "OrderExpired", ...this.ref(instrument, cid), venueOrderId: this.vid(String(o.orderId)), ...ts })
      else if (o.status === "CANCELED") this.emit({ _tag: "OrderCanceled", ...this.ref(instrument, cid), venueOrderId: this.vid(String(o.orderId)), ...ts })
    }
  }

  private async modify(i: ModifyOrder): Promise<void> {
    const cid = i.clientOrderId
    const st = this.state(cid, i.instrument)
    if (st.algo && !st.triggered) return this.emit({ _tag: "OrderModifyRejected", ...this.ref(i.instrument, cid), reason: "unsupported: the venue's conditional orders cannot be modified (cancel and place)" })
    if (i.triggerPrice !== undefined) return this.emit({ _tag: "OrderModifyRejected", ...this.ref(i.instrument, cid), reason: "unsupported: no trigger price on a working order" })
    const qty = i.qty ?? st.qty
    const price = i.price ?? st.price
    if (qty === undefined || price === undefined || st.side === undefined) {
      return this.emit({ _tag: "OrderModifyRejected", ...this.ref(i.instrument, cid), reason: "unsupported: the venue's modify needs the order's side, quantity and price, not known here" })
    }
    const symbol = symbolOf(i.instrument)
    const change = { ...(i.qty === undefined ? {} : { qty: i.qty }), ...(i.price === undefined ? {} : { price: i.price }) }
    const res = await this.call(this.entry.modifyOrder({ symbol, clientOrderId: cid, side: st.side, quantity: qty.toFixed(), price: price.toFixed() }))
    const applied = () => {
      st.qty = qty
      st.price = price
    }
    if (Either.isRight(res)) {
      const o = res.right
      if (o.status === "CANCELED" || o.status === "EXPIRED") {
        // The venue's rule: a new quantity not above the filled one, or a GTX price that would cross, cancels the order.
        return this.emit({ _tag: "OrderCanceled", ...this.ref(i.instrument, cid), venueOrderId: this.vid(String(o.orderId)), reason: "canceled by modify" })
      }
      applied()
      return this.emit({ _tag: "OrderModified", ...this.ref(i.instrument, cid), venueOrderId: this.vid(String(o.orderId)), ...change })
    }
    const err = res.left
    this.noteLimit(err)
    if (!outcomeUnknown(err)) return this.emit({ _tag: "OrderModifyRejected", ...this.ref(i.instrument, cid), reason: reasonOf(err) })
    this.c.reconciliations++
    const q = await this.read("openorders", this.config.rest.queryOrder(symbol, cid))
    if (Either.isRight(q) && q.right.price === price.toFixed() && q.right.origQty === qty.toFixed()) {
      this.c.reconciled++
      applied()
      return this.emit({ _tag: "OrderModified", ...this.ref(i.instrument, cid), venueOrderId: this.vid(String(q.right.orderId)), ...change })
    }
    this.unresolvedModifies.add(cid)
    this.unresolved(cid, `modify outcome unknown (${reasonOf(err)})`)
  }

  private async cancel(i: CancelOrder): Promise<void> {
    const cid = i.clientOrderId
    const st = this.state(cid, i.instrument)
    const symbol = symbolOf(i.instrument)
    if (st.algo && !st.triggered) {
      const res = await this.call(this.config.rest.cancelAlgoOrder(symbol, cid))
      if (Either.isRight(res)) return this.emit({ _tag: "OrderCanceled", ...this.ref(i.instrument, cid), ...(st.venueOrderId === undefined ? {} : { venueOrderId: st.venueOrderId }) })
      this.noteLimit(res.left)
      // Triggered meanwhile: the working order carries the same client id.
      if (res.left._tag !== "OrderNotFound") return this.cancelFailed(i, res.left)
    }
    const res = await this.call(this.entry.cancelOrder(symbol, cid))
    if (Either.isRight(res)) {
      const o = res.right
      this.mapOrder(st, cid, o.orderId)
      return this.emit({ _tag: "OrderCanceled", ...this.ref(i.instrument, cid), venueOrderId: this.vid(String(o.orderId)), ...(o.updateTime === undefined ? {} : { venueTs: o.updateTime }) })
    }
    this.noteLimit(res.left)
    return this.cancelFailed(i, res.left)
  }

  private async cancelFailed(i: CancelOrder, err: BinanceRestError): Promise<void> {
    const cid = i.clientOrderId
    if (!outcomeUnknown(err)) {
      // -2011 on an order that filled meanwhile: the stream reports the fills (the cancel/fill race).
      return this.emit({ _tag: "OrderCancelRejected", ...this.ref(i.instrument, cid), reason: reasonOf(err) })
    }
    this.c.reconciliations++
    const q = await this.read("openorders", this.config.rest.queryOrder(symbolOf(i.instrument), cid))
    if (Either.isRight(q)) {
      this.c.reconciled++
      const o = q.right
      if (o.status === "CANCELED") return this.emit({ _tag: "OrderCanceled", ...this.ref(i.instrument, cid), venueOrderId: this.vid(String(o.orderId)) })
      if (o.status === "NEW" || o.status === "PARTIALLY_FILLED") return this.emit({ _tag: "OrderCancelRejected", ...this.ref(i.instrument, cid), reason: `not_canceled: ${reasonOf(err)}` })
      return // filled or expired: the stream (or a resume) reports it
    }
    this.unresolved(cid, `cancel outcome unknown (${reasonOf(err)})`)
  }

  private async cancelAll(i: CancelAll): Promise<void> {
    if (i.strategy !== undefined) {
      this.c.accountCallFailures++
      return this.log("error", `cancel-all for strategy ${i.strategy} reached the gateway: not sent (it is expanded into single cancels before risk)`)
    }
    const symbols = i.instrument === undefined ? this.config.symbols : [symbolOf(i.instrument)]
    // Each canceled order is reported by the stream (the reply names none).
    for (const symbol of symbols) {
      for (const call of [this.config.rest.cancelAllOpenOrders(symbol), this.config.rest.signedJson("DELETE", "/fapi/v1/algoOpenOrders", [["symbol", symbol]])]) {
        const res = await this.call(call)
        if (Either.isLeft(res)) {
          this.c.accountCallFailures++
          this.noteLimit(res.left)
          this.log("error", `cancel-all ${symbol} failed: ${reasonOf(res.left)}`)
        }
      }
    }
  }

  private async deadMansSwitch(timeoutSec: number): Promise<void> {
    const ms = Math.max(0, Math.round(timeoutSec * 1000))
    await Promise.all(
      this.config.symbols.map(async (symbol) => {
        const res = await this.call(this.config.rest.countdownCancelAll(symbol, ms))
        if (Either.isLeft(res)) {
          this.c.accountCallFailures++
          this.noteLimit(res.left)
          this.log("error", `countdownCancelAll(${symbol}, ${ms}) failed: ${reasonOf(res.left)}`)
        }
      })
    )
  }

  // ---- the user data stream ----

  private fromStream(u: UserUpdate): void {
    switch (u._tag) {
      case "OrderUpdate":
        return this.orderUpdate(u)
      case "AlgoUpdate":
        return this.algoUpdate(u)
      case "AccountUpdate":
        return this.accountUpdate(u)
    }
  }

  private instrumentOf(symbol: string): InstrumentId {
    return `${VENUE}:${symbol}` as InstrumentId
  }

  private orderUpdate(u: OrderUpdate): void {
    const cid = Either.getOrUndefined(parseClientOrderId(u.clientOrderId))
    if (cid === undefined) return this.log("warn", `user stream: order ${u.orderId} with a client order id Troupe cannot use (${u.clientOrderId.slice(0, 40)})`)
    const instrument = this.instrumentOf(u.symbol)
    const st = this.state(cid, instrument)
    this.mapOrder(st, cid, u.orderId)
    const vid = this.vid(String(u.orderId))
    const venueTs = { venueTs: u.eventTime }
    switch (u.execution) {
      case "NEW":
        return this.emit({ _tag: "OrderAccepted", ...this.ref(instrument, cid), venueOrderId: st.venueOrderId ?? vid, ...venueTs })
      case "TRADE":
      case "CALCULATED": {
        if (!st.accepted) this.emit({ _tag: "OrderAccepted", ...this.ref(instrument, cid), venueOrderId: vid })
        this.fill(instrument, cid, st, {
          fillId: fillIdOf(u.symbol, u.tradeId),
          side: u.side,
          price: u.lastPrice,
          qty: u.lastQty,
          fee: u.fee ?? "0",
          feeCurrency: u.feeAsset ?? "USDT",
          maker: u.maker,
          ts: u.tradeTime,
          liquidation: u.execution === "CALCULATED" || u.originalType === "LIQUIDATION" || u.clientOrderId.startsWith("autoclose-")
        })
        return
      }
      case "CANCELED":
        this.unresolvedModifies.delete(cid)
        if (!st.accepted) this.emit({ _tag: "OrderAccepted", ...this.ref(instrument, cid), venueOrderId: vid })
        return this.emit({ _tag: "OrderCanceled", ...this.ref(instrument, cid), venueOrderId: vid, ...venueTs })
      case "EXPIRED":
        this.unresolvedModifies.delete(cid)
        if (!st.accepted) this.emit({ _tag: "OrderAccepted", ...this.ref(instrument, cid), venueOrderId: vid })
        return this.emit({ _tag: "OrderExpired", ...this.ref(instrument, cid), venueOrderId: vid, ...venueTs })
      case "AMENDMENT":
        // Our modifies are reported from their reply; the stream's copy only when that was lost.
        st.qty = new Decimal(u.origQty)
        st.price = new Decimal(u.price)
        if (!this.unresolvedModifies.delete(cid)) return
        return this.emit({ _tag: "OrderModified", ...this.ref(instrument, cid), venueOrderId: vid, qty: st.qty, price: st.price, ...venueTs })
      default:
        return
    }
  }

  private algoUpdate(u: AlgoUpdate): void {
    const cid = Either.getOrUndefined(parseClientOrderId(u.clientAlgoId))
    if (cid === undefined) return
    const instrument = this.instrumentOf(u.symbol)
    const st = this.state(cid, instrument)
    st.algo = true
    const vid = this.vid(algoVenueId(u.algoId))
    switch (u.status) {
      case "NEW":
        return this.emit({ _tag: "OrderAccepted", ...this.ref(instrument, cid), venueOrderId: vid, venueTs: u.eventTime })
      case "TRIGGERED":
      case "FINISHED":
        st.triggered = true
        return
      case "CANCELED":
      case "EXPIRED":
      case "REJECTED":
        if (st.triggered) return // the working order's own update ends it
        if (!st.accepted) this.emit({ _tag: "OrderAccepted", ...this.ref(instrument, cid), venueOrderId: vid })
        return this.emit({ _tag: "OrderCanceled", ...this.ref(instrument, cid), venueOrderId: vid, reason: `algo ${u.status.toLowerCase()}`, venueTs: u.eventTime })
      default:
        return
    }
  }

  private accountUpdate(u: AccountUpdate): void {
    for (const p of u.positions) this.positions.set(p.symbol, p.amount)
  }

  private fill(
    instrument: InstrumentId,
    cid: ClientOrderId,
    st: OrderState,
    f: { fillId: string; side: "buy" | "sell"; price: string; qty: string; fee: string; feeCurrency: string; maker: boolean; ts: number; liquidation: boolean }
  ): boolean {
    const fillId = Either.getOrUndefined(parseFillId(f.fillId))
    if (fillId === undefined || st.venueOrderId === undefined) return false
    if (st.fillIds.has(fillId)) return false
    st.fillIds.add(fillId)
    st.filled = st.filled.plus(f.qty)
    this.deliver({
      _tag: "OrderFilled",
      ...this.ref(instrument, cid),
      venueOrderId: st.orderId === undefined ? st.venueOrderId : this.vid(String(st.orderId)),
      fillId,
      side: f.side,
      price: new Decimal(f.price),
      qty: new Decimal(f.qty),
      fee: new Decimal(f.fee),
      feeCurrency: f.feeCurrency,
      liquidity: f.maker ? "maker" : "taker",
      venueTs: f.ts,
      ...(f.liquidation ? { fillType: "liquidation" as const } : {})
    })
    return true
  }

  // ---- resume: what the stream may have missed ----

  /** Every order live here is checked by REST; one resume at a time (a second waits for the first). */
  private resume(): Promise<void> {
    const run = async () => {
      this.c.resumes++
      const before = this.c.reports
      const live = [...this.orders.entries()].filter(([, st]) => !st.terminal)
      if (live.length === 0) return
      const open = await this.read("openorders", this.config.rest.openOrders())
      const openAlgo = live.some(([, st]) => st.algo && !st.triggered) ? await this.read("openorders", this.config.rest.openAlgoOrders()) : Either.right([])
      if (Either.isLeft(open) || Either.isLeft(openAlgo)) return this.log("warn", "resume: open orders not readable: the next resume or the restart reconciliation decides")
      const openIds = new Set(open.right.map((o) => o.clientOrderId))
      const openAlgoIds = new Set(openAlgo.right.map((o) => o.clientAlgoId))
      // Trades since the oldest live order, per symbol.
      const symbols = new Map<string, number>()
      for (const [, st] of live) {
        const s = symbolOf(st.instrument)
        symbols.set(s, Math.min(symbols.get(s) ?? Number.MAX_SAFE_INTEGER, st.since - 60_000))
      }
      for (const [symbol, since] of symbols) {
        const trades = await this.read("fills", this.config.rest.userTrades(symbol, Math.max(0, since)))
        if (Either.isLeft(trades)) {
          this.log("warn", `resume: trades of ${symbol} not readable`)
          continue
        }
        for (const t of trades.right) {
          const cid = this.byOrderId.get(t.orderId)
          const st = cid === undefined ? undefined : this.orders.get(cid)
          if (cid === undefined || st === undefined) continue
          if (!st.accepted) this.emit({ _tag: "OrderAccepted", ...this.ref(st.instrument, cid as ClientOrderId), venueOrderId: this.vid(String(t.orderId)) })
          this.fill(st.instrument, cid as ClientOrderId, st, { fillId: fillIdOf(t.symbol, t.id), side: t.side === "BUY" ? "buy" : "sell", price: t.price, qty: t.qty, fee: t.commission, feeCurrency: t.commissionAsset, maker: t.maker, ts: t.time, liquidation: false })
        }
      }
      // Orders no longer open: how did they end?
      for (const [cid, st] of live) {
        if (st.terminal) continue
        if (st.algo && !st.triggered && openAlgoIds.has(cid)) continue
        if (openIds.has(cid)) {
          const o = open.right.find((x) => x.clientOrderId === cid)
          if (o !== undefined) {
            this.mapOrder(st, cid, o.orderId)
            if (!st.accepted) this.emit({ _tag: "OrderAccepted", ...this.ref(st.instrument, cid as ClientOrderId), venueOrderId: this.vid(String(o.orderId)) })
          }
          continue
        }
        const symbol = symbolOf(st.instrument)
        if (st.algo && !st.triggered) {
          const a = await this.read("openorders", this.config.rest.queryAlgoOrder(symbol, cid))
          if (Either.isRight(a) && (a.right.algoStatus === "CANCELED" || a.right.algoStatus === "EXPIRED" || a.right.algoStatus === "REJECTED")) {
            this.emit({ _tag: "OrderCanceled", ...this.ref(st.instrument, cid as ClientOrderId), ...(st.venueOrderId === undefined ? {} : { venueOrderId: st.venueOrderId }), reason: `algo ${a.right.algoStatus.toLowerCase()}` })
            continue
          }
          if (Either.isRight(a)) st.triggered = a.right.algoStatus === "TRIGGERED" || a.right.algoStatus === "FINISHED"
          if (!st.triggered) continue
        }
        const q = await this.read("openorders", this.config.rest.queryOrder(symbol, cid))
        if (Either.isLeft(q)) {
          if (q.left._tag === "OrderNotFound" && !st.accepted) continue // never placed; the submit's own outcome decides
          this.log("warn", `resume: order not readable: ${q.left._tag}`, cid)
          continue
        }
        const o = q.right
        this.mapOrder(st, cid, o.orderId)
        const vid = this.vid(String(o.orderId))
        if (!st.accepted) this.emit({ _tag: "OrderAccepted", ...this.ref(st.instrument, cid as ClientOrderId), venueOrderId: vid })
        if (!st.filled.equals(new Decimal(o.executedQty))) this.log("warn", `resume: trades show ${st.filled.toFixed()} filled, the order ${o.executedQty}`, cid)
        if (o.status === "CANCELED") this.emit({ _tag: "OrderCanceled", ...this.ref(st.instrument, cid as ClientOrderId), venueOrderId: vid })
        else if (o.status === "EXPIRED") this.emit({ _tag: "OrderExpired", ...this.ref(st.instrument, cid as ClientOrderId), venueOrderId: vid })
      }
      this.c.resumeReports += this.c.reports - before
    }
    const previous = this.resuming ?? Promise.resolve()
    const next = previous.then(run).catch((e: unknown) => this.log("error", `resume failed: ${e instanceof Error ? e.message : String(e)}`))
    this.resuming = next
    return next
  }

  // ---- plumbing ----

  private noteLimit(e: BinanceRestError): void {
    if (e._tag === "RateLimited") this.c.rateLimited++
    else if (e._tag === "Banned") this.c.banned++
    else return
    try {
      this.config.onVenueLimit?.(e)
    } catch {
      // the observer must not break the gateway
    }
  }

  private vid(s: string): VenueOrderId {
    return Either.getOrThrow(parseVenueOrderId(s))
  }

  private mapOrder(st: OrderState, cid: string, orderId: number): void {
    if (st.orderId === orderId) return
    st.orderId = orderId
    this.byOrderId.set(orderId, cid)
  }

  private state(cid: string, instrument: InstrumentId): OrderState {
    let st = this.orders.get(cid)
    if (st === undefined) {
      if (this.orders.size >= MAX_TRACKED) {
        const oldest = this.orders.entries().next()
        if (oldest.done !== true) {
          this.orders.delete(oldest.value[0])
          if (oldest.value[1].orderId !== undefined) this.byOrderId.delete(oldest.value[1].orderId)
          this.unresolvedModifies.delete(oldest.value[0])
        }
      }
      st = { accepted: false, terminal: false, venueOrderId: undefined, instrument, orderId: undefined, side: undefined, qty: undefined, price: undefined, algo: false, triggered: false, since: this.clock.now(), filled: ZERO, fillIds: new Set() }
      this.orders.set(cid, st)
    }
    return st
  }

  private ref(instrument: InstrumentId, clientOrderId: ClientOrderId) {
    return { id: this.env.nextId(), ts: this.clock.now(), source: this.env.source, account: this.account, instrument, clientOrderId }
  }

  private unresolved(cid: string, message: string): void {
    this.c.unresolved++
    this.log("warn", `${message}: nothing reported, left to the stream and reconciliation`, cid)
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
      case "OrderModified":
      case "OrderModifyRejected":
      case "OrderCancelRejected":
        if (st.terminal) return
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

  private call<A>(e: Effect.Effect<A, BinanceRestError>): Promise<Either.Either<A, BinanceRestError>> {
    return Effect.runPromise(Effect.either(e))
  }

  private async read<A>(call: VenueRead, e: Effect.Effect<A, BinanceRestError>): Promise<Either.Either<A, BinanceRestError | RequestBudgetClosed>> {
    try {
      await this.config.budget.reserve(call)
    } catch (closed) {
      return Either.left(closed instanceof RequestBudgetClosed ? closed : new RequestBudgetClosed({ call }))
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

  private log(level: BinanceGatewayLog["level"], message: string, clientOrderId?: string): void {
    try {
      this.config.onLog?.(clientOrderId === undefined ? { level, message } : { level, message, clientOrderId })
    } catch {
      // a throwing logger must not break the gateway
    }
  }
}
