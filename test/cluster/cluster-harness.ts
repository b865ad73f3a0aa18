import { spawn, type ChildProcess } from "node:child_process"
import { randomBytes } from "node:crypto"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import pg from "pg"
import { startSimulator, type Simulator } from "../../src/adapters/venues/simulator/server.js"
import { runOfClientOrderId } from "../../src/domain/ids.js"
import { throwawayDatabase, until } from "../daemon/daemon-harness.js"

/**
 * A cluster of troupe processes on loopback for the cluster soak and the `cluster.failover`
 * bench: the simulator, a throwaway Postgres database, md and trading nodes as `bin/troupe`
 * processes (dist/ when built), and the probes both need (owners from the fence table, venue
 * orders by run, the kill → first-order-of-each-moved-account measurement).
 */
export interface RigOptions {
  readonly brokers: string
  readonly databaseUrl: string
  readonly accounts: ReadonlyArray<string>
  /** Every instrument the simulator lists (the first three are the default strategies'). */
  readonly instruments: ReadonlyArray<string>
  /** The instruments each md node publishes, by md node id. */
  readonly md: Readonly<Record<string, ReadonlyArray<string>>>
  readonly sessionTimeoutMs: number
  readonly rate?: number
}

export interface NodeProcess {
  readonly id: string
  readonly role: "md" | "trading"
  child: ChildProcess
  stderr: string
}

const secret = (a: string) => Buffer.from(`secret-of-${a}-secret-of-${a}-secret`).toString("base64")

export class ClusterRig {
  readonly home = mkdtempSync(join(tmpdir(), "troupe-cluster-rig-"))
  readonly prefix = `troupe.rig${randomBytes(3).toString("hex")}.`
  readonly nodes = new Map<string, NodeProcess>()
  sim!: Simulator
  pool!: pg.Pool
  private db!: { readonly url: string; readonly drop: () => Promise<void> }
  private configFile = ""

  constructor(readonly options: RigOptions) {}

  async open(): Promise<void> {
    const o = this.options
    this.sim = await startSimulator({
      port: 0,
      instruments: [...o.instruments],
      accounts: o.accounts.map((a) => ({ name: a, apiKey: `key-${a}`, apiSecret: secret(a) })),
      market: { kind: "synthetic", rate: o.rate ?? 60, takerShare: 0.3 },
      seed: 18
    })
    this.db = await throwawayDatabase(o.databaseUrl, "troupe_rig")
    this.pool = new pg.Pool({ connectionString: this.db.url, max: 2 })
    this.configFile = join(this.home, "config.json")
    const first = o.accounts[0] as string
    writeFileSync(
      this.configFile,
      JSON.stringify({
        journal: { kind: "kafka", topicPrefix: this.prefix },
        venue: { account: first, baseUrl: `${this.sim.url}/derivatives`, wsUrl: this.sim.wsUrl, apiKey: `key-${first}`, apiSecret: secret(first) },
        recovery: { snapshotEveryEvents: 100, snapshotEverySeconds: 1 }
      })
    )
  }

  private clusterFile(nodeId: string): string {
    const o = this.options
    const file = join(this.home, `cluster-${nodeId}.json`)
    const md = o.md[nodeId]
    writeFileSync(
      file,
      JSON.stringify({
        accounts: o.accounts.map((a) => ({ account: a, apiKey: `key-${a}`, apiSecret: secret(a) })),
        sessionTimeoutMs: o.sessionTimeoutMs,
        md: { snapshotEveryMs: 500, ...(md === undefined ? {} : { instruments: md }) }
      })
    )
    return file
  }

