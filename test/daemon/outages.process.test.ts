import { mkdtempSync } from "node:fs"
import { createServer, connect, type Server, type Socket } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { randomBytes } from "node:crypto"
import { Chunk, Effect, Either, Stream } from "effect"
import pg from "pg"
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest"
import { openKafkaJournal } from "../../src/adapters/journal/kafka/kafka-journal.js"
import { startSimulator, type Simulator } from "../../src/adapters/venues/simulator/server.js"
import { decodeEvent } from "../../src/domain/codec.js"
import { freePort } from "../services/free-port.js"
import { startKafka, type KafkaService } from "../services/kafka-broker.js"
import { api, startDaemon, throwawayDatabase, until, waitReady, writeConfig, type DaemonProcess } from "./daemon-harness.js"

// Must-show of the recovery issue, part 2: the daemon in production shape (Kafka journal on a
// broker of its own, Postgres store) trading against the simulator while
//  - the Kafka broker is stopped for 8 s and started again: appends fail past kafkajs's retries,
//    the events wait in the journal's backlog, new risk halts, and when the broker is back the
//    backlog is written, trading resumes, and the journal holds every order and every fill;
//  - Postgres is unreachable (a TCP proxy in front of it drops every connection) longer than the
//    audit-lag bound: trading halts, then resumes when it is back, and the audit trail catches up
//    completely.

const SECRET = Buffer.from("outage-secret-outage-secret-outage-secret").toString("base64")
const account = `outage${randomBytes(3).toString("hex")}`
const prefix = `outage${randomBytes(3).toString("hex")}.`
const home = mkdtempSync(join(tmpdir(), "troupe-outage-"))
let kafka: KafkaService
let sim: Simulator
let db: { readonly url: string; readonly drop: () => Promise<void> }
let pool: pg.Pool
let proxy: { server: Server; down: boolean; sockets: Set<Socket>; port: number }
let daemon: DaemonProcess | undefined
let configFile = ""

/** A TCP proxy to the Postgres server that the test can cut. */
const startProxy = async (target: URL): Promise<typeof proxy> => {
  const port = await freePort()
  const p = { server: undefined as unknown as Server, down: false, sockets: new Set<Socket>(), port }
  p.server = createServer((client) => {
    if (p.down) return void client.destroy()
    const upstream = connect(Number(target.port || 5432), target.hostname)
    p.sockets.add(client).add(upstream)
    const close = () => {
      client.destroy()
      upstream.destroy()
      p.sockets.delete(client)
      p.sockets.delete(upstream)
    }
    client.on("error", close).on("close", close)
    upstream.on("error", close).on("close", close)
    client.pipe(upstream).pipe(client)
  })
  await new Promise<void>((r) => p.server.listen(port, "127.0.0.1", r))
  return p
}

const tradingState = async (d: DaemonProcess): Promise<string> => (await api<{ trading: Record<string, string> }>(d, home, "/api/status")).trading[account] ?? "?"

beforeAll(async () => {
  const fromEnv = process.env.KAFKA_BROKERS
  delete process.env.KAFKA_BROKERS // a broker of our own: this test restarts it
  kafka = await startKafka()
  if (fromEnv !== undefined) process.env.KAFKA_BROKERS = fromEnv
  sim = await startSimulator({
    port: 0,
    instruments: ["PF_XBTUSD", "PF_ETHUSD", "PF_SOLUSD"],
    accounts: [{ name: "default", apiKey: "outage-key", apiSecret: SECRET }],
    market: { kind: "synthetic", rate: 80, takerShare: 0.3 },
    seed: 11
  })
  db = await throwawayDatabase(inject("databaseUrl"), "troupe_outage")
  pool = new pg.Pool({ connectionString: db.url, max: 2, options: "-c search_path=troupe" })
  proxy = await startProxy(new URL(db.url))
  const viaProxy = new URL(db.url)
  viaProxy.host = `127.0.0.1:${proxy.port}`
  configFile = writeConfig(home, {
    databaseUrl: viaProxy.toString(),
    kafkaBrokers: kafka.brokers,
    journal: { kind: "kafka", topicPrefix: prefix },
    venue: { account, baseUrl: `${sim.url}/derivatives`, wsUrl: sim.wsUrl, apiKey: "outage-key", apiSecret: SECRET },
    recovery: { auditLagSeconds: 2, snapshotEverySeconds: 2 }
  })
  daemon = await startDaemon(home, configFile)
  await waitReady(daemon, 120_000)
}, 180_000)

afterAll(async () => {
  if (daemon !== undefined && daemon.child.exitCode === null) daemon.child.kill("SIGKILL")
  await pool?.end()
  proxy?.server.close()
  for (const s of proxy?.sockets ?? []) s.destroy()
  await sim?.stop()
  await db?.drop()
  await kafka?.stop()
})

const moreOrders = async (n: number, d: DaemonProcess): Promise<void> => {
  const before = sim.admin.exchange.engine.allOrders("default").length
  await until(`${n} more venue orders`, async () => (sim.admin.exchange.engine.allOrders("default").length >= before + n ? true : undefined), 60_000, () => d.stderr)
}

/** Watches the trading state until `done` resolves; returns the states seen. */
const watchStates = async (d: DaemonProcess, done: Promise<unknown>): Promise<Set<string>> => {
  const seen = new Set<string>()
  let finished = false
  void done.finally(() => (finished = true))
  while (!finished) {
    seen.add(await tradingState(d).catch(() => "unreachable"))
    await new Promise((r) => setTimeout(r, 200))
  }
  return seen
}

