import { Either } from "effect"
import type { MarketDataService, MarketDataSink } from "../../../actors/ports/market-data.js"
import { parseDecimal, type Decimal } from "../../../domain/decimal.js"
import type { Ticker, Trade } from "../../../domain/events/market.js"
import { symbolOf, type InstrumentId } from "../../../domain/ids.js"
import { envelopeSource, type EnvelopeSource } from "../kraken-futures/md-normalize.js"
import { ManagedConnection, type ConnectionConfig, type ConnectionSignal } from "../kraken-futures/ws-connection.js"
import { shapeOf, VenueDecodeError } from "./errors.js"

/**
 * Binance USD-M public market data as Troupe's market data port.
 *
 * The book follows the venue's official local-book algorithm: the diff stream (`<s>@depth@100ms`
 * on the routed `/public` path) is buffered from the SUBSCRIBE ack, a REST snapshot
 * (`/fapi/v1/depth?limit=1000`) is fetched, events with `u < lastUpdateId` are dropped, the first
 * event applied must have `U <= lastUpdateId <= u` (or `pu == lastUpdateId`: the event right
 * after the snapshot, which is what the simulator's face and the venue send when the snapshot
 * falls between events), and each later event's `pu` must equal the previous `u`. On a break the
 * symbol is resynced exactly once: the sink hears `disconnected` (the instrument actor goes to
 * `resyncing` and asks `resync`, which coalesces with the fetch already running), then
 * `subscribed`, a fresh full book and deltas.
 *
 * What the sink receives is what the Kraken port sends, so the instrument actor reads it
 * unchanged: a `book_snapshot` frame and one `book` frame per changed level, in Kraken's text
 * form, with the port's own contiguous `seq` (Binance's update ids jump by the number of levels
 * in an event; the book wants seq + 1). Prices and quantities are the venue's decimal text,
 * checked and copied, never turned into floats. `bookTicker` and `markPriceUpdate` become
 * canonical `Ticker` events and `aggTrade` canonical `Trade` events through `sink.event`.
 */

export const PRODUCTION_REST_URL = "https://fapi.binance.com"
export const PRODUCTION_WS_URL = "wss://fstream.binance.com"

export type DiffLevel = readonly [string, string]

export interface DepthEvent {
  readonly U: number
  readonly u: number
  readonly pu: number
  readonly b: ReadonlyArray<DiffLevel>
  readonly a: ReadonlyArray<DiffLevel>
  /** Transaction time (ms). */
  readonly T?: number
  readonly E?: number
}

export interface DepthSnapshot {
  readonly lastUpdateId: number
  readonly bids: ReadonlyArray<DiffLevel>
  readonly asks: ReadonlyArray<DiffLevel>
  readonly T?: number
}

/** Why a symbol's book had to be rebuilt. */
export type BreakReason =
  | { readonly _tag: "PuMismatch"; readonly expected: number; readonly pu: number; readonly u: number }
  /** The first event after the snapshot starts beyond it: events between were missed. */
  | { readonly _tag: "SnapshotTooOld"; readonly lastUpdateId: number; readonly U: number }
  | { readonly _tag: "BadLevel"; readonly detail: string }

export type BinanceMarketDataSignal =
  | ConnectionSignal
  | { readonly _tag: "BookBreak"; readonly symbol: string; readonly reason: BreakReason }
  | { readonly _tag: "SnapshotFailed"; readonly symbol: string; readonly detail: string }
  | { readonly _tag: "SubscribeFailed"; readonly detail: string }
  | { readonly _tag: "DecodeFailed"; readonly error: VenueDecodeError }

/** Decimal text the book scanner reads as a JSON number: no sign, no exponent, no leading zeros. */
const DECIMAL_TEXT = /^(?:0|[1-9][0-9]*)(?:\.[0-9]+)?$/

export interface DepthSyncOutput {
  /** A full book; `seq` is the port's sequence, deltas continue at `seq + 1`. */
  readonly snapshot: (frame: string) => void
  readonly delta: (frame: string) => void
  /** The book is no longer valid: a new snapshot is needed (already requested). */
  readonly broken: (reason: BreakReason) => void
  readonly fetchSnapshot: () => void
}

/**
 * The official algorithm for one symbol, without I/O: feed it depth events and snapshots, it
 * writes Kraken-form frames and asks for snapshots. Phases: `idle` (not subscribed),
 * `awaiting` (buffering until a snapshot), `synced`. Each break asks for exactly one snapshot;
 * a failed fetch is retried by the caller (`fetchSnapshot` again), not counted as a break.
 */
