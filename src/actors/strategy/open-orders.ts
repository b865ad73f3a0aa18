import type { Decimal } from "../../domain/decimal.js"
import { ZERO } from "../../domain/decimal.js"
import type { OrderEvent } from "../../domain/events/orders.js"
import type { ClientOrderId, InstrumentId } from "../../domain/ids.js"
import { limitPriceOf, type OrderType } from "../../domain/order.js"
import type { OpenOrder, OpenOrderStatus, OrderChange } from "../../strategies/ports.js"

interface Tracked {
  clientOrderId: ClientOrderId
  instrument: InstrumentId
  side: OpenOrder["side"]
  type: OrderType
  qty: Decimal
  filledQty: Decimal
  reduceOnly: boolean
  status: OpenOrderStatus
  /** What a refused modify or cancel restores. */
  before: { readonly type: OrderType; readonly qty: Decimal; readonly status: OpenOrderStatus } | undefined
}

const withPrices = (type: OrderType, change: OrderChange): OrderType => {
  switch (type._tag) {
    case "market":
      return type
    case "limit":
    case "postOnly":
    case "ioc":
    case "fok":
      return change.price === undefined ? type : { ...type, price: change.price }
    case "stop":
    case "takeProfit":
      return {
        ...type,
        ...(change.triggerPrice === undefined ? {} : { triggerPrice: change.triggerPrice }),
        ...(change.price === undefined ? {} : { limitPrice: change.price })
      }
  }
}

const view = (t: Tracked): OpenOrder => ({
  clientOrderId: t.clientOrderId,
  instrument: t.instrument,
  side: t.side,
  type: t.type,
  price: limitPriceOf(t.type),
  qty: t.qty,
  filledQty: t.filledQty,
  reduceOnly: t.reduceOnly,
  status: t.status
})

/**
 * One strategy's live orders as the strategy should see them: optimistic about its own requests
 * (a modify shows the new price at once) and corrected by risk decisions and venue events.
 * It is bookkeeping for the strategy's decisions, not the order of record (that is the order actor).
 */
export class OpenOrders {
  private readonly orders = new Map<ClientOrderId, Tracked>()

  has(id: ClientOrderId): boolean {
    return this.orders.has(id)
  }

  list(instrument?: InstrumentId): ReadonlyArray<OpenOrder> {
    const out: OpenOrder[] = []
    for (const t of this.orders.values()) if (instrument === undefined || t.instrument === instrument) out.push(view(t))
    return out
  }

  get size(): number {
    return this.orders.size
  }

  submitted(o: { clientOrderId: ClientOrderId; instrument: InstrumentId; side: OpenOrder["side"]; type: OrderType; qty: Decimal; reduceOnly: boolean }): void {
    this.orders.set(o.clientOrderId, { ...o, filledQty: ZERO, status: "pendingNew", before: undefined })
  }

  /** False when the order is unknown or already being canceled. */
  modifyRequested(id: ClientOrderId, change: OrderChange): OpenOrder | undefined {
    const t = this.orders.get(id)
    if (t === undefined || t.status === "pendingCancel") return undefined
    t.before = { type: t.type, qty: t.qty, status: t.status }
    t.type = withPrices(t.type, change)
    if (change.qty !== undefined) t.qty = change.qty
    t.status = "pendingModify"
    return view(t)
  }

  cancelRequested(id: ClientOrderId): OpenOrder | undefined {
    const t = this.orders.get(id)
    if (t === undefined || t.status === "pendingCancel") return undefined
    t.before = { type: t.type, qty: t.qty, status: t.status }
    t.status = "pendingCancel"
    return view(t)
  }

  /** Risk refused (or never saw) an intent about this order. */
  denied(intent: "SubmitOrder" | "ModifyOrder" | "CancelOrder" | "CancelAll", id: ClientOrderId): void {
    const t = this.orders.get(id)
    if (t === undefined) return
    if (intent === "SubmitOrder") {
      this.orders.delete(id)
      return
    }
    this.restore(t)
  }

  /** Applies a venue fact; returns whether the order was one of ours. */
  apply(e: OrderEvent): boolean {
    const t = this.orders.get(e.clientOrderId)
    if (t === undefined) return false
    switch (e._tag) {
      case "OrderSubmitted":
        break
      case "OrderAccepted":
        if (t.status === "pendingNew") t.status = "open"
        break
      case "OrderModified":
        t.type = withPrices(t.type, { ...(e.price === undefined ? {} : { price: e.price }), ...(e.triggerPrice === undefined ? {} : { triggerPrice: e.triggerPrice }) })
        if (e.qty !== undefined) t.qty = e.qty
        if (t.status === "pendingModify") t.status = "open"
        t.before = undefined
        break
      case "OrderModifyRejected":
      case "OrderCancelRejected":
        this.restore(t)
        break
      case "OrderCancelRequested":
        t.status = "pendingCancel"
        break
      case "OrderRejected":
      case "OrderCanceled":
      case "OrderExpired":
        this.orders.delete(t.clientOrderId)
        break
      case "OrderFilled":
        t.filledQty = t.filledQty.plus(e.qty)
        if (t.status === "pendingNew") t.status = "open"
        if (t.filledQty.greaterThanOrEqualTo(t.qty)) this.orders.delete(t.clientOrderId)
        break
    }
    return true
  }

  private restore(t: Tracked): void {
    if (t.before === undefined) return
    t.type = t.before.type
    t.qty = t.before.qty
    t.status = t.before.status
    t.before = undefined
  }
}
