import { Decimal } from "../../../domain/decimal.js"

/** What the simulator knows about one tradeable contract; the shape the engine and feeds share. */
export interface SimInstrument {
  readonly symbol: string
  readonly type: "flexible_futures" | "futures_inverse"
  readonly underlying: string
  readonly tickSize: Decimal
  readonly contractSize: Decimal
  /** Decimals allowed in `size` (Kraken's field; may be negative). */
  readonly contractValueTradePrecision: number
  readonly makerFee: Decimal
  readonly takerFee: Decimal
  /** Where the synthetic market's random walk starts. */
  readonly initialMid: Decimal
  /** Margin rates of the simulator's margin model (default 0.02 and 0.01, i.e. 50× leverage). */
  readonly initialMargin?: Decimal
  readonly maintenanceMargin?: Decimal
}

export const lotSize = (instrument: SimInstrument): Decimal =>
  new Decimal(10).pow(-instrument.contractValueTradePrecision)

const known: Record<string, { tick: string; precision: number; mid: string }> = {
  PF_XBTUSD: { tick: "0.5", precision: 4, mid: "60000" },
  PF_ETHUSD: { tick: "0.1", precision: 3, mid: "3000" },
  PF_SOLUSD: { tick: "0.01", precision: 2, mid: "150" },
  PF_XRPUSD: { tick: "0.0001", precision: 0, mid: "0.6" },
  // Binance USD-M names (the Binance face serves them as they are).
  BTCUSDT: { tick: "0.1", precision: 3, mid: "60000" },
  ETHUSDT: { tick: "0.01", precision: 3, mid: "3000" },
  SOLUSDT: { tick: "0.01", precision: 2, mid: "150" }
}

/** A plausible instrument for a symbol; unknown `PF_` symbols get generic parameters. */
export const defaultInstrument = (symbol: string): SimInstrument => {
  const spec = known[symbol] ?? { tick: "0.01", precision: 3, mid: "100" }
  const base = symbol.replace(/^P[FI]_/, "").replace(/USDT?$/, "").toLowerCase()
  return {
    symbol,
    type: symbol.startsWith("PI_") ? "futures_inverse" : "flexible_futures",
    underlying: `rr_${base}usd`,
    tickSize: new Decimal(spec.tick),
    contractSize: new Decimal(1),
    contractValueTradePrecision: spec.precision,
    makerFee: new Decimal("0.0002"),
    takerFee: new Decimal("0.0005"),
    initialMid: new Decimal(spec.mid)
  }
}

export const DEFAULT_SYMBOLS: ReadonlyArray<string> = ["PF_XBTUSD", "PF_ETHUSD"]
