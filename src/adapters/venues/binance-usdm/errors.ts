import { Data } from "effect"

/**
 * Everything that can go wrong talking to Binance USD-M, as tagged values. Nothing here is
 * thrown across the adapter boundary: REST calls fail in the Effect error channel, the WS
 * clients report through their signal callback.
 *
 * `errorFromReply` maps an HTTP status and the venue's `{"code","msg"}` body: HTTP 418 is
 * `Banned` and 429 `RateLimited` whatever the body (the venue's own rule: keep sending after a
 * 429 and the IP is banned, so both carry how long to stay away); then the documented codes
 * (`BINANCE_ERROR_CODES`, every code the adapter can meet, from the venue's error list); then
 * 5xx by message, because the venue's 503 means three different things. A code not in the
 * table is `UnknownVenueError`, whose outcome is unknown.
 */

/** Wait after a 429/418 that names none (the venue's own bans start at 2 minutes). */
export const DEFAULT_RETRY_AFTER_MS = 60_000
export const DEFAULT_BAN_MS = 120_000

interface Base {
  readonly endpoint: string
  readonly code: number
  readonly detail: string
}

/**
 * HTTP 429 (`-1003` over the request weight, `-1015` over the order count). Back off for
 * `retryAfterMs` (the `Retry-After` header, else a default); sending again before that gets
 * the IP banned (418).
 */
export class RateLimited extends Data.TaggedError("RateLimited")<Base & { readonly limit: "weight" | "orders"; readonly retryAfterMs: number }> {}

/** HTTP 418: the IP is banned (2 min to 3 days). Nothing may be sent before `untilMs`. */
export class Banned extends Data.TaggedError("Banned")<Base & { readonly untilMs: number | undefined; readonly retryAfterMs: number }> {}

/** `-1008`: system-level protection refused the request (not counted, not processed). Retry with backoff; reduce-only and cancels are exempt. */
export class Throttled extends Data.TaggedError("Throttled")<Base> {}

/** `-2014`, `-2015`, `-1022` (signature), `-1125` (listenKey), HTTP 401. Not retryable as is. */
export class AuthenticationFailed extends Data.TaggedError("AuthenticationFailed")<Base> {}

/** `-1021`: timestamp outside recvWindow or ahead of the server: resync the clock, then a fresh request may pass. */
export class TimestampRejected extends Data.TaggedError("TimestampRejected")<Base> {}

/** `-1121`: the venue does not know the symbol. */
export class UnknownSymbol extends Data.TaggedError("UnknownSymbol")<Base> {}

/** A malformed request or a filter it broke (precision, tick, step, min/max, price caps): our bug, never retried as is. */
export class InvalidArgument extends Data.TaggedError("InvalidArgument")<Base & { readonly field: InvalidField }> {}

export type InvalidField = "request" | "precision" | "quantity" | "price" | "clientOrderId" | "orderType" | "side" | "timeInForce" | "positionSide" | "conditional"

/** The order was refused by the venue's rules (not a malformed request): the order never existed. */
export class OrderRejected extends Data.TaggedError("OrderRejected")<Base & { readonly reason: RejectReason }> {}

export type RejectReason =
  | "rejected"
  | "fok"
  | "postOnly"
  | "reduceOnly"
  | "maxOpenOrders"
  | "maxPosition"
  | "minNotional"
  | "wouldTrigger"
  | "percentPrice"
  | "sameOrder"
  | "recvWindow"
  | "reduceOnlyMargin"

/** `-2018` / `-2019`. */
export class InsufficientFunds extends Data.TaggedError("InsufficientFunds")<Base> {}

/** `-2011` (cancel of an unknown or closed order) / `-2013` (query of an unknown order). */
export class OrderNotFound extends Data.TaggedError("OrderNotFound")<Base> {}

/**
 * `-4116`: an order with this `newClientOrderId` exists. After an unknown outcome this means
 * the first send reached the venue: reconcile by client order id, never treat as a rejection.
 */
export class DuplicateClientOrderId extends Data.TaggedError("DuplicateClientOrderId")<Base> {}

/** `-4046` / `-4047` / `-4059` / `-4068`: a margin type or position mode change that was refused or not needed. */
export class AccountSettingRejected extends Data.TaggedError("AccountSettingRejected")<Base> {}

/**
 * The venue side failed or could not be reached. `mayHaveReached` is true when the request may
 * have been processed (503 "Unknown error…", `-1000`, `-1006`, `-1007`, a timeout, a reset after
 * sending, an unrecognised 5xx): a mutating call's outcome is then unknown and must be reconciled
 * (query by client order id), never resent. False for 503 "Service Unavailable." and `-1001`
 * ("Internal error; unable to process"), which the venue documents as certain failures.
 */
