import { Effect } from "effect"
import type { DaemonControl } from "../control.js"
import { strategyPage } from "./order-search.js"

/**
 * Each strategy's PnL over time, sampled by the daemon (not by a page that happens to be open):
 * every `intervalMs` the strategy page's PnL (realized net + unrealized over the positions on its
 * instruments) is appended to a ring per strategy, `capacity` points long (default 720 × 5 s =
 * the last hour). The strategy page (`GET /api/strategies/:id/page`) carries it as `pnlHistory`.
 * Values stay decimal text; a point is recorded only when it differs from the last one or a
 * minute has passed, so an idle strategy costs little.
 */

export interface PnlPoint {
  readonly ts: number
  readonly realizedNet: string
  readonly unrealized: string
}

export interface PnlHistory {
  readonly of: (strategyId: string) => ReadonlyArray<PnlPoint>
  /** One sample of every strategy now (the timer calls it; tests too). */
  readonly sample: () => Promise<void>
  readonly stop: () => void
}

export const DEFAULT_PNL_INTERVAL_MS = 5_000
export const DEFAULT_PNL_CAPACITY = 720
const KEEPALIVE_MS = 60_000

export const makePnlHistory = (control: DaemonControl, options: { readonly intervalMs?: number; readonly capacity?: number; readonly now?: () => number } = {}): PnlHistory => {
  const intervalMs = options.intervalMs ?? DEFAULT_PNL_INTERVAL_MS
  const capacity = options.capacity ?? DEFAULT_PNL_CAPACITY
  const now = options.now ?? Date.now
  const rings = new Map<string, PnlPoint[]>()
  let sampling = false

  const sample = async (): Promise<void> => {
    if (sampling) return
    sampling = true
    try {
      const [strategies, positions] = await Effect.runPromise(Effect.all([control.strategies(), control.positions()]))
      const ts = now()
      const live = new Set<string>()
      for (const s of strategies) {
        live.add(s.id)
        const { pnl } = strategyPage(s, positions, [])
        const ring = rings.get(s.id) ?? []
        const last = ring[ring.length - 1]
        const same = last !== undefined && last.realizedNet === pnl.realizedNet && last.unrealized === pnl.unrealized
        if (!same || ts - (last?.ts ?? 0) >= KEEPALIVE_MS) ring.push({ ts, realizedNet: pnl.realizedNet, unrealized: pnl.unrealized })
        if (ring.length > capacity) ring.splice(0, ring.length - capacity)
        rings.set(s.id, ring)
      }
      for (const id of rings.keys()) if (!live.has(id)) rings.delete(id)
    } finally {
      sampling = false
    }
  }

  const timer = setInterval(() => void sample().catch(() => undefined), intervalMs)
  timer.unref()
  void sample().catch(() => undefined)

  return { of: (id) => rings.get(id) ?? [], sample, stop: () => clearInterval(timer) }
}
