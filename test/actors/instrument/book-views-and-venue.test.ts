import { Either } from "effect"
import { describe, expect, it } from "vitest"
import { BookViewPublisher } from "../../../src/actors/instrument/book-views.js"
import type { BookView } from "../../../src/actors/instrument/book-views.js"
import { SyntheticKrakenMarket } from "../../../src/actors/ports/market-data.js"
import { applyScannedDelta, BookDeltaScanner } from "../../../src/domain/book-delta-text.js"
import { OrderBook } from "../../../src/domain/book.js"
import { parseBookSnapshotText } from "../../../src/actors/instrument/book-snapshot-text.js"
import { instrument } from "./fixtures.js"

const flush = () => new Promise<void>((r) => setImmediate(r))

const bookOf = (): OrderBook => {
  const made = OrderBook.make({ instrumentId: instrument(1).id, priceDecimals: 1, qtyDecimals: 4 })
  if (Either.isLeft(made)) throw made.left
  const book = made.right
  book.applySnapshotText({ seq: 1, bids: [["100.5", "2"], ["100.4", "0.0003"], ["99", "7.5"]], asks: [["101", "1.25"], ["101.2", "3"]] })
  return book
}

describe("book views", () => {
  it("a view reads as the book's levels were when it was built, whatever the book does after", async () => {
    const book = bookOf()
    const views = new BookViewPublisher(book.instrumentId, { book: () => book, status: () => "live", now: () => 42 })
    const top: BookView[] = []
    const deep: BookView[] = []
    views.subscribe((v) => void top.push(v))
    views.subscribe((v) => void deep.push(v), { depth: 2 })
    await flush()
    // The book moves on before anyone reads the views' prices.
    book.applyDeltaText("bid", "100.5", "0", 2)
    book.applyDeltaText("ask", "100.9", "4", 3)
    const [t, d] = [top[0] as BookView, deep[0] as BookView]
    expect(t.seq).toBe(1)
    expect(t.ts).toBe(42)
    expect(t.bestBid?.price.toString()).toBe("100.5")
    expect(t.bestBid?.qty.toString()).toBe("2")
    expect(t.bestAsk?.price.toString()).toBe("101")
    expect(t.bestAsk?.qty.toString()).toBe("1.25")
    expect(t.depth).toBeUndefined()
    expect(t.bestBid).toBe(t.bestBid) // converted once
    expect(d.depth?.bids.map((l) => [l.price.toString(), l.qty.toString()])).toEqual([
      ["100.5", "2"],
      ["100.4", "0.0003"]
    ])
    expect(d.depth?.asks.map((l) => [l.price.toString(), l.qty.toString()])).toEqual([
      ["101", "1.25"],
      ["101.2", "3"]
    ])
    // JSON carries the levels (they are getters, not own fields).
    const json = JSON.parse(JSON.stringify(t)) as { bestBid: { price: string }; bestAsk: { qty: string }; seq: number }
    expect(json.seq).toBe(1)
    expect(json.bestBid.price).toBe("100.5")
    expect(json.bestAsk.qty).toBe("1.25")

    views.publish()
    await flush()
    expect(top[1]?.bestBid?.price.toString()).toBe("100.4")
    expect(top[1]?.bestAsk?.price.toString()).toBe("100.9")
    expect(top[1]?.seq).toBe(3)
  })

  it("an empty side reads as undefined, and depth past the book's levels is what there is", async () => {
    const made = OrderBook.make({ instrumentId: instrument(1).id, priceDecimals: 1, qtyDecimals: 4 })
    if (Either.isLeft(made)) throw made.left
    const book = made.right
    book.applySnapshotText({ seq: 5, bids: [["10", "1"]], asks: [] })
    const views = new BookViewPublisher(book.instrumentId, { book: () => book, status: () => "stale", now: () => 0 })
    const v = views.view(10) as BookView
    expect(v.status).toBe("stale")
    expect(v.bestAsk).toBeUndefined()
    expect(v.depth?.bids.length).toBe(1)
    expect(v.depth?.asks).toEqual([])
    expect(views.view(10)).toBe(v) // shared within a version
  })

  it("unsubscribing stops deliveries", async () => {
    const book = bookOf()
    const views = new BookViewPublisher(book.instrumentId, { book: () => book, status: () => "live", now: () => 0 })
    let n = 0
    const off = views.subscribe(() => void n++)
    await flush()
    off()
    off()
    views.publish()
    await flush()
    expect(n).toBe(1)
    expect(views.subscribers).toBe(0)
  })
})

describe("synthetic venue", () => {
  it("keeps its book within maxDistance of the mid however far the mid walks, and a consumer that applies every frame has the same book", () => {
    const spec = instrument(9)
    const market = new SyntheticKrakenMarket({ instruments: [spec], seed: 3, delivery: "sync", maxDistance: 20 })
    const frames: string[] = []
    market.subscribe(spec.id, { text: (f) => void frames.push(f), event: () => {}, status: () => {} })
    let maxLevels = 0
    for (let i = 0; i < 60_000; i++) {
      market.step(spec.id)
      if (i % 500 === 0) {
        const ref = market.reference(spec.id)
        maxLevels = Math.max(maxLevels, ref.bids.length, ref.asks.length)
      }
    }
    expect(maxLevels).toBeLessThanOrEqual(20)
    const made = OrderBook.make({ instrumentId: spec.id, priceDecimals: spec.priceDecimals, qtyDecimals: spec.qtyDecimals })
    if (Either.isLeft(made)) throw made.left
    const book = made.right
    const snap = parseBookSnapshotText(frames[0] as string)
    if (Either.isLeft(snap)) throw snap.left
    book.applySnapshotText(snap.right)
    const scanner = new BookDeltaScanner()
    let bad = 0
    let lowBid = Infinity
    let highBid = -Infinity
    for (let i = 1; i < frames.length; i++) {
      if (!scanner.scan(frames[i] as string) || applyScannedDelta(book, scanner) !== 0 || book.isCrossed()) bad++
      const bid = book.bestBidUnits()
      if (bid < lowBid) lowBid = bid
      if (bid > highBid) highBid = bid
    }
    expect(bad).toBe(0)
    expect(highBid - lowBid).toBeGreaterThan(40) // the mid walked well past maxDistance
    const ref = market.reference(spec.id)
    expect(book.toSnapshotText()).toEqual({ seq: ref.seq, bids: ref.bids, asks: ref.asks })
  })
})