export class VenueUnavailable extends Data.TaggedError("VenueUnavailable")<Base & {
  readonly cause: "http" | "network" | "timeout" | "venue"
  readonly status: number | undefined
  readonly mayHaveReached: boolean
}> {}

/** A `code` not in the documented table: outcome unknown. */
export class UnknownVenueError extends Data.TaggedError("UnknownVenueError")<Base & { readonly status: number }> {}

/**
 * Venue input that failed to decode. `shape` is a short, bounded description of the offending
 * input for logs and metrics, never the whole payload.
 */
export class VenueDecodeError extends Data.TaggedError("VenueDecodeError")<{
  readonly source: string
  readonly reason: string
  readonly shape: string
}> {}

export type BinanceRestError =
  | RateLimited
  | Banned
  | Throttled
  | AuthenticationFailed
  | TimestampRejected
  | UnknownSymbol
  | InvalidArgument
  | OrderRejected
  | InsufficientFunds
  | OrderNotFound
  | DuplicateClientOrderId
  | AccountSettingRejected
  | VenueUnavailable
  | UnknownVenueError
  | VenueDecodeError

/** True when the call may or may not have taken effect at the venue: reconcile before acting. */
export const outcomeUnknown = (e: BinanceRestError): boolean =>
  (e._tag === "VenueUnavailable" && e.mayHaveReached) || e._tag === "UnknownVenueError" || e._tag === "VenueDecodeError"

/** True when the same request may be sent again later unchanged (after the error's wait). */
export const retryable = (e: BinanceRestError): boolean =>
  e._tag === "RateLimited" || e._tag === "Banned" || e._tag === "Throttled" || e._tag === "TimestampRejected" || (e._tag === "VenueUnavailable" && !e.mayHaveReached)

type Make = (b: Base) => BinanceRestError

const invalid = (field: InvalidField): Make => (b) => new InvalidArgument({ ...b, field })
const reject = (reason: RejectReason): Make => (b) => new OrderRejected({ ...b, reason })
const unavailable = (mayHaveReached: boolean): Make => (b) => new VenueUnavailable({ ...b, cause: "venue", status: undefined, mayHaveReached })

/**
 * Every documented code the adapter can meet (the venue's error list, /fapi order entry,
 * account and listenKey endpoints) → its typed error. `-1003` is handled by HTTP status first
 * (429/418); a `-1003` under another status is a rate limit.
 */
export const BINANCE_ERROR_CODES: Readonly<Record<number, Make>> = {
  [-1000]: unavailable(true), // UNKNOWN: "An unknown error occured while processing the request."
  [-1001]: unavailable(false), // DISCONNECTED: "Internal error; unable to process your request."
  [-1003]: (b) => new RateLimited({ ...b, limit: "weight", retryAfterMs: DEFAULT_RETRY_AFTER_MS }),
  [-1006]: unavailable(true), // UNEXPECTED_RESP: "execution status unknown"
  [-1007]: unavailable(true), // TIMEOUT: "execution status unknown"
  [-1008]: (b) => new Throttled(b),
  [-1015]: (b) => new RateLimited({ ...b, limit: "orders", retryAfterMs: DEFAULT_RETRY_AFTER_MS }),
  [-1021]: (b) => new TimestampRejected(b),
  [-1022]: (b) => new AuthenticationFailed(b),
  [-1100]: invalid("request"),
  [-1101]: invalid("request"),
  [-1102]: invalid("request"),
  [-1111]: invalid("precision"),
  [-1115]: invalid("timeInForce"),
  [-1116]: invalid("orderType"),
  [-1117]: invalid("side"),
  [-1121]: (b) => new UnknownSymbol(b),
  [-1125]: (b) => new AuthenticationFailed(b),
  [-1131]: invalid("request"), // BAD_RECV_WINDOW: recvWindow must be less than 60000
  [-2010]: reject("rejected"),
  [-2011]: (b) => new OrderNotFound(b),
  [-2013]: (b) => new OrderNotFound(b),
  [-2014]: (b) => new AuthenticationFailed(b),
  [-2015]: (b) => new AuthenticationFailed(b),
  [-2018]: (b) => new InsufficientFunds(b),
  [-2019]: (b) => new InsufficientFunds(b),
  [-2021]: reject("wouldTrigger"),
  [-2022]: reject("reduceOnly"),
  [-2025]: reject("maxOpenOrders"),
  [-2027]: reject("maxPosition"),
  [-4003]: invalid("quantity"),
  [-4004]: invalid("quantity"),
  [-4005]: invalid("quantity"),
  [-4013]: invalid("price"),
  [-4014]: invalid("price"),
  [-4015]: invalid("clientOrderId"),
  [-4016]: invalid("price"),
  [-4023]: invalid("quantity"),
  [-4024]: invalid("price"),
  [-4046]: (b) => new AccountSettingRejected(b),
  [-4047]: (b) => new AccountSettingRejected(b),
  [-4059]: (b) => new AccountSettingRejected(b),
  [-4061]: invalid("positionSide"),
  [-4068]: (b) => new AccountSettingRejected(b),
  [-4116]: (b) => new DuplicateClientOrderId(b),
  [-4118]: reject("reduceOnlyMargin"),
  [-4120]: invalid("conditional"), // STOP_ORDER_SWITCH_ALGO: conditional types go to /algoOrder
  [-4131]: reject("percentPrice"),
  [-4164]: reject("minNotional"),
  [-5021]: reject("fok"),
  [-5022]: reject("postOnly"),
  [-5027]: reject("sameOrder"),
  [-5028]: reject("recvWindow")
}

