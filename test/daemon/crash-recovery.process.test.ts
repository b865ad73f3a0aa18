import { execFile } from "node:child_process"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { randomBytes } from "node:crypto"
import pg from "pg"
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest"
import { startSimulator, type Simulator } from "../../src/adapters/venues/simulator/server.js"
import { api, startDaemon, throwawayDatabase, until, waitReady, writeConfig, type DaemonProcess } from "./daemon-harness.js"
import { TROUPE_BIN } from "../services/build.js"

// Must-show of the recovery issue: a daemon trading actively against the simulator (its own
// process here is the test's; the daemon is a child process talking to it over loopback) is
// killed with SIGKILL at random moments, ten times in a row. After each restart: no venue order
// twice, no fill lost, positions equal the simulator's ground truth, every venue order has its
// audit rows. The store is a real Postgres database, the journal the file journal under the
// daemon's home (the Kafka journal has its own test with a broker restart). The rounds alternate the
// journal's write-ahead durability: `fsync` (on disk before each order) on even rounds, `os` (written
// to the OS before each order, fsynced in the background) on odd ones — kill -9 loses nothing under
// either, since the kernel keeps what a killed process wrote. Restarting under the other policy on
// the same journal is part of the test.

const KILLS = 10
const SYMBOLS = ["PF_XBTUSD", "PF_ETHUSD", "PF_SOLUSD"]
const account = `crash${randomBytes(3).toString("hex")}`
const home = mkdtempSync(join(tmpdir(), "troupe-crash-"))
let sim: Simulator
let db: { readonly url: string; readonly drop: () => Promise<void> }
let pool: pg.Pool
let configFile = ""
let baseConfig: Record<string, unknown> = {}
const durabilityOf = (round: number): "fsync" | "os" => (round % 2 === 0 ? "fsync" : "os")
let daemon: DaemonProcess | undefined

interface PositionView {
  readonly instrument: string
  readonly qty: string
}

/** Ground truth of the simulator for the daemon's venue account. */
const truth = () => sim.admin.exchange.engine

const seeded = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

beforeAll(async () => {
  sim = await startSimulator({
    port: 0,
    instruments: SYMBOLS,
    accounts: [{ name: "default", apiKey: "crash-key", apiSecret: Buffer.from("crash-secret-crash-secret-crash-secret").toString("base64") }],
    market: { kind: "synthetic", rate: 80, takerShare: 0.3 },
    seed: 7
  })
  db = await throwawayDatabase(inject("databaseUrl"), "troupe_crash")
  pool = new pg.Pool({ connectionString: db.url, max: 2, options: "-c search_path=troupe" })
  baseConfig = {
    databaseUrl: db.url,
    venue: { account, baseUrl: `${sim.url}/derivatives`, wsUrl: sim.wsUrl, apiKey: "crash-key", apiSecret: Buffer.from("crash-secret-crash-secret-crash-secret").toString("base64") },
    recovery: { snapshotEveryEvents: 100, snapshotEverySeconds: 1 }
  }
}, 60_000)

afterAll(async () => {
  if (daemon !== undefined && daemon.child.exitCode === null) daemon.child.kill("SIGKILL")
  await pool?.end()
  await sim?.stop()
  await db?.drop()
})

