import { randomUUID } from "node:crypto"
import { Either } from "effect"
import { parseDecimal, type Decimal } from "../../../domain/decimal.js"
import { sameSignature, signRequest } from "./auth.js"
import type { OrderEvent, OrderView } from "./engine-types.js"
import type { Exchange, SimAccount } from "./exchange.js"
import { CANDLE_INTERVALS, page, pageQuery, venuePrecision, type HistoryElement } from "./history.js"
import { lotSize } from "./instruments.js"
import { initialRate, maintenanceRate, unrealized } from "./margin.js"
import { isoTime, restFill, restOpenOrder, restOrderEvent, restPosition } from "./protocol.js"
import { CostBudget, endpointCost } from "./rate-limit.js"

export interface RestRequest {
  readonly method: string
  /** Path as requested, e.g. `/derivatives/api/v3/sendorder`. */
  readonly path: string
  /** The raw query string without `?`. */
  readonly query: string
  readonly body: string
  readonly header: (name: string) => string | undefined
}

export interface RestReply {
  readonly status: number
  readonly body: Record<string, unknown>
}

const PREFIX = "/derivatives/api/v3/"
const PRIVATE = new Set(["sendorder", "editorder", "cancelorder", "cancelallorders", "cancelallordersafter", "batchorder", "openorders", "fills", "openpositions", "accounts", "orders/status"])
/** The charts API: `/api/charts/v1/{trade|mark|spot}/{symbol}/{interval}` (public). */
const CHARTS = /^\/api\/charts\/v1\/(trade|mark|spot)\/([^/]+)\/([^/]+)$/
/** The history API: `/api/history/v2|v3/...`; the market's executions are public, the rest private. */
const HISTORY = /^\/api\/history\/(v[23])\/(orders|executions|triggers|account-log|positions|market\/([^/]+)\/executions)$/

/** Order status as `orders/status` spells it. */
const orderStatus = (o: OrderView): string =>
  o.state === "untriggered" ? "TRIGGER_PLACED" : o.state === "filled" ? "FULLY_EXECUTED" : o.state === "cancelled" ? "CANCELLED" : o.filled.isZero() ? "ENTERED_BOOK" : "PARTIALLY_FILLED"

type Param = Decimal | undefined | "invalid"

const decimalParam = (raw: unknown): Param => {
  if (raw === undefined || raw === null || raw === "") return undefined
  if (typeof raw !== "string" && typeof raw !== "number") return "invalid"
  const parsed = parseDecimal(String(raw))
  return Either.isRight(parsed) ? parsed.right : "invalid"
}

const stringParam = (raw: unknown): string | undefined => (typeof raw === "string" && raw !== "" ? raw : typeof raw === "number" ? String(raw) : undefined)

/**
 * Kraken Futures REST v3 over the exchange: public market data, and the private endpoints
 * with `APIKey`/`Authent` (and optional `Nonce`) verification and the cost-based rate limit.
 */
/** Nonces are `ms × 1000`; one below the highest seen by more than 10 s is refused. */
const NONCE_THRESHOLD = 10_000_000n

export class RestApi {
  private readonly nonces = new Map<string, { max: bigint; readonly recent: Set<bigint> }>()

  constructor(private readonly exchange: Exchange, readonly budget: CostBudget = new CostBudget()) {}

