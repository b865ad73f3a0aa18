/**
 * The venue's limiters, in fixed windows as the `X-MBX-*` headers count them: request weight
 * per IP per minute, and order counts per account per 10 s and per minute. A request over the
 * weight limit is answered 429; a request from that IP before the advised back-off has passed
 * is answered 418 and bans the IP for `banMs`.
 */
export interface BinanceLimits {
  readonly weightPerMinute: number
  readonly ordersPer10s: number
  readonly ordersPerMinute: number
  /** How long an IP that kept sending after a 429 is banned (the venue: 2 minutes to 3 days). */
  readonly banMs: number
}

export const defaultLimits = (): BinanceLimits => ({ weightPerMinute: 2400, ordersPer10s: 300, ordersPerMinute: 1200, banMs: 120_000 })

interface Window {
  start: number
  used: number
}

const advance = (w: Window | undefined, now: number, size: number): Window => {
  const start = now - (now % size)
  return w === undefined || w.start !== start ? { start, used: 0 } : w
}

export type Admission =
  | { readonly kind: "ok" }
  | { readonly kind: "tooMany"; readonly retryAfterS: number }
  | { readonly kind: "banned"; readonly until: number }
  | { readonly kind: "tooManyOrders"; readonly interval: "10s" | "1m"; readonly limit: number }

export class BinanceRateLimiter {
  private readonly weights = new Map<string, Window>()
  private readonly backoff = new Map<string, number>()
  private readonly bans = new Map<string, number>()
  private readonly orders10s = new Map<string, Window>()
  private readonly orders1m = new Map<string, Window>()
  /** Ground truth for tests: answers 429 and 418 per IP. */
  readonly refused = { tooMany: 0, banned: 0, tooManyOrders: 0 }

  constructor(readonly limits: BinanceLimits = defaultLimits()) {}

  /** Spends a request's weight (refused requests count, as at the venue). */
  admit(ip: string, weight: number, now: number): Admission {
    const ban = this.bans.get(ip)
    if (ban !== undefined && now < ban) {
      this.refused.banned++
      return { kind: "banned", until: ban }
    }
    const until = this.backoff.get(ip)
    if (until !== undefined && now < until) {
      const banUntil = now + this.limits.banMs
      this.bans.set(ip, banUntil)
      this.refused.banned++
      return { kind: "banned", until: banUntil }
    }
    const w = advance(this.weights.get(ip), now, 60_000)
    w.used += weight
    this.weights.set(ip, w)
    if (w.used > this.limits.weightPerMinute) {
      const retryMs = w.start + 60_000 - now
      this.backoff.set(ip, now + retryMs)
      this.refused.tooMany++
      return { kind: "tooMany", retryAfterS: Math.max(1, Math.ceil(retryMs / 1000)) }
    }
    return { kind: "ok" }
  }

  /** Counts one order (or `n`) for the account; refused when either window is full. */
  countOrders(account: string, n: number, now: number): Admission {
    const a = advance(this.orders10s.get(account), now, 10_000)
    const b = advance(this.orders1m.get(account), now, 60_000)
    this.orders10s.set(account, a)
    this.orders1m.set(account, b)
    a.used += n
    b.used += n
    if (a.used > this.limits.ordersPer10s) {
      this.refused.tooManyOrders++
      return { kind: "tooManyOrders", interval: "10s", limit: this.limits.ordersPer10s }
    }
    if (b.used > this.limits.ordersPerMinute) {
      this.refused.tooManyOrders++
      return { kind: "tooManyOrders", interval: "1m", limit: this.limits.ordersPerMinute }
    }
    return { kind: "ok" }
  }

  usedWeight(ip: string, now: number): number {
    return advance(this.weights.get(ip), now, 60_000).used
  }

  orderCounts(account: string, now: number): { readonly tenSeconds: number; readonly minute: number } {
    return { tenSeconds: advance(this.orders10s.get(account), now, 10_000).used, minute: advance(this.orders1m.get(account), now, 60_000).used }
  }
}
