/**
 * A fixed-size window of floats for the examples' statistics (σ of mid changes, z-scores,
 * Donchian channels). Floats are fine here: statistics never become an order without going
 * through `priceFromFloat` (Decimal, tick grid).
 */
export class Rolling {
  private readonly values: number[] = []

  constructor(readonly size: number) {}

  push(x: number): void {
    this.values.push(x)
    if (this.values.length > this.size) this.values.shift()
  }

  get full(): boolean {
    return this.values.length >= this.size
  }

  get length(): number {
    return this.values.length
  }

  toArray(): ReadonlyArray<number> {
    return this.values.slice()
  }

  mean(): number {
    let s = 0
    for (const v of this.values) s += v
    return this.values.length === 0 ? Number.NaN : s / this.values.length
  }

  /** Sample standard deviation; NaN below two values. */
  std(): number {
    const n = this.values.length
    if (n < 2) return Number.NaN
    const m = this.mean()
    let s = 0
    for (const v of this.values) s += (v - m) * (v - m)
    return Math.sqrt(s / (n - 1))
  }

  max(): number {
    return this.values.length === 0 ? Number.NaN : Math.max(...this.values)
  }

  min(): number {
    return this.values.length === 0 ? Number.NaN : Math.min(...this.values)
  }
}
