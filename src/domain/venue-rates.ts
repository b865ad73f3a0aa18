import { Data, Either } from "effect"
import type { VenueCall } from "./events/venue.js"

/**
 * A venue's rate limits as a cost model: a list of budgets, each a sliding window keyed by what
 * the venue keys it by (the account, or the IP address the daemon sends from), and for each
 * canonical request (`VenueCall`) what it costs in each budget. Pure data and its validation;
 * the windows themselves live in the risk actor (actors/risk/rate-limiter.ts).
 *
 * - Kraken Futures: one budget, 500 cost units per 10 s per account (shared/venues/kraken-futures.md).
 * - Binance USD-M: request weight, 2400 per minute per IP (every account the daemon runs from that
 *   address spends it); order counts, 300 per 10 s and 1200 per minute per account. Endpoint
 *   weights from the venue's docs (docs/rate-budgets.md has the table and its sources).
 */

/** Who a budget belongs to at the venue: the account's API key, or the address requests come from. */
export type BudgetScope = "account" | "ip"

export interface BudgetSpec {
  /** `cost` (Kraken), `weight1m`, `orders10s`, `orders1m` (Binance): named in denials and metrics. */
  readonly name: string
  readonly scope: BudgetScope
  /** The venue's limit in the window. */
  readonly limit: number
  readonly windowMs: number
  /**
   * Kept back for calls that take risk away (cancels, cancel-all, the dead man's switch): submits,
   * modifies and reads may only use `limit - reserve`.
   */
  readonly reserve: number
  /** How much longer than the venue's window a spend counts here (the send delay); see rate-limiter.ts. */
  readonly marginMs: number
  /** The response header the venue reports this budget's use in (lower case), if any. */
  readonly header?: string
  /** The WebSocket API's `rateLimits` entry for this budget (`rateLimitType`, `interval`, `intervalNum`). */
  readonly wsRateLimit?: { readonly type: string; readonly interval: string; readonly intervalNum: number }
}

/** What one call costs in each budget (a budget not named costs 0). */
export type CallCost = Readonly<Record<string, number>>

export interface VenueCostModel {
  readonly venue: string
  readonly budgets: ReadonlyArray<BudgetSpec>
  readonly costs: Readonly<Record<VenueCall, CallCost>>
  /**
   * Calls the venue bills once per symbol when they are account-wide (Binance's `allOpenOrders`
   * and `countdownCancelAll` take a symbol): the risk actor multiplies their cost by the number of
   * instruments it trades on that venue. Kraken's are account-wide calls, billed once.
   */
  readonly perSymbol: ReadonlyArray<VenueCall>
}

/** Calls that may spend the reserve: they take risk away (or keep the dead man's switch armed). */
export const usesReserve = (call: VenueCall): boolean => call === "cancelorder" || call === "cancelallorders" || call === "cancelallordersafter"

/** Writes the risk actor approves (the rest are reads, reserved through `RequestBudget`). */
export const isOrderAction = (call: VenueCall): boolean =>
  call === "sendorder" || call === "editorder" || call === "cancelorder" || call === "cancelallorders" || call === "cancelallordersafter"

// ------------------------------------------------------------------ Kraken Futures

/** Kraken's costs (shared/venues/kraken-futures.md "Rate limits"); calls Kraken has no private endpoint for cost nothing. */
export const KRAKEN_FUTURES_CALL_COSTS: Readonly<Record<VenueCall, number>> = {
  sendorder: 10,
  editorder: 10,
  cancelorder: 10,
  cancelallorders: 25,
  cancelallordersafter: 25,
  openorders: 2,
  openpositions: 2,
  fills: 2,
  fillsBefore: 25,
  // Not Kraken calls (Binance's): public or absent there. Kraken's `accounts` is charged like a read.
  orderStatus: 2,
  account: 2,
  depthSnapshot: 0,
  exchangeInfo: 0,
  listenKey: 0
}

export interface KrakenRateSettings {
  readonly budget: number
  readonly windowMs: number
  readonly reserve: number
  readonly marginMs: number
}

export const KRAKEN_FUTURES_DEFAULTS: KrakenRateSettings = { budget: 500, windowMs: 10_000, reserve: 100, marginMs: 500 }

