import ccxt from "ccxt"
import { Effect, Either } from "effect"
import { WebSocket } from "ws"
import { parseBookSnapshotText } from "../src/actors/instrument/book-snapshot-text.js"
import { decodeDepthEvent, decodeDepthSnapshot, DepthSync, type DepthSnapshot } from "../src/adapters/venues/binance-usdm/market-data.js"
import { makeBinanceRestClient } from "../src/adapters/venues/binance-usdm/rest.js"
import { makeBinanceWsApiClient } from "../src/adapters/venues/binance-usdm/ws-api.js"
import { participants } from "../src/adapters/venues/simulator/participants.js"
import { startSimulator } from "../src/adapters/venues/simulator/server.js"
import { OrderBook, BookCode } from "../src/domain/book.js"
import { applyScannedDelta, BookDeltaScanner } from "../src/domain/book-delta-text.js"
import { dec } from "../src/domain/decimal.js"
import type { InstrumentId } from "../src/domain/ids.js"
import { percentile, rateFigure, round, throughput, type Bench, type Figure } from "./harness.js"

/**
 * Binance USD-M benches against the simulator's Binance face on loopback.
 *
 * md.normalize_apply.binance: `depthUpdate` frames of BTCUSDT and ETHUSDT as the TEXT the routed
 * `/public/ws` socket delivered (recorded once while the face's market moves), after each symbol's
 * REST depth snapshot, through the adapter's path — JSON.parse, `decodeDepthEvent`, the official
 * algorithm (`DepthSync`: U/u/pu continuity), the Kraken-form level frames it writes, scanned into
 * the L2 `OrderBook` as the instrument actor does. Baseline: bare JSON.parse of the same frames.
 * md.normalize_apply.binance_vs_ccxt: the same frames through ccxt.pro.binanceusdm's own
 * `handleOrderBook` (its pu checks, its float order book), after a JSON.parse as its client does.
 * venue.order_roundtrip.binance: a post-only (GTX) order far from the touch → ack, then its cancel,
 * over REST and over the WebSocket API, interleaved in blocks; the figure is the WebSocket API's
 * p50 with REST's as the baseline.
 */

const FRAMES = Number(process.env.BENCH_BINANCE_FRAMES ?? 50_000)
const SYMBOLS = ["BTCUSDT", "ETHUSDT"] as const
const SPEC = { BTCUSDT: { tick: "0.1", lot: "0.001" }, ETHUSDT: { tick: "0.01", lot: "0.01" } }
const KEY = "bench-key"
const SECRET = "bench-secret"

const until = async (what: string, ok: () => boolean, ms = 60_000): Promise<void> => {
  const end = Date.now() + ms
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 2))
  }
}

interface Recording {
  readonly snapshots: ReadonlyMap<string, { readonly text: string; readonly snap: DepthSnapshot }>
  readonly frames: ReadonlyArray<string>
  readonly markets: unknown
}

const record = async (): Promise<Recording> => {
  const sim = await startSimulator({ seed: 17, market: { kind: "synthetic", rate: 0 }, instruments: [...SYMBOLS], model: { fundingIntervalMs: 0 }, binance: { tickMs: 3_600_000 } })
  try {
    const face = sim.binance!
    const frames: string[] = []
    const ws = new WebSocket(`${face.url.replace("http", "ws")}/public/ws`)
    let acked = false
    ws.on("message", (data: Buffer) => {
      const text = data.toString("utf8")
      if (text.includes('"result"')) acked = true
      else if (frames.length < FRAMES && text.includes('"depthUpdate"')) frames.push(text)
    })
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve())
      ws.once("error", reject)
    })
    ws.send(JSON.stringify({ method: "SUBSCRIBE", params: SYMBOLS.map((s) => `${s.toLowerCase()}@depth@100ms`), id: 1 }))
    await until("subscribe ack", () => acked)
    // The official order: subscribed (so buffering), then each symbol's snapshot.
    const snapshots = new Map<string, { text: string; snap: DepthSnapshot }>()
    for (const s of SYMBOLS) {
      const text = await (await fetch(`${face.url}/fapi/v1/depth?symbol=${s}&limit=1000`)).text()
      const snap = decodeDepthSnapshot(JSON.parse(text))
      if (snap === undefined) throw new Error("bad snapshot")
      snapshots.set(s, { text, snap })
    }
    const markets = await (await fetch(`${face.url}/fapi/v1/exchangeInfo`)).json()
    const run = participants(sim, [...SYMBOLS], SPEC, 23)
    while (frames.length < FRAMES) {
      run(200)
      await new Promise((r) => setImmediate(r))
    }
    ws.close()
    return { snapshots, frames, markets }
  } finally {
    await sim.stop()
  }
}

