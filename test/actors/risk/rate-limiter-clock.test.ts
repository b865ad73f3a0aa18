import { describe, expect, it } from "vitest"
import { makeSimulatedClock } from "../../../src/actors/clock.js"
import { StrategyRateLimiter, VenueRateLimiter } from "../../../src/actors/risk/rate-limiter.js"

// The rate windows run on a time that a backward step of the wall clock does not stop
// (simulation seeds 79 and 85: test/simulation/simulation.test.ts).

describe("rate limiters across a backward step of the wall clock", () => {
  it("a step back of an hour holds the venue budget for one window, not for an hour", () => {
    const clock = makeSimulatedClock(1_000_000_000)
    let back = 0
    const wall = { ...clock, now: () => clock.now() - back }
    const rate = new VenueRateLimiter(wall)
    for (let i = 0; i < 40; i++) rate.spend("sendorder")
    expect(rate.fits("sendorder")).toBe(false)
    back = 3_600_000
    // A step back counts as no time passing: from the first look after it, time runs on.
    expect(rate.fits("sendorder")).toBe(false)
    clock.advance(10_600)
    expect(rate.fits("sendorder")).toBe(true)
    expect(rate.used()).toBe(0)
  })

  it("a step back keeps what was spent in the window (never less strict)", () => {
    const clock = makeSimulatedClock(1_000_000_000)
    let back = 0
    const wall = { ...clock, now: () => clock.now() - back }
    const rate = new VenueRateLimiter(wall)
    for (let i = 0; i < 40; i++) rate.spend("sendorder")
    back = 60_000
    clock.advance(5_000)
    expect(rate.used()).toBe(400)
    expect(rate.fits("sendorder")).toBe(false)
  })

  it("a strategy's order-rate window resumes after one window", () => {
    const clock = makeSimulatedClock(1_000_000_000)
    let back = 0
    const wall = { ...clock, now: () => clock.now() - back }
    const limiter = new StrategyRateLimiter(wall, { maxActions: 2, windowMs: 1_000 })
    limiter.spend("s")
    limiter.spend("s")
    expect(limiter.fits("s")).toBe(false)
    back = 3_600_000
    expect(limiter.fits("s")).toBe(false)
    clock.advance(1_100)
    expect(limiter.fits("s")).toBe(true)
  })
})
