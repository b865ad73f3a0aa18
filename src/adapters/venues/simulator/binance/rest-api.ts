import { DEFAULT_RECV_WINDOW_MS, checkTimestamp, sameHexSignature, signTotalParams, splitSignature } from "../../binance-usdm/signing.js"
import { ZERO, type Decimal } from "../../../../domain/decimal.js"
import type { OrderView } from "../engine-types.js"
import type { Exchange, SimAccount } from "../exchange.js"
import { CANDLE_INTERVALS } from "../history.js"
import { initialRate, maintenanceRate, unrealized } from "../margin.js"
import { exchangeInfoSymbol, QUOTE, type BinanceMarket } from "./markets.js"
import { done, fail, missing, type Answer, type BinanceOrders, type Params } from "./orders.js"
import type { BinanceRateLimiter } from "./rate-limit.js"

/**
 * Binance USD-M REST (`/fapi/v1|v2|v3`) over the shared exchange: security types (NONE,
 * USER_STREAM with the API key, SIGNED with HMAC, `timestamp` and `recvWindow`), request
 * weights and order counts with their `X-MBX-*` headers, the venue's error bodies.
 */

export interface BinanceRestRequest {
  readonly method: string
  readonly path: string
  readonly query: string
  readonly body: string
  readonly ip: string
  readonly header: (name: string) => string | undefined
}

export interface BinanceRestReply {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: unknown
}

type Security = "NONE" | "USER_STREAM" | "SIGNED"

interface Route {
  readonly security: Security
  readonly weight: (p: Params) => number
  /** Orders counted against the account's order limiters (0: not an order endpoint). */
  readonly orders?: (p: Params) => number
  readonly run: (ctx: { readonly account: SimAccount | undefined; readonly p: Params; readonly now: number }) => Answer
}

/** What the REST face needs from the user data stream (listenKeys live there). */
export interface ListenKeys {
  readonly create: (account: string) => string
  readonly keepAlive: (account: string, key: string | undefined) => string | undefined
  readonly close: (account: string, key: string | undefined) => void
}

/** The diff-depth stream's update ids (`lastUpdateId` of the REST snapshot is the last `u` sent). */
export interface DepthIds {
  readonly lastUpdateId: (engineSymbol: string) => number
  readonly recentTrades: (engineSymbol: string) => ReadonlyArray<{ id: number; price: Decimal; qty: Decimal; time: number; buyerMaker: boolean }>
}

const w = (n: number) => (): number => n
const withSymbol = (one: number, all: number) => (p: Params): number => (p("symbol") === undefined ? all : one)
const depthWeight = (p: Params): number => {
  const limit = Number(p("limit") ?? "500")
  return limit <= 50 ? 2 : limit <= 100 ? 5 : limit <= 500 ? 10 : 20
}
const fx = (d: Decimal | undefined): string => (d === undefined ? "0" : d.toFixed())
const money = (d: Decimal): string => d.toDecimalPlaces(8).toFixed()

const parseList = (raw: string | undefined): unknown[] | undefined => {
  if (raw === undefined) return undefined
  try {
    const parsed: unknown = JSON.parse(raw)
    return Array.isArray(parsed) ? parsed : undefined
  } catch {
    return undefined
  }
}

/** Faults of the Binance face itself (the exchange's shared faults apply too). */
export interface BinanceFaults {
  /** The next N order-entry requests (POST/PUT/DELETE order, batchOrders, algoOrder) are executed, then answered 503 "Unknown error…": an unknown outcome. */
  unknownOutcomes: number
}

const ORDER_ENTRY = new Set(["POST /fapi/v1/order", "PUT /fapi/v1/order", "DELETE /fapi/v1/order", "POST /fapi/v1/batchOrders", "PUT /fapi/v1/batchOrders", "DELETE /fapi/v1/batchOrders", "POST /fapi/v1/algoOrder", "DELETE /fapi/v1/algoOrder"])

export class BinanceRestApi {
  readonly faults: BinanceFaults = { unknownOutcomes: 0 }
  private readonly routes = new Map<string, Route>()
  private readonly countdowns = new Map<string, unknown>()
  private readonly leverage = new Map<string, number>()

  constructor(
    private readonly exchange: Exchange,
    private readonly orders: BinanceOrders,
    private readonly limiter: BinanceRateLimiter,
    private readonly listenKeys: ListenKeys,
    private readonly depthIds: DepthIds
  ) {
    this.define()
  }

