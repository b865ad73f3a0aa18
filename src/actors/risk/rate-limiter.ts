import type { VenueCall } from "../../domain/events/venue.js"
import { KRAKEN_FUTURES_CALL_COSTS, krakenFuturesModel, usesReserve, type BudgetScope, type BudgetSpec, type VenueCostModel } from "../../domain/venue-rates.js"
import type { ClockService } from "../clock.js"
import type { ResponseHeaders } from "../ports/venue-rate-reports.js"
import { CostWindow, StepSafeTime, type SpentCost } from "./cost-window.js"
import { RateBudgets, type BanListener, type KeyedWindow } from "./rate-budgets.js"

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

export const KRAKEN_FUTURES_COSTS: Readonly<Record<VenueCall, number>> = KRAKEN_FUTURES_CALL_COSTS

/** Kraken's single budget, as it was configured before venues had cost models (still accepted). */
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

/** A single-budget config as a cost model (Kraken's shape). */
export const modelOf = (c: VenueRateConfig | VenueCostModel): VenueCostModel =>
  "budgets" in c ? c : krakenFuturesModel({ budget: c.budget, windowMs: c.windowMs, reserve: c.reserve, marginMs: c.marginMs ?? 0 }, c.costs)

export { usesReserve }

export { CostWindow, StepSafeTime, type SpentCost } from "./cost-window.js"
export { RateBudgets, type Hold, type KeyedWindow } from "./rate-budgets.js"

/** Why a call may not be sent now: the budget it does not fit, or the venue's 429/418 hold on it. */
export interface RateRefusal {
  /** The budget's name (`cost`, `weight1m`, `orders10s`, `orders1m`). */
  readonly budget: string
  /** The window's key (`binance-usdm/weight1m/ip:default`). */
  readonly key: string
  readonly kind: "budget" | "backoff" | "banned"
  /** The limit it was checked against (the budget less the reserve for submits, modifies and reads). */
  readonly limit: number
  /** What spending it would make: used + held for reads waiting + the call's cost. */
  readonly actual: number
  readonly cost: number
  /** Whether `limit` is the budget less the cancel reserve. */
  readonly reserved: boolean
  /** When a hold ends (limiter time), and the venue's reason. */
  readonly until?: number
  readonly why?: string
}

/** One budget as the metrics show it. */
export interface BudgetUsage {
  readonly venue: string
  readonly budget: string
  readonly scope: BudgetScope
  readonly key: string
  readonly limit: number
  /** Spent in the venue's own window ending now (no send margin): what the venue counts. */
  readonly used: number
  /** Learned from the venue's headers beyond our own spends, since start. */
  readonly external: number
  readonly held: "backoff" | "banned" | undefined
}


const headerOf = (h: ResponseHeaders, name: string): string | undefined => {
  if (typeof (h as { get?: unknown }).get === "function") return (h as { get: (n: string) => string | null }).get(name) ?? undefined
  const rec = h as Readonly<Record<string, string | ReadonlyArray<string> | undefined>>
  for (const [k, v] of Object.entries(rec)) if (k.toLowerCase() === name) return typeof v === "string" ? v : v?.[0]
  return undefined
}

/** `Retry-After` in seconds (the only form Binance documents), as ms; undefined if absent or not a number. */
export const retryAfterMs = (h: ResponseHeaders | undefined): number | undefined => {
  const v = h === undefined ? undefined : headerOf(h, "retry-after")
  if (v === undefined || !/^\d+$/.test(v.trim())) return undefined
  return Number(v.trim()) * 1000
}

export interface VenueRateKeys {
  /** The venue account: the key of `account` budgets. */
  readonly account: string
  /** The address the daemon sends from (any stable name: `default` for the host's one): the key of `ip` budgets. */
  readonly ip?: string
}

/** A 418 ban without a time from the venue lasts at least this (the venue's shortest: 2 minutes). */
export const MIN_BAN_MS = 120_000

/**
 * One venue account's rate budgets: its cost model's budgets, each window found in the shared
 * `RateBudgets` under its key. The account's risk actor owns it: it checks and charges every
 * order action at approval and every read as it leaves the line; the venue's headers, 429s and
 * 418s come back through it (the risk actor's `VenueRateReports`).
 *
 * The invariant: a call is charged only if, in every budget it costs in, the window's spends
 * (ours on this key by every account, plus what the headers told us beyond ours) plus its cost are
 * within the limit (less the reserve for submits, modifies and reads), and no hold is in force.
 */
