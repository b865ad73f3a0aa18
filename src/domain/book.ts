import { Data, Either } from "effect"
import type { Decimal } from "./decimal.js"
import { decimalToScaled, MAX_DECIMALS, parseScaledBytes, parseScaledRange, scaledToDecimal, scaledToText } from "./fixed-point.js"
import type { InstrumentId } from "./ids.js"
import type { Instrument } from "./instrument.js"

/**
 * The L2 order book of one instrument: aggregated size per price level. This is the hot path
 * (every market data message lands here), so it is a mutable object owned by its instrument
 * actor, and it stores prices and sizes as exact integers scaled by 10^decimals (see
 * fixed-point.ts). Decimals are made only at the view edge (bestBid, depth, ...).
 *
 * Input paths, fastest first: applyDeltaBytes (ranges of a venue message's ASCII bytes, from
 * BookDeltaScanner), applyDeltaRange / applyDeltaText (text), applyDelta (Decimal),
 * applyDeltaUnits (already scaled). All are exact or refuse with a BookCode; none throws.
 *
 * Each side is a pair of parallel arrays sorted so that the BEST level is LAST: nearly all
 * updates hit the top of the book, and at the end of an array an insert or delete shifts
 * almost nothing. Asks store the negated price so both sides share one ascending order.
 */
export type BookSide = "bid" | "ask"

/** Apply results. Numbers, not objects, so the hot path allocates nothing; `bookError` makes a typed error at the edge. */
export const BookCode = {
  Ok: 0,
  Malformed: 1,
  TooPrecise: 2,
  TooLarge: 3,
  Negative: 4,
  /** seq is not above the book's sequence: a replay or out-of-order message; the book is unchanged. */
  StaleSequence: 5
} as const
export type BookCode = (typeof BookCode)[keyof typeof BookCode]

const CODE_REASON: Record<BookCode, string> = {
  0: "ok",
  1: "malformed number",
  2: "more decimals than the book's scale",
  3: "too large to hold exactly",
  4: "negative",
  5: "sequence not after the book's"
}

export class BookError extends Data.TaggedError("BookError")<{
  readonly instrumentId: string
  readonly code: BookCode
  readonly reason: string
  readonly input: string
}> {
  override get message(): string {
    return `book ${this.instrumentId}: ${this.reason} (${this.input.slice(0, 80)})`
  }
}

export interface BookLevel {
  readonly price: Decimal
  readonly qty: Decimal
}

export interface BookDepth {
  readonly bids: ReadonlyArray<BookLevel>
  readonly asks: ReadonlyArray<BookLevel>
}

/** A level as text, the form venues send and snapshots persist. */
export type LevelText = readonly [price: string, qty: string]

export interface BookSnapshotText {
  readonly seq: number
  readonly bids: ReadonlyArray<LevelText>
  readonly asks: ReadonlyArray<LevelText>
}

export interface BookConfig {
  readonly instrumentId: InstrumentId
  readonly priceDecimals: number
  readonly qtyDecimals: number
}

// Scan this many levels from the top before falling back to binary search.
const LINEAR_PROBE = 8

/** One side: keys ascending (bids: price units, asks: -price units), best last. */
class Ladder {
  keys: number[] = []
  qtys: number[] = []

  /** Index of `key`, or -(insertion point) - 1. */
  find(key: number): number {
    const keys = this.keys
    let j = keys.length - 1
    const stop = j - LINEAR_PROBE
    for (; j >= 0 && j > stop; j--) {
      const k = keys[j] as number
      if (k === key) return j
      if (k < key) return -(j + 1) - 1
    }
    let lo = 0
    let hi = j
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      const k = keys[mid] as number
      if (k < key) lo = mid + 1
      else if (k > key) hi = mid - 1
      else return mid
    }
    return -lo - 1
  }

  // Shifts by hand: splice allocates its result array and costs more than moving the few
  // elements between the touched level and the top of the book.
  set(key: number, qty: number): void {
    const keys = this.keys
    const qtys = this.qtys
    const i = this.find(key)
    if (i >= 0) {
      if (qty !== 0) {
        qtys[i] = qty
        return
      }
      const last = keys.length - 1
      for (let k = i; k < last; k++) {
        keys[k] = keys[k + 1] as number
        qtys[k] = qtys[k + 1] as number
      }
      keys.pop()
      qtys.pop()
    } else if (qty !== 0) {
      const at = -i - 1
      let k = keys.length
      keys.push(key)
      qtys.push(qty)
      for (; k > at; k--) {
        keys[k] = keys[k - 1] as number
        qtys[k] = qtys[k - 1] as number
      }
      keys[at] = key
      qtys[at] = qty
    }
  }
}

export class OrderBook {
  readonly instrumentId: InstrumentId
  readonly priceDecimals: number
  readonly qtyDecimals: number
  private bids = new Ladder()
  private asks = new Ladder()
  private seq = -1

  private constructor(config: BookConfig) {
    this.instrumentId = config.instrumentId
    this.priceDecimals = config.priceDecimals
    this.qtyDecimals = config.qtyDecimals
  }