export class DepthSync {
  phase: "idle" | "awaiting" | "synced" = "idle"
  /** The port's sequence: the last frame's seq. */
  seq = 0
  breaks = 0
  applied = 0
  dropped = 0
  /** The last applied event's `u`; undefined until the first event after a snapshot. */
  lastU: number | undefined
  private anchor: number | undefined
  private buffer: DepthEvent[] = []
  private readonly head: string

  constructor(
    readonly symbol: string,
    private readonly out: DepthSyncOutput,
    private readonly maxBuffer = 10_000
  ) {
    this.head = `{"feed":"book","product_id":${JSON.stringify(symbol)},"side":"`
  }

  /** Start (or restart) from scratch: buffer, and fetch a snapshot. */
  begin(): void {
    this.phase = "awaiting"
    this.buffer = []
    this.anchor = undefined
    this.lastU = undefined
    this.out.fetchSnapshot()
  }

  stop(): void {
    this.phase = "idle"
    this.buffer = []
  }

  onEvent(e: DepthEvent): void {
    if (this.phase === "idle") return
    if (this.phase === "awaiting") {
      if (this.buffer.length >= this.maxBuffer) this.buffer.shift()
      this.buffer.push(e)
      return
    }
    this.live(e)
  }

  onSnapshot(s: DepthSnapshot, now: number): void {
    if (this.phase !== "awaiting") return
    const frame = this.snapshotFrame(s, now)
    if (typeof frame !== "string") return this.broke(frame, [])
    this.phase = "synced"
    this.anchor = s.lastUpdateId
    this.lastU = undefined
    this.out.snapshot(frame)
    const buffered = this.buffer
    this.buffer = []
    for (let i = 0; i < buffered.length; i++) {
      this.live(buffered[i] as DepthEvent)
      if (this.phase !== "synced") {
        // A break inside the buffer: the rest waits for the next snapshot with it.
        this.buffer.push(...buffered.slice(i + 1))
        return
      }
    }
  }

  private live(e: DepthEvent): void {
    const anchor = this.anchor
    if (anchor !== undefined) {
      if (e.u < anchor) {
        this.dropped++
        return
      }
      if (!((e.U <= anchor && anchor <= e.u) || e.pu === anchor)) return this.broke({ _tag: "SnapshotTooOld", lastUpdateId: anchor, U: e.U }, [e])
      this.anchor = undefined
    } else if (e.pu !== this.lastU) {
      return this.broke({ _tag: "PuMismatch", expected: this.lastU ?? -1, pu: e.pu, u: e.u }, [e])
    }
    const bad = this.emit(e)
    if (bad !== undefined) return this.broke({ _tag: "BadLevel", detail: bad }, [])
    this.lastU = e.u
    this.applied++
  }

  private broke(reason: BreakReason, keep: DepthEvent[]): void {
    this.breaks++
    this.phase = "awaiting"
    this.buffer = keep
    this.anchor = undefined
    this.lastU = undefined
    this.out.broken(reason)
    this.out.fetchSnapshot()
  }

  /** One frame per level; a level that is not decimal text stops the event (the book is then unknown). */
  private emit(e: DepthEvent): string | undefined {
    for (const levels of [e.b, e.a]) for (const l of levels) if (!DECIMAL_TEXT.test(l[0]) || !DECIMAL_TEXT.test(l[1])) return `level ${JSON.stringify(l).slice(0, 60)}`
    const ts = e.T ?? e.E ?? 0
    for (const [side, levels] of [["buy", e.b], ["sell", e.a]] as const) {
      for (const [p, q] of levels) this.out.delta(`${this.head}${side}","seq":${++this.seq},"price":${p},"qty":${q},"timestamp":${ts}}`)
    }
    return undefined
  }

  private snapshotFrame(s: DepthSnapshot, now: number): string | BreakReason {
    const side = (levels: ReadonlyArray<DiffLevel>): string | undefined => {
      const parts: string[] = []
      for (const l of levels) {
        if (!DECIMAL_TEXT.test(l[0]) || !DECIMAL_TEXT.test(l[1])) return undefined
        parts.push(`{"price":${l[0]},"qty":${l[1]}}`)
      }
      return parts.join(",")
    }
    const bids = side(s.bids)
    const asks = side(s.asks)
    if (bids === undefined || asks === undefined) return { _tag: "BadLevel", detail: "snapshot level" }
    return `{"feed":"book_snapshot","product_id":${JSON.stringify(this.symbol)},"timestamp":${s.T ?? now},"seq":${this.seq},"bids":[${bids}],"asks":[${asks}]}`
  }
}

