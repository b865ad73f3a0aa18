import { Decimal } from "../../domain/decimal.js"
import type { AccountId, ClientOrderId, FillId, InstrumentId, VenueOrderId } from "../../domain/ids.js"
import type { Side } from "../../domain/order.js"
import type { ClockService } from "../clock.js"
import type { VenueGatewayService, VenueReport } from "../ports/venue-gateway.js"
import { ApprovedAction } from "../risk/approval.js"

/**
 * An in-memory venue for tests and benches: it implements the VenueGateway port, records every
 * call with its rate-limit cost, and answers — scripted or at random from a seed. Answers are
 * queued and delivered by `deliverNext`/`flush`, so a test chooses how they interleave with
 * new intents (the real venue answers asynchronously too). The real Kraken Futures adapter and
 * the protocol-level simulator live in adapters/venues.
 */
export interface FakeVenueCall {
  readonly ts: number
  readonly approvalId: string
  readonly call: ApprovedAction["call"]
  readonly cost: number
  readonly kind: ApprovedAction["action"]["kind"]
  readonly clientOrderId?: string
}

export type SubmitAnswer = "accept" | "reject"

export interface FakeVenueOptions {
  readonly account: AccountId
  readonly clock: ClockService
  readonly seed?: number
  /** Share of submits rejected, and of modifies/cancels rejected, when not scripted. */
  readonly rejectRate?: number
  /** Scripted answer to a submit; wins over the random one. */
  readonly onSubmit?: (clientOrderId: string) => SubmitAnswer
  readonly feeRate?: Decimal
}

interface VenueOrder {
  readonly clientOrderId: ClientOrderId
  readonly venueOrderId: VenueOrderId
  readonly instrument: InstrumentId
  readonly side: Side
  qty: Decimal
  filled: Decimal
  price: Decimal | undefined
}

