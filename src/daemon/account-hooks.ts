import type { JournalService } from "../actors/ports/journal.js"
import type { MarketDataService } from "../actors/ports/market-data.js"
import type { VenueGatewayService } from "../actors/ports/venue-gateway.js"

/** What the daemon needs of a market-data port besides the port: its life and its counters. */
export interface MarketDataPortLike extends MarketDataService {
  readonly start: () => void
  readonly stop: () => Promise<void>
  readonly counters: () => { readonly frames: number; readonly badFrames: number; readonly resyncs: number }
}

/**
 * How a cluster's trading node (src/cluster/) runs one account through the daemon's own
 * composition: books from the cluster's market-data topic instead of the venue, and every venue
 * request and journal append of the account behind its ownership fence. Absent on `--role all`,
 * where the daemon behaves exactly as without it.
 */
export interface AccountHooks {
  readonly marketData: () => MarketDataPortLike
  /** Wraps the venue gateway below the write-ahead rule: every send passes through it. */
  readonly gateway: (inner: VenueGatewayService) => VenueGatewayService
  /** Wraps the journal: every append passes through it. */
  readonly journal: (inner: JournalService) => JournalService
}
