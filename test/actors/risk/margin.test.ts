import { describe, expect, it } from "vitest"
import { dec } from "../../../src/domain/decimal.js"
import type { OrderEvent } from "../../../src/domain/events/orders.js"
import type { RiskDenied } from "../../../src/domain/events/risk.js"
import type { ClientOrderId, VenueOrderId } from "../../../src/domain/ids.js"
import { ACCOUNT, XBT, makeRisk, submit } from "./fixtures.js"

// Fixture: PF_XBTUSD, contract size 1, mid 50 000; no initialMarginRate in its limits: 0.02.
// A buy of 1 at 50 000 needs 50 000 × 0.02 = 1 000 of initial margin.
const report = (tag: "OrderAccepted" | "OrderRejected" | "OrderCanceled", clientOrderId: ClientOrderId): OrderEvent => {
  const base = { id: `r-${clientOrderId}-${tag}`, ts: 0, source: "venue", account: ACCOUNT, instrument: XBT, clientOrderId }
  if (tag === "OrderAccepted") return { _tag: tag, ...base, venueOrderId: `v-${clientOrderId}` as VenueOrderId }
  if (tag === "OrderRejected") return { _tag: tag, ...base, reason: "test" }
  return { _tag: tag, ...base }
}

const denial = (d: ReturnType<ReturnType<typeof makeRisk>["risk"]["decide"]>): RiskDenied => {
  if (d._tag !== "Denied") throw new Error(`expected a denial, got ${d._tag}`)
  return d.event
}

