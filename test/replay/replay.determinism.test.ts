import { beforeAll, describe, expect, it } from "vitest"
import type { ReplayResult } from "../../src/replay/replay.js"
import avellanedaStoikov from "../../src/strategies/examples/avellaneda-stoikov.js"
import type { AnyStrategyDefinition } from "../../src/strategies/ports.js"
import { ReplayOutputExists } from "../../src/replay/replay.js"
import { journalHash, readTopic, replay, XBT } from "./helpers.js"

const AS = avellanedaStoikov as unknown as AnyStrategyDefinition
const params = (overrides: Record<string, unknown> = {}) => ({
  instrument: XBT, gamma: 0.1, k: 1.5, horizonMs: 60_000, sigmaWindow: 20, orderQty: "0.001", maxInventory: "0.005", requoteTicks: 2, ...overrides
})

describe("replay determinism", () => {
  let a: ReplayResult
  beforeAll(async () => {
    a = await replay({ strategy: AS, params: params() })
  })

  it("two replays of the same recording write byte-identical journals, and a changed parameter changes them", async () => {
    const b = await replay({ strategy: AS, params: params() })
    const c = await replay({ strategy: AS, params: params({ requoteTicks: 3 }) })
    // The runs did trade: the hash covers intents, decisions, order events and fills, not an empty log.
    expect(a.fills).toBeGreaterThan(0)
    expect(journalHash(a.journalDir)).toBe(journalHash(b.journalDir))
    expect(a.events).toEqual(b.events)
    expect(journalHash(c.journalDir)).not.toBe(journalHash(a.journalDir))
  })

  it("the output journal holds every kind of event the run produced, stamped with simulated time", async () => {
    const r = a
    const orders = await readTopic(r.journalDir, "orders")
    const strategy = await readTopic(r.journalDir, "strategy")
    const tags = new Set(orders.map((e) => e._tag))
    for (const t of ["SubmitOrder", "RiskApproved", "OrderSubmitted", "OrderAccepted", "OrderFilled", "PositionChanged"]) expect(tags).toContain(t)
    expect(strategy.length).toBe(r.events["StrategyRecord"])
    expect(orders.length + strategy.length).toBe(Object.values(r.events).reduce((s, n) => s + n, 0))
    // Times come from the recording (2023-11-14, 10 ms steps), never from the wall clock.
    for (const e of [...orders, ...strategy]) {
      expect(e.ts).toBeGreaterThanOrEqual(r.startTime)
      expect(e.ts).toBeLessThanOrEqual(r.endTime)
    }
    // Intents and their decisions are in the journal before the order they led to.
    const firstSubmit = orders.findIndex((e) => e._tag === "SubmitOrder")
    const firstApproved = orders.findIndex((e) => e._tag === "RiskApproved")
    const firstSent = orders.findIndex((e) => e._tag === "OrderSubmitted")
    expect(firstSubmit).toBeLessThan(firstApproved)
    expect(firstApproved).toBeLessThan(firstSent)
  })

  it("refuses an output directory that holds a previous run (a replay's journal is one run, from offset 0)", async () => {
    await expect(replay({ strategy: AS, params: params(), outDir: a.outDir })).rejects.toBeInstanceOf(ReplayOutputExists)
  })
})
