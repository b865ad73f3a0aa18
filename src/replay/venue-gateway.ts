import type { ClockService } from "../actors/clock.js"
import type { VenueGatewayService, VenueReport } from "../actors/ports/venue-gateway.js"
import { ApprovedAction } from "../actors/risk/approval.js"
import { krakenOrderType } from "../adapters/venues/kraken-futures/gateway.js"
import type { EngineEffect, FillView, OrderView } from "../adapters/venues/simulator/engine-types.js"
import type { Exchange } from "../adapters/venues/simulator/exchange.js"
import type { CancelOrder } from "../domain/events/intents.js"
import { symbolOf, type AccountId, type ClientOrderId, type FillId, type InstrumentId, type VenueOrderId } from "../domain/ids.js"

/**
 * The venue gateway port over the simulator's exchange, in-process: an approved action is one
 * engine command, and the venue's answer comes back as canonical reports — the same reports the
 * Kraken Futures adapter derives from REST replies and the private feed:
 *
 * - submit: `OrderAccepted` (or `OrderRejected` with Kraken's status), then its fills;
 * - modify: `OrderModified` (or `OrderModifyRejected`), then any fills the new price took;
 * - cancel: `OrderCanceled` (or `OrderCancelRejected`: `filled`, `notFound`);
 * - fills and venue-side cancels (IOC remainder, self-trade, dead man's switch) of our orders,
 *   whatever caused them — a recorded trade hitting our resting order included — from the
 *   engine's effects, in the engine's order.
 *
 * Reports are delivered on a microtask after the command, as a venue answers after the call
 * returns: the order manager never sees a reply inside its own send.
 */
export class ReplayVenueGateway implements VenueGatewayService {
  private readonly listeners: Array<(r: VenueReport) => void> = []
  private pending: VenueReport[] = []
  private scheduled = false
  private seq = 0
  /** Values that reached `send` without being a genuine approval (must stay 0). */
  forged = 0
  sent = 0
  reports = 0

  constructor(
    readonly account: AccountId,
    /** The account name inside the engine. */
    private readonly venueAccount: string,
    private readonly venue: string,
    private readonly exchange: Exchange,
    private readonly clock: ClockService
  ) {}

  readonly subscribe = (listener: (report: VenueReport) => void): (() => void) => {
    this.listeners.push(listener)
    return () => {
      const i = this.listeners.indexOf(listener)
      if (i >= 0) this.listeners.splice(i, 1)
    }
  }

  /** Reports not yet delivered (a replay is quiet only when this is 0). */
  get backlog(): number {
    return this.pending.length
  }

  readonly send = (action: ApprovedAction): void => {
    if (!ApprovedAction.isGenuine(action)) {
      this.forged++
      return
    }
    this.sent++
    const a = action.action
    const account = this.venueAccount
    // The command's own answer goes before the fills and cancels its effects reported.
    const mark = this.pending.length
    switch (a.kind) {
      case "submit": {
        const i = a.intent
        const type = krakenOrderType(i.orderType)
        const out = this.exchange.send({
          account,
          symbol: symbolOf(i.instrument),
          orderType: type,
          side: i.side,
          size: i.qty,
          cliOrdId: i.clientOrderId,
          ...(type !== "mkt" && i.price !== undefined ? { limitPrice: i.price } : {}),
          ...(type === "stp" && i.triggerPrice !== undefined ? { stopPrice: i.triggerPrice } : {}),
          ...(i.reduceOnly ? { reduceOnly: true } : {})
        })
        const ref = this.ref(i.instrument, i.clientOrderId)
        this.insert(
          mark,
          out.status === "placed" && out.order !== undefined
            ? { _tag: "OrderAccepted", ...ref, venueOrderId: out.order.orderId as VenueOrderId }
            : { _tag: "OrderRejected", ...ref, reason: out.status }
        )
        break
      }
      case "modify": {
        const i = a.intent
        const out = this.exchange.edit({
          account,
          cliOrdId: i.clientOrderId,
          ...(i.qty === undefined ? {} : { size: i.qty }),
          ...(i.price === undefined ? {} : { limitPrice: i.price }),
          ...(i.triggerPrice === undefined ? {} : { stopPrice: i.triggerPrice })
        })
        const ref = this.ref(i.instrument, i.clientOrderId)
        this.insert(
          mark,
          out.status === "edited"
            ? {
                _tag: "OrderModified",
                ...ref,
                ...(out.order === undefined ? {} : { venueOrderId: out.order.orderId as VenueOrderId }),
                ...(i.qty === undefined ? {} : { qty: i.qty }),
                ...(i.price === undefined ? {} : { price: i.price }),
                ...(i.triggerPrice === undefined ? {} : { triggerPrice: i.triggerPrice })
              }
            : { _tag: "OrderModifyRejected", ...ref, reason: out.status }
        )
        break
      }
      case "cancel":
        this.cancel(a.intent)
        break
      case "cancelAll": {
        const i = a.intent
        const symbol = i.instrument === undefined ? undefined : symbolOf(i.instrument)
        if (i.strategy === undefined) {
          this.exchange.cancelAll(account, symbol)
          break
        }
        // As on Kraken: no cancel-by-strategy, so the strategy's open orders one by one.
        const prefix = `${i.strategy}-`
        for (const o of this.exchange.engine.openOrders(account, symbol)) {
          if (o.cliOrdId === undefined || !o.cliOrdId.startsWith(prefix)) continue
          this.cancel({ ...i, _tag: "CancelOrder", strategy: i.strategy, instrument: this.instrumentOf(o.symbol), clientOrderId: o.cliOrdId as ClientOrderId })
        }
        break
      }
      case "cancelAllAfter":
        this.exchange.cancelAllAfter(account, a.timeoutSec)
        break
    }
    this.schedule()
  }

