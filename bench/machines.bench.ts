import { createActor, initialTransition, transition, type SnapshotFrom } from "xstate"
import type { ClientOrderId, InstrumentId } from "../src/domain/ids.js"
import type { StepHost } from "../src/machines/compile.js"
import { orderMachine, type OrderContext, type OrderEvent, type OrderInput } from "../src/machines/order.machine.js"
import { compileOrderMachine, orderContextOf } from "../src/machines/order.step.js"
import { rateFigure, throughput, type Bench } from "./harness.js"

/**
 * machine.order: one order's events through the order machine, three ways on the same
 * definition and the same events, in the same run:
 * - compiled: the transition table of src/machines/order.step.ts on a cell (what OrderManager runs);
 * - xstate.transition: XState's pure `transition(machine, snapshot, event)` (it builds an actor
 *   scope inside each call, so it is measured, not trusted);
 * - xstate.actor: an XState actor per order, `send` per event (the path before compiled steps).
 * Each order is created (context from input, SUBMIT, ACCEPTED) and then takes a realistic mix:
 * 64 partial fills at one price, a modify round trip every 8, a rejected cancel every 16; it
 * never completes, so every event does real work. Host actions are no-ops on every path: the
 * figure is the machine's own cost, not the gateway's.
 */

const input: OrderInput = {
  clientOrderId: "bench-0-1" as ClientOrderId,
  instrumentId: "kraken-futures:PF_XBTUSD" as InstrumentId,
  side: "buy",
  kind: "limit",
  timeInForce: "gtc",
  quantity: "1000000",
  price: "65000.5"
}

const orderEvents = (batch: number): ReadonlyArray<OrderEvent> => {
  const out: OrderEvent[] = [{ type: "SUBMIT" }, { type: "ACCEPTED", venueOrderId: `V${batch}` }]
  for (let i = 0; i < 64; i++) {
    out.push({ type: "FILL", fillId: `f${batch}-${i}`, quantity: "0.001", price: "65000.5" })
    if (i % 8 === 0) out.push({ type: "MODIFY", change: { price: "65001" } }, { type: "MODIFIED", change: { price: "65001" } })
    if (i % 16 === 0) out.push({ type: "CANCEL" }, { type: "CANCEL_REJECTED", reason: "busy" })
  }
  return out
}

// The same orders for every path: 64 orders' event lists, cycled.
const ORDERS = Array.from({ length: 64 }, (_, k) => orderEvents(k))
const EVENTS_PER_ORDER = (ORDERS[0] as ReadonlyArray<OrderEvent>).length

const noopHost: StepHost<OrderContext, OrderEvent> = { effect: () => {}, schedule: () => {}, cancel: () => {} }

export const benches: ReadonlyArray<Bench> = [
  {
    name: "machine.order",
    run: async () => {
      const compiled = compileOrderMachine(() => 0)
      let lastCompiled = ""
      const compiledPath = (events: ReadonlyArray<OrderEvent>): void => {
        const cell = compiled.start(orderContextOf(input), noopHost)
        for (const e of events) compiled.step(cell, e, noopHost)
        lastCompiled = cell.context.filledQty
      }
      let lastPure = ""
      const purePath = (events: ReadonlyArray<OrderEvent>): void => {
        let [s] = initialTransition(orderMachine, input)
        for (const e of events) [s] = transition(orderMachine, s, e)
        lastPure = (s as SnapshotFrom<typeof orderMachine>).context.filledQty
      }
      let lastActor = ""
      const actorPath = (events: ReadonlyArray<OrderEvent>): void => {
        const a = createActor(orderMachine, { input }).start()
        for (const e of events) a.send(e)
        lastActor = a.getSnapshot().context.filledQty
        a.stop()
      }
      // The three paths take turns, round after round (best round each): on a shared, noisy
      // machine a load spike then hits every path, not one.
      let compiledRate = 0
      let pureRate = 0
      let actorRate = 0
      for (let round = 0; round < 4; round++) {
        compiledRate = Math.max(compiledRate, throughput(ORDERS, compiledPath, { rounds: 1 }) * EVENTS_PER_ORDER)
        pureRate = Math.max(pureRate, throughput(ORDERS, purePath, { rounds: 1 }) * EVENTS_PER_ORDER)
        actorRate = Math.max(actorRate, throughput(ORDERS, actorPath, { rounds: 1 }) * EVENTS_PER_ORDER)
      }

      // The three paths must have done the same work.
      if (lastCompiled !== lastPure || lastCompiled !== lastActor) throw new Error(`paths disagree: ${lastCompiled} / ${lastPure} / ${lastActor}`)
      const note = `one order per ${EVENTS_PER_ORDER} events (created, submitted, accepted, 64 fills, modifies, rejected cancels); host actions no-ops`
      return [
        rateFigure("machine.order", compiledRate, "xstate.actor (an actor per order)", actorRate, { unit: "events/s", path: "compiled step", note }),
        rateFigure("machine.order.xstate_transition", pureRate, "xstate.actor (an actor per order)", actorRate, { unit: "events/s", path: "xstate transition()", note })
      ]
    }
  }
]
