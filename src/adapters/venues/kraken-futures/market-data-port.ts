import type { MarketDataService, MarketDataSink } from "../../../actors/ports/market-data.js"
import { symbolOf, type InstrumentId } from "../../../domain/ids.js"
import { envelopeSource, type EnvelopeSource } from "./md-normalize.js"
import { PublicFeedSession, type MarketDataSignal } from "./market-data.js"
import { ManagedConnection, type ConnectionConfig } from "./ws-connection.js"

/**
 * The market data port on Kraken Futures' public WebSocket: one `ManagedConnection` (the
 * venue-connection machine reconnects with backoff) carries the `book` feed of every subscribed
 * instrument. `book` and `book_snapshot` frames go to the instrument's sink as the venue's own
 * TEXT (routed by a cheap `indexOf` on `product_id`: no JSON.parse on the hot path; the
 * instrument actor scans the text). A `subscribed` ack of the book feed is `status("subscribed")`
 * for each listed product, and the simulator and Kraken send it before the snapshot, which is
 * the port's contract. A lost connection is `status("disconnected")` to every sink; the
 * reconnect resubscribes everything. Optional `trade` / `ticker` feeds are normalized to
 * canonical events (rare frames, so the Schema decoder of `PublicFeedSession` is fine there).
 */

export type ExtraFeed = "trade" | "ticker"

export interface KrakenMarketDataPortConfig extends ConnectionConfig {
  /** Feeds besides `book`, delivered as canonical events through `sink.event`. Default none. */
  readonly extraFeeds?: ReadonlyArray<ExtraFeed>
  readonly env?: EnvelopeSource
  readonly onSignal?: (signal: MarketDataSignal) => void
}

export interface KrakenMarketDataPortCounters {
  readonly frames: number
  /** Book frames handed to a sink. */
  readonly bookFrames: number
  readonly snapshots: number
  /** Frames for a product nobody subscribes (e.g. in flight after an unsubscribe). */
  readonly unrouted: number
  readonly events: number
  readonly subscribeFailures: number
  readonly resyncs: number
  readonly disconnects: number
  readonly badFrames: number
}

export interface KrakenMarketDataPort extends MarketDataService {
  readonly start: () => void
  readonly stop: () => Promise<void>
  readonly counters: () => KrakenMarketDataPortCounters
  /** Whether the socket is up and the current subscriptions were sent on it. */
  readonly live: () => boolean
}

interface Entry {
  readonly instrument: InstrumentId
  readonly sink: MarketDataSink
}

const PRODUCT_KEY = '"product_id":"'
const FEED_KEY = '"feed":"'

/** The string value that starts at `start` (no escapes in Kraken's ids and feed names). */
const valueAt = (text: string, start: number): string | undefined => {
  const end = text.indexOf('"', start)
  return end < 0 ? undefined : text.slice(start, end)
}

const valueAfter = (text: string, key: string): string | undefined => {
  const i = text.indexOf(key)
  return i < 0 ? undefined : valueAt(text, i + key.length)
}

export const makeKrakenMarketDataPort = (config: KrakenMarketDataPortConfig): KrakenMarketDataPort => new Port(config)

class Port implements KrakenMarketDataPort {
  private readonly connection: ManagedConnection
  private readonly session: PublicFeedSession | undefined
  private readonly entries = new Map<string, Entry>()
  private readonly extra: ReadonlyArray<ExtraFeed>
  private isLive = false
  private c = { frames: 0, bookFrames: 0, snapshots: 0, unrouted: 0, events: 0, subscribeFailures: 0, resyncs: 0, disconnects: 0, badFrames: 0 }

  constructor(private readonly config: KrakenMarketDataPortConfig) {
    this.extra = config.extraFeeds ?? []
    this.connection = new ManagedConnection(config, {
      // The public feed needs no credentials.
      authenticate: (c) => c.authenticated(),
      subscribe: () => this.subscribeAll(),
      onText: (text) => this.onText(text),
      onSignal: (s) => {
        if (s._tag === "Disconnected" || s._tag === "GaveUp") this.lost()
        this.signal(s)
      }
    })
    this.session =
      this.extra.length === 0
        ? undefined
        : new PublicFeedSession(
            this.extra,
            [],
            {
              onEvent: (e) => {
                const entry = this.entries.get(symbolOf(e.instrument))
                if (entry === undefined) return
                this.c.events++
                entry.sink.event(e)
              },
              onSignal: (s) => this.signal(s)
            },
            () => {},
            config.env ?? envelopeSource("kraken-futures/md", Date.now)
          )
  }

