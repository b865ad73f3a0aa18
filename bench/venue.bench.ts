import { Agent as HttpAgent, request as httpRequest } from "node:http"
import ccxt from "ccxt"
import { Effect, Either } from "effect"
import { WebSocket } from "ws"
import { monotonicNonce, signRest } from "../src/adapters/venues/kraken-futures/auth.js"
import { PublicFeedSession } from "../src/adapters/venues/kraken-futures/market-data.js"
import { envelopeSource } from "../src/adapters/venues/kraken-futures/md-normalize.js"
import { decodeGeneral, PublicFrameDecoder } from "../src/adapters/venues/kraken-futures/public-frames.js"
import { makeKrakenRestClient } from "../src/adapters/venues/kraken-futures/rest.js"
import { participants } from "../src/adapters/venues/simulator/participants.js"
import { startSimulator, type Simulator } from "../src/adapters/venues/simulator/server.js"
import { OrderBook, BookCode } from "../src/domain/book.js"
import { applyScannedDelta, BookDeltaScanner } from "../src/domain/book-delta-text.js"
import { dec, type Decimal } from "../src/domain/decimal.js"
import { decimalToScaled } from "../src/domain/fixed-point.js"
import type { MarketEvent } from "../src/domain/events/market.js"
import type { InstrumentId } from "../src/domain/ids.js"
import { percentile, rateFigure, round, throughput, type Bench, type Figure } from "./harness.js"

/**
 * Venue benches against the exchange simulator on loopback.
 *
 * md.normalize_apply: public WS frames as the TEXT the socket delivered, recorded once from the
 * simulator's public feed (book deltas, trades, tickers, heartbeats, and the subscribe acks and
 * book snapshots that start a subscription), through the adapter's `PublicFeedSession` (frame →
 * canonical event, exact prices) into the L2 `OrderBook`; baseline: bare JSON.parse of the same
 * frames. md.normalize_apply_vs_ccxt: the same frames through ccxt's krakenfutures handlers
 * (`handleOrderBookSnapshot` / `handleOrderBook` on its own order book, with a stub client),
 * after a JSON.parse as ccxt's client does. venue.order_roundtrip: sendOrder (post-only, never
 * marketable) → ack through our REST client, then cancel; baseline: the same signed POST on a bare
 * keep-alive `http.request` (the client's transport), so the ratio is the client's own overhead.
 */

const FRAMES = 100_000
const PRODUCTS = ["PF_XBTUSD", "PF_ETHUSD"] as const
type Product = (typeof PRODUCTS)[number]
const SPEC: Record<Product, { tick: string; lot: string; priceDecimals: number; qtyDecimals: number }> = {
  PF_XBTUSD: { tick: "0.5", lot: "0.01", priceDecimals: 1, qtyDecimals: 4 },
  PF_ETHUSD: { tick: "0.1", lot: "0.01", priceDecimals: 1, qtyDecimals: 3 }
}
const SECRET = Buffer.from("bench-secret-bench-secret-bench-secret").toString("base64")
const KEY = "bench-key"

const until = async (what: string, ok: () => boolean, ms = 30_000): Promise<void> => {
  const end = Date.now() + ms
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 2))
  }
}



/** Records the public feed from the simulator's socket while its market moves (see participants). */
const record = async (sim: Simulator): Promise<ReadonlyArray<string>> => {
  const frames: string[] = []
  const ws = new WebSocket(sim.wsUrl)
  ws.on("message", (data: Buffer) => {
    if (frames.length < FRAMES) frames.push(data.toString("utf8"))
  })
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve())
    ws.once("error", reject)
  })
  ws.send(JSON.stringify({ event: "subscribe", feed: "heartbeat" }))
  for (const feed of ["book", "trade", "ticker"]) ws.send(JSON.stringify({ event: "subscribe", feed, product_ids: PRODUCTS }))
  await until("snapshots", () => frames.filter((f) => f.includes('"book_snapshot"')).length === PRODUCTS.length)
  const feed = sim.admin.exchange.publicFeed
  const flow = participants(sim, PRODUCTS, SPEC, 7)
  for (let chunk = 0; frames.length < FRAMES; chunk++) {
    const before = frames.length
    sim.admin.stepMarket(20)
    flow(1_000)
    // Kraken sends about one ticker per product per second against tens to hundreds of book updates.
    feed.tickers()
    if (chunk % 50 === 0) feed.heartbeat()
    await until("frames", () => frames.length > before || frames.length >= FRAMES, 5_000)
    await new Promise((r) => setTimeout(r, 5))
  }
  ws.close()
  return frames
}

