import { Either } from "effect"
import { Decimal, ZERO } from "../../domain/decimal.js"
import type { OrderFilled } from "../../domain/events/orders.js"
import type { FundingPaid, PositionChanged } from "../../domain/events/portfolio.js"
import { fillOfEvent } from "../../domain/fill.js"
import { eventIds, type IdSequences, type RunNumber } from "../../domain/event-ids.js"
import { RecentFillIds } from "../../domain/recent-fill-ids.js"
import type { AccountId, InstrumentId } from "../../domain/ids.js"
import type { Instrument } from "../../domain/instrument.js"
import { applyFill, positionFor, settlePosition, unrealizedPnl, withOpen, type Position, type PositionUnsupported } from "../../domain/position.js"
import type { ClockService } from "../clock.js"

export interface PortfolioUpdate {
  readonly instrument: InstrumentId
  /** Signed contracts after the change. */
  readonly qty: Decimal
  /** Today's realized + unrealized PnL of the account, net of fees. */
  readonly dailyPnl: Decimal
}

export interface PortfolioDeps {
  readonly account: AccountId
  readonly clock: ClockService
  readonly emit: (event: PositionChanged) => void
  /** Wired to the risk actor: positions and daily PnL feed its limits and circuit breaker. */
  readonly onChange?: (update: PortfolioUpdate) => void
  /** The daemon's run number, part of every event id (ids unique across restarts); default 0. */
  readonly run?: RunNumber
  /** Id sequences that outlive this actor (a core rebuilt in the same run continues them). */
  readonly ids?: IdSequences
  /** Fill ids remembered exactly (default PORTFOLIO_FILL_IDS); older repeats are caught by time. */
  readonly fillIdCapacity?: number
}

interface Book {
  readonly instrument: Instrument
  position: Position
  /** Venue mark if it sends one, else the book mid. */
  mark: Decimal | undefined
  venueMarked: boolean
  realizedAtDayStart: Decimal
  unrealizedAtDayStart: Decimal
  /** Funding realized on this position (+ received, − paid); not inside `position.realizedPnl`. */
  funding: Decimal
  fundingAtDayStart: Decimal
}

/** Funding booking ids remembered for dedupe (a reconnect's account-log snapshot repeats them). */
export const PORTFOLIO_FUNDING_IDS = 5_000

export interface Exposures {
  readonly gross: Decimal
  readonly net: Decimal
  readonly perInstrument: ReadonlyMap<InstrumentId, Decimal>
}

/**
 * Positions of one account, netted per instrument with the domain's exact position model
 * (average entry from the exact entry cost, realized PnL net of fees), marked from the venue's
 * mark price or else the book mid. Fills are deduplicated by fill id. Daily PnL is measured
 * from `startDay` (the daemon calls it at the venue's day boundary).
 */
export const PORTFOLIO_FILL_IDS = 5_000

export class PortfolioActor {
  private readonly books = new Map<string, Book>()
  /**
   * Fill ids counted, bounded (see RecentFillIds): the newest PORTFOLIO_FILL_IDS exactly, and any
   * fill older than all of those is a repeat. The ledger snapshot carries the newest 20 000.
   * Small on purpose: the time horizon catches older repeats, and a cap filled only after a day
   * of trading is a day of growth.
   */
  private readonly fillIds: RecentFillIds
  private readonly nextId: () => string
  duplicateFills = 0
  unknownInstrumentFills = 0

  constructor(private readonly deps: PortfolioDeps) {
    this.nextId = eventIds(`portfolio/${deps.account}`, deps.run, deps.ids)
    this.fillIds = new RecentFillIds(deps.fillIdCapacity ?? PORTFOLIO_FILL_IDS)
  }

  registerInstrument(instrument: Instrument): Either.Either<void, PositionUnsupported> {
    const p = positionFor(instrument)
    if (Either.isLeft(p)) return Either.left(p.left)
    this.books.set(instrument.id, { instrument, position: p.right, mark: undefined, venueMarked: false, realizedAtDayStart: ZERO, unrealizedAtDayStart: ZERO, funding: ZERO, fundingAtDayStart: ZERO })
    return Either.right(undefined)
  }

  /**
   * Recovery: the position rebuilt from the journal (snapshot + replay) and the fill ids it
   * already counts, so a venue that repeats those fills after a restart changes nothing.
   */
  restore(position: Position, fillIds: Iterable<string>): boolean {
    const b = this.books.get(position.instrumentId)
    if (b === undefined) return false
    b.position = position
    for (const id of fillIds) this.fillIds.add(id)
    this.changed(b)
    return true
  }

