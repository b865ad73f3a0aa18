import type { Decimal } from "../../../../domain/decimal.js"
import type { EngineEffect } from "../engine-types.js"
import type { Exchange } from "../exchange.js"
import type { BinanceOrders } from "./orders.js"

/** One WebSocket client of the Binance face; the server applies latency faults in `send`. */
export interface StreamConnection {
  readonly id: number
  /** `public`, `market` or `legacy` (an unrouted `/ws`, `/stream`: `/public` streams only, as at the venue). */
  readonly category: "public" | "market" | "legacy"
  /** `/stream?streams=` connections get `{stream, data}` envelopes. */
  readonly combined: boolean
  readonly send: (message: unknown) => void
}

type Kind = "depth" | "bookTicker" | "trade" | "aggTrade" | "markPrice" | "ticker" | "miniTicker"

interface Parsed {
  readonly kind: Kind
  /** Engine symbol; undefined for the all-market streams (`!bookTicker`, `!markPrice@arr`, …). */
  readonly engineSymbol: string | undefined
  /** markPrice: 1000 or 3000 ms. */
  readonly everyMs: number
}

const PUBLIC_KINDS: ReadonlySet<Kind> = new Set(["depth", "bookTicker", "trade"])
const RECENT_TRADES = 1000

/**
 * The market streams on the routed paths: diff depth (`<symbol>@depth[@100ms|@500ms]`, one event
 * per engine command that changed the book, `U`/`u`/`pu` continuous per symbol), `bookTicker`,
 * `trade`, `aggTrade` on `/public` and `/market` as the venue routes them; `markPrice`,
 * `ticker`, `miniTicker` on a 1 s timer. Update ids advance whether anyone listens or not, so a
 * stale-product fault or an injected break shows as a `pu` that is not the previous `u`.
 */
export class MarketStreams {
  private readonly subscriptions = new Map<StreamConnection, Set<string>>()
  private readonly updateIds = new Map<string, number>()
  private readonly pendingBreaks = new Set<string>()
  private readonly tops = new Map<string, string>()
  private readonly trades = new Map<string, Array<{ id: number; price: Decimal; qty: Decimal; time: number; buyerMaker: boolean }>>()
  private nextTradeId = 1
  private ticks = 0

  constructor(private readonly exchange: Exchange, private readonly orders: BinanceOrders) {}

  lastUpdateId(engineSymbol: string): number {
    return this.updateIds.get(engineSymbol) ?? 1
  }

  recentTrades(engineSymbol: string): ReadonlyArray<{ id: number; price: Decimal; qty: Decimal; time: number; buyerMaker: boolean }> {
    return this.trades.get(engineSymbol) ?? []
  }

  /** The next depth event of the symbol (or every symbol with `"*"`) skips an update id: its `pu` is not the previous `u`. */
  injectBreak(engineSymbol: string): void {
    this.pendingBreaks.add(engineSymbol)
  }

  parse(stream: string): Parsed | undefined {
    const all = stream.startsWith("!")
    const [head, ...rest] = (all ? stream.slice(1) : stream).split("@")
    const engineSymbol = all ? undefined : this.orders.market(head)?.engineSymbol
    if (!all && engineSymbol === undefined) return undefined
    const channel = all ? head : rest[0]
    const suffix = all ? rest : rest.slice(1)
    switch (channel) {
      case "depth":
        return !all && suffix.every((s) => s === "100ms" || s === "500ms" || s === "0ms") ? { kind: "depth", engineSymbol, everyMs: 0 } : undefined
      case "bookTicker":
        return suffix.length === 0 ? { kind: "bookTicker", engineSymbol, everyMs: 0 } : undefined
      case "trade":
      case "aggTrade":
        return !all && suffix.length === 0 ? { kind: channel, engineSymbol, everyMs: 0 } : undefined
      case "markPrice": {
        const rest2 = all ? suffix.filter((s) => s !== "arr") : suffix
        return rest2.length === 0 ? { kind: "markPrice", engineSymbol, everyMs: 3000 } : rest2.length === 1 && rest2[0] === "1s" ? { kind: "markPrice", engineSymbol, everyMs: 1000 } : undefined
      }
      case "ticker":
      case "miniTicker":
        return (all ? suffix.length === 1 && suffix[0] === "arr" : suffix.length === 0) ? { kind: channel, engineSymbol, everyMs: 1000 } : undefined
      default:
        return undefined
    }
  }