  handle(req: RestRequest): RestReply {
    const now = this.exchange.now()
    const serverTime = isoTime(now)
    const error = (error: string, status = 200): RestReply => ({ status, body: { result: "error", serverTime, error } })
    if (this.exchange.faults.restFailures > 0) {
      this.exchange.faults.restFailures -= 1
      return error("Server Error", this.exchange.faults.restFailureStatus)
    }
    const ok = (body: Record<string, unknown>): RestReply => ({ status: 200, body: { result: "success", ...body, serverTime } })
    const charts = CHARTS.exec(req.path)
    if (charts !== null) return this.charts(charts[1] as string, decodeURIComponent(charts[2] as string), charts[3] as string, new URLSearchParams(req.query), error)
    const history = HISTORY.exec(req.path)
    if (history !== null) return this.history(req, history[2] as string, history[3], error)
    if (req.path === "/derivatives/api/v4/historicalfundingrates") {
      const symbol = this.resolve(new URLSearchParams(req.query).get("symbol"))
      if (symbol === undefined) return error("invalidArgument")
      return ok({ rates: this.exchange.history.funding(symbol).map((r) => ({ timestamp: isoTime(r.time), fundingRate: r.fundingRate, relativeFundingRate: r.relativeFundingRate })) })
    }
    if (!req.path.startsWith(PREFIX)) return error("notFound", 404)
    const endpoint = req.path.slice(PREFIX.length)

    if (endpoint === "instruments") return ok({ instruments: this.instruments() })
    if (endpoint === "orderbook") {
      const symbol = this.resolve(new URLSearchParams(req.query).get("symbol"))
      if (symbol === undefined) return error("invalidArgument")
      const depth = this.exchange.engine.depth(symbol)
      return ok({ orderBook: { bids: depth.bids, asks: depth.asks } })
    }
    if (endpoint === "tickers") return ok({ tickers: this.exchange.engine.instruments().map((i) => this.tickerJson(i.symbol)) })
    if (endpoint.startsWith("tickers/")) {
      const symbol = this.resolve(decodeURIComponent(endpoint.slice("tickers/".length)))
      if (symbol === undefined) return error("invalidArgument")
      return ok({ ticker: this.tickerJson(symbol) })
    }
    if (endpoint === "history") {
      const symbol = this.resolve(new URLSearchParams(req.query).get("symbol"))
      if (symbol === undefined) return error("invalidArgument")
      const executions = this.exchange.history.publicExecutions(symbol).slice(-100).reverse()
      return ok({
        history: executions.map((el, n) => {
          const x = (el.event.Execution as { execution: Record<string, unknown> }).execution
          const taker = x.takerOrder as { direction: string }
          return { time: isoTime(el.timestamp), trade_id: executions.length - n, price: x.price, size: x.quantity, side: taker.direction.toLowerCase(), type: "fill", uid: x.uid }
        })
      })
    }
    if (!PRIVATE.has(endpoint)) return error("notFound", 404)

    const postData = req.query !== "" ? req.query : req.body
    const account = this.authenticate(req, postData, `/api/v3/${endpoint}`)
    if (typeof account === "string") return error(account)
    const params = new URLSearchParams(postData)
    let batch: ReadonlyArray<Record<string, unknown>> = []
    if (endpoint === "batchorder") {
      const decoded = this.decodeBatch(params.get("json"))
      if (decoded === undefined) return error("invalidArgument")
      batch = decoded
    }
    if (!this.budget.tryConsume(account.name, endpointCost(endpoint, params, batch.length), now)) return error("apiLimitExceeded")
    const p = (name: string): string | undefined => params.get(name) ?? undefined
    const events = (list: ReadonlyArray<OrderEvent>) => list.map((e) => restOrderEvent(e, randomUUID()))

    switch (endpoint) {
      case "sendorder":
        return ok({ sendStatus: { ...this.sendOne(account, Object.fromEntries(params), "limitPrice", "stopPrice"), receivedTime: serverTime } })
      case "editorder": {
        const size = decimalParam(p("size"))
        const limitPrice = decimalParam(p("limitPrice"))
        const stopPrice = decimalParam(p("stopPrice"))
        if (size === "invalid") return ok({ editStatus: { status: "invalidSize", receivedTime: serverTime, orderEvents: [] } })
        if (limitPrice === "invalid" || stopPrice === "invalid") return ok({ editStatus: { status: "invalidPrice", receivedTime: serverTime, orderEvents: [] } })
        const out = this.exchange.edit({ account: account.name, orderId: p("orderId"), cliOrdId: p("cliOrdId"), size, limitPrice, stopPrice })
        return ok({ editStatus: { status: out.status, orderId: out.order?.orderId ?? p("orderId"), cliOrdId: p("cliOrdId"), receivedTime: serverTime, orderEvents: events(out.events) } })
      }
      case "cancelorder": {
        const out = this.exchange.cancel({ account: account.name, orderId: p("order_id"), cliOrdId: p("cliOrdId") })
        return ok({ cancelStatus: { status: out.status, order_id: out.order?.orderId ?? p("order_id"), cliOrdId: p("cliOrdId"), receivedTime: serverTime, orderEvents: events(out.events) } })
      }
      case "cancelallorders": {
        const symbol = p("symbol")
        const out = this.exchange.cancelAll(account.name, symbol)
        return ok({
          cancelStatus: {
            receivedTime: serverTime, cancelOnly: symbol ?? "all", status: out.cancelled.length > 0 ? "cancelled" : "noOrdersToCancel",
            cancelledOrders: out.cancelled.map((o) => ({ order_id: o.orderId, cliOrdId: o.cliOrdId })), orderEvents: events(out.events)
          }
        })
      }
      case "cancelallordersafter": {
        const timeout = Number(p("timeout") ?? "")
        if (!Number.isInteger(timeout) || timeout < 0) return error("invalidArgument")
        const status = this.exchange.cancelAllAfter(account.name, timeout)
        return ok({ status: { currentTime: isoTime(status.currentTime), triggerTime: status.triggerTime === undefined ? "0" : isoTime(status.triggerTime) } })
      }
      case "batchorder":
        return ok({ batchStatus: batch.map((item) => this.batchItem(account, item, serverTime)) })
      case "openorders":
        return ok({ openOrders: this.exchange.engine.openOrders(account.name).map(restOpenOrder) })
      case "fills": {
        const before = p("lastFillTime")
        const limit = before === undefined ? undefined : Date.parse(before)
        const fills = this.exchange.engine.fills(account.name).filter((f) => limit === undefined || Number.isNaN(limit) || f.time < limit)
        return ok({ fills: fills.slice(-100).reverse().map((f) => ({ ...restFill(f), fillType: this.exchange.isLiquidation(f.orderId) ? "liquidation" : f.liquidity })) })
      }
      case "openpositions":
        return ok({
          openPositions: this.exchange.engine.positions(account.name).filter((x) => !x.balance.isZero()).map((pos) => {
            const instrument = this.exchange.engine.instrument(pos.symbol)
            const mark = this.exchange.markPrice(pos.symbol)
            return {
              ...restPosition(pos), price: venuePrecision(pos.entryPrice),
              unrealizedPnl: instrument === undefined || mark === undefined ? null : venuePrecision(unrealized(pos, instrument, mark))
            }
          })
        })
      case "orders/status": {
        const ids = new Set(params.getAll("orderIds"))
        const cli = new Set(params.getAll("cliOrdIds"))
        const orders = this.exchange.engine.allOrders(account.name).filter((o) => ids.has(o.orderId) || (o.cliOrdId !== undefined && cli.has(o.cliOrdId)))
        return ok({
          orders: orders.map((o) => ({
            order: {
              type: o.type === "stp" || o.type === "take_profit" ? "TRIGGER_ORDER" : "ORDER", orderId: o.orderId, cliOrdId: o.cliOrdId ?? null, symbol: o.symbol, side: o.side,
              quantity: o.size, filled: o.filled, limitPrice: o.limitPrice ?? null, reduceOnly: o.reduceOnly, timestamp: isoTime(o.receivedTime),
              lastUpdateTimestamp: isoTime(o.lastUpdateTime),
              ...(o.stopPrice === undefined ? {} : { priceTriggerOptions: { triggerPrice: o.stopPrice, triggerSide: o.type === "stp" === (o.side === "buy") ? "TRIGGER_ABOVE" : "TRIGGER_BELOW", triggerSignal: "LAST_PRICE" } })
            },
            status: orderStatus(o), updateReason: null, error: null
          }))
        })
      }
      default:
        return ok({ accounts: this.accounts(account.name) })
    }
  }

