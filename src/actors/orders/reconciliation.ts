import type { AccountId, ClientOrderId, InstrumentId } from "../../domain/ids.js"
import type { VenueReport } from "../ports/venue-gateway.js"

/**
 * A venue fact we cannot place on one of our live orders (an order placed elsewhere, one we
 * forgot after a restart, a fill beyond the order's size). Never a crash: it is recorded for
 * reconciliation (audit kind `reconciliation`). There is no canonical Schema for it yet; until
 * there is, it is journaled by the host as this plain record.
 */
export interface ReconciliationEvent {
  readonly _tag: "ReconciliationNeeded"
  readonly id: string
  readonly ts: number
  readonly source: string
  readonly account: AccountId
  readonly instrument: InstrumentId
  readonly clientOrderId: ClientOrderId
  readonly kind: "externalOrder" | "overfill"
  readonly report: VenueReport
}
