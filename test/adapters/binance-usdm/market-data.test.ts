import { Either } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { MarketDataSink } from "../../../src/actors/ports/market-data.js"
import { parseBookSnapshotText } from "../../../src/actors/instrument/book-snapshot-text.js"
import { mapExchangeInfo } from "../../../src/adapters/venues/binance-usdm/instruments.js"
import { makeBinanceMarketDataPort, type BinanceMarketDataPort } from "../../../src/adapters/venues/binance-usdm/market-data.js"
import { participants } from "../../../src/adapters/venues/simulator/participants.js"
import { startSimulator, type Simulator } from "../../../src/adapters/venues/simulator/server.js"
import { OrderBook, BookCode } from "../../../src/domain/book.js"
import { applyScannedDelta, BookDeltaScanner } from "../../../src/domain/book-delta-text.js"
import { Decimal } from "../../../src/domain/decimal.js"
import type { MarketEvent } from "../../../src/domain/events/market.js"
import type { InstrumentId } from "../../../src/domain/ids.js"

/**
 * The Binance USD-M market data port against the simulator's Binance face over loopback. A sink
 * that does what the instrument actor does (the domain book, the Kraken-form text parsers, seq
 * must be book.sequence + 1, `disconnected` → resync) must end with the engine's own book after
 * thousands of updates with injected `pu` breaks, each costing exactly one snapshot.
 */
const BTC = "binance-usdm:BTCUSDT" as InstrumentId

class ActorLikeSink implements MarketDataSink {
  readonly book = Either.getOrThrow(OrderBook.make({ instrumentId: BTC, priceDecimals: 1, qtyDecimals: 3 }))
  private readonly scanner = new BookDeltaScanner()
  statuses: string[] = []
  syncing = true
  snapshots = 0
  deltas = 0
  seqViolations = 0
  badFrames = 0
  readonly events: MarketEvent[] = []
  constructor(private readonly resync: () => void) {}
  text = (frame: string): void => {
    if (this.scanner.scan(frame)) {
      if (this.syncing) return
      if (this.scanner.seq !== this.book.sequence + 1) this.seqViolations++
      if (applyScannedDelta(this.book, this.scanner) !== BookCode.Ok) this.badFrames++
      this.deltas++
      return
    }
    const snap = parseBookSnapshotText(frame)
    if (Either.isLeft(snap) || this.book.applySnapshotText(snap.right) !== BookCode.Ok) {
      this.badFrames++
      return
    }
    this.snapshots++
    this.syncing = false
  }
  event = (e: MarketEvent): void => void this.events.push(e)
  status = (s: "subscribed" | "disconnected"): void => {
    this.statuses.push(s)
    if (s === "disconnected") {
      this.syncing = true
      this.resync()
    }
  }
}

const norm = (levels: ReadonlyArray<readonly [{ toFixed(): string } | string, { toFixed(): string } | string]>) =>
  levels.map(([p, q]) => `${new Decimal(typeof p === "string" ? p : p.toFixed()).toFixed()}@${new Decimal(typeof q === "string" ? q : q.toFixed()).toFixed()}`)

