import type { AnalyticsSource, FillRow, MarkRow, OrderRow, RiskDecisionRow, Side, StrategyRecordRow } from "./dataset.js"

/**
 * A seeded synthetic dataset for tests and benches: strategies trading instruments on a
 * random walk, each order filled in one or two parts (or canceled, or denied by risk), with
 * marks every hour. Prices and quantities are built from integer ticks, so the decimal text
 * is exact. Rows are produced lazily, so 1M fills cost no more memory than the loader's chunk.
 */

export interface FixtureOptions {
  readonly seed?: number
  readonly fills: number
  readonly strategies?: ReadonlyArray<string>
  readonly instruments?: ReadonlyArray<string>
  /** Start of the data, epoch ms. Default 2026-01-01T00:00:00Z. */
  readonly start?: number
  /** Spread over this many days. Default 30. */
  readonly days?: number
}

/** mulberry32: small, fast, good enough for synthetic data; same seed, same dataset. */
export const mulberry32 = (seed: number): (() => number) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Integer count of 10^-decimals → exact decimal text. */
const fixed = (units: number, decimals: number): string => {
  const neg = units < 0
  const s = String(Math.abs(units)).padStart(decimals + 1, "0")
  return (neg ? "-" : "") + s.slice(0, s.length - decimals) + "." + s.slice(s.length - decimals)
}

const REASONS = ["MAX_POSITION", "RATE_LIMIT", "PRICE_BAND", "MAX_NOTIONAL"] as const

export interface Fixture {
  readonly source: AnalyticsSource
  /** How many fills and marks the source yields (fills exactly as asked). */
  readonly counts: { readonly fills: number; readonly marks: number }
}

export const generateFixture = (options: FixtureOptions): Fixture => {
  const seed = options.seed ?? 42
  const strategies = options.strategies ?? ["mm", "trend", "arb"]
  const instruments = options.instruments ?? ["kf:PF_XBTUSD", "kf:PF_ETHUSD", "kf:PF_SOLUSD"]
  const start = options.start ?? Date.UTC(2026, 0, 1)
  const days = options.days ?? 30
  const span = days * 86_400_000
  // 1.2 fills per order on average (15% canceled unfilled, 45% one fill, 40% two): about 0.85 orders per fill.
  const orderCount = Math.ceil(options.fills * 0.85)
  const step = span / orderCount
  const basePrice = [60_000_00, 3_000_00, 150_00] // cents

  function* ordersAndFills(emitFills: boolean): Generator<OrderRow | FillRow> {
    const rnd = mulberry32(seed)
    const price = instruments.map((_, i) => basePrice[i % basePrice.length] as number)
    let fills = 0
    for (let n = 0; fills < options.fills; n++) {
      const ts = start + Math.floor(n * step)
      const s = strategies[n % strategies.length] as string
      const ii = Math.floor(rnd() * instruments.length)
      const inst = instruments[ii] as string
      const p = price[ii] as number
      const move = Math.round((rnd() - 0.5) * p * 0.002)
      price[ii] = Math.max(100, p + move)
      const side: Side = rnd() < 0.5 ? "buy" : "sell"
      const lots = 1 + Math.floor(rnd() * 20) // 0.001 units
      const submittedTs = ts
      const acceptedTs = ts + 2 + Math.floor(rnd() * 30)
      const roll = rnd()
      const clientOrderId = `${s}-1-${n}`
      const mid = price[ii] as number
      const nParts = roll < 0.15 ? 0 : roll < 0.6 ? 1 : 2
      const firstFillTs = nParts > 0 ? acceptedTs + 1 + Math.floor(rnd() * 200) : undefined
      if (!emitFills) {
        yield {
          clientOrderId,
          strategy: s,
          instrument: inst,
          side,
          type: "limit",
          qty: fixed(lots, 3),
          price: fixed(mid, 2),
          submittedTs,
          acceptedTs,
          firstFillTs,
          finalTs: (firstFillTs ?? acceptedTs) + 5,
          finalState: nParts === 0 ? "canceled" : "filled"
        } satisfies OrderRow
      }
      let left = lots
      for (let part = 0; part < nParts && fills < options.fills; part++) {
        const q = part === nParts - 1 ? left : Math.max(1, Math.floor(left / 2))
        left -= q
        if (q <= 0) continue
        const slip = Math.floor(rnd() * 5) * (side === "buy" ? 1 : -1)
        const px = mid + slip
        const maker = rnd() < 0.5
        fills++
        if (emitFills) {
          // fee: 2 bps maker / 5 bps taker of the notional, in 10^-7 quote units
          const feeUnits = Math.round((px * q * (maker ? 2 : 5)) / 100)
          yield {
            fillId: `${clientOrderId}-${part}`,
            clientOrderId,
            strategy: s,
            instrument: inst,
            side,
            price: fixed(px, 2),
            qty: fixed(q, 3),
            fee: fixed(feeUnits, 7),
            liquidity: maker ? "maker" : "taker",
            ts: (firstFillTs ?? acceptedTs) + part * 50,
            arrivalMid: fixed(mid, 2)
          } satisfies FillRow
        }
      }
    }
  }

  function* risk(): Generator<RiskDecisionRow> {
    const rnd = mulberry32(seed + 1)
    const n = Math.ceil(orderCount / 10)
    for (let i = 0; i < n; i++) {
      const approved = rnd() < 0.8
      yield {
        ts: start + Math.floor((i * span) / n),
        strategy: strategies[i % strategies.length] as string,
        approved,
        reason: approved ? undefined : REASONS[Math.floor(rnd() * REASONS.length)]
      }
    }
  }

  function* marks(): Generator<MarkRow> {
    const rnd = mulberry32(seed + 2)
    const price = instruments.map((_, i) => basePrice[i % basePrice.length] as number)
    for (let h = 0; h < days * 24; h++) {
      for (let i = 0; i < instruments.length; i++) {
        const p = price[i] as number
        price[i] = Math.max(100, p + Math.round((rnd() - 0.5) * p * 0.004))
        yield { instrument: instruments[i] as string, ts: start + h * 3_600_000 + 3_599_999, price: fixed(price[i] as number, 2) }
      }
    }
  }

  function* records(): Generator<StrategyRecordRow> {
    for (let d = 0; d < days; d++) {
      for (const s of strategies) yield { strategy: s, name: "signal", value: fixed(d * 7 + s.length, 2), ts: start + d * 86_400_000 }
    }
  }

  return {
    source: {
      orders: { [Symbol.iterator]: () => ordersAndFills(false) as Generator<OrderRow> },
      fills: { [Symbol.iterator]: () => ordersAndFills(true) as Generator<FillRow> },
      riskDecisions: { [Symbol.iterator]: risk },
      strategyRecords: { [Symbol.iterator]: records },
      marks: { [Symbol.iterator]: marks }
    },
    counts: { fills: options.fills, marks: days * 24 * instruments.length }
  }
}