// ---------------------------------------------------------------------------------------------
// Decoding

const isLevels = (u: unknown): u is ReadonlyArray<DiffLevel> =>
  Array.isArray(u) && u.every((l) => Array.isArray(l) && l.length >= 2 && typeof l[0] === "string" && typeof l[1] === "string")
const isInt = (u: unknown): u is number => typeof u === "number" && Number.isSafeInteger(u)

export const decodeDepthEvent = (o: Record<string, unknown>): DepthEvent | undefined => {
  const { U, u, pu, b, a, T, E } = o
  if (!isInt(U) || !isInt(u) || !isInt(pu) || !isLevels(b) || !isLevels(a)) return undefined
  return { U, u, pu, b, a, ...(isInt(T) ? { T } : {}), ...(isInt(E) ? { E } : {}) }
}

export const decodeDepthSnapshot = (o: unknown): DepthSnapshot | undefined => {
  if (typeof o !== "object" || o === null) return undefined
  const { lastUpdateId, bids, asks, T } = o as Record<string, unknown>
  if (!isInt(lastUpdateId) || !isLevels(bids) || !isLevels(asks)) return undefined
  return { lastUpdateId, bids, asks, ...(isInt(T) ? { T } : {}) }
}

const dec = (o: Record<string, unknown>, key: string): Decimal | undefined => {
  const v = o[key]
  if (typeof v !== "string") return undefined
  const d = parseDecimal(v)
  return Either.isRight(d) && d.right.isFinite() ? d.right : undefined
}

const stamp = (env: EnvelopeSource) => ({ id: env.nextId(), ts: env.now(), source: env.source })

/** `bookTicker` → Ticker (top of book). */
export const toBookTicker = (env: EnvelopeSource, o: Record<string, unknown>, instrument: InstrumentId): Ticker | undefined => {
  const bid = dec(o, "b")
  const bidQty = dec(o, "B")
  const ask = dec(o, "a")
  const askQty = dec(o, "A")
  if (bid === undefined || bidQty === undefined || ask === undefined || askQty === undefined) return undefined
  const t = o["T"] ?? o["E"]
  return { _tag: "Ticker", ...stamp(env), instrument, bid, bidQty, ask, askQty, ...(isInt(t) ? { venueTs: t } : {}) }
}

/** `markPriceUpdate` → Ticker (mark, index, funding rate). */
export const toMarkPrice = (env: EnvelopeSource, o: Record<string, unknown>, instrument: InstrumentId): Ticker | undefined => {
  const markPrice = dec(o, "p")
  if (markPrice === undefined) return undefined
  const indexPrice = dec(o, "i")
  const fundingRate = dec(o, "r")
  const t = o["E"]
  return {
    _tag: "Ticker",
    ...stamp(env),
    instrument,
    markPrice,
    ...(indexPrice === undefined ? {} : { indexPrice }),
    ...(fundingRate === undefined ? {} : { fundingRate }),
    ...(isInt(t) ? { venueTs: t } : {})
  }
}

/** `aggTrade` → Trade. `m` true: the buyer was the maker, so the taker sold. */
export const toAggTrade = (env: EnvelopeSource, o: Record<string, unknown>, instrument: InstrumentId): Trade | undefined => {
  const price = dec(o, "p")
  const qty = dec(o, "q")
  const m = o["m"]
  if (price === undefined || qty === undefined || typeof m !== "boolean") return undefined
  const id = o["a"]
  const t = o["T"]
  return {
    _tag: "Trade",
    ...stamp(env),
    instrument,
    price,
    qty,
    aggressor: m ? "sell" : "buy",
    ...(isInt(id) ? { tradeId: String(id) } : {}),
    ...(isInt(t) ? { venueTs: t } : {})
  }
}

// ---------------------------------------------------------------------------------------------
// The port

export type ExtraStream = "bookTicker" | "aggTrade" | "markPrice"

