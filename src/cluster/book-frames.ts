import type { OrderBook } from "../domain/book.js"
import type { BookDeltaScanner } from "../domain/book-delta-text.js"
import { Decimal } from "../domain/decimal.js"
import type { BookDelta, BookLevel, BookSnapshot } from "../domain/events/market.js"
import { symbolOf, type InstrumentId } from "../domain/ids.js"

/**
 * Canonical book events and the venue text the instrument actor reads. The md node turns the
 * venue's frames into canonical `BookSnapshot` / `BookDelta` (the venue's seq kept); the
 * trading node renders them back into Kraken's frame shape, because the instrument actor's hot
 * path scans that text (a canonical path in the actor is later work). Decimals are written with
 * `toFixed()`: never an exponent, which the venue's grammar does not have.
 */

export interface Envelope {
  readonly id: string
  readonly ts: number
  readonly source: string
}

const levelsOf = (levels: ReadonlyArray<readonly [string, string]>): ReadonlyArray<BookLevel> => levels.map(([p, q]) => [new Decimal(p), new Decimal(q)] as const)


/** The book an md node holds → a canonical snapshot at its seq (the periodic snapshot). */
export const snapshotOfBook = (book: OrderBook, env: Envelope): BookSnapshot => {
  const s = book.toSnapshotText()
  return { _tag: "BookSnapshot", ...env, instrument: book.instrumentId, seq: s.seq, bids: levelsOf(s.bids), asks: levelsOf(s.asks) }
}

/** A scanned venue delta (one level) → a canonical delta. */
export const deltaOfScan = (scanner: BookDeltaScanner, instrument: InstrumentId, env: Envelope): BookDelta => {
  const level: BookLevel = [new Decimal(scanner.price), new Decimal(scanner.qty)]
  const buy = scanner.side === "buy"
  return { _tag: "BookDelta", ...env, instrument, seq: scanner.seq, bids: buy ? [level] : [], asks: buy ? [] : [level], venueTs: scanner.timestamp }
}

const levelText = (levels: ReadonlyArray<BookLevel>): string => levels.map(([p, q]) => `{"price":${p.toFixed()},"qty":${q.toFixed()}}`).join(",")

export const snapshotFrame = (s: BookSnapshot): string =>
  `{"feed":"book_snapshot","product_id":"${symbolOf(s.instrument)}","timestamp":${s.venueTs ?? s.ts},"seq":${s.seq},"tickSize":null,"bids":[${levelText(s.bids)}],"asks":[${levelText(s.asks)}]}`

/** A one-level delta → Kraken's `book` frame; undefined for a delta of another shape (treated as a gap). */
export const deltaFrame = (d: BookDelta): string | undefined => {
  const side = d.bids.length === 1 && d.asks.length === 0 ? "buy" : d.asks.length === 1 && d.bids.length === 0 ? "sell" : undefined
  if (side === undefined) return undefined
  const [p, q] = (side === "buy" ? d.bids[0] : d.asks[0]) as BookLevel
  return `{"feed":"book","product_id":"${symbolOf(d.instrument)}","side":"${side}","seq":${d.seq},"price":${p.toFixed()},"qty":${q.toFixed()},"timestamp":${d.venueTs ?? d.ts}}`
}
