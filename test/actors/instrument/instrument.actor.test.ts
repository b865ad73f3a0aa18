import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { makeSupervisor } from "../../../src/actors/supervisor/index.js"
import type { BookView } from "../../../src/actors/instrument/book-views.js"
import { instrument, instrumentActor, sameAsVenue, settle, until, world } from "./fixtures.js"

describe("instrument actor", () => {
  it("subscribes, takes the snapshot and applies deltas so its book equals the venue's", async () => {
    const spec = instrument(1)
    const w = world([spec])
    const a = instrumentActor(spec)
    await w.run(
      Effect.gen(function* () {
        yield* makeSupervisor({ id: "instruments", strategy: "one_for_one", children: [a.host.child] })
        yield* until(() => a.state() === "live", "live")
        for (let i = 0; i < 500; i++) w.market.step(spec.id)
        yield* until(() => a.host.ref.depth() === 0, "mailbox drained")
        expect(a.stats.deltas).toBeGreaterThanOrEqual(500)
        expect(sameAsVenue(a, w.market)).toBe(true)
        expect(a.book()?.sequence).toBe(w.market.reference(spec.id).seq)
      })
    )
  })

  it("a sequence gap sends it to resync, and it is live again with the book equal to the venue's", async () => {
    const spec = instrument(2)
    const w = world([spec])
    const a = instrumentActor(spec)
    await w.run(
      Effect.gen(function* () {
        yield* makeSupervisor({ id: "instruments", strategy: "one_for_one", children: [a.host.child] })
        yield* until(() => a.state() === "live", "live")
        for (let i = 0; i < 50; i++) w.market.step(spec.id)
        w.market.dropNext(spec.id)
        for (let i = 0; i < 50; i++) w.market.step(spec.id)
        yield* settle
        expect(a.stats.gaps).toBe(1)
        expect(w.market.resyncRequests).toBe(1)
        yield* until(() => a.state() === "live" && a.stats.snapshots === 2, "live after resync")
        for (let i = 0; i < 50; i++) w.market.step(spec.id)
        yield* settle
        expect(a.context()?.lastResync).toBe("gap")
        expect(a.context()?.resyncs).toBe(1)
        expect(sameAsVenue(a, w.market)).toBe(true)
      })
    )
  })

  it("a crossed book sends it to resync, and the fresh snapshot repairs it", async () => {
    const spec = instrument(3)
    const w = world([spec])
    const a = instrumentActor(spec)
    await w.run(
      Effect.gen(function* () {
        yield* makeSupervisor({ id: "instruments", strategy: "one_for_one", children: [a.host.child] })
        yield* until(() => a.state() === "live", "live")
        w.market.sendCrossed(spec.id)
        yield* settle
        expect(a.stats.crossed).toBe(1)
        yield* until(() => a.state() === "live" && a.stats.snapshots === 2, "live after resync")
        expect(a.context()?.lastResync).toBe("crossed")
        expect(a.book()?.isCrossed()).toBe(false)
        expect(sameAsVenue(a, w.market)).toBe(true)
      })
    )
  })

  it("a slow subscriber gets the latest view only, never a backlog, while a fast one sees each batch", async () => {
    const spec = instrument(4)
    const w = world([spec])
    const a = instrumentActor(spec)
    await w.run(
      Effect.gen(function* () {
        yield* makeSupervisor({ id: "instruments", strategy: "one_for_one", children: [a.host.child] })
        yield* until(() => a.state() === "live", "live")
        const slow: BookView[] = []
        const fast: BookView[] = []
        let release: () => void = () => {}
        a.subscribe(
          (v) => {
            slow.push(v)
            return new Promise<void>((r) => (release = r))
          },
          { depth: 5 }
        )
        a.subscribe((v) => void fast.push(v))
        yield* until(() => slow.length === 1 && fast.length === 1, "first views")
        // 20 batches of deltas while the slow subscriber is still busy with its first view.
        for (let batch = 0; batch < 20; batch++) {
          for (let i = 0; i < 10; i++) w.market.step(spec.id)
          yield* settle
        }
        expect(slow.length).toBe(1)
        expect(fast.length).toBeGreaterThanOrEqual(20)
        release()
        yield* until(() => slow.length === 2, "second slow view")
        yield* settle
        expect(slow.length).toBe(2) // one view for all 20 batches
        const venueSeq = w.market.reference(spec.id).seq
        expect(slow[1]?.seq).toBe(venueSeq)
        expect(fast.at(-1)?.seq).toBe(venueSeq)
        expect(slow[1]?.depth?.bids.length).toBe(5)
        expect(slow[1]?.bestBid?.price.toString()).toBe(w.market.reference(spec.id).bids[0]?.[0])
      })
    )
  })

  it("1,000 instrument actors in one process fed by the synthetic Kraken stream are all live with correct books", async () => {
    const specs = Array.from({ length: 1_000 }, (_, i) => instrument(1_000 + i))
    const w = world(specs)
    const actors = specs.map((s) => instrumentActor(s))
    await w.run(
      Effect.gen(function* () {
        yield* makeSupervisor({ id: "instruments", strategy: "one_for_one", children: actors.map((a) => a.host.child) })
        yield* until(() => actors.every((a) => a.state() === "live"), "all live", 10_000)
        for (let round = 0; round < 50; round++) {
          w.market.stepAll()
          if (round % 5 === 4) yield* settle
        }
        yield* settle
        expect(actors.filter((a) => a.state() === "live").length).toBe(1_000)
        expect(actors.filter((a) => !sameAsVenue(a, w.market)).map((a) => a.instrumentId)).toEqual([])
        expect(actors.reduce((n, a) => n + a.stats.gaps + a.host.ref.dropped(), 0)).toBe(0)
      })
    )
  }, 20_000)
})
