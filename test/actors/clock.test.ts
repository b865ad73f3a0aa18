import { Effect, Fiber } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { createActor, setup } from "xstate"
import { makeSimulatedClock, wallClock, xstateClock } from "../../src/actors/clock.js"

describe("simulated clock", () => {
  it("fires due timers in time order, ties in the order they were set, with now() at each due time", () => {
    const clock = makeSimulatedClock(1_000)
    const fired: Array<[string, number]> = []
    clock.setTimer(300, () => fired.push(["c", clock.now()]))
    clock.setTimer(100, () => fired.push(["a", clock.now()]))
    clock.setTimer(200, () => fired.push(["b1", clock.now()]))
    clock.setTimer(200, () => fired.push(["b2", clock.now()]))
    clock.setTimer(500, () => fired.push(["late", clock.now()]))
    clock.advance(300)
    expect(fired).toEqual([
      ["a", 1_100],
      ["b1", 1_200],
      ["b2", 1_200],
      ["c", 1_300]
    ])
    expect(clock.now()).toBe(1_300)
    expect(clock.pendingTimers()).toBe(1)
    expect(clock.nextTimerAt()).toBe(1_500)
  })

  it("a timer set by a firing timer fires in the same advance when it falls due inside it", () => {
    const clock = makeSimulatedClock(0)
    const fired: number[] = []
    clock.setTimer(10, () => {
      fired.push(clock.now())
      clock.setTimer(10, () => fired.push(clock.now()))
      clock.setTimer(100, () => fired.push(clock.now()))
    })
    clock.advance(50)
    expect(fired).toEqual([10, 20])
    expect(clock.now()).toBe(50)
  })

  it("a cancelled timer never fires and time never goes backwards", () => {
    const clock = makeSimulatedClock(0)
    const fired: string[] = []
    const cancel = clock.setTimer(10, () => fired.push("cancelled"))
    clock.setTimer(20, () => fired.push("kept"))
    cancel()
    cancel()
    expect(clock.pendingTimers()).toBe(1)
    clock.setTime(25)
    clock.setTime(5)
    expect(fired).toEqual(["kept"])
    expect(clock.now()).toBe(25)
  })

  it("sleep completes only when the clock is advanced past it, and interrupting it cancels its timer", async () => {
    const clock = makeSimulatedClock(0)
    const done = await Effect.runPromise(
      Effect.gen(function* () {
        const sleeper = yield* Effect.fork(clock.sleep(1_000))
        const other = yield* Effect.fork(clock.sleep(5_000))
        yield* Effect.yieldNow()
        clock.advance(999)
        const early = sleeper.unsafePoll()
        clock.advance(1)
        yield* Fiber.join(sleeper)
        yield* Fiber.interrupt(other)
        return { early, pending: clock.pendingTimers() }
      })
    )
    expect(done.early).toBeNull()
    expect(done.pending).toBe(0)
  })

  it("whatever the advance steps, timers fire in non-decreasing due order and each exactly once", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 1_000 }), { maxLength: 40 }), fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 1, maxLength: 20 }), (delays, steps) => {
        const clock = makeSimulatedClock(0)
        const fired: Array<{ i: number; at: number; due: number }> = []
        delays.forEach((d, i) => clock.setTimer(d, () => fired.push({ i, at: clock.now(), due: d })))
        for (const s of steps) clock.advance(s)
        clock.advance(1_000)
        expect(fired.map((f) => f.i).sort((a, b) => a - b)).toEqual(delays.map((_, i) => i))
        for (const f of fired) expect(f.at).toBe(f.due)
        for (let k = 1; k < fired.length; k++) {
          const prev = fired[k - 1]
          const cur = fired[k]
          if (prev === undefined || cur === undefined) continue
          expect(prev.due < cur.due || (prev.due === cur.due && prev.i < cur.i)).toBe(true)
        }
      })
    )
  })
})

describe("xstate clock adapter", () => {
  const machine = setup({}).createMachine({
    initial: "waiting",
    states: { waiting: { after: { 1_000: "timedOut" }, on: { ANSWER: "answered" } }, timedOut: {}, answered: {} }
  })

  it("an `after` delay in a machine runs on the injected simulated clock", () => {
    const clock = makeSimulatedClock(0)
    const actor = createActor(machine, { clock: xstateClock(clock) })
    actor.start()
    clock.advance(999)
    expect(actor.getSnapshot().value).toBe("waiting")
    clock.advance(1)
    expect(actor.getSnapshot().value).toBe("timedOut")
    actor.stop()
  })

  it("leaving the state cancels the machine's delayed transition on the injected clock", () => {
    const clock = makeSimulatedClock(0)
    const actor = createActor(machine, { clock: xstateClock(clock) })
    actor.start()
    expect(clock.pendingTimers()).toBe(1)
    actor.send({ type: "ANSWER" })
    expect(clock.pendingTimers()).toBe(0)
    clock.advance(5_000)
    expect(actor.getSnapshot().value).toBe("answered")
    actor.stop()
  })
})

describe("wall clock", () => {
  it("fires a timer after its delay on real time and cancels one that is not due", async () => {
    const fired: string[] = []
    const start = wallClock.now()
    const cancel = wallClock.setTimer(5, () => fired.push("cancelled"))
    cancel()
    await new Promise<void>((resolve) => wallClock.setTimer(20, () => resolve()))
    expect(wallClock.now() - start).toBeGreaterThanOrEqual(19)
    expect(fired).toEqual([])
  })
})

describe("the simulated clock under timer churn", () => {
  it("a timer re-armed thousands of times (cancel, set again) fires once, in order with the others, and leaves no cancelled backlog", () => {
    const clock = makeSimulatedClock(0)
    const fired: string[] = []
    clock.setTimer(30_000, () => fired.push("a"))
    let cancel = clock.setTimer(60_000, () => fired.push("rearmed-0"))
    for (let i = 1; i <= 5_000; i++) {
      clock.advance(1)
      cancel()
      cancel = clock.setTimer(60_000, () => fired.push(`rearmed-${i}`))
    }
    clock.setTimer(70_000, () => fired.push("b"))
    expect(clock.pendingTimers()).toBe(3)
    clock.advance(200_000)
    expect(fired).toEqual(["a", "rearmed-5000", "b"])
    expect(clock.nextTimerAt()).toBeUndefined()
  })
})
