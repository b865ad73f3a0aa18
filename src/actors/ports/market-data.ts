import { Context, Layer } from "effect"
import { scaledToText } from "../../domain/fixed-point.js"
import type { InstrumentId } from "../../domain/ids.js"
import type { MarketEvent } from "../../domain/events/market.js"

/**
 * The market data port: the venue side of an instrument actor. `subscribe` starts the feed of
 * one instrument; by contract the venue then reports `subscribed`, sends a full book and then
 * deltas. `resync` asks for the same again on a live subscription (after a gap or a crossed
 * book): `subscribed`, a fresh full book, deltas. Frames come as the venue's own TEXT when the
 * consumer has a scanner for it (Kraken `book` / `book_snapshot`: no JSON.parse, no float on
 * the hot path), or as canonical events. Sinks are called synchronously and must not block:
 * the instrument actor's sink only puts the frame in its mailbox.
 */
export interface MarketDataSink {
  /** A raw venue frame, e.g. Kraken's `{"feed":"book",...}` or `{"feed":"book_snapshot",...}`. */
  readonly text: (frame: string) => void
  readonly event: (event: MarketEvent) => void
  readonly status: (status: "subscribed" | "disconnected") => void
}

export interface MarketDataService {
  /** Returns the unsubscribe function. One sink per instrument: a second subscribe replaces the first. */
  readonly subscribe: (instrumentId: InstrumentId, sink: MarketDataSink) => () => void
  readonly resync: (instrumentId: InstrumentId) => void
}

export class MarketData extends Context.Tag("troupe/MarketData")<MarketData, MarketDataService>() {}

export const marketDataLayer = (service: MarketDataService): Layer.Layer<MarketData> => Layer.succeed(MarketData, service)

// ---------------------------------------------------------------------------------------------
// Synthetic Kraken Futures feed, for tests and benches.

export interface SyntheticInstrument {
  readonly id: InstrumentId
  /** Kraken product id, e.g. `PF_XBTUSD`. */
  readonly productId: string
  readonly priceDecimals: number
  readonly qtyDecimals: number
  /** Mid price in ticks (10^-priceDecimals) at the start. */
  readonly midTicks?: number
}

export interface SyntheticMarketOptions {
  readonly instruments: ReadonlyArray<SyntheticInstrument>
  readonly seed?: number
  /** Levels per side in the starting book. */
  readonly levels?: number
  /**
   * How far from the mid (in ticks) the venue keeps levels; default max(levels, 64). Updates
   * land within it and levels the mid walks away from are deleted at its edge, so the book
   * stays bounded however far the mid wanders.
   */
  readonly maxDistance?: number
  /** How sinks are called after subscribe/resync: "microtask" (default, like a socket) or "sync". */
  readonly delivery?: "microtask" | "sync"
  /** Venue timestamp; default Date.now. */
  readonly now?: () => number
}

// Deterministic (mulberry32), so failures reproduce.
const rng = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

class VenueBook {
  readonly bids = new Map<number, number>()
  readonly asks = new Map<number, number>()
  seq = 1_000
  sink: MarketDataSink | undefined
  readonly head: string
  /** Price text by ticks: the prices in play stay within maxDistance of a slowly walking mid. */
  private readonly priceText = new Map<number, string>()

  constructor(
    readonly spec: SyntheticInstrument,
    public mid: number,
    /** Size text by lots, shared by the instruments of the same qtyDecimals, filled as sizes occur. */
    private readonly qtyText: Array<string | undefined>
  ) {
    this.head = `{"feed":"book","product_id":"${spec.productId}","side":"`
  }

  price(ticks: number): string {
    let text = this.priceText.get(ticks)
    if (text === undefined) {
      if (this.priceText.size >= 256) this.priceText.clear()
      text = scaledToText(ticks, this.spec.priceDecimals)
      this.priceText.set(ticks, text)
    }
    return text
  }

