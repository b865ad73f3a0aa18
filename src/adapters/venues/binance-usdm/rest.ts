import { Effect } from "effect"
import { errorFromReply, networkError, outcomeUnknown, VenueDecodeError, shapeOf, type BinanceRestError } from "./errors.js"
import { signedParams } from "./signing.js"

/**
 * Binance USD-M order entry over REST (`/fapi/v1/order`): signed place / modify / cancel /
 * query, each an Effect failing with a typed `BinanceRestError`. `newClientOrderId` is always
 * Troupe's client order id, so an order can be found again by it.
 *
 * `placeOrder` never resends. A call whose outcome is unknown (503 "Unknown error…", `-1000`,
 * a timeout, a 5xx, an undecodable reply) or that the venue calls a duplicate (`-4116`: an
 * earlier send got through) is reconciled by querying the client order id: found → the order
 * is reported placed (`reconciled: true`); `-2013` after the venue answered → not placed; still
 * unknown after the attempts → `unresolved` (the user data stream or the next reconciliation
 * decides; nothing is invented).
 */

export type BinanceSide = "BUY" | "SELL"
export type BinanceOrderType = "LIMIT" | "MARKET"
export type BinanceTimeInForce = "GTC" | "IOC" | "FOK" | "GTX"

export interface PlaceOrderRequest {
  readonly symbol: string
  readonly side: BinanceSide
  readonly type: BinanceOrderType
  /** Decimal text, on the LOT_SIZE grid. */
  readonly quantity: string
  readonly price?: string
  readonly timeInForce?: BinanceTimeInForce
  readonly reduceOnly?: boolean
  /** Troupe's client order id (the venue's regex `^[.A-Z:/a-z0-9_-]{1,36}$`). */
  readonly clientOrderId: string
}

export interface ModifyOrderRequest {
  readonly symbol: string
  readonly clientOrderId: string
  readonly side: BinanceSide
  readonly quantity: string
  readonly price: string
}

/** The venue's order object, as much of it as the adapter reads (decimals kept as text). */
export interface BinanceOrder {
  readonly orderId: number
  readonly clientOrderId: string
  readonly symbol: string
  readonly status: string
  readonly side: string
  readonly type: string
  readonly price: string
  readonly origQty: string
  readonly executedQty: string
  readonly avgPrice: string
  readonly updateTime: number | undefined
}

export type PlaceOutcome =
  | { readonly _tag: "Placed"; readonly order: BinanceOrder; readonly reconciled: boolean }
  | { readonly _tag: "Rejected"; readonly error: BinanceRestError }
  /** The venue answered and has no such order: the send did not take effect. */
  | { readonly _tag: "NotPlaced"; readonly error: BinanceRestError }
  /** Still unknown after reconciliation; never resend. */
  | { readonly _tag: "Unresolved"; readonly error: BinanceRestError }

/** The venue's usage headers of one reply (`X-MBX-USED-WEIGHT-1M`, `X-MBX-ORDER-COUNT-10S|1M`), for the risk side's budgets. */
export interface BinanceUsage {
  readonly endpoint: string
  readonly usedWeight1m: number | undefined
  readonly orderCount10s: number | undefined
  readonly orderCount1m: number | undefined
}

export interface BinanceRestConfig {
  readonly baseUrl: string
  readonly apiKey: string
  readonly secret: string
  readonly recvWindow?: number
  readonly timeoutMs?: number
  readonly now?: () => number
  readonly fetch?: typeof fetch
  /** Queries after an unknown outcome (default 3) and the pause between them (default 500 ms). */
  readonly reconcile?: { readonly attempts?: number; readonly delayMs?: number }
  /** Every reply's usage headers (the venue's own count of the IP's weight and the account's orders). */
  readonly onUsage?: (usage: BinanceUsage) => void
}

/** A conditional order on the algo-order endpoints (since 2025-12-09 the only place for them). */
export interface PlaceAlgoRequest {
  readonly symbol: string
  readonly side: BinanceSide
  readonly type: "STOP" | "STOP_MARKET" | "TAKE_PROFIT" | "TAKE_PROFIT_MARKET"
  readonly quantity: string
  readonly triggerPrice: string
  readonly price?: string
  readonly reduceOnly?: boolean
  /** Troupe's client order id, sent as `clientAlgoId`; the triggered order carries it as its `clientOrderId`. */
  readonly clientOrderId: string
}

