import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { gzipSync } from "node:zlib"
import { afterEach, describe, expect, it } from "vitest"
import { replaySummary } from "../../../src/adapters/venues/simulator/cli.js"
import { startSimulator, type Simulator } from "../../../src/adapters/venues/simulator/server.js"
import type { RecordedMarketStats } from "../../../src/adapters/venues/simulator/recorded-market.js"
import { FeedClient, type Msg } from "./helpers.js"

// Issue 16 must-show 4 (simulator part) and 5 (off-tick levels): `troupe simulator --replay`
// of a raw gzip capture (`<unix time>: <frame>`, client lines `<-`) serves the recorded books to
// a WebSocket client; bad recorded input is counted and reported, never fatal.
const frames = [
  { feed: "book_snapshot", product_id: "PF_XBTUSD", bids: [{ price: 59990, qty: 1.5 }, { price: 59985.5, qty: 2 }], asks: [{ price: 60010, qty: 0.7 }, { price: 60020, qty: 3 }] },
  { feed: "book", product_id: "PF_XBTUSD", side: "buy", price: 59995, qty: 0.25 },
  { feed: "book", product_id: "PF_XBTUSD", side: "sell", price: 60010, qty: 0 },
  { feed: "book", product_id: "PF_XBTUSD", side: "sell", price: 60005.5, qty: 1.1 },
  // Off the 0.5 tick: refused and counted, never rounded onto the grid.
  { feed: "book", product_id: "PF_XBTUSD", side: "buy", price: 59999.25, qty: 4 },
  // A product the simulator does not list: skipped and counted.
  { feed: "book", product_id: "PF_NOPEUSD", side: "buy", price: 1, qty: 1 },
  { feed: "book", product_id: "PF_XBTUSD", side: "buy", price: 59985.5, qty: 2.5 }
]
const capture = [
  '1733230000.000: <- {"event":"subscribe","feed":"book","product_ids":["PF_XBTUSD"]}',
  ...frames.map((f, i) => `${1733230000 + i}.${String(i * 7).padStart(3, "0")}: -> ${JSON.stringify(f)}`),
  "1733230099.000: -> {this is not json"
].join("\n")

/** The books the capture describes, folded independently: levels set, qty 0 removes, off-tick and unknown products left out. */
const expectedBooks = (): { bids: Array<[string, string]>; asks: Array<[string, string]> } => {
  const bids = new Map<number, number>()
  const asks = new Map<number, number>()
  for (const f of frames) {
    if (f.product_id !== "PF_XBTUSD") continue
    if (f.feed === "book_snapshot") {
      bids.clear()
      asks.clear()
      for (const l of f.bids ?? []) bids.set(l.price, l.qty)
      for (const l of f.asks ?? []) asks.set(l.price, l.qty)
      continue
    }
    if (f.price === undefined || (f.price * 2) % 1 !== 0) continue
    const side = f.side === "buy" ? bids : asks
    if (f.qty === 0) side.delete(f.price)
    else side.set(f.price, f.qty as number)
  }
  const fmt = (m: Map<number, number>, desc: boolean): Array<[string, string]> =>
    [...m].sort((a, b) => (desc ? b[0] - a[0] : a[0] - b[0])).map(([p, q]) => [String(p), String(q)])
  return { bids: fmt(bids, true), asks: fmt(asks, false) }
}

let sim: Simulator | undefined
afterEach(async () => {
  await sim?.stop()
  sim = undefined
})

const levels = (side: unknown): Array<[string, string]> => (side as Array<{ price: unknown; qty: unknown }>).map((l) => [String(l.price), String(l.qty)])

describe("troupe simulator --replay of a raw capture", () => {
  it("serves the recorded books to a WebSocket client, and counts the off-tick level, the unknown product and the garbage line", async () => {
    const dir = mkdtempSync(join(tmpdir(), "troupe-replay-capture-"))
    const file = join(dir, "capture.log.gz")
    writeFileSync(file, gzipSync(capture))
    let done: RecordedMarketStats | undefined
    sim = await startSimulator({ port: 0, instruments: ["PF_XBTUSD"], market: { kind: "replay", file, rate: 1000, onDone: (s) => (done = s) } })
    const end = Date.now() + 5000
    while (done === undefined && Date.now() < end) await new Promise((r) => setTimeout(r, 10))
    expect(done).toEqual({ frames: frames.length + 1, replayed: frames.length + 1, skipped: 2, offTickLevels: 1 })
    expect(sim.replayStats?.()).toEqual(done)
    expect(replaySummary("capture.log.gz", done!)).toBe(
      "replay of capture.log.gz done: 8 frames, 2 skipped (undecodable, unknown product or not market data), 1 off-tick levels refused; the last books stay served"
    )

    const client = await FeedClient.open(sim.wsUrl)
    try {
      client.send({ event: "subscribe", feed: "book", product_ids: ["PF_XBTUSD"] })
      const snap: Msg = await client.next((m) => m.feed === "book_snapshot" && m.product_id === "PF_XBTUSD")
      const want = expectedBooks()
      expect({ bids: levels(snap.bids), asks: levels(snap.asks) }).toEqual(want)
      // The expectation is not vacuous: the fold moved levels (a delete, an add on each side, a resize).
      expect(want.bids.map((l) => l[0])).toEqual(["59995", "59990", "59985.5"])
      expect(want.asks).toEqual([["60005.5", "1.1"], ["60020", "3"]])
    } finally {
      client.ws.close()
    }
  })

  it("a truncated gzip capture is one clear error naming the file, not a crash or a partial replay", async () => {
    const dir = mkdtempSync(join(tmpdir(), "troupe-replay-capture-"))
    const file = join(dir, "cut.log.gz")
    const gz = gzipSync(capture)
    writeFileSync(file, gz.subarray(0, gz.length - 20))
    await expect(startSimulator({ port: 0, instruments: ["PF_XBTUSD"], market: { kind: "replay", file, rate: 1000 } })).rejects.toThrow(/cut\.log\.gz/)
  })
})
