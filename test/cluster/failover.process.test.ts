import { spawn, type ChildProcess } from "node:child_process"
import { randomBytes } from "node:crypto"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import pg from "pg"
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest"
import { startSimulator, type Simulator } from "../../src/adapters/venues/simulator/server.js"
import { runOfClientOrderId } from "../../src/domain/ids.js"
import { throwawayDatabase, until } from "../daemon/daemon-harness.js"

// Issue #18, first slice (docs/cluster.md): one md node and two trading nodes on the test Kafka
// broker, Postgres and the simulator, two accounts trading the default market makers. A trading
// node is killed with SIGKILL: its accounts are claimed by the survivor (epoch + 1 in Postgres),
// recovered and trade again; no client order id reaches the venue twice. The killed node is
// restarted and gets an account back (a hand-off through the group and the fence). Then the
// zombie: a node is stopped with SIGSTOP until its accounts are taken over and woken with SIGCONT:
// no order it makes after the takeover reaches the venue, and it logs that it was fenced.

const SYMBOLS = ["PF_XBTUSD", "PF_ETHUSD", "PF_SOLUSD"]
const ACCOUNTS = ["acct-a", "acct-b"]
const secret = (a: string) => Buffer.from(`secret-of-${a}-secret-of-${a}-secret`).toString("base64")
const home = mkdtempSync(join(tmpdir(), "troupe-cluster-"))
const prefix = `troupe.cl${randomBytes(3).toString("hex")}.`
const SESSION_MS = 2_000

let sim: Simulator
let db: { readonly url: string; readonly drop: () => Promise<void> }
let pool: pg.Pool
let configFile = ""
let clusterFile = ""
const nodes = new Map<string, NodeProcess>()

interface NodeProcess {
  readonly id: string
  readonly child: ChildProcess
  stderr: string
}

const startNode = (role: "md" | "trading", id: string): NodeProcess => {
  // bin/troupe runs dist/ when built (`npm run build`), else the sources through tsx.
  const child = spawn(process.execPath, ["bin/troupe", "daemon", "--role", role, "--node-id", id, "--cluster", clusterFile, "--config", configFile], {
    env: { PATH: process.env["PATH"] ?? "", TROUPE_HOME: home, KAFKA_BROKERS: inject("kafkaBrokers"), DATABASE_URL: db.url },
    stdio: ["ignore", "pipe", "pipe"]
  })
  const n: NodeProcess = { id, child, stderr: "" }
  child.stderr?.on("data", (b: Buffer) => (n.stderr += b.toString()))
  child.stdout?.resume()
  nodes.set(id, n)
  return n
}

const logs = (): string => [...nodes.values()].map((n) => `--- ${n.id}\n${n.stderr.slice(-2500)}`).join("\n")

const owners = async (): Promise<Map<string, { node: string; epoch: number }>> => {
  const r = await pool.query<{ account: string; node_id: string; epoch: string }>("select account, node_id, epoch from troupe.cluster_account_epochs")
  return new Map(r.rows.map((row) => [row.account, { node: row.node_id, epoch: Number(row.epoch) }]))
}

const venueOrders = (account: string) => sim.admin.exchange.engine.allOrders(account)

/** Client order ids the venue saw more than once, per account. */
const duplicates = (account: string): string[] => {
  const cids = venueOrders(account).map((o) => o.cliOrdId ?? `none:${o.orderId}`)
  return cids.filter((c, i) => cids.indexOf(c) !== i)
}

/** Venue orders of `account` received after `since` with a run number above `aboveRun`. */
const newOrders = (account: string, since: number, aboveRun: number) =>
  venueOrders(account).filter((o) => o.receivedTime > since && (runOfClientOrderId(o.cliOrdId ?? "") ?? -1) > aboveRun)

const maxRun = (account: string): number => Math.max(0, ...venueOrders(account).map((o) => runOfClientOrderId(o.cliOrdId ?? "") ?? 0))