  /**
   * Reconciliation: the venue's position is the truth when ours still differs after every fill
   * was accounted for (trades made elsewhere, a venue reset). Realized PnL is kept; the open
   * quantity and its entry become the venue's. Journaled as a PositionChanged without a fill id.
   */
  adoptVenuePosition(instrument: InstrumentId, qty: Decimal, avgPrice: Decimal): boolean {
    const b = this.books.get(instrument)
    if (b === undefined) return false
    b.position = withOpen(b.position, qty, avgPrice)
    this.deps.emit({
      _tag: "PositionChanged",
      id: this.nextId(),
      ts: this.deps.clock.now(),
      source: `portfolio/${this.deps.account}`,
      account: this.deps.account,
      instrument,
      qty: b.position.quantity,
      avgPrice: b.position.avgEntryPrice,
      realizedPnl: b.position.realizedPnl
    })
    this.changed(b)
    return true
  }

  private readonly fundingIds = new Set<string>()
  duplicateFunding = 0

  /**
   * A funding payment the venue booked on this position (journaled before it gets here). Once per
   * booking id; false for a repeat or an instrument we do not carry. Emits the position with its
   * funding so far.
   */
  onFunding(e: FundingPaid): boolean {
    if (this.fundingIds.has(e.bookingId)) {
      this.duplicateFunding++
      return false
    }
    const b = this.books.get(e.instrument)
    if (b === undefined) return false
    this.rememberFunding(e.bookingId)
    b.funding = b.funding.plus(e.amount)
    const unrealized = b.mark === undefined ? undefined : unrealizedPnl(b.position, b.mark)
    this.deps.emit({
      _tag: "PositionChanged",
      id: this.nextId(),
      ts: this.deps.clock.now(),
      source: `portfolio/${this.deps.account}`,
      account: this.deps.account,
      instrument: e.instrument,
      qty: b.position.quantity,
      avgPrice: b.position.avgEntryPrice,
      realizedPnl: b.position.realizedPnl,
      funding: b.funding,
      ...(unrealized === undefined ? {} : { unrealizedPnl: unrealized })
    })
    this.changed(b)
    return true
  }

  /** Recovery: the funding the journal booked on a position. */
  restoreFunding(instrument: InstrumentId, funding: Decimal): void {
    const b = this.books.get(instrument)
    if (b !== undefined) b.funding = funding
  }

  /** Recovery: funding booking ids already counted (a venue snapshot repeats them). */
  knowFunding(bookingIds: Iterable<string>): void {
    for (const id of bookingIds) this.rememberFunding(id)
  }

  private rememberFunding(id: string): void {
    this.fundingIds.add(id)
    if (this.fundingIds.size > PORTFOLIO_FUNDING_IDS) this.fundingIds.delete(this.fundingIds.values().next().value as string)
  }

  /** Funding realized on the position so far (+ received, − paid). */
  funding(instrument: InstrumentId): Decimal {
    return this.books.get(instrument)?.funding ?? ZERO
  }

  hasFill(fillId: string, ts?: number): boolean {
    return this.fillIds.has(fillId, ts)
  }

  /** Fill ids counted so far (recovery dedupe) without a position to restore. */
  knowFills(fillIds: Iterable<string>): void {
    for (const id of fillIds) this.fillIds.add(id)
  }

  position(instrument: InstrumentId): Position | undefined {
    return this.books.get(instrument)?.position
  }

  /** Applies a fill once (by fill id); false for a duplicate or an instrument we do not carry. */
  onFill(e: OrderFilled): boolean {
    const at = e.venueTs ?? e.ts
    if (this.fillIds.has(e.fillId, at)) {
      this.duplicateFills++
      return false
    }
    const b = this.books.get(e.instrument)
    if (b === undefined) {
      this.unknownInstrumentFills++
      return false
    }
    this.fillIds.add(e.fillId, at)
    const fill = fillOfEvent(e)
    b.position = applyFill(b.position, fill)
    const unrealized = b.mark === undefined ? undefined : unrealizedPnl(b.position, b.mark)
    this.deps.emit({
      _tag: "PositionChanged",
      id: this.nextId(),
      ts: this.deps.clock.now(),
      source: `portfolio/${this.deps.account}`,
      account: this.deps.account,
      instrument: e.instrument,
      qty: b.position.quantity,
      avgPrice: b.position.avgEntryPrice,
      realizedPnl: b.position.realizedPnl,
      fillId: e.fillId,
      ...(b.funding.isZero() ? {} : { funding: b.funding }),
      ...(unrealized === undefined ? {} : { unrealizedPnl: unrealized })
    })
    this.changed(b)
    return true
  }

