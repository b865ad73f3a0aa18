import { compileMachine, type CompiledMachine, type Guard, type Update } from "./compile.js"
import { canonical, fillOutcome, greaterThan, minus, type FillOutcome } from "./order-quantities.js"
import { orderMachine, type OrderChange, type OrderContext, type OrderEvent, type OrderInput, type OrderMachine, type OpenStatus } from "./order.machine.js"

/**
 * The order machine as compiled steps: `orderMachine` (the definition the inspector draws)
 * compiled into a transition table at start, with its guards and context updates written out
 * here by the same names as in `setup(...)` and its side effects left to the host. A host
 * keeps a `Cell` per order (leaf + context, the same context XState would hold) and calls
 * `step`; no actor, no snapshot object per event. test/machines/order.step.test.ts checks it
 * equal to XState (state, context, host actions in order) on every model-based path and on
 * random event sequences.
 */

export type CompiledOrderMachine = CompiledMachine<OrderContext, OrderEvent>

/** The actions the host performs; the rest of the machine's actions are context updates. */
export const ORDER_EFFECTS = ["sendSubmit", "sendModify", "sendCancel", "reportOverfill", "denyCommand", "recordIgnored"] as const
export type OrderEffect = (typeof ORDER_EFFECTS)[number]

type Fill = Extract<OrderEvent, { type: "FILL" }>
const isTriggerKind = (k: OrderContext["kind"]): boolean => k !== "market" && k !== "limit"

// A fill's outcome is asked by up to two guards and then the update of the same step: computed once.
let memoContext: OrderContext | undefined
let memoEvent: Fill | undefined
let memoOutcome: FillOutcome | undefined
const outcomeOf = (c: OrderContext, f: Fill): FillOutcome => {
  if (memoContext === c && memoEvent === f && memoOutcome !== undefined) return memoOutcome
  memoOutcome = fillOutcome(c, f.quantity, f.price)
  memoContext = c
  memoEvent = f
  return memoOutcome
}

const changeOf = (e: OrderEvent): OrderChange => (e.type === "MODIFY" || e.type === "MODIFIED" ? e.change : {})
const changeKeepsOpen = (c: OrderContext, change: OrderChange): boolean => change.quantity === undefined || greaterThan(change.quantity, c.filledQty)

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

/**
 * A fresh copy of the context, field by field: every context then has one shape, and the copy
 * is a plain literal (an object spread of a context costs several times more on this path).
 * The copy is new, so setting its fields before returning it mutates nothing anyone holds.
 */
const copy = (c: OrderContext): Mutable<OrderContext> => ({
  clientOrderId: c.clientOrderId,
  instrumentId: c.instrumentId,
  side: c.side,
  kind: c.kind,
  timeInForce: c.timeInForce,
  venueOrderId: c.venueOrderId,
  quantity: c.quantity,
  filledQty: c.filledQty,
  leavesQty: c.leavesQty,
  avgPx: c.avgPx,
  price: c.price,
  triggerPrice: c.triggerPrice,
  expireAt: c.expireAt,
  fillIds: c.fillIds,
  duplicateFills: c.duplicateFills,
  overfilled: c.overfilled,
  overfillQty: c.overfillQty,
  lastOpen: c.lastOpen,
  pendingChange: c.pendingChange,
  expiring: c.expiring,
  cancelReason: c.cancelReason,
  rejectReason: c.rejectReason,
  ignoredMessages: c.ignoredMessages
})

type G = Guard<OrderContext, OrderEvent>
type U = Update<OrderContext, OrderEvent>

/** The machine's guards, except `gtdDue` (it needs the host's clock). */
export const ORDER_GUARDS: Readonly<Record<string, G>> = {
  isDuplicateFill: (c, e) => e.type === "FILL" && c.fillIds.includes(e.fillId),
  fillOverfills: (c, e) => e.type === "FILL" && outcomeOf(c, e).overfills,
  fillCompletes: (c, e) => e.type === "FILL" && outcomeOf(c, e).completes,
  isTriggerOrder: (c) => isTriggerKind(c.kind),
  triggersPending: (c) => isTriggerKind(c.kind) && c.lastOpen === "accepted",
  isGtd: (c) => c.timeInForce === "gtd" && c.expireAt !== null,
  isExpiring: (c) => c.expiring,
  modifyValid: (c, e) => e.type === "MODIFY" && changeKeepsOpen(c, e.change),
  changeValid: (c, e) => e.type === "MODIFIED" && changeKeepsOpen(c, e.change),
  lastOpenIsTriggered: (c) => c.lastOpen === "triggered",
  lastOpenIsPartiallyFilled: (c) => c.lastOpen === "partiallyFilled"
}

