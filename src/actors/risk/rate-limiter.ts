import type { VenueCall } from "../../domain/events/venue.js"
import type { ClockService } from "../clock.js"

/**
 * Venue rate limits as the venue counts them. Kraken Futures: every private `/derivatives`
 * endpoint shares one budget of 500 cost per 10 s, each call weighted by its cost
 * (shared/venues/kraken-futures.md) — reads included. We model it as a sliding window over the
 * calls we reserved: a call reserved at t counts until t + window + `marginMs`. The margin covers
 * the time between the reservation and the venue receiving the request (the write-ahead journal
 * wait, the network), during which the venue's window for that call has not started yet. So the
 * window is at least as strict as the venue's own accounting, and an approved call never meets
 * `apiLimitExceeded`.
 */
export type { VenueCall }

export const KRAKEN_FUTURES_COSTS: Readonly<Record<VenueCall, number>> = {
  sendorder: 10,
  editorder: 10,
  cancelorder: 10,
  cancelallorders: 25,
  cancelallordersafter: 25,
  openorders: 2,
  openpositions: 2,
  fills: 2,
  fillsBefore: 25
}

export interface VenueRateConfig {
  readonly budget: number
  readonly windowMs: number
  /**
   * Cost kept back for cancels: submits, modifies and reads may only use `budget - reserve`, so a
   * strategy that throttles itself on submits can still pull its quotes.
   */
  readonly reserve: number
  readonly costs: Readonly<Record<VenueCall, number>>
  /** How much longer than the venue's window a call counts here (see above); default 500 ms. */
  readonly marginMs?: number
}

export const KRAKEN_FUTURES_RATE: VenueRateConfig = { budget: 500, windowMs: 10_000, reserve: 100, costs: KRAKEN_FUTURES_COSTS, marginMs: 500 }

/**
 * What may reach the venue in one window (the venue's plus the margin) without its spend record in
 * the journal — cancels and the dead man's switch sent during a journal outage, which must not
 * wait for it: the cancel reserve. The write-ahead gateway holds such sends to it, and a restarted
 * node counts it as spent at its start, since its predecessor may have sent that much unrecorded.
 */
export const unjournaledAllowance = (config: VenueRateConfig): number => config.reserve

/** Calls that may spend the reserve: they take risk away (or keep the dead man's switch armed). */
export const usesReserve = (call: VenueCall): boolean => call === "cancelorder" || call === "cancelallorders" || call === "cancelallordersafter"

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

/** The venue account's budget. One per venue account; the risk actor of that account owns it. */
export class VenueRateLimiter {
  private readonly window: CostWindow
  private readonly time: StepSafeTime

  constructor(
    clock: ClockService,
    readonly config: VenueRateConfig = KRAKEN_FUTURES_RATE
  ) {
    this.window = new CostWindow(config.budget, config.windowMs + (config.marginMs ?? 0))
    this.time = new StepSafeTime(clock.now)
  }

  /** The limiter's time (`StepSafeTime`): what `fitsAt` answers in. */
  now(): number {
    return this.time.now()
  }

  costOf(call: VenueCall): number {
    return this.config.costs[call]
  }

  limitFor(call: VenueCall): number {
    return usesReserve(call) ? this.config.budget : this.config.budget - this.config.reserve
  }

  /**
   * Checks without spending (the risk check runs every other check first). `held` is cost
   * promised to others first (reads waiting in line) that this call must leave room for.
   */
  fits(call: VenueCall, held = 0): boolean {
    return this.window.fits(this.now(), this.config.costs[call] + held, this.limitFor(call))
  }

  /** When `call` fits at the earliest, given what is spent now (see `CostWindow.fitsAt`). */
  fitsAt(call: VenueCall, held = 0): number {
    return this.window.fitsAt(this.now(), this.config.costs[call] + held, this.limitFor(call))
  }

  spend(call: VenueCall): void {
    this.window.spend(this.now(), this.config.costs[call])
  }

  used(): number {
    return this.window.used(this.now())
  }

  /** Cost spent in the venue's own window ending now (without the send margin): what the venue counts. */
  usedInVenueWindow(): number {
    const now = this.now()
    const cutoff = now - this.config.windowMs
    let sum = 0
    for (const s of this.window.entries(now)) if (s.at > cutoff) sum += s.cost
    return sum
  }

  /** The costs still counting, oldest first (what a restart must not forget). */
  spent(): ReadonlyArray<SpentCost> {
    return this.window.entries(this.now())
  }

  /**
   * After a restart, before anything is sent: the costs the previous run spent in what is still
   * the venue's window (from the journal), and `unjournaled` counted as spent now — what the
   * previous run may have sent without its record reaching the journal (cancels during a journal
   * outage, at most `unjournaledAllowance` a window: `daemon/write-ahead.ts`). Entries already out
   * of the window are ignored. Only on a fresh limiter: the window is kept in time order.
   */
  restore(spent: ReadonlyArray<SpentCost>, unjournaled = 0): void {
    const now = this.now()
    const sorted = [...spent].sort((a, b) => a.at - b.at)
    // A time ahead of ours (another host's clock) counts as now: never less strict.
    for (const s of sorted) this.window.spend(Math.min(this.time.fromWall(s.at), now), s.cost)
    if (unjournaled > 0) this.window.spend(now, unjournaled)
    // Drop what has already left the window (each spend evicted relative to its own time).
    this.window.used(now)
  }
}

export interface StrategyRateConfig {
  /** Submits and modifies per strategy within `windowMs`; cancels are never limited here. */
  readonly maxActions: number
  readonly windowMs: number
}

/** Per-strategy order-rate limit: a plain count in a sliding window, one window per strategy. */
export class StrategyRateLimiter {
  private readonly windows = new Map<string, CostWindow>()
  private readonly time: StepSafeTime

  constructor(
    clock: ClockService,
    readonly config: StrategyRateConfig
  ) {
    this.time = new StepSafeTime(clock.now)
  }

  private windowOf(strategy: string): CostWindow {
    let w = this.windows.get(strategy)
    if (w === undefined) {
      w = new CostWindow(this.config.maxActions, this.config.windowMs, 16)
      this.windows.set(strategy, w)
    }
    return w
  }

  fits(strategy: string): boolean {
    return this.windowOf(strategy).fits(this.time.now(), 1)
  }

  used(strategy: string): number {
    return this.windowOf(strategy).used(this.time.now())
  }

  spend(strategy: string): void {
    this.windowOf(strategy).spend(this.time.now(), 1)
  }
}
