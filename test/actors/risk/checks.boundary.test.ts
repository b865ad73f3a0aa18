import { describe, expect, it } from "vitest"
import { dec } from "../../../src/domain/decimal.js"
import type { RiskReason } from "../../../src/domain/events/risk.js"
import type { OrderIntent } from "../../../src/domain/events/intents.js"
import type { RiskActor } from "../../../src/actors/risk/risk.actor.js"
import { accountLimits, cancel, cancelAll, ETH, makeRisk, modify, operator, submit, XBT } from "./fixtures.js"

const approve = (risk: RiskActor, intent: OrderIntent) => {
  const d = risk.decide(intent)
  expect(d._tag === "Denied" ? `${d.event.reason}: ${d.event.detail}` : "approved").toBe("approved")
  return d
}

const denied = (risk: RiskActor, intent: OrderIntent, reason: RiskReason, limit?: string, actual?: string) => {
  const d = risk.decide(intent)
  expect(d._tag).toBe("Denied")
  if (d._tag !== "Denied") return
  expect(d.event.reason).toBe(reason)
  if (limit !== undefined) expect(d.event.limit?.toString()).toBe(limit)
  if (actual !== undefined) expect(d.event.actual?.toString()).toBe(actual)
}

describe("risk checks at their limits", () => {
  it("an order exactly at the max order quantity passes and one lot more is denied with MAX_ORDER_QTY", () => {
    const { risk } = makeRisk()
    approve(risk, submit({ qty: "5", price: "49600" }))
    denied(risk, submit({ qty: "5.001", price: "49600" }), "MAX_ORDER_QTY", "5", "5.001")
  })

  it("an order exactly at the max notional passes and one tick more is denied with MAX_NOTIONAL", () => {
    const { risk } = makeRisk()
    approve(risk, submit({ qty: "5", price: "50000" }))
    denied(risk, submit({ qty: "5", price: "50000.5" }), "MAX_NOTIONAL", "250000", "250002.5")
  })

  it("a price exactly at the band edge passes and one tick beyond it is denied with PRICE_BAND on either side", () => {
    const { risk } = makeRisk()
    approve(risk, submit({ side: "buy", price: "50500" }))
    denied(risk, submit({ side: "buy", price: "50500.5" }), "PRICE_BAND", "500", "500.5")
  })

  it("a price below the band on the low side is denied with PRICE_BAND", () => {
    const { risk } = makeRisk()
    approve(risk, submit({ side: "sell", price: "49500" }))
    denied(risk, submit({ side: "sell", price: "49499.5" }), "PRICE_BAND")
  })

  it("without a two-sided book a limit order is denied with PRICE_BAND", () => {
    const { risk } = makeRisk()
    risk.onBook(XBT, dec("49999.5"), undefined)
    denied(risk, submit({ price: "50000" }), "PRICE_BAND")
  })

  it("a price off the tick grid is denied with PRICE_NOT_ON_TICK and a quantity off the lot grid with QTY_NOT_ON_LOT", () => {
    const { risk } = makeRisk()
    approve(risk, submit({ price: "50000.5", qty: "1.001" }))
    denied(risk, submit({ price: "50000.25" }), "PRICE_NOT_ON_TICK")
    denied(risk, submit({ qty: "1.0005" }), "QTY_NOT_ON_LOT")
  })

  it("the instrument's own minimum and maximum quantity are enforced with QTY_BELOW_MIN and QTY_ABOVE_MAX", () => {
    const { risk } = makeRisk()
    approve(risk, submit({ qty: "0.001" }))
    denied(risk, submit({ qty: "0" }), "QTY_BELOW_MIN")
    denied(risk, submit({ qty: "100" }), "MAX_ORDER_QTY")
    denied(risk, submit({ qty: "100.001" }), "QTY_ABOVE_MAX", "100", "100.001")
  })

  it("a buy that takes position plus open buys exactly to the max position passes and one lot more is denied with MAX_POSITION", () => {
    const { risk } = makeRisk()
    risk.onPosition(XBT, dec(6))
    approve(risk, submit({ qty: "3", price: "49600" }))
    approve(risk, submit({ qty: "1", price: "49600" }))
    denied(risk, submit({ qty: "0.001", price: "49600" }), "MAX_POSITION", "10", "10.001")
    // A sell reduces the long and is not limited by it.
    approve(risk, submit({ side: "sell", qty: "4", price: "50100" }))
  })

  it("open sells count toward the short limit", () => {
    const { risk } = makeRisk()
    risk.onPosition(XBT, dec(-5))
    approve(risk, submit({ side: "sell", qty: "5", price: "49900" }))
    denied(risk, submit({ side: "sell", qty: "0.001", price: "49900" }), "MAX_POSITION", "10", "10.001")
  })

  it("gross exposure exactly at the limit passes and one lot more is denied with MAX_GROSS_EXPOSURE", () => {
    const { risk } = makeRisk({ limits: { ...accountLimits, maxGrossExposure: dec(100_000) } })
    approve(risk, submit({ qty: "2", price: "49600" }))
    expect(risk.exposures().gross.toString()).toBe("100000")
    denied(risk, submit({ qty: "0.001", price: "49600" }), "MAX_GROSS_EXPOSURE", "100000", "100050")
    // A sell on the other side does not increase the worst case.
    approve(risk, submit({ side: "sell", qty: "2", price: "50100" }))
  })

  it("net exposure exactly at the limit passes and one lot more is denied with MAX_NET_EXPOSURE", () => {
    const { risk } = makeRisk({ limits: { ...accountLimits, maxNetExposure: dec(150_010) } })
    approve(risk, submit({ qty: "2", price: "49600" }))
    approve(risk, submit({ instrument: ETH, qty: "16.67", price: "3000" }))
    expect(risk.exposures().netLong.toString()).toBe("150010")
    denied(risk, submit({ instrument: ETH, qty: "0.01", price: "3000" }), "MAX_NET_EXPOSURE", "150010", "150040")
  })

  it("the last open order the limit allows passes and the next is denied with MAX_OPEN_ORDERS", () => {
    const { risk } = makeRisk({ limits: { ...accountLimits, maxOpenOrders: 3 } })
    for (let k = 0; k < 3; k++) approve(risk, submit({ qty: "0.001", price: "49600" }))
    denied(risk, submit({ qty: "0.001", price: "49600" }), "MAX_OPEN_ORDERS", "3", "4")
  })

  it("a buy one tick below our resting sell passes and a buy at its price is denied with SELF_TRADE", () => {
    const { risk } = makeRisk()
    approve(risk, submit({ side: "sell", price: "50100" }))
    approve(risk, submit({ side: "buy", price: "50099.5" }))
    denied(risk, submit({ side: "buy", price: "50100" }), "SELF_TRADE", "50100", "50100")
    denied(risk, submit({ side: "sell", price: "50099.5" }), "SELF_TRADE", "50099.5", "50099.5")
    denied(risk, submit({ side: "buy", orderType: "market", price: undefined }), "SELF_TRADE")
  })

  it("a second submit with the same client order id is denied with DUPLICATE_CLIENT_ORDER_ID", () => {
    const { risk } = makeRisk()
    const first = submit()
    approve(risk, first)
    denied(risk, { ...submit(), clientOrderId: first.clientOrderId }, "DUPLICATE_CLIENT_ORDER_ID")
  })

  it("an unknown or untradable instrument is denied with UNKNOWN_INSTRUMENT", () => {
    const { risk } = makeRisk()
    denied(risk, submit({ instrument: "kraken-futures:PF_SOLUSD" as typeof XBT }), "UNKNOWN_INSTRUMENT")
  })

  it("a daily loss exactly at the limit keeps trading and one cent more halts with DAILY_LOSS_LIMIT", () => {
    const { risk, events } = makeRisk()
    risk.onDailyPnl(dec("-1000"))
    expect(risk.status).toBe("active")
    approve(risk, submit())
    risk.onDailyPnl(dec("-1000.01"))
    expect(risk.status).toBe("halted")
    denied(risk, submit(), "DAILY_LOSS_LIMIT", "1000", "1000.01")
    const change = events.find((e) => e._tag === "TradingStateChanged")
    expect(change).toMatchObject({ from: "active", to: "halted", by: "risk:daily-loss" })
  })

  it("halted denies submits and modifies with TRADING_HALTED while cancels and cancel-all pass", () => {
    const { risk, events } = makeRisk()
    const order = submit()
    approve(risk, order)
    expect(risk.control({ _tag: "Halt", ...operator, why: "fat finger on desk" })).toBe(true)
    expect(events.at(-1)).toMatchObject({ _tag: "TradingStateChanged", to: "halted", by: "operator:alice", why: "fat finger on desk" })
    denied(risk, submit(), "TRADING_HALTED")
    denied(risk, modify(order.clientOrderId, { price: "49999" }), "TRADING_HALTED")
    approve(risk, cancel(order.clientOrderId))
    approve(risk, cancelAll())
    risk.control({ _tag: "Resume", ...operator })
    approve(risk, submit())
  })

  it("reducing lets through exactly the open position's size and denies one lot more with REDUCE_ONLY", () => {
    const { risk } = makeRisk()
    risk.onPosition(XBT, dec(2))
    risk.control({ _tag: "ReduceOnly", ...operator })
    expect(risk.status).toBe("reducing")
    denied(risk, submit({ side: "buy" }), "REDUCE_ONLY")
    denied(risk, submit({ side: "sell", qty: "2.001", price: "50100" }), "REDUCE_ONLY", "2", "2.001")
    approve(risk, submit({ side: "sell", qty: "1.5", price: "50100" }))
    approve(risk, submit({ side: "sell", qty: "0.5", price: "50100" }))
    denied(risk, submit({ side: "sell", qty: "0.001", price: "50100" }), "REDUCE_ONLY", "0", "0.001")
  })

  it("a modify that raises the quantity past the max position is denied and one that keeps it at the limit passes", () => {
    const { risk } = makeRisk()
    risk.onPosition(XBT, dec(2))
    const a = submit({ qty: "3", price: "49600" })
    approve(risk, a)
    approve(risk, submit({ qty: "4", price: "49600" }))
    approve(risk, modify(a.clientOrderId, { qty: "4" }))
    denied(risk, modify(a.clientOrderId, { qty: "4.001" }), "MAX_POSITION", "10", "10.001")
    denied(risk, modify("nope" as typeof a.clientOrderId), "NOT_TRADABLE")
  })
})

