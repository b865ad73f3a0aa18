import { randomBytes } from "node:crypto"
import { Effect, Either } from "effect"
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest"
import { parseBookSnapshotText } from "../../src/actors/instrument/book-snapshot-text.js"
import { makeKrakenRestClient, mapInstruments } from "../../src/adapters/venues/kraken-futures/index.js"
import { startSimulator, type Simulator } from "../../src/adapters/venues/simulator/server.js"
import { openMdFeed, type MdFeed } from "../../src/cluster/md-feed.js"
import { startMdNode, type MdNode } from "../../src/cluster/md-node.js"
import { BookCode, OrderBook } from "../../src/domain/book.js"
import { applyScannedDelta, BookDeltaScanner } from "../../src/domain/book-delta-text.js"
import type { Instrument } from "../../src/domain/instrument.js"
import { until } from "../daemon/daemon-harness.js"

// Issue #18, md shares (docs/cluster-scale.md): 24 instruments shared by md nodes through the md
// nodes' consumer group (8 shares, at most 5 products per venue connection). One md node serves
// all; a second joins and takes half; it leaves and the first takes its share back. A trading
// node's feed (the real md-feed on the real Kafka) reads every instrument throughout, with a book
// per instrument that checks every delta's seq like the instrument actor does: zero gaps, on the
// topic and at the books, through both hand-overs, and every book keeps moving.

const SYMBOLS = Array.from({ length: 24 }, (_, i) => `PF_T${String.fromCharCode(65 + i)}XUSD`)
const prefix = `troupe.md${randomBytes(3).toString("hex")}.`
const log = (m: string) => void m

let sim: Simulator
let instruments: ReadonlyArray<Instrument>
const nodes: MdNode[] = []
let feed: MdFeed | undefined

interface Watched {
  readonly book: OrderBook
  readonly scanner: BookDeltaScanner
  waiting: boolean
  deltas: number
  gaps: number
  snapshots: number
}
const watched = new Map<string, Watched>()

beforeAll(async () => {
  sim = await startSimulator({ port: 0, instruments: SYMBOLS, market: { kind: "synthetic", rate: 240, takerShare: 0.2 }, seed: 5 })
  const rest = makeKrakenRestClient({ baseUrl: `${sim.url}/derivatives` })
  instruments = mapInstruments(await Effect.runPromise(rest.instruments())).instruments.map((k) => k.instrument).filter((i) => SYMBOLS.includes(i.symbol))
}, 30_000)

afterAll(async () => {
  await Promise.allSettled(nodes.map((n) => n.stop()))
  await feed?.stop().catch(() => undefined)
  await sim?.stop()
})

const startNode = (id: string) =>
  startMdNode({
    brokers: inject("kafkaBrokers").split(","),
    topicPrefix: prefix,
    nodeId: id,
    wsUrl: sim.wsUrl,
    instruments,
    productsPerConnection: 5,
    snapshotEveryMs: 500,
    shares: { partitions: 8, sessionTimeoutMs: 6_000, handoverOverlapMs: 3_000 },
    log
  }).then((n) => (nodes.push(n), n))

const deltasNow = () => new Map([...watched].map(([k, w]) => [k, w.deltas]))
const allMoved = (since: Map<string, number>, by: number) => [...watched].every(([k, w]) => w.deltas >= (since.get(k) ?? 0) + by)

describe("md shares: md nodes share the instruments through a consumer group", () => {
  it("a second md node takes half, a leaving one's share is taken back, and a trading node sees no gap", async () => {
    const a = await startNode("md-a")
    await until("md-a to serve every instrument", async () => (a.instruments().length === SYMBOLS.length ? true : undefined), 60_000)
    expect(a.connections()).toBe(8) // 8 shares of 3 instruments, one connection each (≤ 5 products)

    feed = await openMdFeed({ brokers: inject("kafkaBrokers").split(","), topicPrefix: prefix, nodeId: "trading-1", log })
    const port = feed.port()
    for (const i of instruments) {
      const w: Watched = { book: OrderBook.forInstrument(i), scanner: new BookDeltaScanner(), waiting: true, deltas: 0, gaps: 0, snapshots: 0 }
      watched.set(i.id, w)
      port.subscribe(i.id, {
        status: () => {
          w.waiting = true
        },
        event: () => undefined,
        text: (frame) => {
          if (w.scanner.scan(frame)) {
            if (w.waiting) return
            const expected = w.book.sequence + 1
            if (w.scanner.seq < expected) return
            if (w.scanner.seq > expected || applyScannedDelta(w.book, w.scanner) !== BookCode.Ok) {
              // What the instrument actor does on a gap: resync, here from the feed's kept snapshot.
              w.gaps++
              w.waiting = true
              port.resync(i.id)
              return
            }
            w.deltas++
          } else {
            const parsed = parseBookSnapshotText(frame)
            if (Either.isRight(parsed) && w.book.applySnapshotText(parsed.right) === BookCode.Ok) {
              w.snapshots++
              w.waiting = false
            }
          }
        }
      })
    }
    await until("every book live and moving", async () => (allMoved(new Map(), 3) ? true : undefined), 60_000)

    // A second md node joins: the group gives it half of the shares; md-a releases them after the overlap.
    const before = deltasNow()
    const b = await startNode("md-b")
    await until(
      "md-b to take half",
      async () => (b.instruments().length === SYMBOLS.length / 2 && a.instruments().length === SYMBOLS.length / 2 ? true : undefined),
      60_000,
      () => `md-a ${a.instruments().length}, md-b ${b.instruments().length}`
    )
    expect(new Set([...a.instruments(), ...b.instruments()]).size).toBe(SYMBOLS.length)
    await until("every book moving after the hand-over", async () => (allMoved(before, 5) ? true : undefined), 60_000)

    // md-b leaves (a graceful stop: it leaves the group and relays until md-a has taken its share over).
    const beforeLeave = deltasNow()
    const i = nodes.indexOf(b)
    nodes.splice(i, 1)
    await b.stop()
    await until("md-a to serve every instrument again", async () => (a.instruments().length === SYMBOLS.length ? true : undefined), 60_000)
    await until("every book moving after md-b left", async () => (allMoved(beforeLeave, 5) ? true : undefined), 60_000)

    console.log(`md shares: feed ${JSON.stringify(feed.counters)}; md-a ${JSON.stringify(a.counters)}; md-b ${JSON.stringify(b.counters)}`)
    const gaps = [...watched].filter(([, w]) => w.gaps > 0).map(([k, w]) => `${k}: ${w.gaps}`)
    expect(gaps).toEqual([])
    expect(feed.counters.streamGaps).toBe(0)
    expect(feed.counters.badRecords).toBe(0)
    // Each book started once, from a snapshot on the topic (no venue round trip, no resync).
    expect([...watched.values()].every((w) => w.snapshots === 1)).toBe(true)
    expect(a.counters.dropped + b.counters.dropped).toBe(0)
  }, 240_000)
})