export interface ReplyInput {
  readonly endpoint: string
  readonly status: number
  /** The `Retry-After` header (seconds), when sent. */
  readonly retryAfter?: string | null | undefined
  /** The raw body text. */
  readonly body: string
  /** For `Banned.untilMs` when the body has no time: the local clock. */
  readonly now?: number
}

const parseBody = (body: string): { code: number | undefined; msg: string } => {
  try {
    const o: unknown = JSON.parse(body)
    if (typeof o === "object" && o !== null) {
      const { code, msg } = o as { code?: unknown; msg?: unknown }
      return { code: typeof code === "number" && Number.isSafeInteger(code) ? code : undefined, msg: typeof msg === "string" ? msg.slice(0, 300) : "" }
    }
  } catch {
    // not JSON: a proxy page or an empty body
  }
  return { code: undefined, msg: body.slice(0, 300) }
}

const retryAfterMs = (header: string | null | undefined, fallback: number): number => {
  const s = header == null ? NaN : Number(header)
  return Number.isFinite(s) && s >= 0 ? Math.ceil(s * 1000) : fallback
}

/** "…banned until 1764781234567…" → that time (ms). */
const bannedUntil = (msg: string): number | undefined => {
  const m = /banned until (\d{10,})/.exec(msg)
  return m === null ? undefined : Number(m[1])
}

/** A failed reply (any non-2xx, or a 2xx whose body is an error) → its typed error. */
export const errorFromReply = (r: ReplyInput): BinanceRestError => {
  const { code, msg } = parseBody(r.body)
  const base: Base = { endpoint: r.endpoint, code: code ?? 0, detail: msg }
  if (r.status === 418) {
    const until = bannedUntil(msg)
    const wait = retryAfterMs(r.retryAfter, until !== undefined && r.now !== undefined ? Math.max(0, until - r.now) : DEFAULT_BAN_MS)
    return new Banned({ ...base, untilMs: until ?? (r.now === undefined ? undefined : r.now + wait), retryAfterMs: wait })
  }
  if (r.status === 429) return new RateLimited({ ...base, limit: code === -1015 ? "orders" : "weight", retryAfterMs: retryAfterMs(r.retryAfter, DEFAULT_RETRY_AFTER_MS) })
  if (r.status >= 500) {
    // The 503 variants: "Unknown error, please check your request or try again later." (status
    // unknown, may have succeeded), "Service Unavailable." (100% failure), "Internal error; …"
    // (failure), -1008 (throttled, failure).
    if (code === -1008) return new Throttled(base)
    if (code === -1001 || /^Service Unavailable/i.test(msg) || /^Internal error; unable to process/i.test(msg)) {
      return new VenueUnavailable({ ...base, cause: "http", status: r.status, mayHaveReached: false })
    }
    return new VenueUnavailable({ ...base, cause: "http", status: r.status, mayHaveReached: true })
  }
  if (code !== undefined) {
    const make = BINANCE_ERROR_CODES[code]
    if (make !== undefined) {
      const e = make(base)
      return e._tag === "RateLimited" ? new RateLimited({ ...base, limit: e.limit, retryAfterMs: retryAfterMs(r.retryAfter, DEFAULT_RETRY_AFTER_MS) }) : e
    }
  }
  if (r.status === 401) return new AuthenticationFailed(base)
  return new UnknownVenueError({ ...base, status: r.status })
}

/** A request that got no reply: a timeout or a reset after sending may have reached the venue. */
export const networkError = (endpoint: string, cause: "network" | "timeout", detail: string, sent: boolean): VenueUnavailable =>
  new VenueUnavailable({ endpoint, code: 0, detail: detail.slice(0, 300), cause, status: undefined, mayHaveReached: sent || cause === "timeout" })

/** A bounded description of an input for error reports: its kind, length and first characters. */
export const shapeOf = (input: unknown): string => {
  if (typeof input === "string") return `string(${input.length}) ${JSON.stringify(input.slice(0, 80))}`
  if (input === null) return "null"
  if (Array.isArray(input)) return `array(${input.length})`
  if (typeof input === "object") return `object{${Object.keys(input).slice(0, 12).join(",")}}`
  return typeof input
}
