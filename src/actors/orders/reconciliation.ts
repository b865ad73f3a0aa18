import type { ReconciliationNeeded } from "../../domain/events/reconciliation.js"

/**
 * A venue fact we cannot place on one of our live orders (an order placed elsewhere, one we
 * forgot after a restart, a fill beyond the order's size). Never a crash: it is journaled as the
 * canonical `ReconciliationNeeded` and audited (kind `reconciliation`).
 */
export type ReconciliationEvent = ReconciliationNeeded
