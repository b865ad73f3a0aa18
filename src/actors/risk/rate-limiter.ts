import type { ClockService } from "../clock.js"

/**
 * Venue rate limits as the venue counts them. Kraken Futures: every private `/derivatives`
 * endpoint shares one budget of 500 cost per 10 s, each call weighted by its cost
 * (shared/venues/kraken-futures.md). We model it as a sliding window over the calls we approved:
 * a call at t counts until t + window. That is at least as strict as the venue's own accounting,
 * so an approved call never meets `apiLimitExceeded`.
 */
export type VenueCall = "sendorder" | "editorder" | "cancelorder" | "cancelallorders" | "cancelallordersafter"

export const KRAKEN_FUTURES_COSTS: Readonly<Record<VenueCall, number>> = {
  sendorder: 10,
  editorder: 10,
  cancelorder: 10,
  cancelallorders: 25,
  cancelallordersafter: 25
}

export interface VenueRateConfig {
  readonly budget: number
  readonly windowMs: number
  /**
   * Cost kept back for cancels: submits and modifies may only use `budget - reserve`, so a
   * strategy that throttles itself on submits can still pull its quotes.
   */
  readonly reserve: number
  readonly costs: Readonly<Record<VenueCall, number>>
}

export const KRAKEN_FUTURES_RATE: VenueRateConfig = { budget: 500, windowMs: 10_000, reserve: 100, costs: KRAKEN_FUTURES_COSTS }

/** Calls that may spend the reserve: they take risk away (or keep the dead man's switch armed). */
export const usesReserve = (call: VenueCall): boolean => call !== "sendorder" && call !== "editorder"

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


/** The venue account's budget. One per venue account; the risk actor of that account owns it. */
export class VenueRateLimiter {
  private readonly window: CostWindow

  constructor(
    private readonly clock: ClockService,
    readonly config: VenueRateConfig = KRAKEN_FUTURES_RATE
  ) {
    this.window = new CostWindow(config.budget, config.windowMs)
  }

  costOf(call: VenueCall): number {
    return this.config.costs[call]
  }

  limitFor(call: VenueCall): number {
    return usesReserve(call) ? this.config.budget : this.config.budget - this.config.reserve
  }

  /** Checks without spending (the risk check runs every other check first). */
  fits(call: VenueCall): boolean {
    return this.window.fits(this.clock.now(), this.config.costs[call], this.limitFor(call))
  }

  spend(call: VenueCall): void {
    this.window.spend(this.clock.now(), this.config.costs[call])
  }

  used(): number {
    return this.window.used(this.clock.now())
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

  constructor(
    private readonly clock: ClockService,
    readonly config: StrategyRateConfig
  ) {}

  private windowOf(strategy: string): CostWindow {
    let w = this.windows.get(strategy)
    if (w === undefined) {
      w = new CostWindow(this.config.maxActions, this.config.windowMs, 16)
      this.windows.set(strategy, w)
    }
    return w
  }

  fits(strategy: string): boolean {
    return this.windowOf(strategy).fits(this.clock.now(), 1)
  }

  used(strategy: string): number {
    return this.windowOf(strategy).used(this.clock.now())
  }

  spend(strategy: string): void {
    this.windowOf(strategy).spend(this.clock.now(), 1)
  }
}
