import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { makePnlHistory } from "../../../src/daemon/control-api/pnl-history.js"
import { makeFakeControl } from "./fake-control.js"
import type { PositionView } from "../../../src/daemon/control.js"

// The daemon samples each strategy's PnL for its page; a page opened later still sees the past.
describe("the strategies' PnL history", () => {
  const setup = () => {
    const control = makeFakeControl()
    let t = 1_000_000
    let unrealized = "0.5"
    const base = Effect.runSync(control.positions())
    const positions = () => Effect.succeed(base.map((p): PositionView => ({ ...p, unrealizedPnl: unrealized })))
    const history = makePnlHistory({ ...control, positions }, { intervalMs: 3_600_000, capacity: 3, now: () => t })
    return { history, tick: (ms: number) => (t += ms), setUnrealized: (v: string) => (unrealized = v) }
  }

  it("records a point when the PnL changes or a minute passed, keeps the last `capacity` points, as decimal text", async () => {
    const { history, tick, setUnrealized } = setup()
    await history.sample()
    tick(5_000)
    await history.sample() // unchanged within a minute: no new point
    expect(history.of("mm").map((p) => p.unrealized)).toEqual(["0.5"])
    tick(5_000)
    setUnrealized("-0.25")
    await history.sample()
    tick(61_000)
    await history.sample() // unchanged, but a minute passed
    tick(5_000)
    setUnrealized("1.125")
    await history.sample()
    const points = history.of("mm")
    expect(points.map((p) => [p.ts, p.unrealized])).toEqual([
      [1_010_000, "-0.25"],
      [1_071_000, "-0.25"],
      [1_076_000, "1.125"]
    ])
    expect(points[0]?.realizedNet).toBe("1.25")
    expect(history.of("nobody")).toEqual([])
    history.stop()
  })
})