export interface BinanceAlgoOrder {
  readonly algoId: number
  readonly clientAlgoId: string
  readonly symbol: string
  readonly algoStatus: string
  readonly triggerPrice: string
  readonly quantity: string
}

/** One row of `GET /fapi/v1/userTrades`. */
export interface BinanceUserTrade {
  readonly id: number
  readonly orderId: number
  readonly symbol: string
  readonly side: string
  readonly price: string
  readonly qty: string
  readonly commission: string
  readonly commissionAsset: string
  readonly maker: boolean
  readonly time: number
}

export interface BinanceRestClient {
  readonly placeOrder: (req: PlaceOrderRequest) => Effect.Effect<PlaceOutcome>
  readonly modifyOrder: (req: ModifyOrderRequest) => Effect.Effect<BinanceOrder, BinanceRestError>
  readonly cancelOrder: (symbol: string, clientOrderId: string) => Effect.Effect<BinanceOrder, BinanceRestError>
  readonly queryOrder: (symbol: string, clientOrderId: string) => Effect.Effect<BinanceOrder, BinanceRestError>
  readonly openOrders: (symbol?: string) => Effect.Effect<ReadonlyArray<BinanceOrder>, BinanceRestError>
  readonly userTrades: (symbol: string, startTime?: number) => Effect.Effect<ReadonlyArray<BinanceUserTrade>, BinanceRestError>
  readonly placeAlgoOrder: (req: PlaceAlgoRequest) => Effect.Effect<BinanceAlgoOrder, BinanceRestError>
  readonly cancelAlgoOrder: (symbol: string, clientOrderId: string) => Effect.Effect<unknown, BinanceRestError>
  readonly queryAlgoOrder: (symbol: string, clientOrderId: string) => Effect.Effect<BinanceAlgoOrder, BinanceRestError>
  readonly openAlgoOrders: (symbol?: string) => Effect.Effect<ReadonlyArray<BinanceAlgoOrder>, BinanceRestError>
  readonly cancelAllOpenOrders: (symbol: string) => Effect.Effect<unknown, BinanceRestError>
  /** The dead man's switch: cancel every open order of `symbol` unless renewed within `ms` (0 disarms). */
  readonly countdownCancelAll: (symbol: string, ms: number) => Effect.Effect<unknown, BinanceRestError>
  /** User data stream keys (API key only, not signed). */
  readonly createListenKey: () => Effect.Effect<string, BinanceRestError>
  readonly keepAliveListenKey: (listenKey: string) => Effect.Effect<string, BinanceRestError>
  readonly closeListenKey: (listenKey: string) => Effect.Effect<unknown, BinanceRestError>
  /** Any signed JSON call (reads the adapter does not type), failing with the typed error. */
  readonly signedJson: (method: Method, path: string, params: ReadonlyArray<readonly [string, string]>) => Effect.Effect<unknown, BinanceRestError>
}

export type Method = "GET" | "POST" | "PUT" | "DELETE"

const decodeAlgo = (u: unknown): BinanceAlgoOrder | undefined => {
  if (typeof u !== "object" || u === null) return undefined
  const o = u as Record<string, unknown>
  if (typeof o["algoId"] !== "number" || typeof o["clientAlgoId"] !== "string" || typeof o["symbol"] !== "string") return undefined
  const s = (k: string) => (typeof o[k] === "string" ? (o[k] as string) : "")
  return { algoId: o["algoId"], clientAlgoId: o["clientAlgoId"], symbol: o["symbol"], algoStatus: s("algoStatus"), triggerPrice: s("triggerPrice"), quantity: s("quantity") }
}

