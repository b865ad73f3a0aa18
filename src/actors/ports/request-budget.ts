import { Context, Data } from "effect"
import type { VenueCall } from "../../domain/events/venue.js"

/**
 * The read side of the venue's rate budget. Writes (submit, modify, cancel, cancel-all, the dead
 * man's switch) are paid for by risk's approval (`ApprovedAction`); every other private request —
 * reads by the gateway's reconciliation of an unknown outcome, the restart reconciliation, fill
 * paging — reserves its cost here before it is sent. The account's risk actor owns the budget and
 * is the only implementation, so no request reaches the venue without being billed.
 */
export type VenueRead = Extract<VenueCall, "openorders" | "openpositions" | "fills" | "fillsBefore" | "orderStatus" | "account" | "depthSnapshot" | "exchangeInfo" | "listenKey">

/** The budget is gone (the account's trading core stopped): the read must not be sent. */
export class RequestBudgetClosed extends Data.TaggedError("RequestBudgetClosed")<{ readonly call: VenueRead }> {
  override get message(): string {
    return `the rate budget is closed: ${this.call} not sent`
  }
}

export interface RequestBudgetService {
  /**
   * Resolves once `call`'s cost is reserved from the account's budget; the caller sends the
   * request at once. When it does not fit, it waits — first come first served, never over the
   * budget, and never into the reserve kept for cancels. Rejects only with `RequestBudgetClosed`.
   */
  readonly reserve: (call: VenueRead) => Promise<void>
}

export class RequestBudget extends Context.Tag("troupe/RequestBudget")<RequestBudget, RequestBudgetService>() {}
