import { OrderBook, BookCode, type BookSnapshotText, type LevelText } from "../src/domain/book.js"
import { applyScannedDelta, BookDeltaScanner } from "../src/domain/book-delta-text.js"
import type { InstrumentId } from "../src/domain/ids.js"
import { rateFigure, throughput, type Bench, type Figure } from "./harness.js"

/**
 * md.book_apply: Kraken Futures book deltas as the TEXT the socket delivers, scanned and applied
 * to the L2 book, against bare JSON.parse of the same messages (which yields float prices and
 * applies nothing). The feed is synthetic but shaped like the real one: a mid on a random walk,
 * updates concentrated near the touch, about 20% deletes, seq increasing by one.
 */

const COUNT = 100_000
const PRODUCT = "PF_XBTUSD"
const TICK_DECIMALS = 1 // tick 0.5
const LOT_DECIMALS = 4 // lot 0.0001

// Deterministic so runs compare (mulberry32).
const rng = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

interface Feed {
  readonly snapshot: BookSnapshotText
  readonly messages: ReadonlyArray<string>
}

// Prices are half-ticks counted as integers; 0.5 * n and n / 10^4 print as their exact short decimals.
const priceOf = (halfTicks: number): number => halfTicks / 2
const qtyOf = (lots: number): number => lots / 10_000

const generate = (): Feed => {
  const random = rng(42)
  let mid = 69_963 // in half-ticks: 34981.5
  const bids = new Map<number, number>()
  const asks = new Map<number, number>()
  const distance = () => Math.floor(-Math.log(1 - random()) * 6) // mostly within a few ticks of the touch
  const lots = () => 1 + Math.floor(random() ** 3 * 200_000)
  for (let d = 0; d < 25; d++) {
    bids.set(mid - 1 - d, lots())
    asks.set(mid + 1 + d, lots())
  }
  const level = (m: Map<number, number>): LevelText[] => [...m].map(([p, q]) => [String(priceOf(p)), String(qtyOf(q))] as const)
  const snapshot: BookSnapshotText = { seq: 326_094_133, bids: level(bids), asks: level(asks) }
  let seq = snapshot.seq
  let ts = 1_612_269_953_629
  const messages: string[] = []
  const emit = (side: "buy" | "sell", price: number, qty: number) => {
    seq++
    ts += random() < 0.3 ? 1 : 0
    messages.push(JSON.stringify({ feed: "book", product_id: PRODUCT, side, seq, price: priceOf(price), qty: qtyOf(qty), timestamp: ts }))
  }
  while (messages.length < COUNT) {
    if (random() < 0.03) {
      mid += random() < 0.5 ? -1 : 1
      // The venue removes levels the mid walked through, as deletes of their own.
      for (const p of [...bids.keys()]) {
        if (p < mid) continue
        bids.delete(p)
        emit("buy", p, 0)
      }
      for (const p of [...asks.keys()]) {
        if (p > mid) continue
        asks.delete(p)
        emit("sell", p, 0)
      }
    }
    const isBid = random() < 0.5
    const book = isBid ? bids : asks
    const price = isBid ? mid - 1 - distance() : mid + 1 + distance()
    if (random() < 0.19 && book.size > 0) {
      // Delete the level at that distance if there is one, else the one nearest to it.
      let target = price
      if (!book.has(target)) for (const p of book.keys()) if (Math.abs(p - price) < Math.abs(target - price) || !book.has(target)) target = p
      book.delete(target)
      emit(isBid ? "buy" : "sell", target, 0)
    } else {
      const q = lots()
      book.set(price, q)
      emit(isBid ? "buy" : "sell", price, q)
    }
  }
  return { snapshot, messages: messages.slice(0, COUNT) }
}

/** The book after all messages, computed the slow obvious way, to prove the fast path applied them right. */
const reference = (feed: Feed): string => {
  const sides = { buy: new Map<string, string>(), sell: new Map<string, string>() }
  for (const [p, q] of feed.snapshot.bids) sides.buy.set(p, q)
  for (const [p, q] of feed.snapshot.asks) sides.sell.set(p, q)
  for (const m of feed.messages) {
    const d = JSON.parse(m) as { side: "buy" | "sell"; price: number; qty: number }
    if (d.qty === 0) sides[d.side].delete(String(d.price))
    else sides[d.side].set(String(d.price), String(d.qty))
  }
  const sorted = (m: Map<string, string>, desc: boolean) => [...m].sort(([a], [b]) => (desc ? Number(b) - Number(a) : Number(a) - Number(b)))
  return JSON.stringify({ bids: sorted(sides.buy, true), asks: sorted(sides.sell, false) })
}

const depthText = (book: OrderBook): string => {
  const s = book.toSnapshotText()
  return JSON.stringify({ bids: s.bids, asks: s.asks })
}

const run = async (): Promise<ReadonlyArray<Figure>> => {
  const feed = generate()
  const deletes = feed.messages.filter((m) => m.includes(`"qty":0,`)).length
  const book = OrderBook.make({ instrumentId: `kraken-futures:${PRODUCT}` as InstrumentId, priceDecimals: TICK_DECIMALS, qtyDecimals: LOT_DECIMALS })
  if (book._tag === "Left") throw book.left
  const b = book.right
  const scanner = new BookDeltaScanner()
  let failures = 0
  let k = 0
  // k counts the messages applied since the last snapshot, the current one included.
  const reset = () => {
    b.applySnapshotText(feed.snapshot)
    k = 1
  }
  const apply = (m: string): void => {
    // Each pass over the messages replays the same sequence numbers, so start each from the snapshot.
    if (k++ === COUNT) reset()
    if (!scanner.scan(m)) {
      failures++
      return
    }
    if (applyScannedDelta(b, scanner) !== BookCode.Ok) failures++
  }

  // One checked pass first: the fast path must build the same book as the obvious one.
  k = COUNT
  for (const m of feed.messages) apply(m)
  const verified = failures === 0 && depthText(b) === reference(feed)
  const levels = b.levelCount("bid") + b.levelCount("ask")
  if (!verified) process.stderr.write(`md.book_apply: fast path disagrees with the reference (failures: ${failures})\n`)
  k = COUNT

  let sink: unknown
  const parse = (m: string): void => {
    sink = JSON.parse(m)
  }
  const scanOnly = (m: string): void => {
    if (!scanner.scan(m)) failures++
  }
  // Interleaved so drift (thermal, GC) hits both sides alike; best of each.
  let base = 0
  let ours = 0
  let scan = 0
  for (let round = 0; round < 3; round++) {
    base = Math.max(base, throughput(feed.messages, parse))
    ours = Math.max(ours, throughput(feed.messages, apply))
    scan = Math.max(scan, throughput(feed.messages, scanOnly))
  }
  void sink
  const bytes = feed.messages.reduce((n, m) => n + m.length, 0) / feed.messages.length
  return [
    rateFigure("md.book_apply", ours, "JSON.parse", base, { messages: COUNT, deletes_pct: Math.round((deletes / COUNT) * 1000) / 10, avg_bytes: Math.round(bytes), final_levels: levels, verified, failures }),
    rateFigure("md.book_delta_scan", scan, "JSON.parse", base, { note: "scan only, no book apply" })
  ]
}

export const benches: ReadonlyArray<Bench> = [{ name: "md.book_apply", run }]
