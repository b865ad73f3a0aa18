import { Effect, Either, ParseResult, Schema } from "effect"
import type { Decimal } from "../../../domain/decimal.js"
import { monotonicNonce, signRest } from "./auth.js"
import { sharedKeepAliveFetch } from "./http-fetch.js"
import {
  AuthenticationFailed,
  DuplicateClientOrderId,
  RateLimited,
  shapeOf,
  UnexpectedStatus,
  VenueDecodeError,
  VenueUnavailable,
  type KrakenRestError
} from "./errors.js"
import { parseExactJson } from "./json-exact.js"
import * as R from "./rest-replies.js"
import { lookupCancelStatus, lookupEditStatus, lookupSendStatus, errorFromVenue, type StatusOutcome } from "./status.js"

/**
 * REST v3 client for Kraken Futures. Parameters go URL-encoded in the query string (also for
 * POST), `batchorder` sends `json=<...>` in the body; private calls carry `APIKey`, `Authent`
 * and a monotonic `Nonce`. Every reply is decoded with Schema from exact JSON (numbers as text),
 * and every failure is a value in the Effect error channel: this module never throws.
 */

export const PRODUCTION_BASE_URL = "https://futures.kraken.com/derivatives"
export const DEMO_BASE_URL = "https://demo-futures.kraken.com/derivatives"

export interface KrakenRestConfig {
  /** Up to and including `/derivatives` (or whatever prefix the host uses); no trailing slash needed. */
  readonly baseUrl: string
  readonly credentials?: { readonly apiKey: string; readonly secret: string }
  /** Nonce source; `"none"` sends no `Nonce` header (the signature then uses an empty nonce). */
  readonly nonce?: "none" | (() => string)
  readonly timeoutMs?: number
  /** Default: node:http(s) with keep-alive agents (`http-fetch.ts`), faster than global fetch per request. */
  readonly fetch?: typeof fetch
}

export type KrakenOrderType = "lmt" | "post" | "ioc" | "mkt" | "stp" | "take_profit" | "trailing_stop" | "fok"

export interface SendOrderRequest {
  readonly orderType: KrakenOrderType
  readonly symbol: string
  readonly side: "buy" | "sell"
  readonly size: Decimal
  readonly limitPrice?: Decimal
  readonly stopPrice?: Decimal
  readonly cliOrdId?: string
  readonly reduceOnly?: boolean
  readonly triggerSignal?: "mark" | "index" | "last"
}

export type OrderRef = { readonly orderId: string } | { readonly cliOrdId: string }

export interface EditOrderRequest {
  readonly ref: OrderRef
  readonly size?: Decimal
  readonly limitPrice?: Decimal
  readonly stopPrice?: Decimal
}

/** An immediate execution reported in a REST reply. No fee/liquidity here: `OrderFilled` comes from the fills feed. */
export interface Execution {
  readonly executionId: string
  readonly price: Decimal
  readonly qty: Decimal
}

export interface SendOrderResult {
  readonly status: string
  readonly outcome: Exclude<StatusOutcome, { kind: "duplicate" }>
  readonly venueOrderId?: string
  readonly receivedTime?: string
  readonly executions: ReadonlyArray<Execution>
  /** Reasons of `REJECT` order events (e.g. `IOC_WOULD_NOT_EXECUTE`). */
  readonly rejectReasons: ReadonlyArray<string>
}

export interface StatusResult {
  readonly status: string
  readonly outcome: StatusOutcome
  readonly venueOrderId?: string
}

export type BatchInstruction =
  | ({ readonly order: "send"; readonly orderTag: string } & SendOrderRequest)
  | ({ readonly order: "edit" } & EditOrderRequest)
  | { readonly order: "cancel"; readonly ref: OrderRef }

export interface BatchItemResult {
  readonly status: string
  readonly orderTag?: string
  readonly venueOrderId?: string
  readonly outcome: StatusOutcome
}

const text = (d: Decimal): string => d.toFixed() // never exponent notation
const isMutating = (endpoint: string) => !["openorders", "fills", "openpositions", "instruments"].includes(endpoint)

const encodeParams = (params: ReadonlyArray<readonly [string, string | undefined]>): string =>
  params
    .filter((p): p is readonly [string, string] => p[1] !== undefined)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join("&")

const refParams = (ref: OrderRef, orderIdKey: string): ReadonlyArray<readonly [string, string]> =>
  "orderId" in ref ? [[orderIdKey, ref.orderId]] : [["cliOrdId", ref.cliOrdId]]

const opt = <T>(v: T | null | undefined): v is T => v !== undefined && v !== null

