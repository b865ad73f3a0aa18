import { Effect, Layer } from "effect"
import type { Scope } from "effect"
import { describe, expect, it } from "vitest"
import { assign, setup } from "xstate"
import { makeSimulatedClock, simulatedClockLayer, WallClockLive } from "../../../src/actors/clock.js"
import type { TroupeClock } from "../../../src/actors/clock.js"
import { hostActor } from "../../../src/actors/host/actor-host.js"
import type { ActorKind } from "../../../src/actors/host/actor-host.js"
import { InspectionStream } from "../../../src/actors/inspection.js"
import { MetricsRegistry } from "../../../src/actors/metrics.js"
import { inMemorySnapshotsLayer, makeInMemorySnapshots } from "../../../src/actors/ports/snapshots.js"
import type { InMemorySnapshots, Snapshots } from "../../../src/actors/ports/snapshots.js"
import { makeSupervisor } from "../../../src/actors/supervisor/index.js"
import type { SupervisorEvent } from "../../../src/actors/supervisor/index.js"
import { until } from "../instrument/fixtures.js"

/** A small machine: counts messages, can be made to throw in an action, and has a timer that RESTORED re-arms. */
const counterMachine = setup({
  types: { context: {} as { count: number; timeouts: number }, events: {} as { type: "COUNT" } | { type: "BOOM" } | { type: "RESTORED" } },
  actions: {
    boom: () => {
      throw new Error("action failed")
    }
  },
  delays: { idleTimeout: 1_000 }
}).createMachine({
  id: "counter",
  initial: "waiting",
  context: { count: 0, timeouts: 0 },
  states: {
    waiting: {
      on: { COUNT: { actions: assign({ count: ({ context }) => context.count + 1 }) }, BOOM: { actions: "boom" }, RESTORED: { target: "waiting", reenter: true } },
      after: { idleTimeout: { target: "timedOut", actions: assign({ timeouts: ({ context }) => context.timeouts + 1 }) } }
    },
    timedOut: {}
  }
})

const counterActor = (
  kind: ActorKind,
  opts: { capacity?: number; handle?: (msg: string) => void | Promise<void>; version?: string; metrics?: MetricsRegistry; inspection?: InspectionStream } = {}
) =>
  hostActor<string>({
    id: `${kind}:counter`,
    kind,
    machineVersion: opts.version ?? "counter@1",
    mailboxCapacity: opts.capacity ?? 16,
    snapshotEveryMs: Infinity,
    ...(opts.metrics === undefined ? {} : { metrics: opts.metrics }),
    ...(opts.inspection === undefined ? {} : { inspection: opts.inspection }),
    incarnate: (ctx) =>
      Effect.succeed({
        machine: counterMachine,
        handle: (msg: string) => {
          if (msg === "boom") ctx.send({ type: "BOOM" })
          else ctx.send({ type: "COUNT" })
          return opts.handle?.(msg)
        }
      })
  })

const runWith = <A, E>(snapshots: InMemorySnapshots, program: Effect.Effect<A, E, Snapshots | TroupeClock | Scope.Scope>, clock: Layer.Layer<TroupeClock> = WallClockLive): Promise<A> =>
  Effect.runPromise(Effect.scoped(program).pipe(Effect.provide(Layer.merge(inMemorySnapshotsLayer(snapshots), clock))))

const countOf = (h: ReturnType<typeof counterActor>) => (h.machine()?.getSnapshot().context as { count: number } | undefined)?.count

