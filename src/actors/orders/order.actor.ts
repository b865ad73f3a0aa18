import type { StateValue } from "xstate"
import type { SubmitOrder } from "../../domain/events/intents.js"
import type { OrderCanceled } from "../../domain/events/orders.js"
import type { Cell, StepHost } from "../../machines/compile.js"
import { isTerminalOrder, type CancelReason, type OrderContext, type OrderEvent as MachineEvent, type OrderInput } from "../../machines/order.machine.js"
import { gtdTimerMs, orderContextOf, type CompiledOrderMachine, type OrderEffect } from "../../machines/order.step.js"
import type { ClockService } from "../clock.js"
import type { VenueReport } from "../ports/venue-gateway.js"
import type { ApprovedAction } from "../risk/approval.js"

/** The order as XState would show it: what the inspector, the control API and reconciliation read. */
export interface OrderSnapshotView {
  readonly status: "active" | "error" | "stopped"
  readonly value: StateValue
  readonly context: OrderContext
}

/** XState's persisted snapshot of the order machine, field for field (`createActor(orderMachine, { snapshot })` restores it). */
export interface PersistedOrderSnapshot extends OrderSnapshotView {
  readonly historyValue: Readonly<Record<string, ReadonlyArray<{ readonly id: string }>>>
  readonly children: Readonly<Record<string, never>>
}

/**
 * One live order: the order machine (lifecycle) plus the approval it may spend. The machine
 * runs as compiled steps on a cell of its own (src/machines/order.step.ts), not as an XState
 * actor: no actor, mailbox or snapshot object per order. A command arrives with its
 * ApprovedAction; the machine's `sendSubmit`/`sendModify`/`sendCancel` effect (performed by the
 * OrderManager) spends it. If the machine refuses the command in its state, the approval is
 * dropped unspent and the caller is told. The good-till-date timer is armed on the host's
 * clock when the machine enters `working` and disarmed when it leaves.
 */
export class OrderActor implements StepHost<OrderContext, MachineEvent> {
  private readonly cell: Cell<OrderContext>
  private disarm: (() => void) | undefined
  private state: OrderSnapshotView["status"] = "active"
  /** The approval of the command being processed, taken by the machine's send effect. */
  pending: ApprovedAction | undefined
  refused = false
  private view: OrderActor["actor"] | undefined

  constructor(
    readonly clientOrderId: string,
    /** The strategy that placed it (a strategy's cancel-all cancels exactly these). */
    readonly strategy: string,
    private readonly machine: CompiledOrderMachine,
    input: OrderInput,
    private readonly clock: ClockService,
    private readonly effects: (name: OrderEffect, context: OrderContext, order: OrderActor) => void,
    private readonly onError: (error: unknown) => void
  ) {
    this.cell = machine.start(orderContextOf(input), this)
  }

  /**
   * XState's reading API on the compiled order, for the inspector, the control API and
   * reconciliation (no XState actor runs). Made on first use: most orders are never inspected.
   */
  get actor(): { readonly getSnapshot: () => OrderSnapshotView; readonly getPersistedSnapshot: () => PersistedOrderSnapshot } {
    return (this.view ??= { getSnapshot: () => this.snapshot, getPersistedSnapshot: () => this.persisted })
  }

  /** Sends a command with its approval; true when the machine took it (and spent the approval). */
  command(event: MachineEvent, approval: ApprovedAction): boolean {
    this.pending = approval
    this.refused = false
    this.send(event)
    const spent = this.pending === undefined && !this.refused
    this.pending = undefined
    return spent
  }

  report(report: VenueReport): void {
    const e = toMachineEvent(report)
    if (e !== undefined) this.send(e)
  }

  /**
   * One event through the machine. Like an XState actor, an order whose step threw is left in
   * `error` (reported once to `onError`) and ignores what follows; a stopped one ignores all.
   */
  send(event: MachineEvent): void {
    if (this.state !== "active") return
    // An event sent from inside a step (an effect whose callee reports back synchronously) waits
    // until the step is done, as in an XState actor's mailbox: a step is never re-entered.
    if (this.stepping) {
      ;(this.inbox ??= []).push(event)
      return
    }
    this.stepping = true
    try {
      this.machine.step(this.cell, event, this)
      if (this.inbox !== undefined) for (let e = this.inbox.shift(); e !== undefined && this.state === "active"; e = this.inbox.shift()) this.machine.step(this.cell, e, this)
    } catch (error) {
      this.state = "error"
      this.cancel()
      this.onError(error)
    } finally {
      this.stepping = false
      this.inbox = undefined
    }
  }

  private stepping = false
  /** Events sent while a step runs; undefined when none is running. */
  private inbox: MachineEvent[] | undefined

  get context(): OrderContext {
    return this.cell.context
  }

  get snapshot(): OrderSnapshotView {
    return { status: this.state, value: (this.machine.leaves[this.cell.leaf] as { value: StateValue }).value, context: this.cell.context }
  }

  get persisted(): PersistedOrderSnapshot {
    const historyValue: Record<string, ReadonlyArray<{ id: string }>> = {}
    for (const [node, child] of Object.entries(this.cell.history ?? {})) historyValue[node] = [{ id: child }]
    return { ...this.snapshot, historyValue, children: {} }
  }

  get status(): string {
    return (this.machine.leaves[this.cell.leaf] as { key: string }).key
  }

  get terminal(): boolean {
    return isTerminalOrder(this.status)
  }

  /**
   * Whether the machine would send a cancel now: the working states with a CANCEL transition
   * (elsewhere CANCEL is the machine's catch-all refusal).
   */
  get cancelable(): boolean {
    return CANCELABLE.has(this.status)
  }

  stop(): void {
    this.cancel()
    if (this.state === "active") this.state = "stopped"
  }

  // StepHost: what the compiled machine asks of its host.
  effect(name: string, context: OrderContext): void {
    this.effects(name as OrderEffect, context, this)
  }

  schedule(eventType: string, _delay: string, context: OrderContext): void {
    this.cancel()
    const ms = gtdTimerMs(context, this.clock.now())
    if (ms === undefined) return
    this.disarm = this.clock.setTimer(ms, () => {
      this.disarm = undefined
      this.send({ type: eventType } as MachineEvent)
    })
  }

  cancel(): void {
    this.disarm?.()
    this.disarm = undefined
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