  handle(req: BinanceRestRequest): BinanceRestReply {
    const now = this.exchange.now()
    const route = this.routes.get(`${req.method} ${req.path}`)
    const weightHeader = (): Record<string, string> => ({ "X-MBX-USED-WEIGHT-1M": String(this.limiter.usedWeight(req.ip, now)) })
    if (route === undefined) return { status: 404, headers: weightHeader(), body: { code: -5000, msg: `Path ${req.path}, Method ${req.method} is invalid` } }
    const params = this.params(req.query, req.body)
    const p: Params = (name) => params.get(name)
    const admission = this.limiter.admit(req.ip, route.weight(p), now)
    if (admission.kind === "banned") {
      return { status: 418, headers: { ...weightHeader(), "Retry-After": String(Math.ceil((admission.until - now) / 1000)) }, body: { code: -1003, msg: `Way too many requests; IP(${req.ip}) banned until ${admission.until}. Please use the websocket for live updates to avoid bans.` } }
    }
    if (admission.kind === "tooMany") {
      return { status: 429, headers: { ...weightHeader(), "Retry-After": String(admission.retryAfterS) }, body: { code: -1003, msg: `Too many requests; current limit is ${this.limiter.limits.weightPerMinute} requests per minute. Please use the websocket for live updates to avoid polling the API.` } }
    }
    if (this.exchange.faults.restFailures > 0) {
      this.exchange.faults.restFailures -= 1
      return { status: this.exchange.faults.restFailureStatus, headers: weightHeader(), body: { code: -1001, msg: "Internal error; unable to process your request. Please try again." } }
    }
    let account: SimAccount | undefined
    if (route.security !== "NONE") {
      const auth = this.authenticate(req, route.security, params, now)
      if (!("name" in auth)) return { status: auth.status, headers: weightHeader(), body: { code: auth.code, msg: auth.msg } }
      account = auth
    }
    let headers = weightHeader()
    if (route.orders !== undefined && account !== undefined) {
      const count = this.limiter.countOrders(account.name, route.orders(p), now)
      const counts = this.limiter.orderCounts(account.name, now)
      headers = { ...headers, "X-MBX-ORDER-COUNT-10S": String(counts.tenSeconds), "X-MBX-ORDER-COUNT-1M": String(counts.minute) }
      if (count.kind === "tooManyOrders") {
        return { status: 429, headers, body: { code: -1015, msg: `Too many new orders; current limit is ${count.limit} orders per ${count.interval === "10s" ? "TEN_SECONDS" : "MINUTE"}.` } }
      }
    }
    const answer = route.run({ account, p, now })
    if (this.faults.unknownOutcomes > 0 && ORDER_ENTRY.has(`${req.method} ${req.path}`)) {
      this.faults.unknownOutcomes -= 1
      return { status: 503, headers, body: { code: -1000, msg: "Unknown error, please check your request or try again later." } }
    }
    return answer.ok ? { status: 200, headers, body: answer.body } : { status: answer.status, headers, body: { code: answer.code, msg: answer.msg } }
  }

  /** Runs a route for an already authenticated account, without limits (the WebSocket API's account methods). */
  call(method: string, path: string, account: SimAccount, p: Params): Answer {
    const route = this.routes.get(`${method} ${path}`)
    return route === undefined ? fail(-1000, "Unknown method.") : route.run({ account, p, now: this.exchange.now() })
  }

  /** Query and body parameters; a parameter in both takes the query string's value. */
  private params(query: string, body: string): Map<string, string> {
    const out = new Map<string, string>()
    for (const [k, v] of new URLSearchParams(body)) out.set(k, v)
    for (const [k, v] of new URLSearchParams(query)) out.set(k, v)
    return out
  }

  private authenticate(req: BinanceRestRequest, security: Security, params: Map<string, string>, now: number): SimAccount | { status: number; code: number; msg: string } {
    const key = req.header("x-mbx-apikey")
    if (key === undefined || key === "") return { status: 401, code: -2014, msg: "API-key format invalid." }
    const account = this.exchange.accountByKey(key)
    if (account === undefined) return { status: 401, code: -2015, msg: "Invalid API-key, IP, or permissions for action." }
    if (security === "USER_STREAM") return account
    const timestamp = params.get("timestamp")
    if (timestamp === undefined || !/^\d+$/.test(timestamp)) return { status: 400, code: -1102, msg: "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed." }
    const { payload, signature } = splitSignature(req.query, req.body)
    if (signature === undefined || signature === "") return { status: 400, code: -1102, msg: "Mandatory parameter 'signature' was not sent, was empty/null, or malformed." }
    const recvWindow = Number(params.get("recvWindow") ?? DEFAULT_RECV_WINDOW_MS)
    if (!Number.isFinite(recvWindow) || recvWindow <= 0 || recvWindow > 60_000) return { status: 400, code: -1131, msg: "recvWindow must be less than 60000" }
    const time = checkTimestamp(Number(timestamp), recvWindow, now)
    if (time === "ahead") return { status: 400, code: -1021, msg: "Timestamp for this request was 1000ms ahead of the server's time." }
    if (time === "outsideRecvWindow") return { status: 400, code: -1021, msg: "Timestamp for this request is outside of the recvWindow." }
    if (!sameHexSignature(signTotalParams(account.apiSecret, payload), signature)) return { status: 400, code: -1022, msg: "Signature for this request is not valid." }
    return account
  }

