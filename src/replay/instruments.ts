import { Either } from "effect"
import { defaultInstrument, lotSize, type SimInstrument } from "../adapters/venues/simulator/instruments.js"
import { Decimal } from "../domain/decimal.js"
import { makeInstrument, type Instrument } from "../domain/instrument.js"
import type { MarketInput } from "./market-input.js"

/** Recordings are of Kraken Futures' public feed: instruments are `kraken-futures:<symbol>`. */
export const REPLAY_VENUE = "kraken-futures"

const MAX_QTY = new Decimal("1e9")

/**
 * The contracts of a replay, for the engine and for the trading stack, from the same numbers
 * (linear and inverse perpetuals `PF_`/`PI_`, dated futures `FF_`/`FI_` with their expiry):
 * the simulator's defaults per symbol (PF_XBTUSD tick 0.5 lot 0.0001, ...), overridden by the
 * recording's `instrument` lines. The domain side is built as the Kraken adapter maps the
 * venue's instrument list (lot = 10^-precision, min qty one lot, max qty 1e9 on the lot grid).
 */
export const replayInstruments = (input: MarketInput): { readonly sim: SimInstrument[]; readonly domain: Instrument[] } => {
  const sim: SimInstrument[] = []
  const domain: Instrument[] = []
  for (const symbol of input.symbols) {
    const spec = input.specs.get(symbol)
    const base = defaultInstrument(symbol)
    const s: SimInstrument = {
      ...base,
      ...(spec?.tickSize === undefined ? {} : { tickSize: spec.tickSize }),
      ...(spec?.contractValueTradePrecision === undefined ? {} : { contractValueTradePrecision: spec.contractValueTradePrecision }),
      ...(spec?.lastTradingTime === undefined ? {} : { lastTradingTime: spec.lastTradingTime })
    }
    const lot = lotSize(s)
    const pair = symbol.split("_")[1] ?? ""
    const inverse = s.type === "futures_inverse"
    const dated = s.lastTradingTime !== undefined
    const made = makeInstrument({
      id: `${REPLAY_VENUE}:${symbol}`,
      kind: inverse ? (dated ? "inverseFuture" : "inversePerpetual") : dated ? "linearFuture" : "linearPerpetual",
      ...(s.lastTradingTime === undefined ? {} : { expiry: s.lastTradingTime }),
      base: pair.length >= 4 ? pair.slice(0, -3) : "BASE",
      quote: pair.length >= 4 ? pair.slice(-3) : "USD",
      tickSize: s.tickSize,
      lotSize: lot,
      minQty: lot,
      maxQty: MAX_QTY.dividedToIntegerBy(lot).times(lot),
      contractSize: s.contractSize,
      tradable: true
    })
    if (Either.isLeft(made)) throw made.left
    sim.push(s)
    domain.push(made.right)
  }
  return { sim, domain }
}
