import { Effect } from "effect"
import type { KrakenRestClient } from "../adapters/venues/kraken-futures/index.js"
import { Decimal, ZERO } from "../domain/decimal.js"
import type { InstrumentId } from "../domain/ids.js"
import type { Instrument } from "../domain/instrument.js"
import type { TradingNode } from "./trading-node.js"

/**
 * A position that still differs from the venue's after reconciliation: ours, the venue's, and the
 * venue fills seen while reconciling that bear on it (imported ones did not close the gap;
 * unattributed ones — no client order id — may be what explains it). Shown by `status` and the
 * inspector while the account is reduce-only for it.
 */
export interface PositionMismatch {
  readonly instrument: string
  readonly ours: string
  readonly venue: string
  /** venue − ours. */
  readonly difference: string
  readonly fills: ReadonlyArray<MismatchFill>
  readonly detectedAt: number
}

export interface MismatchFill {
  readonly fillId: string
  readonly side: "buy" | "sell"
  readonly qty: string
  readonly price: string
  readonly clientOrderId: string | null
  /** Imported into our ledger while reconciling (`missed`), or left out (`unattributed`: no client order id). */
  readonly status: "missed" | "unattributed"
}

/** The mismatches of one account, from reconciliation until an operator accepts the venue's side. */
export class PositionMismatches {
  private current: ReadonlyArray<PositionMismatch> = []

  get list(): ReadonlyArray<PositionMismatch> {
    return this.current
  }

  set(mismatches: ReadonlyArray<PositionMismatch>): void {
    this.current = mismatches
  }

  clear(): void {
    this.current = []
  }
}

const venueQty = (p: { readonly side: string; readonly size: Decimal } | undefined): Decimal => (p === undefined ? ZERO : p.side === "short" ? p.size.negated() : p.size)

/**
 * `troupe reconcile accept`: reads the venue's positions NOW (ours may have moved by reduce-only
 * trading since) and adopts them where they differ — a `PositionChanged` without a fill id, as
 * the adopt-venue policy does. Returns what was adopted.
 */
export const adoptVenuePositions = (
  deps: { readonly rest: KrakenRestClient; readonly trading: TradingNode; readonly instruments: ReadonlyArray<Instrument> }
): Effect.Effect<ReadonlyArray<{ readonly instrument: string; readonly from: string; readonly to: string }>, unknown> =>
  Effect.gen(function* () {
    const positions = yield* deps.rest.openPositions()
    const adopted: Array<{ instrument: string; from: string; to: string }> = []
    for (const instrument of deps.instruments) {
      const p = positions.find((x) => x.symbol === instrument.symbol)
      const venue = venueQty(p)
      const ours = deps.trading.portfolio.position(instrument.id)?.quantity ?? ZERO
      if (venue.equals(ours)) continue
      deps.trading.portfolio.adoptVenuePosition(instrument.id as InstrumentId, new Decimal(venue), p?.price ?? ZERO)
      adopted.push({ instrument: instrument.id, from: ours.toString(), to: venue.toString() })
    }
    return adopted
  })
