import { Schema } from "effect"
import { AccountId, FiniteNumber, StrategyId, Text } from "../schema.js"
import { envelope, optional } from "./envelope.js"

/**
 * Operator actions from the control API or the CLI. `who` is the authenticated operator,
 * `why` is mandatory so the audit trail says why trading stopped. Topic `control`.
 * Absent `account` means every account.
 */
const operatorAction = {
  ...envelope,
  account: optional(AccountId),
  who: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(128)),
  why: Text
} as const

/** Kill switch: deny submits and modifies, let cancels through. */
export const Halt = Schema.TaggedStruct("Halt", operatorAction)
export type Halt = typeof Halt.Type

/** Only orders that reduce a position are allowed. */
export const ReduceOnly = Schema.TaggedStruct("ReduceOnly", operatorAction)
export type ReduceOnly = typeof ReduceOnly.Type

export const Resume = Schema.TaggedStruct("Resume", operatorAction)
export type Resume = typeof Resume.Type

export const StrategyCommandKind = Schema.Literal("start", "stop", "restart", "reconfigure")
export type StrategyCommandKind = typeof StrategyCommandKind.Type

/** A parameter value for `reconfigure`; money parameters are passed as decimal text. */
export const ParamValue = Schema.Union(Schema.String, FiniteNumber, Schema.Boolean)

/**
 * A parameter name: an identifier. Names such as `__proto__` would not survive decoding into a
 * plain object (and invite prototype pollution), so they are refused at the edge.
 */
export const ParamName = Schema.String.pipe(Schema.pattern(/^[A-Za-z][A-Za-z0-9_.-]{0,63}$/)).annotations({ description: "a parameter name: a letter, then letters, digits, _ . -" })

export const StrategyCommand = Schema.TaggedStruct("StrategyCommand", {
  ...envelope,
  strategy: StrategyId,
  command: StrategyCommandKind,
  params: optional(Schema.Record({ key: ParamName, value: ParamValue })),
  who: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(128)),
  why: Text
})
export type StrategyCommand = typeof StrategyCommand.Type


export const ControlEvent = Schema.Union(Halt, ReduceOnly, Resume, StrategyCommand)
export type ControlEvent = typeof ControlEvent.Type