  disconnect(conn: StreamConnection): void {
    this.subscriptions.delete(conn)
  }

  /** Why a stream cannot be served on this connection, or undefined when it can. */
  refusal(conn: StreamConnection, stream: string): string | undefined {
    const parsed = this.parse(stream)
    if (parsed === undefined) return `Invalid request: unknown stream '${stream}'`
    const category = PUBLIC_KINDS.has(parsed.kind) ? "public" : "market"
    if (conn.category === "legacy" ? category !== "public" : conn.category !== category) return `Invalid request: stream '${stream}' is served on /${category}, not on this path`
    return undefined
  }

  subscribe(conn: StreamConnection, streams: ReadonlyArray<string>): void {
    const set = this.subscriptions.get(conn) ?? new Set<string>()
    this.subscriptions.set(conn, set)
    for (const s of streams) set.add(s)
  }

  unsubscribe(conn: StreamConnection, streams: ReadonlyArray<string>): void {
    const set = this.subscriptions.get(conn)
    for (const s of streams) set?.delete(s)
  }

  list(conn: StreamConnection): string[] {
    return [...(this.subscriptions.get(conn) ?? [])]
  }

  onEffects(effects: ReadonlyArray<EngineEffect>): void {
    const now = this.exchange.now()
    const changed = new Map<string, { bids: Map<string, string>; asks: Map<string, string> }>()
    for (const e of effects) {
      if (e.kind === "book") {
        const entry = changed.get(e.symbol) ?? { bids: new Map<string, string>(), asks: new Map<string, string>() }
        changed.set(e.symbol, entry)
        ;(e.side === "buy" ? entry.bids : entry.asks).set(e.price.toFixed(), e.qty.toFixed())
      } else if (e.kind === "trade") {
        const id = this.nextTradeId++
        const buyerMaker = e.takerSide === "sell"
        const list = this.trades.get(e.symbol) ?? []
        list.push({ id, price: e.price, qty: e.qty, time: e.time, buyerMaker })
        if (list.length > 2 * RECENT_TRADES) list.splice(0, list.length - RECENT_TRADES)
        this.trades.set(e.symbol, list)
        const symbol = this.orders.marketOfEngine(e.symbol)?.symbol ?? e.symbol
        if (this.exchange.faults.staleProducts.includes(e.symbol)) continue
        const lower = symbol.toLowerCase()
        const p = e.price.toFixed()
        const q = e.qty.toFixed()
        this.broadcast(`${lower}@trade`, { e: "trade", E: now, T: e.time, s: symbol, t: id, p, q, X: "MARKET", m: buyerMaker })
        this.broadcast(`${lower}@aggTrade`, { e: "aggTrade", E: now, s: symbol, a: id, p, q, nq: q, f: id, l: id, T: e.time, m: buyerMaker })
      }
    }
    for (const [engineSymbol, levels] of changed) {
      const previous = this.lastUpdateId(engineSymbol)
      let pu = previous
      if (this.pendingBreaks.delete(engineSymbol) || this.pendingBreaks.delete("*")) pu = previous + 1
      const count = levels.bids.size + levels.asks.size
      const U = pu + 1
      const u = pu + count
      this.updateIds.set(engineSymbol, u)
      if (this.exchange.faults.staleProducts.includes(engineSymbol)) continue
      const symbol = this.orders.marketOfEngine(engineSymbol)?.symbol ?? engineSymbol
      const lower = symbol.toLowerCase()
      const event = { e: "depthUpdate", E: now, T: now, s: symbol, U, u, pu, b: [...levels.bids], a: [...levels.asks] }
      for (const suffix of ["@depth", "@depth@100ms", "@depth@500ms", "@depth@0ms"]) this.broadcast(`${lower}${suffix}`, event)
      this.bookTicker(engineSymbol, symbol, u, now)
    }
  }

