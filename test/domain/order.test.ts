import { describe, it, expect } from "vitest"
import { Either } from "effect"
import { dec } from "../../src/domain/decimal.js"
import type { AccountId, ClientOrderId, InstrumentId, StrategyId } from "../../src/domain/ids.js"
import { makeInstrument } from "../../src/domain/instrument.js"
import { limitPriceOf, makeOrder, oppositeSide, sideSign, timeInForceOf, triggerPriceOf, type Order, type OrderType } from "../../src/domain/order.js"

const instrument = Either.getOrThrow(
  makeInstrument({ id: "kraken-futures:PF_XBTUSD", kind: "linearPerpetual", base: "XBT", quote: "USD", tickSize: "0.5", lotSize: "0.001", minQty: "0.001", maxQty: "10", contractSize: "1", tradable: true })
)
const base: Order = {
  clientOrderId: "s1-1-1" as ClientOrderId,
  accountId: "main" as AccountId,
  strategyId: "s1" as StrategyId,
  instrumentId: instrument.id,
  side: "buy",
  type: { _tag: "limit", price: dec("30000.5"), timeInForce: { _tag: "gtc" } },
  quantity: dec("0.01"),
  reduceOnly: false,
  createdAt: 1_700_000_000_000
}
const fieldOf = (patch: Partial<Order>) => {
  const r = makeOrder({ ...base, ...patch }, instrument)
  return Either.isLeft(r) ? r.left.field : undefined
}

describe("order", () => {
  it("accepts an order on the instrument's grid and within its limits", () => {
    expect(fieldOf({})).toBeUndefined()
    expect(fieldOf({ type: { _tag: "market" }, quantity: dec("10") })).toBeUndefined()
    expect(fieldOf({ type: { _tag: "stop", triggerPrice: dec("29000"), trigger: "mark" } })).toBeUndefined()
  })

  it("names the field that breaks the instrument's rules", () => {
    expect(fieldOf({ quantity: dec("0") })).toBe("quantity")
    expect(fieldOf({ quantity: dec("0.0015") })).toBe("quantity")
    expect(fieldOf({ quantity: dec("10.001") })).toBe("quantity")
    expect(fieldOf({ type: { _tag: "ioc", price: dec("30000.3") } })).toBe("price")
    expect(fieldOf({ type: { _tag: "postOnly", price: dec("-1"), timeInForce: { _tag: "gtc" } } })).toBe("price")
    expect(fieldOf({ type: { _tag: "takeProfit", triggerPrice: dec("31000.1"), trigger: "last" } })).toBe("triggerPrice")
    expect(fieldOf({ type: { _tag: "stop", triggerPrice: dec("29000"), trigger: "last", limitPrice: dec("28999.9") } })).toBe("limitPrice")
    expect(fieldOf({ type: { _tag: "limit", price: dec("30000"), timeInForce: { _tag: "gtd", expireAt: base.createdAt } } })).toBe("timeInForce")
    expect(fieldOf({ instrumentId: "kraken-futures:PF_ETHUSD" as InstrumentId })).toBe("instrumentId")
    expect(Either.isLeft(makeOrder(base, { ...instrument, tradable: false }))).toBe(true)
  })

  it("exposes each order type's prices and time in force", () => {
    const types: ReadonlyArray<[OrderType, string | undefined, string | undefined, string | undefined]> = [
      [{ _tag: "market" }, undefined, undefined, undefined],
      [{ _tag: "limit", price: dec(1), timeInForce: { _tag: "gtc" } }, "1", undefined, "gtc"],
      [{ _tag: "fok", price: dec(2) }, "2", undefined, undefined],
      [{ _tag: "takeProfit", triggerPrice: dec(3), trigger: "index", limitPrice: dec(4) }, "4", "3", undefined]
    ]
    for (const [type, limit, trigger, tif] of types) {
      expect([limitPriceOf(type)?.toString(), triggerPriceOf(type)?.toString(), timeInForceOf(type)?._tag]).toEqual([limit, trigger, tif])
    }
  })

  it("gives buy a positive and sell a negative sign", () => {
    expect(sideSign("buy")).toBe(1)
    expect(sideSign("sell")).toBe(-1)
    expect(oppositeSide("buy")).toBe("sell")
  })
})
