import { Data } from "effect"

/**
 * Everything that can go wrong talking to Kraken Futures, as tagged values. Nothing here is
 * thrown across the adapter boundary: REST calls fail in the Effect error channel, the WS
 * clients report through their signal callback and count in their `DecodeStats`.
 */

/** `apiLimitExceeded` or HTTP 429: the shared 500-per-10 s budget is spent. Retry later. */
export class RateLimited extends Data.TaggedError("RateLimited")<{ readonly endpoint: string; readonly detail: string }> {}

/** `authenticationError`, HTTP 401/403, or a WS challenge the venue refused. */
export class AuthenticationFailed extends Data.TaggedError("AuthenticationFailed")<{ readonly endpoint: string; readonly detail: string }> {}

/** `nonceBelowThreshold` / `nonceDuplicate`: the request was refused; a fresh nonce may succeed. */
export class NonceRejected extends Data.TaggedError("NonceRejected")<{ readonly endpoint: string; readonly detail: string }> {}

export class AccountInactive extends Data.TaggedError("AccountInactive")<{ readonly endpoint: string; readonly detail: string }> {}

export class InsufficientFunds extends Data.TaggedError("InsufficientFunds")<{ readonly endpoint: string; readonly detail: string }> {}

/** `invalidArgument` / `requiredArgumentMissing`: our request was wrong; do not retry as is. */
export class InvalidArgument extends Data.TaggedError("InvalidArgument")<{ readonly endpoint: string; readonly detail: string }> {}

export class MarketUnavailable extends Data.TaggedError("MarketUnavailable")<{ readonly endpoint: string; readonly detail: string }> {}

export class NotFound extends Data.TaggedError("NotFound")<{ readonly endpoint: string; readonly detail: string }> {}

/**
 * A resend recognised by the venue: an order with this `cliOrdId` already exists. After a
 * crash this means the first send did reach the venue; reconcile instead of rejecting.
 */
export class DuplicateClientOrderId extends Data.TaggedError("DuplicateClientOrderId")<{ readonly endpoint: string; readonly clientOrderId: string }> {}

/**
 * HTTP 5xx, `Server Error`, `Unavailable`, a network failure or a timeout. `mayHaveReached`
 * is true when the request may have been processed (timeout, reset after sending, 5xx), so
 * the outcome of a mutating call is unknown and must be reconciled.
 */
export class VenueUnavailable extends Data.TaggedError("VenueUnavailable")<{
  readonly endpoint: string
  readonly cause: "http" | "network" | "timeout" | "venue"
  readonly status?: number
  readonly detail: string
  readonly mayHaveReached: boolean
}> {}

/** `unknownError`, or an `error` value not in the documented table: outcome unknown. */
export class UnknownVenueError extends Data.TaggedError("UnknownVenueError")<{ readonly endpoint: string; readonly error: string }> {}

/** A well-formed reply whose status value is not in our table: outcome unknown. */
export class UnexpectedStatus extends Data.TaggedError("UnexpectedStatus")<{ readonly endpoint: string; readonly field: string; readonly status: string }> {}

/**
 * Venue input that failed to decode (JSON syntax or Schema). `shape` is a short, bounded
 * description of the offending input for logs and metrics, never the whole payload.
 */
export class VenueDecodeError extends Data.TaggedError("VenueDecodeError")<{
  readonly source: string
  readonly reason: string
  readonly shape: string
}> {}

export type KrakenRestError =
  | RateLimited
  | AuthenticationFailed
  | NonceRejected
  | AccountInactive
  | InsufficientFunds
  | InvalidArgument
  | MarketUnavailable
  | NotFound
  | DuplicateClientOrderId
  | VenueUnavailable
  | UnknownVenueError
  | UnexpectedStatus
  | VenueDecodeError

/** True when the call may or may not have taken effect at the venue: reconcile before acting. */
export const outcomeUnknown = (e: KrakenRestError): boolean =>
  (e._tag === "VenueUnavailable" && e.mayHaveReached) || e._tag === "UnknownVenueError" || e._tag === "UnexpectedStatus" || e._tag === "VenueDecodeError"

/** A bounded description of an input for error reports: its kind, length and first characters. */
export const shapeOf = (input: unknown): string => {
  if (typeof input === "string") return `string(${input.length}) ${JSON.stringify(input.slice(0, 80))}`
  if (input === null) return "null"
  if (Array.isArray(input)) return `array(${input.length})`
  if (typeof input === "object") return `object{${Object.keys(input).slice(0, 12).join(",")}}`
  return typeof input
}
