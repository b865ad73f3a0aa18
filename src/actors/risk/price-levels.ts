/**
 * Our own resting prices on one side of one instrument, in ticks: how many of our orders rest at
 * each price, and the best one (highest bid / lowest ask) in O(1) for the self-trade check.
 * A binary heap with lazy deletion keeps add/remove at O(log n) amortized; the check never scans.
 */
export class PriceLevels {
  private readonly counts = new Map<number, number>()
  private readonly heap: number[] = []
  /** +1 keeps the highest price on top (bids), -1 the lowest (asks). */
  private readonly sign: 1 | -1

  constructor(side: "bid" | "ask") {
    this.sign = side === "bid" ? 1 : -1
  }

  /** The best price in ticks, or undefined when nothing rests. */
  best(): number | undefined {
    const heap = this.heap
    while (heap.length > 0) {
      const top = (heap[0] as number) * this.sign
      if ((this.counts.get(top) ?? 0) > 0) return top
      this.pop()
    }
    return undefined
  }

  get size(): number {
    return this.counts.size
  }

  add(ticks: number): void {
    const c = this.counts.get(ticks) ?? 0
    this.counts.set(ticks, c + 1)
    if (c === 0) this.push(ticks * this.sign)
  }

  remove(ticks: number): void {
    const c = this.counts.get(ticks) ?? 0
    if (c <= 1) this.counts.delete(ticks)
    else this.counts.set(ticks, c - 1)
    // A stale heap entry is dropped when it reaches the top; a level re-added meanwhile is pushed
    // again, so bound the garbage by rebuilding when stale entries dominate.
    if (this.heap.length > 64 && this.heap.length > 4 * this.counts.size) this.rebuild()
  }

  private rebuild(): void {
    this.heap.length = 0
    for (const k of this.counts.keys()) this.push(k * this.sign)
  }

  private push(v: number): void {
    const heap = this.heap
    heap.push(v)
    let i = heap.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if ((heap[parent] as number) >= v) break
      heap[i] = heap[parent] as number
      i = parent
    }
    heap[i] = v
  }

  private pop(): void {
    const heap = this.heap
    const last = heap.pop() as number
    if (heap.length === 0) return
    let i = 0
    const n = heap.length
    for (;;) {
      const l = 2 * i + 1
      if (l >= n) break
      const r = l + 1
      const c = r < n && (heap[r] as number) > (heap[l] as number) ? r : l
      if ((heap[c] as number) <= last) break
      heap[i] = heap[c] as number
      i = c
    }
    heap[i] = last
  }
}
