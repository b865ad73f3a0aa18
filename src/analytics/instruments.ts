import type { DuckDBConnection } from "@duckdb/node-api"
import { isInverse, settlementCurrency, type Instrument } from "../domain/instrument.js"
import { loadInstruments, type InstrumentRow } from "./dataset.js"

/**
 * Instrument descriptions for the report (`InstrumentRow`): from a known instrument, or by name
 * for the ones a source leaves out. The `total` and `strategy` scopes of the report are per
 * settlement currency: one row per currency, never a sum across currencies.
 */

/** The row of a known instrument (the daemon's or the replay's instrument list). */
export const instrumentRow = (instrument: Instrument): InstrumentRow => ({
  instrument: instrument.id,
  inverse: isInverse(instrument.kind),
  contractSize: instrument.contractSize.toFixed(),
  currency: settlementCurrency(instrument)
})

const QUOTES = ["USDT", "USDC", "USD", "EUR", "GBP", "BTC", "XBT", "ETH"] as const

/**
 * An instrument the source did not describe (the store keeps no instrument list), by its name:
 * Kraken Futures' symbols say the kind (`PI_`, `FI_`: inverse, 1 USD contracts, settled in the
 * base; `PF_`, `FF_`: linear, settled in the quote) and the pair (`PI_XBTUSD`: XBT/USD); other
 * venues' symbols are read as linear, settled in a quote currency they end with (`BTCUSDT`:
 * USDT), else in `QUOTE` — a label, never merged with a named currency.
 */
export const describeByName = (id: string): InstrumentRow => {
  const symbol = id.slice(id.indexOf(":") + 1).toUpperCase()
  const kraken = /^(P[IF]|F[IF])_([A-Z0-9]+?)(USD)(?:_\d+)?$/.exec(symbol)
  if (kraken !== null) {
    const inverse = (kraken[1] ?? "").endsWith("I")
    return { instrument: id, inverse, contractSize: "1", currency: inverse ? (kraken[2] ?? "") : "USD" }
  }
  const quote = QUOTES.find((q) => symbol.endsWith(q) && symbol.length > q.length)
  return { instrument: id, inverse: false, contractSize: "1", currency: quote ?? "QUOTE" }
}

/** Describes (by name) every instrument of the dataset that the source left undescribed. */
export const completeInstruments = async (conn: DuckDBConnection): Promise<void> => {
  const reader = await conn.runAndReadAll(`
    SELECT DISTINCT instrument FROM (
      SELECT instrument FROM fills UNION ALL SELECT instrument FROM funding
      UNION ALL SELECT instrument FROM marks UNION ALL SELECT instrument FROM orders)
    WHERE instrument NOT IN (SELECT instrument FROM instruments)`)
  const missing = reader.getRows().map((r) => String(r[0]))
  if (missing.length > 0) await loadInstruments(conn, missing.map(describeByName))
}
