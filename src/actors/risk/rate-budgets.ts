import type { BudgetSpec } from "../../domain/venue-rates.js"
import type { ClockService } from "../clock.js"
import { CostWindow, StepSafeTime } from "./cost-window.js"

/**
 * The windows of every rate budget the daemon spends, keyed by what the venue keys them by:
 * `<venue>/<budget>/account:<account>` or `<venue>/<budget>/ip:<address>`. One per daemon, shared
 * by the risk actors of every account: two accounts on Binance from the same address spend one
 * request-weight window, each its own order-count windows. All windows run on one time line
 * (`StepSafeTime`), so a step of the wall clock moves them alike.
 *
 * It also holds what the venue told us: a 429 (back off on a budget until a time) and a 418 (the
 * address is banned from the venue until a time), and tells each limiter on that address.
 */
export interface KeyedWindow {
  readonly key: string
  readonly spec: BudgetSpec
  readonly window: CostWindow
  /** Accounts whose journaled spends were restored into it (a core restart must not add them twice). */
  readonly restoredBy: Set<string>
  /** Spends learned from the venue's headers, beyond ours (counted for metrics). */
  external: number
}

/** A 429's back-off or a 418's ban on one key, in `RateBudgets.time`. */
export interface Hold {
  readonly kind: "backoff" | "banned"
  readonly until: number
  readonly why: string
  /** Wall time it started (epoch ms), for the trading-state cause's `since`. */
  readonly since: number
}

export type BanListener = (banned: boolean, hold: Hold) => void

export class RateBudgets {
  readonly time: StepSafeTime
  private readonly windows = new Map<string, KeyedWindow>()
  private readonly holds = new Map<string, Hold>()
  private readonly banListeners = new Map<string, Set<BanListener>>()
  private readonly banTimers = new Map<string, () => void>()

  constructor(readonly clock: ClockService) {
    this.time = new StepSafeTime(clock.now)
  }

  now(): number {
    return this.time.now()
  }

  /** The window of `spec` for `owner` (account id or address), made on first use. */
  window(venue: string, spec: BudgetSpec, owner: string): KeyedWindow {
    const key = `${venue}/${spec.name}/${spec.scope}:${owner}`
    let w = this.windows.get(key)
    if (w === undefined) {
      w = { key, spec, window: new CostWindow(spec.limit, spec.windowMs + spec.marginMs), restoredBy: new Set(), external: 0 }
      this.windows.set(key, w)
    }
    return w
  }

  all(): ReadonlyArray<KeyedWindow> {
    return [...this.windows.values()]
  }

  /** The hold on `key` still in force at `now`, if any. */
  hold(key: string, now: number = this.now()): Hold | undefined {
    const h = this.holds.get(key)
    if (h === undefined) return undefined
    if (h.until > now) return h
    this.holds.delete(key)
    return undefined
  }

  /** A 429: nothing costing in `key` is sent until `until` (a longer hold already there stays). */
  backOff(key: string, until: number, why: string): void {
    const h = this.hold(key)
    if (h !== undefined && h.until >= until) return
    this.holds.set(key, { kind: h?.kind === "banned" ? "banned" : "backoff", until, why, since: this.clock.now() })
  }

  /**
   * A 418 on an address: nothing is sent on `key` (and the venue's other budgets on it) until
   * `until`; every limiter listening on `key` hears it now and again when it ends.
   */
  ban(key: string, until: number, why: string): void {
    const h = this.hold(key)
    const hold: Hold = { kind: "banned", until: Math.max(until, h?.until ?? 0), why, since: h?.kind === "banned" ? h.since : this.clock.now() }
    this.holds.set(key, hold)
    for (const l of this.banListeners.get(key) ?? []) l(true, hold)
    this.banTimers.get(key)?.()
    const check = (): void => {
      this.banTimers.delete(key)
      const still = this.hold(key)
      if (still?.kind === "banned") {
        this.banTimers.set(key, this.clock.setTimer(Math.max(1, still.until - this.now()), check))
        return
      }
      for (const l of this.banListeners.get(key) ?? []) l(false, hold)
    }
    this.banTimers.set(key, this.clock.setTimer(Math.max(1, hold.until - this.now()), check))
  }

  /** An operator lifted the ban (`troupe resume --cause venueBan`): the holds on `key` go, every listener hears it. */
  unban(key: string, why: string): void {
    const h = this.hold(key)
    if (h?.kind !== "banned") return
    this.holds.delete(key)
    this.banTimers.get(key)?.()
    this.banTimers.delete(key)
    for (const l of this.banListeners.get(key) ?? []) l(false, { ...h, why })
  }

  /** Listens for bans of `key`; returns the unsubscribe. A ban already in force is told at once. */
  onBan(key: string, l: BanListener): () => void {
    let set = this.banListeners.get(key)
    if (set === undefined) {
      set = new Set()
      this.banListeners.set(key, set)
    }
    set.add(l)
    const h = this.hold(key)
    if (h?.kind === "banned") l(true, h)
    return () => set.delete(l)
  }

  /** Stops the ban timers (the daemon is stopping). */
  close(): void {
    for (const cancel of this.banTimers.values()) cancel()
    this.banTimers.clear()
  }
}
