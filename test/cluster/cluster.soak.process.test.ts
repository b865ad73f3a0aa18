import { Decimal } from "decimal.js"
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest"
import { until } from "../daemon/daemon-harness.js"
import { startKafkaCluster, type KafkaClusterService } from "../services/kafka-broker.js"
import { ClusterRig } from "./cluster-harness.js"

// Issue #18, must-shows 1 and 3 (docs/cluster.md, "The cluster soak"), behind TROUPE_SOAK=1
// (`npm run soak:cluster`): a 3-broker KRaft Kafka (replication 3, min.insync.replicas 2),
// Postgres, the simulator with 200 instruments, 2 md nodes (100 instruments each) and 3 trading
// nodes, 6 accounts each trading the default market makers. Ten times a random node (md or
// trading) is killed with SIGKILL and restarted; between the 4th and the 7th kill a Kafka broker
// is down too (killed with SIGKILL, then started again). After every kill every account trades
// again. At the end: no client order id twice at the venue, each account's positions equal the
// venue's, every venue fill exactly once in the audit trail (which is projected from the journal,
// one row per journal position: a fill journaled twice would show twice).

const SOAK = process.env["TROUPE_SOAK"] === "1"
const ACCOUNTS = ["acct-1", "acct-2", "acct-3", "acct-4", "acct-5", "acct-6"]
const DEFAULT = ["PF_XBTUSD", "PF_ETHUSD", "PF_SOLUSD"]
const INSTRUMENTS = [...DEFAULT, ...Array.from({ length: 197 }, (_, i) => `PF_T${String(i).padStart(3, "0")}USD`)]
const MD = { "md-1": [...INSTRUMENTS.slice(0, 2), ...INSTRUMENTS.slice(3, 101)], "md-2": [INSTRUMENTS[2] as string, ...INSTRUMENTS.slice(101)] }
const TRADING = ["t-1", "t-2", "t-3"]
// Which role each kill hits (the node within the role is drawn at random): both roles, trading more often.
const KILLS: ReadonlyArray<"md" | "trading"> = ["trading", "md", "trading", "trading", "md", "trading", "trading", "md", "trading", "trading"]
const BROKER_DOWN_AT = 3
const BROKER_UP_AT = 6

let kafka: KafkaClusterService
let rig: ClusterRig
const say = (m: string): void => void process.stderr.write(`[cluster soak] ${m}\n`)