export interface KrakenRestClient {
  readonly sendOrder: (req: SendOrderRequest) => Effect.Effect<SendOrderResult, KrakenRestError>
  /**
   * `sendOrder` as a plain Promise of an Either (never rejects): the order path's call, with no
   * fiber between the approved action and the request bytes. Optional for other clients.
   */
  readonly sendOrderNow?: (req: SendOrderRequest) => Promise<Either.Either<SendOrderResult, KrakenRestError>>
  readonly editOrder: (req: EditOrderRequest) => Effect.Effect<StatusResult, KrakenRestError>
  readonly cancelOrder: (ref: OrderRef) => Effect.Effect<StatusResult, KrakenRestError>
  readonly cancelAllOrders: (symbol?: string) => Effect.Effect<{ readonly status: string; readonly canceledOrderIds: ReadonlyArray<string> }, KrakenRestError>
  readonly cancelAllOrdersAfter: (timeoutSeconds: number) => Effect.Effect<{ readonly currentTime?: string; readonly triggerTime?: string }, KrakenRestError>
  readonly batchOrder: (instructions: ReadonlyArray<BatchInstruction>) => Effect.Effect<ReadonlyArray<BatchItemResult>, KrakenRestError>
  readonly openOrders: () => Effect.Effect<(typeof R.OpenOrdersReply.Type)["openOrders"], KrakenRestError>
  readonly fills: (lastFillTime?: string) => Effect.Effect<(typeof R.FillsReply.Type)["fills"], KrakenRestError>
  readonly openPositions: () => Effect.Effect<(typeof R.OpenPositionsReply.Type)["openPositions"], KrakenRestError>
  /** Public; entries undecoded (see `instruments.ts`). */
  readonly instruments: () => Effect.Effect<ReadonlyArray<unknown>, KrakenRestError>
}

