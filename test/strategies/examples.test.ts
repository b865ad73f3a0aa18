import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import type { SubmitOrder } from "../../src/domain/events/intents.js"
import type { ClientOrderId } from "../../src/domain/ids.js"
import avellanedaStoikov, { asQuotes } from "../../src/strategies/examples/avellaneda-stoikov.js"
import momentumBreakout from "../../src/strategies/examples/momentum-breakout.js"
import pairsZScore from "../../src/strategies/examples/pairs-zscore.js"
import { book, ETH, fillOf, settle, withHost, XBT } from "../actors/strategy/fixtures.js"

const asParams = { instrument: XBT, gamma: 0.1, k: 1.5, horizonMs: 60_000, sigmaWindow: 5, orderQty: "0.001", maxInventory: "0.01", requoteTicks: 2 }

/** Mids wobbling around 100 (tick 0.5): σ of the changes is about 1. */
const wobble = [100, 101, 100, 101, 100, 101]

const quotesOf = (intents: ReadonlyArray<SubmitOrder>) => Object.fromEntries(intents.map((i) => [i.side, i.price?.toNumber()]))

describe("avellaneda-stoikov example", () => {
  it("quotes both sides post-only around the mid when flat, with bid below ask on the tick grid", async () => {
    const submits = await withHost((w) =>
      Effect.gen(function* () {
        yield* w.host.add({ definition: avellanedaStoikov, params: asParams })
        for (const m of wobble) w.feed.push(book(XBT, m - 5, m + 5))
        yield* settle(w)
        return w.gateway.of("SubmitOrder")
      })
    )
    expect(submits.map((s) => `${s.side} ${s.orderType}`)).toEqual(["buy postOnly", "sell postOnly"])
    const { buy, sell } = quotesOf(submits) as { buy: number; sell: number }
    const mid = 101
    expect(buy).toBeLessThan(mid)
    expect(sell).toBeGreaterThan(mid)
    expect(buy % 0.5).toBe(0)
    expect(sell % 0.5).toBe(0)
    // Flat: the quotes are symmetric around the mid up to the tick rounding.
    expect(Math.abs(mid - buy - (sell - mid))).toBeLessThanOrEqual(0.5)
  })

  it("a long inventory skews both quotes down (reservation below the mid), and requotes by modify", async () => {
    const r = await withHost((w) =>
      Effect.gen(function* () {
        yield* w.host.add({ definition: avellanedaStoikov, params: { ...asParams, gamma: 0.5, orderQty: "0.5", maxInventory: "1" } })
        for (const m of wobble) w.feed.push(book(XBT, m - 5, m + 5))
        yield* settle(w)
        const flat = quotesOf(w.gateway.of("SubmitOrder")) as { buy: number; sell: number }
        for (const s of w.gateway.of("SubmitOrder")) {
          w.host.onOrderEvent({ _tag: "OrderAccepted", id: `acc-${s.clientOrderId}`, ts: 0, source: "test", account: s.account, instrument: XBT, clientOrderId: s.clientOrderId, venueOrderId: `v-${s.clientOrderId}` as never })
        }
        // The bid (0.5 contracts) fills: the market maker is now long.
        const bid = w.gateway.of("SubmitOrder").find((s) => s.side === "buy")?.clientOrderId as ClientOrderId
        w.host.onOrderEvent(fillOf(bid, XBT, "buy", "0.5", String(flat.buy)))
        w.feed.push(book(XBT, 95, 105))
        yield* settle(w)
        return { flat, modifies: w.gateway.of("ModifyOrder"), submits: w.gateway.of("SubmitOrder"), records: w.records }
      })
    )
    const askModify = r.modifies.find((m) => m.clientOrderId === r.submits.find((s) => s.side === "sell")?.clientOrderId)
    expect(askModify?.price?.toNumber()).toBeLessThan(r.flat.sell)
    // The filled bid is replaced by a new one, lower than the flat bid.
    const newBid = r.submits.slice(2).find((s) => s.side === "buy")
    expect(newBid?.price?.toNumber()).toBeLessThan(r.flat.buy)
    const reservation = r.records.filter((x) => x.name === "reservation").map((x) => Number(String(x.value)))
    expect(reservation.at(-1)).toBeLessThan(100)
    expect(r.records.filter((x) => x.name === "inventory").map((x) => String(x.value)).at(-1)).toBe("0.5")
  })

  it("with minRequoteMs a quote is moved at most once per interval, however often its target moves", async () => {
    const modifies = await withHost((w) =>
      Effect.gen(function* () {
        yield* w.host.add({ definition: avellanedaStoikov, params: { ...asParams, minRequoteMs: 3_000 } })
        for (const m of wobble) w.feed.push(book(XBT, m - 5, m + 5))
        yield* settle(w)
        for (const s of w.gateway.of("SubmitOrder")) {
          w.host.onOrderEvent({ _tag: "OrderAccepted", id: `acc-${s.clientOrderId}`, ts: 0, source: "test", account: s.account, instrument: XBT, clientOrderId: s.clientOrderId, venueOrderId: `v-${s.clientOrderId}` as never })
        }
        // The mid jumps 5 ticks on every book for 2 s: each book moves both targets by 2 ticks or more.
        const moved = (): number => w.gateway.of("ModifyOrder").length
        const counts: number[] = []
        for (let k = 1; k <= 4; k++) {
          w.clock.advance(500)
          w.feed.push(book(XBT, 100 + 2.5 * k - 5, 100 + 2.5 * k + 5))
          yield* settle(w)
          counts.push(moved())
        }
        w.clock.advance(1_500)
        w.feed.push(book(XBT, 80, 90))
        yield* settle(w)
        counts.push(moved())
        return counts
      })
    )
    // Quotes placed at t0: nothing moves before t0 + 3 s; then both quotes move once.
    expect(modifies.slice(0, 4)).toEqual([0, 0, 0, 0])
    expect(modifies[4]).toBe(2)
  })

  it("the reservation price moves against the inventory and the spread does not depend on it", () => {
    const p = { gamma: 0.1, k: 1.5 }
    const flat = asQuotes(p, 100, 0, 1, 1)
    const long = asQuotes(p, 100, 2, 1, 1)
    const short = asQuotes(p, 100, -2, 1, 1)
    expect(flat.reservation).toBe(100)
    expect(long.reservation).toBeCloseTo(100 - 2 * 0.1, 12)
    expect(short.reservation).toBeCloseTo(100 + 2 * 0.1, 12)
    expect(long.spread).toBe(flat.spread)
    expect(flat.spread).toBeCloseTo(0.1 + 20 * Math.log(1 + 0.1 / 1.5), 12)
  })
})