beforeAll(async () => {
  sim = await startSimulator({
    port: 0,
    instruments: SYMBOLS,
    accounts: ACCOUNTS.map((a) => ({ name: a, apiKey: `key-${a}`, apiSecret: secret(a) })),
    market: { kind: "synthetic", rate: 60, takerShare: 0.3 },
    seed: 11
  })
  db = await throwawayDatabase(inject("databaseUrl"), "troupe_cluster")
  pool = new pg.Pool({ connectionString: db.url, max: 2 })
  configFile = join(home, "config.json")
  writeFileSync(
    configFile,
    JSON.stringify({
      journal: { kind: "kafka", topicPrefix: prefix },
      venue: { account: ACCOUNTS[0], baseUrl: `${sim.url}/derivatives`, wsUrl: sim.wsUrl, apiKey: `key-${ACCOUNTS[0]}`, apiSecret: secret(ACCOUNTS[0] as string) },
      recovery: { snapshotEveryEvents: 100, snapshotEverySeconds: 1 }
    })
  )
  clusterFile = join(home, "cluster.json")
  writeFileSync(clusterFile, JSON.stringify({ accounts: ACCOUNTS.map((a) => ({ account: a, apiKey: `key-${a}`, apiSecret: secret(a) })), sessionTimeoutMs: SESSION_MS, md: { snapshotEveryMs: 500 } }))
}, 60_000)

afterAll(async () => {
  for (const n of nodes.values()) {
    if (n.child.exitCode !== null || n.child.signalCode !== null) continue
    n.child.kill("SIGCONT")
    n.child.kill("SIGKILL")
  }
  await pool?.end()
  await sim?.stop()
  await db?.drop()
})

