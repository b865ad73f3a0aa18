import { Decimal, ZERO } from "../../../domain/decimal.js"
import type { FillView, OrderType, OrderView } from "./engine-types.js"

/**
 * The venue's history API (`/api/history/v2|v3/...`) and charts (`/api/charts/v1/...`), kept
 * beside the matching engine from its effects. Bounded: each log keeps its newest
 * `HISTORY_RETAINED` entries (a venue keeps history for a time, not forever).
 */
export const HISTORY_RETAINED = 10_000

export interface HistoryElement {
  readonly uid: string
  /** Milliseconds since the epoch. */
  readonly timestamp: number
  readonly event: Record<string, unknown>
}

export interface AccountLogRow {
  readonly id: number
  readonly date: number
  readonly info: "futures trade" | "futures liquidation" | "funding rate change" | "settlement"
  readonly row: Record<string, unknown>
}

/** Kraken's history spelling of an order type. */
const HISTORY_TYPE: Record<OrderType, string> = { lmt: "Limit", post: "Post", ioc: "IoC", mkt: "Market", fok: "FoK", stp: "Stop", take_profit: "TakeProfit" }

/**
 * Averages (entry prices) are rounded to 10 decimal places, half-even, trailing zeros dropped:
 * the venue prints history prices with 10 decimals ("69.2200000000"), never 40 digits.
 */
export const venuePrecision = (d: Decimal): Decimal => d.toDecimalPlaces(10, Decimal.ROUND_HALF_EVEN)

/** An order as the history API spells it (numbers as strings; `quantity` is what is left). */
export const historyOrder = (o: OrderView, accountUid: string): Record<string, unknown> => ({
  uid: o.orderId,
  accountUid,
  tradeable: o.symbol,
  direction: o.side === "buy" ? "Buy" : "Sell",
  quantity: o.state === "open" || o.state === "untriggered" ? o.size.minus(o.filled).toFixed() : "0",
  filled: o.filled.toFixed(),
  timestamp: String(o.receivedTime),
  limitPrice: o.limitPrice === undefined ? "" : o.limitPrice.toFixed(),
  orderType: HISTORY_TYPE[o.type],
  clientId: o.cliOrdId ?? "",
  reduceOnly: o.reduceOnly,
  lastUpdateTimestamp: String(o.lastUpdateTime)
})

class BoundedLog<T> {
  items: T[] = []
  push(item: T): void {
    this.items.push(item)
    if (this.items.length > 2 * HISTORY_RETAINED) this.items.splice(0, this.items.length - HISTORY_RETAINED)
  }
}

export interface PageQuery {
  readonly since?: number | undefined
  readonly before?: number | undefined
  readonly sort?: "asc" | "desc" | undefined
  readonly count?: number | undefined
  readonly continuationToken?: string | undefined
}

/** Default and largest page of the history API. */
export const HISTORY_PAGE = 500
export const HISTORY_PAGE_MAX = 1000

export const pageQuery = (params: URLSearchParams): PageQuery | string => {
  const int = (name: string): number | undefined | "bad" => {
    const raw = params.get(name)
    if (raw === null || raw === "") return undefined
    const n = Number(raw)
    return Number.isSafeInteger(n) && n >= 0 ? n : "bad"
  }
  const since = int("since") ?? int("from")
  const before = int("before") ?? int("to")
  const count = int("count")
  if (since === "bad" || before === "bad" || count === "bad") return "invalidArgument"
  const sort = params.get("sort") ?? undefined
  if (sort !== undefined && sort !== "asc" && sort !== "desc") return "invalidArgument"
  return { since, before, count, sort, continuationToken: params.get("continuationToken") ?? undefined }
}

/**
 * One page, newest first unless `sort=asc`; `since` is inclusive, `before` exclusive. The
 * continuation token is opaque to clients (base64 of the offset into the filtered list).
 */
export const page = <T>(items: ReadonlyArray<T>, time: (t: T) => number, q: PageQuery): { elements: T[]; len: number; continuationToken: string | undefined } => {
  let list = items.filter((t) => (q.since === undefined || time(t) >= q.since) && (q.before === undefined || time(t) < q.before))
  if (q.sort !== "asc") list = [...list].reverse()
  const count = Math.min(q.count ?? HISTORY_PAGE, HISTORY_PAGE_MAX)
  let offset = 0
  if (q.continuationToken !== undefined) {
    const n = Number(Buffer.from(q.continuationToken, "base64").toString("utf8"))
    offset = Number.isSafeInteger(n) && n >= 0 ? n : list.length
  }
  const elements = list.slice(offset, offset + count)
  const next = offset + count < list.length ? Buffer.from(String(offset + count)).toString("base64") : undefined
  return { elements, len: elements.length, continuationToken: next }
}