  readonly subscribe = (instrumentId: InstrumentId, sink: MarketDataSink): (() => void) => {
    const product = symbolOf(instrumentId)
    const had = this.entries.has(product)
    const entry: Entry = { instrument: instrumentId, sink }
    this.entries.set(product, entry)
    if (this.isLive) {
      // A replaced sink needs its own `subscribed` + snapshot: resubscribe the product.
      if (had) this.send({ event: "unsubscribe", feed: "book", product_ids: [product] })
      this.send({ event: "subscribe", feed: "book", product_ids: [product] })
      for (const feed of this.extra) if (!had) this.send({ event: "subscribe", feed, product_ids: [product] })
    }
    return () => {
      if (this.entries.get(product) !== entry) return
      this.entries.delete(product)
      if (!this.isLive) return
      this.send({ event: "unsubscribe", feed: "book", product_ids: [product] })
      for (const feed of this.extra) this.send({ event: "unsubscribe", feed, product_ids: [product] })
    }
  }

  readonly resync = (instrumentId: InstrumentId): void => {
    const product = symbolOf(instrumentId)
    if (!this.entries.has(product)) return
    this.c.resyncs++
    // Not live: the reconnect resubscribes everything, which is a resync already.
    if (!this.isLive) return
    this.send({ event: "unsubscribe", feed: "book", product_ids: [product] })
    this.send({ event: "subscribe", feed: "book", product_ids: [product] })
  }

  readonly start = (): void => {
    this.connection.start()
  }

  readonly stop = async (): Promise<void> => {
    await this.connection.stop()
    this.lost()
  }

  readonly counters = (): KrakenMarketDataPortCounters => ({ ...this.c })

  readonly live = (): boolean => this.isLive

  private send(message: unknown): void {
    this.connection.send(message)
  }

  private signal(s: MarketDataSignal): void {
    try {
      this.config.onSignal?.(s)
    } catch {
      // a throwing observer must not break the feed
    }
  }

  /** Once per (re)connection: every book is unknown again. */
  private subscribeAll(): void {
    this.isLive = true
    this.send({ event: "subscribe", feed: "heartbeat" })
    const products = [...this.entries.keys()]
    if (products.length === 0) return
    this.send({ event: "subscribe", feed: "book", product_ids: products })
    for (const feed of this.extra) this.send({ event: "subscribe", feed, product_ids: products })
  }

  private lost(): void {
    if (!this.isLive) return
    this.isLive = false
    this.c.disconnects++
    for (const e of this.entries.values()) this.safely(() => e.sink.status("disconnected"))
  }

  private safely(f: () => void): void {
    try {
      f()
    } catch {
      // sinks only enqueue; one that throws must not stop the others
    }
  }

  private onText(text: string): void {
    this.c.frames++
    // Book frames first: they are nearly all the traffic. A data frame has no `event` key; an
    // event frame (`{"event":"subscribed","feed":...}`) has it before its `feed`, so only the
    // few characters before `feed` are searched, never a whole snapshot.
    const feedAt = text.indexOf(FEED_KEY)
    const isEvent = feedAt < 0 ? text.indexOf('"event"') >= 0 : text.lastIndexOf('"event"', feedAt) >= 0
    const feed = feedAt < 0 ? undefined : valueAt(text, feedAt + FEED_KEY.length)
    if (!isEvent && (feed === "book" || feed === "book_snapshot")) {
      const product = valueAfter(text, PRODUCT_KEY)
      const entry = product === undefined ? undefined : this.entries.get(product)
      if (entry === undefined) {
        this.c.unrouted++
        return
      }
      if (feed === "book") this.c.bookFrames++
      else this.c.snapshots++
      this.safely(() => entry.sink.text(text))
      return
    }
    if (isEvent) return this.onEvent(text)
    if (feed === "heartbeat" || feed === undefined) return
    // trade, trade_snapshot, ticker: canonical events when asked for
    this.session?.handle(text)
  }

  private onEvent(text: string): void {
    let msg: { event?: unknown; feed?: unknown; product_ids?: unknown; message?: unknown }
    try {
      msg = JSON.parse(text) as typeof msg
    } catch {
      this.c.badFrames++
      return
    }
    const feed = typeof msg.feed === "string" ? msg.feed : ""
    const products = Array.isArray(msg.product_ids) ? msg.product_ids.filter((p): p is string => typeof p === "string") : []
    switch (msg.event) {
      case "subscribed":
        this.signal({ _tag: "Subscribed", feed, productIds: products })
        if (feed !== "book") return
        for (const p of products) {
          const entry = this.entries.get(p)
          if (entry !== undefined) this.safely(() => entry.sink.status("subscribed"))
        }
        return
      case "subscribed_failed":
        this.c.subscribeFailures++
        return this.signal({ _tag: "SubscribeFailed", feed, message: typeof msg.message === "string" ? msg.message : "" })
      case "info":
        return this.signal({ _tag: "Info" })
      case "error":
      case "alert":
        return this.signal({ _tag: "VenueMessage", level: msg.event, message: typeof msg.message === "string" ? msg.message : "" })
      default:
        return
    }
  }
}