const decodeTrade = (u: unknown): BinanceUserTrade | undefined => {
  if (typeof u !== "object" || u === null) return undefined
  const o = u as Record<string, unknown>
  const n = (k: string) => (typeof o[k] === "number" ? (o[k] as number) : undefined)
  const s = (k: string) => (typeof o[k] === "string" ? (o[k] as string) : undefined)
  const id = n("id")
  const orderId = n("orderId")
  const time = n("time")
  const f = { symbol: s("symbol"), side: s("side"), price: s("price"), qty: s("qty"), commission: s("commission"), commissionAsset: s("commissionAsset") }
  if (id === undefined || orderId === undefined || time === undefined || Object.values(f).some((v) => v === undefined)) return undefined
  return { id, orderId, time, maker: o["maker"] === true, ...(f as { [K in keyof typeof f]: string }) }
}

const decodeList = <A>(u: unknown, one: (x: unknown) => A | undefined): ReadonlyArray<A> | undefined => {
  if (!Array.isArray(u)) return undefined
  const out: A[] = []
  for (const x of u) {
    const a = one(x)
    if (a === undefined) return undefined
    out.push(a)
  }
  return out
}

const header = (h: Headers, name: string): number | undefined => {
  const v = h.get(name)
  const n = v === null ? NaN : Number(v)
  return Number.isFinite(n) ? n : undefined
}

export const decodeOrder = (u: unknown): BinanceOrder | undefined => {
  if (typeof u !== "object" || u === null) return undefined
  const o = u as Record<string, unknown>
  const s = (k: string) => (typeof o[k] === "string" ? (o[k] as string) : undefined)
  const orderId = o["orderId"]
  const fields = { clientOrderId: s("clientOrderId"), symbol: s("symbol"), status: s("status"), side: s("side"), type: s("type"), price: s("price"), origQty: s("origQty"), executedQty: s("executedQty") }
  if (typeof orderId !== "number" || Object.values(fields).some((v) => v === undefined)) return undefined
  const updateTime = o["updateTime"]
  return { orderId, ...(fields as { [K in keyof typeof fields]: string }), avgPrice: s("avgPrice") ?? "0", updateTime: typeof updateTime === "number" ? updateTime : undefined }
}

/**
 * After a place whose outcome is unknown (or a `-4116`): query the client order id until the
 * venue says. Found → placed; `-2013` after the venue answered → not placed; else unresolved.
 * Shared by the REST and WebSocket API paths (the query is always REST).
 */
export const reconcilePlace = (
  queryOrder: (symbol: string, clientOrderId: string) => Effect.Effect<BinanceOrder, BinanceRestError>,
  req: { readonly symbol: string; readonly clientOrderId: string },
  first: BinanceRestError,
  attempts: number,
  delayMs: number
): Effect.Effect<PlaceOutcome> =>
  Effect.gen(function* () {
    // The venue answered (a 5xx body, a -4116): the request is not in flight any more.
    const answered = first._tag === "DuplicateClientOrderId" || (first._tag === "VenueUnavailable" && first.cause === "http")
    let last: BinanceRestError = first
    for (let i = 0; i < attempts; i++) {
      if (i > 0) yield* Effect.sleep(delayMs)
      const found = yield* Effect.either(queryOrder(req.symbol, req.clientOrderId))
      if (found._tag === "Right") return { _tag: "Placed", order: found.right, reconciled: true } as const
      last = found.left
      if (found.left._tag === "OrderNotFound" && answered && first._tag !== "DuplicateClientOrderId") return { _tag: "NotPlaced", error: first } as const
    }
    return { _tag: "Unresolved", error: last } as const
  })

/** The parameters of a new order, as REST and the WebSocket API both take them. */
export const placeParams = (req: PlaceOrderRequest): Array<readonly [string, string]> => [
  ["symbol", req.symbol],
  ["side", req.side],
  ["type", req.type],
  ["quantity", req.quantity],
  ...(req.price === undefined ? [] : [["price", req.price] as const]),
  ...(req.timeInForce === undefined ? [] : [["timeInForce", req.timeInForce] as const]),
  ...(req.reduceOnly === true ? [["reduceOnly", "true"] as const] : []),
  ["newClientOrderId", req.clientOrderId],
  ["newOrderRespType", "RESULT"]
]

export const modifyParams = (req: ModifyOrderRequest): Array<readonly [string, string]> => [
  ["symbol", req.symbol],
  ["origClientOrderId", req.clientOrderId],
  ["side", req.side],
  ["quantity", req.quantity],
  ["price", req.price]
]