export class VenueRateLimiter {
  readonly model: VenueCostModel
  readonly budgets: RateBudgets
  private readonly windows: ReadonlyArray<KeyedWindow>
  private readonly account: string
  private readonly ipKey: string | undefined

  constructor(
    clock: ClockService,
    config: VenueRateConfig | VenueCostModel = KRAKEN_FUTURES_RATE,
    opts: { readonly budgets?: RateBudgets; readonly keys?: VenueRateKeys; readonly symbols?: () => number } = {}
  ) {
    this.model = modelOf(config)
    this.budgets = opts.budgets ?? new RateBudgets(clock)
    this.account = opts.keys?.account ?? "account"
    const ip = opts.keys?.ip ?? "default"
    this.windows = this.model.budgets.map((b) => this.budgets.window(this.model.venue, b, b.scope === "ip" ? ip : this.account))
    this.ipKey = this.windows.find((w) => w.spec.scope === "ip")?.key
    this.symbols = opts.symbols ?? (() => 1)
  }

  private readonly symbols: () => number

  /** The limiter's time (`StepSafeTime`): what `fitsAt` answers in. */
  now(): number {
    return this.budgets.now()
  }

  /** The first budget (Kraken's only one): what `ApprovedAction.cost` and `VenueRequestSent.cost` are in. */
  get primary(): BudgetSpec {
    return this.model.budgets[0] as BudgetSpec
  }

  /** The longest window (with margin): how long a call that can never fit waits before looking again. */
  get longestWindowMs(): number {
    return Math.max(...this.model.budgets.map((b) => b.windowMs + b.marginMs))
  }

  /** A per-symbol call (`perSymbol`) is billed once per symbol: `symbols` when given (a cancel-all of one instrument: 1), else every instrument traded. */
  private multiplier(call: VenueCall, symbols: number | undefined): number {
    return this.model.perSymbol.includes(call) ? Math.max(1, symbols ?? this.symbols()) : 1
  }

  /** What `call` costs in budget `name` (0 if it does not cost there). */
  costIn(call: VenueCall, name: string, symbols?: number): number {
    return (this.model.costs[call][name] ?? 0) * this.multiplier(call, symbols)
  }

  /** The call's cost in the first budget (Kraken: its cost). */
  costOf(call: VenueCall, symbols?: number): number {
    return this.costIn(call, this.primary.name, symbols)
  }

  /** Every budget's cost of `call`. */
  costsOf(call: VenueCall, symbols?: number): Record<string, number> {
    const out: Record<string, number> = {}
    for (const b of this.model.budgets) out[b.name] = this.costIn(call, b.name, symbols)
    return out
  }

  limitFor(call: VenueCall, spec: BudgetSpec = this.primary): number {
    return usesReserve(call) ? spec.limit : spec.limit - spec.reserve
  }

  /**
   * Checks without spending (the risk check runs every other check first). `held` is cost
   * promised to others first (reads waiting in line), per budget (a number: in the first budget).
   */
  check(call: VenueCall, held: Readonly<Record<string, number>> | number = 0, symbols?: number): RateRefusal | undefined {
    const now = this.now()
    for (const w of this.windows) {
      const cost = this.costIn(call, w.spec.name, symbols)
      const h = this.budgets.hold(w.key, now)
      // A hold on the address stops every call to the venue from it; one on an account's order count stops what counts there.
      if (h !== undefined && (w.spec.scope === "ip" || cost > 0)) {
        const limit = this.limitFor(call, w.spec)
        return { budget: w.spec.name, key: w.key, kind: h.kind, limit, actual: w.window.used(now) + cost, cost, reserved: limit < w.spec.limit, until: h.until, why: h.why }
      }
      if (cost === 0) continue
      const hold = typeof held === "number" ? (w === this.windows[0] ? held : 0) : (held[w.spec.name] ?? 0)
      const limit = this.limitFor(call, w.spec)
      const used = Math.max(w.window.used(now), w.floor.at(now))
      if (used + cost + hold > limit) return { budget: w.spec.name, key: w.key, kind: "budget", limit, actual: used + hold + cost, cost, reserved: limit < w.spec.limit }
    }
    return undefined
  }