export interface BinanceMarketDataPortConfig extends Omit<ConnectionConfig, "url"> {
  /** REST base, e.g. `https://fapi.binance.com`. */
  readonly restUrl: string
  /** WebSocket root, e.g. `wss://fstream.binance.com`; `/public/ws` and `/market/ws` are appended. */
  readonly wsUrl: string
  /** Streams besides the book, delivered as canonical events. Default none. */
  readonly extraStreams?: ReadonlyArray<ExtraStream>
  /** Snapshot depth (venue: 5…1000). Default 1000. */
  readonly snapshotLimit?: number
  /** Delay before retrying a failed snapshot fetch. Default 500 ms. */
  readonly snapshotRetryMs?: number
  readonly fetch?: typeof fetch
  readonly env?: EnvelopeSource
  readonly now?: () => number
  readonly onSignal?: (signal: BinanceMarketDataSignal) => void
}

export interface BinanceMarketDataPortCounters {
  readonly frames: number
  readonly bookFrames: number
  readonly snapshots: number
  readonly snapshotFetches: number
  readonly snapshotFailures: number
  /** Continuity breaks seen (each costs exactly one resync). */
  readonly breaks: number
  /** Resyncs asked for by the consumer (crossed book, silence). */
  readonly resyncs: number
  readonly droppedEvents: number
  readonly events: number
  readonly unrouted: number
  readonly badFrames: number
  readonly disconnects: number
}

export interface BinanceMarketDataPort extends MarketDataService {
  readonly start: () => void
  readonly stop: () => Promise<void>
  readonly counters: () => BinanceMarketDataPortCounters
  /** The sync state of one symbol (tests, diagnostics). */
  readonly depth: (symbol: string) => DepthSync | undefined
  readonly live: () => boolean
}

interface Entry {
  readonly instrument: InstrumentId
  readonly sink: MarketDataSink
  readonly sync: DepthSync
  /** A snapshot request in flight or scheduled. */
  fetching: boolean
  retry: ReturnType<typeof setTimeout> | undefined
}

export const makeBinanceMarketDataPort = (config: BinanceMarketDataPortConfig): BinanceMarketDataPort => new Port(config)

class Port implements BinanceMarketDataPort {
  private readonly publicWs: ManagedConnection
  private readonly marketWs: ManagedConnection | undefined
  private readonly entries = new Map<string, Entry>()
  private readonly extra: ReadonlyArray<ExtraStream>
  private readonly env: EnvelopeSource
  private readonly now: () => number
  private readonly fetchFn: typeof fetch
  /** SUBSCRIBE id → the symbols whose depth starts on its ack. */
  private readonly pendingAcks = new Map<number, ReadonlyArray<string>>()
  private nextId = 1
  private isLive = false
  private stopped = false
  private c = { frames: 0, bookFrames: 0, snapshots: 0, snapshotFetches: 0, snapshotFailures: 0, breaks: 0, resyncs: 0, droppedEvents: 0, events: 0, unrouted: 0, badFrames: 0, disconnects: 0 }

  constructor(private readonly config: BinanceMarketDataPortConfig) {
    this.extra = config.extraStreams ?? []
    this.now = config.now ?? Date.now
    this.env = config.env ?? envelopeSource("binance-usdm/md", this.now)
    this.fetchFn = config.fetch ?? fetch
    const root = config.wsUrl.replace(/\/+$/, "")
    this.publicWs = new ManagedConnection(
      { ...config, url: `${root}/public/ws` },
      {
        authenticate: (c) => c.authenticated(),
        subscribe: () => this.subscribeAll(),
        onText: (t) => this.onText(t),
        onSignal: (s) => {
          if (s._tag === "Disconnected" || s._tag === "GaveUp") this.lost()
          this.signal(s)
        }
      }
    )
    const market = this.extra.filter((s) => s !== "bookTicker")
    this.marketWs =
      market.length === 0
        ? undefined
        : new ManagedConnection(
            { ...config, url: `${root}/market/ws` },
            {
              authenticate: (c) => c.authenticated(),
              subscribe: (c) => {
                const params = [...this.entries.keys()].flatMap((s) => this.marketStreams(s))
                if (params.length > 0) c.send({ method: "SUBSCRIBE", params, id: this.nextId++ })
              },
              onText: (t) => this.onText(t),
              onSignal: (s) => this.signal(s)
            }
          )
  }

  private publicStreams(symbol: string): string[] {
    const s = symbol.toLowerCase()
    return [`${s}@depth@100ms`, ...(this.extra.includes("bookTicker") ? [`${s}@bookTicker`] : [])]
  }

