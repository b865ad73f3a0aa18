import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { ClientOrderIds } from "../../../src/actors/risk/client-order-ids.js"
import { makeClientOrderId, type ClientOrderId, type StrategyId } from "../../../src/domain/ids.js"
import { makeRisk, submit } from "./fixtures.js"

const id = (strategy: string, run: number, seq: number): string => makeClientOrderId(strategy as StrategyId, run, seq)
const small = { window: 8, runsPerStrategy: 2, otherIds: 16 }

describe("the bounded client order id set", () => {
  it("every id used before is recognised, whatever the interleaving of strategies, runs and resends", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ strategy: fc.constantFrom("mm-xbt", "mm-eth", "a-b-c"), runStep: fc.nat(2), seqStep: fc.integer({ min: 1, max: 3 }), resend: fc.nat(30) }), { maxLength: 400 }),
        (steps) => {
          const ids = new ClientOrderIds(small)
          const used: string[] = []
          const at = new Map<string, { run: number; seq: number }>()
          for (const s of steps) {
            const cur = at.get(s.strategy) ?? { run: 1, seq: 0 }
            // A restart takes a higher run and starts its sequence again (as the daemon does).
            const next = s.runStep === 2 ? { run: cur.run + 1, seq: 0 } : { run: cur.run, seq: cur.seq + s.seqStep }
            at.set(s.strategy, next)
            const fresh = id(s.strategy, next.run, next.seq)
            expect(ids.has(fresh)).toBe(false)
            ids.add(fresh)
            used.push(fresh)
            // A resend of any id used so far (however old) is caught.
            const again = used[Math.max(0, used.length - 1 - s.resend * 7)] as string
            expect(ids.has(again)).toBe(true)
          }
          for (const u of used) expect(ids.has(u)).toBe(true)
          expect(ids.size).toBeLessThanOrEqual(3 * small.runsPerStrategy * (2 * small.window + 1))
        }
      ),
      { numRuns: 200 }
    )
  })

  it("memory stays flat over a million ids of one run while the first one is still a duplicate", () => {
    const ids = new ClientOrderIds()
    for (let i = 0; i < 1_000_000; i++) ids.add(id("mm-xbt", 7, i))
    expect(ids.size).toBeLessThanOrEqual(2 * 4096 + 1)
    expect(ids.has(id("mm-xbt", 7, 0))).toBe(true)
    expect(ids.has(id("mm-xbt", 7, 999_999))).toBe(true)
    expect(ids.has(id("mm-xbt", 7, 1_000_000))).toBe(false)
    // An id of a run older than the newest runs kept counts as used; a new run does not.
    for (let r = 8; r < 12; r++) ids.add(id("mm-xbt", r, 0))
    expect(ids.has(id("mm-xbt", 3, 5))).toBe(true)
    expect(ids.has(id("mm-xbt", 12, 0))).toBe(false)
  })

  it("ids of another form are remembered exactly, the newest otherIds of them", () => {
    const ids = new ClientOrderIds(small)
    for (let i = 0; i < 40; i++) ids.add(`manual${i}`)
    expect(ids.has("manual39")).toBe(true)
    expect(ids.has("manual24")).toBe(true)
    expect(ids.has("manual23")).toBe(false)
    expect(ids.size).toBe(16)
    // Non-canonical spellings of a run/sequence are not taken for one.
    ids.add("x-01-2")
    expect(ids.has("x-1-2")).toBe(false)
  })

  it("the risk actor denies a resend of its first client order id after 30 000 others of the run", () => {
    const { risk } = makeRisk()
    const cid = (seq: number): ClientOrderId => makeClientOrderId("mm-xbt" as StrategyId, 3, seq)
    expect(risk.decide({ ...submit(), clientOrderId: cid(0) })._tag).toBe("Approved")
    // The recovery path: ids the journal says were sent.
    for (let i = 1; i <= 30_000; i++) risk.rememberClientOrderId(cid(i))
    for (const seq of [0, 1, 25_000, 30_000]) {
      const d = risk.decide({ ...submit(), clientOrderId: cid(seq) })
      expect(d._tag === "Denied" ? d.event.reason : "approved").toBe("DUPLICATE_CLIENT_ORDER_ID")
    }
    expect(risk.decide({ ...submit(), clientOrderId: cid(30_001) })._tag).toBe("Approved")
  })
})
