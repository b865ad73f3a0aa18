import type { Decimal } from "../domain/decimal.js"
import { ZERO } from "../domain/decimal.js"
import type { EngineEffect } from "../adapters/venues/simulator/engine-types.js"
import type { Exchange } from "../adapters/venues/simulator/exchange.js"
import { REPLAY_MAKER_ACCOUNT, REPLAY_TAKER_ACCOUNT } from "../adapters/venues/simulator/recorded-market.js"
import type { Level, MarketMessage, Side } from "./market-input.js"

export { REPLAY_MAKER_ACCOUNT, REPLAY_TAKER_ACCOUNT }

interface Resting {
  readonly orderId: string
  readonly level: Queue
  size: Decimal
  filled: Decimal
}

/** One recorded level's orders, oldest first, and what they still hold (kept as they change). */
interface Queue {
  readonly key: string
  readonly orders: Resting[]
  held: Decimal
}

/**
 * The recorded market acting on the engine, with the semantics of the simulator's
 * `RecordedMarket`: recorded liquidity is held by one replay account level by level (a size
 * increase joins the back of the queue, a decrease comes off the newest orders first, so our
 * own orders keep a realistic queue position); a snapshot removes the levels it no longer has;
 * a recorded trade is an IOC of a second replay account that can fill our orders too.
 *
 * Unlike RecordedMarket it keeps its own orders indexed by level, updated from the engine's
 * effects (fills and cancels of the replay account), instead of listing the account's open
 * orders on every message: the cost of a message does not grow with the depth of the book.
 */
export class RecordedLiquidity {
  private readonly levels = new Map<string, Queue>()
  private readonly byOrder = new Map<string, Resting>()
  /** Recorded levels the engine refused (e.g. a post-only level that would cross our order). */
  refused = 0

  constructor(private readonly exchange: Exchange) {
    // Nobody reads these accounts' fills or positions; booking them would only cost and grow.
    exchange.engine.skipBooking(REPLAY_MAKER_ACCOUNT)
    exchange.engine.skipBooking(REPLAY_TAKER_ACCOUNT)
  }

  apply(m: MarketMessage): void {
    switch (m.kind) {
      case "level":
        this.level(m.symbol, m.side, m.price, m.qty)
        return
      case "snapshot":
        this.snapshot(m.symbol, m.bids, m.asks)
        return
      case "trade":
        this.exchange.send({ account: REPLAY_TAKER_ACCOUNT, symbol: m.symbol, orderType: "ioc", side: m.side, size: m.qty, limitPrice: m.price })
        return
    }
  }

  /** The engine's effects for the replay maker: fills shrink, cancels remove. */
  onEffect(e: EngineEffect): void {
    if (e.kind === "fill") {
      const r = this.byOrder.get(e.fill.orderId)
      if (r === undefined) return
      r.filled = r.filled.plus(e.fill.qty)
      r.level.held = r.level.held.minus(e.fill.qty)
      if (r.filled.gte(r.size)) this.forget(r)
    } else if (e.kind === "order" && e.isCancel) {
      const r = this.byOrder.get(e.order.orderId)
      if (r !== undefined) this.forget(r)
    }
  }

  private keyOf(symbol: string, side: Side, price: Decimal): string {
    return `${symbol}|${side}|${price.toFixed()}`
  }

  private snapshot(symbol: string, bids: ReadonlyArray<Level>, asks: ReadonlyArray<Level>): void {
    const present = new Set<string>()
    for (const l of bids) {
      present.add(this.keyOf(symbol, "buy", l.price))
      this.level(symbol, "buy", l.price, l.qty)
    }
    for (const l of asks) {
      present.add(this.keyOf(symbol, "sell", l.price))
      this.level(symbol, "sell", l.price, l.qty)
    }
    const prefix = `${symbol}|`
    for (const [key, queue] of [...this.levels]) {
      if (!key.startsWith(prefix) || present.has(key)) continue
      for (const r of [...queue.orders]) this.exchange.cancel({ account: REPLAY_MAKER_ACCOUNT, orderId: r.orderId })
    }
  }

  private level(symbol: string, side: Side, price: Decimal, qty: Decimal): void {
    const key = this.keyOf(symbol, side, price)
    const queue = this.levels.get(key)
    let held = queue === undefined ? ZERO : queue.held
    if (qty.gt(held)) {
      const size = qty.minus(held)
      const out = this.exchange.send({ account: REPLAY_MAKER_ACCOUNT, symbol, orderType: "post", side, size, limitPrice: price })
      if (out.status !== "placed" || out.order === undefined || out.order.state !== "open") {
        this.refused++
        return
      }
      const level = queue ?? { key, orders: [], held: ZERO }
      if (queue === undefined) this.levels.set(key, level)
      const r: Resting = { orderId: out.order.orderId, level, size, filled: ZERO }
      this.byOrder.set(r.orderId, r)
      level.orders.push(r)
      level.held = level.held.plus(size)
      return
    }
    if (queue === undefined) return
    // Newest first: the recorded level shrank, the latest joiners leave.
    for (let k = queue.orders.length - 1; k >= 0 && held.gt(qty); k--) {
      const r = queue.orders[k] as Resting
      const left = r.size.minus(r.filled)
      const excess = held.minus(qty)
      if (left.lte(excess)) {
        this.exchange.cancel({ account: REPLAY_MAKER_ACCOUNT, orderId: r.orderId })
        held = held.minus(left)
      } else {
        const size = r.size.minus(excess)
        if (this.exchange.edit({ account: REPLAY_MAKER_ACCOUNT, orderId: r.orderId, size }).status === "edited") {
          r.size = size
          queue.held = queue.held.minus(excess)
        }
        held = held.minus(excess)
      }
    }
  }

  /** A filled or canceled order leaves its level (and takes what it still held with it). */
  private forget(r: Resting): void {
    this.byOrder.delete(r.orderId)
    const queue = r.level
    const i = queue.orders.indexOf(r)
    if (i < 0) return
    queue.orders.splice(i, 1)
    queue.held = queue.held.minus(r.size.minus(r.filled))
    if (queue.orders.length === 0) this.levels.delete(queue.key)
  }
}