  qty(lots: number): string {
    if (lots > 65_536) return scaledToText(lots, this.spec.qtyDecimals)
    return (this.qtyText[lots] ??= scaledToText(lots, this.spec.qtyDecimals))
  }
}

/**
 * A venue that keeps an exact L2 book per instrument (a mid on a random walk, updates near the
 * touch, ~20% deletes, levels the mid walks through removed) and speaks Kraken Futures' public
 * book feed as text. Drive it with `step`/`stepAll`; break it with `dropNext` (a sequence gap)
 * and `sendCrossed` (a corrupt level that crosses the book); `reference` is the venue's truth.
 */
export class SyntheticKrakenMarket implements MarketDataService {
  private readonly books = new Map<InstrumentId, VenueBook>()
  private readonly order: VenueBook[] = []
  private readonly random: () => number
  private readonly deliver: (f: () => void) => void
  private readonly now: () => number
  private readonly maxDistance: number
  private dropping = new Set<InstrumentId>()
  framesSent = 0
  snapshotsSent = 0
  resyncRequests = 0

  constructor(options: SyntheticMarketOptions) {
    this.random = rng(options.seed ?? 42)
    this.deliver = options.delivery === "sync" ? (f) => f() : (f) => queueMicrotask(f)
    this.now = options.now ?? Date.now
    const levels = options.levels ?? 10
    const qtyTexts = new Map<number, Array<string | undefined>>()
    this.maxDistance = Math.max(levels, options.maxDistance ?? 64)
    for (const spec of options.instruments) {
      const mid = spec.midTicks ?? 2 * 10 ** spec.priceDecimals * 1_000
      let qtyText = qtyTexts.get(spec.qtyDecimals)
      if (qtyText === undefined) qtyTexts.set(spec.qtyDecimals, (qtyText = []))
      const b = new VenueBook(spec, mid, qtyText)
      for (let d = 0; d < levels; d++) {
        b.bids.set(mid - 1 - d, this.lots(spec))
        b.asks.set(mid + 1 + d, this.lots(spec))
      }
      this.books.set(spec.id, b)
      this.order.push(b)
    }
  }

  readonly subscribe = (instrumentId: InstrumentId, sink: MarketDataSink): (() => void) => {
    const b = this.book(instrumentId)
    b.sink = sink
    this.deliver(() => this.sendSnapshot(b, sink))
    return () => {
      if (b.sink === sink) b.sink = undefined
    }
  }

  readonly resync = (instrumentId: InstrumentId): void => {
    this.resyncRequests++
    const b = this.book(instrumentId)
    const sink = b.sink
    if (sink !== undefined) this.deliver(() => this.sendSnapshot(b, sink))
  }

  /** One venue update for the instrument: returns the frames it sent (a mid move sends several). */
  step(instrumentId: InstrumentId): number {
    return this.update(this.book(instrumentId))
  }

  /** One update for every instrument, in a fixed order. */
  stepAll(): number {
    let n = 0
    for (const b of this.order) n += this.update(b)
    return n
  }

  /** The next frame of this instrument is lost on the way: the consumer sees a sequence gap. */
  dropNext(instrumentId: InstrumentId): void {
    this.dropping.add(instrumentId)
  }

  /** Sends a bid level at the best ask, which the venue's own book never had: the consumer's book crosses. */
  sendCrossed(instrumentId: InstrumentId): void {
    const b = this.book(instrumentId)
    let bestAsk = Infinity
    for (const p of b.asks.keys()) if (p < bestAsk) bestAsk = p
    this.send(b, "buy", bestAsk + 1, 1)
  }

  disconnect(instrumentId: InstrumentId): void {
    const b = this.book(instrumentId)
    const sink = b.sink
    b.sink = undefined
    if (sink !== undefined) this.deliver(() => sink.status("disconnected"))
  }

  /** The seq of the venue's last update (sent or not). */
  seqOf(instrumentId: InstrumentId): number {
    return this.book(instrumentId).seq
  }

  isSubscribed(instrumentId: InstrumentId): boolean {
    return this.book(instrumentId).sink !== undefined
  }

