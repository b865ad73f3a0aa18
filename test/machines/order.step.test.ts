import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { createActor, SimulatedClock, type EventObject } from "xstate"
import { OrderActor } from "../../src/actors/orders/order.actor.js"
import { makeSimulatedClock } from "../../src/actors/clock.js"
import { Decimal } from "../../src/domain/decimal.js"
import { compileMachine, MachineCompileError } from "../../src/machines/compile.js"
import { orderMachine, provideOrderClock, type OrderEvent, type OrderInput } from "../../src/machines/order.machine.js"
import { fillOutcome, fillOutcomeDecimal, greaterThan, minus } from "../../src/machines/order-quantities.js"
import { compileOrderMachine, ORDER_EFFECTS, ORDER_GUARDS, ORDER_UPDATES, orderContextOf } from "../../src/machines/order.step.js"
import { fill, NOW, ORDER_MODEL_EVENTS, orderInput, type OrderSnapshot } from "./order.fixtures.js"
import { compiledHistory, compiledRun, expectCompiledEqual, spyHostActions } from "./order.step.fixtures.js"

/**
 * The compiled order step against XState on the same definition: after every event the leaf's
 * value, the whole context, the history value and the host actions run so far (with the context
 * each one saw) must be equal. Every path of the model-based traversal is checked the same way
 * inside the model test (order.machine.test.ts), on the traversal's own XState runs.
 */
const compiled = compileOrderMachine(() => NOW)
const clocked = provideOrderClock(orderMachine, () => NOW)
const spy = spyHostActions(clocked)
// A clock that never moves: timers are compared in the OrderActor tests, not here.
const stillClock = new SimulatedClock()
stillClock.set(NOW)

const runBoth = (input: OrderInput, events: ReadonlyArray<EventObject>) => {
  spy.calls = []
  const x = createActor(spy.machine, { input, clock: stillClock })
  x.subscribe({ error: (e) => { throw e } })
  x.start()
  const c = compiledRun(compiled, input)
  expectCompiledEqual(compiled, c, x.getSnapshot() as OrderSnapshot, spy.calls, () => "at start")
  events.forEach((e, k) => {
    x.send(e as OrderEvent)
    c.step(e as OrderEvent)
    expectCompiledEqual(compiled, c, x.getSnapshot() as OrderSnapshot, spy.calls, () => `after ${JSON.stringify(events.slice(0, k + 1))} from ${JSON.stringify(input)}`)
  })
  return { x, c }
}

const MODEL_INPUTS = [
  orderInput(),
  orderInput({ kind: "stopLimit", triggerPrice: "95", timeInForce: "gtd", expireAt: NOW - 1 }),
  orderInput({ kind: "stopLimit", triggerPrice: "95", timeInForce: "gtd", expireAt: NOW + 1 })
]

