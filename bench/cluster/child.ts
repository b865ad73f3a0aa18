import { Effect, Either } from "effect"
import { parseBookSnapshotText } from "../../src/actors/instrument/book-snapshot-text.js"
import { makeKrakenRestClient, mapInstruments } from "../../src/adapters/venues/kraken-futures/index.js"
import { openMdFeed } from "../../src/cluster/md-feed.js"
import { startMdNode } from "../../src/cluster/md-node.js"
import { BookCode, OrderBook } from "../../src/domain/book.js"
import { applyScannedDelta, BookDeltaScanner } from "../../src/domain/book-delta-text.js"
import { percentile } from "../harness.js"

// One node of the cluster.md_scale bench (cluster.bench.ts), in its own process so its CPU is its
// own: `md` runs the real md node (shared mode), `trading` the real md feed with a book per
// instrument that checks every seq as the instrument actor does. The parent drives it over IPC:
// `start` opens the measuring window, `report` answers with what happened in it, `stop` ends.

const [role, nodeId, simUrl, wsUrl, prefix, brokers, shares] = process.argv.slice(2) as [string, string, string, string, string, string, string]
const send = (m: unknown) => process.send?.(m)
const rest = makeKrakenRestClient({ baseUrl: `${simUrl}/derivatives` })
const instruments = mapInstruments(await Effect.runPromise(rest.instruments())).instruments.map((k) => k.instrument)
const log = (m: string) => void m

let window = { cpu: process.cpuUsage(), at: performance.now() }
const cpuShare = () => {
  const c = process.cpuUsage(window.cpu)
  return (c.user + c.system) / 1000 / (performance.now() - window.at)
}

if (role === "md") {
  const node = await startMdNode({ brokers: brokers.split(","), topicPrefix: prefix, nodeId, wsUrl, instruments, productsPerConnection: 50, snapshotEveryMs: 1_000, shares: { partitions: Number(shares), sessionTimeoutMs: 6_000 }, log })
  let base = { ...node.counters }
  process.on("message", (m: { type: string }) => {
    if (m.type === "start") {
      base = { ...node.counters }
      window = { cpu: process.cpuUsage(), at: performance.now() }
    } else if (m.type === "report") {
      const c = node.counters
      send({ type: "report", nodeId, role, cpu: cpuShare(), seconds: (performance.now() - window.at) / 1000, instruments: node.instruments().length, connections: node.connections(), frames: c.frames - base.frames, published: c.published - base.published, bytes: c.bytes - base.bytes, snapshots: c.snapshots - base.snapshots, gaps: c.gaps - base.gaps, dropped: c.dropped - base.dropped })
    } else if (m.type === "stop") void node.stop().then(() => process.exit(0))
  })
  send({ type: "ready", instruments: node.instruments().length })
} else {
  const feed = await openMdFeed({ brokers: brokers.split(","), topicPrefix: prefix, nodeId, log })
  const port = feed.port()
  let latencies: number[] = []
  let applied = 0
  let gaps = 0
  for (const i of instruments) {
    const book = OrderBook.forInstrument(i)
    const scanner = new BookDeltaScanner()
    let waiting = true
    port.subscribe(i.id, {
      status: () => {
        waiting = true
      },
      event: () => undefined,
      text: (frame) => {
        if (scanner.scan(frame)) {
          if (waiting) return
          const expected = book.sequence + 1
          if (scanner.seq < expected) return
          if (scanner.seq > expected || applyScannedDelta(book, scanner) !== BookCode.Ok) {
            gaps++
            waiting = true
            port.resync(i.id)
            return
          }
          applied++
          // End to end: the venue's timestamp on the frame → this book updated (one machine, one clock).
          latencies.push(Date.now() - scanner.timestamp)
        } else if (frame.includes('"book_snapshot"')) {
          const parsed = parseBookSnapshotText(frame)
          if (Either.isRight(parsed) && book.applySnapshotText(parsed.right) === BookCode.Ok) waiting = false
        }
      }
    })
  }
  let base = { ...feed.counters }
  process.on("message", (m: { type: string }) => {
    if (m.type === "start") {
      base = { ...feed.counters }
      latencies = []
      applied = 0
      gaps = 0
      window = { cpu: process.cpuUsage(), at: performance.now() }
    } else if (m.type === "report") {
      const sorted = Float64Array.from(latencies).sort()
      send({ type: "report", nodeId, role, cpu: cpuShare(), seconds: (performance.now() - window.at) / 1000, applied, gaps, streamGaps: feed.counters.streamGaps - base.streamGaps, records: feed.counters.records - base.records, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.length === 0 ? Number.NaN : sorted[sorted.length - 1] })
    } else if (m.type === "stop") void Promise.all([port.stop(), feed.stop()]).then(() => process.exit(0))
  })
  send({ type: "ready" })
}
