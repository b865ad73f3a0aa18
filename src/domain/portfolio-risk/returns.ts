/**
 * The return window of the portfolio risk monitor, kept incrementally from marks.
 *
 * Marks are offered at any rate (the monitor's cadence); one return per instrument is recorded
 * each time at least `intervalMs` has passed since the last recorded sample: the simple return
 * `mark_now / mark_then − 1` of every instrument known at that moment. An instrument without a
 * mark at either end of an interval gets the return 0 for it (it did not move as far as we know);
 * an instrument first seen later has 0 for the intervals before it. The window keeps the newest
 * `capacity` returns in a ring (a column per instrument, Float64Array), so adding a sample is
 * O(instruments) and nothing is recomputed.
 *
 * Returns are floats on purpose: VaR is a statistical estimate, not money that is booked; the
 * positions it is applied to are converted from their exact decimals once per evaluation.
 */
export interface ReturnWindowOptions {
  /** Returns kept (the newest). */
  readonly capacity: number
  /** Length of one return interval, ms. */
  readonly intervalMs: number
}

export class ReturnWindow {
  readonly capacity: number
  readonly intervalMs: number
  private readonly index = new Map<string, number>()
  private readonly columns: Float64Array[] = []
  private readonly lastMark: number[] = []
  /** Ring position of the next return. */
  private head = 0
  /** Returns recorded, capped at capacity. */
  private filled = 0
  private lastSampleAt: number | undefined

  constructor(opts: ReturnWindowOptions) {
    if (!Number.isInteger(opts.capacity) || opts.capacity < 2) throw new RangeError(`return window capacity must be an integer >= 2, got ${opts.capacity}`)
    if (!(opts.intervalMs > 0)) throw new RangeError(`return interval must be > 0 ms, got ${opts.intervalMs}`)
    this.capacity = opts.capacity
    this.intervalMs = opts.intervalMs
  }

  /** Returns held (at most capacity). */
  get length(): number {
    return this.filled
  }

  get instruments(): ReadonlyArray<string> {
    return [...this.index.keys()]
  }

  private column(instrument: string): number {
    let k = this.index.get(instrument)
    if (k === undefined) {
      k = this.columns.length
      this.index.set(instrument, k)
      this.columns.push(new Float64Array(this.capacity))
      this.lastMark.push(Number.NaN)
    }
    return k
  }

  /**
   * Marks at time `at` (ms). The first call only remembers them; afterwards a return is recorded
   * when `at` is at least `intervalMs` after the last recorded sample (one return per call, even
   * after a longer gap: the gap's move is one return). Returns whether a return was recorded.
   */
  observe(at: number, marks: ReadonlyMap<string, number> | Iterable<readonly [string, number]>): boolean {
    const entries = marks instanceof Map ? (marks as ReadonlyMap<string, number>).entries() : (marks as Iterable<readonly [string, number]>)
    const seen: Array<readonly [number, number]> = []
    for (const [instrument, mark] of entries) if (Number.isFinite(mark) && mark > 0) seen.push([this.column(instrument), mark])
    if (this.lastSampleAt === undefined) {
      for (const [k, m] of seen) this.lastMark[k] = m
      this.lastSampleAt = at
      return false
    }
    if (at - this.lastSampleAt < this.intervalMs) {
      // Not yet a sample: only instruments never marked take this as their first mark.
      for (const [k, m] of seen) if (Number.isNaN(this.lastMark[k] as number)) this.lastMark[k] = m
      return false
    }
    const slot = this.head
    for (const col of this.columns) col[slot] = 0
    for (const [k, m] of seen) {
      const prev = this.lastMark[k] as number
      ;(this.columns[k] as Float64Array)[slot] = Number.isNaN(prev) ? 0 : m / prev - 1
      this.lastMark[k] = m
    }
    this.head = (this.head + 1) % this.capacity
    if (this.filled < this.capacity) this.filled++
    this.lastSampleAt = at
    return true
  }

  /** Seeds the window from a recorded series of marks (oldest first), e.g. the journal's market data. */
  seed(series: Iterable<{ readonly at: number; readonly marks: ReadonlyMap<string, number> }>): void {
    for (const s of series) this.observe(s.at, s.marks)
  }

  /**
   * The held returns of `instrument`, oldest first (a fresh array), or undefined if it was never
   * seen. For tests and reports; the evaluation reads the columns in place (`forEachColumn`).
   */
  returnsOf(instrument: string): Float64Array | undefined {
    const k = this.index.get(instrument)
    if (k === undefined) return undefined
    const col = this.columns[k] as Float64Array
    const out = new Float64Array(this.filled)
    const start = this.filled < this.capacity ? 0 : this.head
    for (let i = 0; i < this.filled; i++) out[i] = col[(start + i) % this.capacity] as number
    return out
  }

  /**
   * The P&L of holding `value[instrument]` (signed, quote currency) over each held interval:
   * pnl[t] = Σ_i value_i × r_{t,i}, in ring order (the order does not matter to the measures).
   * Instruments without returns contribute nothing. O(instruments × window).
   */
  pnlSeries(values: ReadonlyMap<string, number>, out?: Float64Array): Float64Array {
    const n = this.filled
    const pnl = out !== undefined && out.length === n ? out.fill(0) : new Float64Array(n)
    for (const [instrument, v] of values) {
      if (v === 0) continue
      const k = this.index.get(instrument)
      if (k === undefined) continue
      const col = this.columns[k] as Float64Array
      for (let t = 0; t < n; t++) pnl[t] = (pnl[t] as number) + v * (col[t] as number)
    }
    return pnl
  }
}
