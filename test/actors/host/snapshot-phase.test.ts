import { Effect, Layer } from "effect"
import { describe, expect, it } from "vitest"
import { createMachine } from "xstate"
import { makeSimulatedClock, simulatedClockLayer } from "../../../src/actors/clock.js"
import { hostActor } from "../../../src/actors/host/actor-host.js"
import { inMemorySnapshotsLayer, makeInMemorySnapshots } from "../../../src/actors/ports/snapshots.js"
import { makeSupervisor } from "../../../src/actors/supervisor/index.js"
import { until } from "../instrument/fixtures.js"

const idle = createMachine({ id: "idle", initial: "on", states: { on: {} } })

/** Saves of one actor on a simulated clock, read after each `advance`. */
const savesAt = async (snapshotPhase: number | undefined, steps: ReadonlyArray<number>): Promise<number[]> => {
  const clock = makeSimulatedClock(0)
  const snapshots = makeInMemorySnapshots()
  const h = hostActor<string>({
    id: "service:phase",
    kind: "service",
    machineVersion: "idle@1",
    snapshotEveryMs: 1_000,
    ...(snapshotPhase === undefined ? {} : { snapshotPhase }),
    incarnate: () => Effect.succeed({ machine: idle, handle: () => {} })
  })
  const out: number[] = []
  await Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        yield* makeSupervisor({ id: "s", strategy: "one_for_one", children: [h.child] })
        yield* until(() => clock.pendingTimers() === 1, "snapshot timer armed")
        for (const ms of steps) {
          clock.advance(ms)
          yield* Effect.promise(() => new Promise<void>((r) => setImmediate(r)))
          out.push(snapshots.saves())
        }
      })
    ).pipe(Effect.provide(Layer.merge(inMemorySnapshotsLayer(snapshots), simulatedClockLayer(clock))))
  )
  return out
}

describe("periodic snapshots", () => {
  it("without a phase the first comes one period after the start, then one per period", async () => {
    expect(await savesAt(undefined, [999, 1, 999, 1])).toEqual([0, 1, 1, 2])
  })

  it("with a phase the first comes after (1 + phase) / 2 of the period, then one per period", async () => {
    expect(await savesAt(0.5, [749, 1, 999, 1])).toEqual([0, 1, 1, 2])
    expect(await savesAt(0, [499, 1, 999, 1])).toEqual([0, 1, 1, 2])
  })
})
