import { Schema } from "effect"

/**
 * `GET /api/risk`: the portfolio risk monitor's limits, figures and headroom per account and
 * firm-wide, with the newest alerts (docs/portfolio-risk.md). Figures are numbers in the quote
 * currency (null while unknown: no history, no portfolio value); money that is compared exactly
 * (the day's loss and its limit) is decimal text.
 */
const N = Schema.NullOr(Schema.Number)
const Flags = Schema.Struct({ portfolioVar: Schema.Boolean, portfolioStress: Schema.Boolean, lossBreaker: Schema.Boolean })

export const RiskScopeSchema = Schema.Struct({
  scope: Schema.String,
  at: Schema.Number,
  portfolioValue: Schema.NullOr(Schema.String),
  observations: Schema.Number,
  enforced: Schema.Boolean,
  var99: N,
  var95: N,
  es99: N,
  es95: N,
  parametricVar99: N,
  parametricVar95: N,
  stressLoss: Schema.Number,
  worstScenario: Schema.NullOr(Schema.String),
  scenarios: Schema.Array(Schema.Struct({ name: Schema.String, pnl: Schema.Number })),
  gross: Schema.Number,
  net: Schema.Number,
  dayLoss: Schema.String,
  limits: Schema.Struct({ var: N, stress: N, loss: Schema.NullOr(Schema.String) }),
  headroom: Schema.Struct({ var: N, stress: N, loss: Schema.NullOr(Schema.String) }),
  breached: Flags,
  evalMs: Schema.Number
})
export type RiskScopeView = typeof RiskScopeSchema.Type

export const AlertViewSchema = Schema.Struct({
  id: Schema.String,
  at: Schema.Number,
  rule: Schema.String,
  severity: Schema.Literal("info", "warning", "high", "critical"),
  cause: Schema.String,
  scope: Schema.String,
  change: Schema.Literal("raised", "lifted", "threshold", "fault"),
  text: Schema.String
})

export const RiskViewSchema = Schema.Struct({
  enabled: Schema.Boolean,
  settings: Schema.NullOr(
    Schema.Struct({
      everyMs: Schema.Number,
      window: Schema.Number,
      returnIntervalMs: Schema.Number,
      minHistory: Schema.Number,
      varLimit: Schema.String,
      stressLimit: Schema.String,
      lossLimit: Schema.String,
      hysteresis: Schema.String,
      cancelOnBreaker: Schema.Boolean
    })
  ),
  evaluations: Schema.Number,
  scopes: Schema.Array(RiskScopeSchema),
  alerts: Schema.Array(AlertViewSchema),
  webhooks: Schema.Array(
    Schema.Struct({ name: Schema.String, queued: Schema.Number, inFlight: Schema.Boolean, delivered: Schema.Number, failedAttempts: Schema.Number, gaveUp: Schema.Number, dropped: Schema.Number })
  )
})
export type RiskView = typeof RiskViewSchema.Type
