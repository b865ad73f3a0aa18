import { Context } from "effect"
import type { Decimal } from "../../domain/decimal.js"
import type { OrderEvent, OrderCancelRequested, OrderSubmitted } from "../../domain/events/orders.js"
import type { FundingPaid } from "../../domain/events/portfolio.js"
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

/**
 * Facts about the account rather than one order: the venue's margin figures (risk's margin view),
 * the feed that carries them going away, and funding booked on a position (journaled, then the
 * portfolio). Liquidation fills are order reports (`OrderFilled` with `fillType: "liquidation"`).
 */
export type AccountFact =
  | {
      readonly _tag: "AccountMargin"
      readonly available: Decimal
      readonly initialMargin?: Decimal
      readonly maintenanceMargin?: Decimal
      readonly equity?: Decimal
    }
  | { readonly _tag: "AccountMarginStale"; readonly why: string }
  | FundingPaid

export interface VenueGatewayService {
  readonly account: AccountId
  /**
   * Sends one approved action. It never throws: a failure (venue reject, network, rate limit)
   * comes back as a report, e.g. OrderRejected or OrderCancelRejected with the venue's reason.
   */
  readonly send: (action: ApprovedAction) => void
  /** Reports for every order of the account, ours or not. Returns the unsubscribe. */
  readonly subscribe: (listener: (report: VenueReport) => void) => () => void
  /** Account facts, for venues that report them; absent: risk has no margin figure to check. */
  readonly subscribeAccount?: (listener: (fact: AccountFact) => void) => () => void
}

export class VenueGateway extends Context.Tag("troupe/VenueGateway")<VenueGateway, VenueGatewayService>() {}