  private bookTicker(engineSymbol: string, symbol: string, u: number, now: number): void {
    const depth = this.exchange.engine.depth(engineSymbol)
    const bid = depth.bids[0]
    const ask = depth.asks[0]
    const top = `${bid?.[0].toFixed()}|${bid?.[1].toFixed()}|${ask?.[0].toFixed()}|${ask?.[1].toFixed()}`
    if (this.tops.get(engineSymbol) === top) return
    this.tops.set(engineSymbol, top)
    const message = { e: "bookTicker", u, E: now, T: now, s: symbol, b: bid?.[0].toFixed() ?? "0", B: bid?.[1].toFixed() ?? "0", a: ask?.[0].toFixed() ?? "0", A: ask?.[1].toFixed() ?? "0" }
    this.broadcast(`${symbol.toLowerCase()}@bookTicker`, message)
    this.broadcast("!bookTicker", message)
  }

  /** The 1 s timer: mark prices (every 3 s without `@1s`), tickers and mini tickers. */
  tick(): void {
    this.ticks++
    const now = this.exchange.now()
    const markAll1s: unknown[] = []
    const markAll3s: unknown[] = []
    const tickers: unknown[] = []
    const minis: unknown[] = []
    for (const m of this.orders.markets()) {
      if (this.exchange.faults.staleProducts.includes(m.engineSymbol)) continue
      const lower = m.symbol.toLowerCase()
      const mark = this.exchange.markPrice(m.engineSymbol)?.toFixed() ?? "0"
      const interval = this.exchange.model.fundingIntervalMs
      const markEvent = {
        e: "markPriceUpdate", E: now, s: m.symbol, p: mark, ap: mark, i: mark, P: mark, r: this.exchange.model.fundingRelativeRate.toFixed(8),
        T: interval > 0 ? now - (now % interval) + interval : 0
      }
      this.broadcast(`${lower}@markPrice@1s`, markEvent)
      markAll1s.push(markEvent)
      if (this.ticks % 3 === 0) {
        this.broadcast(`${lower}@markPrice`, markEvent)
        markAll3s.push(markEvent)
      }
      const t = this.exchange.ticker(m.engineSymbol)
      const last = (t.last ?? t.markPrice).toFixed()
      const open = t.open24h.toFixed()
      const mini = { e: "24hrMiniTicker", E: now, s: m.symbol, c: last, o: open, h: last, l: last, v: t.vol24h.toFixed(), q: t.vol24h.times(t.last ?? t.markPrice).toDecimalPlaces(8).toFixed() }
      const change = (t.last ?? t.markPrice).minus(t.open24h)
      const ticker = {
        ...mini, e: "24hrTicker", p: change.toFixed(), P: t.open24h.isZero() ? "0" : change.div(t.open24h).times(100).toDecimalPlaces(3).toFixed(), w: last,
        Q: t.lastSize?.toFixed() ?? "0", O: now - 86_400_000, C: now, F: 0, L: 0, n: 0
      }
      this.broadcast(`${lower}@miniTicker`, mini)
      this.broadcast(`${lower}@ticker`, ticker)
      minis.push(mini)
      tickers.push(ticker)
    }
    this.broadcast("!markPrice@arr@1s", markAll1s)
    if (markAll3s.length > 0) this.broadcast("!markPrice@arr", markAll3s)
    this.broadcast("!miniTicker@arr", minis)
    this.broadcast("!ticker@arr", tickers)
  }

  private broadcast(stream: string, data: unknown): void {
    for (const [conn, streams] of this.subscriptions) if (streams.has(stream)) conn.send(conn.combined ? { stream, data } : data)
  }
}