  private route(method: string, paths: ReadonlyArray<string>, route: Route): void {
    for (const path of paths) this.routes.set(`${method} ${path}`, route)
  }

  private market(p: Params): BinanceMarket | Answer {
    const symbol = p("symbol")
    if (symbol === undefined) return missing("symbol")
    return this.orders.market(symbol) ?? fail(-1121, "Invalid symbol.")
  }

  private define(): void {
    const o = this.orders
    const ex = this.exchange
    const eachMarket = (p: Params, f: (m: BinanceMarket) => unknown): Answer => {
      if (p("symbol") === undefined) return done(o.markets().map(f))
      const m = this.market(p)
      return "ok" in m ? m : done(f(m))
    }
    // ---- market data ----
    this.route("GET", ["/fapi/v1/ping"], { security: "NONE", weight: w(1), run: () => done({}) })
    this.route("GET", ["/fapi/v1/time"], { security: "NONE", weight: w(1), run: ({ now }) => done({ serverTime: now }) })
    this.route("GET", ["/fapi/v1/exchangeInfo"], {
      security: "NONE", weight: w(1),
      run: ({ now }) => done({
        timezone: "UTC", serverTime: now, futuresType: "U_MARGINED",
        rateLimits: [
          { rateLimitType: "REQUEST_WEIGHT", interval: "MINUTE", intervalNum: 1, limit: this.limiter.limits.weightPerMinute },
          { rateLimitType: "ORDERS", interval: "MINUTE", intervalNum: 1, limit: this.limiter.limits.ordersPerMinute },
          { rateLimitType: "ORDERS", interval: "SECOND", intervalNum: 10, limit: this.limiter.limits.ordersPer10s }
        ],
        exchangeFilters: [], assets: [{ asset: QUOTE, marginAvailable: true, autoAssetExchange: "0" }],
        symbols: o.markets().map((m) => exchangeInfoSymbol(m, !ex.engine.isSuspended(m.engineSymbol)))
      })
    })
    this.route("GET", ["/fapi/v1/depth"], {
      security: "NONE", weight: depthWeight,
      run: ({ p, now }) => {
        const m = this.market(p)
        if ("ok" in m) return m
        const limit = Number(p("limit") ?? "500")
        if (![5, 10, 20, 50, 100, 500, 1000].includes(limit)) return fail(-1130, "Data sent for parameter 'limit' is not valid.")
        const depth = ex.engine.depth(m.engineSymbol)
        const level = ([price, qty]: [Decimal, Decimal]) => [price.toFixed(), qty.toFixed()]
        return done({ lastUpdateId: this.depthIds.lastUpdateId(m.engineSymbol), E: now, T: now, bids: depth.bids.slice(0, limit).map(level), asks: depth.asks.slice(0, limit).map(level) })
      }
    })
    this.route("GET", ["/fapi/v1/ticker/24hr"], { security: "NONE", weight: withSymbol(1, 40), run: ({ p, now }) => eachMarket(p, (m) => this.ticker24h(m, now)) })
    this.route("GET", ["/fapi/v1/ticker/bookTicker"], {
      security: "NONE", weight: withSymbol(2, 5),
      run: ({ p, now }) => eachMarket(p, (m) => {
        const t = ex.ticker(m.engineSymbol)
        return { symbol: m.symbol, bidPrice: fx(t.bid), bidQty: fx(t.bidSize), askPrice: fx(t.ask), askQty: fx(t.askSize), time: now, lastUpdateId: this.depthIds.lastUpdateId(m.engineSymbol) }
      })
    })
    this.route("GET", ["/fapi/v1/ticker/price", "/fapi/v2/ticker/price"], {
      security: "NONE", weight: withSymbol(1, 2),
      run: ({ p, now }) => eachMarket(p, (m) => ({ symbol: m.symbol, price: fx(ex.ticker(m.engineSymbol).last ?? ex.markPrice(m.engineSymbol)), time: now }))
    })
    this.route("GET", ["/fapi/v1/premiumIndex"], { security: "NONE", weight: withSymbol(1, 10), run: ({ p, now }) => eachMarket(p, (m) => this.premiumIndex(m, now)) })
    this.route("GET", ["/fapi/v1/fundingRate"], {
      security: "NONE", weight: w(1),
      run: ({ p }) => {
        const limit = Math.min(1000, Number(p("limit") ?? "100"))
        const start = Number(p("startTime") ?? "0")
        const end = Number(p("endTime") ?? String(Number.MAX_SAFE_INTEGER))
        const markets = p("symbol") === undefined ? o.markets() : [this.orders.market(p("symbol"))].filter((m): m is BinanceMarket => m !== undefined)
        if (markets.length === 0) return fail(-1121, "Invalid symbol.")
        const rows = markets.flatMap((m) => ex.history.funding(m.engineSymbol).filter((r) => r.time >= start && r.time <= end)
          .map((r) => ({ symbol: m.symbol, fundingRate: r.relativeFundingRate.toFixed(8), fundingTime: r.time, markPrice: fx(ex.markPrice(m.engineSymbol)) })))
        return done(rows.sort((a, b) => a.fundingTime - b.fundingTime).slice(-limit))
      }
    })
    this.route("GET", ["/fapi/v1/fundingInfo"], {
      security: "NONE", weight: w(1),
      run: () => done(o.markets().map((m) => ({ symbol: m.symbol, adjustedFundingRateCap: "0.02", adjustedFundingRateFloor: "-0.02", fundingIntervalHours: Math.max(1, Math.round(ex.model.fundingIntervalMs / 3_600_000)), disclaimer: false })))
    })
    const trades = (agg: boolean) => ({ p }: { p: Params }): Answer => {
      const m = this.market(p)
      if ("ok" in m) return m
      const limit = Math.min(1000, Number(p("limit") ?? "500"))
      const list = this.depthIds.recentTrades(m.engineSymbol).slice(-limit)
      return done(list.map((t) => agg
        ? { a: t.id, p: t.price.toFixed(), q: t.qty.toFixed(), f: t.id, l: t.id, T: t.time, m: t.buyerMaker }
        : { id: t.id, price: t.price.toFixed(), qty: t.qty.toFixed(), quoteQty: t.price.times(t.qty).toFixed(), time: t.time, isBuyerMaker: t.buyerMaker }))
    }
    const klines = (kind: "trade" | "mark") => ({ p }: { p: Params }): Answer => {
      const m = this.market(p)
      if ("ok" in m) return m
      const seconds = CANDLE_INTERVALS[p("interval") ?? ""]
      if (seconds === undefined) return fail(-1120, "Invalid interval.")
      const limit = Math.min(1500, Number(p("limit") ?? "500"))
      const start = p("startTime")
      const end = p("endTime")
      const candles = ex.history.candles(kind, m.engineSymbol, seconds, start === undefined ? undefined : Math.floor(Number(start) / 1000), end === undefined ? undefined : Math.floor(Number(end) / 1000))
      return done(candles.slice(0, start === undefined ? undefined : limit).slice(-limit).map((c) => {
        const t = Number(c.time)
        const volume = String(c.volume ?? "0")
        return [t, String(c.open), String(c.high), String(c.low), String(c.close), volume, t + seconds * 1000 - 1, "0", 0, "0", "0", "0"]
      }))
    }
    this.route("GET", ["/fapi/v1/klines"], { security: "NONE", weight: w(5), run: klines("trade") })
    this.route("GET", ["/fapi/v1/markPriceKlines"], { security: "NONE", weight: w(5), run: klines("mark") })
    this.route("GET", ["/fapi/v1/trades"], { security: "NONE", weight: w(5), run: trades(false) })
    this.route("GET", ["/fapi/v1/aggTrades"], { security: "NONE", weight: w(20), run: trades(true) })

    // ---- user data stream keys ----
    this.route("POST", ["/fapi/v1/listenKey"], { security: "USER_STREAM", weight: w(1), run: ({ account }) => done({ listenKey: this.listenKeys.create((account as SimAccount).name) }) })
    this.route("PUT", ["/fapi/v1/listenKey"], {
      security: "USER_STREAM", weight: w(1),
      run: ({ account, p }) => {
        const key = this.listenKeys.keepAlive((account as SimAccount).name, p("listenKey"))
        return key === undefined ? fail(-1125, "This listenKey does not exist.") : done({ listenKey: key })
      }
    })
    this.route("DELETE", ["/fapi/v1/listenKey"], {
      security: "USER_STREAM", weight: w(1),
      run: ({ account, p }) => {
        this.listenKeys.close((account as SimAccount).name, p("listenKey"))
        return done({})
      }
    })

    // ---- trading ----
    const name = (a: SimAccount | undefined): string => (a as SimAccount).name
    const one = (): number => 1
    this.route("POST", ["/fapi/v1/order"], { security: "SIGNED", weight: w(0), orders: one, run: ({ account, p }) => o.place(name(account), p, false) })
    this.route("PUT", ["/fapi/v1/order"], { security: "SIGNED", weight: w(0), orders: one, run: ({ account, p }) => o.modify(name(account), p) })
    this.route("DELETE", ["/fapi/v1/order"], { security: "SIGNED", weight: w(1), run: ({ account, p }) => o.cancel(name(account), p) })
    const query = (openOnly: boolean): Route => ({
      security: "SIGNED", weight: w(1),
      run: ({ account, p }) => {
        const m = this.market(p)
        if ("ok" in m) return m
        if (p("orderId") === undefined && p("origClientOrderId") === undefined) return missing("orderId")
        const found = o.find(name(account), p)
        if (found === undefined || found.symbol !== m.engineSymbol || (o.isAlgo(found.orderId) && !found.triggered)) return fail(-2013, "Order does not exist.")
        if (openOnly && found.state !== "open") return fail(-2013, "Order does not exist.")
        return done(o.render(found))
      }
    })
    this.route("GET", ["/fapi/v1/order"], query(false))
    this.route("GET", ["/fapi/v1/openOrder"], query(true))
    this.route("GET", ["/fapi/v1/openOrders"], {
      security: "SIGNED", weight: withSymbol(1, 40),
      run: ({ account, p }) => {
        const m = p("symbol") === undefined ? undefined : this.market(p)
        if (m !== undefined && "ok" in m) return m
        return done(o.openRegular(name(account), m?.engineSymbol).map((x) => o.render(x)))
      }
    })
    this.route("GET", ["/fapi/v1/allOrders"], {
      security: "SIGNED", weight: w(5),
      run: ({ account, p }) => {
        const m = this.market(p)
        if ("ok" in m) return m
        const limit = Math.min(1000, Number(p("limit") ?? "500"))
        const start = Number(p("startTime") ?? "0")
        const fromId = Number(p("orderId") ?? "0")
        const list = ex.engine.allOrders(name(account)).filter((x) => x.symbol === m.engineSymbol && x.receivedTime >= start && !(o.isAlgo(x.orderId) && !x.triggered))
        return done(list.map((x) => o.render(x)).filter((x) => (x.orderId as number) >= fromId).sort((a, b) => (a.orderId as number) - (b.orderId as number)).slice(-limit))
      }
    })
    this.route("DELETE", ["/fapi/v1/allOpenOrders"], {
      security: "SIGNED", weight: w(1),
      run: ({ account, p }) => {
        const m = this.market(p)
        if ("ok" in m) return m
        for (const x of o.openRegular(name(account), m.engineSymbol)) ex.cancel({ account: name(account), orderId: x.orderId })
        return done({ code: 200, msg: "The operation of cancel all open order is done." })
      }
    })
    this.route("POST", ["/fapi/v1/batchOrders"], {
      security: "SIGNED", weight: w(5), orders: (p) => parseList(p("batchOrders"))?.length ?? 1,
      run: ({ account, p }) => {
        const list = parseList(p("batchOrders"))
        if (list === undefined) return missing("batchOrders")
        if (list.length > 5) return fail(-1102, "Param 'batchOrders' is over the maximum of 5 orders.")
        return done(list.map((item) => {
          const fields = typeof item === "object" && item !== null ? (item as Record<string, unknown>) : {}
          const ip: Params = (k) => (fields[k] === undefined || fields[k] === null ? undefined : String(fields[k] as string | number | boolean))
          const out = o.place(name(account), ip, false)
          return out.ok ? out.body : { code: out.code, msg: out.msg }
        }))
      }
    })
    this.route("PUT", ["/fapi/v1/batchOrders"], {
      security: "SIGNED", weight: w(5), orders: (p) => parseList(p("batchOrders"))?.length ?? 1,
      run: ({ account, p }) => {
        const list = parseList(p("batchOrders"))
        if (list === undefined) return missing("batchOrders")
        if (list.length > 5) return fail(-1102, "Param 'batchOrders' is over the maximum of 5 orders.")
        return done(list.map((item) => {
          const fields = typeof item === "object" && item !== null ? (item as Record<string, unknown>) : {}
          const ip: Params = (k) => (fields[k] === undefined || fields[k] === null ? undefined : String(fields[k] as string | number | boolean))
          const out = o.modify(name(account), ip)
          return out.ok ? out.body : { code: out.code, msg: out.msg }
        }))
      }
    })
    this.route("DELETE", ["/fapi/v1/batchOrders"], {
      security: "SIGNED", weight: w(1),
      run: ({ account, p }) => {
        const m = this.market(p)
        if ("ok" in m) return m
        const ids = parseList(p("orderIdList") ?? p("orderidlist"))
        const clients = parseList(p("origClientOrderIdList") ?? p("origclientorderidlist"))
        const refs = ids !== undefined ? ids.map((id) => ({ orderId: String(id as string | number) })) : clients?.map((c) => ({ origClientOrderId: String(c as string) }))
        if (refs === undefined) return missing("orderIdList")
        if (refs.length > 10) return fail(-1102, "Param 'orderIdList' is over the maximum of 10.")
        return done(refs.map((ref) => {
          const out = o.cancel(name(account), (k) => (k === "symbol" ? m.symbol : (ref as Record<string, string>)[k]))
          return out.ok ? out.body : { code: out.code, msg: out.msg }
        }))
      }
    })
    this.route("POST", ["/fapi/v1/countdownCancelAll"], {
      security: "SIGNED", weight: w(10),
      run: ({ account, p }) => {
        const m = this.market(p)
        if ("ok" in m) return m
        const ms = Number(p("countdownTime") ?? "")
        if (!Number.isInteger(ms) || ms < 0) return missing("countdownTime")
        this.countdown(name(account), m, ms)
        return done({ symbol: m.symbol, countdownTime: String(ms) })
      }
    })

    // ---- conditional (algo) orders ----
    this.route("POST", ["/fapi/v1/algoOrder"], { security: "SIGNED", weight: w(0), orders: one, run: ({ account, p }) => o.place(name(account), p, true) })
    this.route("DELETE", ["/fapi/v1/algoOrder"], { security: "SIGNED", weight: w(1), run: ({ account, p }) => o.cancelAlgo(name(account), p) })
    this.route("GET", ["/fapi/v1/algoOrder"], {
      security: "SIGNED", weight: w(1),
      run: ({ account, p }) => {
        if (p("algoId") === undefined && p("clientAlgoId") === undefined) return missing("algoId")
        const found = o.findAlgo(name(account), p)
        return found === undefined ? fail(-2013, "Order does not exist.") : done(o.renderAlgo(found))
      }
    })
    this.route("GET", ["/fapi/v1/openAlgoOrders"], {
      security: "SIGNED", weight: withSymbol(1, 40),
      run: ({ account, p }) => {
        const m = p("symbol") === undefined ? undefined : this.market(p)
        if (m !== undefined && "ok" in m) return m
        return done(o.openAlgo(name(account), m?.engineSymbol).map((x) => o.renderAlgo(x)))
      }
    })
    this.route("GET", ["/fapi/v1/allAlgoOrders"], {
      security: "SIGNED", weight: w(5),
      run: ({ account, p }) => {
        const m = this.market(p)
        if ("ok" in m) return m
        return done(ex.engine.allOrders(name(account)).filter((x) => x.symbol === m.engineSymbol && o.isAlgo(x.orderId)).map((x) => o.renderAlgo(x)))
      }
    })
    this.route("DELETE", ["/fapi/v1/algoOpenOrders"], {
      security: "SIGNED", weight: w(1),
      run: ({ account, p }) => {
        const m = this.market(p)
        if ("ok" in m) return m
        for (const x of o.openAlgo(name(account), m.engineSymbol)) ex.cancel({ account: name(account), orderId: x.orderId })
        return done({ code: 200, msg: "The operation of cancel all open order is done." })
      }
    })

    // ---- account ----
    this.route("GET", ["/fapi/v2/account", "/fapi/v3/account"], { security: "SIGNED", weight: w(5), run: ({ account, now }) => done(this.accountInfo(name(account), now)) })
    this.route("GET", ["/fapi/v2/balance", "/fapi/v3/balance"], {
      security: "SIGNED", weight: w(5),
      run: ({ account, now }) => {
        const mg = ex.margin(name(account))
        return done([{ accountAlias: "SimFuture", asset: QUOTE, balance: money(mg.collateral), crossWalletBalance: money(mg.collateral), crossUnPnl: money(mg.unrealizedPnl), availableBalance: money(mg.available), maxWithdrawAmount: money(mg.available), marginAvailable: true, updateTime: now }])
      }
    })
    this.route("GET", ["/fapi/v2/positionRisk", "/fapi/v3/positionRisk"], {
      security: "SIGNED", weight: w(5),
      run: ({ account, p, now }) => {
        const m = p("symbol") === undefined ? undefined : this.market(p)
        if (m !== undefined && "ok" in m) return m
        return done(this.positionRisk(name(account), m, now))
      }
    })
    this.route("GET", ["/fapi/v1/leverageBracket"], {
      security: "SIGNED", weight: w(1),
      run: ({ p }) => eachMarket(p, (m) => ({
        symbol: m.symbol, notionalCoef: 1,
        brackets: [{ bracket: 1, initialLeverage: Math.floor(1 / initialRate(m.instrument).toNumber()), notionalCap: 1_000_000_000, notionalFloor: 0, maintMarginRatio: maintenanceRate(m.instrument).toNumber(), cum: 0 }]
      }))
    })
    this.route("GET", ["/fapi/v1/userTrades"], {
      security: "SIGNED", weight: w(5),
      run: ({ account, p }) => {
        const m = this.market(p)
        if ("ok" in m) return m
        const limit = Math.min(1000, Number(p("limit") ?? "500"))
        const start = Number(p("startTime") ?? "0")
        const end = Number(p("endTime") ?? String(Number.MAX_SAFE_INTEGER))
        const orderId = p("orderId")
        const fromId = p("fromId")
        const rows = ex.engine.fills(name(account)).filter((f) => f.symbol === m.engineSymbol && f.time >= start && f.time <= end)
          .filter((f) => orderId === undefined || String(o.orderId(f.orderId)) === orderId)
          .map((f) => ({
            buyer: f.side === "buy", commission: f.fee.toFixed(), commissionAsset: QUOTE, id: o.tradeId(f.fillId), maker: f.liquidity === "maker", orderId: o.orderId(f.orderId),
            price: f.price.toFixed(), qty: f.qty.toFixed(), quoteQty: f.price.times(f.qty).toFixed(), realizedPnl: o.realizedOf(f.fillId).toDecimalPlaces(8).toFixed(), side: f.side === "buy" ? "BUY" : "SELL", positionSide: "BOTH", symbol: m.symbol, time: f.time
          }))
          .filter((t) => fromId === undefined || t.id >= Number(fromId))
        return done(rows.slice(fromId === undefined ? -limit : 0, fromId === undefined ? undefined : limit))
      }
    })
    this.route("POST", ["/fapi/v1/leverage"], {
      security: "SIGNED", weight: w(1),
      run: ({ account, p }) => {
        const m = this.market(p)
        if ("ok" in m) return m
        const leverage = Number(p("leverage") ?? "")
        if (!Number.isInteger(leverage) || leverage < 1 || leverage > 125) return fail(-4028, "Leverage is not valid.")
        this.leverage.set(`${name(account)}|${m.symbol}`, leverage)
        return done({ leverage, maxNotionalValue: "1000000000", symbol: m.symbol })
      }
    })
    this.route("POST", ["/fapi/v1/marginType"], {
      security: "SIGNED", weight: w(1),
      run: ({ p }) => (p("marginType") === "CROSSED" ? fail(-4046, "No need to change margin type.") : fail(-4047, "Isolated margin is not simulated (cross margin only)."))
    })
    this.route("GET", ["/fapi/v1/positionSide/dual"], { security: "SIGNED", weight: w(30), run: () => done({ dualSidePosition: false }) })
    this.route("POST", ["/fapi/v1/positionSide/dual"], {
      security: "SIGNED", weight: w(1),
      run: ({ p }) => (p("dualSidePosition") === "false" ? fail(-4059, "No need to change position side.") : fail(-4068, "Hedge mode is not simulated (one-way only)."))
    })
  }

