import { Effect } from "effect"
import { ManagedConnection, type ConnectionConfig, type ConnectionSignal } from "../kraken-futures/ws-connection.js"
import { errorFromReply, networkError, outcomeUnknown, shapeOf, VenueDecodeError, type BinanceRestError } from "./errors.js"
import { decodeOrder, modifyParams, placeParams, reconcilePlace, type BinanceOrder, type BinanceRestClient, type ModifyOrderRequest, type PlaceOrderRequest, type PlaceOutcome } from "./rest.js"
import { signWsApiParams } from "./signing.js"

/**
 * Order entry over the WebSocket API (`/ws-fapi/v1`): `order.place`, `order.modify`,
 * `order.cancel`, each one JSON frame `{id, method, params}` signed per request (the sorted
 * parameters, HMAC-SHA256), answered by `{id, status, result | error}`. One socket, kept up by
 * the venue-connection machine; requests are matched to replies by id.
 *
 * The same contract as the REST client: an error reply maps through `errorFromReply` (so 429
 * and 418 are `RateLimited`/`Banned`), and a place whose outcome is unknown (the socket closed
 * with the request in flight, no reply within the timeout, a `-1000`) is reconciled by client
 * order id over REST — never resent.
 */

export interface BinanceWsApiConfig extends Omit<ConnectionConfig, "url"> {
  /** e.g. `wss://ws-fapi.binance.com/ws-fapi/v1`. */
  readonly url: string
  readonly apiKey: string
  readonly secret: string
  readonly recvWindow?: number
  /** A request without a reply after this long has an unknown outcome (default 10 s). */
  readonly timeoutMs?: number
  readonly now?: () => number
  /** For reconciliation (queries by client order id). */
  readonly rest: BinanceRestClient
  readonly reconcile?: { readonly attempts?: number; readonly delayMs?: number }
  readonly onSignal?: (s: ConnectionSignal) => void
}

export interface BinanceWsApiClient {
  readonly start: () => void
  readonly stop: () => Promise<void>
  /** True while the socket is open (requests go out at once). */
  readonly ready: () => boolean
  readonly placeOrder: (req: PlaceOrderRequest) => Effect.Effect<PlaceOutcome>
  readonly modifyOrder: (req: ModifyOrderRequest) => Effect.Effect<BinanceOrder, BinanceRestError>
  readonly cancelOrder: (symbol: string, clientOrderId: string) => Effect.Effect<BinanceOrder, BinanceRestError>
}

interface Pending {
  readonly endpoint: string
  readonly resolve: (r: { ok: true; result: unknown } | { ok: false; error: BinanceRestError }) => void
  readonly timer: ReturnType<typeof setTimeout>
}

export const makeBinanceWsApiClient = (config: BinanceWsApiConfig): BinanceWsApiClient => {
  const now = config.now ?? Date.now
  const pending = new Map<string, Pending>()
  const waitingForOpen = new Set<() => void>()
  let nextId = 1
  let open = false
  const { url, apiKey: _k, secret: _s, recvWindow: _r, timeoutMs: _t, now: _n, rest: _rest, reconcile: _rc, onSignal, ...connection } = config

  const failAll = (why: string) => {
    for (const [id, p] of pending) {
      clearTimeout(p.timer)
      // The frame left: the venue may have run it.
      p.resolve({ ok: false, error: networkError(p.endpoint, "network", why, true) })
      pending.delete(id)
    }
  }

  const conn = new ManagedConnection(
    { ...connection, url },
    {
      authenticate: (c) => c.authenticated(),
      subscribe: () => {
        open = true
        for (const w of [...waitingForOpen]) w()
        waitingForOpen.clear()
      },
      onText: (text) => {
        let msg: unknown
        try {
          msg = JSON.parse(text)
        } catch {
          return
        }
        if (typeof msg !== "object" || msg === null) return
        const m = msg as { id?: unknown; status?: unknown; result?: unknown; error?: unknown }
        const id = typeof m.id === "string" || typeof m.id === "number" ? String(m.id) : undefined
        const p = id === undefined ? undefined : pending.get(id)
        if (p === undefined || id === undefined) return
        pending.delete(id)
        clearTimeout(p.timer)
        const status = typeof m.status === "number" ? m.status : 0
        if (status === 200 && m.error === undefined) return p.resolve({ ok: true, result: m.result })
        p.resolve({ ok: false, error: errorFromReply({ endpoint: p.endpoint, status, body: JSON.stringify(m.error ?? {}), now: now() }) })
      },
      onSignal: (s) => {
        if (s._tag === "Disconnected" || s._tag === "GaveUp") {
          open = false
          failAll(`socket lost: ${s.reason}`)
        }
        onSignal?.(s)
      }
    }
  )

  const timeoutMs = config.timeoutMs ?? 10_000

  const call = (method: string, params: ReadonlyArray<readonly [string, string]>): Effect.Effect<unknown, BinanceRestError> => {
    const endpoint = `ws ${method}`
    return Effect.async<unknown, BinanceRestError>((resume) => {
      const send = () => {
        const all: Record<string, string> = { apiKey: config.apiKey }
        for (const [k, v] of params) all[k] = v
        if (config.recvWindow !== undefined) all["recvWindow"] = String(config.recvWindow)
        all["timestamp"] = String(now())
        all["signature"] = signWsApiParams(config.secret, all)
        const id = `t${nextId++}`
        const timer = setTimeout(() => {
          if (!pending.delete(id)) return
          resume(Effect.fail(networkError(endpoint, "timeout", `no reply within ${timeoutMs} ms`, true)))
        }, timeoutMs)
        pending.set(id, { endpoint, timer, resolve: (r) => resume(r.ok ? Effect.succeed(r.result) : Effect.fail(r.error)) })
        conn.send({ id, method, params: all })
      }
      if (open) return send()
      // Not connected (yet): wait for the socket, up to the timeout; nothing has left, so a
      // timeout here is a certain failure.
      const waiter = () => {
        clearTimeout(t)
        send()
      }
      const t = setTimeout(() => {
        waitingForOpen.delete(waiter)
        resume(Effect.fail(networkError(endpoint, "network", "WebSocket API not connected", false)))
      }, timeoutMs)
      waitingForOpen.add(waiter)
    })
  }

  const order = (method: string, params: ReadonlyArray<readonly [string, string]>): Effect.Effect<BinanceOrder, BinanceRestError> =>
    Effect.flatMap(call(method, params), (u) => {
      const o = decodeOrder(u)
      return o === undefined ? Effect.fail(new VenueDecodeError({ source: `ws ${method}`, reason: "not an order", shape: shapeOf(u) })) : Effect.succeed(o)
    })

  const attempts = config.reconcile?.attempts ?? 3
  const delayMs = config.reconcile?.delayMs ?? 500

  return {
    start: () => conn.start(),
    stop: async () => {
      failAll("stopped")
      await conn.stop()
    },
    ready: () => open,
    placeOrder: (req) =>
      Effect.matchEffect(order("order.place", placeParams(req)), {
        onSuccess: (o) => Effect.succeed({ _tag: "Placed", order: o, reconciled: false } as const),
        onFailure: (e) => (outcomeUnknown(e) || e._tag === "DuplicateClientOrderId" ? reconcilePlace(config.rest.queryOrder, req, e, attempts, delayMs) : Effect.succeed({ _tag: "Rejected", error: e } as const))
      }),
    modifyOrder: (req) => order("order.modify", modifyParams(req)),
    cancelOrder: (symbol, clientOrderId) => order("order.cancel", [["symbol", symbol], ["origClientOrderId", clientOrderId]])
  }
}