  /** The engine's effects for our account: fills and the cancels the venue made. */
  onEffect(e: EngineEffect): void {
    if (e.kind === "fill") this.push(this.filled(e.fill))
    else if (e.kind === "order" && e.isCancel && e.reason !== "full_fill") this.push(this.canceled(e.order, e.reason))
    else return
    this.schedule()
  }

  private cancel(i: CancelOrder): void {
    const mark = this.pending.length
    const out = this.exchange.cancel({ account: this.venueAccount, cliOrdId: i.clientOrderId })
    // A successful cancel is reported by its effect (OrderCanceled); only a refusal is answered here.
    if (out.status !== "cancelled") this.insert(mark, { _tag: "OrderCancelRejected", ...this.ref(i.instrument, i.clientOrderId), reason: out.status })
  }

  private filled(f: FillView): VenueReport {
    return {
      _tag: "OrderFilled",
      ...this.ref(this.instrumentOf(f.symbol), (f.cliOrdId ?? "") as ClientOrderId),
      venueOrderId: f.orderId as VenueOrderId,
      fillId: f.fillId as FillId,
      side: f.side,
      price: f.price,
      qty: f.qty,
      fee: f.fee,
      feeCurrency: f.feeCurrency,
      liquidity: f.liquidity
    }
  }

  private canceled(o: OrderView, reason: string): VenueReport {
    const base = { _tag: "OrderCanceled" as const, ...this.ref(this.instrumentOf(o.symbol), (o.cliOrdId ?? "") as ClientOrderId), venueOrderId: o.orderId as VenueOrderId }
    // Our own cancel request is a plain cancel (as the Kraken adapter reports it); the venue's own reasons are kept.
    return reason === "cancelled_by_user" ? base : { ...base, reason }
  }

  private instrumentOf(symbol: string): InstrumentId {
    return `${this.venue}:${symbol}` as InstrumentId
  }

  private ref(instrument: InstrumentId, clientOrderId: ClientOrderId) {
    return { id: `venue/replay-${++this.seq}`, ts: this.clock.now(), source: "venue/replay", account: this.account, instrument, clientOrderId }
  }

  private push(r: VenueReport): void {
    this.pending.push(r)
  }

  private insert(at: number, r: VenueReport): void {
    if (at >= this.pending.length) this.pending.push(r)
    else this.pending.splice(at, 0, r)
  }

  private schedule(): void {
    if (this.scheduled || this.pending.length === 0) return
    this.scheduled = true
    queueMicrotask(() => this.deliver())
  }

  private deliver(): void {
    this.scheduled = false
    const batch = this.pending
    this.pending = []
    for (const r of batch) {
      this.reports++
      for (const l of this.listeners) l(r)
    }
  }
}
