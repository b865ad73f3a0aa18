import { Schema } from "effect"
import { DecimalFromString, FiniteNumber, InstrumentId, StrategyId } from "../schema.js"
import { envelope, optional } from "./envelope.js"

/**
 * A named figure a strategy records (signal, fair value, inventory). Money and prices go as
 * decimal text (a `Decimal` in memory), plain metrics as numbers. Topic `strategy`.
 */
export const StrategyRecord = Schema.TaggedStruct("StrategyRecord", {
  ...envelope,
  strategy: StrategyId,
  name: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(128)),
  value: Schema.Union(FiniteNumber, DecimalFromString),
  instrument: optional(InstrumentId)
})
export type StrategyRecord = typeof StrategyRecord.Type
