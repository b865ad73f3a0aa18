import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { createActor, SimulatedClock, type AnyStateMachine } from "xstate"
import { isTerminalOrder, orderMachine, provideOrderClock, type OrderEvent, type OrderInput } from "../../src/machines/order.machine.js"
import { explore, formatCoverage } from "./model.js"
import { assertOrderInvariant, fill, NOW, ORDER_MODEL_EVENTS, orderInput, serializeOrder, statusOf, type OrderSnapshot } from "./order.fixtures.js"
import { compileOrderMachine } from "../../src/machines/order.step.js"
import { compiledOnPath, expectCompiledEqual, spyHostActions } from "./order.step.fixtures.js"

/** Records which host actions ran, in order. */
const withSpies = (machine: typeof orderMachine = orderMachine) => {
  const calls: string[] = []
  const spy = (name: string) => () => {
    calls.push(name)
  }
  const m = machine.provide({
    actions: {
      sendSubmit: spy("sendSubmit"),
      sendModify: spy("sendModify"),
      sendCancel: spy("sendCancel"),
      reportOverfill: spy("reportOverfill"),
      denyCommand: spy("denyCommand"),
      recordIgnored: spy("recordIgnored")
    }
  })
  return { machine: m, calls }
}

const run = (events: ReadonlyArray<OrderEvent>, input: OrderInput = orderInput(), machine: AnyStateMachine = orderMachine) => {
  const actor = createActor(machine, { input })
  actor.subscribe({ error: (e) => { throw e } })
  actor.start()
  let prev = actor.getSnapshot() as OrderSnapshot
  for (const e of events) {
    actor.send(e)
    const next = actor.getSnapshot() as OrderSnapshot
    assertOrderInvariant(next, prev, e)
    prev = next
  }
  return { actor, snapshot: prev, status: statusOf(prev.value), context: prev.context }
}

const ACK: OrderEvent = { type: "ACCEPTED", venueOrderId: "V1" }
const SUBMIT: OrderEvent = { type: "SUBMIT" }
const CANCEL: OrderEvent = { type: "CANCEL" }