interface Sample {
  readonly time: number
  readonly price: Decimal
  readonly qty: Decimal
}

/** Candle intervals of the charts API, in seconds. */
export const CANDLE_INTERVALS: Readonly<Record<string, number>> = { "1m": 60, "5m": 300, "15m": 900, "30m": 1800, "1h": 3600, "4h": 14400, "12h": 43200, "1d": 86400, "1w": 604800 }

export class VenueHistory {
  private readonly orders = new Map<string, BoundedLog<HistoryElement>>()
  private readonly executions = new Map<string, BoundedLog<HistoryElement>>()
  private readonly marketExecutions = new Map<string, BoundedLog<HistoryElement>>()
  private readonly positionUpdates = new Map<string, BoundedLog<HistoryElement>>()
  private readonly accountLogs = new Map<string, BoundedLog<AccountLogRow>>()
  private readonly trades = new Map<string, BoundedLog<Sample>>()
  private readonly marks = new Map<string, BoundedLog<Sample>>()
  private readonly fundingRates = new Map<string, BoundedLog<{ time: number; fundingRate: Decimal; relativeFundingRate: Decimal }>>()
  /** Orders already reported as placed (dropped when they finish). */
  private readonly seen = new Set<string>()
  private nextLogId = new Map<string, number>()

  constructor(private readonly uid: () => string) {}

  private log<T>(map: Map<string, BoundedLog<T>>, key: string): BoundedLog<T> {
    let l = map.get(key)
    if (l === undefined) {
      l = new BoundedLog<T>()
      map.set(key, l)
    }
    return l
  }

  /** An order update of a booked account, in the order the engine produced it. */
  onOrder(account: string, order: OrderView, isCancel: boolean, reason: string, now: number): void {
    const log = this.log(this.orders, account)
    const first = !this.seen.has(order.orderId)
    const h = historyOrder(order, account)
    if (first) {
      log.push({ uid: this.uid(), timestamp: now, event: { OrderPlaced: { order: h, reason: "new_user_order", reducedQuantity: "", algoId: "" } } })
      if (!isCancel) this.seen.add(order.orderId)
    } else if (!isCancel) {
      log.push({ uid: this.uid(), timestamp: now, event: { OrderUpdated: { oldOrder: h, newOrder: h, reason } } })
    }
    if (!isCancel) return
    this.seen.delete(order.orderId)
    if (reason === "full_fill") {
      if (!first) log.push({ uid: this.uid(), timestamp: now, event: { OrderUpdated: { oldOrder: h, newOrder: h, reason } } })
    } else {
      log.push({ uid: this.uid(), timestamp: now, event: { OrderCancelled: { order: h, reason } } })
    }
  }

  onReject(account: string, order: OrderView, reason: string, now: number): void {
    this.log(this.orders, account).push({ uid: this.uid(), timestamp: now, event: { OrderRejected: { order: historyOrder(order, account), reason } } })
  }

  /** One match: the maker's and the taker's fills (either account may be unbooked: `undefined`). */
  onExecution(maker: { fill: FillView; order: OrderView | undefined }, taker: { fill: FillView; order: OrderView | undefined }, mark: Decimal, booked: (account: string) => boolean): void {
    const f = taker.fill
    const asOrder = (x: { fill: FillView; order: OrderView | undefined }) =>
      x.order === undefined
        ? { uid: x.fill.orderId, tradeable: x.fill.symbol, direction: x.fill.side === "buy" ? "Buy" : "Sell" }
        : { ...historyOrder(x.order, x.order.account), accountUid: undefined }
    const execution = {
      uid: f.fillId, makerOrder: asOrder(maker), takerOrder: asOrder(taker), timestamp: String(f.time), quantity: f.qty.toFixed(), price: f.price.toFixed(),
      markPrice: mark.toFixed(), limitFilled: false, usdValue: f.price.times(f.qty).toDecimalPlaces(2).toFixed()
    }
    const element: HistoryElement = { uid: this.uid(), timestamp: f.time, event: { Execution: { execution, takerReducedQuantity: "" } } }
    this.log(this.marketExecutions, f.symbol).push(element)
    if (booked(maker.fill.account)) this.log(this.executions, maker.fill.account).push(element)
    if (booked(taker.fill.account) && taker.fill.account !== maker.fill.account) this.log(this.executions, taker.fill.account).push(element)
    this.log(this.trades, f.symbol).push({ time: f.time, price: f.price, qty: f.qty })
  }