/** The adapter's path: what `makeBinanceMarketDataPort` does per frame, without the socket. */
const oursPipeline = (rec: Recording) => {
  const scanner = new BookDeltaScanner()
  const books = new Map<string, OrderBook>()
  const syncs = new Map<string, DepthSync>()
  let failures = 0
  let breaks = 0
  for (const s of SYMBOLS) {
    const book = Either.getOrThrow(OrderBook.make({ instrumentId: `binance-usdm:${s}` as InstrumentId, priceDecimals: s === "BTCUSDT" ? 1 : 2, qtyDecimals: 3 }))
    books.set(s, book)
    syncs.set(
      s,
      new DepthSync(s, {
        snapshot: (frame) => {
          const snap = parseBookSnapshotText(frame)
          if (Either.isLeft(snap) || book.applySnapshotText(snap.right) !== BookCode.Ok) failures++
        },
        delta: (frame) => {
          if (!scanner.scan(frame) || applyScannedDelta(book, scanner) !== BookCode.Ok) failures++
        },
        broken: () => void breaks++,
        fetchSnapshot: () => {}
      })
    )
  }
  /** Back to the recording's start: each symbol's book from its snapshot (parsed as the port does). */
  const reset = (): void => {
    for (const s of SYMBOLS) {
      const sync = syncs.get(s) as DepthSync
      sync.begin()
      const snap = decodeDepthSnapshot(JSON.parse(rec.snapshots.get(s)!.text))
      if (snap !== undefined) sync.onSnapshot(snap, 0)
    }
  }
  const handle = (text: string): void => {
    const o = JSON.parse(text) as Record<string, unknown>
    const sync = typeof o["s"] === "string" ? syncs.get(o["s"]) : undefined
    if (sync === undefined || o["e"] !== "depthUpdate") return
    const e = decodeDepthEvent(o)
    if (e === undefined) return void failures++
    sync.onEvent(e)
  }
  return { books, reset, handle, stats: () => ({ failures, breaks }) }
}

interface CcxtSide {
  [i: number]: [number, number]
  length: number
}
interface CcxtBook {
  bids: CcxtSide
  asks: CcxtSide
  reset: (snapshot: object) => void
  nonce?: number
}
interface CcxtBinance {
  orderbooks: Record<string, CcxtBook>
  orderBook: (snapshot?: object, depth?: number) => CcxtBook
  handleOrderBook: (client: unknown, message: unknown) => void
  setMarkets: (markets: unknown) => unknown
  parseMarkets: (raw: unknown) => unknown
}

/** ccxt's own handler on its own book, markets from the face's exchangeInfo, fed as its WS client feeds it. */
const ccxtPipeline = (rec: Recording) => {
  const ex = new ccxt.pro.binanceusdm({ options: { fetchCurrencies: false } }) as unknown as CcxtBinance
  ex.setMarkets(ex.parseMarkets((rec.markets as { symbols: unknown }).symbols))
  const client = { url: "ws://127.0.0.1/public/ws", subscriptions: {}, resolve: () => {}, reject: () => {} }
  const symbolOf = (s: string) => (s === "BTCUSDT" ? "BTC/USDT:USDT" : "ETH/USDT:USDT")
  const reset = (): void => {
    for (const s of SYMBOLS) {
      const snap = JSON.parse(rec.snapshots.get(s)!.text) as { lastUpdateId: number; bids: string[][]; asks: string[][] }
      const ob = ex.orderBook()
      ob.reset({ bids: snap.bids.map(([p, q]) => [Number(p), Number(q)]), asks: snap.asks.map(([p, q]) => [Number(p), Number(q)]), nonce: snap.lastUpdateId })
      ex.orderbooks[symbolOf(s)] = ob
    }
  }
  const handle = (text: string): void => {
    ex.handleOrderBook(client, JSON.parse(text))
  }
  return { ex, reset, handle, symbolOf }
}

