import { Schema } from "effect"
import { AlertRaised } from "./alert.js"
import { Halt, ReduceOnly, Resume, StrategyCommand } from "./control.js"
import { CancelAll, CancelOrder, ModifyOrder, SubmitOrder } from "./intents.js"
import { BookDelta, BookSnapshot, Ticker, Trade } from "./market.js"
import {
  OrderAccepted,
  OrderCanceled,
  OrderCancelRejected,
  OrderCancelRequested,
  OrderExpired,
  OrderFilled,
  OrderModified,
  OrderModifyRejected,
  OrderRejected,
  OrderSubmitted
} from "./orders.js"
import { OperatorAction } from "./operator.js"
import { FundingPaid, PositionChanged } from "./portfolio.js"
import { ReconciliationNeeded } from "./reconciliation.js"
import { RiskApproved, RiskDenied, TradingStateChanged } from "./risk.js"
import { StrategyRecord } from "./strategy.js"
import { VenueRequestSent } from "./venue.js"

export * from "./alert.js"
export * from "./control.js"
export * from "./envelope.js"
export * from "./intents.js"
export * from "./market.js"
export * from "./operator.js"
export * from "./orders.js"
export * from "./portfolio.js"
export * from "./reconciliation.js"
export * from "./risk.js"
export * from "./strategy.js"
export * from "./venue.js"

/** Every canonical event schema by its `_tag`; the codec dispatches on this table. */
export const eventSchemas = {
  BookSnapshot,
  BookDelta,
  Trade,
  Ticker,
  SubmitOrder,
  ModifyOrder,
  CancelOrder,
  CancelAll,
  RiskApproved,
  RiskDenied,
  TradingStateChanged,
  OrderSubmitted,
  OrderAccepted,
  OrderRejected,
  OrderModified,
  OrderModifyRejected,
  OrderCancelRequested,
  OrderCanceled,
  OrderCancelRejected,
  OrderExpired,
  OrderFilled,
  PositionChanged,
  FundingPaid,
  StrategyRecord,
  Halt,
  ReduceOnly,
  Resume,
  StrategyCommand,
  OperatorAction,
  ReconciliationNeeded,
  VenueRequestSent,
  AlertRaised
} as const

export type EventTag = keyof typeof eventSchemas
export const eventTags = Object.keys(eventSchemas) as ReadonlyArray<EventTag>

/** Every canonical event: the union of the table above (one list to keep, in one place). */
type EventSchema = (typeof eventSchemas)[EventTag]
export const CanonicalEvent = Schema.Union(...(Object.values(eventSchemas) as [EventSchema, EventSchema, ...EventSchema[]]))
export type CanonicalEvent = typeof CanonicalEvent.Type
/** The wire form: Decimals as text, JSON- and msgpack-safe. */
export type CanonicalEventEncoded = typeof CanonicalEvent.Encoded
export type EventOf<T extends EventTag> = Extract<CanonicalEvent, { readonly _tag: T }>

/** Journal topic (without prefix) of each event; see the architecture page. */
export type Topic = "md" | "orders" | "strategy" | "control"
export const topicOf: { readonly [T in EventTag]: Topic } = {
  BookSnapshot: "md",
  BookDelta: "md",
  Trade: "md",
  Ticker: "md",
  SubmitOrder: "orders",
  ModifyOrder: "orders",
  CancelOrder: "orders",
  CancelAll: "orders",
  RiskApproved: "orders",
  RiskDenied: "orders",
  TradingStateChanged: "orders",
  OrderSubmitted: "orders",
  OrderAccepted: "orders",
  OrderRejected: "orders",
  OrderModified: "orders",
  OrderModifyRejected: "orders",
  OrderCancelRequested: "orders",
  OrderCanceled: "orders",
  OrderCancelRejected: "orders",
  OrderExpired: "orders",
  OrderFilled: "orders",
  PositionChanged: "orders",
  FundingPaid: "orders",
  StrategyRecord: "strategy",
  Halt: "control",
  ReduceOnly: "control",
  Resume: "control",
  StrategyCommand: "control",
  OperatorAction: "control",
  ReconciliationNeeded: "orders",
  VenueRequestSent: "orders",
  AlertRaised: "control"
}
