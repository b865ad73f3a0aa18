import { describe, expect, it } from "vitest"
import { dec } from "../../../src/domain/decimal.js"
import { defaultInstrument } from "../../../src/adapters/venues/simulator/instruments.js"
import { MatchingEngine, RETAINED_FILLS, RETAINED_ORDERS } from "../../../src/adapters/venues/simulator/matching-engine.js"

const SYM = "PF_XBTUSD"

describe("the matching engine's memory over a long run", () => {
  it("keeps open orders, the newest finished orders and fills, and still refuses a recent client order id again", () => {
    const e = new MatchingEngine({ instruments: [defaultInstrument(SYM)], seed: 3 })
    const resting = e.send({ account: "a", symbol: SYM, orderType: "lmt", side: "buy", size: dec("1"), limitPrice: dec("10"), cliOrdId: "keep-1-0" }, 0)
    const n = RETAINED_ORDERS + 2_000
    let firstMaker = ""
    for (let i = 0; i < n; i++) {
      const maker = e.send({ account: "a", symbol: SYM, orderType: "lmt", side: "sell", size: dec("1"), limitPrice: dec("100"), cliOrdId: `m-1-${i.toString(36)}` }, i + 1)
      if (i === 0) firstMaker = maker.order?.orderId ?? ""
      e.send({ account: "b", symbol: SYM, orderType: "ioc", side: "buy", size: dec("1"), limitPrice: dec("100") }, i + 1)
    }
    // Finished orders: the newest RETAINED_ORDERS of them; the resting one stays whatever its age.
    expect(e.allOrders("a").length + e.allOrders("b").length).toBe(RETAINED_ORDERS + 1)
    expect(e.order(firstMaker)).toBeUndefined()
    expect(e.order(resting.order?.orderId ?? "")?.state).toBe("open")
    expect(e.openOrders("a").map((o) => o.cliOrdId)).toEqual(["keep-1-0"])
    // Fills: the newest RETAINED_FILLS per account, numbered on from the first.
    const fills = e.fills("a")
    expect(fills.length).toBe(RETAINED_FILLS)
    expect(fills[fills.length - 1]?.seq).toBe(n)
    // A resend of a recent client order id, and of the open one, is still refused.
    expect(e.send({ account: "a", symbol: SYM, orderType: "lmt", side: "sell", size: dec("1"), limitPrice: dec("100"), cliOrdId: `m-1-${(n - 1).toString(36)}` }, n + 1).status).toBe("clientOrderIdAlreadyExist")
    expect(e.send({ account: "a", symbol: SYM, orderType: "lmt", side: "buy", size: dec("1"), limitPrice: dec("10"), cliOrdId: "keep-1-0" }, n + 1).status).toBe("clientOrderIdAlreadyExist")
  })
})
