import { and, assign, raise, setup } from "xstate"
import { Decimal } from "../domain/decimal.js"
import type { ClientOrderId, InstrumentId } from "../domain/ids.js"

/**
 * The order lifecycle, NautilusTrader's order FSM as the bar. Quantities and prices are decimal
 * strings in the context (exact and JSON-safe, so a persisted snapshot restores as is); every
 * computation goes through `Decimal`.
 *
 * Invariants on every state: filled <= quantity, filled + leaves = quantity. An overfill is
 * never absorbed: the excess goes to `overfillQty`, `overfilled` is set and `reportOverfill`
 * runs. Terminal states (denied, rejected, filled, canceled, expired) record every message
 * without a state change; the one exception is canceled → filled (a fill that raced the cancel).
 */
export const ORDER_MACHINE_VERSION = "order@1"

export type OrderSide = "buy" | "sell"
export type OrderKind = "market" | "limit" | "stop" | "stopLimit" | "takeProfit" | "takeProfitLimit"
export type TimeInForce = "gtc" | "ioc" | "fok" | "gtd"
/** Why the venue canceled; `requested` is the ack of our own cancel. */
export type CancelReason =
  | "requested"
  | "postOnlyWouldCross"
  | "marketSuspended"
  | "deadMansSwitch"
  | "selfTradePrevention"
  | "other"
/** The open states a rejected modify or cancel returns to. */
export type OpenStatus = "accepted" | "triggered" | "partiallyFilled"

export interface OrderInput {
  readonly clientOrderId: ClientOrderId
  readonly instrumentId: InstrumentId
  readonly side: OrderSide
  readonly kind: OrderKind
  readonly timeInForce: TimeInForce
  readonly quantity: string
  readonly price?: string
  readonly triggerPrice?: string
  /** Epoch ms; required for `gtd`. */
  readonly expireAt?: number
}

export interface OrderChange {
  readonly quantity?: string
  readonly price?: string
  readonly triggerPrice?: string
}

export interface OrderContext {
  readonly clientOrderId: ClientOrderId
  readonly instrumentId: InstrumentId
  readonly side: OrderSide
  readonly kind: OrderKind
  readonly timeInForce: TimeInForce
  readonly venueOrderId: string | null
  readonly quantity: string
  readonly filledQty: string
  readonly leavesQty: string
  /** Volume-weighted over every applied fill, including an overfilling one; null before the first fill. */
  readonly avgPx: string | null
  readonly price: string | null
  readonly triggerPrice: string | null
  readonly expireAt: number | null
  readonly fillIds: ReadonlyArray<string>
  readonly duplicateFills: number
  readonly overfilled: boolean
  readonly overfillQty: string
  /** The open state a rejected modify/cancel restores. */
  readonly lastOpen: OpenStatus
  readonly pendingChange: OrderChange | null
  /** The cancel in flight was sent because the good-till-date passed: its ack means expired. */
  readonly expiring: boolean
  readonly cancelReason: CancelReason | null
  readonly rejectReason: string | null
  /** Messages recorded without a state change (terminal order, or not valid in the state). */
  readonly ignoredMessages: number
}

export type OrderEvent =
  // commands, from the order actor's owner after the risk decision
  | { readonly type: "SUBMIT" }
  | { readonly type: "DENY"; readonly reason: string }
  | { readonly type: "MODIFY"; readonly change: OrderChange }
  | { readonly type: "CANCEL" }
  // venue reports, normalized by the gateway
  | { readonly type: "ACCEPTED"; readonly venueOrderId: string }
  | { readonly type: "REJECTED"; readonly reason: string }
  | { readonly type: "TRIGGERED" }
  | { readonly type: "MODIFIED"; readonly change: OrderChange }
  | { readonly type: "MODIFY_REJECTED"; readonly reason: string }
  | { readonly type: "CANCELED"; readonly reason: CancelReason }
  | { readonly type: "CANCEL_REJECTED"; readonly reason: string }
  | { readonly type: "EXPIRED" }
  | { readonly type: "FILL"; readonly fillId: string; readonly quantity: string; readonly price: string }
  // the good-till-date has passed (raised by the timer; a host may send it after reconciliation)
  | { readonly type: "GTD_DUE" }
  // from the host after restoring a persisted snapshot: re-arms the good-till-date timer
  | { readonly type: "RESTORED" }

