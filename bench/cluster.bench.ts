import { fork, type ChildProcess } from "node:child_process"
import { randomBytes } from "node:crypto"
import { loadavg } from "node:os"
import { fileURLToPath } from "node:url"
import { Effect, Either } from "effect"
import { Kafka, logLevel } from "kafkajs"
import { parseBookSnapshotText } from "../src/actors/instrument/book-snapshot-text.js"
import { makeKrakenRestClient, mapInstruments } from "../src/adapters/venues/kraken-futures/index.js"
import { startSimulator } from "../src/adapters/venues/simulator/server.js"
import { openMdFeed } from "../src/cluster/md-feed.js"
import { startMdNode } from "../src/cluster/md-node.js"
import { BookCode, OrderBook } from "../src/domain/book.js"
import { applyScannedDelta, BookDeltaScanner } from "../src/domain/book-delta-text.js"
import { percentile, round, type Bench, type Figure } from "./harness.js"

// Issue #18's market-data benches (docs/cluster-scale.md has the figures, docs/capacity.md what
// they imply):
// - md.kafka_hop: md node receives a venue frame → a trading node's book has it, through the
//   real md node, Kafka and the real md feed (one process, one clock), beside bare kafkajs
//   produce → consume of records of the same size at the same rate on the same broker (one send
//   in flight, the rest queued for the next; a consumer with the md feed's fetch settings).
// - cluster.md_scale: N instruments × 50 updates/s from the simulator through 2 md nodes (shared
//   mode) into 3 trading nodes, each its own process: end-to-end p99 (venue timestamp → book
//   updated), CPU per node, gaps, Kafka bytes per instrument. TROUPE_BENCH_MD_INSTRUMENTS sets N (200).

const brokers = () => (process.env.KAFKA_BROKERS ?? "").split(",").filter((s) => s !== "")
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const load = () => round(loadavg()[0] as number, 2)
const symbols = (n: number) => Array.from({ length: n }, (_, i) => `PF_B${i.toString(36).toUpperCase().padStart(3, "0")}USD`)

const HOP_INSTRUMENTS = 20
const HOP_RATE = 400
const WARM_MS = 3_000
const MEASURE_MS = 10_000