export const makeKrakenRestClient = (config: KrakenRestConfig): KrakenRestClient => {
  const base = config.baseUrl.replace(/\/+$/, "")
  const doFetch = config.fetch ?? sharedKeepAliveFetch()
  const nonce = config.nonce === "none" ? () => "" : (config.nonce ?? monotonicNonce())
  const timeoutMs = config.timeoutMs ?? 10_000

  const call = async <A, I>(
    endpoint: string,
    method: "GET" | "POST",
    query: string,
    body: string | undefined,
    schema: Schema.Schema<A, I>,
    authenticated: boolean
  ): Promise<Either.Either<A, KrakenRestError>> => {
    const endpointPath = `/api/v3/${endpoint}`
    const url = `${base}${endpointPath}${query.length > 0 ? `?${query}` : ""}`
    const headers: Record<string, string> = { Accept: "application/json" }
    if (body !== undefined) headers["Content-Type"] = "application/x-www-form-urlencoded"
    if (authenticated) {
      if (config.credentials === undefined) return Either.left(new AuthenticationFailed({ endpoint, detail: "no API credentials configured" }))
      const n = nonce()
      headers["APIKey"] = config.credentials.apiKey
      if (n !== "") headers["Nonce"] = n
      headers["Authent"] = signRest({ secret: config.credentials.secret, postData: body ?? query, nonce: n, endpointPath })
    }
    const mutating = isMutating(endpoint)
    let status: number
    let raw: string
    try {
      const res = await doFetch(url, { method, headers, ...(body !== undefined ? { body } : {}), signal: AbortSignal.timeout(timeoutMs) })
      status = res.status
      raw = await res.text()
    } catch (e) {
      const name = e instanceof Error ? e.name : ""
      const code = e instanceof Error && e.cause instanceof Error ? (e.cause as Error & { code?: string }).code : undefined
      if (name === "TimeoutError" || name === "AbortError") {
        return Either.left(new VenueUnavailable({ endpoint, cause: "timeout", detail: `no reply within ${timeoutMs} ms`, mayHaveReached: mutating }))
      }
      const refused = code === "ECONNREFUSED" || code === "ENOTFOUND" || code === "EAI_AGAIN"
      return Either.left(new VenueUnavailable({ endpoint, cause: "network", detail: `${name}: ${code ?? (e instanceof Error ? e.message : String(e))}`, mayHaveReached: mutating && !refused }))
    }
    if (status === 429) return Either.left(new RateLimited({ endpoint, detail: `HTTP 429` }))
    if (status >= 500) return Either.left(new VenueUnavailable({ endpoint, cause: "http", status, detail: raw.slice(0, 200), mayHaveReached: mutating && status !== 503 }))
    const json = parseExactJson(raw, `rest/${endpoint}`)
    if (Either.isLeft(json)) {
      if (status === 401 || status === 403) return Either.left(new AuthenticationFailed({ endpoint, detail: `HTTP ${status}` }))
      return Either.left(json.left)
    }
    const decodeFail = (e: ParseResult.ParseError) =>
      new VenueDecodeError({ source: `rest/${endpoint}`, reason: ParseResult.TreeFormatter.formatErrorSync(e).slice(0, 300), shape: shapeOf(json.right) })
    const env = Schema.decodeUnknownEither(R.Envelope, { onExcessProperty: "ignore" })(json.right)
    if (Either.isLeft(env)) return Either.left(decodeFail(env.left))
    if (env.right.result !== "success") {
      const err = env.right.error
      if (err !== undefined && err !== null) return Either.left(errorFromVenue(endpoint, err))
      if (status === 401 || status === 403) return Either.left(new AuthenticationFailed({ endpoint, detail: `HTTP ${status}` }))
      return Either.left(new UnexpectedStatus({ endpoint, field: "result", status: env.right.result.slice(0, 64) }))
    }
    return Either.mapLeft(Schema.decodeUnknownEither(schema, { onExcessProperty: "ignore" })(json.right), decodeFail)
  }

  const run = <A, I>(endpoint: string, method: "GET" | "POST", query: string, schema: Schema.Schema<A, I>, authenticated = true, body?: string) =>
    Effect.flatMap(
      Effect.promise(() => call(endpoint, method, query, body, schema, authenticated)),
      (e) => e
    )

  const outcomeOr = (endpoint: string, field: string, status: string, outcome: StatusOutcome | undefined) =>
    outcome === undefined ? Effect.fail(new UnexpectedStatus({ endpoint, field, status: status.slice(0, 64) })) : Effect.succeed(outcome)

  const sendParams = (r: SendOrderRequest): ReadonlyArray<readonly [string, string | undefined]> => [
    ["orderType", r.orderType],
    ["symbol", r.symbol],
    ["side", r.side],
    ["size", text(r.size)],
    ["limitPrice", r.limitPrice === undefined ? undefined : text(r.limitPrice)],
    ["stopPrice", r.stopPrice === undefined ? undefined : text(r.stopPrice)],
    ["cliOrdId", r.cliOrdId],
    ["reduceOnly", r.reduceOnly === undefined ? undefined : String(r.reduceOnly)],
    ["triggerSignal", r.triggerSignal]
  ]

  const sendOrderNow = async (req: SendOrderRequest): Promise<Either.Either<SendOrderResult, KrakenRestError>> => {
    const replied = await call("sendorder", "POST", encodeParams(sendParams(req)), undefined, R.SendOrderReply, true)
    if (Either.isLeft(replied)) return Either.left(replied.left)
    const s = replied.right.sendStatus
    const outcome = lookupSendStatus(s.status)
    if (outcome === undefined) return Either.left(new UnexpectedStatus({ endpoint: "sendorder", field: "sendStatus.status", status: s.status.slice(0, 64) }))
    if (outcome.kind === "duplicate") return Either.left(new DuplicateClientOrderId({ endpoint: "sendorder", clientOrderId: req.cliOrdId ?? "" }))
    const events = s.orderEvents ?? []
    const executions: Array<Execution> = []
    const rejectReasons: Array<string> = []
    for (const ev of events) {
      if (ev.type === "EXECUTION" && opt(ev.price) && opt(ev.amount)) executions.push({ executionId: ev.executionId ?? "", price: ev.price, qty: ev.amount })
      if (ev.type === "REJECT" && opt(ev.reason)) rejectReasons.push(ev.reason)
    }
    return Either.right({
      status: s.status,
      outcome,
      ...(opt(s.order_id) ? { venueOrderId: s.order_id } : {}),
      ...(opt(s.receivedTime) ? { receivedTime: s.receivedTime } : {}),
      executions,
      rejectReasons
    } satisfies SendOrderResult)
  }

  return {
    sendOrder: (req) =>
      Effect.flatMap(
        Effect.promise(() => sendOrderNow(req)),
        (e) => e
      ),
    sendOrderNow,

    editOrder: (req) =>
      Effect.gen(function* () {
        const query = encodeParams([
          ...refParams(req.ref, "orderId"),
          ["size", req.size === undefined ? undefined : text(req.size)],
          ["limitPrice", req.limitPrice === undefined ? undefined : text(req.limitPrice)],
          ["stopPrice", req.stopPrice === undefined ? undefined : text(req.stopPrice)]
        ])
        const reply = yield* run("editorder", "POST", query, R.EditOrderReply)
        const s = reply.editStatus
        const outcome = yield* outcomeOr("editorder", "editStatus.status", s.status, lookupEditStatus(s.status))
        return { status: s.status, outcome, ...(opt(s.orderId) ? { venueOrderId: s.orderId } : {}) }
      }),

    cancelOrder: (ref) =>
      Effect.gen(function* () {
        const reply = yield* run("cancelorder", "POST", encodeParams(refParams(ref, "order_id")), R.CancelOrderReply)
        const s = reply.cancelStatus
        const outcome = yield* outcomeOr("cancelorder", "cancelStatus.status", s.status, lookupCancelStatus(s.status))
        return { status: s.status, outcome, ...(opt(s.order_id) ? { venueOrderId: s.order_id } : {}) }
      }),

    cancelAllOrders: (symbol) =>
      Effect.gen(function* () {
        const reply = yield* run("cancelallorders", "POST", encodeParams([["symbol", symbol]]), R.CancelAllReply)
        const s = reply.cancelStatus
        if (s.status !== "cancelled" && s.status !== "noOrdersToCancel") {
          return yield* Effect.fail(new UnexpectedStatus({ endpoint: "cancelallorders", field: "cancelStatus.status", status: s.status.slice(0, 64) }))
        }
        return { status: s.status, canceledOrderIds: (s.cancelledOrders ?? []).map((o) => o.order_id) }
      }),

    cancelAllOrdersAfter: (timeoutSeconds) =>
      Effect.map(run("cancelallordersafter", "POST", encodeParams([["timeout", String(Math.max(0, Math.trunc(timeoutSeconds)))]]), R.CancelAllAfterReply), (r) => ({
        ...(opt(r.status.currentTime) ? { currentTime: r.status.currentTime } : {}),
        ...(opt(r.status.triggerTime) ? { triggerTime: r.status.triggerTime } : {})
      })),

    batchOrder: (instructions) =>
      Effect.gen(function* () {
        const body = `json=${encodeURIComponent(batchJson(instructions))}`
        const reply = yield* run("batchorder", "POST", "", R.BatchOrderReply, true, body)
        const results: Array<BatchItemResult> = []
        for (const item of reply.batchStatus) {
          const outcome = lookupSendStatus(item.status) ?? lookupEditStatus(item.status) ?? lookupCancelStatus(item.status)
          if (outcome === undefined) return yield* Effect.fail(new UnexpectedStatus({ endpoint: "batchorder", field: "batchStatus.status", status: item.status.slice(0, 64) }))
          results.push({
            status: item.status,
            outcome,
            ...(opt(item.order_tag) ? { orderTag: item.order_tag } : {}),
            ...(opt(item.order_id) ? { venueOrderId: item.order_id } : {})
          })
        }
        return results
      }),

    openOrders: () => Effect.map(run("openorders", "GET", "", R.OpenOrdersReply), (r) => r.openOrders),
    fills: (lastFillTime) => Effect.map(run("fills", "GET", encodeParams([["lastFillTime", lastFillTime]]), R.FillsReply), (r) => r.fills),
    openPositions: () => Effect.map(run("openpositions", "GET", "", R.OpenPositionsReply), (r) => r.openPositions),
    instruments: () => Effect.map(run("instruments", "GET", "", R.InstrumentsReply, false), (r) => r.instruments)
  }
}

