import type { Decimal } from "../../../domain/decimal.js"

export type Side = "buy" | "sell"

/** One resting order's place in a queue, as the admin API shows it: who, how much is left. */
export interface Resting {
  readonly orderId: string
  readonly account: string
  remaining: Decimal
}

/** A queue entry inside the engine: the size left in lots (the order's own count is the truth). */
export interface RestingLots {
  readonly orderId: string
  readonly account: string
  lots: number
}

export interface Level {
  /** The price in ticks: what the book sorts and compares. */
  readonly ticks: number
  /** The same price as a Decimal, made once per level for the engine's views and effects. */
  readonly price: Decimal
  /** FIFO from `head`: entries before it have left (filled at the front), so a fill does not shift the array. */
  readonly queue: RestingLots[]
  head: number
  /** The lots of the live entries, kept as they change (a book effect reads it per touched level). */
  total: number
}

/**
 * One side of one instrument's book on integer ticks: levels sorted best first (bids
 * descending, asks ascending), each a FIFO queue of sizes in lots. Arrays with binary search:
 * books here are tens of levels.
 */
export class BookSide {
  readonly levels: Level[] = []
  private readonly sign: number
  constructor(readonly side: Side) {
    // A bid is better when higher, an ask when lower: comparing sign * ticks serves both.
    this.sign = side === "buy" ? 1 : -1
  }

  /** The level's index when the price has one, else `-(insertion point) - 1`. */
  private indexOf(ticks: number): number {
    const key = this.sign * ticks
    let lo = 0
    let hi = this.levels.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      const at = this.sign * (this.levels[mid] as Level).ticks
      if (at === key) return mid
      if (at > key) lo = mid + 1
      else hi = mid
    }
    return -lo - 1
  }

  level(ticks: number): Level | undefined {
    const at = this.indexOf(ticks)
    return at >= 0 ? this.levels[at] : undefined
  }

  best(): Level | undefined {
    return this.levels[0]
  }

  /** Appends at the back of the price's queue (loses to everything already there). */
  add(ticks: number, price: Decimal, entry: RestingLots): void {
    const at = this.indexOf(ticks)
    if (at >= 0) {
      const level = this.levels[at] as Level
      level.queue.push(entry)
      level.total += entry.lots
    } else this.levels.splice(-at - 1, 0, { ticks, price, queue: [entry], head: 0, total: entry.lots })
  }

  remove(ticks: number, orderId: string): RestingLots | undefined {
    const at = this.indexOf(ticks)
    if (at < 0) return undefined
    const level = this.levels[at] as Level
    const q = level.queue
    for (let i = level.head; i < q.length; i++) {
      const r = q[i] as RestingLots
      if (r.orderId !== orderId) continue
      level.total -= r.lots
      if (i === level.head) level.head++
      else q.splice(i, 1)
      if (level.head === q.length) this.levels.splice(at, 1)
      return r
    }
    return undefined
  }

  /** An entry's size changed (a fill, an edit that keeps priority): the level's total follows. */
  resize(level: Level, entry: RestingLots, lots: number): void {
    level.total += lots - entry.lots
    entry.lots = lots
  }

  /** The head of the level left (filled): it moves on; an emptied level is dropped. */
  shift(level: Level): void {
    level.head++
    if (level.head < level.queue.length) {
      // Compact now and then, so a long-lived level does not keep its whole history.
      if (level.head >= 32 && level.head * 2 >= level.queue.length) {
        level.queue.splice(0, level.head)
        level.head = 0
      }
      return
    }
    const at = this.indexOf(level.ticks)
    if (at >= 0) this.levels.splice(at, 1)
  }

  totalAt(ticks: number): number {
    const level = this.level(ticks)
    return level === undefined ? 0 : levelLots(level)
  }
}

export const levelLots = (level: Level): number => level.total

/** The live entries of a level, oldest first. */
export const levelQueue = (level: Level): ReadonlyArray<RestingLots> => (level.head === 0 ? level.queue : level.queue.slice(level.head))

export const opposite = (side: Side): Side => (side === "buy" ? "sell" : "buy")
