import { createActor, type Actor } from "xstate"
import type { SubmitOrder } from "../../domain/events/intents.js"
import type { OrderCanceled } from "../../domain/events/orders.js"
import { isTerminalOrder, type CancelReason, type OrderEvent as MachineEvent, type OrderInput, type OrderMachine } from "../../machines/order.machine.js"
import { xstateClock, type ClockService } from "../clock.js"
import type { VenueReport } from "../ports/venue-gateway.js"
import type { ApprovedAction } from "../risk/approval.js"

/**
 * One live order: the order machine (lifecycle) plus the approval it may spend. A command
 * arrives with its ApprovedAction; the machine's `sendSubmit`/`sendModify`/`sendCancel` action
 * (provided by the OrderManager) spends it. If the machine refuses the command in its state,
 * the approval is dropped unspent and the caller is told.
 */
export class OrderActor {
  readonly actor: Actor<OrderMachine>
  /** The approval of the command being processed, taken by the machine's send action. */
  pending: ApprovedAction | undefined
  refused = false

  constructor(
    readonly clientOrderId: string,
    /** The strategy that placed it (a strategy's cancel-all cancels exactly these). */
    readonly strategy: string,
    machine: OrderMachine,
    input: OrderInput,
    clock: ClockService,
    onError: (error: unknown) => void
  ) {
    this.actor = createActor(machine, { input, clock: xstateClock(clock) })
    // Subscribe to errors before starting: an unobserved XState error crashes Node.
    this.actor.subscribe({ error: onError })
    this.actor.start()
  }

  /** Sends a command with its approval; true when the machine took it (and spent the approval). */
  command(event: MachineEvent, approval: ApprovedAction): boolean {
    this.pending = approval
    this.refused = false
    this.actor.send(event)
    const spent = this.pending === undefined && !this.refused
    this.pending = undefined
    return spent
  }

  report(report: VenueReport): void {
    const e = toMachineEvent(report)
    if (e !== undefined) this.actor.send(e)
  }

  get status(): string {
    const v = this.actor.getSnapshot().value
    return typeof v === "string" ? v : String(Object.values(v)[0])
  }

  get terminal(): boolean {
    return isTerminalOrder(this.status)
  }

  /**
   * Whether the machine would send a cancel now: the working states with a CANCEL transition
   * (elsewhere CANCEL is the machine's catch-all refusal, so XState's `can` answers true).
   */
  get cancelable(): boolean {
    return CANCELABLE.has(this.status)
  }

  stop(): void {
    this.actor.stop()
  }
}

const CANCELABLE: ReadonlySet<string> = new Set(["accepted", "triggered", "partiallyFilled", "pendingUpdate"])

export const orderInputOf = (i: SubmitOrder): OrderInput => {
  const base = { clientOrderId: i.clientOrderId, instrumentId: i.instrument, side: i.side, quantity: i.qty.toString() }
  const price = i.price === undefined ? {} : { price: i.price.toString() }
  const trigger = i.triggerPrice === undefined ? {} : { triggerPrice: i.triggerPrice.toString() }
  switch (i.orderType) {
    case "market":
      return { ...base, kind: "market", timeInForce: "ioc" }
    case "limit":
    case "postOnly":
      return { ...base, ...price, kind: "limit", timeInForce: "gtc" }
    case "ioc":
    case "fok":
      return { ...base, ...price, kind: "limit", timeInForce: i.orderType }
    case "stop":
      return { ...base, ...price, ...trigger, kind: i.price === undefined ? "stop" : "stopLimit", timeInForce: "gtc" }
    case "takeProfit":
      return { ...base, ...price, ...trigger, kind: i.price === undefined ? "takeProfit" : "takeProfitLimit", timeInForce: "gtc" }
  }
}

const cancelReasonOf = (e: OrderCanceled): CancelReason => {
  const r = e.reason?.toLowerCase()
  if (r === undefined) return "requested"
  if (r.includes("deadman")) return "deadMansSwitch"
  if (r.includes("postonly") || r.includes("post_only")) return "postOnlyWouldCross"
  if (r.includes("selftrade") || r.includes("self_trade")) return "selfTradePrevention"
  if (r.includes("suspend")) return "marketSuspended"
  return "other"
}

/** Venue facts as order-machine events (decimals as text, as the machine keeps them). */
export const toMachineEvent = (r: VenueReport): MachineEvent | undefined => {
  switch (r._tag) {
    case "OrderAccepted":
      return { type: "ACCEPTED", venueOrderId: r.venueOrderId }
    case "OrderRejected":
      return { type: "REJECTED", reason: r.reason }
    case "OrderModified":
      return {
        type: "MODIFIED",
        change: { ...(r.qty === undefined ? {} : { quantity: r.qty.toString() }), ...(r.price === undefined ? {} : { price: r.price.toString() }), ...(r.triggerPrice === undefined ? {} : { triggerPrice: r.triggerPrice.toString() }) }
      }
    case "OrderModifyRejected":
      return { type: "MODIFY_REJECTED", reason: r.reason }
    case "OrderCanceled":
      return { type: "CANCELED", reason: cancelReasonOf(r) }
    case "OrderCancelRejected":
      return { type: "CANCEL_REJECTED", reason: r.reason }
    case "OrderExpired":
      return { type: "EXPIRED" }
    case "OrderFilled":
      return { type: "FILL", fillId: r.fillId, quantity: r.qty.toString(), price: r.price.toString() }
  }
}
