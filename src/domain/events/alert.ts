import { Schema } from "effect"
import { envelope, optional } from "./envelope.js"

/**
 * An alert sent to its channels (docs/portfolio-risk.md, "Alerts"): which rule fired, how severe,
 * for which cause and scope (an account, `firm`, a strategy), and what happened. Journaled (topic
 * `control`) when it fires, before any channel delivers it; delivery is best effort after that.
 */
export const AlertRaised = Schema.TaggedStruct("AlertRaised", {
  ...envelope,
  rule: Schema.String.pipe(Schema.maxLength(64)),
  severity: Schema.Literal("info", "warning", "high", "critical"),
  cause: Schema.String.pipe(Schema.maxLength(64)),
  scope: Schema.String.pipe(Schema.maxLength(256)),
  change: Schema.Literal("raised", "lifted", "threshold", "fault"),
  text: Schema.String.pipe(Schema.maxLength(1024)),
  /** Figure / limit, for threshold alerts of the portfolio risk monitor. */
  utilization: optional(Schema.Number)
})
export type AlertRaised = typeof AlertRaised.Type
