import { createActor, setup } from "xstate"
import type { ClientOrderId, InstrumentId } from "../src/domain/ids.js"
import { orderMachine, type OrderEvent } from "../src/machines/order.machine.js"
import { rateFigure, throughput, type Bench } from "./harness.js"

// Baseline: the cheapest XState machine there is, two states toggled by one event.
const toggle = setup({ types: { events: {} as { type: "T" } } }).createMachine({
  id: "toggle",
  initial: "a",
  states: { a: { on: { T: "b" } }, b: { on: { T: "a" } } }
})

const input = {
  clientOrderId: "bench-0-1" as ClientOrderId,
  instrumentId: "kraken-futures:PF_XBTUSD" as InstrumentId,
  side: "buy",
  kind: "limit",
  timeInForce: "gtc",
  quantity: "1000000"
} as const

// A realistic mix through one live order: partial fills (Decimal arithmetic, dedupe), a
// modify round trip, a cancel rejected, duplicates. The order never completes, so each event
// does real work.
let seq = 0
const orderEvents = (): ReadonlyArray<OrderEvent> => {
  const out: OrderEvent[] = []
  for (let i = 0; i < 64; i++) {
    out.push({ type: "FILL", fillId: `f${seq++}`, quantity: "0.001", price: "65000.5" })
    if (i % 8 === 0) out.push({ type: "MODIFY", change: { price: "65001" } }, { type: "MODIFIED", change: { price: "65001" } })
    if (i % 16 === 0) out.push({ type: "CANCEL" }, { type: "CANCEL_REJECTED", reason: "busy" })
  }
  return out
}

export const benches: ReadonlyArray<Bench> = [
  {
    name: "machine.order",
    run: async () => {
      const base = createActor(toggle).start()
      const t: { type: "T" } = { type: "T" }
      const baseline = throughput([t], (e) => base.send(e))
      // A fresh order per batch keeps the fill-id list short, as for a real order.
      let order = createActor(orderMachine, { input }).start()
      order.send({ type: "SUBMIT" })
      order.send({ type: "ACCEPTED", venueOrderId: "V" })
      let batch = orderEvents()
      const rate = throughput([0], () => {
        for (const e of batch) order.send(e)
        order.stop()
        order = createActor(orderMachine, { input }).start()
        order.send({ type: "SUBMIT" })
        order.send({ type: "ACCEPTED", venueOrderId: "V" })
        batch = orderEvents()
      }) * (batch.length + 2)
      return [rateFigure("machine.order", rate, "xstate.two-state", baseline, { unit: "events/s", note: "order events incl. actor creation per order; baseline: one send on a two-state machine" })]
    }
  }
]