describe("order machine — the ten defined outcomes", () => {
  it("1. a fill before the acceptance ack moves a submitted order to partiallyFilled and the late ack only records the venue order id", () => {
    const r = run([SUBMIT, fill("f1", "4", "100")])
    expect(r.status).toBe("partiallyFilled")
    expect(r.context).toMatchObject({ filledQty: "4", leavesQty: "6", avgPx: "100", venueOrderId: null })
    const late = run([SUBMIT, fill("f1", "4", "100"), ACK])
    expect(late.status).toBe("partiallyFilled")
    expect(late.context.venueOrderId).toBe("V1")
    expect(run([SUBMIT, fill("f1", "10", "100")]).status).toBe("filled")
  })

  it("2. a fill that races a cancel moves pendingCancel to partiallyFilled, or to filled when it completes the order", () => {
    const partial = run([SUBMIT, ACK, CANCEL, fill("f1", "4", "100")])
    expect(partial.status).toBe("partiallyFilled")
    expect(partial.context.filledQty).toBe("4")
    const full = run([SUBMIT, ACK, CANCEL, fill("f1", "4", "100"), fill("f2", "6", "102")])
    expect(full.status).toBe("filled")
    expect(full.context).toMatchObject({ filledQty: "10", leavesQty: "0", avgPx: "101.2" })
    // The cancel ack after the partial fill cancels the rest; a fill that raced it completes the order.
    const late = run([SUBMIT, ACK, CANCEL, fill("f1", "4"), { type: "CANCELED", reason: "requested" }, fill("f2", "6")])
    expect(late.status).toBe("filled")
  })

  it("3. a cancel rejected because the order already filled is recorded and the order stays filled", () => {
    const { machine, calls } = withSpies()
    const r = run([SUBMIT, ACK, CANCEL, fill("f1", "10"), { type: "CANCEL_REJECTED", reason: "order already filled" }], orderInput(), machine)
    expect(r.status).toBe("filled")
    expect(r.context.ignoredMessages).toBe(1)
    expect(calls).toEqual(["sendSubmit", "sendCancel", "recordIgnored"])
  })

  it("4. a rejected modify restores the state before pendingUpdate", () => {
    const modify: OrderEvent = { type: "MODIFY", change: { quantity: "12" } }
    const rejected: OrderEvent = { type: "MODIFY_REJECTED", reason: "would cross" }
    const fromAccepted = run([SUBMIT, ACK, modify])
    expect(fromAccepted.status).toBe("pendingUpdate")
    expect(fromAccepted.context.pendingChange).toEqual({ quantity: "12" })
    const restored = run([SUBMIT, ACK, modify, rejected])
    expect(restored.status).toBe("accepted")
    expect(restored.context).toMatchObject({ quantity: "10", pendingChange: null, rejectReason: "would cross" })
    expect(run([SUBMIT, ACK, fill("f1", "4"), modify, rejected]).status).toBe("partiallyFilled")
    expect(run([SUBMIT, ACK, { type: "TRIGGERED" }, modify, rejected], orderInput({ kind: "stopLimit", triggerPrice: "95" })).status).toBe("triggered")
    // The accepted change itself is applied from the venue's confirmation.
    const done = run([SUBMIT, ACK, modify, { type: "MODIFIED", change: { quantity: "12" } }])
    expect(done.status).toBe("accepted")
    expect(done.context).toMatchObject({ quantity: "12", leavesQty: "12", pendingChange: null })
  })

  it("5. modify or cancel of an order the venue already canceled is denied without a state change", () => {
    const { machine, calls } = withSpies()
    const r = run([SUBMIT, ACK, { type: "CANCELED", reason: "marketSuspended" }, CANCEL, { type: "MODIFY", change: { price: "101" } }], orderInput(), machine)
    expect(r.status).toBe("canceled")
    expect(r.context.ignoredMessages).toBe(2)
    expect(r.context.price).toBe("100")
    expect(calls).toEqual(["sendSubmit", "denyCommand", "denyCommand"])
  })

  it("6. a duplicate fill (same fill id) is ignored and counted", () => {
    const r = run([SUBMIT, ACK, fill("f1", "4", "100"), fill("f1", "4", "100"), fill("f1", "4", "100")])
    expect(r.status).toBe("partiallyFilled")
    expect(r.context).toMatchObject({ filledQty: "4", duplicateFills: 2, fillIds: ["f1"] })
    const filled = run([SUBMIT, ACK, fill("f1", "10"), fill("f1", "10")])
    expect(filled.context).toMatchObject({ duplicateFills: 1, overfilled: false })
  })

  it("7. an overfill is flagged and reported, never absorbed", () => {
    const { machine, calls } = withSpies()
    const r = run([SUBMIT, ACK, fill("f1", "4", "100"), fill("f2", "8", "106")], orderInput(), machine)
    expect(r.status).toBe("filled")
    expect(r.context).toMatchObject({ filledQty: "10", leavesQty: "0", overfilled: true, overfillQty: "2", avgPx: "104" })
    expect(calls).toContain("reportOverfill")
    // A further fill on a filled order is an overfill too.
    const more = run([SUBMIT, ACK, fill("f1", "10"), fill("f2", "1")], orderInput(), machine)
    expect(more.status).toBe("filled")
    expect(more.context).toMatchObject({ overfilled: true, overfillQty: "1", filledQty: "10" })
  })

  it("8. a venue-initiated cancel (post-only would cross, market suspended, dead man's switch) cancels the order with its reason", () => {
    for (const reason of ["postOnlyWouldCross", "marketSuspended", "deadMansSwitch"] as const) {
      const beforeAck = run([SUBMIT, { type: "CANCELED", reason }])
      expect(beforeAck.status).toBe("canceled")
      expect(beforeAck.context.cancelReason).toBe(reason)
      const partial = run([SUBMIT, ACK, fill("f1", "3"), { type: "CANCELED", reason }])
      expect(partial.status).toBe("canceled")
      expect(partial.context).toMatchObject({ cancelReason: reason, filledQty: "3", leavesQty: "7" })
    }
  })

  it("9. a good-till-date order expires: at expireAt the machine sends a cancel whose ack means expired; the venue's own expiry report also expires it", () => {
    const clock = new SimulatedClock()
    clock.set(NOW)
    const { machine, calls } = withSpies(provideOrderClock(orderMachine, () => clock.now()))
    const actor = createActor(machine, { input: orderInput({ timeInForce: "gtd", expireAt: NOW + 60_000 }), clock })
    actor.start()
    actor.send(SUBMIT)
    actor.send(ACK)
    clock.increment(59_999)
    expect(statusOf(actor.getSnapshot().value)).toBe("accepted")
    clock.increment(1)
    expect(statusOf(actor.getSnapshot().value)).toBe("pendingCancel")
    expect(actor.getSnapshot().context.expiring).toBe(true)
    expect(calls).toEqual(["sendSubmit", "sendCancel"])
    actor.send({ type: "CANCELED", reason: "requested" })
    expect(statusOf(actor.getSnapshot().value)).toBe("expired")
    expect(run([SUBMIT, ACK, fill("f1", "2"), { type: "EXPIRED" }]).status).toBe("expired")
    expect(run([SUBMIT, { type: "EXPIRED" }]).status).toBe("expired")
  })

  it("10. any message for a terminal order is recorded without a state change, except canceled → filled", () => {
    const terminals: Record<string, ReadonlyArray<OrderEvent>> = {
      denied: [{ type: "DENY", reason: "halted" }],
      rejected: [SUBMIT, { type: "REJECTED", reason: "bad price" }],
      filled: [SUBMIT, ACK, fill("f1", "10")],
      canceled: [SUBMIT, ACK, CANCEL, { type: "CANCELED", reason: "requested" }],
      expired: [SUBMIT, ACK, { type: "EXPIRED" }]
    }
    for (const [status, prefix] of Object.entries(terminals)) {
      for (const e of ORDER_MODEL_EVENTS) {
        if (e.type === "FILL" && status === "canceled") continue
        const r = run([...prefix, e])
        expect(r.status, `${status} + ${JSON.stringify(e)}`).toBe(status)
      }
    }
    const canceled = run([...(terminals.canceled ?? []), fill("f1", "4")])
    expect(canceled.status).toBe("canceled")
    expect(canceled.context.filledQty).toBe("4")
    expect(run([...(terminals.canceled ?? []), fill("f1", "10")]).status).toBe("filled")
  })
})