const side = (levels: ReadonlyArray<readonly [unknown, unknown]>) => levels.map(([p, q]) => `${dec(String(p)).toFixed()}@${dec(String(q)).toFixed()}`).join(",")

const normalize = async (): Promise<ReadonlyArray<Figure>> => {
  const rec = await record()
  const ours = oursPipeline(rec)
  const cc = ccxtPipeline(rec)
  // Checked pass: both books must agree after every recorded frame, with no break on our side.
  ours.reset()
  cc.reset()
  for (const f of rec.frames) {
    ours.handle(f)
    cc.handle(f)
  }
  let agree = true
  for (const s of SYMBOLS) {
    const mine = (ours.books.get(s) as OrderBook).toSnapshotText()
    const theirs = cc.ex.orderbooks[cc.symbolOf(s)]
    if (theirs === undefined) {
      agree = false
      continue
    }
    const arr = (x: CcxtSide) => Array.from({ length: x.length }, (_, i) => x[i] as [number, number])
    if (side(mine.bids) !== side(arr(theirs.bids)) || side(mine.asks) !== side(arr(theirs.asks))) {
      agree = false
      process.stderr.write(`${s}: ours ${mine.bids.length}/${mine.asks.length} ${side(mine.bids.slice(0, 3))} | ${side(mine.asks.slice(0, 3))}; ccxt ${theirs.bids.length}/${theirs.asks.length} ${side(arr(theirs.bids).slice(0, 3))} | ${side(arr(theirs.asks).slice(0, 3))}\n`)
    }
  }
  const checked = ours.stats()
  if (!agree || checked.failures > 0 || checked.breaks > 0) process.stderr.write(`md.normalize_apply.binance: check failed ${JSON.stringify({ agree, ...checked })}\n`)

  // Each pass starts from the snapshots (item -1), then every frame, for all three paths alike.
  const items = [-1, ...rec.frames.map((_, i) => i)]
  const snapshotTexts = SYMBOLS.map((s) => rec.snapshots.get(s)!.text)
  let sink: unknown
  const parseFn = (i: number): void => {
    if (i < 0) for (const t of snapshotTexts) sink = JSON.parse(t)
    else sink = JSON.parse(rec.frames[i] as string)
  }
  const oursFn = (i: number): void => (i < 0 ? ours.reset() : ours.handle(rec.frames[i] as string))
  const ccFn = (i: number): void => (i < 0 ? cc.reset() : cc.handle(rec.frames[i] as string))
  let base = 0
  let fast = 0
  let theirs = 0
  for (let r = 0; r < 3; r++) {
    base = Math.max(base, throughput(items, parseFn))
    fast = Math.max(fast, throughput(items, oursFn))
    theirs = Math.max(theirs, throughput(items, ccFn))
  }
  void sink
  const levels = rec.frames.reduce((n, f) => n + (f.match(/\["/g)?.length ?? 0), 0)
  const extra = { frames: rec.frames.length, levels_per_frame: round(levels / rec.frames.length, 2), avg_bytes: Math.round(rec.frames.reduce((n, f) => n + f.length, 0) / rec.frames.length), verified: agree && checked.failures === 0 && checked.breaks === 0, vs_ccxt_book: agree }
  return [
    rateFigure("md.normalize_apply.binance", fast, "JSON.parse", base, extra),
    rateFigure("md.normalize_apply.binance_vs_ccxt", fast, "ccxt.pro.binanceusdm handleOrderBook", theirs, { frames: rec.frames.length, note: "ccxt: JSON.parse + its own pu checks and float order book" })
  ]
}

const ROUNDTRIPS = 1_000

const roundtrip = async (): Promise<ReadonlyArray<Figure>> => {
  const sim = await startSimulator({
    seed: 5,
    market: { kind: "synthetic", rate: 0 },
    instruments: ["BTCUSDT"],
    model: { fundingIntervalMs: 0 },
    accounts: [{ name: "bench", apiKey: KEY, apiSecret: SECRET, collateralUsd: "100000000" }],
    binance: { tickMs: 3_600_000, limits: { weightPerMinute: 1_000_000_000, ordersPer10s: 1_000_000_000, ordersPerMinute: 1_000_000_000, banMs: 1 } }
  })
  const face = sim.binance!
  const rest = makeBinanceRestClient({ baseUrl: face.url, apiKey: KEY, secret: SECRET })
  const wsApi = makeBinanceWsApiClient({ url: face.wsApiUrl, apiKey: KEY, secret: SECRET, rest })
  wsApi.start()
  try {
    await until("ws api", () => wsApi.ready(), 10_000)
    const restT = new Float64Array(ROUNDTRIPS)
    const wsT = new Float64Array(ROUNDTRIPS)
    let failures = 0
    let n = 0
    const once = async (via: "rest" | "ws", into: Float64Array, i: number): Promise<void> => {
      const client = via === "rest" ? rest : wsApi
      const cid = `b-${via}-${++n}`
      const t0 = process.hrtime.bigint()
      const placed = await Effect.runPromise(client.placeOrder({ symbol: "BTCUSDT", side: "BUY", type: "LIMIT", timeInForce: "GTX", quantity: "0.001", price: "58000", clientOrderId: cid }))
      into[i] = Number(process.hrtime.bigint() - t0) / 1e3
      if (placed._tag !== "Placed" || placed.order.status !== "NEW") {
        failures++
        return
      }
      const canceled = await Effect.runPromise(Effect.either(client.cancelOrder("BTCUSDT", cid)))
      if (Either.isLeft(canceled) || canceled.right.status !== "CANCELED") failures++
    }
    for (let i = 0; i < 200; i++) {
      await once("rest", restT, 0)
      await once("ws", wsT, 0)
    }
    failures = 0
    const BLOCK = 100
    for (let b = 0; b < ROUNDTRIPS; b += BLOCK) {
      for (let i = b; i < b + BLOCK; i++) await once("rest", restT, i)
      for (let i = b; i < b + BLOCK; i++) await once("ws", wsT, i)
    }
    restT.sort()
    wsT.sort()
    const w50 = percentile(wsT, 50)
    const w99 = percentile(wsT, 99)
    const r50 = percentile(restT, 50)
    const r99 = percentile(restT, 99)
    return [
      {
        name: "venue.order_roundtrip.binance",
        value: round(w50, 1),
        unit: "us",
        path: "WebSocket API order.place → reply",
        p50_us: round(w50, 1),
        p99_us: round(w99, 1),
        baseline: "REST POST /fapi/v1/order → reply (same client contract, keep-alive node:http)",
        baseline_value: round(r50, 1),
        baseline_p50_us: round(r50, 1),
        baseline_p99_us: round(r99, 1),
        // Latency: lower is better, so the ratio is REST / WS (above 1: the WebSocket API is faster).
        ratio: round(r50 / w50, 3),
        ratio_p99: round(r99 / w99, 3),
        n: ROUNDTRIPS,
        failures
      }
    ]
  } finally {
    await wsApi.stop()
    await sim.stop()
  }
}

export const benches: ReadonlyArray<Bench> = [
  { name: "md.normalize_apply.binance", run: normalize },
  { name: "venue.order_roundtrip.binance", run: roundtrip }
]