describe("Binance USD-M market data port against the simulator's face", () => {
  let sim: Simulator
  let port: BinanceMarketDataPort
  beforeAll(async () => {
    sim = await startSimulator({ accounts: [{ name: "me", apiKey: "k", apiSecret: "s" }], market: { kind: "synthetic", rate: 0 }, instruments: ["BTCUSDT"], model: { fundingIntervalMs: 0 }, binance: {} })
  })
  afterAll(async () => {
    await port?.stop()
    await sim.stop()
  })

  it("the face's exchangeInfo maps to a BTCUSDT instrument with the face's tick and lot", async () => {
    const face = sim.binance!
    const load = mapExchangeInfo(await (await fetch(`${face.url}/fapi/v1/exchangeInfo`)).json())
    expect(load.errors).toEqual([])
    const btc = load.instruments.find((i) => i.instrument.id === BTC)!
    expect([btc.instrument.tickSize.toFixed(), btc.instrument.lotSize.toFixed(), btc.minNotional?.toFixed(), btc.maxOrders]).toEqual(["0.1", "0.001", "5", 200])
  })

  it("the adapter's book equals the engine's after 100 000 updates with injected pu breaks, each forcing exactly one resync", { timeout: 120_000 }, async () => {
    const face = sim.binance!
    port = makeBinanceMarketDataPort({ restUrl: face.url, wsUrl: face.url.replace("http", "ws"), extraStreams: ["bookTicker", "aggTrade"], staleAfterMs: 60_000 })
    const sink = new ActorLikeSink(() => port.resync(BTC))
    port.start()
    port.subscribe(BTC, sink)
    const until = async (cond: () => boolean, ms = 10_000) => {
      const deadline = Date.now() + ms
      while (!cond() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
    }
    await until(() => sink.snapshots === 1)
    expect(sink.statuses).toEqual(["subscribed"])
    const run = participants(sim, ["BTCUSDT"], { BTCUSDT: { tick: "0.1", lot: "0.001" } }, 11)
    // 100 000 level updates (Kraken-form book frames, one per changed level), a pu break every ~10 000.
    const TARGET = 100_000
    const BREAK_EVERY = 10_000
    let breaks = 0
    let expectedSnapshots = 1
    while (sink.deltas < TARGET) {
      if (sink.deltas >= (breaks + 1) * BREAK_EVERY && sink.deltas < TARGET - BREAK_EVERY / 2) {
        face.streams.injectBreak("BTCUSDT")
        run(20)
        breaks++
        expectedSnapshots++
        await until(() => port.counters().snapshots === sink.snapshots && sink.snapshots === expectedSnapshots && !sink.syncing)
        expect(sink.snapshots).toBe(expectedSnapshots)
      }
      run(1000)
      // Let the port keep up (bounded socket buffers), without waiting for every chunk to drain.
      await until(() => (port.depth("BTCUSDT")?.lastU ?? 0) >= face.streams.lastUpdateId("BTCUSDT") - 3000, 2000)
    }
    await until(() => !sink.syncing && port.depth("BTCUSDT")?.lastU === face.streams.lastUpdateId("BTCUSDT"))
    const c = port.counters()
    expect(breaks).toBeGreaterThanOrEqual(9)
    expect(c.breaks).toBe(breaks)
    expect(c.snapshotFetches).toBe(breaks + 1) // the first, and exactly one per break
    expect(c.resyncs).toBe(0) // the sink's resync on `disconnected` joined the fetch already running
    expect(sink.snapshots).toBe(breaks + 1)
    expect(sink.statuses).toEqual(["subscribed", ...Array.from({ length: breaks }, () => ["disconnected", "subscribed"]).flat()])
    expect(sink.seqViolations).toBe(0)
    expect(sink.badFrames).toBe(0)
    expect(sink.deltas).toBeGreaterThanOrEqual(TARGET)
    const depth = sim.admin.exchange.engine.depth("BTCUSDT")
    const mine = sink.book.toSnapshotText()
    expect(norm(mine.bids)).toEqual(norm(depth.bids))
    expect(norm(mine.asks)).toEqual(norm(depth.asks))
    // bookTicker and aggTrade arrive as canonical events.
    const trades = sink.events.filter((e) => e._tag === "Trade")
    const tickers = sink.events.filter((e) => e._tag === "Ticker")
    expect(trades.length).toBeGreaterThan(0)
    expect(tickers.length).toBeGreaterThan(0)
    const lastTicker = tickers[tickers.length - 1]!
    expect(lastTicker._tag === "Ticker" && lastTicker.bid?.toFixed()).toBe(new Decimal(depth.bids[0]![0].toFixed()).toFixed())
  })
})
