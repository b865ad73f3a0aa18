import { Either } from "effect"
import { describe, expect, it } from "vitest"
import { makeSimulatedClock } from "../../src/actors/clock.js"
import { VenueRateLimiter, KRAKEN_FUTURES_RATE } from "../../src/actors/risk/rate-limiter.js"
import type { VenueRequestSent } from "../../src/domain/events/venue.js"
import type { AccountId } from "../../src/domain/ids.js"
import { TradingLedger } from "../../src/domain/ledger.js"
import { SPENT_REQUESTS_KEEP_MS } from "../../src/domain/spent-requests.js"

const T0 = 1_800_000_000_000
let n = 0
const sent = (ts: number, call: VenueRequestSent["call"], cost: number): VenueRequestSent => ({ _tag: "VenueRequestSent", id: `r-${++n}`, ts, source: "risk/a", account: "a" as AccountId, call, cost })

describe("the venue budget spent before a restart", () => {
  it("is folded by the ledger from VenueRequestSent, survives a snapshot, and is bounded by time", () => {
    const ledger = new TradingLedger(() => undefined)
    ledger.apply(sent(T0 - SPENT_REQUESTS_KEEP_MS - 5_000, "openorders", 2))
    for (let k = 0; k < 200; k++) ledger.apply(sent(T0 + k * 40, k % 2 === 0 ? "sendorder" : "fillsBefore", k % 2 === 0 ? 10 : 25))
    const recent = ledger.requests.recent()
    expect(recent).toHaveLength(200)
    expect(recent[0]).toEqual({ at: T0, cost: 10, call: "sendorder" })
    const copy = TradingLedger.fromSnapshot(JSON.parse(JSON.stringify(ledger.toSnapshot())), () => undefined)
    expect(Either.isRight(copy) && copy.right.requests.recent()).toEqual(recent)
  })

  it("restored into the rate limiter, the previous run's costs count until they leave the window (plus the send margin)", () => {
    const clock = makeSimulatedClock(T0 + 6_000)
    const limiter = new VenueRateLimiter(clock, KRAKEN_FUTURES_RATE)
    // 400 spent by the last run between T0 and T0 + 4 s; its window is still open at restart.
    limiter.restore(Array.from({ length: 40 }, (_, k) => ({ at: T0 + k * 100, cost: 10 })))
    expect(limiter.used()).toBe(400)
    expect(limiter.fits("sendorder")).toBe(false)
    expect(limiter.fits("cancelorder")).toBe(true)
    // The first of them leaves at T0 + 10 s + 500 ms margin.
    expect(limiter.fitsAt("sendorder")).toBe(T0 + 10_500)
    clock.advance(4_500)
    expect(limiter.used()).toBe(390)
    expect(limiter.fits("sendorder")).toBe(true)
  })
})
