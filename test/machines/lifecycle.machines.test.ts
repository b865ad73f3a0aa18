import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { createActor, SimulatedClock, type AnyEventObject, type AnyStateMachine, type EventObject } from "xstate"
import { backoffDelay, DEFAULT_BACKOFF, permits, venueConnectionMachine } from "../../src/machines/index.js"
import type { VenueId } from "../../src/domain/ids.js"
import { lifecycleSpecs, type Snap } from "./lifecycle.specs.js"
import { explore, formatCoverage } from "./model.js"

const start = (machine: AnyStateMachine, input: unknown, events: ReadonlyArray<AnyEventObject>, invariant?: (n: Snap, p: Snap | undefined, e: EventObject) => void, clock?: SimulatedClock) => {
  const actor = createActor(machine, { input, ...(clock ? { clock } : {}) })
  actor.subscribe({ error: (e) => { throw e } })
  actor.start()
  let prev: Snap = actor.getSnapshot()
  for (const e of events) {
    actor.send(e)
    const next: Snap = actor.getSnapshot()
    invariant?.(next, prev, e)
    prev = next
  }
  return actor
}

for (const spec of lifecycleSpecs) {
  describe(`${spec.name} machine`, () => {
    it("paths generated from the machine reach every state and every transition, with the invariants on every reached state", () => {
      const coverage = explore(spec)
      console.log(formatCoverage(coverage))
      expect(coverage.missingStates).toEqual([])
      expect(coverage.missingTransitions).toEqual([])
    })

    it("random event sequences never throw and never break an invariant", () => {
      fc.assert(
        fc.property(fc.array(fc.constantFrom(...spec.events), { maxLength: 40 }), (events) => {
          const actor = start(spec.machine, spec.inputs[0], events, spec.invariant)
          expect(actor.getSnapshot().status).toBe("active")
        }),
        { numRuns: 300 }
      )
    })

    it("a persisted snapshot survives JSON and restores the same state and context", () => {
      const actor = start(spec.machine, spec.inputs[0], spec.persistPath)
      const json = JSON.stringify(actor.getPersistedSnapshot())
      const restored = createActor(spec.machine, { input: spec.inputs[0], snapshot: JSON.parse(json) as Snap }).start()
      expect(restored.getSnapshot().value).toEqual(actor.getSnapshot().value)
      expect(restored.getSnapshot().context).toEqual(actor.getSnapshot().context)
      expect(JSON.stringify(restored.getPersistedSnapshot())).toBe(json)
    })
  })
}

describe("delayed transitions after a restore", () => {
  it("XState does not re-arm a delayed transition on restore; RESTORED does (book sync: stale → resync)", () => {
    const spec = lifecycleSpecs.find((s) => s.name === "book-sync")
    if (!spec) throw new Error("no book-sync spec")
    const clock = new SimulatedClock()
    const actor = start(spec.machine, spec.inputs[0], [{ type: "START" }, { type: "SUBSCRIBED" }, { type: "SNAPSHOT", seq: 1 }], undefined, clock)
    const json = JSON.stringify(actor.getPersistedSnapshot())
    actor.stop()
    const clock2 = new SimulatedClock()
    const restored = createActor(spec.machine, { input: spec.inputs[0], snapshot: JSON.parse(json) as Snap, clock: clock2 }).start()
    clock2.increment(60_000)
    expect(restored.getSnapshot().value, "no timer runs after a bare restore").toBe("live")
    restored.send({ type: "RESTORED" })
    expect(restored.getSnapshot().value).toBe("resyncing")
    restored.send({ type: "SUBSCRIBED" })
    clock2.increment(10_000)
    expect(restored.getSnapshot().value, "the snapshot timer is armed again").toBe("resyncing")
  })

  it("a restored venue connection reconnects and its watchdog runs again", () => {
    const clock = new SimulatedClock()
    const input = { venue: "simulator" as VenueId, seed: 7 }
    const actor = start(venueConnectionMachine, input, [{ type: "CONNECT" }, { type: "OPENED" }, { type: "AUTHENTICATED" }], undefined, clock)
    const json = JSON.stringify(actor.getPersistedSnapshot())
    actor.stop()
    const clock2 = new SimulatedClock()
    const restored = createActor(venueConnectionMachine, { input, snapshot: JSON.parse(json) as Snap, clock: clock2 }).start()
    clock2.increment(60_000)
    expect(restored.getSnapshot().value).toEqual({ online: "subscribed" })
    restored.send({ type: "RESTORED" })
    restored.send({ type: "OPENED" })
    restored.send({ type: "AUTHENTICATED" })
    clock2.increment(15_000)
    expect(restored.getSnapshot().value, "heartbeat watchdog fired").toEqual({ online: "backoff" })
  })
})

describe("venue connection backoff", () => {
  it("grows exponentially, is capped, jittered within bounds, and fails after maxAttempts with an escalation", () => {
    expect([1, 2, 3, 4].map((a) => backoffDelay(DEFAULT_BACKOFF, a, 0))).toEqual([500, 1000, 2000, 4000])
    expect(backoffDelay(DEFAULT_BACKOFF, 30, 0)).toBe(30_000)
    expect(backoffDelay(DEFAULT_BACKOFF, 3, 0.999)).toBeGreaterThanOrEqual(1000)
    const escalations: string[] = []
    const clock = new SimulatedClock()
    const m = venueConnectionMachine.provide({ actions: { escalate: () => { escalations.push("escalate") } } })
    const actor = createActor(m, { input: { venue: "simulator" as VenueId, backoff: { ...DEFAULT_BACKOFF, maxAttempts: 3 }, seed: 1 }, clock }).start()
    actor.send({ type: "CONNECT" })
    const delays: number[] = []
    for (let i = 0; i < 2; i++) {
      actor.send({ type: "FAILED", error: "refused" })
      expect(actor.getSnapshot().value).toEqual({ online: "backoff" })
      delays.push(actor.getSnapshot().context.backoffMs)
      clock.increment(actor.getSnapshot().context.backoffMs)
      expect(actor.getSnapshot().value).toEqual({ online: "connecting" })
    }
    actor.send({ type: "FAILED", error: "refused" })
    expect(actor.getSnapshot().value).toBe("failed")
    expect(escalations).toEqual(["escalate"])
    expect(delays[1]).toBeGreaterThan(0)
  })
})

describe("trading state permissions", () => {
  it("halted denies submits and modifies, reducing allows only reduce-only submits, cancels always pass", () => {
    expect(permits("active", "submit")).toBe(true)
    expect(permits("reducing", "submit")).toBe(false)
    expect(permits("reducing", "submitReduceOnly")).toBe(true)
    expect(permits("halted", "submitReduceOnly")).toBe(false)
    expect(permits("halted", "modify")).toBe(false)
    expect((["active", "reducing", "halted"] as const).every((s) => permits(s, "cancel"))).toBe(true)
  })
})
