import { describe, it, expect } from "vitest"
import fc from "fast-check"
import { Either } from "effect"
import { dec, Decimal } from "../../src/domain/decimal.js"
import { BookCode, bookError, OrderBook, type BookSide } from "../../src/domain/book.js"
import { applyScannedDelta, BookDeltaScanner } from "../../src/domain/book-delta-text.js"
import { scaledToText } from "../../src/domain/fixed-point.js"
import type { InstrumentId } from "../../src/domain/ids.js"
import { makeInstrument } from "../../src/domain/instrument.js"

const ID = "kraken-futures:PI_XBTUSD" as InstrumentId
const newBook = (priceDecimals = 1, qtyDecimals = 4): OrderBook => Either.getOrThrow(OrderBook.make({ instrumentId: ID, priceDecimals, qtyDecimals }))

const levels = (book: OrderBook, n: number) => {
  const d = book.depth(n)
  const show = (ls: ReadonlyArray<{ price: Decimal; qty: Decimal }>) => ls.map((l) => [l.price.toString(), l.qty.toString()])
  return { bids: show(d.bids), asks: show(d.asks) }
}

/** The naive reference: a Map of price -> qty per side, sorted on demand with Decimal. */
class ReferenceBook {
  bids = new Map<string, Decimal>()
  asks = new Map<string, Decimal>()
  seq = -1
  snapshot(seq: number, bids: ReadonlyArray<readonly [string, string]>, asks: ReadonlyArray<readonly [string, string]>) {
    this.bids = new Map()
    this.asks = new Map()
    for (const [p, q] of bids) this.set("bid", p, q)
    for (const [p, q] of asks) this.set("ask", p, q)
    this.seq = seq
  }
  set(side: BookSide, price: string, qty: string) {
    const m = side === "bid" ? this.bids : this.asks
    const key = new Decimal(price).toString()
    if (new Decimal(qty).isZero()) m.delete(key)
    else m.set(key, new Decimal(qty))
  }
  sorted(side: BookSide): Array<[string, string]> {
    const m = side === "bid" ? this.bids : this.asks
    return [...m.entries()]
      .sort(([a], [b]) => (side === "bid" ? new Decimal(b).comparedTo(a) : new Decimal(a).comparedTo(b)))
      .map(([p, q]) => [p, q.toString()])
  }
  depth(n: number) {
    return { bids: this.sorted("bid").slice(0, n), asks: this.sorted("ask").slice(0, n) }
  }
  crossed(): boolean {
    const b = this.sorted("bid")[0]
    const a = this.sorted("ask")[0]
    return b !== undefined && a !== undefined && new Decimal(b[0]).greaterThanOrEqualTo(a[0])
  }
}

// Prices on a 0.5 tick around 100, so levels collide often, cross sometimes, and span many shifts.
const priceText = fc.integer({ min: 150, max: 250 }).map((halfTicks) => scaledToText(halfTicks * 5, 1))
const qtyText = fc.oneof(fc.constant("0"), fc.integer({ min: 1, max: 2_000_000 }).map((u) => scaledToText(u, 4)))
const side = fc.constantFrom<BookSide>("bid", "ask")
const levelList = fc.array(fc.tuple(priceText, qtyText), { maxLength: 40 })

