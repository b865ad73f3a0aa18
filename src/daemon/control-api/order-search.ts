import { Either } from "effect"
import type { OrderView, PositionView, StrategyView } from "../control.js"

/**
 * The inspector's order search (`GET /api/orders/search`) and strategy page
 * (`GET /api/strategies/:id/page`), as pure functions of what `DaemonControl` already answers,
 * so the routes stay two thin handlers whatever the router is.
 *
 * Ordering is total and stable: `updatedAt` descending, then `clientOrderId` descending. A page
 * cursor is the last row's key (`<updatedAt>:<clientOrderId>`): the next page starts strictly
 * after it, so orders arriving meanwhile never shift or repeat rows of the pages after the first.
 */

export const DEFAULT_PAGE = 100
export const MAX_PAGE = 500

export interface OrderQuery {
  /** Substring of the client or venue order id (case-insensitive). */
  readonly id?: string
  /** Exact instrument id. */
  readonly instrument?: string
  /** Exact strategy id. */
  readonly strategy?: string
  /** The order machine's state: exact, or its last segment (`filled`, `accepted`). */
  readonly state?: string
  /** `true` live orders only, `false` finished only; absent both. */
  readonly open?: boolean
  /** `updatedAt` bounds in epoch ms, inclusive. */
  readonly from?: number
  readonly to?: number
  readonly limit: number
  readonly cursor?: { readonly updatedAt: number; readonly clientOrderId: string }
}

export interface OrderPage {
  /** Rows matching the filter (all pages). */
  readonly total: number
  readonly items: ReadonlyArray<OrderView>
  /** Cursor of the next page; absent on the last. */
  readonly next?: string
  /** Distinct values over every retained order, for the filter's suggestions (`facets=1`). */
  readonly facets?: { readonly instruments: ReadonlyArray<string>; readonly strategies: ReadonlyArray<string>; readonly states: ReadonlyArray<string> }
}

export interface QueryError {
  readonly field: string
  readonly message: string
}

const bad = (field: string, expected: string, got: string): Either.Either<never, QueryError> =>
  Either.left({ field, message: `query ${field}: expected ${expected}, got ${JSON.stringify(got)}` })

/** Epoch milliseconds or an ISO-8601 date-time. */
const time = (field: string, raw: string): Either.Either<number, QueryError> => {
  if (/^\d{1,15}$/.test(raw)) return Either.right(Number(raw))
  const t = /^\d{4}-\d{2}-\d{2}/.test(raw) ? Date.parse(raw) : Number.NaN
  return Number.isFinite(t) ? Either.right(t) : bad(field, "epoch milliseconds or an ISO-8601 time", raw)
}

const KNOWN = new Set(["id", "instrument", "strategy", "state", "open", "from", "to", "limit", "cursor", "facets"])

export const parseOrderQuery = (params: URLSearchParams): Either.Either<OrderQuery & { readonly facets: boolean }, QueryError> => {
  for (const k of params.keys()) if (!KNOWN.has(k)) return bad(k, `one of ${[...KNOWN].join(", ")}`, k)
  const text = (k: string): string | undefined => {
    const v = params.get(k)?.trim()
    return v === undefined || v === "" ? undefined : v.slice(0, 200)
  }
  const out: { -readonly [K in keyof OrderQuery]: OrderQuery[K] } & { facets: boolean } = { limit: DEFAULT_PAGE, facets: false }
  for (const k of ["id", "instrument", "strategy", "state"] as const) {
    const v = text(k)
    if (v !== undefined) out[k] = v
  }
  const open = text("open")
  if (open !== undefined) {
    if (!["1", "0", "true", "false"].includes(open)) return bad("open", "1 | 0 | true | false", open)
    out.open = open === "1" || open === "true"
  }
  for (const k of ["from", "to"] as const) {
    const v = text(k)
    if (v === undefined) continue
    const t = time(k, v)
    if (Either.isLeft(t)) return Either.left(t.left)
    out[k] = t.right
  }
  const limit = text("limit")
  if (limit !== undefined) {
    const n = Number(limit)
    if (!/^\d+$/.test(limit) || n < 1 || n > MAX_PAGE) return bad("limit", `an integer 1..${MAX_PAGE}`, limit)
    out.limit = n
  }
  const cursor = text("cursor")
  if (cursor !== undefined) {
    const m = /^(\d{1,15}):(.+)$/.exec(cursor)
    if (m === null) return bad("cursor", "the `next` of a previous page", cursor)
    out.cursor = { updatedAt: Number(m[1]), clientOrderId: m[2] as string }
  }
  const facets = text("facets")
  if (facets !== undefined) {
    if (!["1", "0", "true", "false"].includes(facets)) return bad("facets", "1 | 0 | true | false", facets)
    out.facets = facets === "1" || facets === "true"
  }
  return Either.right(out)
}

