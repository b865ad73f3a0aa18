import { describe, expect, it } from "vitest"
import { DepthSync, type BreakReason, type DepthEvent } from "../../../src/adapters/venues/binance-usdm/market-data.js"

/** The official local-book algorithm, without I/O: what it applies, drops and asks for. */
const harness = () => {
  const frames: string[] = []
  const breaks: BreakReason[] = []
  let fetches = 0
  const sync = new DepthSync("BTCUSDT", {
    snapshot: (f) => frames.push(f),
    delta: (f) => frames.push(f),
    broken: (r) => breaks.push(r),
    fetchSnapshot: () => void fetches++
  })
  return { sync, frames, breaks, fetches: () => fetches }
}

const ev = (U: number, u: number, pu: number, b: Array<[string, string]> = [["100.5", "1"]], a: Array<[string, string]> = []): DepthEvent => ({ U, u, pu, b, a, T: 1 })
const seqs = (frames: string[]) => frames.map((f) => Number(/"seq":(\d+)/.exec(f)![1]))

describe("DepthSync (Binance USD-M local book)", () => {
  it("drops u < lastUpdateId, applies the event spanning it, then follows pu; frames carry a contiguous seq", () => {
    const h = harness()
    h.sync.begin()
    expect(h.fetches()).toBe(1)
    h.sync.onEvent(ev(90, 95, 89))
    h.sync.onEvent(ev(96, 102, 95, [["100.5", "2"]], [["101", "3"]]))
    h.sync.onEvent(ev(103, 105, 102, [], [["101", "0"]]))
    h.sync.onSnapshot({ lastUpdateId: 100, bids: [["100.5", "1"]], asks: [["101", "1"], ["102.25", "4"]] }, 7)
    expect(h.sync.phase).toBe("synced")
    expect(h.sync.dropped).toBe(1)
    expect(h.sync.applied).toBe(2)
    expect(h.frames[0]).toBe('{"feed":"book_snapshot","product_id":"BTCUSDT","timestamp":7,"seq":0,"bids":[{"price":100.5,"qty":1}],"asks":[{"price":101,"qty":1},{"price":102.25,"qty":4}]}')
    expect(h.frames[1]).toBe('{"feed":"book","product_id":"BTCUSDT","side":"buy","seq":1,"price":100.5,"qty":2,"timestamp":1}')
    expect(h.frames[3]).toBe('{"feed":"book","product_id":"BTCUSDT","side":"sell","seq":3,"price":101,"qty":0,"timestamp":1}')
    h.sync.onEvent(ev(106, 107, 105))
    expect(seqs(h.frames)).toEqual([0, 1, 2, 3, 4])
    expect(h.breaks).toEqual([])
    expect(h.fetches()).toBe(1)
  })

  it("accepts as first event the one right after the snapshot (pu == lastUpdateId)", () => {
    const h = harness()
    h.sync.begin()
    h.sync.onSnapshot({ lastUpdateId: 100, bids: [], asks: [] }, 0)
    h.sync.onEvent(ev(101, 103, 100))
    expect(h.sync.applied).toBe(1)
    expect(h.sync.lastU).toBe(103)
    expect(h.breaks).toEqual([])
  })

  it("a pu break asks for exactly one snapshot, buffers meanwhile, and resumes on it", () => {
    const h = harness()
    h.sync.begin()
    h.sync.onSnapshot({ lastUpdateId: 100, bids: [], asks: [] }, 0)
    h.sync.onEvent(ev(101, 101, 100))
    h.sync.onEvent(ev(103, 104, 102)) // pu 102 ≠ 101: a lost event
    expect(h.breaks).toEqual([{ _tag: "PuMismatch", expected: 101, pu: 102, u: 104 }])
    expect(h.sync.phase).toBe("awaiting")
    for (let u = 105; u < 110; u++) h.sync.onEvent(ev(u, u, u - 1))
    expect(h.fetches()).toBe(2)
    const before = h.frames.length
    h.sync.onSnapshot({ lastUpdateId: 106, bids: [["1", "1"]], asks: [] }, 0)
    // 104,105 dropped (u < 106); 106 spans the snapshot; 107..109 follow.
    expect(h.frames.length - before).toBe(1 + 4)
    expect(h.sync.lastU).toBe(109)
    expect(h.breaks).toHaveLength(1)
    expect(h.fetches()).toBe(2)
    const s = seqs(h.frames)
    for (let i = 1; i < s.length; i++) expect(s[i]! - s[i - 1]!).toBeLessThanOrEqual(1)
  })

  it("a snapshot older than the first buffered event is a break (events between were missed)", () => {
    const h = harness()
    h.sync.begin()
    h.sync.onEvent(ev(120, 125, 119))
    h.sync.onSnapshot({ lastUpdateId: 100, bids: [], asks: [] }, 0)
    expect(h.breaks).toEqual([{ _tag: "SnapshotTooOld", lastUpdateId: 100, U: 120 }])
    expect(h.fetches()).toBe(2)
    h.sync.onSnapshot({ lastUpdateId: 122, bids: [], asks: [] }, 0)
    expect(h.sync.lastU).toBe(125)
  })

  it("a level that is not decimal text never reaches the book: the event breaks the sync", () => {
    const h = harness()
    h.sync.begin()
    h.sync.onSnapshot({ lastUpdateId: 100, bids: [], asks: [] }, 0)
    h.sync.onEvent(ev(101, 101, 100, [["1e5", "1"]]))
    h.sync.onEvent(ev(102, 102, 101, [['1,"x":2', "1"]]))
    expect(h.breaks.map((b) => b._tag)).toEqual(["BadLevel"])
    expect(h.frames).toHaveLength(1)
  })
})