describe("the venue rate budget", () => {
  it("submits use exactly the budget less the reserve and the next one is denied with RATE_LIMIT while cancels still pass", () => {
    const { risk, clock } = makeRisk({ limits: { ...accountLimits, maxOpenOrders: 100 } })
    const orders = Array.from({ length: 40 }, () => submit({ instrument: ETH, qty: "0.01", price: "3000" }))
    for (const o of orders) approve(risk, o)
    expect(risk.rateUsed).toBe(400)
    denied(risk, submit({ instrument: ETH, qty: "0.01", price: "3000" }), "RATE_LIMIT", "400", "410")
    for (let k = 0; k < 10; k++) approve(risk, cancel(orders[k]!.clientOrderId, ETH))
    denied(risk, cancel(orders[10]!.clientOrderId, ETH), "RATE_LIMIT", "500", "510")
    // A call counts for the venue's 10 s plus the margin for the time it takes to reach the venue.
    clock.advance(10_499)
    denied(risk, cancel(orders[10]!.clientOrderId, ETH), "RATE_LIMIT")
    clock.advance(1)
    approve(risk, submit({ instrument: ETH, qty: "0.01", price: "3000" }))
  })

  it("the dead man's switch costs 25 and may use the reserve", () => {
    const { risk } = makeRisk({ limits: { ...accountLimits, maxOpenOrders: 100 } })
    for (let k = 0; k < 40; k++) approve(risk, submit({ instrument: ETH, qty: "0.01", price: "3000" }))
    const d = risk.approveDeadMansSwitch(60)
    expect(d._tag).toBe("Approved")
    if (d._tag === "Approved") expect([d.action.call, d.action.cost]).toEqual(["cancelallordersafter", 25])
    expect(risk.rateUsed).toBe(425)
  })

  it("a strategy's last allowed action in its window passes and the next is denied with STRATEGY_RATE_LIMIT", () => {
    const { risk, clock } = makeRisk({ strategyRate: { maxActions: 3, windowMs: 1_000 } })
    for (let k = 0; k < 3; k++) approve(risk, submit({ qty: "0.001", price: "49600" }))
    denied(risk, submit({ qty: "0.001", price: "49600" }), "STRATEGY_RATE_LIMIT", "3", "4")
    clock.advance(1_000)
    approve(risk, submit({ qty: "0.001", price: "49600" }))
  })
})
