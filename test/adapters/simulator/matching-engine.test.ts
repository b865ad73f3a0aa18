import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { dec, ZERO } from "../../../src/domain/decimal.js"
import { defaultInstrument } from "../../../src/adapters/venues/simulator/instruments.js"
import { MatchingEngine, type SendCommand } from "../../../src/adapters/venues/simulator/matching-engine.js"

const SYM = "PF_XBTUSD"
const engine = () => new MatchingEngine({ instruments: [defaultInstrument(SYM)], seed: 7 })
const order = (account: string, side: "buy" | "sell", size: string, price: string | undefined, orderType = "lmt", extra: Partial<SendCommand> = {}): SendCommand => ({
  account, symbol: SYM, orderType, side, size: dec(size), ...(price === undefined ? {} : { limitPrice: dec(price) }), ...extra
})

describe("matching engine", () => {
  it("fills the oldest order at the best price first (price-time priority)", () => {
    const e = engine()
    const first = e.send(order("a", "sell", "1", "100.5"), 1)
    const second = e.send(order("b", "sell", "1", "100.5"), 2)
    const better = e.send(order("c", "sell", "1", "100"), 3)
    const take = e.send(order("t", "buy", "2", "101"), 4)
    expect(take.status).toBe("placed")
    const fills = e.fills("t").map((f) => [f.price.toString(), f.qty.toString()])
    expect(fills).toEqual([["100", "1"], ["100.5", "1"]])
    expect(e.order(better.order?.orderId ?? "")?.state).toBe("filled")
    expect(e.order(first.order?.orderId ?? "")?.state).toBe("filled")
    expect(e.order(second.order?.orderId ?? "")?.state).toBe("open")
  })

  it("partially fills a resting order and leaves the rest in the book", () => {
    const e = engine()
    const maker = e.send(order("m", "buy", "5", "99"), 1)
    e.send(order("t", "sell", "2", "99", "ioc"), 2)
    const resting = e.order(maker.order?.orderId ?? "")
    expect(resting?.filled.toString()).toBe("2")
    expect(e.depth(SYM).bids.map(([p, q]) => [p.toString(), q.toString()])).toEqual([["99", "3"]])
    const makerFill = e.fills("m")[0]
    expect(makerFill?.liquidity).toBe("maker")
    expect(makerFill?.fee.toString()).toBe(dec("99").times(2).times("0.0002").toString())
    expect(e.fills("t")[0]?.liquidity).toBe("taker")
  })

  it("rejects a post-only order that would cross with postWouldExecute", () => {
    const e = engine()
    e.send(order("m", "sell", "1", "100"), 1)
    const out = e.send(order("p", "buy", "1", "100", "post"), 2)
    expect(out.status).toBe("postWouldExecute")
    expect(out.events[0]).toMatchObject({ type: "REJECT", reason: "POST_WOULD_EXECUTE" })
    expect(e.openOrders("p")).toHaveLength(0)
  })

  it("cancels the unfilled rest of an ioc and rejects an ioc that cannot trade", () => {
    const e = engine()
    e.send(order("m", "sell", "1", "100"), 1)
    const partial = e.send(order("t", "buy", "3", "100", "ioc"), 2)
    expect(partial.status).toBe("placed")
    expect(partial.order?.filled.toString()).toBe("1")
    expect(partial.order?.state).toBe("cancelled")
    expect(e.depth(SYM).bids).toHaveLength(0)
    expect(e.send(order("t", "buy", "1", "100", "ioc"), 3).status).toBe("iocWouldNotExecute")
  })

  it("fills a fok completely or not at all", () => {
    const e = engine()
    e.send(order("m", "sell", "1", "100"), 1)
    expect(e.send(order("t", "buy", "2", "100", "fok"), 2).status).toBe("iocWouldNotExecute")
    expect(e.fills("t")).toHaveLength(0)
    e.send(order("m", "sell", "1", "100.5"), 3)
    expect(e.send(order("t", "buy", "2", "100.5", "fok"), 4).order?.filled.toString()).toBe("2")
  })

  it("triggers a stop when the last trade price reaches it", () => {
    const e = engine()
    e.send(order("m", "sell", "5", "101"), 1)
    const stop = e.send(order("s", "buy", "1", undefined, "stp", { stopPrice: dec("100.5") }), 2)
    expect(stop.order?.state).toBe("untriggered")
    e.send(order("m2", "sell", "1", "100"), 3)
    e.send(order("t", "buy", "1", "100", "ioc"), 4) // last = 100: below the stop
    expect(e.order(stop.order?.orderId ?? "")?.state).toBe("untriggered")
    e.send(order("t", "buy", "1", "101", "ioc"), 5) // last = 101: triggers; the stop buys at 101
    const triggered = e.order(stop.order?.orderId ?? "")
    expect(triggered?.triggered).toBe(true)
    expect(triggered?.state).toBe("filled")
    expect(e.fills("s")[0]?.price.toString()).toBe("101")
  })

  it("refuses a reduce-only order that would not reduce the position and clips one that would overshoot", () => {
    const e = engine()
    expect(e.send(order("r", "sell", "1", "100", "lmt", { reduceOnly: true }), 1).status).toBe("wouldNotReducePosition")
    e.send(order("m", "sell", "2", "100"), 2)
    e.send(order("r", "buy", "2", "100"), 3) // r is long 2
    const reduce = e.send(order("r", "sell", "5", "110", "lmt", { reduceOnly: true }), 4)
    expect(reduce.status).toBe("placed")
    expect(reduce.order?.size.toString()).toBe("2")
    expect(e.send(order("r", "buy", "1", "90", "lmt", { reduceOnly: true }), 5).status).toBe("wouldNotReducePosition")
  })

  it("refuses a second order with the same client order id in the account", () => {
    const e = engine()
    expect(e.send(order("a", "buy", "1", "90", "lmt", { cliOrdId: "x-1" }), 1).status).toBe("placed")
    expect(e.send(order("a", "buy", "1", "91", "lmt", { cliOrdId: "x-1" }), 2).status).toBe("clientOrderIdAlreadyExist")
    expect(e.send(order("b", "buy", "1", "91", "lmt", { cliOrdId: "x-1" }), 3).status).toBe("placed")
    expect(e.cancel({ account: "a", cliOrdId: "x-1" }, 4).status).toBe("cancelled")
    expect(e.cancel({ account: "a", cliOrdId: "x-1" }, 5).status).toBe("notFound")
  })

  it("keeps queue priority when an edit lowers the size and loses it when the price changes", () => {
    const e = engine()
    const a = e.send(order("a", "buy", "2", "99"), 1)
    e.send(order("b", "buy", "2", "99"), 2)
    expect(e.edit({ account: "a", orderId: a.order?.orderId, size: dec("1") }, 3).status).toBe("edited")
    expect(e.queues(SYM).bids[0]?.queue.map((r) => r.account)).toEqual(["a", "b"])
    expect(e.edit({ account: "a", orderId: a.order?.orderId, size: dec("3") }, 4).status).toBe("edited")
    expect(e.queues(SYM).bids[0]?.queue.map((r) => r.account)).toEqual(["b", "a"])
    expect(e.edit({ account: "a", orderId: a.order?.orderId, limitPrice: dec("98.5") }, 5).status).toBe("edited")
    expect(e.depth(SYM).bids.map(([p, q]) => [p.toString(), q.toString()])).toEqual([["99", "2"], ["98.5", "3"]])
    expect(e.edit({ account: "a", orderId: "nope", size: dec("1") }, 6).status).toBe("orderForEditNotFound")
  })

  it("reports filled when cancelling an order that already filled", () => {
    const e = engine()
    const m = e.send(order("m", "sell", "1", "100"), 1)
    e.send(order("t", "buy", "1", "100"), 2)
    expect(e.cancel({ account: "m", orderId: m.order?.orderId }, 3).status).toBe("filled")
  })

  it("rejects invalid sizes and prices off the tick", () => {
    const e = engine()
    expect(e.send(order("a", "buy", "0.00001", "100"), 1).status).toBe("invalidSize")
    expect(e.send(order("a", "buy", "1", "100.3"), 1).status).toBe("invalidPrice")
    expect(e.send({ ...order("a", "buy", "1", "100"), orderType: "weird" }, 1).status).toBe("invalidOrderType")
    expect(e.send(order("a", "buy", "1", "100"), 1).status).toBe("placed")
    expect(e.send(order("a", "sell", "1", "100"), 1).status).toBe("selfFill")
  })

  it("keeps every position equal to the sum of its account's fills and the book uncrossed", () => {
    const step = fc.record({
      account: fc.constantFrom("a", "b", "c"),
      side: fc.constantFrom("buy" as const, "sell" as const),
      type: fc.constantFrom("lmt", "ioc", "post", "mkt", "fok"),
      ticks: fc.integer({ min: -6, max: 6 }),
      lots: fc.integer({ min: 1, max: 40 }),
      reduceOnly: fc.boolean(),
      cancel: fc.integer({ min: 0, max: 9 })
    })
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        const e = engine()
        let t = 0
        for (const s of steps) {
          t++
          if (s.cancel === 0) {
            const open = e.openOrders(s.account)[0]
            if (open !== undefined) e.cancel({ account: s.account, orderId: open.orderId }, t)
            continue
          }
          const price = dec("1000").plus(dec("0.5").times(s.ticks))
          e.send(order(s.account, s.side, dec("0.001").times(s.lots).toString(), s.type === "mkt" ? undefined : price.toString(), s.type, { reduceOnly: s.reduceOnly && s.lots % 3 === 0 }), t)
        }
        for (const account of ["a", "b", "c"]) {
          const net = e.fills(account).reduce((sum, f) => (f.side === "buy" ? sum.plus(f.qty) : sum.minus(f.qty)), ZERO)
          const position = e.position(account, SYM)?.balance ?? ZERO
          expect(position.toString()).toBe(net.toString())
        }
        const total = ["a", "b", "c"].reduce((sum, a) => sum.plus(e.position(a, SYM)?.balance ?? ZERO), ZERO)
        expect(total.isZero()).toBe(true)
        const bid = e.bestBid(SYM)
        const ask = e.bestAsk(SYM)
        if (bid !== undefined && ask !== undefined) expect(bid.lt(ask)).toBe(true)
      }),
      { numRuns: 100, seed: 42 }
    )
  })
})