  /** The venue's book as text levels, best first, and its last seq. */
  reference(instrumentId: InstrumentId): { readonly seq: number; readonly bids: Array<readonly [string, string]>; readonly asks: Array<readonly [string, string]> } {
    const b = this.book(instrumentId)
    const { priceDecimals: pd, qtyDecimals: qd } = b.spec
    const side = (m: Map<number, number>, desc: boolean) =>
      [...m].sort(([x], [y]) => (desc ? y - x : x - y)).map(([p, q]) => [scaledToText(p, pd), scaledToText(q, qd)] as const)
    return { seq: b.seq, bids: side(b.bids, true), asks: side(b.asks, false) }
  }

  /** The instrument's current `book_snapshot` frame. */
  snapshotFrame(instrumentId: InstrumentId): string {
    const b = this.book(instrumentId)
    const ref = this.reference(instrumentId)
    const levels = (ls: ReadonlyArray<readonly [string, string]>) => ls.map(([p, q]) => `{"price":${p},"qty":${q}}`).join(",")
    return `{"feed":"book_snapshot","product_id":"${b.spec.productId}","timestamp":${this.now()},"seq":${b.seq},"tickSize":null,"bids":[${levels(ref.bids)}],"asks":[${levels(ref.asks)}]}`
  }

  private book(id: InstrumentId): VenueBook {
    const b = this.books.get(id)
    if (b === undefined) throw new RangeError(`synthetic market has no instrument ${id}`)
    return b
  }

  private sendSnapshot(b: VenueBook, sink: MarketDataSink): void {
    if (b.sink !== sink) return
    sink.status("subscribed")
    this.snapshotsSent++
    sink.text(this.snapshotFrame(b.spec.id))
  }

  private lots(spec: SyntheticInstrument): number {
    return 1 + Math.floor(this.random() ** 3 * 2 * 10 ** spec.qtyDecimals)
  }

  private update(b: VenueBook): number {
    let frames = 0
    const r = this.random
    if (r() < 0.03) {
      // Bids stay in [mid - maxDistance, mid - 1] and asks in [mid + 1, mid + maxDistance], so a
      // one-tick move can only cross the level at the new mid, and only the level one past the
      // far edge falls out of range. Each goes as a delete of its own (bids first).
      const up = r() < 0.5 ? -1 : 1
      b.mid += up
      const far = up > 0 ? b.mid - this.maxDistance - 1 : b.mid + this.maxDistance + 1
      if (b.bids.delete(b.mid)) {
        this.send(b, "buy", b.mid, 0)
        frames++
      }
      if (up > 0 && b.bids.delete(far)) {
        this.send(b, "buy", far, 0)
        frames++
      }
      if (b.asks.delete(b.mid)) {
        this.send(b, "sell", b.mid, 0)
        frames++
      }
      if (up < 0 && b.asks.delete(far)) {
        this.send(b, "sell", far, 0)
        frames++
      }
    }
    const isBid = r() < 0.5
    const side = isBid ? b.bids : b.asks
    const distance = Math.min(this.maxDistance - 1, Math.floor(-Math.log(1 - r()) * 4))
    const price = isBid ? b.mid - 1 - distance : b.mid + 1 + distance
    if (r() < 0.2 && side.has(price)) {
      side.delete(price)
      this.send(b, isBid ? "buy" : "sell", price, 0)
    } else {
      const q = this.lots(b.spec)
      side.set(price, q)
      this.send(b, isBid ? "buy" : "sell", price, q)
    }
    return frames + 1
  }

  private send(b: VenueBook, side: "buy" | "sell", priceTicks: number, qtyLots: number): void {
    b.seq++
    if (this.dropping.delete(b.spec.id)) return
    const sink = b.sink
    if (sink === undefined) return
    this.framesSent++
    sink.text(
      `${b.head}${side}","seq":${b.seq},"price":${b.price(priceTicks)},"qty":${b.qty(qtyLots)},"timestamp":${this.now()}}`
    )
  }
}
