/**
 * Fill ids already counted, in bounded memory, so a fill the venue repeats (a snapshot after a
 * reconnect or a restart, a resend) is applied once.
 *
 * Rule. The newest `capacity` fill ids are remembered exactly (insertion order). When one is
 * dropped, the venue time of the newest fill dropped becomes the horizon: a fill at or before
 * the horizon that is not remembered counts as seen, because a venue reports fills in time order
 * and `capacity` newer fills have been counted since — it can only be a repeat. A fill without a
 * time (ids restored from a snapshot) is only looked up. The journal holds every fill; this is the
 * in-memory guard, not the record.
 */
export class RecentFillIds {
  private readonly ids = new Map<string, number>()
  /** Venue time (ms) of the newest fill forgotten; fills at or before it are repeats. */
  private horizonTs = Number.NEGATIVE_INFINITY

  constructor(readonly capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError(`RecentFillIds capacity must be a positive integer, got ${capacity}`)
  }

  /** True for a fill id counted before, or a fill older than everything still remembered. */
  has(fillId: string, ts?: number): boolean {
    return this.ids.has(fillId) || (ts !== undefined && ts <= this.horizonTs)
  }

  add(fillId: string, ts?: number): void {
    if (this.ids.has(fillId)) return
    this.ids.set(fillId, ts ?? Number.NEGATIVE_INFINITY)
    if (this.ids.size > this.capacity) {
      const [oldest, at] = this.ids.entries().next().value as [string, number]
      this.ids.delete(oldest)
      if (at > this.horizonTs) this.horizonTs = at
    }
  }

  get size(): number {
    return this.ids.size
  }

  get horizon(): number {
    return this.horizonTs
  }
}