describe("actor host mailboxes", () => {
  it("a market data mailbox that overflows drops the oldest messages and counts them", async () => {
    const metrics = new MetricsRegistry()
    const seen: string[] = []
    const h = counterActor("instrument", { capacity: 8, metrics, handle: (m) => void seen.push(m) })
    await runWith(
      makeInMemorySnapshots(),
      Effect.gen(function* () {
        yield* makeSupervisor({ id: "md", strategy: "one_for_one", children: [h.child] })
        yield* until(() => h.machine() !== undefined, "started")
        // All sent before the actor's drain gets a turn: the mailbox holds only the newest 8.
        for (let i = 0; i < 100; i++) expect(h.ref.send(`m${i}`)).toBe(true)
        yield* until(() => seen.length === 8, "drained")
        expect(seen).toEqual(Array.from({ length: 8 }, (_, k) => `m${92 + k}`))
        expect(h.ref.dropped()).toBe(92)
        expect(metrics.value("actor_mailbox_dropped_total", { actor: "instrument:counter", kind: "instrument" })).toBe(92)
      })
    )
  })

  it("order messages are never dropped: with a slow consumer the senders wait and every message arrives in order", async () => {
    const seen: string[] = []
    let maxBlocked = 0
    const h = counterActor("order", {
      capacity: 4,
      handle: (m) => {
        seen.push(m)
        maxBlocked = Math.max(maxBlocked, h.ref.blockedSenders())
        return new Promise<void>((r) => setTimeout(r, 1))
      }
    })
    await runWith(
      makeInMemorySnapshots(),
      Effect.gen(function* () {
        yield* makeSupervisor({ id: "orders", strategy: "one_for_one", children: [h.child] })
        yield* until(() => h.machine() !== undefined, "started")
        const sent = Array.from({ length: 40 }, (_, i) => `order-${i}`)
        expect(h.ref.send("first")).toBe(true)
        const all = Promise.all(sent.map((m) => h.ref.offerAsync(m)))
        expect(h.ref.send("refused while full")).toBe(false)
        yield* Effect.promise(() => all)
        yield* until(() => seen.length === 41, "all handled", 5_000)
        expect(seen).toEqual(["first", ...sent])
        expect(h.ref.dropped()).toBe(0)
        expect(maxBlocked).toBeGreaterThan(10)
        expect(countOf(h)).toBe(41)
      })
    )
  })
})