  /** `accounts`: the flex (multi-collateral) account with the margin model's figures, and an empty cash account. */
  private accounts(name: string): Record<string, unknown> {
    const m = this.exchange.margin(name)
    const funding = this.exchange.funding(name)
    const money = (d: Decimal) => venuePrecision(d)
    return {
      cash: { type: "cashAccount", balances: { usd: 0 } },
      flex: {
        type: "multiCollateralMarginAccount",
        currencies: { USD: { quantity: money(m.collateral), value: money(m.collateral), collateral: money(m.collateral), available: money(m.available) } },
        initialMargin: money(m.initialMargin), initialMarginWithOrders: money(m.initialMarginWithOrders), maintenanceMargin: money(m.maintenanceMargin),
        balanceValue: money(m.collateral), portfolioValue: money(m.equity), collateralValue: money(m.collateral), pnl: money(m.unrealizedPnl),
        unrealizedFunding: 0, totalUnrealized: money(m.unrealizedPnl), totalUnrealizedAsMargin: money(m.unrealizedPnl),
        availableMargin: money(m.available), marginEquity: money(m.equity),
        // Not a venue field: funding realized so far under the simulator's funding model.
        realizedFunding: money(funding)
      }
    }
  }

  /** A product id as the venue matches it: case-insensitively. */
  private resolve(raw: string | null | undefined): string | undefined {
    if (raw === null || raw === undefined || raw === "") return undefined
    const upper = raw.toUpperCase()
    return this.exchange.engine.instruments().find((i) => i.symbol.toUpperCase() === upper)?.symbol
  }

