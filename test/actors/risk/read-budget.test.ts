import { describe, expect, it } from "vitest"
import { RequestBudgetClosed } from "../../../src/actors/ports/request-budget.js"
import { accountLimits, cancel, ETH, makeRisk, submit } from "./fixtures.js"

const flush = () => new Promise((r) => setImmediate(r))

describe("reads pay the venue budget through risk", () => {
  it("a read that finds no budget waits in line, is never sent over the budget less the cancel reserve, and is journaled when it leaves", async () => {
    const { risk, clock, events } = makeRisk({ limits: { ...accountLimits, maxOpenOrders: 100 } })
    const orders = Array.from({ length: 39 }, () => submit({ instrument: ETH, qty: "0.01", price: "3000" }))
    for (const o of orders) expect(risk.decide(o)._tag).toBe("Approved")
    expect(risk.rateUsed).toBe(390)
    // 390 + 25 > 400 (budget less reserve): the paged fills read waits.
    let sent = false
    const read = risk.requestBudget.reserve("fillsBefore").then(() => (sent = true))
    await flush()
    expect(sent).toBe(false)
    expect(risk.readsWaiting).toBe(1)
    // A submit that would fit on its own (400) is denied: the waiting read's cost is held for it.
    const d = risk.decide(submit({ instrument: ETH, qty: "0.01", price: "3000" }))
    expect(d._tag === "Denied" && d.event.reason).toBe("RATE_LIMIT")
    // Cancels keep their reserve.
    expect(risk.decide(cancel(orders[0]!.clientOrderId, ETH))._tag).toBe("Approved")
    expect(risk.rateUsed).toBe(400)
    clock.advance(10_499)
    await flush()
    expect(sent).toBe(false)
    clock.advance(1)
    await read
    expect(sent).toBe(true)
    // Everything of t=0 (submits and the cancel) left at 10 s + margin; what counts now is the read.
    expect(risk.rateUsed).toBe(25)
    expect(events.at(-1)).toMatchObject({ _tag: "VenueRequestSent", call: "fillsBefore", cost: 25, ts: clock.now() })
  })

  it("reads are served first come first served", async () => {
    const { risk, clock } = makeRisk({ limits: { ...accountLimits, maxOpenOrders: 100 } })
    for (let k = 0; k < 40; k++) risk.decide(submit({ instrument: ETH, qty: "0.01", price: "3000" }))
    const order: string[] = []
    const a = risk.requestBudget.reserve("fillsBefore").then(() => order.push("a"))
    const b = risk.requestBudget.reserve("openorders").then(() => order.push("b"))
    const c = risk.requestBudget.reserve("openpositions").then(() => order.push("c"))
    clock.advance(10_500)
    await Promise.all([a, b, c])
    expect(order).toEqual(["a", "b", "c"])
  })

  it("a stopped risk actor refuses the reads still waiting: they are never sent", async () => {
    const { risk } = makeRisk({ limits: { ...accountLimits, maxOpenOrders: 100 } })
    for (let k = 0; k < 40; k++) risk.decide(submit({ instrument: ETH, qty: "0.01", price: "3000" }))
    const waiting = risk.requestBudget.reserve("openorders")
    risk.stop()
    await expect(waiting).rejects.toBeInstanceOf(RequestBudgetClosed)
    await expect(risk.requestBudget.reserve("openorders")).rejects.toBeInstanceOf(RequestBudgetClosed)
  })
})