describe("actor host crashes, snapshots and restore", () => {
  it("an XState error in a machine action is caught and the supervisor restarts the actor", async () => {
    const events: SupervisorEvent[] = []
    const h = counterActor("order")
    const snapshots = makeInMemorySnapshots()
    await runWith(
      snapshots,
      Effect.gen(function* () {
        yield* makeSupervisor({ id: "orders", strategy: "one_for_one", observer: (e) => void events.push(e), children: [h.child] })
        yield* until(() => h.machine() !== undefined, "started")
        h.ref.send("a")
        h.ref.send("b")
        yield* until(() => countOf(h) === 2, "counted")
        yield* h.saveSnapshot
        h.ref.send("boom")
        h.ref.send("c")
        yield* until(() => h.incarnations() === 2 && countOf(h) === 3, "restarted and counting")
        const exit = events.find((e) => e._tag === "ChildExited" && e.reason === "failure")
        expect(exit).toBeDefined()
        expect(String(exit?._tag === "ChildExited" ? exit.cause : "")).toContain("action failed")
        // Restored from the snapshot (count 2), then "c": the message after the crash was kept.
        expect(h.restored()).toBe(true)
      })
    )
  })

  it("a snapshot of another machine version is not restored: the actor starts fresh", async () => {
    const snapshots = makeInMemorySnapshots()
    const v1 = counterActor("order", { version: "counter@1" })
    await runWith(
      snapshots,
      Effect.gen(function* () {
        yield* makeSupervisor({ id: "orders", strategy: "one_for_one", children: [v1.child] })
        yield* until(() => v1.machine() !== undefined, "started")
        for (let i = 0; i < 5; i++) v1.ref.send("x")
        yield* until(() => countOf(v1) === 5, "counted")
      })
    )
    expect((snapshots.get("order:counter")?.snapshot.machine as { context: { count: number } }).context.count).toBe(5)

    const metrics = new MetricsRegistry()
    const sameVersion = counterActor("order", { version: "counter@1" })
    const v2 = counterActor("order", { version: "counter@2", metrics })
    const counts = await runWith(
      snapshots,
      Effect.gen(function* () {
        yield* makeSupervisor({ id: "a", strategy: "one_for_one", children: [sameVersion.child] })
        yield* until(() => sameVersion.machine() !== undefined, "started")
        const restoredCount = countOf(sameVersion)
        const restored = sameVersion.restored()
        return { restoredCount, restored }
      })
    )
    expect(counts).toEqual({ restoredCount: 5, restored: true })
    await runWith(
      snapshots,
      Effect.gen(function* () {
        yield* makeSupervisor({ id: "b", strategy: "one_for_one", children: [v2.child] })
        yield* until(() => v2.machine() !== undefined, "started")
        expect(countOf(v2)).toBe(0)
        expect(v2.restored()).toBe(false)
        expect(metrics.value("actor_snapshot_discarded_total", { actor: "order:counter", kind: "order" })).toBe(1)
      })
    )
  })

  it("after a restore the host sends RESTORED, which re-arms the machine's delayed transitions on the injected clock", async () => {
    const clock = makeSimulatedClock(0)
    const snapshots = makeInMemorySnapshots()
    const first = counterActor("order")
    await runWith(
      snapshots,
      Effect.gen(function* () {
        yield* makeSupervisor({ id: "orders", strategy: "one_for_one", children: [first.child] })
        yield* until(() => first.machine() !== undefined, "started")
        clock.advance(500)
      }),
      simulatedClockLayer(clock)
    )
    expect(clock.pendingTimers()).toBe(0) // the timer died with the actor
    const second = counterActor("order")
    await runWith(
      snapshots,
      Effect.gen(function* () {
        yield* makeSupervisor({ id: "orders", strategy: "one_for_one", children: [second.child] })
        yield* until(() => second.machine() !== undefined, "started")
        expect(second.restored()).toBe(true)
        expect(second.machine()?.getSnapshot().value).toBe("waiting")
        clock.advance(999)
        expect(second.machine()?.getSnapshot().value).toBe("waiting")
        clock.advance(1)
        expect(second.machine()?.getSnapshot().value).toBe("timedOut")
      }),
      simulatedClockLayer(clock)
    )
  })
})

describe("actor host inspection and metrics", () => {
  it("machine events, transitions and snapshots reach the inspection stream and metrics render as Prometheus text", async () => {
    const inspection = new InspectionStream(64)
    const metrics = new MetricsRegistry()
    const live: string[] = []
    inspection.subscribe((e) => void live.push(e.type))
    const h = counterActor("order", { inspection, metrics })
    await runWith(
      makeInMemorySnapshots(),
      Effect.gen(function* () {
        yield* makeSupervisor({ id: "orders", strategy: "one_for_one", children: [h.child] })
        yield* until(() => h.machine() !== undefined, "started")
        h.ref.send("x")
        yield* until(() => countOf(h) === 1, "counted")
      })
    )
    const counted = inspection.recent().filter((e) => (e.event as { type?: string } | undefined)?.type === "COUNT")
    expect(counted.map((e) => e.type).sort()).toEqual(["event", "snapshot", "transition"])
    expect(counted.every((e) => e.actorId === "order:counter" && e.kind === "order" && e.state === "waiting")).toBe(true)
    expect(live.length).toBe(inspection.recent().length)
    const text = metrics.render()
    expect(text).toContain('# TYPE troupe_actor_mailbox_depth gauge\ntroupe_actor_mailbox_depth{actor="order:counter",kind="order"} 0')
    expect(text).toMatch(/troupe_actor_processing_seconds_count\{kind="order"\} 1\n/)
    expect(text).toContain('troupe_actor_restarts_total{actor="order:counter",kind="order"} 0')
  })
})
