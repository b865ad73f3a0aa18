import type { Decimal } from "../domain/decimal.js"
import type { StepGrid } from "../domain/step-grid.js"
import type { EngineEffect } from "../adapters/venues/simulator/engine-types.js"
import type { Exchange } from "../adapters/venues/simulator/exchange.js"
import { REPLAY_MAKER_ACCOUNT, REPLAY_TAKER_ACCOUNT } from "../adapters/venues/simulator/recorded-market.js"
import type { Level, MarketMessage, Side } from "./market-input.js"

export { REPLAY_MAKER_ACCOUNT, REPLAY_TAKER_ACCOUNT }

interface Resting {
  readonly orderId: string
  readonly level: Queue
  /** Sizes in lots of the instrument (the engine's units). */
  sizeLots: number
  filledLots: number
}

/** One recorded level's orders, oldest first, and what they still hold in lots (kept as they change). */
interface Queue {
  readonly instrument: Instrument
  /** `ticks` for a bid, `-ticks` for an ask: one map per instrument keeps both sides in arrival order. */
  readonly key: number
  readonly orders: Resting[]
  held: number
}

interface Instrument {
  readonly ticks: StepGrid
  readonly lots: StepGrid
  readonly levels: Map<number, Queue>
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
  private readonly instruments = new Map<string, Instrument>()
  private readonly byOrder = new Map<string, Resting>()
  /** Recorded levels the engine refused (e.g. a post-only level that would cross our order, or one off the grid). */
  refused = 0
  /** Of those, levels off the instrument's tick grid (never rounded onto it). */
  offTickLevels = 0

  constructor(private readonly exchange: Exchange) {
    // Nobody reads these accounts' fills or positions; booking them would only cost and grow.
    exchange.engine.skipBooking(REPLAY_MAKER_ACCOUNT)
    exchange.engine.skipBooking(REPLAY_TAKER_ACCOUNT)
    for (const i of exchange.engine.instruments()) {
      const grids = exchange.engine.grids(i.symbol)
      if (grids !== undefined) this.instruments.set(i.symbol, { ...grids, levels: new Map() })
    }
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
      const lots = r.level.instrument.lots.steps(e.fill.qty)
      r.filledLots += lots
      r.level.held -= lots
      if (r.filledLots >= r.sizeLots) this.forget(r)
    } else if (e.kind === "order" && e.isCancel) {
      const r = this.byOrder.get(e.order.orderId)
      if (r !== undefined) this.forget(r)
    }
  }

  private snapshot(symbol: string, bids: ReadonlyArray<Level>, asks: ReadonlyArray<Level>): void {
    const instrument = this.instruments.get(symbol)
    const present = new Set<number>()
    for (const l of bids) {
      const key = instrument?.ticks.steps(l.price)
      if (key !== undefined && key > 0) present.add(key)
      this.level(symbol, "buy", l.price, l.qty)
    }
    for (const l of asks) {
      const key = instrument?.ticks.steps(l.price)
      if (key !== undefined && key > 0) present.add(-key)
      this.level(symbol, "sell", l.price, l.qty)
    }
    if (instrument === undefined) return
    for (const [key, queue] of [...instrument.levels]) {
      if (present.has(key)) continue
      for (const r of [...queue.orders]) this.exchange.cancel({ account: REPLAY_MAKER_ACCOUNT, orderId: r.orderId })
    }
  }

  private level(symbol: string, side: Side, price: Decimal, qty: Decimal): void {
    const instrument = this.instruments.get(symbol)
    const ticks = instrument === undefined ? -1 : instrument.ticks.steps(price)
    const lots = instrument === undefined ? -1 : instrument.lots.steps(qty)
    if (instrument === undefined || ticks <= 0 || lots < 0) {
      // Not a level the engine could hold (unknown instrument, off the tick or lot grid): refused, as the engine would.
      if (qty.isPos()) {
        this.refused++
        if (instrument !== undefined && ticks <= 0) this.offTickLevels++
      }
      return
    }
    const key = side === "buy" ? ticks : -ticks
    const queue = instrument.levels.get(key)
    let held = queue === undefined ? 0 : queue.held
    if (lots > held) {
      const sizeLots = lots - held
      const size = held === 0 ? qty : instrument.lots.decimal(sizeLots)
      const out = this.exchange.send({ account: REPLAY_MAKER_ACCOUNT, symbol, orderType: "post", side, size, limitPrice: price })
      if (out.status !== "placed" || out.order === undefined || out.order.state !== "open") {
        this.refused++
        return
      }
      const level = queue ?? { instrument, key, orders: [], held: 0 }
      if (queue === undefined) instrument.levels.set(key, level)
      const r: Resting = { orderId: out.order.orderId, level, sizeLots, filledLots: 0 }
      this.byOrder.set(r.orderId, r)
      level.orders.push(r)
      level.held += sizeLots
      return
    }
    if (queue === undefined) return
    // Newest first: the recorded level shrank, the latest joiners leave.
    for (let k = queue.orders.length - 1; k >= 0 && held > lots; k--) {
      const r = queue.orders[k] as Resting
      const left = r.sizeLots - r.filledLots
      const excess = held - lots
      if (left <= excess) {
        this.exchange.cancel({ account: REPLAY_MAKER_ACCOUNT, orderId: r.orderId })
        held -= left
      } else {
        const sizeLots = r.sizeLots - excess
        if (this.exchange.edit({ account: REPLAY_MAKER_ACCOUNT, orderId: r.orderId, size: instrument.lots.decimal(sizeLots) }).status === "edited") {
          r.sizeLots = sizeLots
          queue.held -= excess
        }
        held -= excess
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
    queue.held -= r.sizeLots - r.filledLots
    if (queue.orders.length === 0) queue.instrument.levels.delete(queue.key)
  }
}
