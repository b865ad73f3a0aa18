import { describe, expect, it } from "vitest"
import { Hop, HOPS, HopTrace, hopTrace } from "../../src/actors/trace/hop-trace.js"

// The order path's hop trace: off unless TROUPE_HOP_TRACE names a file (the suite runs without
// it), and when on, one row per submitted order with each hop stamped once, in path order.

const busy = (): void => {
  const until = performance.now() + 0.05
  while (performance.now() < until) {
    // let the clock move between stamps
  }
}

describe("hop trace", () => {
  it("is off by default: the process's trace records nothing", () => {
    expect(process.env["TROUPE_HOP_TRACE"] ?? "").toBe("")
    expect(hopTrace.on).toBe(false)
    expect(hopTrace.dump().rows).toEqual([])
  })

  it("stamps an order's hops in path order: the instrument's frame and apply, then the synchronous hops, then the later ones by client order id", () => {
    const t = new HopTrace(true)
    const I = "kraken-futures:PF_XBTUSD"
    // Two frames queued; the first is not applied (e.g. a stale seq), the second is.
    t.frameArrived()
    t.queued(I)
    busy()
    t.frameArrived()
    const secondFrameAt = performance.now()
    t.queued(I)
    busy()
    t.taken(I, false)
    t.taken(I, true)
    busy()
    t.view(I)
    busy()
    t.intent("c-1-0")
    for (const h of [Hop.intentJournal, Hop.risk, Hop.machine, Hop.journal]) {
      busy()
      t.mark(h)
    }
    t.done()
    t.mark(Hop.risk) // after done: no row is current, nothing changes
    for (const h of [Hop.durable, Hop.gateway]) {
      busy()
      t.markOrder("c-1-0", h)
    }
    busy()
    t.markRequest(new URL("http://x/derivatives/api/v3/sendorder?orderType=ioc&cliOrdId=c-1-0"), Hop.fetch)
    busy()
    t.markRequest(new URL("http://x/derivatives/api/v3/sendorder?orderType=ioc&cliOrdId=c-1-0"), Hop.written)
    const { hops, rows } = t.dump()
    expect(hops).toEqual(HOPS)
    expect(rows).toHaveLength(1)
    const row = rows[0] as ReadonlyArray<number | null>
    expect(row.every((v) => v !== null)).toBe(true)
    for (let h = 1; h < row.length; h++) expect(row[h] as number).toBeGreaterThan(row[h - 1] as number)
    // The frame in is the applied frame's arrival (the second), not the first one's.
    expect(Math.abs((row[Hop.frameIn] as number) - (performance.timeOrigin + secondFrameAt))).toBeLessThan(0.05)
  })

  it("a cancel or modify opens no row; a later hop of an unknown order changes nothing", () => {
    const t = new HopTrace(true)
    t.intent(undefined)
    t.mark(Hop.risk)
    t.markOrder("nobody", Hop.durable)
    expect(t.dump().rows).toEqual([])
  })
})