  private charts(priceType: string, rawSymbol: string, interval: string, params: URLSearchParams, error: (e: string, status?: number) => RestReply): RestReply {
    const symbol = this.resolve(rawSymbol)
    const seconds = CANDLE_INTERVALS[interval]
    if (symbol === undefined || seconds === undefined) return error("invalidArgument", 400)
    const num = (name: string): number | undefined => {
      const v = params.get(name)
      return v === null || v === "" || !Number.isFinite(Number(v)) ? undefined : Number(v)
    }
    const candles = this.exchange.history.candles(priceType === "trade" ? "trade" : "mark", symbol, seconds, num("from"), num("to"))
    const count = num("count")
    const list = count === undefined ? candles.slice(-2000) : candles.slice(-count)
    return { status: 200, body: { candles: list, more_candles: list.length < candles.length } }
  }

  private history(req: RestRequest, kind: string, marketSymbol: string | undefined, error: (e: string, status?: number) => RestReply): RestReply {
    const params = new URLSearchParams(req.query)
    const q = pageQuery(params)
    if (typeof q === "string") return error(q, 400)
    const paged = (items: ReadonlyArray<HistoryElement>, extra: Record<string, unknown> = {}) => {
      const out = page(items, (e) => e.timestamp, q)
      return {
        status: 200,
        body: {
          ...extra, elements: out.elements.map((e) => ({ uid: e.uid, timestamp: String(e.timestamp), event: e.event })), len: out.len,
          ...(out.continuationToken === undefined ? {} : { continuationToken: out.continuationToken }), serverTime: isoTime(this.exchange.now())
        }
      }
    }
    if (marketSymbol !== undefined) {
      const symbol = this.resolve(decodeURIComponent(marketSymbol))
      if (symbol === undefined) return error("invalidArgument", 400)
      return paged(this.exchange.history.publicExecutions(symbol))
    }
    const account = this.authenticate(req, req.query, req.path)
    if (typeof account === "string") return error(account, 401)
    const name = account.name
    switch (kind) {
      case "orders":
        return paged(this.exchange.history.orderEvents(name).filter((e) => !this.isTriggerElement(e)), { accountUid: name })
      case "triggers":
        return paged(this.exchange.history.orderEvents(name).filter((e) => this.isTriggerElement(e)), { accountUid: name })
      case "executions":
        return paged(this.exchange.history.accountExecutions(name), { accountUid: name })
      case "positions": {
        const tradeable = this.resolve(params.get("tradeable"))
        const closed = params.get("closed") === "true"
        const items = this.exchange.history.positions(name).filter((e) => {
          const u = e.event.PositionUpdate as { tradeable: string; positionChange: string }
          return (tradeable === undefined || u.tradeable === tradeable) && (!closed || u.positionChange === "close" || u.positionChange === "decrease" || u.positionChange === "reverse")
        })
        return paged(items, { accountUid: name })
      }
      default: {
        // account-log: rows newest first, `info` filters by entry type, paging like the rest.
        const info = params.get("info")
        const rows = this.exchange.history.accountLog(name).filter((r) => info === null || r.info === info)
        const out = page(rows, (r) => r.date, q)
        return {
          status: 200,
          body: { accountUid: name, logs: out.elements.map((r) => ({ id: r.id, date: isoTime(r.date), info: r.info, ...r.row })), len: out.len, ...(out.continuationToken === undefined ? {} : { continuationToken: out.continuationToken }) }
        }
      }
    }
  }