  /** A per-account, per-symbol dead man's switch: when it runs out, every open order of the symbol is cancelled. */
  private countdown(account: string, m: BinanceMarket, ms: number): void {
    const key = `${account}|${m.engineSymbol}`
    const existing = this.countdowns.get(key)
    if (existing !== undefined) this.exchange.clock.clearTimeout(existing)
    this.countdowns.delete(key)
    if (ms === 0) return
    this.countdowns.set(key, this.exchange.clock.setTimeout(() => {
      this.countdowns.delete(key)
      this.exchange.cancelAll(account, m.engineSymbol, "dead_man_switch")
    }, ms))
  }

  stop(): void {
    for (const t of this.countdowns.values()) this.exchange.clock.clearTimeout(t)
    this.countdowns.clear()
  }

  private ticker24h(m: BinanceMarket, now: number): Record<string, unknown> {
    const t = this.exchange.ticker(m.engineSymbol)
    const last = t.last ?? t.markPrice
    const change = last.minus(t.open24h)
    return {
      symbol: m.symbol, priceChange: change.toFixed(), priceChangePercent: t.open24h.isZero() ? "0" : change.div(t.open24h).times(100).toDecimalPlaces(3).toFixed(),
      weightedAvgPrice: last.toFixed(), lastPrice: last.toFixed(), lastQty: fx(t.lastSize), openPrice: t.open24h.toFixed(), highPrice: last.toFixed(), lowPrice: last.toFixed(),
      volume: t.vol24h.toFixed(), quoteVolume: t.vol24h.times(last).toDecimalPlaces(8).toFixed(), openTime: now - 86_400_000, closeTime: now, firstId: 0, lastId: 0, count: 0
    }
  }

