import { afterAll, beforeAll, describe, expect, it } from "vitest"
import WebSocket from "ws"
import { participants } from "../../../src/adapters/venues/simulator/participants.js"
import { startSimulator, type Simulator } from "../../../src/adapters/venues/simulator/server.js"

/**
 * The Binance face's diff-depth stream against the official local-book algorithm (snapshot,
 * buffered events, `u < lastUpdateId` dropped, continuity by `pu`, resync on a break): after a
 * busy market with injected `pu` breaks, the local book equals the engine's, and each break cost
 * exactly one resync.
 */
type Level = [string, string]
interface DepthEvent { U: number; u: number; pu: number; b: Level[]; a: Level[] }

class LocalBook {
  bids = new Map<string, string>()
  asks = new Map<string, string>()
  lastU: number | undefined
  synced = false
  resyncs = 0
  applied = 0
  private buffer: DepthEvent[] = []

  constructor(private readonly snapshot: () => Promise<{ lastUpdateId: number; bids: Level[]; asks: Level[] }>) {}

  onEvent(e: DepthEvent): void {
    if (!this.synced) {
      this.buffer.push(e)
      return
    }
    if (e.pu !== this.lastU) {
      this.resyncs++
      this.synced = false
      this.buffer = [e]
      void this.sync()
      return
    }
    this.apply(e)
  }

  async sync(): Promise<void> {
    const snap = await this.snapshot()
    this.bids = new Map(snap.bids)
    this.asks = new Map(snap.asks)
    const last = snap.lastUpdateId
    this.lastU = undefined
    let first = true
    for (const e of this.buffer) {
      if (e.u < last) continue
      if (first) {
        // Step 5 (U <= lastUpdateId <= u), or the event right after the snapshot (pu == lastUpdateId).
        if (!((e.U <= last && e.u >= last) || e.pu === last)) throw new Error(`first event ${JSON.stringify(e)} does not follow snapshot ${last}`)
        first = false
      } else if (e.pu !== this.lastU) throw new Error("break inside the buffer")
      this.apply(e)
    }
    this.lastU ??= last
    this.buffer = []
    this.synced = true
  }

  private apply(e: DepthEvent): void {
    for (const [side, levels] of [[this.bids, e.b], [this.asks, e.a]] as const) {
      for (const [p, q] of levels) {
        if (Number(q) === 0) side.delete(p)
        else side.set(p, q)
      }
    }
    this.lastU = e.u
    this.applied++
  }
}

describe("Binance face diff depth against the official local-book algorithm", () => {
  let sim: Simulator
  beforeAll(async () => {
    sim = await startSimulator({ accounts: [{ name: "me", apiKey: "k", apiSecret: "s" }], market: { kind: "synthetic", rate: 0 }, instruments: ["BTCUSDT"], model: { fundingIntervalMs: 0 }, binance: {} })
  })
  afterAll(async () => {
    await sim.stop()
  })

  it("the local book equals the engine's after 10k operations with 3 injected pu breaks, each forcing exactly one resync", { timeout: 60_000 }, async () => {
    const face = sim.binance as NonNullable<Simulator["binance"]>
    const book = new LocalBook(async () => (await (await fetch(`${face.url}/fapi/v1/depth?symbol=BTCUSDT&limit=1000`)).json()) as { lastUpdateId: number; bids: Level[]; asks: Level[] })
    const ws = new WebSocket(`${face.url.replace("http", "ws")}/public/stream?streams=btcusdt@depth@100ms`)
    ws.on("message", (data: Buffer) => book.onEvent((JSON.parse(data.toString("utf8")) as { data: DepthEvent }).data))
    await new Promise((resolve) => ws.once("open", resolve))
    await book.sync()
    const run = participants(sim, ["BTCUSDT"], { BTCUSDT: { tick: "0.1", lot: "0.001" } }, 7)
    for (let chunk = 0; chunk < 20; chunk++) {
      if (chunk === 5 || chunk === 10 || chunk === 15) face.streams.injectBreak("BTCUSDT")
      run(500)
      await new Promise((r) => setTimeout(r, 5))
    }
    const deadline = Date.now() + 20_000
    while ((!book.synced || book.lastU !== face.streams.lastUpdateId("BTCUSDT")) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    ws.close()
    expect(book.resyncs).toBe(3)
    expect(book.applied).toBeGreaterThan(5_000)
    const depth = sim.admin.exchange.engine.depth("BTCUSDT")
    const asMap = (levels: ReadonlyArray<readonly [{ toFixed(): string }, { toFixed(): string }]>) => new Map(levels.map(([p, q]) => [p.toFixed(), q.toFixed()]))
    expect(book.bids).toEqual(asMap(depth.bids))
    expect(book.asks).toEqual(asMap(depth.asks))
  })
})
