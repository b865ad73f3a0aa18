import { Schema } from "effect"
import {
  AccountId,
  ClientOrderId,
  DecimalFromString,
  FillId,
  InstrumentId,
  Liquidity,
  OrderType,
  Side,
  StrategyId,
  Text,
  Timestamp,
  VenueOrderId
} from "../schema.js"
import { envelope, optional } from "./envelope.js"

/**
 * The order lifecycle as facts: what we sent and what the venue answered, normalized.
 * These drive the order machine. Topic `orders`, keyed by `account/instrument`.
 */

const orderRef = {
  ...envelope,
  account: AccountId,
  instrument: InstrumentId,
  clientOrderId: ClientOrderId
} as const

/** The order was sent to the venue (after its intent was approved and journaled). */
export const OrderSubmitted = Schema.TaggedStruct("OrderSubmitted", {
  ...orderRef,
  strategy: StrategyId,
  side: Side,
  orderType: OrderType,
  qty: DecimalFromString,
  price: optional(DecimalFromString),
  triggerPrice: optional(DecimalFromString),
  reduceOnly: Schema.Boolean
})
export type OrderSubmitted = typeof OrderSubmitted.Type

export const OrderAccepted = Schema.TaggedStruct("OrderAccepted", {
  ...orderRef,
  venueOrderId: VenueOrderId,
  venueTs: optional(Timestamp)
})
export type OrderAccepted = typeof OrderAccepted.Type

/** The venue refused the order; `reason` is the venue's own text/code. */
export const OrderRejected = Schema.TaggedStruct("OrderRejected", {
  ...orderRef,
  reason: Text,
  venueTs: optional(Timestamp)
})
export type OrderRejected = typeof OrderRejected.Type

/** The order now has these values (absent: unchanged). */
export const OrderModified = Schema.TaggedStruct("OrderModified", {
  ...orderRef,
  venueOrderId: optional(VenueOrderId),
  qty: optional(DecimalFromString),
  price: optional(DecimalFromString),
  triggerPrice: optional(DecimalFromString),
  venueTs: optional(Timestamp)
})
export type OrderModified = typeof OrderModified.Type

export const OrderModifyRejected = Schema.TaggedStruct("OrderModifyRejected", {
  ...orderRef,
  reason: Text,
  venueTs: optional(Timestamp)
})
export type OrderModifyRejected = typeof OrderModifyRejected.Type

export const OrderCancelRequested = Schema.TaggedStruct("OrderCancelRequested", {
  ...orderRef,
  venueOrderId: optional(VenueOrderId)
})
export type OrderCancelRequested = typeof OrderCancelRequested.Type

export const OrderCanceled = Schema.TaggedStruct("OrderCanceled", {
  ...orderRef,
  venueOrderId: optional(VenueOrderId),
  /** Why, when the venue canceled on its own (e.g. post-only would cross, self-trade). */
  reason: optional(Text),
  venueTs: optional(Timestamp)
})
export type OrderCanceled = typeof OrderCanceled.Type

export const OrderCancelRejected = Schema.TaggedStruct("OrderCancelRejected", {
  ...orderRef,
  reason: Text,
  venueTs: optional(Timestamp)
})
export type OrderCancelRejected = typeof OrderCancelRejected.Type

export const OrderExpired = Schema.TaggedStruct("OrderExpired", {
  ...orderRef,
  venueOrderId: optional(VenueOrderId),
  venueTs: optional(Timestamp)
})
export type OrderExpired = typeof OrderExpired.Type

/** One execution. `fillId` is unique per venue; a second fill with the same id is a duplicate. */
export const OrderFilled = Schema.TaggedStruct("OrderFilled", {
  ...orderRef,
  venueOrderId: VenueOrderId,
  fillId: FillId,
  side: Side,
  price: DecimalFromString,
  qty: DecimalFromString,
  /** Positive is paid, negative is a rebate. */
  fee: DecimalFromString,
  feeCurrency: Schema.String,
  liquidity: Liquidity,
  venueTs: optional(Timestamp),
  /** A fill the venue made on its own order: its liquidation engine closing our position. */
  fillType: optional(Schema.Literal("liquidation"))
})
export type OrderFilled = typeof OrderFilled.Type

export const OrderEvent = Schema.Union(
  OrderSubmitted,
  OrderAccepted,
  OrderRejected,
  OrderModified,
  OrderModifyRejected,
  OrderCancelRequested,
  OrderCanceled,
  OrderCancelRejected,
  OrderExpired,
  OrderFilled
)
export type OrderEvent = typeof OrderEvent.Type
