/** One reserved call, as journaled (`VenueRequestSent`) and restored after a restart. */
export interface SpentCost {
  readonly at: number
  readonly cost: number
}

/** A cost-weighted sliding window: a ring of (time, cost) with a running sum. */
export class CostWindow {
  private times: Float64Array
  private costs: Float64Array
  private head = 0
  private count = 0
  private sum = 0

  constructor(
    readonly budget: number,
    readonly windowMs: number,
    capacity = 64
  ) {
    this.times = new Float64Array(capacity)
    this.costs = new Float64Array(capacity)
  }

  /** Cost spent in the window ending at `now`. */
  used(now: number): number {
    this.evict(now)
    return this.sum
  }

  /** Whether `cost` fits under `limit` (≤ budget) at `now`, without spending it. */
  fits(now: number, cost: number, limit: number = this.budget): boolean {
    this.evict(now)
    return this.sum + cost <= limit
  }

  /**
   * The earliest time (≥ now) at which `cost` fits under `limit`, given only what is spent now
   * (later spending can push it back: callers check again then). Infinity if it never fits.
   */
  fitsAt(now: number, cost: number, limit: number = this.budget): number {
    this.evict(now)
    if (this.sum + cost <= limit) return now
    if (cost > limit) return Number.POSITIVE_INFINITY
    const cap = this.times.length
    let sum = this.sum
    for (let k = 0; k < this.count; k++) {
      const i = (this.head + k) % cap
      sum -= this.costs[i] as number
      if (sum + cost <= limit) return (this.times[i] as number) + this.windowMs
    }
    return Number.POSITIVE_INFINITY
  }

  /** What is spent in the window ending at `now`, oldest first. */
  entries(now: number): ReadonlyArray<SpentCost> {
    this.evict(now)
    const out: SpentCost[] = []
    for (let k = 0; k < this.count; k++) {
      const i = (this.head + k) % this.times.length
      out.push({ at: this.times[i] as number, cost: this.costs[i] as number })
    }
    return out
  }

  /**
   * Spends `cost` at `at`, which may be before the newest entry (a second account's restore into a
   * shared window): the ring is rebuilt in time order. Rare (restarts only).
   */
  insert(at: number, cost: number, now: number): void {
    const all = [...this.entries(Number.NEGATIVE_INFINITY), { at, cost }].sort((x, y) => x.at - y.at)
    this.head = 0
    this.count = 0
    this.sum = 0
    for (const e of all) this.spend(e.at, e.cost)
    this.evict(now)
  }

  /** The newest spend's time, or -Infinity. */
  newest(): number {
    return this.count === 0 ? Number.NEGATIVE_INFINITY : (this.times[(this.head + this.count - 1) % this.times.length] as number)
  }

  /** Spends `cost` at `now` (never before the newest entry: the ring is in time order). */
  spend(now: number, cost: number): void {
    this.evict(now)
    if (this.count === this.times.length) this.grow()
    const i = (this.head + this.count) % this.times.length
    this.times[i] = now
    this.costs[i] = cost
    this.count++
    this.sum += cost
  }

  private evict(now: number): void {
    const cutoff = now - this.windowMs
    const cap = this.times.length
    while (this.count > 0 && (this.times[this.head] as number) <= cutoff) {
      this.sum -= this.costs[this.head] as number
      this.head = (this.head + 1) % cap
      this.count--
    }
  }

  private grow(): void {
    const cap = this.times.length
    const times = new Float64Array(cap * 2)
    const costs = new Float64Array(cap * 2)
    for (let k = 0; k < this.count; k++) {
      times[k] = this.times[(this.head + k) % cap] as number
      costs[k] = this.costs[(this.head + k) % cap] as number
    }
    this.times = times
    this.costs = costs
    this.head = 0
  }
}


/**
 * Elapsed time for a sliding window from a wall clock that may step back (an NTP step, an operator
 * setting the time): a step back counts as no time passing, instead of holding every spend in the
 * window for as long as the step (a step back of an hour would stop all trading for an hour —
 * found by the simulation's `clockJumpBack`). It equals the wall clock until the first step back,
 * then runs ahead of it by the steps. The time between the last look before a step back and the
 * first after it is lost (never less strict; the limiter is looked at on every intent and read).
 * A step forward still counts as time passed: the injected clock has no monotonic source to tell
 * it from a pause.
 */
export class StepSafeTime {
  private last: number | undefined
  private t = 0

  constructor(private readonly wall: () => number) {}

  now(): number {
    const w = this.wall()
    if (this.last === undefined) this.t = w
    else if (w > this.last) this.t += w - this.last
    this.last = w
    return this.t
  }

  /** A wall time (a journaled spend) on this time line: its distance from the wall clock now. */
  fromWall(at: number): number {
    const now = this.now()
    return now - (this.last! - at)
  }
}