  start(role: "md" | "trading", id: string): NodeProcess {
    const child = spawn(process.execPath, ["bin/troupe", "daemon", "--role", role, "--node-id", id, "--cluster", this.clusterFile(id), "--config", this.configFile], {
      env: { PATH: process.env["PATH"] ?? "", TROUPE_HOME: this.home, KAFKA_BROKERS: this.options.brokers, DATABASE_URL: this.db.url },
      stdio: ["ignore", "pipe", "pipe"]
    })
    const n: NodeProcess = { id, role, child, stderr: "" }
    child.stderr?.on("data", (b: Buffer) => {
      n.stderr += b.toString()
      if (n.stderr.length > 400_000) n.stderr = n.stderr.slice(-200_000)
    })
    child.stdout?.resume()
    this.nodes.set(id, n)
    return n
  }

  async kill(id: string): Promise<void> {
    const n = this.nodes.get(id)
    if (n === undefined || n.child.exitCode !== null || n.child.signalCode !== null) return
    const exited = new Promise<void>((r) => n.child.once("exit", () => r()))
    n.child.kill("SIGKILL")
    await exited
  }

  logs = (): string => [...this.nodes.values()].map((n) => `--- ${n.id}\n${n.stderr.slice(-2000)}`).join("\n")

  async owners(): Promise<Map<string, { node: string; epoch: number }>> {
    const r = await this.pool.query<{ account: string; node_id: string; epoch: string }>("select account, node_id, epoch from troupe.cluster_account_epochs")
    return new Map(r.rows.map((row) => [row.account, { node: row.node_id, epoch: Number(row.epoch) }]))
  }

  venueOrders = (account: string) => this.sim.admin.exchange.engine.allOrders(account)

  /** Client order ids the venue saw more than once. */
  duplicates(account: string): string[] {
    const cids = this.venueOrders(account).map((o) => o.cliOrdId ?? `none:${o.orderId}`)
    return cids.filter((c, i) => cids.indexOf(c) !== i)
  }

  maxRun = (account: string): number => Math.max(0, ...this.venueOrders(account).map((o) => runOfClientOrderId(o.cliOrdId ?? "") ?? 0))

  /** Venue orders of `account` received after `since` under a run above `aboveRun`. */
  newOrders = (account: string, since: number, aboveRun = 0) => this.venueOrders(account).filter((o) => o.receivedTime > since && (runOfClientOrderId(o.cliOrdId ?? "") ?? -1) > aboveRun)

  /** Waits until every account is owned by a live trading node and has placed an order after `since`. */
  async allTrading(since: number, timeoutMs: number): Promise<void> {
    await until(
      "every account to be owned and trading",
      async () => {
        const o = await this.owners()
        const live = new Set([...this.nodes.values()].filter((n) => n.role === "trading" && n.child.exitCode === null && n.child.signalCode === null).map((n) => n.id))
        const ok = this.options.accounts.every((a) => live.has(o.get(a)?.node ?? "") && this.newOrders(a, since).length > 0)
        return ok ? true : undefined
      },
      timeoutMs,
      this.logs
    )
  }

  /**
   * kill -9 of trading node `victim` → the first venue order of each account it owned, from its
   * new owner (a run above the dead node's). Returns ms per moved account.
   */
  async killTrading(victim: string, timeoutMs: number): Promise<Map<string, number>> {
    const before = await this.owners()
    const moved = [...before].filter(([, v]) => v.node === victim).map(([a]) => a)
    const runs = new Map(moved.map((a) => [a, this.maxRun(a)]))
    const killedAt = Date.now()
    await this.kill(victim)
    const out = new Map<string, number>()
    for (const a of moved) {
      const first = await until(
        `${a} to trade again after ${victim} was killed`,
        async () => {
          const o = this.newOrders(a, killedAt, runs.get(a) ?? 0)
          return o.length > 0 ? Math.min(...o.map((x) => x.receivedTime)) : undefined
        },
        timeoutMs,
        this.logs
      )
      out.set(a, first - killedAt)
    }
    return out
  }

  async close(): Promise<void> {
    for (const n of this.nodes.values()) {
      if (n.child.exitCode !== null || n.child.signalCode !== null) continue
      n.child.kill("SIGCONT")
      n.child.kill("SIGKILL")
    }
    await this.pool?.end()
    await this.sim?.stop()
    await this.db?.drop()
  }
}