describe.skipIf(!SOAK)("cluster soak: 3 brokers, 2 md + 3 trading nodes, 6 accounts, 200 instruments, 10 kills and a broker outage", () => {
  beforeAll(async () => {
    kafka = await startKafkaCluster(3)
    rig = new ClusterRig({ brokers: kafka.brokers.join(","), databaseUrl: inject("databaseUrl"), accounts: ACCOUNTS, instruments: INSTRUMENTS, md: MD, sessionTimeoutMs: 2_000, rate: 300 })
    await rig.open()
  }, 300_000)

  afterAll(async () => {
    await rig?.close()
    await kafka?.stop()
  })

  it("every account trades again after every kill; no duplicate client order id; positions equal the venue's; every venue fill once in the audit trail", async () => {
    for (const id of Object.keys(MD)) rig.start("md", id)
    for (const id of TRADING) rig.start("trading", id)
    const t0 = Date.now()
    await rig.allTrading(t0, 600_000)
    say(`all 6 accounts trading ${Date.now() - t0} ms after the start`)
    const failovers: number[] = []
    let downBroker: number | undefined
    for (let k = 0; k < KILLS.length; k++) {
      if (k === BROKER_DOWN_AT) {
        downBroker = Math.floor(Math.random() * kafka.size)
        await kafka.kill(downBroker)
        say(`kafka broker ${downBroker + 1} killed (SIGKILL)`)
      }
      if (k === BROKER_UP_AT && downBroker !== undefined) {
        await kafka.start(downBroker)
        say(`kafka broker ${downBroker + 1} started again`)
        downBroker = undefined
      }
      const role = KILLS[k] as "md" | "trading"
      const pool = role === "md" ? Object.keys(MD) : TRADING
      const victim = pool[Math.floor(Math.random() * pool.length)] as string
      if (role === "trading") {
        const moved = await rig.killTrading(victim, 180_000)
        failovers.push(...moved.values())
        say(`kill ${k + 1}: ${victim} (trading) — first order of each moved account from its new owner: ${[...moved].map(([a, ms]) => `${a} ${ms} ms`).join(", ") || "(it owned none)"}`)
      } else {
        await rig.kill(victim)
        say(`kill ${k + 1}: ${victim} (md)`)
        await new Promise((r) => setTimeout(r, 2_000))
      }
      rig.start(role, victim)
      const restarted = Date.now()
      await rig.allTrading(restarted, 300_000)
      say(`kill ${k + 1}: ${victim} restarted; every account trading again ${Date.now() - restarted} ms after the restart`)
    }
    if (downBroker !== undefined) await kafka.start(downBroker)
    const sorted = [...failovers].sort((a, b) => a - b)
    say(`failover over ${sorted.length} moved accounts: p50 ${sorted[Math.floor(sorted.length / 2)]} ms, max ${sorted[sorted.length - 1]} ms`)

    // Quiet: no takers, so no more fills; then the trail and the projections catch up.
    rig.sim.admin.pauseMarket()
    await new Promise((r) => setTimeout(r, 5_000))
    const engine = rig.sim.admin.exchange.engine
    for (const a of ACCOUNTS) expect(rig.duplicates(a), `${a}: client order ids at the venue more than once`).toEqual([])
    const venueFills = new Set(ACCOUNTS.flatMap((a) => engine.fills(a).map((f) => f.fillId)))
    expect(venueFills.size).toBeGreaterThan(0)
    const perFill = await until(
      "every venue fill in the audit trail",
      async () => {
        const r = await rig.pool.query<{ fill_id: string }>("select payload->>'fillId' as fill_id from audit_events where event_type = 'OrderFilled'")
        const have = new Map<string, number>()
        for (const row of r.rows) have.set(row.fill_id, (have.get(row.fill_id) ?? 0) + 1)
        return [...venueFills].every((f) => have.has(f)) ? have : undefined
      },
      120_000,
      rig.logs
    )
    expect([...perFill].filter(([, n]) => n > 1), "fills in the audit trail more than once").toEqual([])
    expect([...perFill.keys()].filter((f) => !venueFills.has(f)), "fills in the audit trail the venue never made").toEqual([])
    const positions = async () => {
      const r = await rig.pool.query<{ account: string; instrument: string; quantity: string }>("select account, instrument, quantity from positions")
      const ours = new Map<string, Decimal>(r.rows.map((p) => [`${p.account}/${p.instrument.slice(p.instrument.indexOf(":") + 1)}`, new Decimal(p.quantity)]))
      const venue = new Map<string, Decimal>(ACCOUNTS.flatMap((a) => engine.positions(a).map((p) => [`${a}/${p.symbol}`, p.balance] as const)))
      const keys = new Set([...ours.keys(), ...venue.keys()])
      return [...keys].filter((k) => !(ours.get(k) ?? new Decimal(0)).eq(venue.get(k) ?? new Decimal(0))).map((k) => `${k}: ours ${ours.get(k)?.toString() ?? "0"}, venue ${venue.get(k)?.toString() ?? "0"}`)
    }
    const diff = await until("positions to equal the venue's", async () => ((await positions()).length === 0 ? [] : undefined), 120_000, () => "").catch(async () => positions())
    expect(diff, "positions that differ from the venue's").toEqual([])
    say(`${venueFills.size} venue fills, each once in the audit trail; positions equal the venue's on ${ACCOUNTS.length} accounts`)
  }, 3_600_000)
})