describe("order machine as compiled steps — equal to XState", () => {
  it("random event sequences (odd quantities and prices included) give the same state, context and host actions after every event", () => {
    const inputs = fc.constantFrom(
      orderInput(),
      orderInput({ kind: "stop", triggerPrice: "95" }),
      orderInput({ timeInForce: "gtd", expireAt: NOW }),
      orderInput({ timeInForce: "gtd", expireAt: NOW + 5 }),
      orderInput({ quantity: "0.3" }),
      orderInput({ quantity: "1.50" }),
      orderInput({ quantity: "2e1" })
    )
    const randomFill = fc.record({
      type: fc.constant("FILL" as const),
      fillId: fc.constantFrom("a", "b", "c", "d", "e"),
      quantity: fc.constantFrom("0", "0.1", "0.2", "1", "3", "4.5", "10", "11", "0.0000000000000001", "1e-3", "3.000"),
      price: fc.constantFrom("99.5", "100", "100.25", "100.250", "1e2", "33.333333333333333333333333333333333333")
    })
    const randomModify = fc.record({
      type: fc.constantFrom("MODIFY" as const, "MODIFIED" as const),
      change: fc.record({ quantity: fc.constantFrom("0", "4", "12", "4.50", "1e1"), price: fc.constantFrom("101", "99.75") }, { requiredKeys: [] })
    })
    const event = fc.oneof(fc.constantFrom(...ORDER_MODEL_EVENTS), randomFill, randomModify)
    fc.assert(
      fc.property(inputs, fc.array(event, { maxLength: 40 }), (input, events) => {
        const { c } = runBoth(input, events as ReadonlyArray<EventObject>)
        // The compiled order's persisted snapshot restores in XState as the same order.
        const restored = createActor(clocked, { input, snapshot: JSON.parse(JSON.stringify({ status: "active", value: compiled.leaves[c.cell.leaf]?.value, context: c.cell.context, historyValue: compiledHistory(c.cell), children: {} })) as OrderSnapshot }).start()
        expect(restored.getSnapshot().value).toEqual(compiled.leaves[c.cell.leaf]?.value)
        expect(restored.getSnapshot().context).toEqual(c.cell.context)
      }),
      { numRuns: 400 }
    )
  })

  it("the definition's initial context and the compiled one are the same for every input shape", () => {
    for (const input of [...MODEL_INPUTS, orderInput({ quantity: "010.500" }), orderInput({ quantity: "1e3", price: "5" })]) {
      const x = createActor(orderMachine, { input }).start()
      expect(orderContextOf(input)).toEqual(x.getSnapshot().context)
    }
  })

  it("the table arms the good-till-date timer on entering working and disarms it on leaving (XState's after)", () => {
    const c = compiledRun(compiled, orderInput({ timeInForce: "gtd", expireAt: NOW + 60_000 }))
    c.step({ type: "SUBMIT" })
    c.step({ type: "ACCEPTED", venueOrderId: "V1" })
    c.step(fill("f1", "4"))
    c.step({ type: "RESTORED" })
    c.step({ type: "CANCELED", reason: "requested" })
    const t = "xstate.after.gtdExpiry.order.working"
    // RESTORED re-enters working: the timer is re-armed, as XState does.
    expect(c.timers).toEqual([`arm ${t}`, `disarm ${t}`, `arm ${t}`, `disarm ${t}`])
  })

  it("a machine the compiler does not understand fails at compile time, naming what is missing", () => {
    expect(() => compileMachine(orderMachine, { guards: ORDER_GUARDS, updates: ORDER_UPDATES, effects: ORDER_EFFECTS, delays: ["gtdExpiry"] })).toThrow(MachineCompileError)
    expect(() => compileMachine(orderMachine, { guards: ORDER_GUARDS, updates: ORDER_UPDATES, effects: ORDER_EFFECTS, delays: ["gtdExpiry"] })).toThrow(/guard "gtdDue"/)
    expect(() => compileMachine(orderMachine, { guards: { ...ORDER_GUARDS, gtdDue: () => false }, updates: ORDER_UPDATES, effects: ORDER_EFFECTS.filter((n) => n !== "sendCancel"), delays: ["gtdExpiry"] })).toThrow(/action "sendCancel"/)
  })
})