/** mulberry32: small, fast, seedable. */
export const seededRandom = (seed: number): (() => number) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export class FakeVenue implements VenueGatewayService {
  readonly account: AccountId
  readonly calls: FakeVenueCall[] = []
  /** Values that reached `send` without being a genuine approval (must stay empty). */
  readonly forged: unknown[] = []
  readonly fills: Array<{ readonly instrument: InstrumentId; readonly side: Side; readonly qty: Decimal; readonly price: Decimal; readonly fee: Decimal }> = []
  private readonly listeners = new Set<(r: VenueReport) => void>()
  private readonly queue: VenueReport[] = []
  private readonly open = new Map<string, VenueOrder>()
  private readonly random: () => number
  private seq = 0
  private dmsCancel: (() => void) | undefined

  constructor(private readonly opts: FakeVenueOptions) {
    this.account = opts.account
    this.random = seededRandom(opts.seed ?? 1)
  }

  subscribe(listener: (r: VenueReport) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  get pending(): number {
    return this.queue.length
  }

  get openOrders(): ReadonlyMap<string, Readonly<VenueOrder>> {
    return this.open
  }

  send(action: ApprovedAction): void {
    if (!ApprovedAction.isGenuine(action)) {
      this.forged.push(action)
      return
    }
    const a = action.action
    const base = { ts: this.opts.clock.now(), approvalId: action.approvalId, call: action.call, cost: action.cost, kind: a.kind }
    this.calls.push(a.kind === "cancelAll" || a.kind === "cancelAllAfter" ? base : { ...base, clientOrderId: a.intent.clientOrderId })
    const rejectRate = this.opts.rejectRate ?? 0
    switch (a.kind) {
      case "submit": {
        const i = a.intent
        const answer = this.opts.onSubmit?.(i.clientOrderId) ?? (this.random() < rejectRate ? "reject" : "accept")
        if (answer === "reject" || this.open.has(i.clientOrderId)) {
          this.push({ _tag: "OrderRejected", ...this.ref(i.instrument, i.clientOrderId), reason: answer === "reject" ? "insufficientAvailableFunds" : "clientOrderIdAlreadyExist" })
          return
        }
        const venueOrderId = `v-${++this.seq}` as VenueOrderId
        this.open.set(i.clientOrderId, { clientOrderId: i.clientOrderId, venueOrderId, instrument: i.instrument, side: i.side, qty: i.qty, filled: new Decimal(0), price: i.price })
        this.push({ _tag: "OrderAccepted", ...this.ref(i.instrument, i.clientOrderId), venueOrderId })
        return
      }
      case "modify": {
        const i = a.intent
        const o = this.open.get(i.clientOrderId)
        if (o === undefined || this.random() < rejectRate || (i.qty !== undefined && !i.qty.greaterThan(o.filled))) {
          this.push({ _tag: "OrderModifyRejected", ...this.ref(i.instrument, i.clientOrderId), reason: o === undefined ? "orderForEditNotFound" : "invalidSize" })
          return
        }
        if (i.qty !== undefined) o.qty = i.qty
        if (i.price !== undefined) o.price = i.price
        const change = { ...(i.qty === undefined ? {} : { qty: i.qty }), ...(i.price === undefined ? {} : { price: i.price }) }
        this.push({ _tag: "OrderModified", ...this.ref(i.instrument, i.clientOrderId), venueOrderId: o.venueOrderId, ...change })
        return
      }
      case "cancel": {
        const i = a.intent
        const o = this.open.get(i.clientOrderId)
        if (o === undefined || this.random() < rejectRate) {
          this.push({ _tag: "OrderCancelRejected", ...this.ref(i.instrument, i.clientOrderId), reason: o === undefined ? "notFound" : "venueBusy" })
          return
        }
        this.cancel(o, undefined)
        return
      }
      case "cancelAll":
        for (const o of [...this.open.values()]) {
          if (a.intent.instrument === undefined || a.intent.instrument === o.instrument) this.cancel(o, undefined)
        }
        return
      case "cancelAllAfter":
        this.dmsCancel?.()
        this.dmsCancel = undefined
        if (a.timeoutSec > 0) {
          this.dmsCancel = this.opts.clock.setTimer(a.timeoutSec * 1000, () => {
            for (const o of [...this.open.values()]) this.cancel(o, "deadMansSwitch")
          })
        }
        return
    }
  }

  /** A fill on an open order: `share` of its leaves (rounded up to `lot`), at its price or `marketPrice`. */
  fill(clientOrderId: string, lot: Decimal, share: number, marketPrice: Decimal): boolean {
    const o = this.open.get(clientOrderId)
    if (o === undefined) return false
    const leaves = o.qty.minus(o.filled)
    if (!leaves.greaterThan(0)) return false
    const qty = Decimal.min(leaves, leaves.times(share).dividedBy(lot).ceil().times(lot))
    const price = o.price ?? marketPrice
    o.filled = o.filled.plus(qty)
    const fee = qty.times(price).times(this.opts.feeRate ?? new Decimal("0.0005")).toDecimalPlaces(8)
    this.fills.push({ instrument: o.instrument, side: o.side, qty, price, fee })
    this.push({
      _tag: "OrderFilled",
      ...this.ref(o.instrument, o.clientOrderId),
      venueOrderId: o.venueOrderId,
      fillId: `f-${++this.seq}` as FillId,
      side: o.side,
      price,
      qty,
      fee,
      feeCurrency: "USD",
      liquidity: o.price === undefined ? "taker" : "maker"
    })
    if (!o.filled.lessThan(o.qty)) this.open.delete(o.clientOrderId)
    return true
  }

  /** Fills a random open order (a random share of it); false when nothing is open. */
  fillRandom(lotOf: (instrument: InstrumentId) => Decimal, marketPrice: (instrument: InstrumentId) => Decimal): boolean {
    if (this.open.size === 0) return false
    const k = Math.floor(this.random() * this.open.size)
    let n = 0
    for (const o of this.open.values()) {
      if (n++ === k) return this.fill(o.clientOrderId, lotOf(o.instrument), this.random(), marketPrice(o.instrument))
    }
    return false
  }

  /** Delivers one queued report (a random one when `shuffle`), false when none is queued. */
  deliverNext(shuffle = false): boolean {
    if (this.queue.length === 0) return false
    const k = shuffle ? Math.floor(this.random() * this.queue.length) : 0
    const [report] = this.queue.splice(k, 1)
    if (report !== undefined) for (const l of this.listeners) l(report)
    return true
  }

  flush(): void {
    while (this.deliverNext()) {
      // deliver in order
    }
  }

  /** An order we did not place (another session, the web UI): for reconciliation tests. */
  injectReport(report: VenueReport): void {
    this.push(report)
  }

  private cancel(o: VenueOrder, reason: string | undefined): void {
    this.open.delete(o.clientOrderId)
    const base = { _tag: "OrderCanceled" as const, ...this.ref(o.instrument, o.clientOrderId), venueOrderId: o.venueOrderId }
    this.push(reason === undefined ? base : { ...base, reason })
  }

  private ref(instrument: InstrumentId, clientOrderId: ClientOrderId) {
    return { id: `fake-${++this.seq}`, ts: this.opts.clock.now(), source: "fake-venue", account: this.account, instrument, clientOrderId }
  }

  private push(r: VenueReport): void {
    this.queue.push(r)
  }
}
