import { Effect } from "effect"
import type { ClockService } from "../actors/clock.js"
import type { RequestBudgetService, VenueRead } from "../actors/ports/request-budget.js"
import type { KrakenRestClient } from "../adapters/venues/kraken-futures/index.js"
import { Decimal, ZERO } from "../domain/decimal.js"
import type { OrderCanceled, OrderFilled, OrderRejected } from "../domain/events/orders.js"
import type { CancelOrder } from "../domain/events/intents.js"
import type { AccountId, ClientOrderId, InstrumentId } from "../domain/ids.js"
import type { Instrument } from "../domain/instrument.js"
import type { TradingLedger } from "../domain/ledger.js"
import type { PositionMismatch } from "./position-mismatch.js"
import type { TradingNode } from "./trading-node.js"

/**
 * After a restart: the trading node takes back what the journal says (restore), then compares
 * it with the venue (reconcile) — NautilusTrader's mass-status reconciliation is the model.
 * Every difference becomes an event through the normal order flow (journaled, audited, seen by
 * risk and the portfolio), never a silent state change:
 *
 * - a fill the venue has and we do not → OrderFilled (REST fills carry no fee: fee 0, noted);
 * - an order we sent but never heard back about → accepted (open at the venue), filled (its
 *   fills), or rejected (the venue never saw it: the process died before the request left);
 * - an order we thought open that the venue no longer has → canceled (e.g. the venue's dead
 *   man's switch fired while we were down), after its fills;
 * - a venue order we never sent, or a position that differs after all of that → reported.
 *
 * Nothing is resent: an intent whose outcome is unknown is resolved by client order id.
 */
export interface ReconcileReport {
  readonly restoredOrders: number
  readonly missedFills: number
  readonly acceptedWhileAway: number
  readonly rejectedNeverSent: number
  readonly canceledWhileAway: number
  readonly unknownVenueOrders: ReadonlyArray<string>
  readonly unattributedFills: number
  readonly positionDifferences: ReadonlyArray<{ readonly instrument: string; readonly ours: string; readonly venue: string }>
  /** Differences left standing (policy `reduce-only`): the account is reduce-only for them. */
  readonly mismatches: ReadonlyArray<PositionMismatch>
  readonly canceledOnRecovery: number
  /** Facts that were different from what we knew. */
  readonly differences: number
}

export interface ReconcileDeps {
  readonly account: AccountId
  readonly clock: ClockService
  readonly rest: KrakenRestClient
  /** Every read below is reserved from the account's budget (risk's) before it is sent. */
  readonly budget: RequestBudgetService
  readonly trading: TradingNode
  readonly instruments: ReadonlyArray<Instrument>
  readonly log: (message: string) => void
  /** The daemon's run number, part of every event id (ids unique across restarts). */
  readonly run?: () => number
}

/** Hands the recovered ledger to the portfolio, risk and the order manager (nothing is sent). */
export const restoreTradingNode = (trading: TradingNode, ledger: TradingLedger): number => {
  for (const p of ledger.positions.values()) trading.portfolio.restore(p, [])
  trading.portfolio.knowFills(ledger.recentFillIds())
  for (const [instrument, amount] of ledger.funding) trading.portfolio.restoreFunding(instrument as InstrumentId, amount)
  trading.portfolio.knowFunding(ledger.fundingIds)
  for (const o of ledger.orders.values()) trading.portfolio.knowFills(o.fills.map((f) => f.fillId))
  for (const o of ledger.orders.values()) trading.orders.adopt(o)
  // Recently finished orders too (oldest first), so a late fill for one is still its order's.
  for (const o of ledger.finished.values()) trading.portfolio.knowFills(o.fills.map((f) => f.fillId))
  for (const o of ledger.finished.values()) trading.orders.adoptFinished(o)
  // The venue still counts the previous run's requests in its window: so does risk, before anything is sent.
  trading.risk.restoreSpent(ledger.requests.recent())
  // The operator's halt or reduce-only survives a crash (who, why and since kept). Automatic
  // causes are re-detected: the journal and audit by their health, the daily loss from the
  // restored PnL, a reconciliation mismatch by the reconciliation that follows.
  const op = ledger.causes.get("operator")
  // `operator:troupe` is the node's own drain halt at shutdown, not an operator's decision.
  if (op !== undefined && op.level !== "active" && op.by !== "operator:troupe") trading.risk.restoreOperatorCause({ level: op.level, who: op.by, why: op.why, since: op.since })
  return ledger.orders.size
}