  fits(call: VenueCall, held: Readonly<Record<string, number>> | number = 0, symbols?: number): boolean {
    return this.check(call, held, symbols) === undefined
  }

  /** When `call` fits at the earliest, given what is spent and held now (see `CostWindow.fitsAt`). */
  fitsAt(call: VenueCall, held: Readonly<Record<string, number>> | number = 0): number {
    const now = this.now()
    let at = now
    for (const w of this.windows) {
      const cost = this.costIn(call, w.spec.name)
      const h = this.budgets.hold(w.key, now)
      if (h !== undefined && (w.spec.scope === "ip" || cost > 0)) at = Math.max(at, h.until)
      if (cost === 0) continue
      const hold = typeof held === "number" ? (w === this.windows[0] ? held : 0) : (held[w.spec.name] ?? 0)
      const limit = this.limitFor(call, w.spec)
      at = Math.max(at, w.window.fitsAt(now, cost + hold, limit), w.floor.fitsAt(now, cost + hold, limit))
    }
    return at
  }

  /** Charges `call` to every budget it costs in. Call only after a check passed. */
  spend(call: VenueCall, symbols?: number): void {
    const now = this.now()
    for (const w of this.windows) {
      const cost = this.costIn(call, w.spec.name, symbols)
      if (cost > 0) {
        w.window.spend(now, cost)
        w.floor.cum += cost
      }
    }
  }

  /** The first budget's spend in its window (with margin). */
  used(): number {
    return (this.windows[0] as KeyedWindow).window.used(this.now())
  }

  /** Cost spent in the first budget's own window ending now (without the send margin): what the venue counts. */
  usedInVenueWindow(): number {
    return this.usedAtVenue(this.windows[0] as KeyedWindow, this.now())
  }

  private usedAtVenue(w: KeyedWindow, now: number): number {
    const cutoff = now - w.spec.windowMs
    let sum = 0
    for (const s of w.window.entries(now)) if (s.at > cutoff) sum += s.cost
    return sum
  }

  /** Every budget of this account, for metrics. */
  usage(): ReadonlyArray<BudgetUsage> {
    const now = this.now()
    return this.windows.map((w) => {
      const ours = this.usedAtVenue(w, now)
      const reported = w.floor.at(now)
      return {
        venue: this.model.venue,
        budget: w.spec.name,
        scope: w.spec.scope,
        key: w.key,
        limit: w.spec.limit,
        used: Math.max(ours, reported),
        external: Math.max(0, reported - ours),
        held: this.budgets.hold(w.key, now)?.kind
      }
    })
  }

  /** The first budget's costs still counting, oldest first. */
  spent(): ReadonlyArray<SpentCost> {
    return (this.windows[0] as KeyedWindow).window.entries(this.now())
  }

  /**
   * After a restart, before anything is sent: the costs the previous run spent in what is still
   * the venue's window (from the journal). Entries already out of the window are ignored. A spend
   * is charged to the first budget at its journaled cost and to the others by its `call` (older
   * snapshots have none: the first budget only). A window already restored for this account (a trading core restart within
   * the daemon: the shared windows outlived the core) is left alone.
   */
  restore(spent: ReadonlyArray<SpentCost & { readonly call?: VenueCall }>): void {
    const now = this.now()
    const sorted = [...spent].sort((a, b) => a.at - b.at)
    for (const w of this.windows) {
      if (w.restoredBy.has(this.account)) continue
      w.restoredBy.add(this.account)
      const first = w === this.windows[0]
      for (const s of sorted) {
        // The first budget's cost is journaled exactly (a per-symbol call's count included); the others follow from the call.
        const cost = first ? s.cost : s.call === undefined ? 0 : this.costIn(s.call, w.spec.name)
        if (cost === 0) continue
        // A time ahead of ours (another host's clock) counts as now: never less strict.
        const at = Math.min(this.budgets.time.fromWall(s.at), now)
        if (at >= w.window.newest()) w.window.spend(at, cost)
        else w.window.insert(at, cost, now)
        w.floor.cum += cost
      }
      // Drop what has already left the window (each spend evicted relative to its own time).
      w.window.used(now)
    }
  }