describe("a cluster: one md node, two trading nodes, two accounts", () => {
  it("a trading node killed with SIGKILL: the survivor takes its accounts over and trades them, no client order id twice", async () => {
    startNode("md", "md-1")
    startNode("trading", "t-1")
    startNode("trading", "t-2")

    // Both accounts owned, one per node, and both trading.
    const placed = await until(
      "each trading node to own an account",
      async () => {
        const o = await owners()
        const by = new Set([...o.values()].map((v) => v.node))
        return o.size === 2 && by.size === 2 ? o : undefined
      },
      // Three Node processes starting on a shared 2-core machine: generous.
      180_000,
      logs
    )
    const start = Date.now()
    for (const account of ACCOUNTS) await until(`${account} to trade`, async () => (newOrders(account, start - 60_000, 0).length >= 3 ? true : undefined), 90_000, logs)
    // Market data came through Kafka: the md node published and the trading nodes' books are live
    // (the market makers quote only on a live book).
    expect(nodes.get("md-1")?.stderr).toContain("publishing to")

    const victim = placed.get(ACCOUNTS[0] as string)!.node
    const survivor = victim === "t-1" ? "t-2" : "t-1"
    const moved = [...placed].filter(([, v]) => v.node === victim).map(([a]) => a)
    const runs = new Map(moved.map((a) => [a, maxRun(a)]))
    nodes.get(victim)!.child.kill("SIGKILL")
    const killedAt = Date.now()

    // The survivor claims every account of the dead node (its epoch moves on) ...
    await until(
      "the survivor to claim the dead node's accounts",
      async () => {
        const o = await owners()
        return moved.every((a) => o.get(a)?.node === survivor && o.get(a)!.epoch > placed.get(a)!.epoch) ? true : undefined
      },
      SESSION_MS + 30_000,
      logs
    )
    // ... and trades them again: venue orders under a newer run than the dead node's.
    for (const account of moved) {
      await until(`${account} to trade again from ${survivor}`, async () => (newOrders(account, killedAt, runs.get(account)!).length >= 2 ? true : undefined), 60_000, logs)
    }
    const firstOrderAfter = Math.min(...moved.map((a) => Math.min(...newOrders(a, killedAt, runs.get(a)!).map((o) => o.receivedTime))))
    process.stderr.write(`cluster failover: kill -9 → first order of a moved account from its new owner in ${firstOrderAfter - killedAt} ms (session timeout ${SESSION_MS} ms)\n`)
    // Where the time went: the survivor's log from the kill on (claim, recovery, reconciliation, strategies).
    const timeline = nodes
      .get(survivor)!
      .stderr.split("\n")
      .filter((l) => /claimed at epoch|joined|recovered in|reconciled in|strategies:|running \(run/.test(l) && Date.parse(l.slice(0, 24)) >= killedAt)
      .map((l) => `  +${Date.parse(l.slice(0, 24)) - killedAt} ms ${l.slice(25, 160)}`)
    process.stderr.write(`cluster failover timeline on ${survivor}:\n${timeline.join("\n")}\n`)

    for (const account of ACCOUNTS) expect(duplicates(account), `${account}: client order ids at the venue more than once`).toEqual([])
    expect(nodes.get(survivor)!.stderr).toMatch(new RegExp(`account ${moved[0]}: claimed at epoch`))
  }, 400_000)

  it("a paused node (SIGSTOP) whose accounts were taken over sends nothing on waking (SIGCONT) and logs that it was fenced", async () => {
    // The killed node comes back: the group gives it an account again (the other node stops it: hand-off).
    const dead = [...nodes.values()].find((n) => n.child.signalCode === "SIGKILL")!
    startNode("trading", dead.id)
    const placed = await until(
      "the restarted node to own an account again",
      async () => {
        const o = await owners()
        return [...o.values()].some((v) => v.node === dead.id) && new Set([...o.values()].map((v) => v.node)).size === 2 ? o : undefined
      },
      90_000,
      logs
    )
    const zombie = dead.id
    const other = [...nodes.keys()].find((k) => k !== zombie && k !== "md-1")!
    const account = [...placed].find(([, v]) => v.node === zombie)![0]
    // Trading from the restarted node itself: orders under the run its runtime logged.
    const z = nodes.get(zombie)!
    const zombieRun = await until(
      `${account} to trade on ${zombie}`,
      async () => {
        const runs = [...z.stderr.matchAll(/running \(run (\d+),/g)].map((m) => Number(m[1]))
        const run = runs[runs.length - 1]
        return run !== undefined && venueOrders(account).some((o) => runOfClientOrderId(o.cliOrdId ?? "") === run) ? run : undefined
      },
      120_000,
      logs
    )

    z.child.kill("SIGSTOP")
    await until(
      `${other} to take ${account} over from the paused node`,
      async () => {
        const o = await owners()
        return o.get(account)?.node === other ? true : undefined
      },
      SESSION_MS + 30_000,
      logs
    )
    const takenOverAt = Date.now()
    const stderrBefore = z.stderr.length
    z.child.kill("SIGCONT")
    // Awake: its timers fire, its strategies quote; every request is fenced.
    await until("the woken node to log that it was fenced", async () => (z.stderr.slice(stderrBefore).includes(`FENCED: account ${account} was taken over`) ? true : undefined), 60_000, logs)
    await new Promise((r) => setTimeout(r, 3_000))
    const fromZombie = venueOrders(account).filter((o) => o.receivedTime > takenOverAt && runOfClientOrderId(o.cliOrdId ?? "") === zombieRun)
    expect(fromZombie.map((o) => o.cliOrdId), "orders the fenced node sent after the takeover").toEqual([])
    // The account trades again under a newer run: from the node that took it over or, once the
    // woken node rejoined the group and was assigned it back, from that node's new claim.
    await until(`${account} to trade again after the takeover`, async () => (newOrders(account, takenOverAt, zombieRun).length >= 1 ? true : undefined), 90_000, logs)
    for (const a of ACCOUNTS) expect(duplicates(a), `${a}: client order ids at the venue more than once`).toEqual([])
  }, 400_000)
})