  private isTriggerElement(e: HistoryElement): boolean {
    const inner = Object.values(e.event)[0] as { order?: { orderType?: string }; newOrder?: { orderType?: string } } | undefined
    const type = inner?.order?.orderType ?? inner?.newOrder?.orderType
    return type === "Stop" || type === "TakeProfit"
  }

  private authenticate(req: RestRequest, postData: string, endpointPath: string): SimAccount | string {
    const apiKey = req.header("apikey")
    const authent = req.header("authent")
    if (apiKey === undefined || authent === undefined) return "authenticationError"
    const account = this.exchange.accountByKey(apiKey)
    if (account === undefined) return "authenticationError"
    const nonce = req.header("nonce") ?? ""
    if (!sameSignature(signRequest(account.apiSecret, postData, nonce, endpointPath), authent)) return "authenticationError"
    if (nonce !== "") {
      if (!/^\d{1,30}$/.test(nonce)) return "invalidArgument"
      // Concurrent requests can arrive out of nonce order, so (as the venue's own error name
      // says) a nonce may be below the highest seen, within a threshold, but never repeat.
      const value = BigInt(nonce)
      let seen = this.nonces.get(apiKey)
      if (seen === undefined) {
        seen = { max: value, recent: new Set() }
        this.nonces.set(apiKey, seen)
      }
      if (seen.recent.has(value)) return "nonceDuplicate"
      if (value < seen.max - NONCE_THRESHOLD) return "nonceBelowThreshold"
      seen.recent.add(value)
      if (value > seen.max) seen.max = value
      if (seen.recent.size > 4096) for (const n of seen.recent) if (n < seen.max - NONCE_THRESHOLD) seen.recent.delete(n)
    }
    return account
  }

  private sendOne(account: SimAccount, params: Record<string, unknown>, limitKey: string, stopKey: string): Record<string, unknown> {
    const size = decimalParam(params.size)
    const limitPrice = decimalParam(params[limitKey])
    const stopPrice = decimalParam(params[stopKey])
    const cliOrdId = stringParam(params.cliOrdId)
    if (size === "invalid") return { status: "invalidSize", cliOrdId, orderEvents: [] }
    if (limitPrice === "invalid" || stopPrice === "invalid") return { status: "invalidPrice", cliOrdId, orderEvents: [] }
    const out = this.exchange.send({
      account: account.name, symbol: this.resolve(stringParam(params.symbol)) ?? stringParam(params.symbol) ?? "", orderType: stringParam(params.orderType) ?? "", side: stringParam(params.side) ?? "",
      size, limitPrice, stopPrice, cliOrdId, reduceOnly: params.reduceOnly === true || params.reduceOnly === "true"
    })
    // An order that trades on arrival is reported with its executions only, no PLACE first.
    const executed = out.events.some((e) => e.type === "EXECUTION")
    const events = executed ? out.events.filter((e) => e.type !== "PLACE") : out.events
    return { order_id: out.status === "placed" ? out.order?.orderId : undefined, status: out.status, cliOrdId, orderEvents: events.map((e) => restOrderEvent(e, randomUUID())) }
  }

