import { expect } from "vitest"
import type { EventObject, SnapshotFrom, StateValue } from "xstate"
import { Decimal } from "../../src/domain/decimal.js"
import type { ClientOrderId, InstrumentId } from "../../src/domain/ids.js"
import { isTerminalOrder, type OrderEvent, type OrderInput, type orderMachine } from "../../src/machines/order.machine.js"

export type OrderSnapshot = SnapshotFrom<typeof orderMachine>

export const NOW = 1_700_000_000_000

export const orderInput = (over: Partial<OrderInput> = {}): OrderInput => ({
  clientOrderId: "s1-0-1" as ClientOrderId,
  instrumentId: "kraken-futures:PF_XBTUSD" as InstrumentId,
  side: "buy",
  kind: "limit",
  timeInForce: "gtc",
  quantity: "10",
  price: "100",
  ...over
})

/** `accepted` for `{ working: "accepted" }`: the status name a reader expects. */
export const statusOf = (value: StateValue): string => (typeof value === "string" ? value : statusOf(Object.values(value)[0] as StateValue))

export const fill = (fillId: string, quantity: string, price = "100"): OrderEvent => ({ type: "FILL", fillId, quantity, price })

/** Events the model-based and property tests draw from; their payloads exercise both sides of each guard. */
export const ORDER_MODEL_EVENTS: ReadonlyArray<OrderEvent> = [
  { type: "SUBMIT" },
  { type: "DENY", reason: "risk: halted" },
  { type: "ACCEPTED", venueOrderId: "V1" },
  { type: "REJECTED", reason: "insufficient margin" },
  { type: "TRIGGERED" },
  { type: "MODIFY", change: { quantity: "12" } },
  { type: "MODIFY", change: { quantity: "3" } },
  { type: "MODIFY", change: { quantity: "0" } },
  { type: "MODIFIED", change: { quantity: "12" } },
  { type: "MODIFIED", change: { quantity: "4" } },
  { type: "MODIFIED", change: { quantity: "0" } },
  { type: "MODIFY_REJECTED", reason: "would cross" },
  { type: "CANCEL" },
  { type: "CANCELED", reason: "requested" },
  { type: "CANCEL_REJECTED", reason: "order already filled" },
  { type: "EXPIRED" },
  fill("f1", "4", "100"),
  fill("f2", "6", "101"),
  fill("f3", "10", "99"),
  fill("f4", "11", "98"),
  { type: "RESTORED" },
  { type: "GTD_DUE" },
  { type: "xstate.after.gtdExpiry.order.working" } as unknown as OrderEvent
]

const dec = (s: string): Decimal => new Decimal(s)

export const assertOrderInvariant = (next: OrderSnapshot, prev: OrderSnapshot | undefined, event: EventObject | undefined): void => {
  const c = next.context
  const where = `${JSON.stringify(next.value)} after ${JSON.stringify(event)}`
  expect(dec(c.filledQty).lessThanOrEqualTo(c.quantity), `filled <= quantity in ${where}`).toBe(true)
  expect(dec(c.filledQty).plus(c.leavesQty).equals(c.quantity), `filled + leaves = quantity in ${where}`).toBe(true)
  expect(dec(c.filledQty).isNegative() || dec(c.leavesQty).isNegative(), `no negative quantity in ${where}`).toBe(false)
  expect(c.overfilled, `overfilled flag matches overfillQty in ${where}`).toBe(dec(c.overfillQty).greaterThan(0))
  expect(new Set(c.fillIds).size, `fill ids are unique in ${where}`).toBe(c.fillIds.length)
  if (statusOf(next.value) === "filled") expect(dec(c.leavesQty).isZero(), `filled has no leaves in ${where}`).toBe(true)
  if (prev !== undefined) {
    const from = statusOf(prev.value)
    const to = statusOf(next.value)
    if (isTerminalOrder(from) && !(from === "canceled" && to === "filled")) {
      expect(to, `terminal ${from} absorbs ${JSON.stringify(event)}`).toBe(from)
    }
    // Nothing is silently absorbed: an overfill raises the flag and never shrinks.
    expect(dec(c.overfillQty).greaterThanOrEqualTo(prev.context.overfillQty), `overfill never shrinks in ${where}`).toBe(true)
  }
}

/**
 * The traversal's abstraction of an order: what its guards look at (status, quantities, flags),
 * not the ids, prices and counters that only accumulate. Every concrete snapshot the paths
 * reach is still checked in full by the invariant.
 */
export const serializeOrder = (s: OrderSnapshot): string => {
  const c = s.context
  return JSON.stringify([s.value, c.quantity, c.filledQty, c.fillIds.length, c.overfilled, c.lastOpen, c.expiring, c.pendingChange !== null])
}