describe("order machine — model", () => {
  it("paths generated from the machine reach every state and every transition, with the invariants on every reached state; the compiled step agrees on each path", () => {
    // The host actions are spied so the compiled step (src/machines/order.step.ts) can be checked on the same paths.
    const spy = spyHostActions(provideOrderClock(orderMachine, () => NOW))
    const compiled = compileOrderMachine(() => NOW)
    let compared = 0
    const coverage = explore({
      name: "order",
      machine: spy.machine,
      beforeLast: () => {
        spy.calls = []
      },
      afterLast: (input, path, next) => {
        const c = compiledOnPath(compiled, input as OrderInput, path)
        expectCompiledEqual(compiled, c, next as OrderSnapshot, spy.calls, () => `after ${JSON.stringify(path)} from ${JSON.stringify(input)}`)
        compared++
      },
      inputs: [
        // guards read the kind (trigger or not) and whether the good-till-date is due
        orderInput(),
        orderInput({ kind: "stopLimit", triggerPrice: "95", timeInForce: "gtd", expireAt: NOW - 1 }),
        orderInput({ kind: "stopLimit", triggerPrice: "95", timeInForce: "gtd", expireAt: NOW + 1 })
      ],
      events: ORDER_MODEL_EVENTS,
      serialize: (s) => serializeOrder(s as OrderSnapshot),
      invariant: (next, prev, e) => assertOrderInvariant(next as OrderSnapshot, prev as OrderSnapshot | undefined, e)
    })
    console.log(formatCoverage(coverage))
    expect(coverage.missingStates).toEqual([])
    expect(coverage.missingTransitions).toEqual([])
    expect(compared).toBe(coverage.paths)
  })
})

