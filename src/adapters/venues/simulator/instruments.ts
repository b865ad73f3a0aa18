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
  /**
   * Dated futures (`FI_`, `FF_`): the last trading time, epoch ms. Trading stops then and every
   * position is settled at the settlement price (the simulator's model: `SimModel.settlementWindowMs`).
   */
  readonly lastTradingTime?: number
}

/** Inverse contracts (`PI_`, `FI_`): contract value in USD, PnL, fees and settlement in the base currency. */
export const isInverseSim = (instrument: SimInstrument): boolean => instrument.type === "futures_inverse"

/** The currency of an instrument's PnL and fees as the venue names it in fills (`BTC` for XBT, as ccxt maps it), else `USD`. */
export const settlementAsset = (instrument: SimInstrument): string => {
  if (!isInverseSim(instrument)) return "USD"
  const base = instrument.symbol.split("_")[1]?.replace(/USD$/i, "").toUpperCase() ?? "XBT"
  return base === "XBT" ? "BTC" : base
}

/** The account-log asset of an instrument's cash rows: `usd`, or the base (`xbt`) for inverse contracts. */
export const accountLogAsset = (instrument: SimInstrument): string =>
  isInverseSim(instrument) ? (instrument.symbol.split("_")[1]?.replace(/USD$/i, "").toLowerCase() ?? "xbt") : "usd"

/** `FI_XBTUSD_260925` → 2026-09-25T16:00:00Z (the simulator's default hour), or undefined for a perpetual. */
export const expiryOfSymbol = (symbol: string): number | undefined => {
  const m = /^F[IF]_[A-Z0-9]+_(\d{2})(\d{2})(\d{2})$/i.exec(symbol)
  if (m === null) return undefined
  const t = Date.UTC(2000 + Number(m[1]), Number(m[2]) - 1, Number(m[3]), 16)
  return Number.isNaN(t) ? undefined : t
}

export const lotSize = (instrument: SimInstrument): Decimal =>
  new Decimal(10).pow(-instrument.contractValueTradePrecision)

const known: Record<string, { tick: string; precision: number; mid: string }> = {
  PF_XBTUSD: { tick: "0.5", precision: 4, mid: "60000" },
  PI_XBTUSD: { tick: "0.5", precision: 0, mid: "60000" },
  PI_ETHUSD: { tick: "0.05", precision: 0, mid: "3000" },
  FI_XBTUSD: { tick: "0.5", precision: 0, mid: "60000" },
  FF_XBTUSD: { tick: "1", precision: 4, mid: "60000" },
  PF_ETHUSD: { tick: "0.1", precision: 3, mid: "3000" },
  PF_SOLUSD: { tick: "0.01", precision: 2, mid: "150" },
  PF_XRPUSD: { tick: "0.0001", precision: 0, mid: "0.6" },
  // Binance USD-M names (the Binance face serves them as they are).
  BTCUSDT: { tick: "0.1", precision: 3, mid: "60000" },
  ETHUSDT: { tick: "0.01", precision: 3, mid: "3000" },
  SOLUSDT: { tick: "0.01", precision: 2, mid: "150" }
}

/**
 * A plausible instrument for a symbol; unknown symbols get generic parameters. `PI_`/`FI_` are
 * inverse (contract value 1 USD, whole contracts), `FF_`/`FI_` with a `_yymmdd` suffix are dated
 * (last trading time 16:00 UTC that day).
 */
export const defaultInstrument = (symbol: string): SimInstrument => {
  const pair = symbol.split("_")[1] ?? symbol
  const prefix = symbol.slice(0, 2).toUpperCase()
  const spec = known[symbol] ?? known[`${prefix}_${pair}`] ?? { tick: "0.01", precision: prefix === "PI" || prefix === "FI" ? 0 : 3, mid: "100" }
  const base = pair.replace(/USDT?$/i, "").toLowerCase()
  const expiry = expiryOfSymbol(symbol)
  return {
    symbol,
    type: prefix === "PI" || prefix === "FI" ? "futures_inverse" : "flexible_futures",
    ...(expiry === undefined ? {} : { lastTradingTime: expiry }),
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