const check = async (d: DaemonProcess, round: number): Promise<void> => {
  const engine = truth()
  // Quiet the market so positions can settle, then compare with the ground truth.
  sim.admin.pauseMarket()
  try {
    // 1. No venue order twice: every client order id the venue ever saw is unique.
    const venueOrders = engine.allOrders("default")
    const cids = venueOrders.map((o) => o.cliOrdId ?? `none:${o.orderId}`)
    const dupes = cids.filter((c, i) => cids.indexOf(c) !== i)
    expect(dupes, `round ${round}: client order ids at the venue more than once`).toEqual([])

    // 2. Positions equal the simulator's (ours converge once the last fills are in).
    const venuePositions = new Map(engine.positions("default").map((p) => [`kraken-futures:${p.symbol}`, p.balance.toString()]))
    await until(
      `round ${round}: positions equal to the simulator's`,
      async () => {
        const ours = await api<PositionView[]>(d, home, "/api/positions")
        const fresh = new Map(truth().positions("default").map((p) => [`kraken-futures:${p.symbol}`, p.balance.toString()]))
        const mismatch = SYMBOLS.map((s) => `kraken-futures:${s}`).filter((i) => (ours.find((p) => p.instrument === i)?.qty ?? "0") !== (fresh.get(i) ?? "0"))
        return mismatch.length === 0 ? true : undefined
      },
      20_000,
      () => `venue ${JSON.stringify([...venuePositions])}\n${d.stderr}`
    )

    // 3. No fill lost: every venue fill is in the store's fills (the audit projection catches up).
    const venueFills = engine.fills("default").map((f) => f.fillId)
    await until(
      `round ${round}: every venue fill in the fills table`,
      async () => {
        const rows = await pool.query<{ fill_id: string }>("select fill_id from fills where account = $1", [account])
        const have = new Set(rows.rows.map((r) => r.fill_id))
        const missing = venueFills.filter((f) => !have.has(f))
        return missing.length === 0 ? true : undefined
      },
      20_000,
      () => d.stderr
    )

    // 4. Every venue order has its audit rows: what we sent (once) and what the venue said.
    await until(
      `round ${round}: audit rows for every venue order`,
      async () => {
        const rows = await pool.query<{ client_order_id: string; event_type: string }>(
          "select client_order_id, event_type from audit_events where account = $1 and event_type in ('OrderSubmitted', 'RiskApproved')",
          [account]
        )
        const submitted = new Map<string, number>()
        const approved = new Set<string>()
        for (const r of rows.rows) {
          if (r.event_type === "OrderSubmitted") submitted.set(r.client_order_id, (submitted.get(r.client_order_id) ?? 0) + 1)
          else approved.add(r.client_order_id)
        }
        const sentTwice = [...submitted].filter(([, n]) => n > 1)
        expect(sentTwice, `round ${round}: OrderSubmitted more than once for a client order id`).toEqual([])
        const missing = venueOrders.filter((o) => o.cliOrdId === undefined || !submitted.has(o.cliOrdId) || !approved.has(o.cliOrdId))
        return missing.length === 0 ? true : undefined
      },
      20_000,
      () => d.stderr
    )
  } finally {
    sim.admin.resumeMarket()
  }
}

describe("crash recovery: SIGKILL at random moments", () => {
  it(`recovers ${KILLS} times in a row with nothing lost and nothing sent twice`, async () => {
    const random = seeded(20261122)
    const recoveries: number[] = []
    for (let round = 0; round <= KILLS; round++) {
      configFile = writeConfig(home, { ...baseConfig, journal: { kind: "file", durability: durabilityOf(round) } })
      const started = Date.now()
      daemon = await startDaemon(home, configFile)
      await waitReady(daemon)
      const ready = Date.now() - started
      recoveries.push(ready)
      const recovered = /recovered in (\d+) ms: ([^\n]*)/.exec(daemon.stderr)
      const reconciled = /reconciled in \d+ ms since start: ([^\n]*)/.exec(daemon.stderr)
      process.stderr.write(`[crash] round ${round} (${durabilityOf(round)}): ready ${ready} ms after spawn; recovery ${recovered?.[1] ?? "?"} ms (${recovered?.[2] ?? ""}); ${reconciled?.[1] ?? ""}\n`)
      if (round > 0) await check(daemon, round)
      if (round === KILLS) break
      // Trade for a while: wait for new orders, then kill at a random moment.
      const before = truth().allOrders("default").length
      await until("new venue orders", async () => (truth().allOrders("default").length > before + 3 ? true : undefined), 30_000, () => daemon?.stderr ?? "")
      await new Promise((r) => setTimeout(r, 200 + Math.floor(random() * 2500)))
      daemon.child.kill("SIGKILL")
      await daemon.exit
    }
    const venueFills = truth().fills("default").length
    const venueOrders = truth().allOrders("default").length
    process.stderr.write(`[crash] ${KILLS} kills: ${venueOrders} venue orders, ${venueFills} fills; ready after spawn (ms) ${recoveries.join(", ")}\n`)
    expect(venueOrders).toBeGreaterThan(KILLS * 3)
    expect(venueFills).toBeGreaterThan(0)
    // A graceful stop at the end still works on the recovered state.
    daemon!.child.kill("SIGTERM")
    expect(await daemon!.exit).toBe(0)

    // And the post-trade report over this store (eleven runs, ten crashes) counts every venue fill once.
    const reported = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [TROUPE_BIN, "report", "--json"], { env: { PATH: process.env["PATH"] ?? "", DATABASE_URL: db.url }, timeout: 120_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) =>
        resolve({ code: error === null ? 0 : (error.code as number | null), stdout, stderr })
      )
    })
    expect(reported.stderr + String(reported.code)).toMatch(/0$/)
    const report = JSON.parse(reported.stdout) as { execution: Array<{ scope: string; fills: number }> }
    expect(report.execution.find((r) => r.scope === "total")?.fills).toBe(venueFills)
  }, 600_000)
})
