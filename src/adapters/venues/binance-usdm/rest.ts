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
}

export interface BinanceRestClient {
  readonly placeOrder: (req: PlaceOrderRequest) => Effect.Effect<PlaceOutcome>
  readonly modifyOrder: (req: ModifyOrderRequest) => Effect.Effect<BinanceOrder, BinanceRestError>
  readonly cancelOrder: (symbol: string, clientOrderId: string) => Effect.Effect<BinanceOrder, BinanceRestError>
  readonly queryOrder: (symbol: string, clientOrderId: string) => Effect.Effect<BinanceOrder, BinanceRestError>
}

const decodeOrder = (u: unknown): BinanceOrder | undefined => {
  if (typeof u !== "object" || u === null) return undefined
  const o = u as Record<string, unknown>
  const s = (k: string) => (typeof o[k] === "string" ? (o[k] as string) : undefined)
  const orderId = o["orderId"]
  const fields = { clientOrderId: s("clientOrderId"), symbol: s("symbol"), status: s("status"), side: s("side"), type: s("type"), price: s("price"), origQty: s("origQty"), executedQty: s("executedQty") }
  if (typeof orderId !== "number" || Object.values(fields).some((v) => v === undefined)) return undefined
  const updateTime = o["updateTime"]
  return { orderId, ...(fields as { [K in keyof typeof fields]: string }), avgPrice: s("avgPrice") ?? "0", updateTime: typeof updateTime === "number" ? updateTime : undefined }
}

export const makeBinanceRestClient = (config: BinanceRestConfig): BinanceRestClient => {
  const base = config.baseUrl.replace(/\/+$/, "")
  const now = config.now ?? Date.now
  const fetchFn = config.fetch ?? fetch
  const attempts = config.reconcile?.attempts ?? 3
  const delayMs = config.reconcile?.delayMs ?? 500

  const signed = (method: "GET" | "POST" | "PUT" | "DELETE", path: string, params: ReadonlyArray<readonly [string, string]>): Effect.Effect<BinanceOrder, BinanceRestError> => {
    const endpoint = `${method} ${path}`
    return Effect.async<BinanceOrder, BinanceRestError>((resume, signal) => {
      const text = signedParams(config.secret, params, { timestamp: now(), recvWindow: config.recvWindow })
      const inBody = method === "POST" || method === "PUT"
      const timeout = AbortSignal.timeout(config.timeoutMs ?? 10_000)
      let sent = false
      fetchFn(inBody ? `${base}${path}` : `${base}${path}?${text}`, {
        method,
        headers: { "X-MBX-APIKEY": config.apiKey, ...(inBody ? { "content-type": "application/x-www-form-urlencoded" } : {}) },
        ...(inBody ? { body: text } : {}),
        signal: AbortSignal.any([timeout, signal])
      })
        .then(async (r) => {
          sent = true
          const body = await r.text()
          if (!r.ok) return resume(Effect.fail(errorFromReply({ endpoint, status: r.status, retryAfter: r.headers.get("retry-after"), body, now: now() })))
          let parsed: unknown
          try {
            parsed = JSON.parse(body)
          } catch {
            parsed = undefined
          }
          const order = decodeOrder(parsed)
          if (order === undefined) return resume(Effect.fail(new VenueDecodeError({ source: endpoint, reason: "not an order", shape: shapeOf(parsed ?? body) })))
          resume(Effect.succeed(order))
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

  const queryOrder = (symbol: string, clientOrderId: string) => signed("GET", "/fapi/v1/order", [["symbol", symbol], ["origClientOrderId", clientOrderId]])

  const reconcile = (req: PlaceOrderRequest, first: BinanceRestError): Effect.Effect<PlaceOutcome> =>
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

  const placeOrder = (req: PlaceOrderRequest): Effect.Effect<PlaceOutcome> => {
    const params: Array<readonly [string, string]> = [
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
    return Effect.matchEffect(signed("POST", "/fapi/v1/order", params), {
      onSuccess: (order) => Effect.succeed({ _tag: "Placed", order, reconciled: false } as const),
      onFailure: (e) => (outcomeUnknown(e) || e._tag === "DuplicateClientOrderId" ? reconcile(req, e) : Effect.succeed({ _tag: "Rejected", error: e } as const))
    })
  }

  return {
    placeOrder,
    modifyOrder: (req) =>
      signed("PUT", "/fapi/v1/order", [["symbol", req.symbol], ["origClientOrderId", req.clientOrderId], ["side", req.side], ["quantity", req.quantity], ["price", req.price]]),
    cancelOrder: (symbol, clientOrderId) => signed("DELETE", "/fapi/v1/order", [["symbol", symbol], ["origClientOrderId", clientOrderId]]),
    queryOrder
  }
}