  /**
   * A dated contract settled by the venue at `price` (booking `settlementId`, deduplicated like a
   * fill id): the open quantity is closed at the settlement price, its PnL realized, and the change
   * journaled as a PositionChanged carrying the settlement id and price (the fold does the same).
   * False for a repeat or an instrument we do not carry.
   */
  onSettlement(instrument: InstrumentId, settlementId: string, price: Decimal, venueTs?: number): boolean {
    if (this.fillIds.has(settlementId, venueTs)) {
      this.duplicateFills++
      return false
    }
    const b = this.books.get(instrument)
    if (b === undefined) return false
    this.fillIds.add(settlementId, venueTs)
    b.position = settlePosition(b.position, price)
    this.deps.emit({
      _tag: "PositionChanged",
      id: this.nextId(),
      ts: this.deps.clock.now(),
      source: `portfolio/${this.deps.account}`,
      account: this.deps.account,
      instrument,
      qty: b.position.quantity,
      avgPrice: b.position.avgEntryPrice,
      realizedPnl: b.position.realizedPnl,
      unrealizedPnl: ZERO,
      settlementId,
      settlementPrice: price
    })
    this.changed(b)
    return true
  }

  /** Top of book: marks the instrument at the mid unless the venue sends a mark price. */
  onBook(instrument: InstrumentId, bestBid: Decimal | undefined, bestAsk: Decimal | undefined): void {
    const b = this.books.get(instrument)
    if (b === undefined || b.venueMarked || bestBid === undefined || bestAsk === undefined) return
    b.mark = bestBid.plus(bestAsk).dividedBy(2)
    this.changed(b)
  }

  onMark(instrument: InstrumentId, mark: Decimal): void {
    const b = this.books.get(instrument)
    if (b === undefined) return
    b.venueMarked = true
    b.mark = mark
    this.changed(b)
  }

  unrealized(instrument: InstrumentId): Decimal {
    const b = this.books.get(instrument)
    return b === undefined || b.mark === undefined ? ZERO : unrealizedPnl(b.position, b.mark)
  }

  /**
   * Realized (net of fees) and funding since the day started plus the change in unrealized since
   * then, in the quote currency: an inverse contract's base-currency PnL is valued at its mark (0 unmarked).
   */
  dailyPnl(): Decimal {
    let pnl = ZERO
    for (const b of this.books.values()) {
      const u = b.mark === undefined ? ZERO : unrealizedPnl(b.position, b.mark)
      const change = b.position.realizedPnl.minus(b.realizedAtDayStart).plus(u.minus(b.unrealizedAtDayStart)).plus(b.funding.minus(b.fundingAtDayStart))
      pnl = pnl.plus(b.position.inverse === true ? (b.mark === undefined ? ZERO : change.times(b.mark)) : change)
    }
    return pnl
  }

  startDay(): void {
    for (const b of this.books.values()) {
      b.fundingAtDayStart = b.funding
      b.realizedAtDayStart = b.position.realizedPnl
      b.unrealizedAtDayStart = b.mark === undefined ? ZERO : unrealizedPnl(b.position, b.mark)
    }
  }

  /**
   * Gross Σ|qty × contractSize × mark|, net Σ qty × contractSize × mark, in the quote currency;
   * inverse contracts count qty × contractSize (their USD value); unmarked linear ones count 0.
   */
  exposures(): Exposures {
    let gross = ZERO
    let net = ZERO
    const perInstrument = new Map<InstrumentId, Decimal>()
    for (const b of this.books.values()) {
      const e =
        b.position.inverse === true
          ? b.position.quantity.times(b.instrument.contractSize)
          : b.mark === undefined
            ? ZERO
            : b.position.quantity.times(b.instrument.contractSize).times(b.mark)
      perInstrument.set(b.instrument.id, e)
      gross = gross.plus(e.abs())
      net = net.plus(e)
    }
    return { gross, net, perInstrument }
  }

  /**
   * Each instrument's signed value (as `exposures`) and mark, for the portfolio risk monitor
   * (daemon/portfolio-risk): a read, nothing changes.
   */
  riskView(): ReadonlyArray<{ readonly instrument: Instrument; readonly value: Decimal; readonly mark: Decimal | undefined }> {
    const out: Array<{ readonly instrument: Instrument; readonly value: Decimal; readonly mark: Decimal | undefined }> = []
    for (const b of this.books.values()) {
      const q = b.position.quantity.times(b.instrument.contractSize)
      out.push({ instrument: b.instrument, value: b.position.inverse === true ? q : b.mark === undefined ? ZERO : q.times(b.mark), mark: b.mark })
    }
    return out
  }

  private changed(b: Book): void {
    this.deps.onChange?.({ instrument: b.instrument.id, qty: b.position.quantity, dailyPnl: this.dailyPnl() })
  }
}
