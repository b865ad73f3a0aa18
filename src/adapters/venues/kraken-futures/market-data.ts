import { Either } from "effect"
import type { MarketEvent } from "../../../domain/events/market.js"
import type { InstrumentId } from "../../../domain/ids.js"
import { DecodeCounter, type DecodeStats } from "./decode-stats.js"
import type { VenueDecodeError } from "./errors.js"
import { envelopeSource, instrumentOf, toBookDelta, toBookSnapshot, toTicker, toTrade, type EnvelopeSource } from "./md-normalize.js"
import { PublicFrameDecoder, type BookDeltaFrame } from "./public-frames.js"
import { SequenceTracker } from "./sequence.js"
import { ManagedConnection, type ConnectionConfig, type ConnectionSignal } from "./ws-connection.js"

/**
 * Kraken Futures public market data: subscribes book/trade/ticker (+ heartbeat) for a set of
 * products and turns frames into canonical `BookSnapshot | BookDelta | Trade | Ticker` events.
 * The book's sequence is checked per product; a gap is signalled and that product's book is
 * resubscribed for a fresh snapshot (deltas are dropped until it arrives). Bad frames are typed,
 * counted and signalled; nothing here throws into the socket.
 */

export const PRODUCTION_WS_URL = "wss://futures.kraken.com/ws/v1"
export const DEMO_WS_URL = "wss://demo-futures.kraken.com/ws/v1"

export type PublicFeed = "book" | "trade" | "ticker" | "ticker_lite"

export type MarketDataSignal =
  | ConnectionSignal
  | { readonly _tag: "Info"; readonly version?: number }
  | { readonly _tag: "Subscribed"; readonly feed: string; readonly productIds: ReadonlyArray<string> }
  | { readonly _tag: "SubscribeFailed"; readonly feed: string; readonly message: string }
  | { readonly _tag: "SequenceGap"; readonly product: string; readonly expected: number; readonly received: number }
  | { readonly _tag: "DecodeFailed"; readonly error: VenueDecodeError }
  | { readonly _tag: "VenueMessage"; readonly level: "error" | "alert"; readonly message: string }
  | { readonly _tag: "TradeSnapshot"; readonly product: string; readonly count: number }

export interface MarketDataCounters extends DecodeStats {
  readonly gaps: number
  /** Deltas dropped while a product waited for its (re)snapshot, or older than the book. */
  readonly droppedDeltas: number
}

export interface SessionHandlers {
  readonly onEvent: (event: MarketEvent) => void
  readonly onSignal?: (signal: MarketDataSignal) => void
}

/**
 * The protocol half, without a socket: feed it text frames, it emits events and signals and
 * asks `send` to write subscribe messages. Tests drive it directly.
 */
export class PublicFeedSession {
  private readonly decoder = new PublicFrameDecoder()
  private readonly sequences = new SequenceTracker()
  private readonly counter = new DecodeCounter()
  /** Product id → instrument id, for the book hot path (instrumentOf wraps each answer in an Either). */
  private readonly instruments = new Map<string, InstrumentId>()
  private gaps = 0
  private dropped = 0

  constructor(
    private readonly feeds: ReadonlyArray<PublicFeed>,
    private readonly products: ReadonlyArray<string>,
    private readonly handlers: SessionHandlers,
    private readonly send: (message: unknown) => void,
    private readonly env: EnvelopeSource = envelopeSource("kraken-futures/md")
  ) {}

  /** After each (re)connect: all books are unknown again, so subscribe from scratch. */
  subscribeAll(): void {
    this.sequences.reset()
    this.send({ event: "subscribe", feed: "heartbeat" })
    for (const feed of this.feeds) this.send({ event: "subscribe", feed, product_ids: [...this.products] })
  }

  /** Rebuild one product's book from a fresh snapshot (also for a crossed book seen downstream). */
  resync(product: string): void {
    this.sequences.reset(product)
    this.send({ event: "unsubscribe", feed: "book", product_ids: [product] })
    this.send({ event: "subscribe", feed: "book", product_ids: [product] })
  }

  counters(): MarketDataCounters {
    return { ...this.counter.snapshot(), gaps: this.gaps, droppedDeltas: this.dropped }
  }

