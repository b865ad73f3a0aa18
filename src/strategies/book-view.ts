import type { BookDepth, BookLevel, OrderBook } from "../domain/book.js"
import type { InstrumentId } from "../domain/ids.js"
import type { BookView } from "./ports.js"

const NO_DEPTH: BookDepth = { bids: [], asks: [] }

/** A view from top-of-book levels, e.g. the instrument actor's published view. */
export const bookViewFromLevels = (levels: {
  readonly instrumentId: InstrumentId
  readonly ts: number
  readonly bestBid: BookLevel | undefined
  readonly bestAsk: BookLevel | undefined
  readonly depth?: BookDepth | undefined
}): BookView => ({
  instrumentId: levels.instrumentId,
  ts: levels.ts,
  bestBid: levels.bestBid,
  bestAsk: levels.bestAsk,
  mid: levels.bestBid !== undefined && levels.bestAsk !== undefined ? levels.bestBid.price.plus(levels.bestAsk.price).dividedBy(2) : undefined,
  depth: levels.depth ?? NO_DEPTH
})

/** A view of a domain `OrderBook` as it is now: for replay, tests and the simulator. */
export const bookViewOf = (book: OrderBook, ts: number, depth = 0): BookView =>
  bookViewFromLevels({
    instrumentId: book.instrumentId,
    ts,
    bestBid: book.bestBid(),
    bestAsk: book.bestAsk(),
    depth: depth > 0 ? book.depth(depth) : NO_DEPTH
  })
