import { Schema } from "effect"
import { AccountId } from "../schema.js"
import { envelope } from "./envelope.js"

/**
 * Requests to a venue's private API. Topic `orders`, keyed by account (one venue budget per
 * account): the risk actor journals one when it reserves a request's cost, immediately before the
 * request is sent, so after a restart the budget spent in the venue's current window is known
 * (the ledger folds these; the rate limiter starts from them).
 */

/** A private endpoint as the venue bills it: `fillsBefore` is Kraken's `fills` with `lastFillTime` (25, not 2). */
export const VenueCall = Schema.Literal(
  "sendorder",
  "editorder",
  "cancelorder",
  "cancelallorders",
  "cancelallordersafter",
  "openorders",
  "openpositions",
  "fills",
  "fillsBefore"
)
export type VenueCall = typeof VenueCall.Type

export const VenueRequestSent = Schema.TaggedStruct("VenueRequestSent", {
  ...envelope,
  account: AccountId,
  call: VenueCall,
  /** In the venue's own units (Kraken: cost of the shared 500-per-10 s budget). */
  cost: Schema.Int.pipe(Schema.between(0, 1_000_000))
})
export type VenueRequestSent = typeof VenueRequestSent.Type
