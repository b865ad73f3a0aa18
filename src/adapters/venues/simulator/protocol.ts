import { isDecimal, type Decimal } from "../../../domain/decimal.js"
import type { FillView, OrderEvent, OrderView, PositionView } from "./engine-types.js"

/**
 * Kraken Futures wire shapes for the engine's views, and a JSON writer that prints a `Decimal`
 * as a JSON number from its exact decimal text (JSON.stringify would go through a float).
 */
export const toJson = (value: unknown): string => {
  if (value === null || value === undefined) return "null"
  if (isDecimal(value)) return (value as Decimal).toFixed()
  if (Array.isArray(value)) return `[${value.map((v: unknown) => toJson(v)).join(",")}]`
  if (typeof value === "object") {
    const parts: string[] = []
    for (const [k, v] of Object.entries(value)) {
      if (v !== undefined) parts.push(`${JSON.stringify(k)}:${toJson(v)}`)
    }
    return `{${parts.join(",")}}`
  }
  return JSON.stringify(value)
}

export const isoTime = (ms: number): string => new Date(ms).toISOString()

type Json = Record<string, unknown>

/** An order inside a REST reply's `orderEvents`. */
export const restEventOrder = (o: OrderView): Json => ({
  orderId: o.orderId,
  cliOrdId: o.cliOrdId ?? null,
  type: o.type,
  symbol: o.symbol,
  side: o.side,
  quantity: o.size,
  filled: o.filled,
  limitPrice: o.limitPrice ?? null,
  stopPrice: o.stopPrice,
  reduceOnly: o.reduceOnly,
  timestamp: isoTime(o.receivedTime),
  lastUpdateTimestamp: isoTime(o.lastUpdateTime)
})

export const restOrderEvent = (e: OrderEvent, uid: string): Json => {
  switch (e.type) {
    case "PLACE":
      return { type: "PLACE", order: restEventOrder(e.order), reducedQuantity: null }
    case "EXECUTION":
      return {
        type: "EXECUTION", executionId: e.executionId, price: e.price, amount: e.amount, orderPriorEdit: null,
        orderPriorExecution: restEventOrder(e.orderPriorExecution), takerReducedQuantity: e.takerReducedQuantity ?? ""
      }
    case "REJECT":
      return { type: "REJECT", uid, order: restEventOrder(e.order), reason: e.reason }
    case "CANCEL":
      return { type: "CANCEL", uid, order: restEventOrder(e.order) }
    case "EDIT":
      return { type: "EDIT", old: restEventOrder(e.old), new: restEventOrder(e.new), reducedQuantity: null }
  }
}

/** An entry of `GET openorders`. */
export const restOpenOrder = (o: OrderView): Json => ({
  order_id: o.orderId,
  cliOrdId: o.cliOrdId,
  symbol: o.symbol,
  side: o.side,
  orderType: o.type === "stp" ? "stop" : o.type,
  limitPrice: o.limitPrice,
  stopPrice: o.stopPrice,
  unfilledSize: o.size.minus(o.filled),
  filledSize: o.filled,
  receivedTime: isoTime(o.receivedTime),
  lastUpdateTime: isoTime(o.lastUpdateTime),
  status: o.state === "untriggered" ? "untouched" : o.filled.isZero() ? "untouched" : "partiallyFilled",
  reduceOnly: o.reduceOnly,
  triggerSignal: o.type === "stp" ? "last" : undefined
})

/** An entry of `GET fills`. */
export const restFill = (f: FillView): Json => ({
  fill_id: f.fillId,
  symbol: f.symbol,
  side: f.side,
  order_id: f.orderId,
  cliOrdId: f.cliOrdId,
  size: f.qty,
  price: f.price,
  fillTime: isoTime(f.time),
  fillType: f.liquidity
})

/** An entry of `GET openpositions` (flat positions are not listed). */
export const restPosition = (p: PositionView): Json => ({
  side: p.balance.isNeg() ? "short" : "long",
  symbol: p.symbol,
  price: p.entryPrice,
  fillTime: isoTime(p.lastFillTime),
  size: p.balance.abs(),
  unrealizedFunding: 0,
  pnlCurrency: "USD"
})

/** An order in the private `open_orders` feed (`direction` 0 = buy, 1 = sell). */
export const wsOrder = (o: OrderView): Json => ({
  instrument: o.symbol,
  time: o.receivedTime,
  last_update_time: o.lastUpdateTime,
  qty: o.size,
  filled: o.filled,
  limit_price: o.limitPrice ?? 0,
  stop_price: o.stopPrice ?? 0,
  type: o.state === "untriggered" ? "stop" : "limit",
  order_id: o.orderId,
  cli_ord_id: o.cliOrdId,
  direction: o.side === "buy" ? 0 : 1,
  reduce_only: o.reduceOnly,
  trigger_signal: o.type === "stp" ? "last_price" : undefined
})

export const wsFill = (f: FillView): Json => ({
  instrument: f.symbol,
  time: f.time,
  price: f.price,
  seq: f.seq,
  buy: f.side === "buy",
  qty: f.qty,
  remaining_order_qty: f.remainingOrderQty,
  order_id: f.orderId,
  cli_ord_id: f.cliOrdId,
  fill_id: f.fillId,
  fill_type: f.liquidity,
  fee_paid: f.fee,
  fee_currency: f.feeCurrency,
  taker_order_type: f.orderType,
  order_type: f.orderType
})

export const wsPosition = (p: PositionView, mark: Decimal | undefined): Json => ({
  instrument: p.symbol,
  balance: p.balance,
  pnl: mark === undefined || p.balance.isZero() ? 0 : mark.minus(p.entryPrice).times(p.balance),
  entry_price: p.entryPrice,
  mark_price: mark ?? p.entryPrice,
  index_price: mark ?? p.entryPrice,
  liquidation_threshold: 0,
  effective_leverage: 0,
  return_on_equity: 0
})
