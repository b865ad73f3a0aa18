import type { Decimal } from "../../../domain/decimal.js"
import type { EngineEffect } from "./engine-types.js"

/** One WebSocket client as the feeds see it; the server applies latency faults in `send`. */
export interface FeedConnection {
  readonly id: number
  readonly send: (message: unknown) => void
}

export interface TickerData {
  readonly symbol: string
  readonly bid: Decimal | undefined
  readonly ask: Decimal | undefined
  readonly bidSize: Decimal | undefined
  readonly askSize: Decimal | undefined
  readonly last: Decimal | undefined
  readonly lastTime: number | undefined
  readonly lastSize: Decimal | undefined
  readonly markPrice: Decimal
  readonly open24h: Decimal
  readonly vol24h: Decimal
  readonly openInterest: Decimal
  readonly suspended: boolean
}

/** What the public feed reads from the exchange. */
export interface PublicFeedSource {
  readonly now: () => number
  readonly symbols: () => ReadonlyArray<string>
  readonly depth: (symbol: string) => { bids: Array<[Decimal, Decimal]>; asks: Array<[Decimal, Decimal]> }
  readonly ticker: (symbol: string) => TickerData
  readonly isStale: (symbol: string) => boolean
}

const PUBLIC_FEEDS: ReadonlySet<string> = new Set(["book", "trade", "ticker", "ticker_lite", "heartbeat"])
const TRADE_SNAPSHOT_SIZE = 100

export const isPublicFeed = (feed: string): boolean => PUBLIC_FEEDS.has(feed)

/**
 * The public market-data feeds: `book` (snapshot, then one level per message with a per-product
 * `seq`), `trade`, `ticker`, `ticker_lite` and `heartbeat`. Sequence numbers advance with the
 * engine's book changes whether or not anyone listens, so a stale product or an injected gap
 * shows up to clients as a jump in `seq`.
 */
export class PublicFeed {
  private readonly bookSeq = new Map<string, number>()
  private readonly tradeSeq = new Map<string, number>()
  private readonly recentTrades = new Map<string, Array<Record<string, unknown>>>()
  private readonly subscriptions = new Map<FeedConnection, Set<string>>()
  private readonly pendingGaps = new Set<string>()

  constructor(private readonly source: PublicFeedSource) {}

  /** The last `seq` sent (or skipped) for a product's book. */
  seq(symbol: string): number {
    return this.bookSeq.get(symbol) ?? 0
  }

  /** The next book delta of the product (or of every product with `"*"`) skips one `seq`. */
  injectGap(symbol: string): void {
    this.pendingGaps.add(symbol)
  }

  disconnect(conn: FeedConnection): void {
    this.subscriptions.delete(conn)
  }

  subscribe(conn: FeedConnection, feed: string, productIds: ReadonlyArray<string>): void {
    const known = new Set(this.source.symbols())
    if (feed === "heartbeat") {
      this.keys(conn).add("heartbeat")
      conn.send({ event: "subscribed", feed })
      return
    }
    const bad = productIds.filter((p) => !known.has(p))
    if (productIds.length === 0 || bad.length > 0) {
      conn.send({ event: "subscribed_failed", feed, product_ids: productIds, message: bad.length > 0 ? `Invalid product id(s): ${bad.join(",")}` : "product_ids required" })
      return
    }
    const keys = this.keys(conn)
    for (const p of productIds) keys.add(`${feed}|${p}`)
    conn.send({ event: "subscribed", feed, product_ids: productIds })
    for (const p of productIds) {
      if (this.source.isStale(p)) continue
      if (feed === "book") conn.send(this.bookSnapshot(p))
      else if (feed === "trade") conn.send({ feed: "trade_snapshot", product_id: p, trades: this.recentTrades.get(p) ?? [] })
      else if (feed === "ticker") conn.send(this.tickerMessage(p))
      else if (feed === "ticker_lite") conn.send(this.tickerLiteMessage(p))
    }
  }

  unsubscribe(conn: FeedConnection, feed: string, productIds: ReadonlyArray<string>): void {
    const keys = this.keys(conn)
    if (feed === "heartbeat") {
      keys.delete("heartbeat")
      conn.send({ event: "unsubscribed", feed })
      return
    }
    const missing = productIds.filter((p) => !keys.has(`${feed}|${p}`))
    if (missing.length > 0) {
      conn.send({ event: "unsubscribed_failed", feed, product_ids: productIds })
      return
    }
    for (const p of productIds) keys.delete(`${feed}|${p}`)
    conn.send({ event: "unsubscribed", feed, product_ids: productIds })
  }

