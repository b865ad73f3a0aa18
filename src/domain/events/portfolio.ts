import { Schema } from "effect"
import { AccountId, DecimalFromString, FillId, InstrumentId, Timestamp } from "../schema.js"
import { envelope, optional } from "./envelope.js"

/** The position of one account in one instrument after a change. Topic `orders`. */
export const PositionChanged = Schema.TaggedStruct("PositionChanged", {
  ...envelope,
  account: AccountId,
  instrument: InstrumentId,
  /** Signed: positive long, negative short, zero flat. */
  qty: DecimalFromString,
  /** Average entry price of the open quantity (zero when flat). */
  avgPrice: DecimalFromString,
  realizedPnl: DecimalFromString,
  unrealizedPnl: optional(DecimalFromString),
  /** The fill that caused the change, absent for reconciliation, settlement or mark updates. */
  fillId: optional(FillId),
  /**
   * A dated contract settled by the venue: the venue's booking id (dedupe) and the settlement
   * price the open quantity was closed at. The fold applies `settlePosition` with that price.
   */
  settlementId: optional(Schema.String.pipe(Schema.minLength(1), Schema.maxLength(128))),
  settlementPrice: optional(DecimalFromString),
  /** Funding realized on this position so far (positive: received, negative: paid); absent before any. */
  funding: optional(DecimalFromString)
})
export type PositionChanged = typeof PositionChanged.Type

/**
 * One funding payment the venue booked on a perpetual position (its account log's `funding rate
 * change` entry). Signed in the settlement currency: positive received, negative paid. Topic
 * `orders`, keyed like the position; `bookingId` is the venue's id of the entry (dedupe key).
 */
export const FundingPaid = Schema.TaggedStruct("FundingPaid", {
  ...envelope,
  account: AccountId,
  instrument: InstrumentId,
  amount: DecimalFromString,
  /** The venue's funding rate for the period, as it gives it (absolute, per contract), when it does. */
  rate: optional(DecimalFromString),
  bookingId: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(128)),
  venueTs: optional(Timestamp)
})
export type FundingPaid = typeof FundingPaid.Type