const mix = (frames: ReadonlyArray<string>): Record<string, number> => {
  const out: Record<string, number> = {}
  for (const f of frames) {
    const m = /"(?:feed|event)":"([a-z_]+)"/.exec(f)
    const k = m?.[1] ?? "other"
    out[k] = (out[k] ?? 0) + 1
  }
  return out
}

const makeBook = (product: Product): OrderBook => {
  const made = OrderBook.make({ instrumentId: `kraken-futures:${product}` as InstrumentId, priceDecimals: SPEC[product].priceDecimals, qtyDecimals: SPEC[product].qtyDecimals })
  if (Either.isLeft(made)) throw made.left
  return made.right
}

/**
 * Scaled units of a Decimal at one book's scale, by instance. The decoder interns Decimals by
 * their text (one instance per price or size seen), so the instance is the key and the
 * Decimal arithmetic runs once per distinct value, not once per update. Bounded.
 */
class UnitsCache {
  private readonly map = new Map<Decimal, number>()
  constructor(private readonly decimals: number) {}
  get(d: Decimal): number {
    const hit = this.map.get(d)
    if (hit !== undefined) return hit
    const units = decimalToScaled(d, this.decimals)
    if (this.map.size >= 8_192) this.map.clear()
    this.map.set(d, units)
    return units
  }
}

interface BookSink {
  readonly book: OrderBook
  readonly price: UnitsCache
  readonly qty: UnitsCache
}

/** Ours: frame text → PublicFeedSession → canonical events → OrderBook per instrument. */
const oursPipeline = () => {
  const sinks = new Map<string, BookSink>(
    PRODUCTS.map((p) => [`kraken-futures:${p}`, { book: makeBook(p), price: new UnitsCache(SPEC[p].priceDecimals), qty: new UnitsCache(SPEC[p].qtyDecimals) }])
  )
  let failures = 0
  let trades = 0
  let tickers = 0
  const onEvent = (e: MarketEvent): void => {
    switch (e._tag) {
      case "BookDelta": {
        const sink = sinks.get(e.instrument) as BookSink
        const bid = e.bids.length > 0
        const level = bid ? e.bids[0] : e.asks[0]
        if (level === undefined) {
          failures++
          return
        }
        const p = sink.price.get(level[0])
        const q = sink.qty.get(level[1])
        // Negative units are the fixed-point refusal codes (too precise, negative, ...).
        if (p < 0 || q < 0 || sink.book.applyDeltaUnits(bid ? "bid" : "ask", p, q, e.seq) !== BookCode.Ok) failures++
        return
      }
      case "BookSnapshot": {
        const sink = sinks.get(e.instrument) as BookSink
        const level = ([price, qty]: readonly [Decimal, Decimal]) => ({ price, qty })
        if (sink.book.applySnapshot({ seq: e.seq, bids: e.bids.map(level), asks: e.asks.map(level) }) !== BookCode.Ok) failures++
        return
      }
      case "Trade":
        trades++
        return
      case "Ticker":
        tickers++
    }
  }
  const session = new PublicFeedSession(["book", "trade", "ticker"], [...PRODUCTS], { onEvent }, () => {}, envelopeSource("kraken-futures/md"))
  const books = new Map([...sinks].map(([k, v]) => [k, v.book]))
  return { books, handle: (text: string) => session.handle(text), stats: () => ({ failures, trades, tickers, gaps: session.counters().gaps, dropped: session.counters().droppedDeltas, decodeErrors: session.counters().decodeErrors }) }
}

/**
 * The port's path over the same frames, for context: book text routed as text and scanned
 * straight into the book (what the instrument actor does; no canonical event per update),
 * snapshots through the exact decoder, everything else through the session as above.
 */
