import { Schema } from "effect"
import { AccountId, DecimalFromString, FillId, InstrumentId } from "../schema.js"
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
  settlementPrice: optional(DecimalFromString)
})
export type PositionChanged = typeof PositionChanged.Type