  private signal(s: MarketDataSignal): void {
    this.handlers.onSignal?.(s)
  }

  private decodeFailed(error: VenueDecodeError): void {
    this.counter.error(error.reason, error.shape)
    this.signal({ _tag: "DecodeFailed", error })
  }

  /** The hot path: one book update. */
  private bookDelta(f: BookDeltaFrame): void {
    let instrument = this.instruments.get(f.product_id)
    if (instrument === undefined) {
      const id = instrumentOf(f.product_id)
      if (Either.isLeft(id)) return this.decodeFailed(id.left)
      instrument = id.right
      if (this.instruments.size < 1_000) this.instruments.set(f.product_id, instrument)
    }
    const verdict = this.sequences.delta(f.product_id, f.seq)
    switch (verdict.kind) {
      case "ok":
        return this.handlers.onEvent(toBookDelta(this.env, f, instrument))
      case "gap":
        this.gaps++
        this.signal({ _tag: "SequenceGap", product: f.product_id, expected: verdict.expected, received: verdict.received })
        return this.resync(f.product_id)
      default:
        this.dropped++
        return
    }
  }

  handle(text: string): void {
    this.counter.frame()
    const decoded = this.decoder.decode(text)
    if (Either.isLeft(decoded)) return this.decodeFailed(decoded.left)
    const f = decoded.right
    if ("event" in f) {
      switch (f.event) {
        case "info":
          return this.signal(f.version == null ? { _tag: "Info" } : { _tag: "Info", version: f.version })
        case "subscribed":
          return this.signal({ _tag: "Subscribed", feed: f.feed ?? "", productIds: f.product_ids ?? [] })
        case "subscribed_failed":
          return this.signal({ _tag: "SubscribeFailed", feed: f.feed ?? "", message: f.message ?? "" })
        case "error":
        case "alert":
          return this.signal({ _tag: "VenueMessage", level: f.event, message: f.message ?? "" })
        default:
          return
      }
    }
    if (f.feed === "heartbeat") return
    if (f.feed === "book") return this.bookDelta(f)
    const instrument = instrumentOf(f.product_id)
    if (Either.isLeft(instrument)) return this.decodeFailed(instrument.left)
    switch (f.feed) {
      case "book_snapshot":
        this.sequences.snapshot(f.product_id, f.seq)
        return this.handlers.onEvent(toBookSnapshot(this.env, f, instrument.right))
      case "trade":
        return this.handlers.onEvent(toTrade(this.env, f, instrument.right))
      case "trade_snapshot":
        // History from before we subscribed: announced, not replayed as live trades.
        return this.signal({ _tag: "TradeSnapshot", product: f.product_id, count: f.trades.length })
      case "ticker":
      case "ticker_lite":
        return this.handlers.onEvent(toTicker(this.env, f, instrument.right))
    }
  }
}

export interface MarketDataConfig extends ConnectionConfig, SessionHandlers {
  readonly products: ReadonlyArray<string>
  readonly feeds?: ReadonlyArray<PublicFeed>
  readonly env?: EnvelopeSource
}

/** The running client: a `PublicFeedSession` on a `ManagedConnection` (venue-connection machine). */
export class KrakenMarketData {
  private readonly connection: ManagedConnection
  private readonly session: PublicFeedSession

  constructor(config: MarketDataConfig) {
    const onSignal = config.onSignal
    this.connection = new ManagedConnection(config, {
      // The public feed needs no credentials: authenticated as soon as the socket is open.
      authenticate: (c) => c.authenticated(),
      subscribe: () => this.session.subscribeAll(),
      onText: (text) => this.session.handle(text),
      onSignal: (s) => onSignal?.(s)
    })
    this.session = new PublicFeedSession(
      config.feeds ?? ["book", "trade", "ticker"],
      config.products,
      { onEvent: config.onEvent, onSignal: (s) => onSignal?.(s) },
      (m) => this.connection.send(m),
      config.env
    )
  }

  start(): void {
    this.connection.start()
  }

  stop(): Promise<void> {
    return this.connection.stop()
  }

  resync(product: string): void {
    this.session.resync(product)
  }

  connectionState(): ReturnType<ManagedConnection["state"]> {
    return this.connection.state()
  }

  counters(): MarketDataCounters {
    return this.session.counters()
  }
}