const mapCalls = <A, B>(r: Readonly<Record<VenueCall, A>>, f: (a: A) => B): Record<VenueCall, B> =>
  Object.fromEntries(Object.entries(r).map(([k, v]) => [k, f(v as A)])) as Record<VenueCall, B>

/** Kraken Futures: one budget, `cost`, per account. */
export const krakenFuturesModel = (s: KrakenRateSettings = KRAKEN_FUTURES_DEFAULTS, costs: Readonly<Record<VenueCall, number>> = KRAKEN_FUTURES_CALL_COSTS): VenueCostModel => ({
  venue: "kraken-futures",
  budgets: [{ name: "cost", scope: "account", limit: s.budget, windowMs: s.windowMs, reserve: s.reserve, marginMs: s.marginMs }],
  costs: mapCalls(costs, (c) => ({ cost: c })),
  perSymbol: []
})

// ------------------------------------------------------------------ Binance USD-M

/**
 * Binance USD-M endpoints and their cost (shared/venues/binance-usdm.md §3, §6): `weight` is the
 * IP's request weight (`X-MBX-USED-WEIGHT-1M`), `orders` counts once in each of the account's
 * order limiters (`X-MBX-ORDER-COUNT-10S` and `-1M`). The gateway names the endpoint it calls;
 * `BINANCE_USDM_CALLS` maps the canonical calls risk approves onto them.
 */
export const BINANCE_USDM_ENDPOINTS = {
  "POST /fapi/v1/order": { weight: 0, orders: 1 },
  "PUT /fapi/v1/order": { weight: 0, orders: 1 },
  "DELETE /fapi/v1/order": { weight: 1, orders: 0 },
  "POST /fapi/v1/algoOrder": { weight: 0, orders: 1 },
  "DELETE /fapi/v1/algoOrder": { weight: 1, orders: 0 },
  "DELETE /fapi/v1/allOpenOrders": { weight: 1, orders: 0 },
  "POST /fapi/v1/countdownCancelAll": { weight: 10, orders: 0 },
  "POST /fapi/v1/batchOrders": { weight: 5, orders: 5 },
  "GET /fapi/v1/order": { weight: 1, orders: 0 },
  "GET /fapi/v1/openOrders": { weight: 40, orders: 0 },
  "GET /fapi/v1/openOrders?symbol": { weight: 1, orders: 0 },
  "GET /fapi/v1/allOrders": { weight: 5, orders: 0 },
  "GET /fapi/v1/userTrades": { weight: 5, orders: 0 },
  "GET /fapi/v3/positionRisk": { weight: 5, orders: 0 },
  "GET /fapi/v3/account": { weight: 5, orders: 0 },
  "GET /fapi/v1/exchangeInfo": { weight: 1, orders: 0 },
  "GET /fapi/v1/depth?limit=1000": { weight: 20, orders: 0 },
  "POST /fapi/v1/listenKey": { weight: 1, orders: 0 },
  "PUT /fapi/v1/listenKey": { weight: 1, orders: 0 },
  "WS /ws-fapi/v1 connect": { weight: 5, orders: 0 },
  "WS order.place": { weight: 0, orders: 1 },
  "WS order.modify": { weight: 0, orders: 1 },
  "WS order.cancel": { weight: 1, orders: 0 }
} as const satisfies Readonly<Record<string, { readonly weight: number; readonly orders: number }>>
export type BinanceUsdmEndpoint = keyof typeof BINANCE_USDM_ENDPOINTS

/**
 * The endpoint each canonical call is billed as. Where two paths exist (REST and the WebSocket
 * API, an order and an algo order) they cost the same. `batchOrders` (5 orders for 5 order counts
 * and 5 weight) is not used: each order is its own call. Account-wide `openorders` is the 40-weight
 * form; per symbol it would be 1 (charged at the higher figure: never less strict).
 * New order 10s/1m [D-NO], modify [D-MOD], cancel [D-CXL], allOpenOrders and countdownCancelAll
 * are per symbol (`perSymbol`).
 */
