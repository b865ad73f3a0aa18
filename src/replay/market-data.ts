import type { MarketDataService, MarketDataSink } from "../actors/ports/market-data.js"
import type { StrategyMarketFeed } from "../actors/strategy/ports.js"
import type { Decimal } from "../domain/decimal.js"
import type { Trade } from "../domain/events/market.js"
import { symbolOf, type InstrumentId } from "../domain/ids.js"
import type { MatchingEngine } from "../adapters/venues/simulator/matching-engine.js"

/**
 * The market data port of a replay: the engine's book, as Kraken's public feed would carry it,
 * handed to the instrument actors in-process. A subscribe (or resync) gets `subscribed` and a
 * `book_snapshot` of the engine's book at once; every level the engine changes after that is a
 * `book` frame with the product's next `seq` — the same text the daemon's instrument actors read
 * from the venue's WebSocket, so they run their real scanner, sequence check and book-sync
 * machine. Public trades go to the strategies that asked for them, as canonical `Trade` events,
 * after the venue's current command (never from inside the engine).
 */
export class ReplayMarketData implements MarketDataService {
  private readonly sinks = new Map<string, MarketDataSink>()
  private readonly seqs = new Map<string, number>()
  private readonly heads = new Map<string, string>()
  private readonly tradeSubs = new Map<string, Array<(t: Trade) => void>>()
  private pendingTrades: Trade[] = []
  private tradesScheduled = false
  private tradeSeq = 0
  frames = 0

  constructor(
    private readonly engine: MatchingEngine,
    private readonly venue: string,
    private readonly now: () => number
  ) {}

  readonly subscribe = (instrumentId: InstrumentId, sink: MarketDataSink): (() => void) => {
    const symbol = symbolOf(instrumentId)
    this.sinks.set(symbol, sink)
    this.sendSnapshot(symbol, sink)
    return () => {
      if (this.sinks.get(symbol) === sink) this.sinks.delete(symbol)
    }
  }

  readonly resync = (instrumentId: InstrumentId): void => {
    const symbol = symbolOf(instrumentId)
    const sink = this.sinks.get(symbol)
    if (sink !== undefined) this.sendSnapshot(symbol, sink)
  }

  /** One level of the engine's book changed (qty 0: the level is gone). */
  book(symbol: string, side: "buy" | "sell", price: Decimal, qty: Decimal): void {
    const seq = (this.seqs.get(symbol) ?? 0) + 1
    this.seqs.set(symbol, seq)
    const sink = this.sinks.get(symbol)
    if (sink === undefined) return
    let head = this.heads.get(symbol)
    if (head === undefined) this.heads.set(symbol, (head = `{"feed":"book","product_id":${JSON.stringify(symbol)},"side":"`))
    this.frames++
    sink.text(`${head}${side}","seq":${seq},"price":${this.text(symbol, "ticks", price)},"qty":${this.text(symbol, "lots", qty)},"timestamp":${this.now()}}`)
  }

  trade(symbol: string, tradeId: string, price: Decimal, qty: Decimal, aggressor: "buy" | "sell", ts: number): void {
    if (!this.tradeSubs.has(symbol)) return
    this.pendingTrades.push({
      _tag: "Trade",
      id: `md/replay-${++this.tradeSeq}`,
      ts,
      source: "md/replay",
      instrument: `${this.venue}:${symbol}` as InstrumentId,
      price,
      qty,
      aggressor,
      tradeId
    })
    if (this.tradesScheduled) return
    this.tradesScheduled = true
    queueMicrotask(() => this.deliverTrades())
  }

  /** The strategies' feed: book views come from the instrument actors, trades from here. */
  subscribeTrades: NonNullable<StrategyMarketFeed["subscribeTrades"]> = (instrument, deliver) => {
    const symbol = symbolOf(instrument)
    const subs = this.tradeSubs.get(symbol) ?? []
    this.tradeSubs.set(symbol, [...subs, deliver])
    return () => {
      const now = (this.tradeSubs.get(symbol) ?? []).filter((d) => d !== deliver)
      if (now.length === 0) this.tradeSubs.delete(symbol)
      else this.tradeSubs.set(symbol, now)
    }
  }

  private deliverTrades(): void {
    this.tradesScheduled = false
    const trades = this.pendingTrades
    this.pendingTrades = []
    for (const t of trades) for (const deliver of this.tradeSubs.get(symbolOf(t.instrument)) ?? []) deliver(t)
  }

  /** Decimal text of an engine price or size through its grid's memo (the engine's values are always on it). */
  private text(symbol: string, grid: "ticks" | "lots", value: Decimal): string {
    const g = this.engine.grids(symbol)?.[grid]
    const n = g === undefined ? -1 : g.steps(value)
    return g === undefined || n < 0 ? value.toFixed() : g.text(n)
  }

  private sendSnapshot(symbol: string, sink: MarketDataSink): void {
    const depth = this.engine.depth(symbol)
    const levels = (ls: ReadonlyArray<[Decimal, Decimal]>): string => ls.map(([p, q]) => `{"price":${p.toFixed()},"qty":${q.toFixed()}}`).join(",")
    sink.status("subscribed")
    this.frames++
    sink.text(
      `{"feed":"book_snapshot","product_id":${JSON.stringify(symbol)},"timestamp":${this.now()},"seq":${this.seqs.get(symbol) ?? 0},"tickSize":null,"bids":[${levels(depth.bids)}],"asks":[${levels(depth.asks)}]}`
    )
  }
}
