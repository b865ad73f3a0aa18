import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { MarketDataSink } from "../../../src/actors/ports/market-data.js"
import { makeKrakenMarketDataPort } from "../../../src/adapters/venues/kraken-futures/market-data-port.js"
import { startSimulator, type Simulator } from "../../../src/adapters/venues/simulator/server.js"
import type { InstrumentId } from "../../../src/domain/ids.js"

// The market data port against the simulator's public WebSocket on loopback.
const XBT = "kraken-futures:PF_XBTUSD" as InstrumentId
const ETH = "kraken-futures:PF_ETHUSD" as InstrumentId
let sim: Simulator

const until = async (what: string, ok: () => boolean, ms = 5000): Promise<void> => {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (ok()) return
    await new Promise((r) => setTimeout(r, 10))
  }
  throw new Error(`timed out waiting for ${what}`)
}

/** What a sink saw, in order: `status:x`, `snapshot:<product>`, `delta:<product>`, `event:<tag>`. */
const recorder = () => {
  const log: string[] = []
  const frames: string[] = []
  const sink: MarketDataSink = {
    text: (f) => {
      frames.push(f)
      const product = /"product_id":"([^"]+)"/.exec(f)?.[1] ?? "?"
      log.push(f.includes('"feed":"book_snapshot"') ? `snapshot:${product}` : `delta:${product}`)
    },
    event: (e) => log.push(`event:${e._tag}`),
    status: (s) => log.push(`status:${s}`)
  }
  return { log, frames, sink }
}

const count = (log: ReadonlyArray<string>, entry: string) => log.filter((l) => l === entry).length

beforeAll(async () => {
  sim = await startSimulator({ seed: 11, market: { kind: "synthetic", rate: 200 } })
})
afterAll(async () => {
  await sim.stop()
})

describe("Kraken Futures market data port", () => {
  it("two instruments: subscribed, then the book_snapshot text, then deltas, each routed to its own sink", async () => {
    const port = makeKrakenMarketDataPort({ url: sim.wsUrl, backoff: { baseMs: 20, maxMs: 100, jitter: 0, maxAttempts: 20 } })
    const xbt = recorder()
    const eth = recorder()
    port.subscribe(XBT, xbt.sink)
    port.subscribe(ETH, eth.sink)
    port.start()
    try {
      await until("deltas on both", () => count(xbt.log, "delta:PF_XBTUSD") >= 3 && count(eth.log, "delta:PF_ETHUSD") >= 3)
      expect(xbt.log.slice(0, 2)).toEqual(["status:subscribed", "snapshot:PF_XBTUSD"])
      expect(eth.log.slice(0, 2)).toEqual(["status:subscribed", "snapshot:PF_ETHUSD"])
      // Each sink sees only its product, and frames are the venue's own text.
      expect(xbt.log.every((l) => l.startsWith("status:") || l.endsWith("PF_XBTUSD"))).toBe(true)
      expect(eth.log.every((l) => l.startsWith("status:") || l.endsWith("PF_ETHUSD"))).toBe(true)
      expect(xbt.frames[0]).toMatch(/^\{"feed":"book_snapshot","product_id":"PF_XBTUSD",.*"bids":\[/)
      expect(xbt.frames[1]).toMatch(/^\{"feed":"book","product_id":"PF_XBTUSD","side":"(buy|sell)","seq":\d+,"price":/)
      // Deltas follow the snapshot's seq without a gap.
      const seqOf = (f: string) => Number(/"seq":(\d+)/.exec(f)?.[1])
      expect(seqOf(xbt.frames[1] ?? "")).toBe(seqOf(xbt.frames[0] ?? "") + 1)
      expect(port.counters().badFrames).toBe(0)

      // resync: unsubscribe + subscribe gives `subscribed` and a fresh snapshot, then deltas again.
      const before = xbt.log.length
      port.resync(XBT)
      await until("fresh snapshot", () => xbt.log.slice(before).includes("snapshot:PF_XBTUSD"))
      await until("deltas after resync", () => count(xbt.log.slice(before), "delta:PF_XBTUSD") >= 2)
      const after = xbt.log.slice(before)
      expect(after.indexOf("status:subscribed")).toBeGreaterThanOrEqual(0)
      expect(after.indexOf("status:subscribed")).toBeLessThan(after.indexOf("snapshot:PF_XBTUSD"))
      expect(count(eth.log, "snapshot:PF_ETHUSD")).toBe(1) // the other instrument is untouched
      expect(port.counters().resyncs).toBe(1)
    } finally {
      await port.stop()
    }
  })

  it("a dropped connection is `disconnected` to every sink, then everything is resubscribed", async () => {
    const port = makeKrakenMarketDataPort({ url: sim.wsUrl, backoff: { baseMs: 20, maxMs: 100, jitter: 0, maxAttempts: 20 } })
    const xbt = recorder()
    const eth = recorder()
    port.subscribe(XBT, xbt.sink)
    port.subscribe(ETH, eth.sink)
    port.start()
    try {
      await until("live", () => count(xbt.log, "delta:PF_XBTUSD") >= 1 && count(eth.log, "delta:PF_ETHUSD") >= 1)
      expect(sim.admin.dropConnections()).toBeGreaterThanOrEqual(1)
      await until("resubscribed", () => count(xbt.log, "snapshot:PF_XBTUSD") === 2 && count(eth.log, "snapshot:PF_ETHUSD") === 2)
      for (const r of [xbt, eth]) {
        const statuses = r.log.filter((l) => l.startsWith("status:"))
        expect(statuses).toEqual(["status:subscribed", "status:disconnected", "status:subscribed"])
        // after the disconnect: subscribed comes before the new snapshot
        const d = r.log.indexOf("status:disconnected")
        const tail = r.log.slice(d + 1)
        expect(tail[0]).toBe("status:subscribed")
        expect(tail[1]?.startsWith("snapshot:")).toBe(true)
      }
      expect(port.counters().disconnects).toBe(1)
    } finally {
      await port.stop()
    }
  })

  it("an unsubscribed instrument gets no more frames; trade and ticker become canonical events when asked for", async () => {
    const port = makeKrakenMarketDataPort({ url: sim.wsUrl, extraFeeds: ["ticker"] })
    const xbt = recorder()
    const unsubscribe = port.subscribe(XBT, xbt.sink)
    port.start()
    try {
      await until("ticker event", () => xbt.log.includes("event:Ticker"))
      await until("delta", () => count(xbt.log, "delta:PF_XBTUSD") >= 1)
      unsubscribe()
      await new Promise((r) => setTimeout(r, 50))
      const n = xbt.log.length
      await new Promise((r) => setTimeout(r, 150))
      expect(xbt.log.length).toBe(n)
    } finally {
      await port.stop()
    }
  })
})
