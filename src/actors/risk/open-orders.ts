import type { OrderEvent } from "../../domain/events/orders.js"
import type { Side } from "../../domain/order.js"
import type { OrderType } from "../../domain/schema.js"
import { isRestingType, lotsOf, ticksOf } from "./checks.js"
import { refreshExposure, type AccountRisk, type InstrumentRisk } from "./limits.js"
import { NOT_EXACT } from "./scaled.js"

/** Our view of one open order: what it can still add to the position, and where it rests. */
export interface OpenOrder {
  readonly clientOrderId: string
  readonly r: InstrumentRisk
  readonly side: Side
  readonly strategy: string
  readonly orderType: OrderType
  qtyLots: number
  filledLots: number
  /** Limit price in ticks, -1 for none. */
  priceTicks: number
  triggerTicks: number
  /** A modify in flight: counted as well as the current values until the venue answers. */
  pendingQtyLots: number
  pendingPriceTicks: number
}

/** What the order can still add to the position: the larger of its current and pending size, less fills. */
export const leavesOf = (o: OpenOrder): number => Math.max(0, Math.max(o.qtyLots, o.pendingQtyLots) - o.filledLots)

/**
 * The account's open orders as risk counts them, and the aggregates they feed (open buy/sell
 * lots and own resting prices per instrument, the open-order count, exposure sums). An order
 * counts from its approval until the venue says it is done; a modify counts both the old and
 * the new values until it is confirmed or rejected — always the pessimistic view.
 */
export class OpenOrders {
  private readonly orders = new Map<string, OpenOrder>()

  constructor(private readonly acct: AccountRisk) {}

  get(clientOrderId: string): OpenOrder | undefined {
    return this.orders.get(clientOrderId)
  }

  open(o: OpenOrder): void {
    this.orders.set(o.clientOrderId, o)
    this.acct.openOrders++
    this.add(o)
  }

  /** A modify was approved: count its new size and price as well until the venue answers. */
  beginModify(o: OpenOrder, lots: number | undefined, ticks: number | undefined): void {
    this.remove(o)
    if (lots !== undefined) o.pendingQtyLots = lots
    if (ticks !== undefined && ticks !== o.priceTicks) o.pendingPriceTicks = ticks
    this.add(o)
  }

  apply(e: OrderEvent): void {
    const o = this.orders.get(e.clientOrderId)
    if (o === undefined) return
    switch (e._tag) {
      case "OrderFilled": {
        const lots = lotsOf(o.r, e.qty)
        if (lots === NOT_EXACT) return
        this.remove(o)
        o.filledLots += lots
        this.keepOrClose(o)
        return
      }
      case "OrderRejected":
      case "OrderCanceled":
      case "OrderExpired":
        this.remove(o)
        this.forget(o)
        return
      case "OrderModified": {
        this.remove(o)
        if (e.qty !== undefined) {
          const lots = lotsOf(o.r, e.qty)
          if (lots !== NOT_EXACT) o.qtyLots = lots
        }
        if (e.price !== undefined) {
          const ticks = ticksOf(o.r, e.price)
          if (ticks !== NOT_EXACT) o.priceTicks = ticks
        }
        o.pendingQtyLots = -1
        o.pendingPriceTicks = -1
        this.keepOrClose(o)
        return
      }
      case "OrderModifyRejected":
        this.remove(o)
        o.pendingQtyLots = -1
        o.pendingPriceTicks = -1
        this.add(o)
        return
      default:
        return
    }
  }

  // The venue closes an order once its confirmed quantity is filled.
  private keepOrClose(o: OpenOrder): void {
    if (o.filledLots >= o.qtyLots && o.pendingQtyLots < 0) this.forget(o)
    else this.add(o)
  }

  private forget(o: OpenOrder): void {
    this.orders.delete(o.clientOrderId)
    this.acct.openOrders--
  }

  /** Adds the order's leaves and resting prices to the aggregates (the inverse of remove). */
  private add(o: OpenOrder): void {
    const r = o.r
    const leaves = leavesOf(o)
    if (o.side === "buy") r.openBuyLots += leaves
    else r.openSellLots += leaves
    if (isRestingType(o.orderType) && leaves > 0) {
      const levels = o.side === "buy" ? r.ownBids : r.ownAsks
      if (o.priceTicks > 0) levels.add(o.priceTicks)
      if (o.pendingPriceTicks > 0) levels.add(o.pendingPriceTicks)
    }
    refreshExposure(this.acct, r)
  }

  private remove(o: OpenOrder): void {
    const r = o.r
    const leaves = leavesOf(o)
    if (o.side === "buy") r.openBuyLots -= leaves
    else r.openSellLots -= leaves
    if (isRestingType(o.orderType) && leaves > 0) {
      const levels = o.side === "buy" ? r.ownBids : r.ownAsks
      if (o.priceTicks > 0) levels.remove(o.priceTicks)
      if (o.pendingPriceTicks > 0) levels.remove(o.pendingPriceTicks)
    }
    refreshExposure(this.acct, r)
  }
}