describe("momentum-breakout example", () => {
  const params = { instrument: XBT, lookback: 3, orderQty: "0.002", maxPosition: "0.002", cooldownMs: 10_000 }

  it("buys with an IOC at the ask when the mid breaks above the channel, then holds off during the cooldown and at the max position", async () => {
    const submits = await withHost((w) =>
      Effect.gen(function* () {
        yield* w.host.add({ definition: momentumBreakout, params })
        for (const m of [100, 101, 100.5, 100.5]) w.feed.push(book(XBT, m - 0.5, m + 0.5))
        w.feed.push(book(XBT, 102, 103))
        yield* settle(w)
        const first = w.gateway.of("SubmitOrder")[0]
        w.host.onOrderEvent(fillOf(first?.clientOrderId as ClientOrderId, XBT, "buy", "0.002", "103"))
        w.feed.push(book(XBT, 104, 105))
        w.clock.advance(20_000)
        w.feed.push(book(XBT, 106, 107))
        yield* settle(w)
        return w.gateway.of("SubmitOrder")
      })
    )
    expect(submits.map((s) => `${s.side} ${s.orderType} ${s.qty.toString()} @${s.price?.toString() ?? "-"}`)).toEqual(["buy ioc 0.002 @103"])
  })

  it("sells on a breakdown below the channel", async () => {
    const sides = await withHost((w) =>
      Effect.gen(function* () {
        yield* w.host.add({ definition: momentumBreakout, params })
        for (const m of [100, 101, 100.5, 99]) w.feed.push(book(XBT, m - 0.5, m + 0.5))
        yield* settle(w)
        return w.gateway.of("SubmitOrder").map((s) => `${s.side} @${s.price?.toString() ?? "-"}`)
      })
    )
    expect(sides).toEqual(["sell @98.5"])
  })
})

describe("pairs-zscore example", () => {
  const params = { legA: XBT, legB: ETH, window: 5, entryZ: 2, exitZ: 0.5, qtyA: "0.001", qtyB: "0.01" }

  it("sells A and buys B when the z-score of the log ratio rises above the entry, and closes reduce-only when it falls back", async () => {
    const r = await withHost((w) =>
      Effect.gen(function* () {
        yield* w.host.add({ definition: pairsZScore, params })
        w.feed.push(book(ETH, 9.95, 10.05))
        for (const a of [100, 100.5, 100, 100.5, 100]) w.feed.push(book(XBT, a - 0.5, a + 0.5))
        w.feed.push(book(XBT, 104.5, 105.5))
        yield* settle(w)
        const entry = w.gateway.of("SubmitOrder").map((s) => `${s.instrument} ${s.side} ${s.orderType} ${s.qty.toString()} @${s.price?.toString() ?? "-"}`)
        for (const s of w.gateway.of("SubmitOrder")) w.host.onOrderEvent(fillOf(s.clientOrderId, s.instrument, s.side, s.qty.toString(), String(s.price)))
        w.feed.push(book(XBT, 99.5, 100.5))
        w.feed.push(book(XBT, 100, 101))
        yield* settle(w)
        const exit = w.gateway.of("SubmitOrder").slice(2).map((s) => `${s.instrument} ${s.side} reduceOnly=${String(s.reduceOnly)}`)
        return { entry, exit, z: w.records.filter((x) => x.name === "z").map((x) => Number(x.value)) }
      })
    )
    expect(r.entry).toEqual([`${XBT} sell ioc 0.001 @104.5`, `${ETH} buy ioc 0.01 @10.05`])
    expect(r.z[0]).toBeGreaterThan(2)
    expect(r.exit).toEqual([`${XBT} buy reduceOnly=true`, `${ETH} sell reduceOnly=true`])
  })

  it("refuses params whose exit threshold is not below the entry, naming exitZ", async () => {
    const error = await withHost((w) => Effect.flip(w.host.add({ definition: pairsZScore, params: { ...params, exitZ: 3 } })))
    expect(error).toMatchObject({ _tag: "StrategyParamsInvalid", field: "exitZ" })
  })
})