  static make(config: BookConfig): Either.Either<OrderBook, BookError> {
    for (const d of [config.priceDecimals, config.qtyDecimals]) {
      if (!Number.isInteger(d) || d < 0 || d > MAX_DECIMALS) {
        return Either.left(new BookError({ instrumentId: config.instrumentId, code: BookCode.TooPrecise, reason: `decimals must be 0..${MAX_DECIMALS}`, input: String(d) }))
      }
    }
    return Either.right(new OrderBook(config))
  }

  /** Scales from the instrument's tick and lot sizes, which makeInstrument already bounded. */
  static forInstrument(instrument: Instrument): OrderBook {
    return new OrderBook({ instrumentId: instrument.id, priceDecimals: instrument.priceDecimals, qtyDecimals: instrument.qtyDecimals })
  }

  /** The seq of the last snapshot or delta applied; -1 before the first snapshot. */
  get sequence(): number {
    return this.seq
  }

  /** The fast path: price and qty as text ranges of a venue message, e.g. offsets from BookDeltaScanner. */
  applyDeltaRange(side: BookSide, text: string, priceStart: number, priceEnd: number, qtyStart: number, qtyEnd: number, seq: number): BookCode {
    const price = parseScaledRange(text, priceStart, priceEnd, this.priceDecimals)
    if (price < 0) return -price as BookCode
    const qty = parseScaledRange(text, qtyStart, qtyEnd, this.qtyDecimals)
    if (qty < 0) return -qty as BookCode
    return this.applyDeltaUnits(side, price, qty, seq)
  }

  /** The fastest path: the same ranges over the message's ASCII bytes (BookDeltaScanner.bytes). */
  applyDeltaBytes(side: BookSide, bytes: Uint8Array, priceStart: number, priceEnd: number, qtyStart: number, qtyEnd: number, seq: number): BookCode {
    const price = parseScaledBytes(bytes, priceStart, priceEnd, this.priceDecimals)
    if (price < 0) return -price as BookCode
    const qty = parseScaledBytes(bytes, qtyStart, qtyEnd, this.qtyDecimals)
    if (qty < 0) return -qty as BookCode
    return this.applyDeltaUnits(side, price, qty, seq)
  }

  /** Sets the size at a price (absolute, not a change); qty 0 removes the level. */
  applyDeltaText(side: BookSide, price: string, qty: string, seq: number): BookCode {
    const p = parseScaledRange(price, 0, price.length, this.priceDecimals)
    if (p < 0) return -p as BookCode
    const q = parseScaledRange(qty, 0, qty.length, this.qtyDecimals)
    if (q < 0) return -q as BookCode
    return this.applyDeltaUnits(side, p, q, seq)
  }

  applyDelta(side: BookSide, price: Decimal, qty: Decimal, seq: number): BookCode {
    const p = decimalToScaled(price, this.priceDecimals)
    if (p < 0) return -p as BookCode
    const q = decimalToScaled(qty, this.qtyDecimals)
    if (q < 0) return -q as BookCode
    return this.applyDeltaUnits(side, p, q, seq)
  }

  /** Units are exact integers at this book's decimals (price * 10^priceDecimals). */
  applyDeltaUnits(side: BookSide, priceUnits: number, qtyUnits: number, seq: number): BookCode {
    if (!(seq > this.seq)) return BookCode.StaleSequence
    this.seq = seq
    if (side === "bid") this.bids.set(priceUnits, qtyUnits)
    else this.asks.set(-priceUnits, qtyUnits)
    return BookCode.Ok
  }

  /** Replaces the whole book. All-or-nothing: on any bad level the book is left as it was. Zero sizes are skipped; a repeated price keeps the last size. */
  applySnapshotText(snapshot: BookSnapshotText): BookCode {
    const bids = new Ladder()
    const asks = new Ladder()
    for (const [ladder, levels, sign] of [
      [bids, snapshot.bids, 1],
      [asks, snapshot.asks, -1]
    ] as const) {
      for (const [price, qty] of levels) {
        const p = parseScaledRange(price, 0, price.length, this.priceDecimals)
        if (p < 0) return -p as BookCode
        const q = parseScaledRange(qty, 0, qty.length, this.qtyDecimals)
        if (q < 0) return -q as BookCode
        ladder.set(sign * p, q)
      }
    }
    this.bids = bids
    this.asks = asks
    this.seq = snapshot.seq
    return BookCode.Ok
  }

  applySnapshot(snapshot: { readonly seq: number; readonly bids: ReadonlyArray<BookLevel>; readonly asks: ReadonlyArray<BookLevel> }): BookCode {
    const bids = new Ladder()
    const asks = new Ladder()
    for (const [ladder, levels, sign] of [
      [bids, snapshot.bids, 1],
      [asks, snapshot.asks, -1]
    ] as const) {
      for (const level of levels) {
        const p = decimalToScaled(level.price, this.priceDecimals)
        if (p < 0) return -p as BookCode
        const q = decimalToScaled(level.qty, this.qtyDecimals)
        if (q < 0) return -q as BookCode
        ladder.set(sign * p, q)
      }
    }
    this.bids = bids
    this.asks = asks
    this.seq = snapshot.seq
    return BookCode.Ok
  }