export const BINANCE_USDM_CALLS: Readonly<Record<VenueCall, BinanceUsdmEndpoint>> = {
  sendorder: "POST /fapi/v1/order",
  editorder: "PUT /fapi/v1/order",
  cancelorder: "DELETE /fapi/v1/order",
  cancelallorders: "DELETE /fapi/v1/allOpenOrders",
  cancelallordersafter: "POST /fapi/v1/countdownCancelAll",
  openorders: "GET /fapi/v1/openOrders",
  openpositions: "GET /fapi/v3/positionRisk",
  fills: "GET /fapi/v1/userTrades",
  fillsBefore: "GET /fapi/v1/userTrades",
  orderStatus: "GET /fapi/v1/order",
  account: "GET /fapi/v3/account",
  depthSnapshot: "GET /fapi/v1/depth?limit=1000",
  exchangeInfo: "GET /fapi/v1/exchangeInfo",
  listenKey: "PUT /fapi/v1/listenKey"
}

export interface BinanceRateSettings {
  readonly weightPerMinute: number
  readonly ordersPer10s: number
  readonly ordersPerMinute: number
  /** Weight kept back for cancels, cancel-all and the dead man's switch. */
  readonly weightReserve: number
  readonly marginMs: number
}

export const BINANCE_USDM_DEFAULTS: BinanceRateSettings = { weightPerMinute: 2400, ordersPer10s: 300, ordersPerMinute: 1200, weightReserve: 200, marginMs: 500 }

const endpointCost = (e: BinanceUsdmEndpoint): CallCost => {
  const c = BINANCE_USDM_ENDPOINTS[e]
  return { weight1m: c.weight, orders10s: c.orders, orders1m: c.orders }
}

/** Binance USD-M: `weight1m` per IP, `orders10s` and `orders1m` per account. */
export const binanceUsdmModel = (s: BinanceRateSettings = BINANCE_USDM_DEFAULTS): VenueCostModel => ({
  venue: "binance-usdm",
  budgets: [
    { name: "weight1m", scope: "ip", limit: s.weightPerMinute, windowMs: 60_000, reserve: s.weightReserve, marginMs: s.marginMs, header: "x-mbx-used-weight-1m", wsRateLimit: { type: "REQUEST_WEIGHT", interval: "MINUTE", intervalNum: 1 } },
    // Cancels do not count as orders: no reserve is needed on the order counts.
    { name: "orders10s", scope: "account", limit: s.ordersPer10s, windowMs: 10_000, reserve: 0, marginMs: s.marginMs, header: "x-mbx-order-count-10s", wsRateLimit: { type: "ORDERS", interval: "SECOND", intervalNum: 10 } },
    { name: "orders1m", scope: "account", limit: s.ordersPerMinute, windowMs: 60_000, reserve: 0, marginMs: s.marginMs, header: "x-mbx-order-count-1m", wsRateLimit: { type: "ORDERS", interval: "MINUTE", intervalNum: 1 } }
  ],
  costs: mapCalls(BINANCE_USDM_CALLS, endpointCost),
  perSymbol: ["cancelallorders", "cancelallordersafter"]
})

// ------------------------------------------------------------------ config

/** A venue's rate settings do not make a usable model: which key, what was expected, what was given. */
export class VenueRateConfigInvalid extends Data.TaggedError("VenueRateConfigInvalid")<{
  /** `rateLimits.binance-usdm.weightPerMinute` */
  readonly path: string
  readonly reason: string
}> {
  override get message(): string {
    return `rate limit config error at ${this.path}: ${this.reason}`
  }
}

/** The venues with a cost model, and the keys each takes (all optional; defaults above). */
export const RATE_VENUES = {
  "kraken-futures": ["budget", "windowMs", "reserve", "marginMs"],
  "binance-usdm": ["weightPerMinute", "ordersPer10s", "ordersPerMinute", "weightReserve", "marginMs"]
} as const
export type RateVenue = keyof typeof RATE_VENUES

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

const intIn = (path: string, v: unknown, min: number, max: number): Either.Either<number, VenueRateConfigInvalid> =>
  typeof v === "number" && Number.isInteger(v) && v >= min && v <= max
    ? Either.right(v)
    : Either.left(new VenueRateConfigInvalid({ path, reason: `expected an integer ${min}..${max}, got ${JSON.stringify(v)}` }))

/**
 * Decodes one venue's settings (`{ "weightPerMinute": 1200 }`), on top of its defaults, and checks
 * them: every value a positive integer in range, each reserve below its limit, and the costliest
 * call fitting in each budget (a budget that could never pay for a call would stall it forever).
 */