type RestFill = Effect.Effect.Success<ReturnType<KrakenRestClient["fills"]>>[number]

/** Waits for `call`'s budget, then sends it. */
const billed = <A, E>(budget: RequestBudgetService, call: VenueRead, request: Effect.Effect<A, E>): Effect.Effect<A, unknown> =>
  Effect.flatMap(
    Effect.tryPromise({ try: () => budget.reserve(call), catch: (e) => e }),
    () => request
  )

/** Venue fills, oldest first, paged back until `sinceMs` (at most `maxPages` pages of up to 100). */
const venueFills = (rest: KrakenRestClient, budget: RequestBudgetService, sinceMs: number, maxPages: number): Effect.Effect<RestFill[], unknown> =>
  Effect.gen(function* () {
    const seen = new Map<string, RestFill>()
    let before: string | undefined = undefined
    for (let page = 0; page < maxPages; page++) {
      // The first page costs 2; each page further back (`lastFillTime`) costs 25.
      const fills: ReadonlyArray<RestFill> = yield* billed(budget, before === undefined ? "fills" : "fillsBefore", rest.fills(before))
      let added = 0
      let oldest = Number.POSITIVE_INFINITY
      for (const f of fills) {
        if (!seen.has(f.fill_id)) {
          seen.set(f.fill_id, f)
          added++
        }
        const t = timeOf(f)
        if (!Number.isNaN(t)) oldest = Math.min(oldest, t)
      }
      if (added === 0 || fills.length < 100 || !Number.isFinite(oldest) || oldest < sinceMs) break
      // `lastFillTime` returns fills strictly before it: +1 ms re-reads that millisecond (deduped).
      before = new Date(oldest + 1).toISOString()
    }
    return [...seen.values()].sort((a, b) => (timeOf(a) || 0) - (timeOf(b) || 0))
  })

const timeOf = (f: RestFill): number => (typeof f.fillTime === "string" ? Date.parse(f.fillTime) : Number.NaN)

export interface ReconcileOptions {
  readonly cancelRecoveredOrders: boolean
  /** What a position difference left after the fills does (default `adopt-venue`; the daemon's config default is `reduce-only`). */
  readonly onPositionMismatch?: "reduce-only" | "adopt-venue"
}

