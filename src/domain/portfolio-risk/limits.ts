import type { Decimal } from "../decimal.js"
import { measure, type RiskMeasures } from "./measures.js"
import type { ReturnWindow } from "./returns.js"
import { stress, type RiskPosition, type StressResult, type StressScenario } from "./stress.js"

/**
 * Limits of the portfolio risk monitor, as fractions of the portfolio value (0.02 = 2 %).
 *
 * - VaR: the 1-day 99 % historical VaR above `varPct` × value raises; enforced only once the
 *   window holds `minHistory` returns (before that the figure is shown, marked not enforced).
 * - Stress: the worst scenario's loss above `stressPct` × value raises.
 * - Loss circuit breaker: the day's loss (realized + unrealized, net of fees, since the day's
 *   start) at or beyond `lossPct` × value trips — compared exactly, in decimals.
 * - Hysteresis: a raised limit is lifted only once its figure is below limit × (1 − hysteresis).
 */
export interface PortfolioRiskLimits {
  readonly varPct: number
  readonly stressPct: number
  readonly lossPct: Decimal
  readonly hysteresis: number
  readonly minHistory: number
}

/** Raised when `value > limit`; once raised, lifted only when `value < limit × (1 − hysteresis)`. */
export const nextBreach = (raised: boolean, value: number, limit: number, hysteresis: number): boolean =>
  Number.isFinite(value) && Number.isFinite(limit) ? (raised ? value >= limit * (1 - hysteresis) : value > limit) : raised

/** The circuit breaker: trips at exactly `lossPct` of the portfolio value; lifts below it × (1 − hysteresis). */
export const nextBreaker = (tripped: boolean, dayLoss: Decimal, portfolioValue: Decimal, lossPct: Decimal, hysteresis: number): boolean => {
  const limit = portfolioValue.times(lossPct)
  return tripped ? dayLoss.greaterThanOrEqualTo(limit.times(1 - hysteresis)) : dayLoss.greaterThanOrEqualTo(limit)
}

export interface PortfolioFigures {
  readonly measures: RiskMeasures
  /** True when the window holds at least `minHistory` returns: VaR is enforced. */
  readonly enforced: boolean
  readonly stress: ReadonlyArray<StressResult>
  readonly stressLoss: number
  readonly worstScenario: string | undefined
  /** Σ|value| and Σ value of the positions. */
  readonly gross: number
  readonly net: number
}

/** One evaluation of a set of positions against the window and the scenarios (no limits applied). */
export const evaluatePortfolio = (window: ReturnWindow, positions: ReadonlyArray<RiskPosition>, scenarios: ReadonlyArray<StressScenario>, minHistory: number, scratch?: { pnl?: Float64Array; sorted?: Float64Array }): PortfolioFigures => {
  const values = new Map<string, number>()
  let gross = 0
  let net = 0
  for (const p of positions) {
    values.set(p.instrument, (values.get(p.instrument) ?? 0) + p.value)
    gross += Math.abs(p.value)
    net += p.value
  }
  const pnl = window.pnlSeries(values, scratch?.pnl)
  if (scratch !== undefined) scratch.pnl = pnl
  const measures = measure(pnl, window.intervalMs, scratch?.sorted)
  const s = stress(scenarios, positions, measures.sigma)
  return { measures, enforced: measures.observations >= minHistory, stress: s.results, stressLoss: s.worstLoss, worstScenario: s.worst, gross, net }
}