/**
 * The `batchorder` JSON. Sizes and prices must be JSON numbers with our exact digits, which
 * `JSON.stringify` cannot write from a Decimal; they are emitted as marked strings and the
 * marks removed afterwards (the keys are ours, so this never touches venue text).
 */
export const batchJson = (instructions: ReadonlyArray<BatchInstruction>): string => {
  const num = (d: Decimal | undefined) => (d === undefined ? undefined : `\u0000${text(d)}\u0000`)
  const items = instructions.map((i) => {
    switch (i.order) {
      case "send":
        return {
          order: "send",
          order_tag: i.orderTag,
          orderType: i.orderType,
          symbol: i.symbol,
          side: i.side,
          size: num(i.size),
          limitPrice: num(i.limitPrice),
          stopPrice: num(i.stopPrice),
          cliOrdId: i.cliOrdId,
          reduceOnly: i.reduceOnly,
          trigger_signal: i.triggerSignal
        }
      case "edit":
        return { order: "edit", ...("orderId" in i.ref ? { order_id: i.ref.orderId } : { cliOrdId: i.ref.cliOrdId }), size: num(i.size), limitPrice: num(i.limitPrice), stopPrice: num(i.stopPrice) }
      case "cancel":
        return { order: "cancel", ...("orderId" in i.ref ? { order_id: i.ref.orderId } : { cliOrdId: i.ref.cliOrdId }) }
    }
  })
  return JSON.stringify({ batchOrder: items }).replace(/"\\u0000([-0-9.]+)\\u0000"/g, "$1")
}