export const reconcileWithVenue = (deps: ReconcileDeps, ledger: TradingLedger, options: ReconcileOptions): Effect.Effect<ReconcileReport, unknown> =>
  Effect.gen(function* () {
    const { trading, clock, account } = deps
    const bySymbol = new Map(deps.instruments.map((i) => [i.symbol, i]))
    let seq = 0
    const envelope = () => ({ id: `reconcile/${account}-r${deps.run?.() ?? 0}-${clock.now()}-${++seq}`, ts: clock.now(), source: `reconcile/${account}` })
    const restored = ledger.orders.size
    // A first start on an account (nothing journaled yet) takes the venue's state by design.
    const firstStart = ledger.applied === 0

    // Fills first: they decide whether an order is done.
    // Since the last fill we know (a minute of slack for clock skew). A ledger without fills but
    // with orders only needs the recent page; a new ledger (first start on an account) imports no
    // history: its positions are taken from the venue below. Paging costs rate budget (25 a page).
    const fills =
      ledger.lastFillTs > 0
        ? yield* venueFills(deps.rest, deps.budget, ledger.lastFillTs - 60_000, 40)
        : ledger.orders.size > 0
          ? yield* venueFills(deps.rest, deps.budget, 0, 1)
          : []
    let missedFills = 0
    let unattributedFills = 0
    const newFills: Array<{ readonly symbol: string; readonly fill: PositionMismatch["fills"][number] }> = []
    for (const f of fills) {
      const instrument = bySymbol.get(f.symbol)
      if (instrument === undefined || trading.portfolio.hasFill(f.fill_id)) continue
      const cid = typeof f.cliOrdId === "string" ? f.cliOrdId : null
      newFills.push({ symbol: f.symbol, fill: { fillId: f.fill_id, side: f.side, qty: f.size.toString(), price: f.price.toString(), clientOrderId: cid, status: cid === null ? "unattributed" : "missed" } })
      if (typeof f.cliOrdId !== "string") {
        unattributedFills++
        continue
      }
      const fill: OrderFilled = {
        _tag: "OrderFilled",
        ...envelope(),
        account,
        instrument: instrument.id,
        clientOrderId: f.cliOrdId as ClientOrderId,
        venueOrderId: f.order_id as OrderFilled["venueOrderId"],
        fillId: f.fill_id as OrderFilled["fillId"],
        side: f.side,
        price: f.price,
        qty: f.size,
        fee: ZERO,
        feeCurrency: instrument.quote,
        liquidity: f.fillType === "maker" ? "maker" : "taker",
        ...(Number.isNaN(timeOf(f)) ? {} : { venueTs: timeOf(f) as OrderFilled["ts"] })
      }
      trading.orders.onVenueReport(fill)
      missedFills++
    }

    // Orders: ours against the venue's open orders, by client order id.
    const open = yield* billed(deps.budget, "openorders", deps.rest.openOrders())
    const openByCid = new Map(open.flatMap((o) => (typeof o.cliOrdId === "string" ? [[o.cliOrdId, o] as const] : [])))
    let acceptedWhileAway = 0
    let rejectedNeverSent = 0
    let canceledWhileAway = 0
    for (const cid of trading.orders.liveOrderIds()) {
      const actor = trading.orders.order(cid)
      if (actor === undefined || actor.terminal) continue
      const ctx = actor.actor.getSnapshot().context
      const ref = { account, instrument: ctx.instrumentId, clientOrderId: ctx.clientOrderId }
      const atVenue = openByCid.get(cid)
      if (atVenue !== undefined) {
        if (ctx.venueOrderId === null) {
          trading.orders.onVenueReport({ _tag: "OrderAccepted", ...envelope(), ...ref, venueOrderId: atVenue.order_id as OrderFilled["venueOrderId"] })
          acceptedWhileAway++
        }
        continue
      }
      const traded = ledgerFilled(ledger, cid).greaterThan(0) || fills.some((f) => f.cliOrdId === cid)
      if (ctx.venueOrderId === null && !traded) {
        const rejected: OrderRejected = { _tag: "OrderRejected", ...envelope(), ...ref, reason: "not at the venue after a restart: the request never reached it" }
        trading.orders.onVenueReport(rejected)
        rejectedNeverSent++
      } else {
        const venueOrderId = ctx.venueOrderId ?? fills.find((f) => f.cliOrdId === cid)?.order_id
        const canceled: OrderCanceled = {
          _tag: "OrderCanceled",
          ...envelope(),
          ...ref,
          reason: "not open at the venue after a restart",
          ...(venueOrderId === undefined ? {} : { venueOrderId: venueOrderId as NonNullable<OrderCanceled["venueOrderId"]> })
        }
        trading.orders.onVenueReport(canceled)
        canceledWhileAway++
      }
    }
    const ours = new Set(trading.orders.liveOrderIds())
    const unknownVenueOrders = open.filter((o) => typeof o.cliOrdId !== "string" || !ours.has(o.cliOrdId)).map((o) => o.cliOrdId ?? `venue:${o.order_id}`)

    // Positions: after every fill above, ours must equal the venue's.
    const positions = yield* billed(deps.budget, "openpositions", deps.rest.openPositions())
    const positionDifferences: Array<{ instrument: string; ours: string; venue: string }> = []
    for (const instrument of deps.instruments) {
      const p = positions.find((x) => x.symbol === instrument.symbol)
      const venueQty = p === undefined ? ZERO : p.side === "short" ? p.size.negated() : p.size
      const ourQty = trading.portfolio.position(instrument.id)?.quantity ?? ZERO
      if (!venueQty.equals(ourQty)) positionDifferences.push({ instrument: instrument.id, ours: ourQty.toString(), venue: venueQty.toString() })
    }
    const failClosed = options.onPositionMismatch === "reduce-only" && !firstStart
    const mismatches: PositionMismatch[] = []
    for (const d of positionDifferences) {
      if (failClosed) {
        const symbol = deps.instruments.find((i) => i.id === d.instrument)?.symbol
        mismatches.push({
          ...d,
          difference: new Decimal(d.venue).minus(d.ours).toString(),
          fills: newFills.filter((f) => f.symbol === symbol).map((f) => f.fill),
          detectedAt: clock.now()
        })
        deps.log(`reconcile: position ${d.instrument} is ${d.ours} here and ${d.venue} at the venue, and no fill explains it: reduce-only until an operator runs 'troupe reconcile accept'`)
        continue
      }
      deps.log(`reconcile: position ${d.instrument} is ${d.ours} here and ${d.venue} at the venue: taking the venue's`)
      const p = positions.find((x) => bySymbol.get(x.symbol)?.id === d.instrument)
      trading.portfolio.adoptVenuePosition(d.instrument as InstrumentId, new Decimal(d.venue), p?.price ?? ZERO)
    }
    if (mismatches.length > 0) {
      const why = mismatches.map((m) => `${m.instrument} ours ${m.ours}, venue ${m.venue}`).join("; ")
      trading.automaticCause("reconciliation", true, `position differs from the venue's after reconciliation: ${why}`)
    }
    for (const cid of unknownVenueOrders) deps.log(`reconcile: the venue has an open order we did not send: ${cid}`)

    // Orders of strategy instances that no longer exist: cancel them (through risk) unless told not to.
    let canceledOnRecovery = 0
    if (options.cancelRecoveredOrders) {
      for (const cid of trading.orders.liveOrderIds()) {
        const actor = trading.orders.order(cid)
        if (actor === undefined || actor.terminal) continue
        const ctx = actor.actor.getSnapshot().context
        const strategy = ledger.orders.get(cid)?.submitted.strategy ?? ("recovery" as CancelOrder["strategy"])
        const intent: CancelOrder = { _tag: "CancelOrder", ...envelope(), account, strategy, instrument: ctx.instrumentId as InstrumentId, clientOrderId: ctx.clientOrderId }
        const decision = trading.orders.handle(intent)
        if (decision._tag === "Approved") canceledOnRecovery++
      }
    }
    const differences = missedFills + acceptedWhileAway + rejectedNeverSent + canceledWhileAway + unknownVenueOrders.length + unattributedFills + positionDifferences.length
    return { restoredOrders: restored, missedFills, acceptedWhileAway, rejectedNeverSent, canceledWhileAway, unknownVenueOrders, unattributedFills, positionDifferences, mismatches, canceledOnRecovery, differences }
  })

const ledgerFilled = (ledger: TradingLedger, cid: string): Decimal => ledger.orders.get(cid)?.filled ?? ZERO

export const describeReconcile = (r: ReconcileReport): string =>
  `${r.restoredOrders} orders restored, ${r.missedFills} missed fills, ${r.acceptedWhileAway} accepted / ${r.rejectedNeverSent} never sent / ${r.canceledWhileAway} canceled while away, ` +
  `${r.unknownVenueOrders.length} unknown venue orders, ${r.positionDifferences.length} position differences, ${r.canceledOnRecovery} canceled on recovery`
