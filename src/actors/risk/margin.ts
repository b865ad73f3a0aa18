import { Decimal, ZERO } from "../../domain/decimal.js"
import type { OrderEvent } from "../../domain/events/orders.js"

/**
 * Risk's view of the account's available margin, so an order the venue would refuse for margin
 * (`insufficientAvailableFunds` on Kraken) is denied here first, with the numbers.
 *
 * Source of truth: the venue's own figure (`available_margin` of the private `balances` feed,
 * `availableMargin` of REST `accounts`), which already counts the venue's positions, open orders
 * and unrealized PnL. What the venue cannot know yet is ours: every order risk approves reserves
 * its initial margin here until a venue figure that includes it arrives. A reservation is
 *   - dropped when the order is rejected, or ends without a fill (it never used margin), and
 *   - dropped by the first venue figure that arrives after the order's first venue answer
 *     (accepted, filled or canceled after a fill): from then on the venue's figure counts it.
 * Until then the order is counted twice at worst (conservative), never zero times — except in one
 * window: a venue figure computed before the order reached the venue but delivered after its
 * answer (REST reply and feed race) releases it one figure early. The venue's own check is the
 * backstop there (a reject, not a loss).
 *
 * Staleness: the figure is as fresh as the venue's last `balances` frame. The venue sends one on
 * every position change and on subscribe (so after every reconnect); between two, a mark move
 * changes the venue's available by the unrealized PnL without telling us: risk's figure may lag
 * the venue by the PnL of the mark moves since the last fill. While the feed is down the view is
 * stale, and stale counts as unknown.
 *
 * Unknown (no figure yet, or stale): policy `deny` (default) denies orders that add risk with
 * `MARGIN_UNKNOWN`; `allow` lets them through to the venue's own check. Orders that only reduce
 * the position are never denied for margin.
 */
export type MarginWhenUnknown = "deny" | "allow"

export interface MarginPolicy {
  readonly whenUnknown: MarginWhenUnknown
}

export interface VenueMargin {
  /** Available margin in the account's margin currency (USD for Kraken's flex account). */
  readonly available: Decimal
  readonly initialMargin?: Decimal
  readonly maintenanceMargin?: Decimal
  readonly equity?: Decimal
  /** When it was received (injected clock, ms). */
  readonly at: number
}

interface Reservation {
  readonly margin: Decimal
  /** The venue answered for this order: the next venue figure includes it. */
  answered: boolean
  filled: boolean
}

export class MarginView {
  private venue: VenueMargin | undefined
  private staleWhy: string | undefined
  private readonly reserved = new Map<string, Reservation>()
  private reservedSum: Decimal = ZERO

  constructor(readonly policy: MarginPolicy) {}

  /** A fresh venue figure: it counts every order the venue has answered for. */
  onVenue(m: VenueMargin): void {
    for (const [cid, r] of this.reserved) if (r.answered) this.release(cid, r)
    this.venue = m
    this.staleWhy = undefined
  }

  /** The source went away (feed disconnected): unknown until the next figure. */
  onStale(why: string): void {
    if (this.venue !== undefined) this.staleWhy = why
  }

  reserve(clientOrderId: string, margin: Decimal): void {
    if (margin.isZero() || this.reserved.has(clientOrderId)) return
    this.reserved.set(clientOrderId, { margin, answered: false, filled: false })
    this.reservedSum = this.reservedSum.plus(margin)
  }

  onOrderEvent(e: OrderEvent): void {
    const r = this.reserved.get(e.clientOrderId)
    if (r === undefined) return
    switch (e._tag) {
      case "OrderRejected":
        return this.release(e.clientOrderId, r)
      case "OrderCanceled":
      case "OrderExpired":
        if (!r.filled) return this.release(e.clientOrderId, r)
        r.answered = true
        return
      case "OrderFilled":
        r.filled = true
        r.answered = true
        return
      case "OrderAccepted":
        r.answered = true
        return
      default:
        return
    }
  }

  private release(cid: string, r: Reservation): void {
    this.reserved.delete(cid)
    this.reservedSum = this.reservedSum.minus(r.margin)
  }

  /** Why the figure cannot be used, or undefined when it can. */
  unknownWhy(): string | undefined {
    if (this.venue === undefined) return "the venue has not reported the account's available margin yet"
    if (this.staleWhy !== undefined) return `the venue's margin figure is stale (${this.staleWhy})`
    return undefined
  }

  /** The venue's available margin less the margin of our orders it does not count yet. */
  available(): Decimal | undefined {
    return this.venue === undefined ? undefined : this.venue.available.minus(this.reservedSum)
  }

  /** The last venue figure (for the control API and tests). */
  lastVenue(): VenueMargin | undefined {
    return this.venue
  }

  get reservations(): number {
    return this.reserved.size
  }
}

/** Initial margin of an order: qty × contractSize × price × rate. */
export const initialMarginOf = (qty: Decimal, contractSize: Decimal, price: Decimal, rate: Decimal): Decimal => qty.times(contractSize).times(price).times(rate)