const textPipeline = () => {
  const books = new Map<string, OrderBook>(PRODUCTS.map((p) => [p, makeBook(p)]))
  const scanner = new BookDeltaScanner()
  const decoder = new PublicFrameDecoder()
  const session = new PublicFeedSession(["trade", "ticker"], [...PRODUCTS], { onEvent: () => {} }, () => {}, envelopeSource("kraken-futures/md"))
  let failures = 0
  const handle = (text: string): void => {
    if (scanner.scan(text)) {
      const book = books.get(scanner.productId)
      if (book === undefined || applyScannedDelta(book, scanner) !== BookCode.Ok) failures++
      return
    }
    if (text.includes('"book_snapshot"')) {
      const f = decoder.decode(text)
      const s = Either.isRight(f) ? f.right : undefined
      if (s === undefined || !("bids" in s)) return void failures++
      const book = books.get(s.product_id)
      if (book === undefined || book.applySnapshot({ seq: s.seq, bids: s.bids, asks: s.asks }) !== BookCode.Ok) failures++
      return
    }
    session.handle(text)
  }
  return { books, handle, failures: () => failures }
}

interface CcxtBookSide {
  store: (price: number, qty: number) => void
  [i: number]: [number, number]
  length: number
}
interface CcxtBook {
  bids: CcxtBookSide
  asks: CcxtBookSide
}
interface CcxtKrakenFutures {
  orderbooks: Record<string, CcxtBook>
  orderBook: (snapshot?: object, depth?: number) => CcxtBook
  handleOrderBook: (client: unknown, message: unknown) => void
  handleOrderBookSnapshot: (client: unknown, message: unknown) => void
  handleMessage: (client: unknown, message: unknown) => void
}

/** ccxt's own handlers on ccxt's own order book, fed like its WS client feeds them (JSON.parse then dispatch). */
const ccxtPipeline = () => {
  const ex = new ccxt.pro.krakenfutures() as unknown as CcxtKrakenFutures
  // The stub client: the handlers only read `subscriptions` and call `resolve`.
  const client = { subscriptions: {}, resolve: () => {} }
  for (const p of PRODUCTS) ex.orderbooks[p] = ex.orderBook()
  const handle = (text: string): void => {
    const msg = JSON.parse(text) as { feed?: string; event?: string }
    // As ccxt's handleMessage: event frames (subscribed, info) first, then dispatch on feed.
    if (msg.event !== undefined) return
    // Only the book feeds: ccxt's trade/ticker handlers need loaded markets; the comparison is the book path.
    if (msg.feed === "book") ex.handleOrderBook(client, msg)
    else if (msg.feed === "book_snapshot") ex.handleOrderBookSnapshot(client, msg)
  }
  return { ex, handle }
}

const levelsText = (levels: ReadonlyArray<readonly [string, string]>): string => levels.map(([p, q]) => `${dec(p).toFixed()}@${dec(q).toFixed()}`).join(",")