export const venueRateModel = (venue: string, raw: unknown = {}, prefix = "rateLimits"): Either.Either<VenueCostModel, VenueRateConfigInvalid> => {
  const at = `${prefix}.${venue}`
  if (!(venue in RATE_VENUES)) return Either.left(new VenueRateConfigInvalid({ path: at, reason: `unknown venue; expected one of ${Object.keys(RATE_VENUES).join(", ")}` }))
  if (!isRecord(raw)) return Either.left(new VenueRateConfigInvalid({ path: at, reason: `expected an object, got ${JSON.stringify(raw)}` }))
  const keys: ReadonlyArray<string> = RATE_VENUES[venue as RateVenue]
  for (const k of Object.keys(raw)) if (!keys.includes(k)) return Either.left(new VenueRateConfigInvalid({ path: `${at}.${k}`, reason: `unknown key; expected one of ${keys.join(", ")}` }))
  const values: Record<string, number> = {}
  for (const [k, v] of Object.entries(raw)) {
    const max = k === "windowMs" ? 3_600_000 : k === "marginMs" ? 10_000 : 1_000_000
    const min = k === "marginMs" || k.toLowerCase().includes("reserve") ? 0 : 1
    const n = intIn(`${at}.${k}`, v, min, max)
    if (Either.isLeft(n)) return Either.left(n.left)
    values[k] = n.right
  }
  const model = venue === "kraken-futures" ? krakenFuturesModel({ ...KRAKEN_FUTURES_DEFAULTS, ...values }) : binanceUsdmModel({ ...BINANCE_USDM_DEFAULTS, ...values })
  const checked = checkModel(model)
  return Either.isLeft(checked) ? Either.left(new VenueRateConfigInvalid({ path: `${at}.${checked.left.key}`, reason: checked.left.reason })) : Either.right(model)
}

const RESERVE_KEY: Readonly<Record<string, string>> = { cost: "reserve", weight1m: "weightReserve" }
const LIMIT_KEY: Readonly<Record<string, string>> = { cost: "budget", weight1m: "weightPerMinute", orders10s: "ordersPer10s", orders1m: "ordersPerMinute" }

/** The relations between a model's numbers (see `venueRateModel`). */
export const checkModel = (m: VenueCostModel): Either.Either<VenueCostModel, { readonly key: string; readonly reason: string }> => {
  for (const b of m.budgets) {
    const limitKey = LIMIT_KEY[b.name] ?? b.name
    if (b.reserve >= b.limit) return Either.left({ key: RESERVE_KEY[b.name] ?? "reserve", reason: `expected less than ${limitKey} (${b.limit}), got ${b.reserve}` })
    for (const [call, cost] of Object.entries(m.costs)) {
      const c = cost[b.name] ?? 0
      const room = usesReserve(call as VenueCall) ? b.limit : b.limit - b.reserve
      if (c > room) return Either.left({ key: limitKey, reason: `expected at least ${c} (${call} costs ${c} ${b.name}${usesReserve(call as VenueCall) ? "" : " outside the reserve"}), got ${room === b.limit ? b.limit : `${b.limit} less the reserve ${b.reserve}`}` })
    }
  }
  return Either.right(m)
}

/** The models of every configured venue (`{ "binance-usdm": {...} }`), defaults for the rest. */
export const venueRateModels = (raw: unknown, prefix = "rateLimits"): Either.Either<ReadonlyMap<string, VenueCostModel>, VenueRateConfigInvalid> => {
  if (raw !== undefined && !isRecord(raw)) return Either.left(new VenueRateConfigInvalid({ path: prefix, reason: `expected an object keyed by venue, got ${JSON.stringify(raw)}` }))
  const out = new Map<string, VenueCostModel>()
  for (const venue of Object.keys(RATE_VENUES)) {
    const m = venueRateModel(venue, (raw as Record<string, unknown> | undefined)?.[venue] ?? {}, prefix)
    if (Either.isLeft(m)) return Either.left(m.left)
    out.set(venue, m.right)
  }
  for (const venue of Object.keys(raw ?? {})) if (!out.has(venue)) return venueRateModel(venue, {}, prefix).pipe(Either.map(() => out))
  return Either.right(out)
}