  onMark(symbol: string, time: number, mark: Decimal): void {
    const log = this.log(this.marks, symbol)
    const last = log.items[log.items.length - 1]
    if (last !== undefined && last.price.eq(mark) && time - last.time < 1000) return
    log.push({ time, price: mark, qty: ZERO })
  }

  /**
   * Time-weighted average of the mark over [from, to] (ms): the mark is the last sample at or
   * before each instant. Undefined when no sample is at or before `to`.
   */
  markTwap(symbol: string, from: number, to: number): Decimal | undefined {
    const samples = this.marks.get(symbol)?.items ?? []
    let sum = ZERO
    let current: Decimal | undefined
    let since = from
    for (const s of samples) {
      if (s.time > to) break
      if (s.time <= from) {
        current = s.price
        continue
      }
      if (current !== undefined) sum = sum.plus(current.times(s.time - since))
      else from = s.time
      current = s.price
      since = s.time
    }
    if (current === undefined) return undefined
    sum = sum.plus(current.times(to - since))
    return to > from ? sum.dividedBy(to - from) : current
  }

  onPositionUpdate(account: string, time: number, update: Record<string, unknown>): void {
    this.log(this.positionUpdates, account).push({ uid: this.uid(), timestamp: time, event: { PositionUpdate: { accountUid: account, timestamp: time, ...update } } })
  }

  /** Told of every new account-log row (the private `account_log` feed). */
  onLogEntry: ((account: string, row: AccountLogRow) => void) | undefined

  /** An account-log row; `row` holds the fields beyond id, date and info. */
  onAccountLog(account: string, date: number, info: AccountLogRow["info"], row: Record<string, unknown>): void {
    const id = (this.nextLogId.get(account) ?? 0) + 1
    this.nextLogId.set(account, id)
    const entry = { id, date, info, row }
    this.log(this.accountLogs, account).push(entry)
    this.onLogEntry?.(account, entry)
  }

  onFundingRate(symbol: string, time: number, fundingRate: Decimal, relativeFundingRate: Decimal): void {
    this.log(this.fundingRates, symbol).push({ time, fundingRate, relativeFundingRate })
  }

  orderEvents(account: string): ReadonlyArray<HistoryElement> {
    return this.orders.get(account)?.items ?? []
  }

  accountExecutions(account: string): ReadonlyArray<HistoryElement> {
    return this.executions.get(account)?.items ?? []
  }

  publicExecutions(symbol: string): ReadonlyArray<HistoryElement> {
    return this.marketExecutions.get(symbol)?.items ?? []
  }

  positions(account: string): ReadonlyArray<HistoryElement> {
    return this.positionUpdates.get(account)?.items ?? []
  }

  accountLog(account: string): ReadonlyArray<AccountLogRow> {
    return this.accountLogs.get(account)?.items ?? []
  }

  funding(symbol: string): ReadonlyArray<{ time: number; fundingRate: Decimal; relativeFundingRate: Decimal }> {
    return this.fundingRates.get(symbol)?.items ?? []
  }

  /**
   * OHLC candles over [from, to) seconds; `trade` candles from executions (with volume), `mark`
   * candles from mark-price samples (volume 0). Empty buckets are left out, as the venue does.
   */
  candles(kind: "trade" | "mark", symbol: string, intervalSeconds: number, fromSec: number | undefined, toSec: number | undefined): Array<Record<string, unknown>> {
    const samples = (kind === "trade" ? this.trades : this.marks).get(symbol)?.items ?? []
    const ms = intervalSeconds * 1000
    const out: Array<{ time: number; open: Decimal; high: Decimal; low: Decimal; close: Decimal; volume: Decimal }> = []
    for (const s of samples) {
      if (fromSec !== undefined && s.time < fromSec * 1000) continue
      if (toSec !== undefined && s.time >= toSec * 1000 + 1000) continue
      const bucket = Math.floor(s.time / ms) * ms
      const last = out[out.length - 1]
      if (last !== undefined && last.time === bucket) {
        if (s.price.gt(last.high)) last.high = s.price
        if (s.price.lt(last.low)) last.low = s.price
        last.close = s.price
        last.volume = last.volume.plus(s.qty)
      } else {
        out.push({ time: bucket, open: s.price, high: s.price, low: s.price, close: s.price, volume: s.qty })
      }
    }
    return out.map((c) => ({ time: c.time, open: c.open.toFixed(), high: c.high.toFixed(), low: c.low.toFixed(), close: c.close.toFixed(), volume: c.volume.toFixed() }))
  }
}
