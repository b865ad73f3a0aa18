import { describe, expect, it } from "vitest"
import { makeSimulatedClock } from "../../src/actors/clock.js"
import { Decimal } from "../../src/domain/decimal.js"
import { replayInstruments } from "../../src/replay/instruments.js"
import { parseRecording } from "../../src/replay/market-input.js"
import { RecordedLiquidity, REPLAY_MAKER_ACCOUNT, REPLAY_TAKER_ACCOUNT } from "../../src/replay/recorded-liquidity.js"
import { ReplayExchange } from "../../src/replay/replay-exchange.js"

const T0 = 1_700_000_000_000
const lines = [
  `{"feed":"book_snapshot","product_id":"PF_XBTUSD","timestamp":${T0},"bids":[{"price":59999.5,"qty":1}],"asks":[{"price":60000.5,"qty":0.5}]}`,
  // The ask level grows: a second replay order joins the back of its queue.
  `{"feed":"book","product_id":"PF_XBTUSD","side":"sell","price":60000.5,"qty":0.8,"timestamp":${T0 + 10}}`,
  // A recorded buy takes 0.6: the first ask order (0.5) is filled, the second partly.
  `{"feed":"trade","product_id":"PF_XBTUSD","side":"buy","price":60000.5,"qty":0.6,"time":${T0 + 20}}`
].join("\n")

describe("recorded liquidity", () => {
  it("trades the recorded flow through the engine without booking the replay accounts, and forgets their finished orders", () => {
    const input = parseRecording(lines, "test")
    const clock = makeSimulatedClock(T0)
    const exchange = new ReplayExchange(replayInstruments(input).sim, 1, clock)
    const liquidity = new RecordedLiquidity(exchange)
    const fills: Array<{ account: string; orderId: string; qty: string }> = []
    const finished: string[] = []
    exchange.routeTo((effects) => {
      for (const e of effects) {
        if (e.kind === "fill") fills.push({ account: e.account, orderId: e.fill.orderId, qty: e.fill.qty.toFixed() })
        if (e.kind === "order" && e.isCancel) finished.push(e.order.orderId)
        if ((e.kind === "fill" || e.kind === "order") && e.account === REPLAY_MAKER_ACCOUNT) liquidity.onEffect(e)
      }
    })
    for (const m of input.messages) {
      clock.setTime(m.ts)
      liquidity.apply(m)
    }
    const engine = exchange.engine
    // The trade did happen, maker side in time priority, and the book shows what is left.
    expect(fills.filter((f) => f.account === REPLAY_MAKER_ACCOUNT).map((f) => f.qty)).toEqual(["0.5", "0.1"])
    expect(engine.depth("PF_XBTUSD").asks.map(([p, q]) => [p.toFixed(), q.toFixed()])).toEqual([["60000.5", "0.2"]])
    // ... but nothing of it is booked for the stand-in accounts.
    for (const account of [REPLAY_MAKER_ACCOUNT, REPLAY_TAKER_ACCOUNT]) {
      expect(engine.fills(account)).toEqual([])
      expect(engine.positions(account)).toEqual([])
    }
    // The filled maker order and the taker's IOC are gone from the engine; the partly filled one rests.
    const [filledMaker, partMaker] = fills.filter((f) => f.account === REPLAY_MAKER_ACCOUNT).map((f) => f.orderId)
    const taker = fills.find((f) => f.account === REPLAY_TAKER_ACCOUNT)?.orderId as string
    expect(finished).toEqual(expect.arrayContaining([filledMaker, taker]))
    expect(engine.order(filledMaker as string)).toBeUndefined()
    expect(engine.order(taker)).toBeUndefined()
    expect(engine.order(partMaker as string)?.filled.toFixed()).toBe("0.1")
    // Another account trading against the recorded liquidity is booked as before.
    const out = exchange.send({ account: "replay", symbol: "PF_XBTUSD", orderType: "ioc", side: "buy", size: new Decimal("0.2"), limitPrice: new Decimal("60000.5") })
    expect(out.status).toBe("placed")
    expect(engine.fills("replay").map((f) => f.qty.toFixed())).toEqual(["0.2"])
    expect(engine.position("replay", "PF_XBTUSD")?.balance.toFixed()).toBe("0.2")
  })
})

describe("recorded liquidity: bad recorded input", () => {
  it("an off-tick level is refused, counted apart from other refusals, and never rounded onto the grid", () => {
    const text = [
      `{"feed":"book_snapshot","product_id":"PF_XBTUSD","timestamp":${T0},"bids":[{"price":59999.5,"qty":1}],"asks":[{"price":60000.5,"qty":0.5}]}`,
      `{"feed":"book","product_id":"PF_XBTUSD","side":"buy","price":59999.75,"qty":2,"timestamp":${T0 + 10}}`
    ].join("\n")
    const input = parseRecording(text, "test")
    const clock = makeSimulatedClock(T0)
    const exchange = new ReplayExchange(replayInstruments(input).sim, 1, clock)
    const liquidity = new RecordedLiquidity(exchange)
    exchange.routeTo(() => undefined)
    for (const m of input.messages) {
      clock.setTime(m.ts)
      liquidity.apply(m)
    }
    expect(liquidity.offTickLevels).toBe(1)
    expect(liquidity.refused).toBe(1)
    expect(exchange.engine.depth("PF_XBTUSD").bids.map(([p, q]) => [p.toFixed(), q.toFixed()])).toEqual([["59999.5", "1"]])
  })
})
