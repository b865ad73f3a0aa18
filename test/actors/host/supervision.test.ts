import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { makeSupervisor, supervisorChild } from "../../../src/actors/supervisor/index.js"
import type { Strategy, SupervisorEvent } from "../../../src/actors/supervisor/index.js"
import type { InstrumentActor } from "../../../src/actors/instrument/instrument.actor.js"
import { instrument, instrumentActor, sameAsVenue, settle, until, world } from "../instrument/fixtures.js"

const liveAll = (actors: ReadonlyArray<InstrumentActor>) => until(() => actors.every((a) => a.state() === "live"), "all live")
const incarnations = (actors: ReadonlyArray<InstrumentActor>) => actors.map((a) => a.host.incarnations())

describe("supervised instrument actors", () => {
  it("a crashed instrument is restarted by its supervisor from its last snapshot while the others keep receiving data (one_for_one)", async () => {
    const specs = [instrument(10), instrument(11), instrument(12)]
    const w = world(specs)
    const actors = specs.map((s) => instrumentActor(s))
    const [a, b, c] = actors as [InstrumentActor, InstrumentActor, InstrumentActor]
    await w.run(
      Effect.gen(function* () {
        yield* makeSupervisor({ id: "instruments", strategy: "one_for_one", children: actors.map((x) => x.host.child) })
        yield* liveAll(actors)
        for (let i = 0; i < 30; i++) w.market.stepAll()
        yield* settle
        expect(yield* b.host.saveSnapshot).toBe(true)
        const savedSeq = w.snapshots.get(b.host.ref.id)?.snapshot.data as { book: { seq: number } }
        expect(savedSeq.book.seq).toBe(w.market.reference(b.instrumentId).seq)
        for (let i = 0; i < 30; i++) w.market.stepAll()
        yield* settle
        const before = { a: a.stats.deltas, c: c.stats.deltas }

        expect(b.host.kill(new Error("injected crash"))).toBe(true)
        // Data keeps flowing while b restarts.
        for (let i = 0; i < 30; i++) w.market.stepAll()
        yield* until(() => b.host.incarnations() === 2 && b.state() === "live", "b restarted and live")
        for (let i = 0; i < 30; i++) w.market.stepAll()
        yield* settle

        expect(b.restoredSeq()).toBe(savedSeq.book.seq)
        expect(b.context()?.lastResync).toBe("restored")
        expect(sameAsVenue(b, w.market)).toBe(true)
        expect(incarnations(actors)).toEqual([1, 2, 1])
        expect(a.stats.deltas - before.a).toBeGreaterThanOrEqual(60)
        expect(c.stats.deltas - before.c).toBeGreaterThanOrEqual(60)
        expect([a.context()?.resyncs, c.context()?.resyncs]).toEqual([0, 0])
        expect(sameAsVenue(a, w.market) && sameAsVenue(c, w.market)).toBe(true)
      })
    )
  })

  const restartsOf = async (strategy: Strategy): Promise<number[]> => {
    const specs = [instrument(20), instrument(21), instrument(22)]
    const w = world(specs)
    const actors = specs.map((s) => instrumentActor(s))
    return w.run(
      Effect.gen(function* () {
        const sup = yield* makeSupervisor({ id: "instruments", strategy, children: actors.map((x) => x.host.child) })
        yield* liveAll(actors)
        actors[1]?.host.kill()
        yield* until(() => (actors[1]?.host.incarnations() ?? 0) === 2, "restart")
        yield* sup.settled
        yield* liveAll(actors)
        for (let i = 0; i < 20; i++) w.market.stepAll()
        yield* settle
        expect(actors.every((x) => sameAsVenue(x, w.market))).toBe(true)
        return incarnations(actors)
      })
    )
  }

  it("one_for_all restarts every instrument when one crashes", async () => {
    expect(await restartsOf("one_for_all")).toEqual([2, 2, 2])
  })

  it("rest_for_one restarts the crashed instrument and those started after it", async () => {
    expect(await restartsOf("rest_for_one")).toEqual([1, 2, 2])
  })

  it("crashes beyond the intensity make the instruments supervisor give up and its parent restarts the subtree", async () => {
    const specs = [instrument(30), instrument(31)]
    const w = world(specs)
    const actors = specs.map((s) => instrumentActor(s))
    const [a] = actors as [InstrumentActor]
    const events: SupervisorEvent[] = []
    await w.run(
      Effect.gen(function* () {
        yield* makeSupervisor({
          id: "root",
          strategy: "one_for_one",
          observer: (e) => void events.push(e),
          children: [supervisorChild({ id: "instruments", strategy: "one_for_one", intensity: { maxRestarts: 2, periodMs: 60_000 }, children: actors.map((x) => x.host.child) })]
        })
        yield* liveAll(actors)
        for (let crash = 1; crash <= 3; crash++) {
          yield* until(() => a.host.machine() !== undefined, "a running")
          a.host.kill()
          yield* until(() => a.host.incarnations() === crash + 1, `restart ${crash}`)
        }
        yield* liveAll(actors)
        expect(events.filter((e) => e._tag === "SupervisorGaveUp").map((e) => e._tag === "SupervisorGaveUp" && e.supervisor)).toEqual(["root/instruments"])
        expect(events.some((e) => e._tag === "ChildRestarted" && e.supervisor === "root" && e.child === "instruments")).toBe(true)
        // b never crashed, but the subtree restart gave it a new incarnation too.
        expect(incarnations(actors)).toEqual([4, 2])
        for (let i = 0; i < 20; i++) w.market.stepAll()
        yield* settle
        expect(actors.every((x) => sameAsVenue(x, w.market))).toBe(true)
      })
    )
  })
})