describe("order machine — properties", () => {
  it("random event sequences never throw and never break an invariant", () => {
    const inputs = fc.constantFrom(
      orderInput(),
      orderInput({ kind: "stop", triggerPrice: "95" }),
      orderInput({ timeInForce: "gtd", expireAt: NOW }),
      orderInput({ quantity: "0.3" })
    )
    const randomFill = fc.record({
      type: fc.constant("FILL" as const),
      fillId: fc.constantFrom("a", "b", "c", "d", "e"),
      quantity: fc.constantFrom("0.1", "0.2", "1", "3", "4.5", "10", "11"),
      price: fc.constantFrom("99.5", "100", "100.25")
    })
    const event = fc.oneof(fc.constantFrom(...ORDER_MODEL_EVENTS), randomFill)
    fc.assert(
      fc.property(inputs, fc.array(event, { maxLength: 40 }), (input, events) => {
        const r = run(events, input, provideOrderClock(orderMachine, () => NOW))
        expect(r.actor.getSnapshot().status).toBe("active")
      }),
      { numRuns: 500 }
    )
  })

  it("a duplicate fill never changes anything but the duplicate counter", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...ORDER_MODEL_EVENTS), { maxLength: 20 }), (events) => {
        const r = run([SUBMIT, ACK, fill("f1", "1"), ...events])
        r.actor.send(fill("f1", "1"))
        const after = r.actor.getSnapshot().context
        expect({ ...after, duplicateFills: 0 }).toEqual({ ...r.context, duplicateFills: 0 })
        expect(after.duplicateFills).toBe(r.context.duplicateFills + 1)
      }),
      { numRuns: 200 }
    )
  })

  it("terminal statuses are exactly the five absorbing ones", () => {
    expect(["denied", "rejected", "filled", "canceled", "expired"].every(isTerminalOrder)).toBe(true)
    expect(["initialized", "submitted", "accepted", "triggered", "pendingUpdate", "pendingCancel", "partiallyFilled"].some(isTerminalOrder)).toBe(false)
  })
})

describe("order machine — persistence", () => {
  it("a persisted snapshot survives JSON and restores the same state and context", () => {
    const r = run([SUBMIT, ACK, fill("f1", "4", "100.5"), { type: "MODIFY", change: { price: "101" } }])
    const json = JSON.stringify(r.actor.getPersistedSnapshot())
    const restored = createActor(orderMachine, { input: orderInput(), snapshot: JSON.parse(json) as OrderSnapshot }).start()
    expect(restored.getSnapshot().value).toEqual({ working: "pendingUpdate" })
    expect(restored.getSnapshot().context).toEqual(r.context)
    // The restored order carries on: the duplicate is still recognised, the modify still restores.
    restored.send(fill("f1", "4", "100.5"))
    restored.send({ type: "MODIFY_REJECTED", reason: "x" })
    expect(statusOf(restored.getSnapshot().value)).toBe("partiallyFilled")
    expect(restored.getSnapshot().context.duplicateFills).toBe(1)
  })

  it("the good-till-date timer is not re-armed by XState on restore; the host's RESTORED re-arms it", () => {
    const clock = new SimulatedClock()
    clock.set(NOW)
    const input = orderInput({ timeInForce: "gtd", expireAt: NOW + 60_000 })
    const before = createActor(provideOrderClock(orderMachine, () => clock.now()), { input, clock }).start()
    before.send(SUBMIT)
    before.send(fill("f1", "4"))
    const json = JSON.stringify(before.getPersistedSnapshot())
    before.stop()

    clock.increment(30_000)
    const clock2 = new SimulatedClock()
    clock2.set(clock.now())
    const { machine, calls } = withSpies(provideOrderClock(orderMachine, () => clock2.now()))
    const bare = createActor(machine, { input, snapshot: JSON.parse(json) as OrderSnapshot, clock: clock2 }).start()
    clock2.increment(120_000)
    expect(statusOf(bare.getSnapshot().value), "nothing fires without RESTORED").toBe("partiallyFilled")

    const clock3 = new SimulatedClock()
    clock3.set(NOW + 30_000)
    const rearmed = withSpies(provideOrderClock(orderMachine, () => clock3.now()))
    const actor = createActor(rearmed.machine, { input, snapshot: JSON.parse(json) as OrderSnapshot, clock: clock3 }).start()
    actor.send({ type: "RESTORED" })
    expect(statusOf(actor.getSnapshot().value), "history keeps the open state").toBe("partiallyFilled")
    clock3.increment(29_999)
    expect(statusOf(actor.getSnapshot().value)).toBe("partiallyFilled")
    clock3.increment(1)
    expect(statusOf(actor.getSnapshot().value)).toBe("pendingCancel")
    expect(rearmed.calls).toEqual(["sendCancel"])
    expect(calls).toEqual([])
  })
})