  private marketStreams(symbol: string): string[] {
    const s = symbol.toLowerCase()
    return [...(this.extra.includes("aggTrade") ? [`${s}@aggTrade`] : []), ...(this.extra.includes("markPrice") ? [`${s}@markPrice@1s`] : [])]
  }

  readonly subscribe = (instrumentId: InstrumentId, sink: MarketDataSink): (() => void) => {
    const symbol = symbolOf(instrumentId)
    const old = this.entries.get(symbol)
    if (old !== undefined) this.clear(old)
    const entry: Entry = {
      instrument: instrumentId,
      sink,
      fetching: false,
      retry: undefined,
      sync: new DepthSync(symbol, {
        snapshot: (frame) => {
          this.c.snapshots++
          this.safely(() => sink.status("subscribed"))
          this.safely(() => sink.text(frame))
        },
        delta: (frame) => {
          this.c.bookFrames++
          this.safely(() => sink.text(frame))
        },
        broken: (reason) => {
          this.c.breaks++
          this.signal({ _tag: "BookBreak", symbol, reason })
          // The consumer's book is wrong from here: it resyncs, which joins the fetch below.
          this.safely(() => sink.status("disconnected"))
        },
        fetchSnapshot: () => this.fetchSnapshot(symbol)
      })
    }
    this.entries.set(symbol, entry)
    if (this.isLive) {
      if (old !== undefined) entry.sync.begin()
      else {
        this.subscribeStreams(this.publicWs, this.publicStreams(symbol), [symbol])
        const market = this.marketStreams(symbol)
        if (market.length > 0 && this.marketWs !== undefined) this.marketWs.send({ method: "SUBSCRIBE", params: market, id: this.nextId++ })
      }
    }
    return () => {
      if (this.entries.get(symbol) !== entry) return
      this.entries.delete(symbol)
      this.clear(entry)
      if (!this.isLive) return
      this.publicWs.send({ method: "UNSUBSCRIBE", params: this.publicStreams(symbol), id: this.nextId++ })
      const market = this.marketStreams(symbol)
      if (market.length > 0) this.marketWs?.send({ method: "UNSUBSCRIBE", params: market, id: this.nextId++ })
    }
  }

  readonly resync = (instrumentId: InstrumentId): void => {
    const entry = this.entries.get(symbolOf(instrumentId))
    if (entry === undefined) return
    // Already rebuilding (a break we found, or the stream's ack pending): that is this resync.
    if (entry.sync.phase !== "synced") return
    this.c.resyncs++
    entry.sync.begin()
  }

  readonly start = (): void => {
    this.stopped = false
    this.publicWs.start()
    this.marketWs?.start()
  }

  readonly stop = async (): Promise<void> => {
    this.stopped = true
    await Promise.all([this.publicWs.stop(), this.marketWs?.stop()])
    this.lost()
  }

  readonly counters = (): BinanceMarketDataPortCounters => {
    let dropped = 0
    for (const e of this.entries.values()) dropped += e.sync.dropped
    return { ...this.c, droppedEvents: dropped }
  }

  readonly depth = (symbol: string): DepthSync | undefined => this.entries.get(symbol)?.sync

  readonly live = (): boolean => this.isLive

  private clear(entry: Entry): void {
    entry.sync.stop()
    if (entry.retry !== undefined) clearTimeout(entry.retry)
    entry.retry = undefined
  }

  private subscribeStreams(c: ManagedConnection, params: ReadonlyArray<string>, symbols: ReadonlyArray<string>): void {
    const id = this.nextId++
    this.pendingAcks.set(id, symbols)
    c.send({ method: "SUBSCRIBE", params, id })
  }

  private subscribeAll(): void {
    this.isLive = true
    this.pendingAcks.clear()
    const symbols = [...this.entries.keys()]
    if (symbols.length === 0) return
    this.subscribeStreams(this.publicWs, symbols.flatMap((s) => this.publicStreams(s)), symbols)
  }

  private lost(): void {
    if (!this.isLive) return
    this.isLive = false
    this.c.disconnects++
    for (const e of this.entries.values()) {
      this.clear(e)
      this.safely(() => e.sink.status("disconnected"))
    }
  }