describe("risk's margin check", () => {
  it("denies an order beyond the available margin with the reason code, the required initial margin and the available margin", () => {
    const { risk, events } = makeRisk({ margin: { whenUnknown: "deny" } })
    risk.onAccountMargin({ available: dec("999.5") })
    const e = denial(risk.decide(submit({ qty: "1", price: "50000" })))
    expect(e.reason).toBe("INSUFFICIENT_MARGIN")
    expect(e.limit?.toString()).toBe("999.5")
    expect(e.actual?.toString()).toBe("1000")
    expect(e.detail).toContain("initial margin 1000 exceeds available margin 999.5")
    // Journaled like every decision, and nothing was reserved or opened.
    expect(events.filter((x) => x._tag === "RiskDenied")).toHaveLength(1)
    expect(risk.openOrderCount).toBe(0)
    expect(risk.margin?.reservations).toBe(0)
  })

  it("approves an order whose initial margin fits exactly, and reserves it until the venue's figure counts it", () => {
    const { risk } = makeRisk({ margin: { whenUnknown: "deny" } })
    risk.onAccountMargin({ available: dec("1500") })
    const first = submit({ qty: "1", price: "50000" })
    expect(risk.decide(first)._tag).toBe("Approved")
    expect(risk.margin?.available()?.toString()).toBe("500")
    // The second one would fit the venue's figure, but not with the first one counted.
    const second = denial(risk.decide(submit({ qty: "1", price: "50000" })))
    expect(second.reason).toBe("INSUFFICIENT_MARGIN")
    expect(second.limit?.toString()).toBe("500")
    expect(second.actual?.toString()).toBe("1000")
    // 0.5 at 50 000 needs exactly 500: approved.
    expect(risk.decide(submit({ qty: "0.5", price: "50000" }))._tag).toBe("Approved")
    expect(risk.margin?.available()?.toString()).toBe("0")
  })

  it("a rejected order gives its reservation back at once", () => {
    const { risk } = makeRisk({ margin: { whenUnknown: "deny" } })
    risk.onAccountMargin({ available: dec("1000") })
    const first = submit({ qty: "1", price: "50000" })
    expect(risk.decide(first)._tag).toBe("Approved")
    expect(risk.decide(submit({ qty: "1", price: "50000" }))._tag).toBe("Denied")
    risk.onOrderEvent(report("OrderRejected", first.clientOrderId))
    expect(risk.margin?.available()?.toString()).toBe("1000")
    expect(risk.decide(submit({ qty: "1", price: "50000" }))._tag).toBe("Approved")
  })

  it("an accepted order is released only by the next venue figure, which counts it", () => {
    const { risk } = makeRisk({ margin: { whenUnknown: "deny" } })
    risk.onAccountMargin({ available: dec("3000") })
    const first = submit({ qty: "1", price: "50000" })
    expect(risk.decide(first)._tag).toBe("Approved")
    risk.onOrderEvent(report("OrderAccepted", first.clientOrderId))
    // Accepted but the venue has not said so in a figure yet: still reserved.
    expect(risk.margin?.available()?.toString()).toBe("2000")
    risk.onAccountMargin({ available: dec("2000") })
    expect(risk.margin?.reservations).toBe(0)
    expect(risk.margin?.available()?.toString()).toBe("2000")
    // An order not yet answered survives a figure (the venue cannot have counted it).
    const second = submit({ qty: "1", price: "50000" })
    expect(risk.decide(second)._tag).toBe("Approved")
    risk.onAccountMargin({ available: dec("2000") })
    expect(risk.margin?.available()?.toString()).toBe("1000")
  })

  it("a market order is valued at the mark", () => {
    const { risk } = makeRisk({ margin: { whenUnknown: "deny" } })
    risk.onMark(XBT, dec("60000"))
    risk.onAccountMargin({ available: dec("1199") })
    const e = denial(risk.decide(submit({ orderType: "market", qty: "1", price: undefined })))
    expect(e.reason).toBe("INSUFFICIENT_MARGIN")
    expect(e.actual?.toString()).toBe("1200")
  })

  it("orders that only reduce the position, and reduce-only orders, pass with no margin left", () => {
    const { risk } = makeRisk({ margin: { whenUnknown: "deny" } })
    risk.onPosition(XBT, dec("2"))
    risk.onAccountMargin({ available: dec("0") })
    expect(risk.decide(submit({ side: "sell", qty: "1", price: "50000" }))._tag).toBe("Approved")
    expect(risk.decide(submit({ side: "sell", qty: "1", price: "50000", reduceOnly: true }))._tag).toBe("Approved")
    // The position is covered by the two open sells now: a third sell opens a short and needs margin.
    expect(denial(risk.decide(submit({ side: "sell", qty: "1", price: "50000" }))).reason).toBe("INSUFFICIENT_MARGIN")
  })

  it("unknown margin denies under the deny policy, passes under allow; a stale figure is unknown", () => {
    const deny = makeRisk({ margin: { whenUnknown: "deny" } }).risk
    const e = denial(deny.decide(submit({ qty: "0.001", price: "50000" })))
    expect(e.reason).toBe("MARGIN_UNKNOWN")
    expect(e.detail).toContain("has not reported")
    deny.onAccountMargin({ available: dec("100000") })
    expect(deny.decide(submit({ qty: "0.001", price: "50000" }))._tag).toBe("Approved")
    deny.onAccountMarginStale("private feed disconnected")
    const stale = denial(deny.decide(submit({ qty: "0.001", price: "50000" })))
    expect(stale.reason).toBe("MARGIN_UNKNOWN")
    expect(stale.detail).toContain("private feed disconnected")
    deny.onAccountMargin({ available: dec("100000") })
    expect(deny.decide(submit({ qty: "0.001", price: "50000" }))._tag).toBe("Approved")

    const allow = makeRisk({ margin: { whenUnknown: "allow" } }).risk
    expect(allow.decide(submit({ qty: "1", price: "50000" }))._tag).toBe("Approved")
  })

  it("a modify that adds size checks the margin of the added size", () => {
    const { risk } = makeRisk({ margin: { whenUnknown: "deny" } })
    risk.onAccountMargin({ available: dec("1500") })
    const o = submit({ qty: "1", price: "50000" })
    expect(risk.decide(o)._tag).toBe("Approved")
    risk.onOrderEvent(report("OrderAccepted", o.clientOrderId))
    const e = denial(risk.decide({ _tag: "ModifyOrder", id: "m-1", ts: 0, source: "test", account: ACCOUNT, strategy: o.strategy, instrument: XBT, clientOrderId: o.clientOrderId, qty: dec("2") }))
    expect(e.reason).toBe("INSUFFICIENT_MARGIN")
    expect(e.limit?.toString()).toBe("500")
    expect(e.actual?.toString()).toBe("1000")
  })

  it("without a margin policy nothing is checked (venues that report no account figures)", () => {
    const { risk } = makeRisk()
    expect(risk.margin).toBeUndefined()
    expect(risk.decide(submit({ qty: "1", price: "50000" }))._tag).toBe("Approved")
  })
})
