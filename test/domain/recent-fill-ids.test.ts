import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { RecentFillIds } from "../../src/domain/recent-fill-ids.js"

describe("the bounded fill id set", () => {
  it("a repeat of any fill counted before is caught, however old, when fills come in venue-time order", () => {
    fc.assert(
      fc.property(fc.array(fc.record({ dt: fc.nat(3), repeat: fc.option(fc.nat(500)) }), { maxLength: 600 }), fc.integer({ min: 1, max: 50 }), (steps, capacity) => {
        const ids = new RecentFillIds(capacity)
        const counted: Array<{ id: string; ts: number }> = []
        let ts = 0
        steps.forEach((s, i) => {
          ts += s.dt
          if (s.repeat !== null && counted.length > 0) {
            const old = counted[s.repeat % counted.length]!
            expect(ids.has(old.id, old.ts)).toBe(true)
          }
          const f = { id: `f${i}`, ts }
          expect(ids.has(f.id, f.ts) && f.ts > ids.horizon).toBe(false)
          ids.add(f.id, f.ts)
          counted.push(f)
          expect(ids.size).toBeLessThanOrEqual(capacity)
        })
      }),
      { numRuns: 200 }
    )
  })

  it("a new fill later than the horizon is never taken for a repeat", () => {
    const ids = new RecentFillIds(3)
    for (let i = 0; i < 10; i++) ids.add(`f${i}`, 1000 + i)
    expect(ids.horizon).toBe(1006)
    expect(ids.has("new", 1007)).toBe(false)
    expect(ids.has("f2", 1002)).toBe(true)
    expect(ids.has("f9", 1009)).toBe(true)
  })
})
