/** Kraken's documented costs for the shared `/derivatives` budget of 500 per 10 s. */
export const endpointCost = (endpoint: string, params: URLSearchParams, batchSize: number): number => {
  switch (endpoint) {
    case "sendorder":
    case "editorder":
    case "cancelorder":
      return 10
    case "batchorder":
      return 9 + batchSize
    case "fills":
      return params.has("lastFillTime") ? 25 : 2
    case "cancelallorders":
    case "cancelallordersafter":
      return 25
    default:
      return 2
  }
}

/**
 * A cost-weighted sliding window per account: a call is refused when the costs spent in the
 * last `windowMs` plus its own would exceed `limit`. Refused calls spend nothing.
 */
export class CostBudget {
  private readonly spent = new Map<string, Array<{ at: number; cost: number }>>()
  /** Per account: calls answered `apiLimitExceeded`, and the most cost ever counted in one window. */
  private readonly truth = new Map<string, { refused: number; peak: number }>()
  constructor(readonly limit = 500, readonly windowMs = 10_000) {}

  tryConsume(account: string, cost: number, now: number): boolean {
    const log = (this.spent.get(account) ?? []).filter((e) => e.at > now - this.windowMs)
    const used = log.reduce((sum, e) => sum + e.cost, 0)
    const ok = used + cost <= this.limit
    const t = this.truth.get(account) ?? { refused: 0, peak: 0 }
    if (ok) {
      log.push({ at: now, cost })
      t.peak = Math.max(t.peak, used + cost)
    } else t.refused++
    this.truth.set(account, t)
    this.spent.set(account, log)
    return ok
  }

  /** Calls answered `apiLimitExceeded` so far (ground truth for the client's rate tests). */
  refused(account: string): number {
    return this.truth.get(account)?.refused ?? 0
  }

  /** Ground truth for tests: how many calls were refused, and the highest window total. */
  stats(account: string): { readonly refused: number; readonly peak: number } {
    const t = this.truth.get(account)
    return { refused: t?.refused ?? 0, peak: t?.peak ?? 0 }
  }

  used(account: string, now: number): number {
    return (this.spent.get(account) ?? []).filter((e) => e.at > now - this.windowMs).reduce((sum, e) => sum + e.cost, 0)
  }
}