export const makeBinanceRestClient = (config: BinanceRestConfig): BinanceRestClient => {
  const base = config.baseUrl.replace(/\/+$/, "")
  const now = config.now ?? Date.now
  const fetchFn = config.fetch ?? fetch
  const attempts = config.reconcile?.attempts ?? 3
  const delayMs = config.reconcile?.delayMs ?? 500

  const request = (method: Method, path: string, params: ReadonlyArray<readonly [string, string]>, security: "SIGNED" | "USER_STREAM"): Effect.Effect<unknown, BinanceRestError> => {
    const endpoint = `${method} ${path}`
    return Effect.async<unknown, BinanceRestError>((resume, signal) => {
      const text = security === "SIGNED" ? signedParams(config.secret, params, { timestamp: now(), recvWindow: config.recvWindow }) : new URLSearchParams(params.map(([k, v]): [string, string] => [k, v])).toString()
      const inBody = method === "POST" || method === "PUT"
      const timeout = AbortSignal.timeout(config.timeoutMs ?? 10_000)
      let sent = false
      const url = inBody || text === "" ? `${base}${path}` : `${base}${path}?${text}`
      fetchFn(url, {
        method,
        headers: { "X-MBX-APIKEY": config.apiKey, ...(inBody ? { "content-type": "application/x-www-form-urlencoded" } : {}) },
        ...(inBody ? { body: text } : {}),
        signal: AbortSignal.any([timeout, signal])
      })
        .then(async (r) => {
          sent = true
          const body = await r.text()
          if (config.onUsage !== undefined) {
            try {
              config.onUsage({ endpoint, usedWeight1m: header(r.headers, "x-mbx-used-weight-1m"), orderCount10s: header(r.headers, "x-mbx-order-count-10s"), orderCount1m: header(r.headers, "x-mbx-order-count-1m") })
            } catch {
              // a throwing observer must not fail the call
            }
          }
          if (!r.ok) return resume(Effect.fail(errorFromReply({ endpoint, status: r.status, retryAfter: r.headers.get("retry-after"), body, now: now() })))
          let parsed: unknown
          try {
            parsed = JSON.parse(body)
          } catch {
            return resume(Effect.fail(new VenueDecodeError({ source: endpoint, reason: "not JSON", shape: shapeOf(body) })))
          }
          resume(Effect.succeed(parsed))
        })
        .catch((e: unknown) => {
          const timedOut = timeout.aborted
          // fetch rejects before any byte of the reply: a reset or refusal; whether the request
          // left is not knowable here, so anything but a refused connection may have reached.
          const refused = e instanceof Error && /ECONNREFUSED/.test(String((e as { cause?: unknown }).cause ?? e.message))
          resume(Effect.fail(networkError(endpoint, timedOut ? "timeout" : "network", e instanceof Error ? e.message : String(e), sent || !refused)))
        })
    })
  }

  const decoded = <A>(method: Method, path: string, params: ReadonlyArray<readonly [string, string]>, decode: (u: unknown) => A | undefined, what: string): Effect.Effect<A, BinanceRestError> =>
    Effect.flatMap(request(method, path, params, "SIGNED"), (u) => {
      const a = decode(u)
      return a === undefined ? Effect.fail(new VenueDecodeError({ source: `${method} ${path}`, reason: `not ${what}`, shape: shapeOf(u) })) : Effect.succeed(a)
    })

  const signed = (method: Method, path: string, params: ReadonlyArray<readonly [string, string]>): Effect.Effect<BinanceOrder, BinanceRestError> => decoded(method, path, params, decodeOrder, "an order")

  const listenKeyOf = (u: unknown): string | undefined => {
    const k = typeof u === "object" && u !== null ? (u as { listenKey?: unknown }).listenKey : undefined
    return typeof k === "string" && k.length > 0 ? k : undefined
  }
  const keyCall = (method: Method, params: ReadonlyArray<readonly [string, string]>): Effect.Effect<string, BinanceRestError> =>
    Effect.flatMap(request(method, "/fapi/v1/listenKey", params, "USER_STREAM"), (u) => {
      const k = listenKeyOf(u)
      return k === undefined ? Effect.fail(new VenueDecodeError({ source: `${method} /fapi/v1/listenKey`, reason: "no listenKey", shape: shapeOf(u) })) : Effect.succeed(k)
    })
  const sym = (symbol: string | undefined): ReadonlyArray<readonly [string, string]> => (symbol === undefined ? [] : [["symbol", symbol]])

  const queryOrder = (symbol: string, clientOrderId: string) => signed("GET", "/fapi/v1/order", [["symbol", symbol], ["origClientOrderId", clientOrderId]])

  const reconcile = (req: PlaceOrderRequest, first: BinanceRestError): Effect.Effect<PlaceOutcome> => reconcilePlace(queryOrder, req, first, attempts, delayMs)

  const placeOrder = (req: PlaceOrderRequest): Effect.Effect<PlaceOutcome> => {
    const params = placeParams(req)
    return Effect.matchEffect(signed("POST", "/fapi/v1/order", params), {
      onSuccess: (order) => Effect.succeed({ _tag: "Placed", order, reconciled: false } as const),
      onFailure: (e) => (outcomeUnknown(e) || e._tag === "DuplicateClientOrderId" ? reconcile(req, e) : Effect.succeed({ _tag: "Rejected", error: e } as const))
    })
  }

  return {
    placeOrder,
    modifyOrder: (req) =>
      signed("PUT", "/fapi/v1/order", modifyParams(req)),
    cancelOrder: (symbol, clientOrderId) => signed("DELETE", "/fapi/v1/order", [["symbol", symbol], ["origClientOrderId", clientOrderId]]),
    queryOrder,
    openOrders: (symbol) => decoded("GET", "/fapi/v1/openOrders", sym(symbol), (u) => decodeList(u, decodeOrder), "a list of orders"),
    userTrades: (symbol, startTime) =>
      decoded("GET", "/fapi/v1/userTrades", [["symbol", symbol], ...(startTime === undefined ? [] : [["startTime", String(startTime)] as const]), ["limit", "1000"]], (u) => decodeList(u, decodeTrade), "a list of trades"),
    placeAlgoOrder: (req) =>
      decoded(
        "POST",
        "/fapi/v1/algoOrder",
        [
          ["algoType", "CONDITIONAL"],
          ["symbol", req.symbol],
          ["side", req.side],
          ["type", req.type],
          ["quantity", req.quantity],
          ["triggerPrice", req.triggerPrice],
          ...(req.price === undefined ? [] : [["price", req.price] as const, ["timeInForce", "GTC"] as const]),
          ...(req.reduceOnly === true ? [["reduceOnly", "true"] as const] : []),
          ["clientAlgoId", req.clientOrderId]
        ],
        decodeAlgo,
        "an algo order"
      ),
    cancelAlgoOrder: (symbol, clientOrderId) => request("DELETE", "/fapi/v1/algoOrder", [["symbol", symbol], ["clientAlgoId", clientOrderId]], "SIGNED"),
    queryAlgoOrder: (symbol, clientOrderId) => decoded("GET", "/fapi/v1/algoOrder", [["symbol", symbol], ["clientAlgoId", clientOrderId]], decodeAlgo, "an algo order"),
    openAlgoOrders: (symbol) => decoded("GET", "/fapi/v1/openAlgoOrders", sym(symbol), (u) => decodeList(u, decodeAlgo), "a list of algo orders"),
    cancelAllOpenOrders: (symbol) => request("DELETE", "/fapi/v1/allOpenOrders", [["symbol", symbol]], "SIGNED"),
    countdownCancelAll: (symbol, ms) => request("POST", "/fapi/v1/countdownCancelAll", [["symbol", symbol], ["countdownTime", String(Math.max(0, Math.round(ms)))]], "SIGNED"),
    createListenKey: () => keyCall("POST", []),
    keepAliveListenKey: (listenKey) => keyCall("PUT", [["listenKey", listenKey]]),
    closeListenKey: (listenKey) => request("DELETE", "/fapi/v1/listenKey", [["listenKey", listenKey]], "USER_STREAM"),
    signedJson: (method, path, params) => request(method, path, params, "SIGNED")
  }
}
