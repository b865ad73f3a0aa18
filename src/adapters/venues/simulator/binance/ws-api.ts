import { DEFAULT_RECV_WINDOW_MS, checkTimestamp, sameHexSignature, signWsApiParams } from "../../binance-usdm/signing.js"
import type { Exchange, SimAccount } from "../exchange.js"
import { fail, type Answer, type BinanceOrders, type Params } from "./orders.js"
import type { BinanceRateLimiter } from "./rate-limit.js"
import type { BinanceRestApi, ListenKeys } from "./rest-api.js"

/**
 * The WebSocket API (`/ws-fapi/v1`): one JSON request per frame, `{id, method, params}`, signed
 * per request (`apiKey`, `timestamp`, `signature` over the sorted parameters). Orders go
 * through the same code as REST; events still arrive on the user data stream.
 */
interface Method {
  readonly signed: boolean
  readonly weight: number
  readonly orders: number
  readonly run: (account: SimAccount | undefined, p: Params) => Answer
}

export class BinanceWsApi {
  private readonly methods = new Map<string, Method>()

  constructor(
    private readonly exchange: Exchange,
    orders: BinanceOrders,
    private readonly limiter: BinanceRateLimiter,
    rest: BinanceRestApi,
    listenKeys: ListenKeys
  ) {
    const name = (a: SimAccount | undefined): string => (a as SimAccount).name
    const restCall = (method: string, path: string) => (a: SimAccount | undefined, p: Params): Answer => rest.call(method, path, a as SimAccount, p)
    const m = (names: ReadonlyArray<string>, method: Method): void => {
      for (const n of names) this.methods.set(n, method)
    }
    m(["order.place"], { signed: true, weight: 0, orders: 1, run: (a, p) => orders.place(name(a), p, false) })
    m(["order.modify"], { signed: true, weight: 1, orders: 1, run: (a, p) => orders.modify(name(a), p) })
    m(["order.cancel"], { signed: true, weight: 1, orders: 0, run: (a, p) => orders.cancel(name(a), p) })
    m(["order.status"], { signed: true, weight: 1, orders: 0, run: restCall("GET", "/fapi/v1/order") })
    m(["algoOrder.place"], { signed: true, weight: 0, orders: 1, run: (a, p) => orders.place(name(a), p, true) })
    m(["algoOrder.cancel"], { signed: true, weight: 1, orders: 0, run: (a, p) => orders.cancelAlgo(name(a), p) })
    m(["account.position", "v2/account.position"], { signed: true, weight: 5, orders: 0, run: restCall("GET", "/fapi/v3/positionRisk") })
    m(["account.balance", "v2/account.balance"], { signed: true, weight: 5, orders: 0, run: restCall("GET", "/fapi/v3/balance") })
    m(["account.status", "v2/account.status"], { signed: true, weight: 5, orders: 0, run: restCall("GET", "/fapi/v3/account") })
    m(["userDataStream.start"], { signed: false, weight: 1, orders: 0, run: (a) => ({ ok: true, body: { listenKey: listenKeys.create(name(a)) } }) })
    m(["userDataStream.ping"], {
      signed: false, weight: 1, orders: 0,
      run: (a, p) => {
        const key = listenKeys.keepAlive(name(a), p("listenKey"))
        return key === undefined ? fail(-1125, "This listenKey does not exist.") : { ok: true, body: { listenKey: key } }
      }
    })
    m(["userDataStream.stop"], {
      signed: false, weight: 1, orders: 0,
      run: (a, p) => {
        listenKeys.close(name(a), p("listenKey"))
        return { ok: true, body: {} }
      }
    })
  }

  handle(ip: string, raw: string): Record<string, unknown> {
    let msg: Record<string, unknown>
    try {
      const parsed: unknown = JSON.parse(raw)
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("not an object")
      msg = parsed as Record<string, unknown>
    } catch {
      return { id: null, status: 400, error: { code: -1102, msg: "Malformed request: the frame is not a JSON object." } }
    }
    const id = msg.id ?? null
    const params = typeof msg.params === "object" && msg.params !== null ? (msg.params as Record<string, unknown>) : {}
    const p: Params = (k) => (params[k] === undefined || params[k] === null ? undefined : String(params[k] as string | number | boolean))
    const now = this.exchange.now()
    const rateLimits = () => {
      const counts = this.limiter.orderCounts(typeof params.apiKey === "string" ? this.exchange.accountByKey(params.apiKey)?.name ?? "" : "", now)
      return [
        { rateLimitType: "REQUEST_WEIGHT", interval: "MINUTE", intervalNum: 1, limit: this.limiter.limits.weightPerMinute, count: this.limiter.usedWeight(ip, now) },
        { rateLimitType: "ORDERS", interval: "SECOND", intervalNum: 10, limit: this.limiter.limits.ordersPer10s, count: counts.tenSeconds },
        { rateLimitType: "ORDERS", interval: "MINUTE", intervalNum: 1, limit: this.limiter.limits.ordersPerMinute, count: counts.minute }
      ]
    }
    const quiet = params.returnRateLimits === false || params.returnRateLimits === "false"
    const reply = (status: number, body: Record<string, unknown>): Record<string, unknown> => ({ id, status, ...body, ...(quiet ? {} : { rateLimits: rateLimits() }) })
    const error = (status: number, code: number, text: string) => reply(status, { error: { code, msg: text } })
    const method = typeof msg.method === "string" ? this.methods.get(msg.method) : undefined
    if (typeof msg.method === "string" && (msg.method === "time" || msg.method === "ping")) return reply(200, { result: msg.method === "time" ? { serverTime: now } : {} })
    if (method === undefined) return error(400, -1102, `Unknown method '${String(msg.method)}'.`)
    const admission = this.limiter.admit(ip, method.weight, now)
    if (admission.kind === "banned") return error(418, -1003, `Way too many requests; IP(${ip}) banned until ${admission.until}.`)
    if (admission.kind === "tooMany") return error(429, -1003, `Too many requests; current limit is ${this.limiter.limits.weightPerMinute} requests per minute.`)
    const apiKey = p("apiKey")
    if (apiKey === undefined) return error(401, -2014, "API-key format invalid.")
    const account = this.exchange.accountByKey(apiKey)
    if (account === undefined) return error(401, -2015, "Invalid API-key, IP, or permissions for action.")
    if (method.signed) {
      const timestamp = p("timestamp")
      if (timestamp === undefined || !/^\d+$/.test(timestamp)) return error(400, -1102, "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.")
      const signature = p("signature")
      if (signature === undefined) return error(400, -1102, "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.")
      const time = checkTimestamp(Number(timestamp), Number(p("recvWindow") ?? DEFAULT_RECV_WINDOW_MS), now)
      if (time !== "ok") return error(400, -1021, time === "ahead" ? "Timestamp for this request was 1000ms ahead of the server's time." : "Timestamp for this request is outside of the recvWindow.")
      if (!sameHexSignature(signWsApiParams(account.apiSecret, params), signature)) return error(400, -1022, "Signature for this request is not valid.")
    }
    if (method.orders > 0 && this.limiter.countOrders(account.name, method.orders, now).kind !== "ok") return error(429, -1015, "Too many new orders.")
    const out = method.run(account, p)
    return out.ok ? reply(200, { result: out.body }) : error(out.status, out.code, out.msg)
  }
}
