import type { Decimal } from "../../../../src/domain/decimal.js"
import { ZERO } from "../../../../src/domain/decimal.js"

export type Side = "buy" | "sell"

/** One resting order's place in a queue: who, how much is left, and its time priority. */
export interface Resting {
  readonly orderId: string
  readonly account: string
  remaining: Decimal
}

export interface Level {
  readonly price: Decimal
  /** FIFO: the head has time priority. */
  readonly queue: Resting[]
}

/**
 * One side of one instrument's book: levels sorted best first (bids descending, asks
 * ascending), each a FIFO queue. Arrays with binary search: books here are tens of levels.
 */
export class BookSide {
  readonly levels: Level[] = []
  constructor(readonly side: Side) {}

  /** True when `a` is a better price than `b` for this side. */
  better(a: Decimal, b: Decimal): boolean {
    return this.side === "buy" ? a.gt(b) : a.lt(b)
  }

  /** The level's index when the price has one, else `-(insertion point) - 1`: one comparison per step. */
  private indexOf(price: Decimal): number {
    const better = this.side === "buy" ? 1 : -1
    let lo = 0
    let hi = this.levels.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      const level = this.levels[mid] as Level
      const c = level.price === price ? 0 : level.price.cmp(price)
      if (c === 0) return mid
      if (c === better) lo = mid + 1
      else hi = mid
    }
    return -lo - 1
  }

  level(price: Decimal): Level | undefined {
    const at = this.indexOf(price)
    return at >= 0 ? this.levels[at] : undefined
  }

  best(): Level | undefined {
    return this.levels[0]
  }

  /** Appends at the back of the price's queue (loses to everything already there). */
  add(price: Decimal, entry: Resting): void {
    const at = this.indexOf(price)
    if (at >= 0) (this.levels[at] as Level).queue.push(entry)
    else this.levels.splice(-at - 1, 0, { price, queue: [entry] })
  }

  remove(price: Decimal, orderId: string): Resting | undefined {
    const at = this.indexOf(price)
    if (at < 0) return undefined
    const level = this.levels[at] as Level
    const i = level.queue.findIndex((r) => r.orderId === orderId)
    if (i < 0) return undefined
    const [removed] = level.queue.splice(i, 1)
    if (level.queue.length === 0) this.levels.splice(at, 1)
    return removed
  }

  /** Drops the level if its queue became empty (after fills at its head). */
  prune(price: Decimal): void {
    const at = this.indexOf(price)
    if (at >= 0 && (this.levels[at] as Level).queue.length === 0) this.levels.splice(at, 1)
  }

  totalAt(price: Decimal): Decimal {
    const level = this.level(price)
    return level === undefined ? ZERO : levelTotal(level)
  }
}

export const levelTotal = (level: Level): Decimal => {
  const q = level.queue
  if (q.length === 0) return ZERO
  let sum = (q[0] as Resting).remaining
  for (let i = 1; i < q.length; i++) sum = sum.plus((q[i] as Resting).remaining)
  return sum
}

export const opposite = (side: Side): Side => (side === "buy" ? "sell" : "buy")