  /** Empties the book, e.g. when the sync machine leaves `live` to resync. */
  clear(): void {
    this.bids = new Ladder()
    this.asks = new Ladder()
    this.seq = -1
  }

  /** Best bid price in units, NaN when there is none: for quoting code that stays in integers. */
  bestBidUnits(): number {
    const keys = this.bids.keys
    return keys.length === 0 ? Number.NaN : (keys[keys.length - 1] as number)
  }

  bestAskUnits(): number {
    const keys = this.asks.keys
    return keys.length === 0 ? Number.NaN : -(keys[keys.length - 1] as number)
  }

  /** Size at the best bid in units, NaN when there is none. */
  bestBidQtyUnits(): number {
    const qtys = this.bids.qtys
    return qtys.length === 0 ? Number.NaN : (qtys[qtys.length - 1] as number)
  }

  bestAskQtyUnits(): number {
    const qtys = this.asks.qtys
    return qtys.length === 0 ? Number.NaN : (qtys[qtys.length - 1] as number)
  }

  /**
   * Copies the top `n` levels of one side, best first, into `out` as units (price, qty, price,
   * qty, ...) from index `at`; returns how many levels it copied. For views that convert later.
   */
  copyTopUnits(side: BookSide, n: number, out: number[], at: number): number {
    const ladder = side === "bid" ? this.bids : this.asks
    const sign = side === "bid" ? 1 : -1
    const keys = ladder.keys
    const qtys = ladder.qtys
    const count = Math.min(Math.max(0, Math.floor(n)), keys.length)
    for (let k = 0; k < count; k++) {
      const i = keys.length - 1 - k
      out[at++] = sign * (keys[i] as number)
      out[at++] = qtys[i] as number
    }
    return count
  }

  bestBid(): BookLevel | undefined {
    return this.levelAt(this.bids, 1, 0)
  }

  bestAsk(): BookLevel | undefined {
    return this.levelAt(this.asks, -1, 0)
  }

  /** (bestBid + bestAsk) / 2, exact (one more decimal at most); undefined unless both sides have a level. */
  mid(): Decimal | undefined {
    const bid = this.bestBidUnits()
    const ask = this.bestAskUnits()
    if (Number.isNaN(bid) || Number.isNaN(ask)) return undefined
    // bid + ask may pass 2^53 while each is safe, so halve through Decimal.
    return scaledToDecimal(bid, this.priceDecimals).plus(scaledToDecimal(ask, this.priceDecimals)).dividedBy(2)
  }

  /** The top `n` levels of each side, best first. */
  depth(n: number): BookDepth {
    const take = (ladder: Ladder, sign: 1 | -1): BookLevel[] => {
      const out: BookLevel[] = []
      const count = Math.min(Math.max(0, Math.floor(n)), ladder.keys.length)
      for (let k = 0; k < count; k++) out.push(this.levelAt(ladder, sign, k) as BookLevel)
      return out
    }
    return { bids: take(this.bids, 1), asks: take(this.asks, -1) }
  }

  /** Crossed or locked (best bid >= best ask): a consistent venue book never is, so the sync machine resyncs. */
  isCrossed(): boolean {
    const bids = this.bids.keys
    const asks = this.asks.keys
    if (bids.length === 0 || asks.length === 0) return false
    return (bids[bids.length - 1] as number) >= -(asks[asks.length - 1] as number)
  }

  levelCount(side: BookSide): number {
    return (side === "bid" ? this.bids : this.asks).keys.length
  }

  /** The whole book as text, best first, for actor snapshots; applySnapshotText restores it. */
  toSnapshotText(): BookSnapshotText {
    const text = (ladder: Ladder, sign: 1 | -1): LevelText[] => {
      const out: LevelText[] = []
      for (let k = ladder.keys.length - 1; k >= 0; k--) {
        out.push([scaledToText(sign * (ladder.keys[k] as number), this.priceDecimals), scaledToText(ladder.qtys[k] as number, this.qtyDecimals)])
      }
      return out
    }
    return { seq: this.seq, bids: text(this.bids, 1), asks: text(this.asks, -1) }
  }

  /** Level `k` from the top (0 = best). */
  private levelAt(ladder: Ladder, sign: 1 | -1, k: number): BookLevel | undefined {
    const i = ladder.keys.length - 1 - k
    if (i < 0) return undefined
    return {
      price: scaledToDecimal(sign * (ladder.keys[i] as number), this.priceDecimals),
      qty: scaledToDecimal(ladder.qtys[i] as number, this.qtyDecimals)
    }
  }
}

/** The typed error for a non-Ok code, for callers outside the hot path (logs, metrics, the sync machine). */
export const bookError = (book: OrderBook, code: BookCode, input: string): BookError =>
  new BookError({ instrumentId: book.instrumentId, code, reason: CODE_REASON[code], input })
