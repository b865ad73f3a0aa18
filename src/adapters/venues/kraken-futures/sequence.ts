/**
 * Per-product book sequence tracking. A snapshot sets the base; each delta must be exactly
 * `last + 1`. Anything else is a gap (the book can no longer be trusted) unless it is an old
 * duplicate. Until a snapshot arrives (again) deltas are dropped.
 */
export type DeltaVerdict =
  | { readonly kind: "ok" }
  | { readonly kind: "stale"; readonly last: number }
  | { readonly kind: "awaitingSnapshot" }
  | { readonly kind: "gap"; readonly expected: number; readonly received: number }

const OK: DeltaVerdict = { kind: "ok" }
const AWAITING: DeltaVerdict = { kind: "awaitingSnapshot" }

export class SequenceTracker {
  private readonly last = new Map<string, number>()

  snapshot(product: string, seq: number): void {
    this.last.set(product, seq)
  }

  delta(product: string, seq: number): DeltaVerdict {
    const last = this.last.get(product)
    if (last === undefined) return AWAITING
    if (seq === last + 1) {
      this.last.set(product, seq)
      return OK
    }
    if (seq <= last) return { kind: "stale", last }
    // A gap: forget the base so nothing is applied until a fresh snapshot.
    this.last.delete(product)
    return { kind: "gap", expected: last + 1, received: seq }
  }

  /** Forget one product (resubscribing) or all (reconnecting). */
  reset(product?: string): void {
    if (product === undefined) this.last.clear()
    else this.last.delete(product)
  }

  lastSeq(product: string): number | undefined {
    return this.last.get(product)
  }
}