  private batchItem(account: SimAccount, item: Record<string, unknown>, serverTime: string): Record<string, unknown> {
    const events = (list: ReadonlyArray<OrderEvent>) => list.map((e) => restOrderEvent(e, randomUUID()))
    switch (item.order) {
      case "send": {
        // The batch spells prices `limit_price` and `stop_price` (not sendorder's camelCase).
        const type = stringParam(item.orderType)
        const missing = (["lmt", "post", "ioc", "fok"].includes(type ?? "") && item.limit_price === undefined) || (["stp", "take_profit"].includes(type ?? "") && item.stop_price === undefined)
        if (missing) return { status: "requiredArgumentMissing", order_tag: item.order_tag, orderEvents: [] }
        return { ...this.sendOne(account, item, "limit_price", "stop_price"), order_tag: item.order_tag, dateTimeReceived: serverTime }
      }
      case "edit": {
        const size = decimalParam(item.new_size ?? item.size)
        const limitPrice = decimalParam(item.limit_price)
        const stopPrice = decimalParam(item.stop_price)
        if (size === "invalid") return { status: "invalidSize", order_id: item.order_id, orderEvents: [] }
        if (limitPrice === "invalid" || stopPrice === "invalid") return { status: "invalidPrice", order_id: item.order_id, orderEvents: [] }
        const out = this.exchange.edit({ account: account.name, orderId: stringParam(item.order_id), cliOrdId: stringParam(item.cliOrdId), size, limitPrice, stopPrice })
        return { status: out.status, order_id: out.order?.orderId ?? item.order_id, dateTimeReceived: serverTime, orderEvents: events(out.events) }
      }
      case "cancel": {
        const out = this.exchange.cancel({ account: account.name, orderId: stringParam(item.order_id), cliOrdId: stringParam(item.cliOrdId) })
        return { status: out.status, order_id: out.order?.orderId ?? item.order_id, cliOrdId: item.cliOrdId, dateTimeReceived: serverTime, orderEvents: events(out.events) }
      }
      default:
        return { status: "invalidArgument", order_tag: item.order_tag, orderEvents: [] }
    }
  }

  private decodeBatch(json: string | null): ReadonlyArray<Record<string, unknown>> | undefined {
    if (json === null) return undefined
    try {
      const parsed: unknown = JSON.parse(json)
      if (typeof parsed !== "object" || parsed === null) return undefined
      const list = (parsed as { batchOrder?: unknown }).batchOrder
      if (!Array.isArray(list) || !list.every((x) => typeof x === "object" && x !== null)) return undefined
      return list as Array<Record<string, unknown>>
    } catch {
      return undefined
    }
  }

  private instruments(): Array<Record<string, unknown>> {
    return this.exchange.engine.instruments().map((i) => ({
      symbol: i.symbol, type: i.type, underlying: i.underlying, tickSize: i.tickSize, contractSize: i.contractSize,
      contractValueTradePrecision: i.contractValueTradePrecision, impactMidSize: 1, maxPositionSize: 1000000,
      openingDate: "2022-01-01T00:00:00.000Z", tradeable: !this.exchange.engine.isExpired(i.symbol), postOnly: false,
      ...(i.lastTradingTime === undefined ? {} : { lastTradingTime: isoTime(i.lastTradingTime) }), feeScheduleUid: "simulator", isin: null,
      retailMarginLevels: [], marginLevels: [{ contracts: 0, initialMargin: initialRate(i), maintenanceMargin: maintenanceRate(i) }],
      category: "", tags: [], minimumSize: lotSize(i)
    }))
  }

  private tickerJson(symbol: string): Record<string, unknown> {
    const t = this.exchange.ticker(symbol)
    return {
      symbol, tag: "perpetual", pair: symbol.replace(/^P[FI]_/, "").replace(/USD$/, ":USD"), bid: t.bid, ask: t.ask, bidSize: t.bidSize,
      askSize: t.askSize, last: t.last, lastTime: t.lastTime === undefined ? undefined : isoTime(t.lastTime), lastSize: t.lastSize,
      markPrice: t.markPrice, indexPrice: t.markPrice, open24h: t.open24h, vol24h: t.vol24h, openInterest: t.openInterest,
      // Perpetuals: the funding model's rate, absolute (USD per contract per period) as the venue gives it.
      fundingRate: venuePrecision(this.exchange.model.fundingRelativeRate.times(t.markPrice)),
      fundingRatePrediction: venuePrecision(this.exchange.model.fundingRelativeRate.times(t.markPrice)), suspended: t.suspended, postOnly: false
    }
  }
}
