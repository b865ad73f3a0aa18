/**
 * Value-at-risk and expected shortfall of a P&L series (docs/portfolio-risk.md, "Method").
 *
 * - Losses are L = −pnl. Historical VaR at confidence α is the α-quantile of the losses with
 *   linear interpolation between order statistics (Hyndman–Fan type 7, numpy's default): sort
 *   L ascending (0-based), h = (n − 1)·α, VaR = L[⌊h⌋] + (h − ⌊h⌋)·(L[⌊h⌋+1] − L[⌊h⌋]).
 * - Historical ES at α is the mean of the losses at or beyond that VaR (never empty: the largest
 *   loss is ≥ VaR; so ES ≥ VaR always).
 * - Parametric (variance–covariance, zero mean) VaR = z_α·σ, ES = σ·φ(z_α)/(1 − α), with σ the
 *   sample standard deviation (n − 1) of the P&L series — the same as √(vᵀΣv) for the sample
 *   covariance Σ of the returns, computed in O(n) from the series instead of O(k²).
 * - Scaling to one day: every figure is multiplied by √(day / interval) (square-root-of-time,
 *   i.i.d. returns); with daily returns the factor is 1.
 *
 * Figures are reported as positive losses; a portfolio that gains in every held interval has a
 * negative VaR (reported as is; limits compare it, so it never breaches).
 */
export const DAY_MS = 86_400_000

/** Standard normal quantiles used by parametric VaR. */
export const Z: Readonly<Record<"0.99" | "0.95", number>> = { "0.99": 2.3263478740408408, "0.95": 1.6448536269514722 }

const phi = (z: number): number => Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI)

export type Confidence = 0.99 | 0.95

export interface RiskMeasures {
  /** Returns the figures were computed from. */
  readonly observations: number
  readonly var99: number
  readonly var95: number
  readonly es99: number
  readonly es95: number
  readonly parametricVar99: number
  readonly parametricVar95: number
  readonly parametricEs99: number
  /** Standard deviation of the 1-day P&L (scaled). */
  readonly sigma: number
}

/** The α-quantile (type 7) of an ascending-sorted array. */
export const quantileSorted = (sorted: ArrayLike<number>, alpha: number): number => {
  const n = sorted.length
  if (n === 0) return Number.NaN
  if (n === 1) return sorted[0] as number
  const h = (n - 1) * alpha
  const lo = Math.floor(h)
  const hi = Math.min(lo + 1, n - 1)
  const a = sorted[lo] as number
  return a + (h - lo) * ((sorted[hi] as number) - a)
}

/** Mean of the entries ≥ threshold of an ascending-sorted array (from the top down). */
const tailMean = (sorted: ArrayLike<number>, threshold: number): number => {
  let sum = 0
  let count = 0
  for (let i = sorted.length - 1; i >= 0 && (sorted[i] as number) >= threshold; i--) {
    sum += sorted[i] as number
    count++
  }
  return count === 0 ? threshold : sum / count
}

/** Historical VaR of a P&L series at α, unscaled (one interval). */
export const historicalVar = (pnl: ArrayLike<number>, alpha: number): number => quantileSorted(sortedLosses(pnl), alpha)

/** Historical ES of a P&L series at α, unscaled. */
export const historicalEs = (pnl: ArrayLike<number>, alpha: number): number => {
  const s = sortedLosses(pnl)
  return tailMean(s, quantileSorted(s, alpha))
}

const sortedLosses = (pnl: ArrayLike<number>, scratch?: Float64Array): Float64Array => {
  const n = pnl.length
  const s = scratch !== undefined && scratch.length === n ? scratch : new Float64Array(n)
  for (let i = 0; i < n; i++) s[i] = -(pnl[i] as number)
  return s.sort()
}

/** Sample standard deviation (n − 1); 0 for fewer than two values. */
export const sampleStd = (xs: ArrayLike<number>): number => {
  const n = xs.length
  if (n < 2) return 0
  let mean = 0
  for (let i = 0; i < n; i++) mean += xs[i] as number
  mean /= n
  let ss = 0
  for (let i = 0; i < n; i++) {
    const d = (xs[i] as number) - mean
    ss += d * d
  }
  return Math.sqrt(ss / (n - 1))
}

/** √(day / interval): the factor from one return interval to one day. */
export const dayScale = (intervalMs: number): number => Math.sqrt(DAY_MS / intervalMs)

/**
 * Every measure of one P&L series (one value per return interval), scaled to one day.
 * `scratch` (same length) avoids an allocation per evaluation.
 */
export const measure = (pnl: ArrayLike<number>, intervalMs: number, scratch?: Float64Array): RiskMeasures => {
  const n = pnl.length
  const k = dayScale(intervalMs)
  if (n === 0) return { observations: 0, var99: Number.NaN, var95: Number.NaN, es99: Number.NaN, es95: Number.NaN, parametricVar99: Number.NaN, parametricVar95: Number.NaN, parametricEs99: Number.NaN, sigma: Number.NaN }
  const s = sortedLosses(pnl, scratch)
  const v99 = quantileSorted(s, 0.99)
  const v95 = quantileSorted(s, 0.95)
  const sigma = sampleStd(pnl)
  return {
    observations: n,
    var99: k * v99,
    var95: k * v95,
    es99: k * tailMean(s, v99),
    es95: k * tailMean(s, v95),
    parametricVar99: k * Z["0.99"] * sigma,
    parametricVar95: k * Z["0.95"] * sigma,
    parametricEs99: (k * sigma * phi(Z["0.99"])) / 0.01,
    sigma: k * sigma
  }
}
