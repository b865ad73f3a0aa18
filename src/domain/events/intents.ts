import { Schema } from "effect"
import { AccountId, ClientOrderId, DecimalFromString, InstrumentId, OrderType, Side, StrategyId } from "../schema.js"
import { envelope, optional } from "./envelope.js"

/**
 * What a strategy (or the operator) wants done to orders. Every intent goes to the account's
 * risk actor and is journaled, with its decision, before anything reaches the venue.
 * Topic `orders`, keyed by `account/instrument`.
 */

export const SubmitOrder = Schema.TaggedStruct("SubmitOrder", {
  ...envelope,
  account: AccountId,
  strategy: StrategyId,
  instrument: InstrumentId,
  clientOrderId: ClientOrderId,
  side: Side,
  orderType: OrderType,
  qty: DecimalFromString,
  /** Limit price; absent for market and pure stop orders. */
  price: optional(DecimalFromString),
  /** Trigger price of stop and takeProfit orders. */
  triggerPrice: optional(DecimalFromString),
  reduceOnly: Schema.Boolean
})
export type SubmitOrder = typeof SubmitOrder.Type

/** Changes price and/or quantity of a live order; absent fields stay as they are. */
export const ModifyOrder = Schema.TaggedStruct("ModifyOrder", {
  ...envelope,
  account: AccountId,
  strategy: StrategyId,
  instrument: InstrumentId,
  clientOrderId: ClientOrderId,
  qty: optional(DecimalFromString),
  price: optional(DecimalFromString),
  triggerPrice: optional(DecimalFromString)
})
export type ModifyOrder = typeof ModifyOrder.Type

export const CancelOrder = Schema.TaggedStruct("CancelOrder", {
  ...envelope,
  account: AccountId,
  strategy: StrategyId,
  instrument: InstrumentId,
  clientOrderId: ClientOrderId
})
export type CancelOrder = typeof CancelOrder.Type

/** Cancels every open order of the account, narrowed by instrument and/or strategy when given. */
export const CancelAll = Schema.TaggedStruct("CancelAll", {
  ...envelope,
  account: AccountId,
  instrument: optional(InstrumentId),
  strategy: optional(StrategyId)
})
export type CancelAll = typeof CancelAll.Type

export const OrderIntent = Schema.Union(SubmitOrder, ModifyOrder, CancelOrder, CancelAll)
export type OrderIntent = typeof OrderIntent.Type

export const IntentKind = Schema.Literal("SubmitOrder", "ModifyOrder", "CancelOrder", "CancelAll")
export type IntentKind = typeof IntentKind.Type