  private premiumIndex(m: BinanceMarket, now: number): Record<string, unknown> {
    const mark = this.exchange.markPrice(m.engineSymbol)
    const interval = this.exchange.model.fundingIntervalMs
    return {
      symbol: m.symbol, markPrice: fx(mark), indexPrice: fx(mark), estimatedSettlePrice: fx(mark), lastFundingRate: this.exchange.model.fundingRelativeRate.toFixed(8),
      interestRate: "0.00000000", nextFundingTime: interval > 0 ? now - (now % interval) + interval : 0, time: now
    }
  }

  private positionRows(account: string): Array<{ m: BinanceMarket; amount: Decimal; entry: Decimal; upnl: Decimal; mark: Decimal; im: Decimal; mm: Decimal; time: number }> {
    const out = []
    for (const pos of this.exchange.engine.positions(account)) {
      const m = this.orders.marketOfEngine(pos.symbol)
      if (m === undefined) continue
      const mark = this.exchange.markPrice(pos.symbol) ?? pos.entryPrice
      const notional = pos.balance.abs().times(mark).times(m.instrument.contractSize)
      out.push({ m, amount: pos.balance, entry: pos.entryPrice, upnl: unrealized(pos, m.instrument, mark), mark, im: notional.times(initialRate(m.instrument)), mm: notional.times(maintenanceRate(m.instrument)), time: pos.lastFillTime })
    }
    return out
  }