/** `a` before `b` in the page order (newest first, then id descending). */
const before = (a: { updatedAt: number; clientOrderId: string }, b: { updatedAt: number; clientOrderId: string }): boolean =>
  a.updatedAt !== b.updatedAt ? a.updatedAt > b.updatedAt : a.clientOrderId > b.clientOrderId

const compare = (a: OrderView, b: OrderView): number => (before(a, b) ? -1 : before(b, a) ? 1 : 0)

const stateMatches = (state: string, want: string): boolean => state === want || state.endsWith(`.${want}`) || state.startsWith(`${want}.`)

export const searchOrders = (all: ReadonlyArray<OrderView>, q: OrderQuery & { readonly facets?: boolean }): OrderPage => {
  const id = q.id?.toLowerCase()
  const matching = all.filter(
    (o) =>
      (q.open === undefined || o.open === q.open) &&
      (q.instrument === undefined || o.instrument === q.instrument) &&
      (q.strategy === undefined || o.strategy === q.strategy) &&
      (q.state === undefined || stateMatches(o.state, q.state)) &&
      (q.from === undefined || o.updatedAt >= q.from) &&
      (q.to === undefined || o.updatedAt <= q.to) &&
      (id === undefined || o.clientOrderId.toLowerCase().includes(id) || (o.venueOrderId?.toLowerCase().includes(id) ?? false))
  )
  const sorted = [...matching].sort(compare)
  const cursor = q.cursor
  const start = cursor === undefined ? 0 : sorted.findIndex((o) => before(cursor, o))
  const items = start < 0 ? [] : sorted.slice(start, start + q.limit)
  const last = items[items.length - 1]
  const more = start >= 0 && start + q.limit < sorted.length && last !== undefined
  return {
    total: matching.length,
    items,
    ...(more ? { next: `${last.updatedAt}:${last.clientOrderId}` } : {}),
    ...(q.facets === true ? { facets: facetsOf(all) } : {})
  }
}

const facetsOf = (all: ReadonlyArray<OrderView>): NonNullable<OrderPage["facets"]> => {
  const instruments = new Set<string>()
  const strategies = new Set<string>()
  const states = new Set<string>()
  for (const o of all) {
    instruments.add(o.instrument)
    if (o.strategy !== undefined) strategies.add(o.strategy)
    states.add(o.state)
  }
  return { instruments: [...instruments].sort(), strategies: [...strategies].sort(), states: [...states].sort() }
}

export interface StrategyPage {
  readonly strategy: StrategyView
  /** The account's positions on the strategy's instruments. */
  readonly positions: ReadonlyArray<PositionView>
  readonly openOrders: ReadonlyArray<OrderView>
  /** Finished orders of the strategy the daemon still holds. */
  readonly finishedOrders: number
  /** Realized (net of fees) + unrealized over those positions, as decimal text; the page samples it over time. */
  readonly pnl: { readonly realizedNet: string; readonly unrealized: string; readonly fees: string }
  /** The same PnL sampled by the daemon over time, oldest first (`pnl-history.ts`). */
  readonly pnlHistory: ReadonlyArray<{ readonly ts: number; readonly realizedNet: string; readonly unrealized: string }>
}

/** Decimal text sums without floats: fixed-point on the longest fraction (the views are decimal strings). */
export const sumDecimals = (values: ReadonlyArray<string>): string => {
  const scale = Math.max(0, ...values.map((v) => (v.split(".")[1] ?? "").length))
  let total = 0n
  for (const v of values) {
    const neg = v.startsWith("-")
    const [int = "0", frac = ""] = (neg ? v.slice(1) : v).split(".")
    const n = BigInt((int || "0") + frac.padEnd(scale, "0"))
    total += neg ? -n : n
  }
  const neg = total < 0n
  const digits = (neg ? -total : total).toString().padStart(scale + 1, "0")
  const text = scale === 0 ? digits : `${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}`
  return neg ? `-${text}` : text
}

export const strategyPage = (
  strategy: StrategyView,
  positions: ReadonlyArray<PositionView>,
  orders: ReadonlyArray<OrderView>,
  pnlHistory: StrategyPage["pnlHistory"] = []
): StrategyPage => {
  const instruments = new Set(strategy.instruments)
  const mine = positions.filter((p) => instruments.has(p.instrument))
  const own = orders.filter((o) => o.strategy === strategy.id)
  return {
    strategy,
    positions: mine,
    openOrders: own.filter((o) => o.open).sort(compare),
    finishedOrders: own.filter((o) => !o.open).length,
    pnl: { realizedNet: sumDecimals(mine.map((p) => p.realizedPnl)), unrealized: sumDecimals(mine.map((p) => p.unrealizedPnl)), fees: sumDecimals(mine.map((p) => p.fees)) },
    pnlHistory
  }
}
