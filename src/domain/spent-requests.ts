import type { VenueCall, VenueRequestSent } from "./events/venue.js"

/**
 * The venue requests of the last `keepMs` (their time and cost), folded from `VenueRequestSent`
 * by the trading ledger: after a restart the rate limiter starts from them, so the budget the
 * previous run spent in the venue's current window is not spent twice. Bounded by time: entries
 * older than the newest by more than `keepMs` (two minutes: longer than any venue's window) go.
 */
export const SPENT_REQUESTS_KEEP_MS = 120_000

export interface SpentRequest {
  readonly at: number
  readonly cost: number
  /** What was called: a venue with several budgets recomputes each budget's cost from it (absent in older snapshots: `cost` in the first budget only). */
  readonly call?: VenueCall
}

export class SpentRequests {
  private list: SpentRequest[] = []
  private newest = 0

  constructor(readonly keepMs: number = SPENT_REQUESTS_KEEP_MS) {}

  apply(e: VenueRequestSent): void {
    this.add({ at: e.ts, cost: e.cost, call: e.call })
  }

  add(r: SpentRequest): void {
    this.list.push(r)
    if (r.at > this.newest) this.newest = r.at
    // Amortized: prune when the list has grown, not on every request.
    if (this.list.length > 64 && (this.list[0] as SpentRequest).at < this.newest - this.keepMs * 2) this.prune()
  }

  /** The requests of the last `keepMs` before the newest, oldest first. */
  recent(): ReadonlyArray<SpentRequest> {
    this.prune()
    return [...this.list].sort((a, b) => a.at - b.at)
  }

  private prune(): void {
    const cutoff = this.newest - this.keepMs
    this.list = this.list.filter((r) => r.at > cutoff)
  }
}
