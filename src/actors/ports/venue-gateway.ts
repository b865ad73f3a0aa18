import { Context } from "effect"
import type { OrderEvent, OrderCancelRequested, OrderSubmitted } from "../../domain/events/orders.js"
import type { AccountId } from "../../domain/ids.js"
import type { ApprovedAction } from "../risk/approval.js"

/**
 * The venue gateway port: one per venue account. It accepts nothing but an `ApprovedAction`,
 * which only the risk actor can make, so there is no path to a venue around risk. Adapters:
 * Kraken Futures REST (and the simulator behind it), and the in-memory fake venue for tests
 * (`actors/venue-gateway/fake-venue.ts`).
 */

/** The venue's answers, normalized to canonical order events (what we sent is not a report). */
export type VenueReport = Exclude<OrderEvent, OrderSubmitted | OrderCancelRequested>

export interface VenueGatewayService {
  readonly account: AccountId
  /**
   * Sends one approved action. It never throws: a failure (venue reject, network, rate limit)
   * comes back as a report, e.g. OrderRejected or OrderCancelRejected with the venue's reason.
   */
  readonly send: (action: ApprovedAction) => void
  /** Reports for every order of the account, ours or not. Returns the unsubscribe. */
  readonly subscribe: (listener: (report: VenueReport) => void) => () => void
}

export class VenueGateway extends Context.Tag("troupe/VenueGateway")<VenueGateway, VenueGatewayService>() {}