  private fetchSnapshot(symbol: string): void {
    const entry = this.entries.get(symbol)
    if (entry === undefined || entry.fetching) return
    entry.fetching = true
    this.c.snapshotFetches++
    const url = `${this.config.restUrl.replace(/\/+$/, "")}/fapi/v1/depth?symbol=${encodeURIComponent(symbol)}&limit=${this.config.snapshotLimit ?? 1000}`
    const failed = (detail: string): void => {
      this.c.snapshotFailures++
      this.signal({ _tag: "SnapshotFailed", symbol, detail })
      if (this.stopped || this.entries.get(symbol) !== entry || entry.sync.phase !== "awaiting") return
      entry.retry = setTimeout(() => {
        entry.retry = undefined
        this.fetchSnapshot(symbol)
      }, this.config.snapshotRetryMs ?? 500)
    }
    this.fetchFn(url, { signal: AbortSignal.timeout(10_000) })
      .then(async (r) => {
        const body: unknown = await r.json()
        entry.fetching = false
        if (!r.ok) return failed(`HTTP ${r.status} ${shapeOf(body)}`)
        const snap = decodeDepthSnapshot(body)
        if (snap === undefined) {
          this.c.badFrames++
          this.signal({ _tag: "DecodeFailed", error: new VenueDecodeError({ source: "rest/depth", reason: "not a depth snapshot", shape: shapeOf(body) }) })
          return failed("undecodable snapshot")
        }
        if (this.entries.get(symbol) !== entry) return
        entry.sync.onSnapshot(snap, this.now())
      })
      .catch((e: unknown) => {
        entry.fetching = false
        failed(e instanceof Error ? e.message : String(e))
      })
  }

  private signal(s: BinanceMarketDataSignal): void {
    try {
      this.config.onSignal?.(s)
    } catch {
      // a throwing observer must not break the feed
    }
  }

  private safely(f: () => void): void {
    try {
      f()
    } catch {
      // sinks only enqueue; one that throws must not stop the others
    }
  }

  private decodeFailed(reason: string, raw: unknown): void {
    this.c.badFrames++
    this.signal({ _tag: "DecodeFailed", error: new VenueDecodeError({ source: "ws/public", reason, shape: shapeOf(raw) }) })
  }

  private onText(text: string): void {
    this.c.frames++
    let msg: unknown
    try {
      msg = JSON.parse(text)
    } catch {
      return this.decodeFailed("not JSON", text)
    }
    if (typeof msg !== "object" || msg === null || Array.isArray(msg)) return this.decodeFailed("not an object", msg)
    let o = msg as Record<string, unknown>
    // Combined-stream envelope, if the venue wraps.
    if (typeof o["stream"] === "string" && typeof o["data"] === "object" && o["data"] !== null) o = o["data"] as Record<string, unknown>
    if ("id" in o && ("result" in o || "error" in o)) return this.onReply(o)
    const symbol = o["s"]
    const entry = typeof symbol === "string" ? this.entries.get(symbol) : undefined
    if (entry === undefined) {
      this.c.unrouted++
      return
    }
    switch (o["e"]) {
      case "depthUpdate": {
        const e = decodeDepthEvent(o)
        if (e === undefined) {
          this.decodeFailed("bad depthUpdate", o)
          // A lost event is a break: the next one's pu will not match, and resync follows.
          return
        }
        return entry.sync.onEvent(e)
      }
      case "bookTicker":
        return this.deliver(entry, toBookTicker(this.env, o, entry.instrument), o)
      case "aggTrade":
        return this.deliver(entry, toAggTrade(this.env, o, entry.instrument), o)
      case "markPriceUpdate":
        return this.deliver(entry, toMarkPrice(this.env, o, entry.instrument), o)
      default:
        return
    }
  }

  private deliver(entry: Entry, event: Ticker | Trade | undefined, raw: unknown): void {
    if (event === undefined) return this.decodeFailed("bad event", raw)
    this.c.events++
    this.safely(() => entry.sink.event(event))
  }

  private onReply(o: Record<string, unknown>): void {
    const id = o["id"]
    const symbols = typeof id === "number" ? this.pendingAcks.get(id) : undefined
    if (typeof id === "number") this.pendingAcks.delete(id)
    if (o["error"] !== undefined && o["error"] !== null) {
      this.signal({ _tag: "SubscribeFailed", detail: JSON.stringify(o["error"]).slice(0, 200) })
      return
    }
    // The stream is live: buffer from here and fetch the snapshot (the official order).
    for (const s of symbols ?? []) this.entries.get(s)?.sync.begin()
  }
}