const normalize = async (): Promise<ReadonlyArray<Figure>> => {
  const sim = await startSimulator({ seed: 11, market: { kind: "synthetic", rate: 0 }, heartbeatMs: 3_600_000, tickerMs: 3_600_000 })
  let frames: ReadonlyArray<string>
  try {
    frames = await record(sim)
    // One checked pass: our books must equal the simulator's at the last recorded seq.
  } finally {
    await sim.stop()
  }
  const kinds = mix(frames)
  const books = frames.filter((f) => f.startsWith('{"feed":"book"')).length

  // Checked pass: ours against ccxt's book after the same frames (same levels, same sizes).
  const ours = oursPipeline()
  for (const f of frames) ours.handle(f)
  const cc = ccxtPipeline()
  for (const f of frames) cc.handle(f)
  let agree = true
  for (const p of PRODUCTS) {
    const snap = (ours.books.get(`kraken-futures:${p}`) as OrderBook).toSnapshotText()
    const theirs = cc.ex.orderbooks[p] as CcxtBook
    const side = (s: CcxtBookSide) => Array.from({ length: s.length }, (_, i) => s[i] as [number, number]).map(([a, b]) => [String(a), String(b)] as const)
    if (levelsText(snap.bids) !== levelsText(side(theirs.bids)) || levelsText(snap.asks) !== levelsText(side(theirs.asks))) agree = false
  }
  const checked = ours.stats()
  // The fast paths (book, trade, ticker) must decode every recorded frame exactly as the general path does.
  const decoder = new PublicFrameDecoder()
  const canonical = (e: Either.Either<unknown, unknown>): string => {
    if (Either.isLeft(e)) return "left"
    const o = e.right as Record<string, unknown>
    return JSON.stringify(Object.keys(o).sort().map((k) => [k, o[k]]))
  }
  let fastMismatches = 0
  for (const f of frames) if (canonical(decoder.decode(f)) !== canonical(decodeGeneral(f))) fastMismatches++
  if (!agree || fastMismatches > 0 || checked.failures > 0 || checked.gaps > 0 || checked.decodeErrors > 0) process.stderr.write(`md.normalize_apply: check failed ${JSON.stringify({ agree, ...checked })}\n`)

  const port = textPipeline()
  for (const f of frames) port.handle(f)
  for (const p of PRODUCTS) {
    const a = (port.books.get(p) as OrderBook).toSnapshotText()
    const b = (ours.books.get(`kraken-futures:${p}`) as OrderBook).toSnapshotText()
    if (JSON.stringify(a) !== JSON.stringify(b) || port.failures() > 0) agree = false
  }

  let sink: unknown
  const parse = (m: string): void => {
    sink = JSON.parse(m)
  }
  const oursFn = ours.handle
  const ccFn = cc.handle
  let base = 0
  let fast = 0
  let theirs = 0
  let text = 0
  const textFn = port.handle
  for (let r = 0; r < 3; r++) {
    base = Math.max(base, throughput(frames, parse))
    fast = Math.max(fast, throughput(frames, oursFn))
    theirs = Math.max(theirs, throughput(frames, ccFn))
    text = Math.max(text, throughput(frames, textFn))
  }
  void sink
  const bytes = frames.reduce((n, m) => n + m.length, 0) / frames.length
  const extra = { frames: frames.length, book_deltas: books, mix: kinds, avg_bytes: Math.round(bytes), verified: agree && fastMismatches === 0 && checked.failures === 0 && checked.decodeErrors === 0, fast_vs_general_mismatches: fastMismatches, trades: checked.trades, tickers: checked.tickers, vs_ccxt_book: agree }
  return [
    rateFigure("md.normalize_apply", fast, "JSON.parse", base, extra),
    rateFigure("md.normalize_apply_text", text, "JSON.parse", base, { frames: frames.length, note: "context: the port's path, book text scanned straight into the book, no canonical event per update" }),
    rateFigure("md.normalize_apply_vs_ccxt", fast, "ccxt.pro.krakenfutures handleOrderBook", theirs, { frames: frames.length, note: "ccxt: JSON.parse + its own handlers on its own order book (float prices)" })
  ]
}

const ROUNDTRIPS = 2_000

