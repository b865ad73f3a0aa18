import type { JournalOffset } from "../actors/ports/journal.js"
import type { OrderChange, OrderRow } from "../actors/ports/store.js"
import type { CanonicalEvent } from "../domain/events/index.js"

/**
 * The `orders` table as a fold of the journal (one row per order we sent, its latest state):
 * `OrderSubmitted` writes the row, each later order event is a change applied to it in the store
 * (guarded by journal offset, see `OrderChange`). Reports for orders without a row — placed
 * elsewhere, or fills the venue replays for orders we never sent — make no row.
 */
export type OrderProjection = { readonly _tag: "row"; readonly row: OrderRow } | { readonly _tag: "change"; readonly change: OrderChange }

export const orderProjectionOf = (e: CanonicalEvent, source: JournalOffset): OrderProjection | undefined => {
  switch (e._tag) {
    case "OrderSubmitted":
      return {
        _tag: "row",
        row: {
          account: e.account,
          clientOrderId: e.clientOrderId,
          venueOrderId: null,
          instrument: e.instrument,
          strategy: e.strategy,
          side: e.side,
          orderType: e.orderType,
          quantity: e.qty.toString(),
          price: (e.price ?? e.triggerPrice)?.toString() ?? null,
          filledQuantity: "0",
          avgFillPrice: null,
          status: "submitted",
          updatedAt: e.ts,
          source
        }
      }
    case "OrderAccepted":
      return status(e, source, "accepted", e.venueOrderId)
    case "OrderCancelRequested":
      return status(e, source, "pendingCancel", e.venueOrderId ?? null)
    case "OrderCancelRejected":
      return status(e, source, "reopened", null)
    case "OrderRejected":
      return status(e, source, "rejected", null)
    case "OrderCanceled":
      return status(e, source, "canceled", e.venueOrderId ?? null)
    case "OrderExpired":
      return status(e, source, "expired", e.venueOrderId ?? null)
    case "OrderFilled":
      return change(e, source, { kind: "fill", quantity: e.qty.toString(), price: e.price.toString(), venueOrderId: e.venueOrderId })
    case "OrderModified":
      return change(e, source, { kind: "modified", quantity: e.qty?.toString() ?? null, price: (e.price ?? e.triggerPrice)?.toString() ?? null })
    default:
      return undefined
  }
}

type Ref = { readonly account: string; readonly clientOrderId: string; readonly ts: number }
type Change = OrderChange extends infer C ? (C extends OrderChange ? Omit<C, "account" | "clientOrderId" | "updatedAt" | "source"> : never) : never

const change = (e: Ref, source: JournalOffset, c: Change): OrderProjection =>
  ({ _tag: "change", change: { ...c, account: e.account, clientOrderId: e.clientOrderId, updatedAt: e.ts, source } as OrderChange })

const status = (e: Ref, source: JournalOffset, s: Extract<OrderChange, { kind: "status" }>["status"], venueOrderId: string | null): OrderProjection =>
  change(e, source, { kind: "status", status: s, venueOrderId })