  onEffects(effects: ReadonlyArray<EngineEffect>): void {
    for (const e of effects) {
      if (e.kind === "book") {
        let seq = this.seq(e.symbol) + 1
        if (this.pendingGaps.delete(e.symbol) || this.pendingGaps.delete("*")) seq += 1
        this.bookSeq.set(e.symbol, seq)
        if (this.source.isStale(e.symbol)) continue
        this.broadcast(`book|${e.symbol}`, {
          feed: "book", product_id: e.symbol, side: e.side, seq, price: e.price, qty: e.qty, timestamp: this.source.now()
        })
      } else if (e.kind === "trade") {
        const seq = (this.tradeSeq.get(e.symbol) ?? 0) + 1
        this.tradeSeq.set(e.symbol, seq)
        const trade = { feed: "trade", product_id: e.symbol, uid: e.tradeId, side: e.takerSide, type: "fill", seq, time: e.time, qty: e.qty, price: e.price }
        const recent = this.recentTrades.get(e.symbol) ?? []
        recent.unshift(trade)
        if (recent.length > TRADE_SNAPSHOT_SIZE) recent.pop()
        this.recentTrades.set(e.symbol, recent)
        if (!this.source.isStale(e.symbol)) this.broadcast(`trade|${e.symbol}`, trade)
      }
    }
  }

  /** Called on the heartbeat timer. */
  heartbeat(): void {
    this.broadcast("heartbeat", { feed: "heartbeat", time: this.source.now() })
  }

  /** Called on the ticker timer (Kraken publishes tickers about once a second). */
  tickers(): void {
    for (const p of this.source.symbols()) {
      if (this.source.isStale(p)) continue
      this.broadcast(`ticker|${p}`, this.tickerMessage(p))
      this.broadcast(`ticker_lite|${p}`, this.tickerLiteMessage(p))
    }
  }

  bookSnapshot(symbol: string): Record<string, unknown> {
    const depth = this.source.depth(symbol)
    const level = ([price, qty]: [Decimal, Decimal]) => ({ price, qty })
    return {
      feed: "book_snapshot", product_id: symbol, timestamp: this.source.now(), seq: this.seq(symbol), tickSize: null,
      bids: depth.bids.map(level), asks: depth.asks.map(level)
    }
  }

  private tickerMessage(symbol: string): Record<string, unknown> {
    const t = this.source.ticker(symbol)
    const last = t.last ?? t.markPrice
    return {
      feed: "ticker", product_id: symbol, time: this.source.now(), bid: t.bid ?? 0, ask: t.ask ?? 0, bid_size: t.bidSize ?? 0,
      ask_size: t.askSize ?? 0, volume: t.vol24h, dtm: 0, leverage: "50x", index: t.markPrice, premium: 0, last,
      change: t.open24h.isZero() ? 0 : last.minus(t.open24h).div(t.open24h).times(100).toDecimalPlaces(4),
      funding_rate: 0, funding_rate_prediction: 0, suspended: t.suspended, tag: "perpetual", pair: symbol.replace(/^P[FI]_/, "").replace(/USD$/, ":USD"),
      openInterest: t.openInterest, markPrice: t.markPrice, maturityTime: 0, relative_funding_rate: 0, post_only: false,
      volumeQuote: t.vol24h.times(last)
    }
  }

  private tickerLiteMessage(symbol: string): Record<string, unknown> {
    const t = this.source.ticker(symbol)
    return { feed: "ticker_lite", product_id: symbol, bid: t.bid ?? 0, ask: t.ask ?? 0, change: 0, premium: 0, volume: t.vol24h, tag: "perpetual", pair: symbol, dtm: 0, maturityTime: 0 }
  }

  private keys(conn: FeedConnection): Set<string> {
    const existing = this.subscriptions.get(conn)
    if (existing !== undefined) return existing
    const created = new Set<string>()
    this.subscriptions.set(conn, created)
    return created
  }

  private broadcast(key: string, message: unknown): void {
    for (const [conn, keys] of this.subscriptions) if (keys.has(key)) conn.send(message)
  }
}
