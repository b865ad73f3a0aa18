import { describe, expect, it } from "vitest"
import { dec } from "../../../src/domain/decimal.js"
import type { ClientOrderId, FillId, VenueOrderId } from "../../../src/domain/ids.js"
import { DeadMansSwitch } from "../../../src/actors/orders/dead-mans-switch.js"
import type { StrategyId } from "../../../src/domain/ids.js"
import { ACCOUNT, cancel, cancelAll, modify, operator, submit, XBT } from "../risk/fixtures.js"
import { makeCore } from "./rig.js"

describe("the order manager", () => {
  it("a strategy's cancel-all becomes one risk-billed, write-ahead journaled cancel per live order of that strategy, and leaves other strategies' orders alone", () => {
    const core = makeCore()
    const mine = ["49900", "49800", "49700"].map((p) => submit({ price: p, strategy: "s1" as StrategyId }))
    const theirs = submit({ price: "49600", strategy: "s2" as StrategyId })
    for (const i of [...mine, theirs]) core.manager.handle(i)
    core.venue.flush()
    // One of mine already has a cancel in flight: it is not canceled twice.
    core.manager.handle(cancel(mine[2]!.clientOrderId))
    const before = core.journal.length
    const usedBefore = core.risk.rateUsed
    const d = core.manager.handle({ ...cancelAll(), strategy: "s1" as StrategyId })
    expect(d._tag).toBe("Approved")
    const after = core.journal.slice(before)
    // Per order, in this order: risk's decision, its cost, the write-ahead cancel request, then the venue call.
    const steps = after.map((e) => ("clientOrderId" in e && e.clientOrderId !== undefined ? `${e._tag}:${e.clientOrderId}` : e._tag === "GatewayCall" ? `GatewayCall:${e.call}` : e._tag === "VenueRequestSent" ? `VenueRequestSent:${e.call}:${e.cost}` : e._tag))
    const expected = mine.slice(0, 2).flatMap((i) => [`RiskApproved:${i.clientOrderId}`, "VenueRequestSent:cancelorder:10", `OrderCancelRequested:${i.clientOrderId}`, "GatewayCall:cancelorder"])
    expect(steps).toEqual(expected)
    expect(core.risk.rateUsed - usedBefore).toBe(20)
    core.venue.flush()
    for (const i of mine) expect(core.manager.order(i.clientOrderId)?.status).toBe("canceled")
    expect(core.manager.order(theirs.clientOrderId)?.status).toBe("accepted")
    // No cancelallorders and no openorders read went to the venue for it.
    expect(core.venue.calls.map((c) => c.call).filter((c) => c !== "sendorder" && c !== "cancelorder")).toEqual([])
  })

  it("an account-wide cancel-all stays one cancelallorders call, charged once", () => {
    const core = makeCore()
    for (const p of ["49900", "49800"]) core.manager.handle(submit({ price: p }))
    core.venue.flush()
    const usedBefore = core.risk.rateUsed
    expect(core.manager.handle(cancelAll())._tag).toBe("Approved")
    expect(core.risk.rateUsed - usedBefore).toBe(25)
    expect(core.journal.filter((e) => e._tag === "GatewayCall" && e.call === "cancelallorders")).toHaveLength(1)
  })

  it("an approved submit is journaled before the venue call and an accept moves the order to accepted", () => {
    const core = makeCore()
    const intent = submit({ price: "49900" })
    const d = core.manager.handle(intent)
    expect(d._tag).toBe("Approved")
    const tags = core.journal.map((e) => e._tag)
    expect(tags.slice(0, 4)).toEqual(["RiskApproved", "VenueRequestSent", "OrderSubmitted", "GatewayCall"])
    expect(core.manager.order(intent.clientOrderId)?.status).toBe("submitted")
    core.venue.flush()
    expect(core.manager.order(intent.clientOrderId)?.status).toBe("accepted")
  })

  it("a denied submit reaches neither an order actor nor the venue", () => {
    const core = makeCore()
    const d = core.manager.handle(submit({ price: "60000" }))
    expect(d._tag === "Denied" && d.event.reason).toBe("PRICE_BAND")
    expect(core.venue.calls).toHaveLength(0)
    expect(core.manager.liveOrders).toBe(0)
  })

  it("a report for an order we do not know becomes a reconciliation event and changes nothing else", () => {
    const core = makeCore()
    core.venue.injectReport({ _tag: "OrderAccepted", id: "x1", ts: 0, source: "venue", account: ACCOUNT, instrument: XBT, clientOrderId: "web-ui-1" as ClientOrderId, venueOrderId: "v-ext" as VenueOrderId })
    core.venue.flush()
    expect(core.journal.at(-1)).toMatchObject({ _tag: "ReconciliationNeeded", kind: "externalOrder", clientOrderId: "web-ui-1" })
    expect(core.risk.openOrderCount).toBe(0)
  })

  it("a report that names our venue order id under another client order id still reaches the order", () => {
    const core = makeCore()
    const intent = submit({ price: "49900" })
    core.manager.handle(intent)
    core.venue.flush()
    const vid = core.manager.order(intent.clientOrderId)?.actor.getSnapshot().context.venueOrderId as VenueOrderId
    core.venue.injectReport({ _tag: "OrderCanceled", id: "x2", ts: 0, source: "venue", account: ACCOUNT, instrument: XBT, clientOrderId: "renamed" as ClientOrderId, venueOrderId: vid })
    core.venue.flush()
    expect(core.manager.order(intent.clientOrderId)?.status).toBe("canceled")
  })

  it("a fill that races a cancel completes the order and reaches the position", () => {
    const core = makeCore()
    const intent = submit({ price: "49900", qty: "2" })
    core.manager.handle(intent)
    core.venue.flush()
    core.manager.handle(cancel(intent.clientOrderId))
    expect(core.manager.order(intent.clientOrderId)?.status).toBe("pendingCancel")
    core.venue.flush() // the cancel ack
    expect(core.manager.order(intent.clientOrderId)?.status).toBe("canceled")
    core.venue.injectReport({
      _tag: "OrderFilled", id: "x3", ts: 0, source: "venue", account: ACCOUNT, instrument: XBT, clientOrderId: intent.clientOrderId,
      venueOrderId: "v-1" as VenueOrderId, fillId: "late-1" as FillId, side: "buy", price: dec("49900"), qty: dec("2"), fee: dec("0"), feeCurrency: "USD", liquidity: "maker"
    })
    core.venue.flush()
    expect(core.manager.order(intent.clientOrderId)?.status).toBe("filled")
    expect(core.portfolio.position(XBT)?.quantity.toString()).toBe("2")
  })

  it("a venue fill already counted is dropped before the journal: a repeated fill snapshot journals each fill once", () => {
    const core = makeCore()
    const intent = submit({ price: "49900", qty: "2" })
    core.manager.handle(intent)
    core.venue.flush()
    core.venue.fill(intent.clientOrderId, dec("1"), 0.5, dec("49900"))
    core.venue.flush()
    const first = core.journal.filter((e) => e._tag === "OrderFilled")
    expect(first).toHaveLength(1)
    // The private feed's fill snapshot after a reconnect or restart repeats it under a new envelope.
    const again = { ...(first[0] as Extract<typeof first[0], { _tag: "OrderFilled" }>), id: "snapshot-1" }
    core.venue.injectReport(again)
    core.venue.flush()
    expect(core.journal.filter((e) => e._tag === "OrderFilled")).toHaveLength(1)
    expect(core.manager.duplicateFills).toBe(1)
    expect(core.portfolio.position(XBT)?.quantity.toString()).toBe("1")
    expect(core.manager.order(intent.clientOrderId)?.status).toBe("partiallyFilled")
  })

  it("live orders count only orders that are not terminal; finished ones are retained for late fills but not counted", () => {
    const core = makeCore()
    const intents = ["49900", "49800", "49700"].map((p) => submit({ price: p }))
    for (const i of intents) core.manager.handle(i)
    core.venue.flush()
    core.venue.fill(intents[0]!.clientOrderId, dec("1"), 1, dec("49900"))
    core.manager.handle(cancel(intents[1]!.clientOrderId))
    core.venue.flush()
    expect(core.manager.order(intents[0]!.clientOrderId)?.status).toBe("filled")
    expect(core.manager.order(intents[1]!.clientOrderId)?.status).toBe("canceled")
    expect(core.manager.liveOrders).toBe(1)
    expect(core.manager.retainedOrders).toBe(3)
    expect(core.manager.liveOrderIds()).toEqual([intents[2]!.clientOrderId])
  })

  it("event ids carry the run number, so the cores of two runs never repeat an id", () => {
    const idsOf = (run: number) => {
      const core = makeCore({ run })
      const intent = submit({ price: "49900" })
      core.manager.handle(intent)
      core.venue.flush()
      core.venue.fill(intent.clientOrderId, dec("1"), 1, dec("49900"))
      core.venue.flush()
      // Made by the order manager and the portfolio (the fake venue and the test make their own).
      return core.journal.filter((e) => "source" in e && /^(orders|portfolio)\//.test(e.source)).map((e) => (e as { id: string }).id)
    }
    const first = idsOf(1)
    const second = idsOf(2)
    expect(first.length).toBeGreaterThanOrEqual(2)
    expect(first.every((id) => id.includes("-r1-"))).toBe(true)
    expect(second.filter((id) => first.includes(id))).toEqual([])
  })

  it("a modify the order cannot take any more is not sent and releases risk's pending quantity", () => {
    const core = makeCore()
    const intent = submit({ price: "49900", qty: "5" })
    core.manager.handle(intent)
    core.venue.flush()
    core.manager.handle(cancel(intent.clientOrderId))
    const calls = core.venue.calls.length
    const d = core.manager.handle(modify(intent.clientOrderId, { qty: "5", price: "49800" }))
    expect(d._tag).toBe("Approved")
    expect(core.venue.calls).toHaveLength(calls)
    expect(core.journal.at(-1)).toMatchObject({ _tag: "OrderModifyRejected" })
  })

  it("an operator halt with cancel-all pulls every order through a risk-approved cancel-all and denies new submits", () => {
    const core = makeCore()
    for (const p of ["49900", "49800"]) core.manager.handle(submit({ price: p }))
    core.venue.flush()
    core.manager.control({ _tag: "Halt", ...operator }, { cancelAll: true })
    expect(core.venue.calls.at(-1)?.kind).toBe("cancelAll")
    core.venue.flush()
    expect(core.risk.openOrderCount).toBe(0)
    const d = core.manager.handle(submit({ price: "49900" }))
    expect(d._tag === "Denied" && d.event.reason).toBe("TRADING_HALTED")
  })
})

describe("the dead man's switch", () => {
  it("re-arms every 15 s through risk at cost 25, and the venue cancels everything 60 s after the last refresh", () => {
    const core = makeCore()
    const dms = new DeadMansSwitch(core.clock, core.risk, core.gateway)
    core.manager.handle(submit({ price: "49900" }))
    core.venue.flush()
    dms.start()
    core.clock.advance(45_000)
    const arms = core.venue.calls.filter((c) => c.kind === "cancelAllAfter")
    expect(arms.map((c) => c.cost)).toEqual([25, 25, 25, 25])
    expect(arms[1]!.ts - arms[0]!.ts).toBe(15_000)
    dms.stop()
    core.clock.advance(59_999)
    core.venue.flush()
    expect(core.risk.openOrderCount).toBe(1)
    core.clock.advance(1)
    core.venue.flush()
    expect(core.risk.openOrderCount).toBe(0)
    expect(core.journal.some((e) => e._tag === "OrderCanceled" && e.reason === "deadMansSwitch")).toBe(true)
  })
})

describe("finished order actors", () => {
  it("are kept for the retention time, then only the newest few, and a late fill for a dropped one still counts in the portfolio", () => {
    const core = makeCore({ retain: { retainTerminal: 5, retainTerminalMs: 1_000, retainTerminalMin: 2 } })
    const finish = () => {
      const intent = submit({ price: "49900" })
      core.manager.handle(intent)
      core.venue.flush()
      core.manager.handle(cancel(intent.clientOrderId))
      core.venue.flush()
      expect(core.manager.order(intent.clientOrderId)?.status).toBe("canceled")
      return intent.clientOrderId
    }
    const early = [finish(), finish(), finish()]
    // Within the retention time all are kept (up to retainTerminal).
    expect(early.map((cid) => core.manager.order(cid)?.status)).toEqual(["canceled", "canceled", "canceled"])
    core.clock.advance(2_000)
    const late = finish()
    // Past it: only the newest retainTerminalMin stay.
    expect([...early, late].map((cid) => core.manager.order(cid)?.status ?? "dropped")).toEqual(["dropped", "dropped", "canceled", "canceled"])
    // Within the time, the hard cap still holds.
    const burst = [finish(), finish(), finish(), finish(), finish(), finish()]
    expect(burst.filter((cid) => core.manager.order(cid) !== undefined)).toHaveLength(5)
    // A fill for a dropped order: counted by the portfolio, and a reconciliation event for the manager.
    core.venue.injectReport({
      _tag: "OrderFilled", id: "late", ts: 0, source: "venue", account: ACCOUNT, instrument: XBT, clientOrderId: early[0] as ClientOrderId,
      venueOrderId: "v-late" as VenueOrderId, fillId: "late-dropped" as FillId, side: "buy", price: dec("49900"), qty: dec("1"), fee: dec("0"), feeCurrency: "USD", liquidity: "maker"
    })
    core.venue.flush()
    expect(core.portfolio.position(XBT)?.quantity.toString()).toBe("1")
    expect(core.journal.at(-1)).toMatchObject({ _tag: "ReconciliationNeeded", kind: "externalOrder" })
  })
})