  private positionRisk(account: string, only: BinanceMarket | undefined, now: number): Array<Record<string, unknown>> {
    const open = new Set(this.exchange.engine.openOrders(account).map((x: OrderView) => x.symbol))
    return this.positionRows(account).filter((r) => (only === undefined || r.m === only) && (!r.amount.isZero() || open.has(r.m.engineSymbol))).map((r) => ({
      symbol: r.m.symbol, positionSide: "BOTH", positionAmt: r.amount.toFixed(), entryPrice: r.entry.toFixed(), breakEvenPrice: r.entry.toFixed(), markPrice: r.mark.toFixed(),
      unRealizedProfit: money(r.upnl), liquidationPrice: "0", isolatedMargin: "0", notional: money(r.amount.times(r.mark)), marginAsset: QUOTE, isolatedWallet: "0",
      initialMargin: money(r.im), maintMargin: money(r.mm), positionInitialMargin: money(r.im), openOrderInitialMargin: "0", adl: 0, bidNotional: "0", askNotional: "0",
      leverage: String(this.leverage.get(`${account}|${r.m.symbol}`) ?? Math.floor(1 / initialRate(r.m.instrument).toNumber())), marginType: "cross", isAutoAddMargin: "false",
      maxNotionalValue: "1000000000", updateTime: r.time || now
    }))
  }

