/**
 * Stress scenarios from config, each a P&L of the current positions (quote currency, negative is
 * a loss). Positions are signed values `qty × contractSize × mark` (inverse: their USD value).
 *
 * - `uniform`: every price moves by `shock` (−0.10 = −10 %): P&L = Σ vᵢ·shock.
 * - `perAsset`: each position moves by the shock of its instrument id, else of its base asset
 *   (`BTC`, `XBT`, `ETH`, ...), else by `otherwise` (default 0): P&L = Σ vᵢ·shockᵢ.
 * - `volatility`: volatility multiplied by `factor`: the loss is the parametric 1-day 99 % VaR
 *   with σ × factor, i.e. P&L = −factor·z₉₉·σ₁d (needs the return window; 0 without it).
 * - `venueDown`: the venue's positions cannot be closed and each moves against it by `move`
 *   (default 0.10): P&L = −Σ_{venue} |vᵢ|·move. Positions elsewhere are unaffected.
 */
export type StressScenario =
  | { readonly name: string; readonly kind: "uniform"; readonly shock: number }
  | { readonly name: string; readonly kind: "perAsset"; readonly shocks: Readonly<Record<string, number>>; readonly otherwise?: number }
  | { readonly name: string; readonly kind: "volatility"; readonly factor: number }
  | { readonly name: string; readonly kind: "venueDown"; readonly venue: string; readonly move?: number }

export interface RiskPosition {
  readonly instrument: string
  readonly venue: string
  readonly base: string
  /** Signed value in the quote currency (qty × contractSize × mark). */
  readonly value: number
}

export interface StressResult {
  readonly name: string
  readonly pnl: number
}

const Z99 = 2.3263478740408408

/** The P&L of one scenario. `sigma1d`: the 1-day P&L standard deviation (for `volatility`). */
export const scenarioPnl = (scenario: StressScenario, positions: ReadonlyArray<RiskPosition>, sigma1d: number): number => {
  let pnl = 0
  switch (scenario.kind) {
    case "uniform":
      for (const p of positions) pnl += p.value * scenario.shock
      return pnl
    case "perAsset":
      for (const p of positions) pnl += p.value * (scenario.shocks[p.instrument] ?? scenario.shocks[p.base] ?? scenario.otherwise ?? 0)
      return pnl
    case "volatility":
      return Number.isFinite(sigma1d) ? -scenario.factor * Z99 * sigma1d : 0
    case "venueDown": {
      const move = scenario.move ?? 0.1
      for (const p of positions) if (p.venue === scenario.venue) pnl -= Math.abs(p.value) * move
      return pnl
    }
  }
}

/** Every scenario's P&L and the worst loss among them (≥ 0; 0 when no scenario loses). */
export const stress = (scenarios: ReadonlyArray<StressScenario>, positions: ReadonlyArray<RiskPosition>, sigma1d: number): { readonly results: ReadonlyArray<StressResult>; readonly worstLoss: number; readonly worst: string | undefined } => {
  let worstLoss = 0
  let worst: string | undefined
  const results = scenarios.map((s) => {
    const pnl = scenarioPnl(s, positions, sigma1d)
    if (-pnl > worstLoss) {
      worstLoss = -pnl
      worst = s.name
    }
    return { name: s.name, pnl }
  })
  return { results, worstLoss, worst }
}