describe("order actor on compiled steps — timers on the host clock", () => {
  const make = (input: OrderInput) => {
    const clock = makeSimulatedClock(NOW)
    const machine = compileOrderMachine(clock.now)
    const effects: string[] = []
    const errors: unknown[] = []
    const a = new OrderActor(input.clientOrderId, "s1", machine, input, clock, (name) => effects.push(name), (e) => errors.push(e))
    return { a, clock, effects, errors }
  }

  it("a good-till-date order sends its cancel at expireAt and the ack expires it; no timer is left behind", () => {
    const { a, clock, effects } = make(orderInput({ timeInForce: "gtd", expireAt: NOW + 60_000 }))
    a.send({ type: "SUBMIT" })
    a.send({ type: "ACCEPTED", venueOrderId: "V1" })
    expect(clock.pendingTimers()).toBe(1)
    clock.advance(59_999)
    expect(a.status).toBe("accepted")
    clock.advance(1)
    expect(a.status).toBe("pendingCancel")
    expect(a.context.expiring).toBe(true)
    expect(effects).toEqual(["sendSubmit", "sendCancel"])
    a.send({ type: "CANCELED", reason: "requested" })
    expect(a.status).toBe("expired")
    expect(clock.pendingTimers()).toBe(0)
  })

  it("an order that is not good-till-date arms no timer at all (XState's 24-day placeholder can never fire a transition)", () => {
    const { a, clock } = make(orderInput())
    a.send({ type: "SUBMIT" })
    a.send({ type: "ACCEPTED", venueOrderId: "V1" })
    expect(a.status).toBe("accepted")
    expect(clock.pendingTimers()).toBe(0)
  })

  it("a stopped order disarms its timer and ignores events; a failing host effect leaves it in error, reported once", () => {
    const { a, clock } = make(orderInput({ timeInForce: "gtd", expireAt: NOW + 60_000 }))
    a.send({ type: "SUBMIT" })
    a.send({ type: "ACCEPTED", venueOrderId: "V1" })
    a.stop()
    expect(clock.pendingTimers()).toBe(0)
    a.send({ type: "CANCELED", reason: "requested" })
    expect(a.status).toBe("accepted")
    expect(a.actor.getSnapshot().status).toBe("stopped")

    const clock2 = makeSimulatedClock(NOW)
    const errors: unknown[] = []
    const b = new OrderActor("s1-0-2", "s1", compileOrderMachine(clock2.now), orderInput(), clock2, () => {
      throw new Error("gateway down")
    }, (e) => errors.push(e))
    b.send({ type: "SUBMIT" })
    b.send({ type: "ACCEPTED", venueOrderId: "V2" })
    expect(errors).toHaveLength(1)
    expect(b.actor.getSnapshot().status).toBe("error")
  })

  it("an event sent from inside a step waits for the step to finish, as in XState's mailbox", () => {
    const clock = makeSimulatedClock(NOW)
    const seenStatus: string[] = []
    const a: OrderActor = new OrderActor("s1-0-3", "s1", compileOrderMachine(clock.now), orderInput(), clock, (name) => {
      // The venue answers synchronously, from inside the submit.
      if (name === "sendSubmit") a.send({ type: "ACCEPTED", venueOrderId: "V3" })
      seenStatus.push(a.status)
    }, () => undefined)
    a.send({ type: "SUBMIT" })
    // Inside the step the order still shows where it was, as an XState actor's getSnapshot does inside an action.
    expect(seenStatus).toEqual(["initialized"])
    expect(a.status).toBe("accepted")
    expect(a.context.venueOrderId).toBe("V3")
  })

  it("the persisted snapshot has XState's shape and restores in XState", () => {
    const { a } = make(orderInput())
    a.send({ type: "SUBMIT" })
    a.send({ type: "ACCEPTED", venueOrderId: "V1" })
    a.send(fill("f1", "10", "100"))
    const x = createActor(orderMachine, { input: orderInput() }).start()
    x.send({ type: "SUBMIT" })
    x.send({ type: "ACCEPTED", venueOrderId: "V1" })
    x.send(fill("f1", "10", "100"))
    expect(JSON.parse(JSON.stringify(a.actor.getPersistedSnapshot()))).toEqual(JSON.parse(JSON.stringify(x.getPersistedSnapshot())))
  })
})

describe("order quantities on scaled integers — equal to the Decimal formulas", () => {
  const decimalText = fc.oneof(
    fc.tuple(fc.bigInt({ min: 0n, max: 10n ** 18n }), fc.integer({ min: 0, max: 18 })).map(([m, d]) => {
      const s = m.toString().padStart(d + 1, "0")
      return d === 0 ? s : `${s.slice(0, -d)}.${s.slice(-d)}`
    }),
    fc.constantFrom("0", "1", "10", "0.1", "1e-3", "2E2", "1.50", "00.5", "123456789012345678901234567890")
  )
  const price = fc.oneof(decimalText, fc.constantFrom("65000.5", "100", "33.3333333333333333333333333333333333333"))

  it("a fill's filled, leaves, overfill, average price, overfills and completes match Decimal", () => {
    fc.assert(
      fc.property(decimalText, decimalText, decimalText, fc.option(price, { nil: null }), decimalText, price, fc.boolean(), (quantity, filledQty, overfillQty, avgPx, qty, px, samePx) => {
        // Contexts hold Decimal's own text, as the machine writes it.
        const c = { quantity: new Decimal(quantity).toString(), filledQty: new Decimal(filledQty).toString(), overfillQty: new Decimal(overfillQty).toString(), avgPx: avgPx === null ? null : new Decimal(avgPx).toString() }
        const fillPx = samePx && c.avgPx !== null ? c.avgPx : px
        expect(fillOutcome(c, qty, fillPx)).toEqual(fillOutcomeDecimal(c, qty, fillPx))
      }),
      { numRuns: 3_000 }
    )
  })

  it("greaterThan and minus match Decimal", () => {
    fc.assert(
      fc.property(decimalText, decimalText, (a, b) => {
        expect(greaterThan(a, b)).toBe(new Decimal(a).greaterThan(b))
        expect(minus(a, b)).toBe(new Decimal(a).minus(b).toString())
      }),
      { numRuns: 3_000 }
    )
  })
})