const roundtrip = async (): Promise<ReadonlyArray<Figure>> => {
  const sim = await startSimulator({
    seed: 5,
    market: { kind: "synthetic", rate: 0 },
    accounts: [{ name: "bench", apiKey: KEY, apiSecret: SECRET, collateralUsd: "100000000" }],
    rateLimit: { limit: 1_000_000_000, windowMs: 1_000 },
    heartbeatMs: 3_600_000,
    tickerMs: 3_600_000
  })
  const agent = new HttpAgent({ keepAlive: true, maxSockets: 4 })
  try {
    const baseUrl = `${sim.url}/derivatives`
    // One nonce source for both sides: they share the API key, whose nonces must only increase.
    const nonce = monotonicNonce()
    const client = makeKrakenRestClient({ baseUrl, credentials: { apiKey: KEY, secret: SECRET }, nonce })
    // Far below the touch (mid 60000): post-only, never marketable, rests until cancelled.
    const order = { orderType: "post", symbol: "PF_XBTUSD", side: "buy", size: dec("0.001"), limitPrice: dec("30000") } as const
    const ours = new Float64Array(ROUNDTRIPS)
    const bare = new Float64Array(ROUNDTRIPS)
    let failures = 0

    // The baseline's transport is the client's own: node:http with a keep-alive agent (the REST
    // client's default fetch is built on it), so the ratio is the client's own overhead.
    const simUrl = new URL(baseUrl)
    const signed = (endpoint: string, query: string): Promise<{ ok: boolean; text: string }> =>
      new Promise((resolve, reject) => {
        const endpointPath = `/api/v3/${endpoint}`
        const n = nonce()
        const req = httpRequest(
          {
            host: simUrl.hostname,
            port: simUrl.port,
            method: "POST",
            path: `${simUrl.pathname}${endpointPath}?${query}`,
            agent,
            headers: { Accept: "application/json", APIKey: KEY, Nonce: n, Authent: signRest({ secret: SECRET, postData: query, nonce: n, endpointPath }), "Content-Length": 0 }
          },
          (res) => {
            const chunks: Buffer[] = []
            res.on("data", (c: Buffer) => chunks.push(c))
            res.on("end", () => resolve({ ok: (res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300, text: Buffer.concat(chunks).toString("utf8") }))
            res.on("error", reject)
          }
        )
        req.on("error", reject)
        req.end()
      })
    const sendQuery = `orderType=post&symbol=PF_XBTUSD&side=buy&size=0.001&limitPrice=30000`

    const oursOnce = async (i: number): Promise<void> => {
      const t0 = process.hrtime.bigint()
      const sent = await Effect.runPromise(Effect.either(client.sendOrder(order)))
      ours[i] = Number(process.hrtime.bigint() - t0) / 1e3
      if (Either.isLeft(sent) || sent.right.venueOrderId === undefined || sent.right.status !== "placed") {
        failures++
        return
      }
      const cancelled = await Effect.runPromise(Effect.either(client.cancelOrder({ orderId: sent.right.venueOrderId })))
      if (Either.isLeft(cancelled) || cancelled.right.status !== "cancelled") failures++
    }
    const bareOnce = async (i: number): Promise<void> => {
      const t0 = process.hrtime.bigint()
      const sent = await signed("sendorder", sendQuery)
      bare[i] = Number(process.hrtime.bigint() - t0) / 1e3
      const id = /"order_id":"([^"]+)"/.exec(sent.text)?.[1]
      if (!sent.ok || id === undefined) {
        failures++
        return
      }
      await signed("cancelorder", `order_id=${encodeURIComponent(id)}`)
    }
    // Warm up both paths (JIT, keep-alive connections), then interleave in blocks so drift hits both alike.
    for (let i = 0; i < 200; i++) {
      await oursOnce(0)
      await bareOnce(0)
    }
    failures = 0
    const BLOCK = 100
    for (let b = 0; b < ROUNDTRIPS; b += BLOCK) {
      for (let i = b; i < b + BLOCK; i++) await bareOnce(i)
      for (let i = b; i < b + BLOCK; i++) await oursOnce(i)
    }
    const open = (sim.admin.account("bench").openOrders as ReadonlyArray<unknown>).length
    ours.sort()
    bare.sort()
    const p50 = percentile(ours, 50)
    const p99 = percentile(ours, 99)
    const b50 = percentile(bare, 50)
    const b99 = percentile(bare, 99)
    return [
      {
        name: "venue.order_roundtrip",
        value: round(p50, 1),
        unit: "us",
        p50_us: round(p50, 1),
        p99_us: round(p99, 1),
        baseline: "bare keep-alive http.request POST sendorder (same signed request, the client's transport)",
        baseline_value: round(b50, 1),
        baseline_p50_us: round(b50, 1),
        baseline_p99_us: round(b99, 1),
        // Latency: lower is better, so the ratio is baseline / ours (1.0 = no overhead).
        ratio: round(b50 / p50, 3),
        ratio_p99: round(b99 / p99, 3),
        n: ROUNDTRIPS,
        failures,
        left_open: open
      }
    ]
  } finally {
    agent.destroy()
    await sim.stop()
  }
}

export const benches: ReadonlyArray<Bench> = [
  { name: "md.normalize_apply", run: normalize },
  { name: "venue.order_roundtrip", run: roundtrip }
]
