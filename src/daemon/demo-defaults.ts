import { Decimal } from "../domain/decimal.js"
import type { InstrumentId } from "../domain/ids.js"
import { defaultInstrument, type SimInstrument } from "../adapters/venues/simulator/instruments.js"
import type { MarketConfig } from "../adapters/venues/simulator/server.js"
import type { Config, RiskLimitsConfig, StrategyConfig } from "./config.js"

/**
 * What `npm start` / `troupe daemon` trades with no config: the embedded simulator's market, the
 * example strategies with parameters sized to that market, and risk limits set explicitly, as a
 * desk would set them on a new account — all printed at start. See docs/architecture.md
 * "Demo defaults" for the reasoning and the figures of a 10-minute run.
 */

export const EMBEDDED_SYMBOLS = ["PF_XBTUSD", "PF_ETHUSD", "PF_SOLUSD"] as const

/**
 * The simulator's other participants: 60 messages/s over the three instruments, a quarter of them
 * takers crossing the spread, and a mid that is noise around a wandering fair value (`reversion`).
 * Half of the takers are informed (they trade towards the fair value) and a tenth of the fair
 * value's moves are jumps of 3 to 15 ticks: a market maker's quote earns the spread when the flow
 * is noise and is run over when it is not, so makers win some round trips, carry losing inventory
 * through others, and the breakout strategy has trends to trade.
 */
export const DEMO_MARKET: Extract<MarketConfig, { readonly kind: "synthetic" }> = {
  kind: "synthetic",
  rate: 60,
  takerShare: 0.25,
  reversion: 0.05,
  fairValueShare: 0.2,
  informedShare: 0.5,
  jumpShare: 0.1,
  maxJumpTicks: 15
}

/**
 * The demo account's fee tier: a market-maker programme's zero maker fee and 5 bp taker. (A maker
 * rebate of 0.5 bp paid more than the spread of a 2.5-tick quote on XBT: every round trip won by
 * the rebate alone; a 2 bp maker fee made every one lose.)
 */
export const DEMO_FEES = { makerFee: "0", takerFee: "0.0005" } as const

/** The simulator's instruments for the embedded venue, on the demo fee tier. */
export const demoInstruments = (symbols: ReadonlyArray<string>): ReadonlyArray<SimInstrument> =>
  symbols.map((symbol) => ({ ...defaultInstrument(symbol), makerFee: new Decimal(DEMO_FEES.makerFee), takerFee: new Decimal(DEMO_FEES.takerFee) }))

/**
 * Explicit limits for the demo account (~$100k collateral in the simulator): small orders, a few
 * thousand dollars of exposure, a daily loss that halts long before it hurts, and a per-strategy
 * cap on intents that a strategy which throttles itself never reaches.
 */
export const DEMO_RISK_LIMITS: RiskLimitsConfig = {
  maxOrderQty: new Decimal("1"),
  maxNotional: new Decimal("2000"),
  priceBand: new Decimal("0.02"),
  maxPosition: new Decimal("5"),
  maxGrossExposure: new Decimal("10000"),
  maxNetExposure: new Decimal("5000"),
  maxOpenOrders: 12,
  dailyLossLimit: new Decimal("250"),
  strategyOrdersPerSecond: 4
}

const instrument = (symbol: string): InstrumentId => `kraken-futures:${symbol}` as InstrumentId

/**
 * Avellaneda-Stoikov per instrument: `k` puts the half-spread at ~2.5 ticks of that instrument
 * ((1/γ)·ln(1 + γ/k) ≈ 1/k), order sizes are in line with the simulated flow (takers of 0.01 to
 * 0.15), inventory is capped at five orders, and a quote is touched at most once every 3 s and
 * only when its target moved 2 ticks: 3 market makers then spend at most ~2 intents/s of the
 * venue's ~3.8 submits-or-modifies/s (Kraken: 500 cost per 10 s, 10 per order action, 100 kept for
 * cancels).
 */
const MM: Readonly<Record<(typeof EMBEDDED_SYMBOLS)[number], { readonly k: number; readonly orderQty: string }>> = {
  PF_XBTUSD: { k: 0.8, orderQty: "0.01" },
  PF_ETHUSD: { k: 4, orderQty: "0.05" },
  PF_SOLUSD: { k: 40, orderQty: "0.1" }
}

const strategy = (id: string, kind: string, symbol: string, params: Record<string, unknown>): StrategyConfig => ({
  id: id as StrategyConfig["id"],
  kind,
  instruments: [instrument(symbol)],
  restart: "permanent",
  enabled: true,
  params: { instrument: instrument(symbol), ...params }
})

/** One market maker per embedded instrument, and a breakout taker on SOL. */
export const demoStrategies = (): ReadonlyArray<StrategyConfig> => [
  ...EMBEDDED_SYMBOLS.map((symbol) =>
    strategy(`mm-${symbol.slice(3, 6).toLowerCase()}`, "avellaneda-stoikov", symbol, {
      gamma: 0.1,
      k: MM[symbol].k,
      horizonMs: 60_000,
      sigmaWindow: 20,
      orderQty: MM[symbol].orderQty,
      maxInventory: new Decimal(MM[symbol].orderQty).times(5).toString(),
      requoteTicks: 2,
      minRequoteMs: 3_000
    })
  ),
  // A 30-book Donchian channel on SOL (about 3 s of books), one IOC of 0.1 at the touch at most
  // every 15 s, at most 0.5 SOL either way.
  strategy("mo-sol", "momentum-breakout", "PF_SOLUSD", { lookback: 30, orderQty: "0.1", maxPosition: "0.5", cooldownMs: 15_000 })
]

/** Whether the daemon runs the demo: the embedded simulator and no strategies configured. */
export const isDemo = (config: Pick<Config, "strategies" | "venue">): boolean => config.strategies.length === 0 && config.venue.baseUrl === undefined

/**
 * The config the demo runs with: the demo strategies, and the demo's risk limits under any the
 * operator configured (a configured limit wins). Anything else is returned unchanged.
 */
export const withDemoDefaults = (config: Config): Config =>
  isDemo(config) ? { ...config, strategies: demoStrategies(), risk: { ...DEMO_RISK_LIMITS, ...config.risk } } : config

const riskText = (risk: RiskLimitsConfig): string =>
  Object.entries(risk)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(" ")

/** The lines printed at start of a demo run: what trades, with what limits, on what market. */
export const describeDemoDefaults = (config: Config): ReadonlyArray<string> => [
  `demo defaults (no strategies configured): the embedded simulator — ${DEMO_MARKET.rate ?? 20} msgs/s, ${(DEMO_MARKET.takerShare ?? 0) * 100}% takers (${(DEMO_MARKET.informedShare ?? 0) * 100}% of them informed), mid mean-reverting to a wandering fair value that sometimes jumps; fees maker ${DEMO_FEES.makerFee}, taker ${DEMO_FEES.takerFee}`,
  `demo risk limits (account ${config.venue.account}): ${riskText(config.risk)}`,
  ...config.strategies.map((s) => `demo strategy ${s.id} (${s.kind}): ${JSON.stringify(s.params)}`)
]
