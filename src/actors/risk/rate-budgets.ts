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
  /** Our spends on this key, by every account (restored ones included). */
  readonly window: CostWindow
  /** What the venue's own counts (headers) oblige us to assume beyond our window. */
  readonly floor: VenueFloor
  /** Accounts whose journaled spends were restored into it (a core restart must not add them twice). */
  readonly restoredBy: Set<string>
}

/**
 * The venue's reported count of a budget as a lower bound on what it counts from now on. A count
 * `V` reported at `t` (a response header) includes everything that reached the venue in its current
 * window by `t`, ours and others' (another process on the address). Until that window has surely
 * ended (`t + window`: its start is unknown, so at most one window later), the venue counts at
 * least `V` plus whatever of ours reaches it after `t` — at most what we reserved after
 * `t - margin` (a request reaches the venue within the send margin). So with `cum` the running
 * sum of our spends and `base = cum(t - margin)`, the venue's count at a later time is at most
 * `V - base + cum(now)`: a call fits only if that plus its cost is within the limit. Several counts
 * are kept as a sliding-window maximum of `V - base` (a newer, larger one makes older smaller ones
 * irrelevant), so a check is O(1).
 *
 * This never trusts a count lower than ours (our own window still applies) and needs no knowledge
 * of where the venue's fixed windows start; the price is that a high count binds for up to one
 * window after the venue's own window has reset.
 */
export class VenueFloor {
  /** Decreasing `value` from front to back, increasing `expires`. */
  private floors: Array<{ readonly expires: number; readonly value: number }> = []
  /** The running sum of our spends on the key (only differences of it mean anything). */
  cum = 0

  /** The venue reports `venueUsed` at `now`; `recent` is what we spent in the last margin (maybe not yet counted by it). */
  report(now: number, venueUsed: number, recent: number, windowMs: number): void {
    const value = venueUsed - (this.cum - recent)
    this.prune(now)
    while (this.floors.length > 0 && (this.floors[this.floors.length - 1] as { value: number }).value <= value) this.floors.pop()
    this.floors.push({ expires: now + windowMs, value })
  }

  /** At least what the venue counts now, by its reports (0 without one in force). */
  at(now: number): number {
    this.prune(now)
    const f = this.floors[0]
    return f === undefined ? 0 : Math.max(0, f.value + this.cum)
  }

  /** The earliest time (≥ now) at which `need` more fits under `limit` by the venue's reports (given only what is spent now). */
  fitsAt(now: number, need: number, limit: number): number {
    this.prune(now)
    let at = now
    for (const f of this.floors) {
      if (f.value + this.cum + need <= limit) return at
      at = f.expires
    }
    return at
  }

  private prune(now: number): void {
    let k = 0
    while (k < this.floors.length && (this.floors[k] as { expires: number }).expires <= now) k++
    if (k > 0) this.floors.splice(0, k)
  }
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
      w = { key, spec, window: new CostWindow(spec.limit, spec.windowMs + spec.marginMs), floor: new VenueFloor(), restoredBy: new Set() }
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