describe("L2 order book", () => {
  it("matches a naive price -> qty map over random snapshots and deltas (best, depth, mid, crossed)", () => {
    fc.assert(
      fc.property(
        levelList,
        levelList,
        fc.array(fc.tuple(side, priceText, qtyText, fc.boolean()), { maxLength: 200 }),
        fc.integer({ min: 1, max: 12 }),
        (snapBids, snapAsks, deltas, n) => {
          const book = newBook()
          const ref = new ReferenceBook()
          expect(book.applySnapshotText({ seq: 10, bids: snapBids, asks: snapAsks })).toBe(BookCode.Ok)
          ref.snapshot(10, snapBids, snapAsks)
          let seq = 10
          for (const [s, p, q, viaDecimal] of deltas) {
            seq++
            const code = viaDecimal ? book.applyDelta(s, dec(p), dec(q), seq) : book.applyDeltaText(s, p, q, seq)
            expect(code).toBe(BookCode.Ok)
            ref.set(s, p, q)
            expect(book.sequence).toBe(seq)
            expect(book.isCrossed()).toBe(ref.crossed())
            const top = ref.depth(1)
            expect(book.bestBid()?.price.toString()).toBe(top.bids[0]?.[0])
            expect(book.bestAsk()?.price.toString()).toBe(top.asks[0]?.[0])
            expect(book.bestAsk()?.qty.toString()).toBe(top.asks[0]?.[1])
          }
          expect(levels(book, n)).toEqual(ref.depth(n))
          expect(levels(book, 1000)).toEqual(ref.depth(1000))
          expect(book.levelCount("bid")).toBe(ref.bids.size)
          const b = ref.depth(1).bids[0]
          const a = ref.depth(1).asks[0]
          expect(book.mid()?.toString()).toBe(b && a ? new Decimal(b[0]).plus(a[0]).dividedBy(2).toString() : undefined)
          // The persisted form restores the same book.
          const restored = newBook()
          expect(restored.applySnapshotText(book.toSnapshotText())).toBe(BookCode.Ok)
          expect(levels(restored, 1000)).toEqual(levels(book, 1000))
          expect(restored.sequence).toBe(book.sequence)
        }
      ),
      { numRuns: 300 }
    )
  })

  it("keeps bids best-first descending and asks best-first ascending", () => {
    const book = newBook()
    book.applySnapshotText({ seq: 1, bids: [["100", "1"], ["101.5", "2"], ["99", "3"]], asks: [["103", "1"], ["102", "4"], ["110.5", "5"]] })
    expect(levels(book, 10)).toEqual({
      bids: [["101.5", "2"], ["100", "1"], ["99", "3"]],
      asks: [["102", "4"], ["103", "1"], ["110.5", "5"]]
    })
    expect(book.mid()?.toString()).toBe("101.75")
    expect(book.bestBidUnits()).toBe(1015)
    expect(book.bestAskUnits()).toBe(1020)
  })

  it("sets a level's size absolutely and removes it on size zero", () => {
    const book = newBook()
    book.applySnapshotText({ seq: 1, bids: [["100", "1"]], asks: [["101", "1"]] })
    expect(book.applyDeltaText("bid", "100", "7.25", 2)).toBe(BookCode.Ok)
    expect(book.bestBid()?.qty.toString()).toBe("7.25")
    expect(book.applyDeltaText("bid", "100", "0", 3)).toBe(BookCode.Ok)
    expect(book.bestBid()).toBeUndefined()
    expect(book.applyDeltaText("ask", "100.5", "0", 4)).toBe(BookCode.Ok)
    expect(book.levelCount("ask")).toBe(1)
  })

  it("flags a crossed or locked book", () => {
    const book = newBook()
    book.applySnapshotText({ seq: 1, bids: [["100", "1"]], asks: [["101", "1"]] })
    expect(book.isCrossed()).toBe(false)
    book.applyDeltaText("bid", "101", "1", 2)
    expect(book.isCrossed()).toBe(true)
    book.applyDeltaText("bid", "101", "0", 3)
    book.applyDeltaText("ask", "99.5", "2", 4)
    expect(book.isCrossed()).toBe(true)
  })

  it("refuses a replayed or out-of-order sequence and leaves the book unchanged", () => {
    const book = newBook()
    book.applySnapshotText({ seq: 100, bids: [["100", "1"]], asks: [] })
    expect(book.applyDeltaText("bid", "100", "5", 100)).toBe(BookCode.StaleSequence)
    expect(book.applyDeltaText("bid", "100", "5", 99)).toBe(BookCode.StaleSequence)
    expect(book.bestBid()?.qty.toString()).toBe("1")
    expect(book.sequence).toBe(100)
    expect(book.applyDeltaText("bid", "100", "5", 105)).toBe(BookCode.Ok)
    expect(book.sequence).toBe(105)
  })

  it("refuses prices and sizes it cannot hold exactly, with a code, and leaves the book unchanged", () => {
    const book = newBook(1, 0)
    book.applySnapshotText({ seq: 1, bids: [["100", "1"]], asks: [] })
    expect(book.applyDeltaText("bid", "100.25", "1", 2)).toBe(BookCode.TooPrecise)
    expect(book.applyDeltaText("bid", "100", "0.5", 3)).toBe(BookCode.TooPrecise)
    expect(book.applyDeltaText("bid", "1e20", "1", 4)).toBe(BookCode.TooLarge)
    expect(book.applyDeltaText("bid", "abc", "1", 5)).toBe(BookCode.Malformed)
    expect(book.applyDeltaText("bid", "100", "-1", 6)).toBe(BookCode.Negative)
    expect(book.applyDelta("ask", dec("100.05"), dec(1), 7)).toBe(BookCode.TooPrecise)
    expect(book.sequence).toBe(1)
    expect(levels(book, 5)).toEqual({ bids: [["100", "1"]], asks: [] })
    expect(bookError(book, BookCode.TooPrecise, "100.25")).toMatchObject({ _tag: "BookError", code: 2, instrumentId: ID })
  })

  it("applies a snapshot all-or-nothing", () => {
    const book = newBook()
    book.applySnapshotText({ seq: 1, bids: [["100", "1"]], asks: [["101", "1"]] })
    expect(book.applySnapshotText({ seq: 2, bids: [["90", "1"], ["91.23", "1"]], asks: [] })).toBe(BookCode.TooPrecise)
    expect(levels(book, 5)).toEqual({ bids: [["100", "1"]], asks: [["101", "1"]] })
    expect(book.sequence).toBe(1)
  })

  it("stays exact at the edge of its scale where floats would not", () => {
    const book = newBook(8, 8)
    book.applySnapshotText({ seq: 1, bids: [["0.1", "0.2"], ["0.30000000", "0.00000001"]], asks: [["90071992.54740991", "1"]] })
    expect(levels(book, 5)).toEqual({ bids: [["0.3", "0.00000001"], ["0.1", "0.2"]], asks: [["90071992.54740991", "1"]] })
    expect(book.applyDeltaText("ask", "90071992.54740992", "1", 2)).toBe(BookCode.TooLarge)
  })

  it("takes its scale from the instrument's tick and lot sizes", () => {
    const instrument = Either.getOrThrow(
      makeInstrument({ id: "kraken-futures:PF_ETHUSD", kind: "linearPerpetual", base: "ETH", quote: "USD", tickSize: "0.05", lotSize: "0.001", minQty: "0.001", maxQty: "10000", contractSize: "1", tradable: true })
    )
    const book = OrderBook.forInstrument(instrument)
    expect([book.priceDecimals, book.qtyDecimals]).toEqual([2, 3])
    expect(Either.isLeft(OrderBook.make({ instrumentId: ID, priceDecimals: 16, qtyDecimals: 0 }))).toBe(true)
  })

  it("applies a venue message's price and qty in place, from the scanner's offsets", () => {
    const book = newBook(1, 4)
    const scanner = new BookDeltaScanner()
    const message = `{"feed":"book","product_id":"PF_XBTUSD","side":"sell","seq":7,"price":34981.5,"qty":1.2345,"timestamp":1}`
    expect(scanner.scan(message)).toBe(true)
    expect(book.applyDeltaRange(scanner.side === "buy" ? "bid" : "ask", message, scanner.priceStart, scanner.priceEnd, scanner.qtyStart, scanner.qtyEnd, scanner.seq)).toBe(BookCode.Ok)
    expect(levels(book, 1)).toEqual({ bids: [], asks: [["34981.5", "1.2345"]] })
    expect(book.sequence).toBe(7)
  })

  it("applies scanned deltas the same whether the message took the byte path or the text path", () => {
    const viaBytes = newBook(1, 4)
    const viaText = newBook(1, 4)
    const scanner = new BookDeltaScanner()
    const messages = [
      [`{"feed":"book","product_id":"PF_XBTUSD","side":"buy","seq":1,"price":100.5,"qty":2,"timestamp":1}`, true],
      [`{"feed":"book","product_id":"PF_XBTUSD","side":"sell","seq":2,"price":1.015e2,"qty":0.0003,"timestamp":1}`, true],
      [`{"feed":"book","product_id":"PF_XBTUSD","side":"buy","seq":3,"price":100.5,"qty":0.0,"timestamp":1}`, true]
    ] as const
    for (const [message, ascii] of messages) {
      expect(scanner.scan(message)).toBe(true)
      expect(scanner.ascii).toBe(ascii)
      expect(applyScannedDelta(viaBytes, scanner)).toBe(BookCode.Ok)
      // The same message with a non-ASCII product id cannot use the byte copy.
      expect(scanner.scan(message.replace("PF_XBTUSD", "PF_XBTUSD\u00e9"))).toBe(true)
      expect(scanner.scan(message.replace("PF_XBTUSD", "PF_XBTUSDé"))).toBe(true)
      expect(scanner.ascii).toBe(false)
      expect(applyScannedDelta(viaText, scanner)).toBe(BookCode.Ok)
    }
    expect(levels(viaBytes, 5)).toEqual({ bids: [], asks: [["101.5", "0.0003"]] })
    expect(levels(viaText, 5)).toEqual(levels(viaBytes, 5))
    expect(scanner.scan(`{"feed":"book","product_id":"X","side":"buy","seq":4,"price":100.55,"qty":1,"timestamp":1}`)).toBe(true)
    expect(applyScannedDelta(viaBytes, scanner)).toBe(BookCode.TooPrecise)
  })

  it("clears to an empty book awaiting a snapshot", () => {
    const book = newBook()
    book.applySnapshotText({ seq: 5, bids: [["100", "1"]], asks: [["101", "1"]] })
    book.clear()
    expect(book.sequence).toBe(-1)
    expect(book.bestBid()).toBeUndefined()
    expect(book.mid()).toBeUndefined()
    expect(book.depth(3)).toEqual({ bids: [], asks: [] })
  })
})