describe("outages of the journal and the store", () => {
  it("halts while the Kafka broker is down, loses nothing, and resumes when it is back", async () => {
    const d = daemon!
    await moreOrders(5, d)
    const restart = kafka.restart(8_000)
    const states = await watchStates(d, restart)
    await restart
    expect(states.has("halted"), `states seen while the broker was down: ${[...states].join(", ")}\n${d.stderr.slice(-3000)}`).toBe(true)
    await until("trading to resume after the broker restart", async () => ((await tradingState(d)) === "active" ? true : undefined), 60_000, () => d.stderr)
    await moreOrders(5, d)
  }, 180_000)

  it("halts when Postgres is unreachable past the audit-lag bound, then resumes and the audit trail catches up", async () => {
    const d = daemon!
    proxy.down = true
    for (const s of proxy.sockets) s.destroy()
    await until("trading to halt without the audit trail", async () => ((await tradingState(d)) === "halted" ? true : undefined), 30_000, () => d.stderr)
    await new Promise((r) => setTimeout(r, 2_000))
    proxy.down = false
    await until("trading to resume with the audit trail back", async () => ((await tradingState(d)) === "active" ? true : undefined), 60_000, () => d.stderr)
    await moreOrders(5, d)
  }, 180_000)

  it("has every venue order and fill in the journal and the audit trail after all of it", async () => {
    const d = daemon!
    sim.admin.pauseMarket()
    d.child.kill("SIGTERM")
    expect(await d.exit).toBe(0)
    const engine = sim.admin.exchange.engine
    const venueOrders = engine.allOrders("default")
    const venueFills = engine.fills("default")

    // The Kafka journal: OrderSubmitted for every venue order, OrderFilled for every venue fill.
    const journal = await Effect.runPromise(openKafkaJournal({ brokers: kafka.brokers, topicPrefix: prefix, clientId: "outage-check" }))
    const submitted = new Map<string, number>()
    const filled = new Set<string>()
    const ends = await Effect.runPromise(journal.endOffsets())
    for (const end of ends.filter((e) => e.topic === "orders")) {
      const records = await Effect.runPromise(Stream.runCollect(journal.read({ ...end, offset: "0" })))
      for (const r of Chunk.toReadonlyArray(records)) {
        const e = decodeEvent(r.payload)
        if (Either.isLeft(e)) continue
        if (e.right._tag === "OrderSubmitted") submitted.set(e.right.clientOrderId, (submitted.get(e.right.clientOrderId) ?? 0) + 1)
        if (e.right._tag === "OrderFilled") filled.add(e.right.fillId)
      }
    }
    await Effect.runPromise(journal.close())
    expect(venueOrders.length).toBeGreaterThan(15)
    expect(venueOrders.filter((o) => o.cliOrdId === undefined || !submitted.has(o.cliOrdId)).map((o) => o.cliOrdId)).toEqual([])
    expect([...submitted].filter(([, n]) => n > 1)).toEqual([])
    expect(venueFills.filter((f) => !filled.has(f.fillId)).map((f) => f.fillId)).toEqual([])

    // The audit trail: every venue order's OrderSubmitted and every venue fill, plus the halts.
    const audit = await pool.query<{ client_order_id: string | null; event_type: string; payload: { to?: string } }>(
      "select client_order_id, event_type, payload from audit_events where account = $1",
      [account]
    )
    const audited = new Set(audit.rows.filter((r) => r.event_type === "OrderSubmitted").map((r) => r.client_order_id))
    expect(venueOrders.filter((o) => !audited.has(o.cliOrdId ?? null)).map((o) => o.cliOrdId)).toEqual([])
    const fills = new Set((await pool.query<{ fill_id: string }>("select fill_id from fills where account = $1", [account])).rows.map((r) => r.fill_id))
    expect(venueFills.filter((f) => !fills.has(f.fillId)).map((f) => f.fillId)).toEqual([])
    const halts = audit.rows.filter((r) => r.event_type === "TradingStateChanged" && r.payload.to === "halted").length
    expect(halts).toBeGreaterThanOrEqual(2)
  }, 120_000)

  it("recovers from the Kafka journal and the Postgres snapshot after a SIGKILL", async () => {
    sim.admin.resumeMarket()
    let d = await startDaemon(home, configFile)
    daemon = d
    await waitReady(d, 120_000)
    await moreOrders(5, d)
    d.child.kill("SIGKILL")
    await d.exit
    d = await startDaemon(home, configFile)
    daemon = d
    await waitReady(d, 120_000)
    expect(d.stderr).toMatch(/recovered in \d+ ms: ledger from snapshot/)
    sim.admin.pauseMarket()
    try {
      await until(
        "positions equal to the simulator's after recovery from Kafka",
        async () => {
          const ours = await api<Array<{ instrument: string; qty: string }>>(d, home, "/api/positions")
          const venue = new Map(sim.admin.exchange.engine.positions("default").map((p) => [`kraken-futures:${p.symbol}`, p.balance.toString()]))
          return ours.every((p) => p.qty === (venue.get(p.instrument) ?? "0")) && [...venue].every(([i, q]) => q === "0" || ours.some((p) => p.instrument === i && p.qty === q)) ? true : undefined
        },
        20_000,
        () => d.stderr
      )
      const cids = sim.admin.exchange.engine.allOrders("default").map((o) => o.cliOrdId)
      expect(cids.filter((c, i) => cids.indexOf(c) !== i)).toEqual([])
    } finally {
      sim.admin.resumeMarket()
    }
    d.child.kill("SIGTERM")
    expect(await d.exit).toBe(0)
  }, 240_000)
})