  private accountInfo(account: string, now: number): Record<string, unknown> {
    const mg = this.exchange.margin(account)
    const rows = this.positionRows(account)
    return {
      totalInitialMargin: money(mg.initialMarginWithOrders), totalMaintMargin: money(mg.maintenanceMargin), totalWalletBalance: money(mg.collateral),
      totalUnrealizedProfit: money(mg.unrealizedPnl), totalMarginBalance: money(mg.equity), totalPositionInitialMargin: money(mg.initialMargin),
      totalOpenOrderInitialMargin: money(mg.initialMarginWithOrders.minus(mg.initialMargin)), totalCrossWalletBalance: money(mg.collateral),
      totalCrossUnPnl: money(mg.unrealizedPnl), availableBalance: money(mg.available), maxWithdrawAmount: money(mg.available), canTrade: true, multiAssetsMargin: false, feeTier: 0, tradeGroupId: -1, updateTime: now,
      assets: [{
        asset: QUOTE, walletBalance: money(mg.collateral), unrealizedProfit: money(mg.unrealizedPnl), marginBalance: money(mg.equity), maintMargin: money(mg.maintenanceMargin),
        initialMargin: money(mg.initialMarginWithOrders), positionInitialMargin: money(mg.initialMargin), openOrderInitialMargin: money(mg.initialMarginWithOrders.minus(mg.initialMargin)),
        crossWalletBalance: money(mg.collateral), crossUnPnl: money(mg.unrealizedPnl), availableBalance: money(mg.available), maxWithdrawAmount: money(mg.available), marginAvailable: true, updateTime: now
      }],
      positions: rows.filter((r) => !r.amount.isZero()).map((r) => ({
        symbol: r.m.symbol, positionSide: "BOTH", positionAmt: r.amount.toFixed(), unrealizedProfit: money(r.upnl), isolatedMargin: "0", notional: money(r.amount.times(r.mark)),
        isolatedWallet: "0", initialMargin: money(r.im), maintMargin: money(r.mm), entryPrice: r.entry.toFixed(), leverage: String(Math.floor(1 / initialRate(r.m.instrument).toNumber())),
        isolated: false, updateTime: r.time
      })),
      totalAssetsValue: money(mg.collateral.plus(ZERO))
    }
  }
}
