import { Schema } from "effect"
import type { Decimal } from "../../domain/decimal.js"
import { DecimalFromString } from "../../domain/schema.js"
import type { StressScenario } from "../../domain/portfolio-risk/index.js"

/**
 * Config key `portfolioRisk` (docs/portfolio-risk.md). Absent: no monitor. Fractions are decimal
 * text of the portfolio value ("0.02" = 2 %); checked by `checkPortfolioRisk` (a bad value is a
 * ConfigError naming its key path).
 */
const optional = <S extends Schema.Schema.Any>(schema: S) => Schema.optionalWith(schema, { exact: true })
const withDefault = <S extends Schema.Schema.AnyNoContext>(schema: S, value: () => Schema.Schema.Type<S>) => Schema.optionalWith(schema, { exact: true, default: value })
const PositiveInt = Schema.Int.pipe(Schema.positive()).annotations({ description: "a positive integer" })
const PositiveNumber = Schema.Number.pipe(Schema.positive(), Schema.finite()).annotations({ description: "a positive number" })
const Shock = Schema.Number.pipe(Schema.between(-1, 10)).annotations({ description: "a price change as a fraction, -1..10 (-0.1 = -10 %)" })
const Name = Schema.String.pipe(Schema.minLength(1), Schema.maxLength(64)).annotations({ description: "a name of 1..64 characters" })

export const StressScenarioConfig = Schema.Union(
  Schema.Struct({ name: Name, kind: Schema.Literal("uniform"), shock: Shock }),
  Schema.Struct({ name: Name, kind: Schema.Literal("perAsset"), shocks: Schema.Record({ key: Schema.String, value: Shock }), otherwise: optional(Shock) }),
  Schema.Struct({ name: Name, kind: Schema.Literal("volatility"), factor: PositiveNumber }),
  Schema.Struct({ name: Name, kind: Schema.Literal("venueDown"), venue: Name, move: optional(Schema.Number.pipe(Schema.between(0, 1))) })
)

export const DEFAULT_SCENARIOS: ReadonlyArray<StressScenario> = [
  { name: "every price -10%", kind: "uniform", shock: -0.1 },
  { name: "BTC -20%, alts -30%", kind: "perAsset", shocks: { XBT: -0.2, BTC: -0.2 }, otherwise: -0.3 },
  { name: "volatility x3", kind: "volatility", factor: 3 },
  { name: "kraken-futures down", kind: "venueDown", venue: "kraken-futures" }
]

export const PortfolioRiskConfig = Schema.Struct({
  /** Evaluation cadence, ms (also after fills, at most this often). */
  everyMs: withDefault(PositiveInt, () => 1000),
  /** Returns kept in the window. */
  window: withDefault(PositiveInt, () => 250),
  /** Length of one return, seconds (3600: hourly returns; 86400: daily). Scaled to 1 day by √(86400 / this). */
  returnIntervalSeconds: withDefault(PositiveNumber, () => 3600),
  /** Returns needed before VaR is enforced. */
  minHistory: withDefault(PositiveInt, () => 24),
  /** 1-day 99 % historical VaR limit, fraction of portfolio value. */
  varLimit: optional(DecimalFromString),
  /** Worst stress loss limit, fraction of portfolio value. */
  stressLimit: optional(DecimalFromString),
  /** Day's loss that trips the circuit breaker (halt), fraction of portfolio value. */
  lossLimit: optional(DecimalFromString),
  /** A raised limit lifts once its figure is below limit × (1 − hysteresis). */
  hysteresis: optional(DecimalFromString),
  /** Cancel every open order when the breaker trips. */
  cancelOnBreaker: withDefault(Schema.Boolean, () => true),
  /** Portfolio value when the venue reports no equity (quote currency). */
  portfolioValue: optional(DecimalFromString),
  scenarios: optional(Schema.Array(StressScenarioConfig))
})
export type PortfolioRiskConfigFile = typeof PortfolioRiskConfig.Type

export interface PortfolioRiskSettings {
  readonly everyMs: number
  readonly window: number
  readonly returnIntervalMs: number
  readonly minHistory: number
  readonly varLimit: Decimal
  readonly stressLimit: Decimal
  readonly lossLimit: Decimal
  readonly hysteresis: Decimal
  readonly cancelOnBreaker: boolean
  readonly portfolioValue: Decimal | undefined
  readonly scenarios: ReadonlyArray<StressScenario>
}

export const PORTFOLIO_RISK_DEFAULTS = { varLimit: "0.02", stressLimit: "0.05", lossLimit: "0.02", hysteresis: "0.1" } as const

/** The settings, or the first bad key (path under `portfolioRisk`, and why). */
export const checkPortfolioRisk = (c: PortfolioRiskConfigFile, of: (text: string) => Decimal): PortfolioRiskSettings | { readonly path: string; readonly reason: string } => {
  const bad = (key: string, reason: string) => ({ path: `portfolioRisk.${key}`, reason })
  const fractions = {} as Record<keyof typeof PORTFOLIO_RISK_DEFAULTS, Decimal>
  for (const key of ["varLimit", "stressLimit", "lossLimit"] as const) {
    const v = c[key] ?? of(PORTFOLIO_RISK_DEFAULTS[key])
    if (!(v.greaterThan(0) && v.lessThanOrEqualTo(1))) return bad(key, `expected a fraction of the portfolio value in (0, 1], got ${v.toString()}`)
    fractions[key] = v
  }
  const h = c.hysteresis ?? of(PORTFOLIO_RISK_DEFAULTS.hysteresis)
  if (!(h.greaterThanOrEqualTo(0) && h.lessThan(1))) return bad("hysteresis", `expected a fraction in [0, 1), got ${h.toString()}`)
  if (c.window < 2) return bad("window", `expected at least 2 returns, got ${c.window}`)
  if (c.minHistory < 2 || c.minHistory > c.window) return bad("minHistory", `expected 2..window (${c.window}), got ${c.minHistory}`)
  if (c.everyMs < 50) return bad("everyMs", `expected at least 50 ms, got ${c.everyMs}`)
  if (c.portfolioValue !== undefined && !c.portfolioValue.greaterThan(0)) return bad("portfolioValue", `expected a positive amount, got ${c.portfolioValue.toString()}`)
  const scenarios = c.scenarios ?? DEFAULT_SCENARIOS
  const names = new Set<string>()
  for (const [i, s] of scenarios.entries()) {
    if (names.has(s.name)) return bad(`scenarios[${i}].name`, `expected a unique name, got ${JSON.stringify(s.name)} twice`)
    names.add(s.name)
  }
  return {
    everyMs: c.everyMs,
    window: c.window,
    returnIntervalMs: c.returnIntervalSeconds * 1000,
    minHistory: c.minHistory,
    varLimit: fractions.varLimit,
    stressLimit: fractions.stressLimit,
    lossLimit: fractions.lossLimit,
    hysteresis: h,
    cancelOnBreaker: c.cancelOnBreaker,
    portfolioValue: c.portfolioValue,
    scenarios: scenarios as ReadonlyArray<StressScenario>
  }
}
