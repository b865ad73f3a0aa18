/**
 * The in-process metrics registry of the actor runtime: counters, gauges and histograms,
 * rendered as Prometheus text with the `troupe_` prefix. A series is made once (name + fixed
 * labels) and then updated through its object, so the hot path only adds to a number.
 * Values that already live elsewhere (a mailbox's depth, its drop count) are registered as
 * functions and read only when the registry is rendered: they cost nothing per message.
 */

export type Labels = Readonly<Record<string, string>>

type Kind = "counter" | "gauge" | "histogram"

export class Counter {
  value = 0
  inc(n = 1): void {
    this.value += n
  }
}

export class Gauge {
  value = 0
  set(v: number): void {
    this.value = v
  }
  inc(n = 1): void {
    this.value += n
  }
  dec(n = 1): void {
    this.value -= n
  }
}

/** Cumulative buckets, Prometheus style: `le` upper bounds, ascending, plus +Inf. */
export class Histogram {
  readonly counts: Float64Array
  sum = 0
  count = 0
  constructor(readonly bounds: ReadonlyArray<number>) {
    this.counts = new Float64Array(bounds.length)
  }
  observe(v: number): void {
    this.observeMany(v, 1)
  }
  /** `n` observations of the same value: a batch records its mean once. */
  observeMany(v: number, n: number): void {
    this.sum += v * n
    this.count += n
    const bounds = this.bounds
    for (let i = 0; i < bounds.length; i++) {
      if (v <= (bounds[i] as number)) {
        this.counts[i] = (this.counts[i] as number) + n
        return
      }
    }
  }
}

/** Seconds: 1 µs to 1 s, for per-message processing times. */
export const LATENCY_BUCKETS_S: ReadonlyArray<number> = [1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 1e-2, 1e-1, 1]

interface Series {
  readonly labels: Labels
  readonly metric: Counter | Gauge | Histogram | (() => number)
}

interface Family {
  readonly name: string
  readonly help: string
  readonly kind: Kind
  readonly series: Map<string, Series>
}

const escapeLabel = (v: string): string => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")

const labelText = (labels: Labels, extra?: string): string => {
  const parts = Object.keys(labels)
    .sort()
    .map((k) => `${k}="${escapeLabel(labels[k] as string)}"`)
  if (extra !== undefined) parts.push(extra)
  return parts.length === 0 ? "" : `{${parts.join(",")}}`
}

const num = (v: number): string => (Number.isNaN(v) ? "NaN" : v === Infinity ? "+Inf" : v === -Infinity ? "-Inf" : String(v))

export class MetricsRegistry {
  private readonly families = new Map<string, Family>()

  constructor(readonly prefix = "troupe_") {}

  counter(name: string, help: string, labels: Labels = {}): Counter {
    return this.series(name, help, "counter", labels, () => new Counter()) as Counter
  }

  gauge(name: string, help: string, labels: Labels = {}): Gauge {
    return this.series(name, help, "gauge", labels, () => new Gauge()) as Gauge
  }

  histogram(name: string, help: string, labels: Labels = {}, bounds: ReadonlyArray<number> = LATENCY_BUCKETS_S): Histogram {
    return this.series(name, help, "histogram", labels, () => new Histogram(bounds)) as Histogram
  }

  /** A counter or gauge read from `read` at render time; registering the same series again replaces the function. */
  sampled(name: string, help: string, kind: "counter" | "gauge", labels: Labels, read: () => number): void {
    const family = this.family(name, help, kind)
    family.series.set(labelText(labels), { labels, metric: read })
  }

  /** Forgets a series, e.g. when an actor is removed for good. */
  remove(name: string, labels: Labels = {}): void {
    this.families.get(name)?.series.delete(labelText(labels))
  }

  /** The value of a counter or gauge series (sampled ones included), for tests and the control API. */
  value(name: string, labels: Labels = {}): number | undefined {
    const s = this.families.get(name)?.series.get(labelText(labels))
    if (s === undefined) return undefined
    const m = s.metric
    return typeof m === "function" ? m() : m instanceof Histogram ? m.count : m.value
  }

  /** Prometheus text exposition format 0.0.4. */
  render(): string {
    const out: string[] = []
    for (const f of this.families.values()) {
      const name = this.prefix + f.name
      out.push(`# HELP ${name} ${f.help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`, `# TYPE ${name} ${f.kind}`)
      for (const { labels, metric } of f.series.values()) {
        if (metric instanceof Histogram) {
          let cumulative = 0
          for (let i = 0; i < metric.bounds.length; i++) {
            cumulative += metric.counts[i] as number
            out.push(`${name}_bucket${labelText(labels, `le="${num(metric.bounds[i] as number)}"`)} ${cumulative}`)
          }
          out.push(`${name}_bucket${labelText(labels, 'le="+Inf"')} ${metric.count}`)
          out.push(`${name}_sum${labelText(labels)} ${num(metric.sum)}`, `${name}_count${labelText(labels)} ${metric.count}`)
        } else {
          out.push(`${name}${labelText(labels)} ${num(typeof metric === "function" ? metric() : metric.value)}`)
        }
      }
    }
    return out.length === 0 ? "" : out.join("\n") + "\n"
  }

  private family(name: string, help: string, kind: Kind): Family {
    let f = this.families.get(name)
    if (f === undefined) {
      f = { name, help, kind, series: new Map() }
      this.families.set(name, f)
    } else if (f.kind !== kind) {
      throw new TypeError(`metric ${name} is a ${f.kind}, not a ${kind}`)
    }
    return f
  }

  private series(name: string, help: string, kind: Kind, labels: Labels, make: () => Counter | Gauge | Histogram): Counter | Gauge | Histogram {
    const family = this.family(name, help, kind)
    const key = labelText(labels)
    const existing = family.series.get(key)
    if (existing !== undefined && typeof existing.metric !== "function") return existing.metric
    const metric = make()
    family.series.set(key, { labels, metric })
    return metric
  }
}