export type OrderEventType = OrderEvent["type"]
export const ORDER_COMMANDS = ["SUBMIT", "DENY", "MODIFY", "CANCEL"] as const satisfies ReadonlyArray<OrderEventType>
export const ORDER_REPORTS = [
  "ACCEPTED",
  "REJECTED",
  "TRIGGERED",
  "MODIFIED",
  "MODIFY_REJECTED",
  "CANCELED",
  "CANCEL_REJECTED",
  "EXPIRED",
  "FILL"
] as const satisfies ReadonlyArray<OrderEventType>

type Fill = Extract<OrderEvent, { type: "FILL" }>
const MAX_TIMER_MS = 2_147_483_647 // setTimeout's limit; a longer wait re-arms when it fires

const isFill = (e: OrderEvent): e is Fill => e.type === "FILL"
const isTriggerKind = (k: OrderKind): boolean => k !== "market" && k !== "limit"

const fillOutcome = (c: OrderContext, f: Fill) => {
  const qty = new Decimal(c.quantity)
  const executedBefore = new Decimal(c.filledQty).plus(c.overfillQty)
  const executed = executedBefore.plus(f.quantity)
  const notional = c.avgPx === null ? new Decimal(0) : new Decimal(c.avgPx).times(executedBefore)
  const avgPx = executed.isZero() ? c.avgPx : notional.plus(new Decimal(f.price).times(f.quantity)).div(executed).toString()
  const filled = Decimal.min(qty, executed)
  return { filled, excess: executed.minus(filled), avgPx, qty }
}

/** Applies a fill; the part beyond the quantity is kept apart as overfill, never added to filled. */
const applyFillTo = (c: OrderContext, f: Fill): Partial<OrderContext> => {
  const o = fillOutcome(c, f)
  return {
    filledQty: o.filled.toString(),
    leavesQty: o.qty.minus(o.filled).toString(),
    avgPx: o.avgPx,
    overfillQty: o.excess.toString(),
    overfilled: o.excess.greaterThan(0),
    fillIds: [...c.fillIds, f.fillId]
  }
}

const changeOf = (e: OrderEvent): OrderChange => (e.type === "MODIFY" || e.type === "MODIFIED" ? e.change : {})

/** A change keeps the order open: the new quantity, if any, stays above what is filled. */
const changeKeepsOpen = (c: OrderContext, change: OrderChange): boolean =>
  change.quantity === undefined || new Decimal(change.quantity).greaterThan(c.filledQty)

const applyChangeTo = (c: OrderContext, change: OrderChange): Partial<OrderContext> => {
  const quantity = change.quantity === undefined ? new Decimal(c.quantity) : new Decimal(change.quantity)
  return {
    quantity: quantity.toString(),
    leavesQty: quantity.minus(c.filledQty).toString(),
    price: change.price ?? c.price,
    triggerPrice: change.triggerPrice ?? c.triggerPrice,
    pendingChange: null
  }
}

// States that hold no fill yet cannot see a duplicate; the others check the fill id first.
const fillTransitions = <T extends string>(partialTarget: T) =>
  [
    { guard: "fillOverfills", target: "#order.filled", actions: ["applyFill", "reportOverfill"] },
    { guard: "fillCompletes", target: "#order.filled", actions: "applyFill" },
    { target: partialTarget, actions: "applyFill" }
  ] as const

const dedupedFillTransitions = <T extends string>(partialTarget: T) =>
  [{ guard: "isDuplicateFill", actions: "countDuplicateFill" }, ...fillTransitions(partialTarget)] as const

const restore = <A extends ReadonlyArray<"applyChange" | "clearPendingChange" | "clearExpiring" | "recordReject">>(extra: A) =>
  [
    { guard: "lastOpenIsTriggered", target: "triggered", actions: extra },
    { guard: "lastOpenIsPartiallyFilled", target: "partiallyFilled", actions: extra },
    { target: "accepted", actions: extra }
  ] as const