  // ------------------------------------------------------------ what the venue tells us

  /**
   * The venue's count of a budget (a response header, a WebSocket API `rateLimits` entry): from
   * now until its window has surely ended, a call fits only if the venue's count plus what we
   * have sent since (less one send margin) plus its cost is within the limit (`VenueFloor`). So
   * what the venue counts beyond our own spends (another process on the address, requests we do
   * not know of) binds us too; a count below ours changes nothing (our window still applies).
   */
  syncUsed(budget: string, venueUsed: number): void {
    const w = this.windows.find((x) => x.spec.name === budget)
    if (w === undefined || !Number.isFinite(venueUsed) || venueUsed < 0) return
    const now = this.now()
    let recent = 0
    for (const e of w.window.entries(now)) if (e.at > now - w.spec.marginMs) recent += e.cost
    w.floor.report(now, venueUsed, recent, w.spec.windowMs)
  }

  /** `X-MBX-USED-WEIGHT-1M`, `X-MBX-ORDER-COUNT-10S`, `-1M` (any case), for each budget that has a header. */
  syncFromHeaders(headers: ResponseHeaders): void {
    for (const w of this.windows) {
      if (w.spec.header === undefined) continue
      const v = headerOf(headers, w.spec.header)
      if (v !== undefined && /^\d+$/.test(v.trim())) this.syncUsed(w.spec.name, Number(v.trim()))
    }
  }

  /** The WebSocket API's `rateLimits` array (`{rateLimitType, interval, intervalNum, count}`). */
  syncFromRateLimits(limits: ReadonlyArray<{ readonly rateLimitType: string; readonly interval: string; readonly intervalNum: number; readonly count: number }>): void {
    for (const l of limits) {
      const w = this.windows.find((x) => x.spec.wsRateLimit?.type === l.rateLimitType && x.spec.wsRateLimit.interval === l.interval && x.spec.wsRateLimit.intervalNum === l.intervalNum)
      if (w !== undefined) this.syncUsed(w.spec.name, l.count)
    }
  }

  /**
   * A 429: back off until `Retry-After`, or else until the window has surely reset (a whole
   * window plus the margin from now). `budget` names the limit broken (Binance: `-1003` is the
   * address's request weight, `-1015` the account's order count); unnamed, every budget backs off.
   */
  tooManyRequests(r: { readonly budget?: string; readonly retryAfterMs?: number; readonly why: string }): ReadonlyArray<string> {
    const now = this.now()
    const hit = this.windows.filter((w) => r.budget === undefined || w.spec.name === r.budget)
    for (const w of hit) this.budgets.backOff(w.key, now + (r.retryAfterMs ?? w.spec.windowMs + w.spec.marginMs), r.why)
    return hit.map((w) => w.spec.name)
  }

  /**
   * A 418: the address is banned. Nothing is sent to the venue from it until `until`
   * (wall epoch ms, from the venue's message) or `Retry-After`, at least `MIN_BAN_MS`; every risk
   * actor on the address raises its `venueBan` cause (see `onBan`). A venue without an address
   * budget bans this account's budgets.
   */
  banned(r: { readonly untilWall?: number; readonly retryAfterMs?: number; readonly why: string }): void {
    const now = this.now()
    const byWall = r.untilWall === undefined ? undefined : this.budgets.time.fromWall(r.untilWall)
    const until = Math.max(now + MIN_BAN_MS, byWall ?? now + (r.retryAfterMs ?? 0), now + (r.retryAfterMs ?? 0))
    this.budgets.ban(this.banKey, until, r.why)
  }

  /** An operator lifted this account's `venueBan` cause: the ban on the address ends for every account on it. */
  unban(why: string): void {
    this.budgets.unban(this.banKey, why)
  }

  /** The key a ban applies to: the address budget's, else the first budget's. */
  get banKey(): string {
    return this.ipKey ?? (this.windows[0] as KeyedWindow).key
  }

  /** Listens for the start and end of a ban on this limiter's address. */
  onBan(l: BanListener): () => void {
    return this.budgets.onBan(this.banKey, l)
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