const kafkaHop = async (): Promise<Figure[]> => {
  const loadBefore = load()
  const prefix = `bench.hop${randomBytes(3).toString("hex")}.`
  const sim = await startSimulator({ port: 0, instruments: symbols(HOP_INSTRUMENTS), market: { kind: "synthetic", rate: HOP_RATE, takerShare: 0.2 }, seed: 3 })
  const rest = makeKrakenRestClient({ baseUrl: `${sim.url}/derivatives` })
  const instruments = mapInstruments(await Effect.runPromise(rest.instruments())).instruments.map((k) => k.instrument)
  const received = new Map<string, number>()
  let measuring = false
  let hops: number[] = []
  let recordBytes = 0
  let records = 0
  const log = (m: string) => void m
  const node = await startMdNode({
    brokers: brokers(),
    topicPrefix: prefix,
    nodeId: "hop-md",
    wsUrl: sim.wsUrl,
    instruments,
    log,
    observe: (instrument, seq) => {
      if (measuring) received.set(`${instrument}|${seq}`, performance.now())
    }
  })
  const feed = await openMdFeed({ brokers: brokers(), topicPrefix: prefix, nodeId: "hop-trading", log })
  const port = feed.port()
  for (const i of instruments) {
    const book = OrderBook.forInstrument(i)
    const scanner = new BookDeltaScanner()
    let waiting = true
    port.subscribe(i.id, {
      status: () => (waiting = true),
      event: () => undefined,
      text: (frame) => {
        if (scanner.scan(frame)) {
          if (waiting || scanner.seq !== book.sequence + 1 || applyScannedDelta(book, scanner) !== BookCode.Ok) return
          const key = `${i.id}|${scanner.seq}`
          const t = received.get(key)
          if (t !== undefined) {
            hops.push(performance.now() - t)
            received.delete(key)
          }
        } else {
          const parsed = parseBookSnapshotText(frame)
          if (Either.isRight(parsed) && book.applySnapshotText(parsed.right) === BookCode.Ok) waiting = false
        }
      }
    })
  }
  // Baseline beside it, at the same time in the same process (same load): bare kafkajs, records of
  // the md node's size at its rate, one send in flight and the rest queued for the next (no timer:
  // kafkajs's least-latency use), a consumer with the md feed's fetch settings.
  const kafka = new Kafka({ brokers: brokers(), clientId: "bench-hop-bare", logLevel: logLevel.NOTHING })
  const topic = `${prefix}bare`
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 6, replicationFactor: 1 }] })
  await admin.disconnect()
  const producer = kafka.producer({ allowAutoTopicCreation: false })
  await producer.connect()
  const consumer = kafka.consumer({ groupId: `${prefix}bare-reader`, maxWaitTimeInMs: 50, allowAutoTopicCreation: false })
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: false })
  let bare: number[] = []
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      const now = performance.now()
      for (const m of batch.messages) if (measuring && m.value !== null) bare.push(now - m.value.readDoubleLE(0))
    }
  })
  const warmFrom = { published: node.counters.published, bytes: node.counters.bytes }
  await sleep(WARM_MS)
  const warmRecords = Math.max(1, node.counters.published - warmFrom.published)
  const avgBytes = Math.max(8, Math.round((node.counters.bytes - warmFrom.bytes) / warmRecords))
  const payload = randomBytes(avgBytes)
  let k = 0
  // Records owed by elapsed time, not per tick: a loaded event loop runs the timer late.
  const perMs = warmRecords / WARM_MS
  let owed = 0
  let last = performance.now()
  let pending: Array<{ key: string; value: Buffer }> = []
  let inFlight = false
  let closed = false
  const drain = (): void => {
    if (inFlight || pending.length === 0 || closed) return
    const messages = pending
    pending = []
    inFlight = true
    void producer
      .send({ topic, acks: 1, messages })
      .catch(() => undefined)
      .finally(() => {
        inFlight = false
        drain()
      })
  }
  const ticker = setInterval(() => {
    const now = performance.now()
    owed += (now - last) * perMs
    last = now
    for (; owed >= 1; owed--) {
      const value = Buffer.from(payload)
      value.writeDoubleLE(performance.now(), 0)
      pending.push({ key: `PF_B${k++ % HOP_INSTRUMENTS}`, value })
    }
    drain()
  }, 5)
  await sleep(2_000)
  measuring = true
  const publishedBefore = node.counters.published
  const bytesBefore = node.counters.bytes
  await sleep(MEASURE_MS)
  measuring = false
  records = node.counters.published - publishedBefore
  recordBytes = node.counters.bytes - bytesBefore
  clearInterval(ticker)
  closed = true
  while (inFlight) await sleep(10)
  await producer.disconnect()
  await consumer.disconnect()
  await port.stop()
  await feed.stop()
  await node.stop()
  await sim.stop()
  const hopSorted = Float64Array.from(hops).sort()
  hops = []
  const bareSorted = Float64Array.from(bare).sort()
  bare = []
  void recordBytes
  const loadAfter = load()
  const extra = { samples: hopSorted.length, baseline_samples: bareSorted.length, records_per_s: round(records / (MEASURE_MS / 1000), 0), bytes_per_record: records === 0 ? avgBytes : Math.round(recordBytes / records), loadavg_1m: [loadBefore, loadAfter] }
  const p50 = percentile(hopSorted, 50)
  const p99 = percentile(hopSorted, 99)
  const b50 = percentile(bareSorted, 50)
  const b99 = percentile(bareSorted, 99)
  return [
    { name: "md.kafka_hop.p50", value: round(p50, 2), unit: "ms", baseline: "kafkajs produce→consume p50", baseline_value: round(b50, 2), ratio: round(p50 / b50, 2), goal: "≤ 1.5×", ...extra },
    { name: "md.kafka_hop.p99", value: round(p99, 2), unit: "ms", baseline: "kafkajs produce→consume p99", baseline_value: round(b99, 2), ratio: round(p99 / b99, 2), goal: "≤ 1.5×", ...extra }
  ]
}

interface Report {
  readonly nodeId: string
  readonly role: "md" | "trading"
  readonly cpu: number
  readonly seconds: number
  readonly [k: string]: unknown
}

const CHILD = fileURLToPath(new URL("./cluster/child.ts", import.meta.url))

const spawnNode = (args: ReadonlyArray<string>): { child: ChildProcess; next: (type: string) => Promise<Report> } => {
  const child = fork(CHILD, [...args], { execArgv: ["--import", "tsx"], stdio: ["ignore", "ignore", "inherit", "ipc"] })
  const waiters: Array<(m: Report) => void> = []
  child.on("message", (m: Report) => waiters.shift()?.(m))
  return {
    child,
    next: (type) =>
      new Promise<Report>((resolve, reject) => {
        waiters.push(resolve)
        child.once("exit", (code) => reject(new Error(`node ${args[1]} exited (${code})`)))
        if (type !== "ready") child.send({ type })
      })
  }
}