// A confirmed change that would leave quantity at or below filled is not a valid venue reply:
// it is recorded (root fallback), never applied.
const restoreChanged = [
  { guard: and(["changeValid", "lastOpenIsTriggered"]), target: "triggered", actions: "applyChange" },
  { guard: and(["changeValid", "lastOpenIsPartiallyFilled"]), target: "partiallyFilled", actions: "applyChange" },
  { guard: "changeValid", target: "accepted", actions: "applyChange" },
  { actions: ["countIgnored", "recordIgnored"] }
] as const

export const orderMachine = setup({
  types: {
    context: {} as OrderContext,
    events: {} as OrderEvent,
    input: {} as OrderInput
  },
  actions: {
    // Side effects: no-ops here, provided by the order actor host.
    sendSubmit: () => {},
    sendModify: () => {},
    sendCancel: () => {},
    reportOverfill: () => {},
    denyCommand: () => {},
    recordIgnored: () => {},
    // Context updates
    countIgnored: assign({ ignoredMessages: ({ context }) => context.ignoredMessages + 1 }),
    countDuplicateFill: assign({ duplicateFills: ({ context }) => context.duplicateFills + 1 }),
    applyFill: assign(({ context, event }) => (isFill(event) ? applyFillTo(context, event) : {})),
    recordAck: assign({ venueOrderId: ({ context, event }) => (event.type === "ACCEPTED" ? event.venueOrderId : context.venueOrderId) }),
    recordReject: assign({ rejectReason: ({ context, event }) => ("reason" in event && typeof event.reason === "string" ? event.reason : context.rejectReason) }),
    recordCancel: assign({ cancelReason: ({ context, event }) => (event.type === "CANCELED" ? event.reason : context.cancelReason) }),
    storePendingChange: assign({ pendingChange: ({ event }) => changeOf(event) }),
    applyChange: assign(({ context, event }) => applyChangeTo(context, changeOf(event))),
    clearPendingChange: assign({ pendingChange: null }),
    markExpiring: assign({ expiring: true }),
    clearExpiring: assign({ expiring: false }),
    setLastOpen: assign((_, params: { status: OpenStatus }) => ({ lastOpen: params.status })),
    raiseGtdDue: raise({ type: "GTD_DUE" })
  },
  guards: {
    isDuplicateFill: ({ context, event }) => isFill(event) && context.fillIds.includes(event.fillId),
    fillOverfills: ({ context, event }) => isFill(event) && fillOutcome(context, event).excess.greaterThan(context.overfillQty),
    fillCompletes: ({ context, event }) => isFill(event) && fillOutcome(context, event).filled.equals(context.quantity),
    isTriggerOrder: ({ context }) => isTriggerKind(context.kind),
    triggersPending: ({ context }) => isTriggerKind(context.kind) && context.lastOpen === "accepted",
    isGtd: ({ context }) => context.timeInForce === "gtd" && context.expireAt !== null,
    /** Replaced by the host with its clock (see `provideOrderClock`); a definition has no time. */
    gtdDue: () => false,
    isExpiring: ({ context }) => context.expiring,
    modifyValid: ({ context, event }) => event.type === "MODIFY" && changeKeepsOpen(context, event.change),
    changeValid: ({ context, event }) => event.type === "MODIFIED" && changeKeepsOpen(context, event.change),
    lastOpenIsTriggered: ({ context }) => context.lastOpen === "triggered",
    lastOpenIsPartiallyFilled: ({ context }) => context.lastOpen === "partiallyFilled"
  },
  delays: {
    /** Replaced by the host with `expireAt - now` (see `provideOrderClock`). */
    gtdExpiry: MAX_TIMER_MS
  }
}).createMachine({
  id: "order",
  initial: "initialized",
  context: ({ input }) => ({
    clientOrderId: input.clientOrderId,
    instrumentId: input.instrumentId,
    side: input.side,
    kind: input.kind,
    timeInForce: input.timeInForce,
    venueOrderId: null,
    quantity: new Decimal(input.quantity).toString(),
    filledQty: "0",
    leavesQty: new Decimal(input.quantity).toString(),
    avgPx: null,
    price: input.price ?? null,
    triggerPrice: input.triggerPrice ?? null,
    expireAt: input.expireAt ?? null,
    fillIds: [],
    duplicateFills: 0,
    overfilled: false,
    overfillQty: "0",
    lastOpen: "accepted",
    pendingChange: null,
    expiring: false,
    cancelReason: null,
    rejectReason: null,
    ignoredMessages: 0
  }),
  // Fallbacks: a command the state does not accept is denied to its sender; a report it does
  // not expect is recorded. Neither changes the state.
  on: {
    SUBMIT: { actions: ["countIgnored", "denyCommand"] },
    DENY: { actions: ["countIgnored", "denyCommand"] },
    MODIFY: { actions: ["countIgnored", "denyCommand"] },
    CANCEL: { actions: ["countIgnored", "denyCommand"] },
    ACCEPTED: { actions: ["countIgnored", "recordIgnored"] },
    REJECTED: { actions: ["countIgnored", "recordIgnored"] },
    TRIGGERED: { actions: ["countIgnored", "recordIgnored"] },
    MODIFIED: { actions: ["countIgnored", "recordIgnored"] },
    MODIFY_REJECTED: { actions: ["countIgnored", "recordIgnored"] },
    CANCELED: { actions: ["countIgnored", "recordIgnored"] },
    CANCEL_REJECTED: { actions: ["countIgnored", "recordIgnored"] },
    EXPIRED: { actions: ["countIgnored", "recordIgnored"] },
    FILL: [{ guard: "isDuplicateFill", actions: "countDuplicateFill" }, { actions: ["countIgnored", "recordIgnored"] }],
    RESTORED: {}
  },
  states: {
    initialized: {
      on: {
        FILL: { actions: ["countIgnored", "recordIgnored"] },
        SUBMIT: { target: "submitted", actions: "sendSubmit" },
        DENY: { target: "denied", actions: "recordReject" }
      }
    },
    submitted: {
      on: {
        ACCEPTED: { target: "working.accepted", actions: "recordAck" },
        REJECTED: { target: "rejected", actions: "recordReject" },
        // A fill before the ack: the venue has the order, the ack is late or lost.
        FILL: fillTransitions("working.partiallyFilled"),
        // Canceled before the ack: post-only would cross, IOC with no liquidity.
        CANCELED: { target: "canceled", actions: "recordCancel" },
        EXPIRED: { target: "expired" }
      }
    },
    working: {
      initial: "accepted",
      after: {
        gtdExpiry: [
          { guard: "gtdDue", actions: "raiseGtdDue" },
          // Not due yet (the wait was longer than one timer can hold): arm again.
          { guard: "isGtd", target: ".hist", reenter: true }
        ]
      },
      on: {
        RESTORED: { target: ".hist", reenter: true },
        // Expiry is a cancel we send (venues without native GTD) whose ack means expired.
        GTD_DUE: { target: ".pendingCancel", actions: ["markExpiring", "sendCancel"] },
        ACCEPTED: { actions: "recordAck" },
        MODIFIED: { guard: "changeValid", actions: "applyChange" },
        MODIFY_REJECTED: { actions: ["clearPendingChange", "recordReject"] },
        CANCELED: { target: "canceled", actions: "recordCancel" },
        EXPIRED: { target: "expired" }
      },
      states: {
        hist: { type: "history", history: "shallow" },
        accepted: {
          entry: { type: "setLastOpen", params: { status: "accepted" } },
          on: {
            TRIGGERED: { guard: "isTriggerOrder", target: "triggered" },
            MODIFY: [{ guard: "modifyValid", target: "pendingUpdate", actions: ["storePendingChange", "sendModify"] }, { actions: ["countIgnored", "denyCommand"] }],
            CANCEL: { target: "pendingCancel", actions: "sendCancel" },
            FILL: fillTransitions("partiallyFilled")
          }
        },
        triggered: {
          entry: { type: "setLastOpen", params: { status: "triggered" } },
          on: {
            MODIFY: [{ guard: "modifyValid", target: "pendingUpdate", actions: ["storePendingChange", "sendModify"] }, { actions: ["countIgnored", "denyCommand"] }],
            CANCEL: { target: "pendingCancel", actions: "sendCancel" },
            FILL: fillTransitions("partiallyFilled")
          }
        },
        partiallyFilled: {
          entry: { type: "setLastOpen", params: { status: "partiallyFilled" } },
          on: {
            MODIFY: [{ guard: "modifyValid", target: "pendingUpdate", actions: ["storePendingChange", "sendModify"] }, { actions: ["countIgnored", "denyCommand"] }],
            CANCEL: { target: "pendingCancel", actions: "sendCancel" },
            // A fill raced our expiry cancel: the ack that follows still means expired.
            CANCELED: [{ guard: "isExpiring", target: "#order.expired", actions: "recordCancel" }, { target: "#order.canceled", actions: "recordCancel" }],
            FILL: dedupedFillTransitions("partiallyFilled")
          }
        },
        pendingUpdate: {
          on: {
            // Triggered while a request is pending: restore to triggered, unless already part-filled.
            TRIGGERED: { guard: "triggersPending", actions: { type: "setLastOpen", params: { status: "triggered" } } },
            MODIFIED: restoreChanged,
            MODIFY_REJECTED: restore(["clearPendingChange", "recordReject"]),
            CANCEL: { target: "pendingCancel", actions: "sendCancel" },
            FILL: dedupedFillTransitions("partiallyFilled")
          }
        },
        pendingCancel: {
          on: {
            // Triggered while a request is pending: restore to triggered, unless already part-filled.
            TRIGGERED: { guard: "triggersPending", actions: { type: "setLastOpen", params: { status: "triggered" } } },
            GTD_DUE: { actions: "markExpiring" },
            CANCEL_REJECTED: restore(["clearExpiring", "recordReject"]),
            CANCELED: [{ guard: "isExpiring", target: "#order.expired", actions: "recordCancel" }, { target: "#order.canceled", actions: "recordCancel" }],
            // The fill raced our cancel: the order is still open (or done) at the venue.
            FILL: dedupedFillTransitions("partiallyFilled")
          }
        }
      }
    },
    denied: { tags: ["terminal"], on: { FILL: { actions: ["countIgnored", "recordIgnored"] } } },
    rejected: { tags: ["terminal"], on: { FILL: { actions: ["countIgnored", "recordIgnored"] } } },
    filled: {
      tags: ["terminal"],
      on: {
        // A new fill on a filled order is an overfill by definition.
        FILL: [
          { guard: "isDuplicateFill", actions: "countDuplicateFill" },
          { actions: ["applyFill", "reportOverfill"] }
        ]
      }
    },
    canceled: {
      tags: ["terminal"],
      on: {
        // The one way out of a terminal state: fills that raced the cancel complete the order.
        FILL: [
          { guard: "isDuplicateFill", actions: "countDuplicateFill" },
          { guard: "fillOverfills", target: "filled", actions: ["applyFill", "reportOverfill"] },
          { guard: "fillCompletes", target: "filled", actions: "applyFill" },
          { actions: "applyFill" }
        ]
      }
    },
    expired: { tags: ["terminal"] }
  }
})

export type OrderMachine = typeof orderMachine

/**
 * Gives the machine time: the good-till-date timer waits `expireAt - now()` and is due when
 * `now() >= expireAt`. The host passes its Clock port; tests pass a simulated clock.
 */
export const provideOrderClock = (machine: OrderMachine, now: () => number): OrderMachine =>
  machine.provide({
    delays: {
      gtdExpiry: ({ context }) => (context.expireAt === null ? MAX_TIMER_MS : Math.min(MAX_TIMER_MS, Math.max(0, context.expireAt - now())))
    },
    guards: {
      gtdDue: ({ context }) => context.timeInForce === "gtd" && context.expireAt !== null && now() >= context.expireAt
    }
  })

export const isTerminalOrder = (status: string): boolean =>
  status === "denied" || status === "rejected" || status === "filled" || status === "canceled" || status === "expired"
