import { Schema } from "effect"
import { AccountId, ClientOrderId, InstrumentId } from "../schema.js"
import { envelope } from "./envelope.js"
import { OrderAccepted, OrderCanceled, OrderCancelRejected, OrderExpired, OrderFilled, OrderModified, OrderModifyRejected, OrderRejected } from "./orders.js"

/**
 * A venue report the order manager could not place on one of our live orders: an order placed
 * elsewhere or forgotten (`externalOrder`), or a fill beyond the order's size (`overfill`).
 * Journaled (topic `orders`) and audited as `reconciliation`, with the report that caused it.
 * The report itself is journaled too (a fill still moves the position).
 */
export const ReconciliationNeeded = Schema.TaggedStruct("ReconciliationNeeded", {
  ...envelope,
  account: AccountId,
  instrument: InstrumentId,
  clientOrderId: ClientOrderId,
  kind: Schema.Literal("externalOrder", "overfill"),
  report: Schema.Union(OrderAccepted, OrderRejected, OrderModified, OrderModifyRejected, OrderCanceled, OrderCancelRejected, OrderExpired, OrderFilled)
})
export type ReconciliationNeeded = typeof ReconciliationNeeded.Type