const mdScale = async (): Promise<Figure[]> => {
  const n = Number(process.env.TROUPE_BENCH_MD_INSTRUMENTS ?? 200)
  const perInstrument = 50
  const loadBefore = load()
  const prefix = `bench.scale${randomBytes(3).toString("hex")}.`
  const sim = await startSimulator({ port: 0, instruments: symbols(n), market: { kind: "synthetic", rate: n * perInstrument, takerShare: 0.2 }, seed: 4 })
  // The market waits until every node has started (at 10,000 updates/s the simulator would starve their start).
  sim.admin.pauseMarket()
  const common = [sim.url, sim.wsUrl, prefix, brokers().join(","), "8"]
  const nodes = [...["md-1", "md-2"].map((id) => spawnNode(["md", id, ...common])), ...["t-1", "t-2", "t-3"].map((id) => spawnNode(["trading", id, ...common]))]
  try {
    await Promise.all(nodes.map((x) => x.next("ready")))
    sim.admin.resumeMarket()
    // Both md nodes in the group, shares handed over (3 s overlap), books live everywhere.
    await sleep(12_000)
    const simStart = { cpu: process.cpuUsage(), at: performance.now() }
    await Promise.all(nodes.map((x) => x.child.send({ type: "start" })))
    await sleep(15_000)
    const reports = await Promise.all(nodes.map((x) => x.next("report")))
    const simCpu = process.cpuUsage(simStart.cpu)
    const simShare = (simCpu.user + simCpu.system) / 1000 / (performance.now() - simStart.at)
    const md = reports.filter((r) => r.role === "md")
    const trading = reports.filter((r) => r.role === "trading")
    const seconds = md[0]?.seconds ?? 15
    const frames = md.reduce((s, r) => s + (r["frames"] as number), 0)
    const bytes = md.reduce((s, r) => s + (r["bytes"] as number), 0)
    const mdCpu = md.reduce((s, r) => s + r.cpu, 0)
    const gaps = trading.reduce((s, r) => s + (r["gaps"] as number) + (r["streamGaps"] as number), 0) + md.reduce((s, r) => s + (r["gaps"] as number) + (r["dropped"] as number), 0)
    const p99 = Math.max(...trading.map((r) => r["p99"] as number))
    const p50 = Math.max(...trading.map((r) => r["p50"] as number))
    const loadAfter = load()
    const cpu = Object.fromEntries([...reports.map((r) => [r.nodeId, round(r.cpu, 3)]), ["simulator+bench", round(simShare, 3)]])
    const extra = { instruments: n, offered_per_s: n * perInstrument, cpu_cores: cpu, loadavg_1m: [loadBefore, loadAfter], nodes: reports }
    return [
      { name: "cluster.md_scale.updates_per_s", value: round(frames / seconds, 0), unit: "frames/s", baseline: "offered by the simulator (instruments × 50/s)", baseline_value: n * perInstrument, ratio: round(frames / seconds / (n * perInstrument), 3), ...extra },
      { name: "cluster.md_scale.e2e_p99", value: p99, unit: "ms", p50, note: "venue timestamp → trading node book updated, worst of 3 trading nodes", loadavg_1m: [loadBefore, loadAfter] },
      { name: "cluster.md_scale.gaps", value: gaps, unit: "gaps", goal: 0, loadavg_1m: [loadBefore, loadAfter] },
      { name: "cluster.md_scale.md_frames_per_core_s", value: round(frames / seconds / Math.max(mdCpu, 1e-6), 0), unit: "frames/s per core", md_cpu_cores: round(mdCpu, 3), loadavg_1m: [loadBefore, loadAfter] },
      { name: "cluster.md_scale.kafka_bytes_per_instrument_s", value: round(bytes / seconds / n, 0), unit: "B/s per instrument", note: "keys + msgpack values, deltas and 1/s snapshots, before batch overhead", loadavg_1m: [loadBefore, loadAfter] },
      { name: "cluster.md_scale.trading_records_per_core_s", value: round(trading.reduce((s, r) => s + (r["records"] as number), 0) / seconds / Math.max(trading.reduce((s, r) => s + r.cpu, 0), 1e-6), 0), unit: "records/s per core", loadavg_1m: [loadBefore, loadAfter] }
    ]
  } finally {
    await Promise.allSettled(
      nodes.map(
        (x) =>
          new Promise<void>((resolve) => {
            if (x.child.exitCode !== null) return resolve()
            const t = setTimeout(() => (x.child.kill("SIGKILL"), resolve()), 10_000)
            x.child.once("exit", () => (clearTimeout(t), resolve()))
            x.child.send({ type: "stop" })
          })
      )
    )
    await sim.stop()
  }
}

export const benches: ReadonlyArray<Bench> = [
  { name: "md.kafka_hop", needs: ["kafka"], run: kafkaHop },
  { name: "cluster.md_scale", needs: ["kafka"], run: mdScale }
]
