import { Schema } from "effect"
import { AccountId, ClientOrderId, DecimalFromString, InstrumentId, Text, Timestamp } from "../schema.js"
import { envelope, EventId, optional } from "./envelope.js"
import { IntentKind } from "./intents.js"

/** Decisions of an account's risk actor, and its trading state. Topic `orders`. */

/** Why an intent was denied. One code per check, so denials can be counted and alerted on. */
export const RiskReason = Schema.Literal(
  "TRADING_HALTED",
  "REDUCE_ONLY",
  "UNKNOWN_INSTRUMENT",
  "NOT_TRADABLE",
  "PRICE_NOT_ON_TICK",
  "QTY_NOT_ON_LOT",
  "QTY_BELOW_MIN",
  "QTY_ABOVE_MAX",
  "MAX_ORDER_QTY",
  "MAX_NOTIONAL",
  "PRICE_BAND",
  "MAX_POSITION",
  "MAX_GROSS_EXPOSURE",
  "MAX_NET_EXPOSURE",
  "MAX_OPEN_ORDERS",
  "DAILY_LOSS_LIMIT",
  "SELF_TRADE",
  "DUPLICATE_CLIENT_ORDER_ID",
  "RATE_LIMIT",
  "STRATEGY_RATE_LIMIT",
  /** The order's initial margin exceeds the available margin risk sees (venue figure less our unconfirmed orders). */
  "INSUFFICIENT_MARGIN",
  /** Margin checks are on and the venue has not told us the account's available margin (or it is stale). */
  "MARGIN_UNKNOWN",
  /** The venue answered 429 (too many requests): nothing is sent on that budget until the back-off ends. */
  "RATE_LIMIT_BACKOFF",
  /** The venue answered 418: the address is banned until a time; nothing is sent to that venue from it. */
  "VENUE_BANNED"
)
export type RiskReason = typeof RiskReason.Type

/** Which intent a decision is about; `clientOrderId` is absent only for CancelAll. */
const decisionFields = {
  ...envelope,
  account: AccountId,
  /** The `id` of the intent event. */
  intentId: EventId,
  intent: IntentKind,
  instrument: optional(InstrumentId),
  clientOrderId: optional(ClientOrderId)
} as const

export const RiskApproved = Schema.TaggedStruct("RiskApproved", decisionFields)
export type RiskApproved = typeof RiskApproved.Type

export const RiskDenied = Schema.TaggedStruct("RiskDenied", {
  ...decisionFields,
  reason: RiskReason,
  /** The limit that was hit and the value that hit it, when the check compares numbers. */
  limit: optional(DecimalFromString),
  actual: optional(DecimalFromString),
  /** The rate budget a rate denial is about (`cost`, `weight1m`, `orders10s`, `orders1m`). */
  budget: optional(Schema.String),
  detail: Text
})
export type RiskDenied = typeof RiskDenied.Type

/** The risk trading state: `halted` denies submits and modifies; cancels always pass. */
export const TradingState = Schema.Literal("active", "reducing", "halted")
export type TradingState = typeof TradingState.Type

/**
 * Why an account is not fully active: the operator's own decision, or an automatic cause (see
 * `machines/trading-state.machine.ts`). The effective state is the most restrictive active cause.
 */
export const TradingCause = Schema.Literal("operator", "journal", "audit", "dailyLoss", "reconciliation", "venueBan", "portfolioVar", "portfolioStress", "lossBreaker")
export type TradingCause = typeof TradingCause.Type

/**
 * One cause raised or lifted, with the effective state before (`from`) and after (`to`) — they
 * are equal when another cause still holds the account. Records written before causes existed
 * carry no `cause`: they are read as the operator's (or, by `by`, an automatic) decision.
 */
export const TradingStateChanged = Schema.TaggedStruct("TradingStateChanged", {
  ...envelope,
  account: AccountId,
  from: TradingState,
  to: TradingState,
  /** `operator:<name>` or the limit/actor that caused it. */
  by: Schema.String,
  why: Text,
  cause: optional(TradingCause),
  change: optional(Schema.Literal("raised", "lifted")),
  /** What the cause restricts to (`active` when lifted). */
  level: optional(TradingState),
  /** When the cause was raised (epoch ms); kept across restarts for the operator's. */
  since: optional(Timestamp)
})
export type TradingStateChanged = typeof TradingStateChanged.Type

export const RiskEvent = Schema.Union(RiskApproved, RiskDenied, TradingStateChanged)
export type RiskEvent = typeof RiskEvent.Type
