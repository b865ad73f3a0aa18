import { Schema } from "effect"
import { AccountId } from "../schema.js"
import { envelope } from "./envelope.js"

/**
 * Requests to a venue's private API. Topic `orders`, keyed by account (one venue budget per
 * account): the risk actor journals one when it reserves a request's cost, immediately before the
 * request is sent, so after a restart the budget spent in the venue's current window is known
 * (the ledger folds these; the rate limiter starts from them).
 */

/**
 * A request as the venue bills it: `fillsBefore` is Kraken's `fills` with `lastFillTime` (25, not 2).
 * The last five are Binance's (an order by client order id, the account, the REST depth snapshot
 * of a resync, exchange info, the listen key's keep-alive): Binance bills its request weight per
 * IP for public calls too (domain/venue-rates.ts has each venue's costs).
 */
export const VenueCall = Schema.Literal(
  "sendorder",
  "editorder",
  "cancelorder",
  "cancelallorders",
  "cancelallordersafter",
  "openorders",
  "openpositions",
  "fills",
  "fillsBefore",
  "orderStatus",
  "account",
  "depthSnapshot",
  "exchangeInfo",
  "listenKey"
)
export type VenueCall = typeof VenueCall.Type

export const VenueRequestSent = Schema.TaggedStruct("VenueRequestSent", {
  ...envelope,
  account: AccountId,
  call: VenueCall,
  /**
   * In the venue's own units of its first budget (Kraken: cost of the shared 500-per-10 s budget;
   * Binance: request weight). A restart recomputes every budget's cost from `call`.
   */
  cost: Schema.Int.pipe(Schema.between(0, 1_000_000))
})
export type VenueRequestSent = typeof VenueRequestSent.Type
