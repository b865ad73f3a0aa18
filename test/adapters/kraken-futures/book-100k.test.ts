import { Either } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { KrakenMarketData, type MarketDataSignal } from "../../../src/adapters/venues/kraken-futures/market-data.js"
import { participants } from "../../../src/adapters/venues/simulator/participants.js"
import { startSimulator, type Simulator } from "../../../src/adapters/venues/simulator/server.js"
import { OrderBook, BookCode } from "../../../src/domain/book.js"
import { Decimal, dec } from "../../../src/domain/decimal.js"
import type { MarketEvent } from "../../../src/domain/events/market.js"
import type { InstrumentId } from "../../../src/domain/ids.js"

/**
 * Soak over loopback: the adapter's L2 book equals the simulator's own book after 100k book
 * updates, with gaps injected along the way that force resyncs (and exactly one resync each).
 *
 * The flow: the simulator's own synthetic market (stepped by hand) plus other participants
 * acting on the exchange directly (post-only makers, IOC takers, cancels). The synthetic
 * market alone is too slow for 100k updates here: its makers scan every order the engine has
 * ever seen on each step, so a step costs more as the run goes on.
 */

const PRODUCTS = ["PF_XBTUSD", "PF_ETHUSD"] as const
type Product = (typeof PRODUCTS)[number]
const UPDATES = 100_000
const CHUNK_OPS = 2_000
const SYNTHETIC_STEPS_PER_CHUNK = 40
// Chunk indexes at which a gap is injected into a product's book feed.
const GAPS: ReadonlyArray<readonly [chunk: number, product: Product]> = [
  [5, "PF_XBTUSD"],
  [12, "PF_ETHUSD"],
  [20, "PF_XBTUSD"],
  [28, "PF_ETHUSD"],
  [36, "PF_XBTUSD"]
]
const SPEC: Record<Product, { tick: string; lot: string; priceDecimals: number; qtyDecimals: number }> = {
  PF_XBTUSD: { tick: "0.5", lot: "0.01", priceDecimals: 1, qtyDecimals: 4 },
  PF_ETHUSD: { tick: "0.1", lot: "0.01", priceDecimals: 1, qtyDecimals: 3 }
}



const until = async (what: string, ok: () => boolean, ms = 10_000): Promise<void> => {
  const end = Date.now() + ms
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 1))
  }
}

const text = (levels: ReadonlyArray<readonly [string | Decimal, string | Decimal]>): ReadonlyArray<string> => levels.map(([p, q]) => `${dec(String(p)).toFixed()} ${dec(String(q)).toFixed()}`)

let sim: Simulator
beforeAll(async () => {
  // rate 0: no market timer; the test steps the synthetic market itself, as fast as it goes.
  sim = await startSimulator({ seed: 3, instruments: [...PRODUCTS], market: { kind: "synthetic", rate: 0 }, heartbeatMs: 1_000, tickerMs: 60_000 })
})
afterAll(async () => {
  await sim.stop()
})

describe("kraken-futures book against the simulator: 100k updates with injected gaps", () => {
  it("ends level-for-level equal to the simulator's book, one resync per gap", async () => {
    const books = new Map<string, OrderBook>(
      PRODUCTS.map((p) => [`kraken-futures:${p}`, Either.getOrThrow(OrderBook.make({ instrumentId: `kraken-futures:${p}` as InstrumentId, priceDecimals: SPEC[p].priceDecimals, qtyDecimals: SPEC[p].qtyDecimals }))])
    )
    const bookOf = (p: Product) => books.get(`kraken-futures:${p}`) as OrderBook
    const snapshots = new Map<string, number>()
    const signals: MarketDataSignal[] = []
    let deltas = 0
    let badApplies = 0
    const onEvent = (e: MarketEvent): void => {
      if (e._tag === "BookDelta") {
        const level = e.bids[0] ?? e.asks[0]
        const code = level === undefined ? BookCode.StaleSequence : (books.get(e.instrument) as OrderBook).applyDelta(e.bids.length > 0 ? "bid" : "ask", level[0], level[1], e.seq)
        if (code !== BookCode.Ok) badApplies++
        deltas++
      } else if (e._tag === "BookSnapshot") {
        snapshots.set(e.instrument, (snapshots.get(e.instrument) ?? 0) + 1)
        const lv = ([price, qty]: readonly [Decimal, Decimal]) => ({ price, qty })
        if ((books.get(e.instrument) as OrderBook).applySnapshot({ seq: e.seq, bids: e.bids.map(lv), asks: e.asks.map(lv) }) !== BookCode.Ok) badApplies++
      }
    }
    const md = new KrakenMarketData({ url: sim.wsUrl, products: [...PRODUCTS], feeds: ["book"], onEvent, onSignal: (s) => signals.push(s) })
    const feed = sim.admin.exchange.publicFeed
    const caughtUp = () => PRODUCTS.every((p) => bookOf(p).sequence === feed.seq(p))
    const published = () => PRODUCTS.reduce((n, p) => n + feed.seq(p), 0)
    const compare = (p: Product) => {
      const truth = sim.admin.book(p) as { seq: number; bids: ReadonlyArray<[Decimal, Decimal]>; asks: ReadonlyArray<[Decimal, Decimal]> }
      const ours = bookOf(p).toSnapshotText()
      expect({ product: p, seq: ours.seq, bids: text(ours.bids), asks: text(ours.asks) }).toEqual({ product: p, seq: truth.seq, bids: text(truth.bids), asks: text(truth.asks) })
      return truth.bids.length + truth.asks.length
    }
    const flow = participants(sim, PRODUCTS, SPEC, 99)
    md.start()
    try {
      await until("both snapshots", () => PRODUCTS.every((p) => (snapshots.get(`kraken-futures:${p}`) ?? 0) === 1))
      const started = published()
      let injected = 0
      for (let chunk = 0; published() - started < UPDATES; chunk++) {
        for (const [at, product] of GAPS) {
          if (at !== chunk) continue
          sim.admin.injectGap(product)
          injected++
        }
        sim.admin.stepMarket(SYNTHETIC_STEPS_PER_CHUNK)
        flow(CHUNK_OPS)
        // Keep the client close behind: every gap resyncs on its own, and memory stays flat.
        await until(`client at chunk ${chunk}`, caughtUp)
        if (chunk % 10 === 9) for (const p of PRODUCTS) compare(p)
      }
      sim.admin.pauseMarket()
      await until("the last seq", caughtUp)
      const updates = published() - started
      expect(updates).toBeGreaterThanOrEqual(UPDATES)
      expect(injected).toBe(GAPS.length)
      let levels = 0
      for (const p of PRODUCTS) levels += compare(p)
      expect(levels).toBeGreaterThan(20)
      const gaps = signals.filter((s) => s._tag === "SequenceGap")
      const resyncs = [...snapshots.values()].reduce((n, k) => n + k - 1, 0)
      expect(gaps.length).toBe(GAPS.length)
      expect(md.counters().gaps).toBe(GAPS.length)
      expect(resyncs).toBe(GAPS.length)
      for (const p of PRODUCTS) expect(snapshots.get(`kraken-futures:${p}`)).toBe(1 + GAPS.filter(([, q]) => q === p).length)
      expect(badApplies).toBe(0)
      expect(md.counters().decodeErrors).toBe(0)
      // Nearly every published update was applied: only the gaps' resync windows cost some.
      expect(deltas).toBeGreaterThan(updates * 0.95)
      expect(signals.some((s) => s._tag === "Disconnected")).toBe(false)
    } finally {
      await md.stop()
    }
  }, 60_000)
})