/** The machine's `assign` actions, as functions from context to context. */
export const ORDER_UPDATES: Readonly<Record<string, U>> = {
  countIgnored: (c) => ({ ...c, ignoredMessages: c.ignoredMessages + 1 }),
  countDuplicateFill: (c) => ({ ...c, duplicateFills: c.duplicateFills + 1 }),
  applyFill: (c, e) => {
    if (e.type !== "FILL") return c
    const o = outcomeOf(c, e)
    const n = copy(c)
    n.filledQty = o.filledQty
    n.leavesQty = o.leavesQty
    n.avgPx = o.avgPx
    n.overfillQty = o.overfillQty
    n.overfilled = o.overfillQty !== "0"
    // A new array per fill, as XState's assign makes: a context handed out never changes under its holder.
    n.fillIds = c.fillIds.concat(e.fillId)
    return n
  },
  recordAck: (c, e) => (e.type === "ACCEPTED" ? { ...c, venueOrderId: e.venueOrderId } : c),
  recordReject: (c, e) => ("reason" in e && typeof e.reason === "string" ? { ...c, rejectReason: e.reason } : c),
  recordCancel: (c, e) => (e.type === "CANCELED" ? { ...c, cancelReason: e.reason } : c),
  storePendingChange: (c, e) => ({ ...c, pendingChange: changeOf(e) }),
  applyChange: (c, e) => {
    const change = changeOf(e)
    const quantity = canonical(change.quantity ?? c.quantity)
    return { ...c, quantity, leavesQty: minus(quantity, c.filledQty), price: change.price ?? c.price, triggerPrice: change.triggerPrice ?? c.triggerPrice, pendingChange: null }
  },
  clearPendingChange: (c) => (c.pendingChange === null ? c : { ...c, pendingChange: null }),
  markExpiring: (c) => (c.expiring ? c : { ...c, expiring: true }),
  clearExpiring: (c) => (c.expiring ? { ...c, expiring: false } : c),
  setLastOpen: (c, _e, params) => {
    const status = (params as { status: OpenStatus }).status
    return c.lastOpen === status ? c : { ...c, lastOpen: status }
  }
}

/** The good-till-date is due: the host's clock has reached `expireAt`. */
export const gtdDueAt = (c: OrderContext, now: number): boolean => c.timeInForce === "gtd" && c.expireAt !== null && now >= c.expireAt

/**
 * Compiles the order machine with the host's clock. Compile once per host (at start), not per
 * order: the table is shared by every order the host steps.
 */
export const compileOrderMachine = (now: () => number, machine: OrderMachine = orderMachine): CompiledOrderMachine =>
  compileMachine<OrderContext, OrderEvent>(machine, {
    guards: { ...ORDER_GUARDS, gtdDue: (c) => gtdDueAt(c, now()) },
    updates: ORDER_UPDATES,
    effects: ORDER_EFFECTS,
    delays: ["gtdExpiry"]
  })

/** The initial context: the definition's context factory, with canonical text without a Decimal (checked equal). */
export const orderContextOf = (input: OrderInput): OrderContext => ({
  clientOrderId: input.clientOrderId,
  instrumentId: input.instrumentId,
  side: input.side,
  kind: input.kind,
  timeInForce: input.timeInForce,
  venueOrderId: null,
  quantity: canonical(input.quantity),
  filledQty: "0",
  leavesQty: canonical(input.quantity),
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
})

/**
 * How long the host's good-till-date timer waits (the definition's `gtdExpiry` delay), or
 * undefined when no timer is needed: for an order that is not good-till-date both transitions
 * of the delayed event are guarded false (`gtdDue`, `isGtd`), so XState's 24-day placeholder
 * timer can never do anything and the host arms none. setTimeout's limit is the clock's
 * business (`ClockService.setTimer` re-arms beyond it), so the wait is not capped here.
 */
export const gtdTimerMs = (c: OrderContext, now: number): number | undefined =>
  c.timeInForce === "gtd" && c.expireAt !== null ? Math.max(0, c.expireAt - now) : undefined
