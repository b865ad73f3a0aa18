/**
 * Bench figures: one JSON object per line on stdout. A figure is measured beside a baseline
 * in the same run whenever one exists, and reported as a ratio (higher is better for rates).
 */
export interface Figure {
  readonly name: string
  readonly value: number
  readonly unit: string
  readonly baseline?: string
  readonly baseline_value?: number
  readonly ratio?: number
  readonly [extra: string]: unknown
}

export interface Bench {
  readonly name: string
  /** Real services it needs; the runner starts them (or uses KAFKA_BROKERS / DATABASE_URL). */
  readonly needs?: ReadonlyArray<"kafka" | "postgres">
  readonly run: () => Promise<ReadonlyArray<Figure>>
}

export const emit = (figure: Figure): void => {
  process.stdout.write(JSON.stringify(figure) + "\n")
}

export const round = (n: number, digits = 2): number => {
  const f = 10 ** digits
  return Math.round(n * f) / f
}

/** Runs `fn` over `items` repeatedly for at least `minMs`, returns items/s of the best of `rounds`. */
export const throughput = <T>(items: ReadonlyArray<T>, fn: (item: T) => void, opts: { rounds?: number; minMs?: number } = {}): number => {
  const rounds = opts.rounds ?? 5
  const minMs = opts.minMs ?? 300
  let best = 0
  for (let r = 0; r < rounds; r++) {
    let n = 0
    const start = process.hrtime.bigint()
    let elapsedNs = 0n
    do {
      for (let i = 0; i < items.length; i++) fn(items[i] as T)
      n += items.length
      elapsedNs = process.hrtime.bigint() - start
    } while (elapsedNs < BigInt(minMs) * 1_000_000n)
    const rate = n / (Number(elapsedNs) / 1e9)
    if (rate > best) best = rate
  }
  return best
}

export const rateFigure = (name: string, value: number, baseline: string, baselineValue: number, extra: Record<string, unknown> = {}): Figure => ({
  name,
  value: Math.round(value),
  unit: "msg/s",
  baseline,
  baseline_value: Math.round(baselineValue),
  ratio: round(value / baselineValue, 3),
  ...extra
})

/** Percentile of an ascending-sorted array (nearest rank). */
export const percentile = (sorted: ArrayLike<number>, p: number): number => {
  if (sorted.length === 0) return Number.NaN
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[idx] as number
}
