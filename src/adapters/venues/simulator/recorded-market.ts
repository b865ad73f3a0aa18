import { Either } from "effect"
import { Decimal, ZERO, parseDecimal } from "../../../domain/decimal.js"
import { readRecordingText, recordingLine } from "./recording-file.js"
import type { MarketSource, MarketVenue } from "./synthetic-market.js"

export const REPLAY_MAKER_ACCOUNT = "replay-maker"
export const REPLAY_TAKER_ACCOUNT = "replay-taker"

const decimalOf = (raw: unknown): Decimal | undefined => {
  if (typeof raw !== "number" && typeof raw !== "string") return undefined
  const parsed = parseDecimal(String(raw))
  return Either.isRight(parsed) ? parsed.right : undefined
}

/**
 * Replays a recording of Kraken's public feed (JSON lines: `book_snapshot`, `book`, `trade`)
 * into the engine. Recorded liquidity is held by one replay account, level by level: a size
 * increase joins the back of the queue, a decrease comes off the newest orders first, so our
 * own orders keep a realistic queue position. Recorded trades become IOC orders that can fill
 * our orders too. Lines that do not decode are skipped and counted.
 */
/** What a replay did with its input: the counts the simulator prints when it ends. */
export interface RecordedMarketStats {
  /** Frames of the recording (client lines and blank lines excluded). */
  readonly frames: number
  /** Frames fed so far. */
  readonly replayed: number
  /** Frames skipped: not JSON, an unknown product, a feed that is not market data, a level without price or size. */
  readonly skipped: number
  /** Book levels off the instrument's tick grid: refused (never rounded), counted. */
  readonly offTickLevels: number
}

export class RecordedMarket implements MarketSource {
  private readonly lines: string[]
  private index = 0
  skipped = 0
  offTickLevels = 0

  constructor(private readonly venue: MarketVenue, text: string) {
    // Raw captures (`<ts>: <frame>`) become their frames; client lines (`<-`) are dropped.
    this.lines = []
    for (const l of text.split("\n")) {
      if (l.trim() === "") continue
      const framed = recordingLine(l.trim())
      if (framed.kind === "frame") this.lines.push(framed.json)
    }
  }

  /** JSON lines or a raw capture, plain or gzip (see `readRecordingText`). */
  static fromFile(venue: MarketVenue, path: string): RecordedMarket {
    return new RecordedMarket(venue, readRecordingText(path))
  }

  remaining(): number {
    return this.lines.length - this.index
  }

  stats(): RecordedMarketStats {
    return { frames: this.lines.length, replayed: this.index, skipped: this.skipped, offTickLevels: this.offTickLevels }
  }

  tick(): boolean {
    const line = this.lines[this.index]
    if (line === undefined) return false
    this.index += 1
    let msg: Record<string, unknown>
    try {
      msg = JSON.parse(line) as Record<string, unknown>
    } catch {
      this.skipped += 1
      return true
    }
    const symbol = typeof msg.product_id === "string" ? msg.product_id : ""
    if (this.venue.engine.instrument(symbol) === undefined) {
      this.skipped += 1
      return true
    }
    if (msg.feed === "book_snapshot") this.snapshot(symbol, msg)
    else if (msg.feed === "book") this.level(symbol, msg.side === "buy" ? "buy" : "sell", decimalOf(msg.price), decimalOf(msg.qty))
    else if (msg.feed === "trade") this.trade(symbol, msg)
    else this.skipped += 1
    return true
  }

  private snapshot(symbol: string, msg: Record<string, unknown>): void {
    const present = new Set<string>()
    for (const side of ["buy", "sell"] as const) {
      const levels = msg[side === "buy" ? "bids" : "asks"]
      if (!Array.isArray(levels)) continue
      for (const l of levels as unknown[]) {
        const entry = (typeof l === "object" && l !== null ? l : {}) as Record<string, unknown>
        const price = decimalOf(entry.price)
        if (price !== undefined) present.add(`${side}|${price.toString()}`)
        this.level(symbol, side, price, decimalOf(entry.qty))
      }
    }
    // Levels the snapshot no longer has are gone.
    for (const o of this.venue.engine.openOrders(REPLAY_MAKER_ACCOUNT, symbol)) {
      if (o.limitPrice !== undefined && !present.has(`${o.side}|${o.limitPrice.toString()}`)) {
        this.venue.cancel({ account: REPLAY_MAKER_ACCOUNT, orderId: o.orderId })
      }
    }
  }

  private level(symbol: string, side: "buy" | "sell", price: Decimal | undefined, qty: Decimal | undefined): void {
    if (price === undefined || qty === undefined) {
      this.skipped += 1
      return
    }
    const tick = this.venue.engine.instrument(symbol)?.tickSize
    if (tick !== undefined && (!price.isPos() || !price.mod(tick).isZero())) {
      // Off the grid: the venue would never show it, the engine could not hold it. Never rounded.
      this.offTickLevels += 1
      return
    }
    const mine = this.venue.engine
      .openOrders(REPLAY_MAKER_ACCOUNT, symbol)
      .filter((o) => o.side === side && o.limitPrice !== undefined && o.limitPrice.eq(price))
      .sort((a, b) => b.receivedTime - a.receivedTime)
    let held = mine.reduce((sum, o) => sum.plus(o.size.minus(o.filled)), ZERO)
    if (qty.gt(held)) {
      this.venue.send({ account: REPLAY_MAKER_ACCOUNT, symbol, orderType: "post", side, size: qty.minus(held), limitPrice: price })
      return
    }
    for (const o of mine) {
      if (held.lte(qty)) break
      const left = o.size.minus(o.filled)
      const excess = held.minus(qty)
      if (left.lte(excess)) this.venue.cancel({ account: REPLAY_MAKER_ACCOUNT, orderId: o.orderId })
      else this.venue.edit({ account: REPLAY_MAKER_ACCOUNT, orderId: o.orderId, size: o.size.minus(excess) })
      held = held.minus(Decimal.min(left, excess))
    }
  }

  private trade(symbol: string, msg: Record<string, unknown>): void {
    const price = decimalOf(msg.price)
    const qty = decimalOf(msg.qty)
    if (price === undefined || qty === undefined) {
      this.skipped += 1
      return
    }
    this.venue.send({ account: REPLAY_TAKER_ACCOUNT, symbol, orderType: "ioc", side: msg.side === "sell" ? "sell" : "buy", size: qty, limitPrice: price })
  }
}
