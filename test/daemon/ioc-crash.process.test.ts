import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { randomBytes } from "node:crypto"
import { Effect, Either, Stream } from "effect"
import pg from "pg"
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest"
import { openFileJournal } from "../../src/adapters/journal/file/file-journal.js"
import { startSimulator, type Simulator } from "../../src/adapters/venues/simulator/server.js"
import { decodeEvent } from "../../src/domain/codec.js"
import { api, startDaemon, throwawayDatabase, until, waitReady, writeConfig, type DaemonProcess } from "./daemon-harness.js"

// Must-show 9 of issue 14 (crash regression). The daemon trades the simulator (a market maker
// spending the venue's rate budget) and is killed with SIGKILL while an IOC order is partly
// filled — executed at the venue, its fill not yet delivered to the daemon (the simulator's
// fillDelayMs widens that moment so the kill lands in it) — and while the budget is nearly
// spent. After the restart: the IOC is closed with its fill, the venue never answered
// `apiLimitExceeded`, every venue fill is in the journal and the audit trail exactly once, no
// audit event id repeats, no phantom orders, and the `orders` table equals the venue's orders.

const SECRET = Buffer.from("ioc-crash-secret-ioc-crash-secret").toString("base64")
const account = `ioccrash${randomBytes(3).toString("hex")}`
const home = mkdtempSync(join(tmpdir(), "troupe-ioc-crash-"))
const LIMIT = 500
let sim: Simulator
let db: { readonly url: string; readonly drop: () => Promise<void> }
let pool: pg.Pool
let configFile = ""
let daemon: DaemonProcess | undefined

const venue = () => sim.admin.account("default") as { apiLimitExceeded: number; rateLimitUsed: number }
const engine = () => sim.admin.exchange.engine

// One IOC buy of twice the best ask's size at that price: a partly filled IOC.
const IOC_STRATEGY = resolve("test/daemon/fixtures/ioc-once.strategy.ts")

beforeAll(async () => {
  sim = await startSimulator({
    port: 0,
    instruments: ["PF_XBTUSD", "PF_ETHUSD"],
    accounts: [{ name: "default", apiKey: "ioc-key", apiSecret: SECRET }],
    market: { kind: "synthetic", rate: 100, takerShare: 0.3 },
    rateLimit: { limit: LIMIT, windowMs: 10_000 },
    seed: 11
  })
  db = await throwawayDatabase(inject("databaseUrl"), "troupe_ioc_crash")
  pool = new pg.Pool({ connectionString: db.url, max: 2, options: "-c search_path=troupe" })
  configFile = writeConfig(home, {
    databaseUrl: db.url,
    venue: { account, baseUrl: `${sim.url}/derivatives`, wsUrl: sim.wsUrl, apiKey: "ioc-key", apiSecret: SECRET },
    // A market maker that requotes on every tick: it spends the rate budget.
    strategies: [
      {
        id: "mm-xbt",
        kind: "avellaneda-stoikov",
        instruments: ["kraken-futures:PF_XBTUSD"],
        params: { instrument: "kraken-futures:PF_XBTUSD", gamma: 0.1, k: 1.5, horizonMs: 60000, sigmaWindow: 20, orderQty: "0.001", maxInventory: "0.005", requoteTicks: 1 }
      },
      // Not started: it only makes the daemon load PF_ETHUSD, where the IOC is added at run time.
      { id: "ioc-eth", kind: IOC_STRATEGY, instruments: ["kraken-futures:PF_ETHUSD"], enabled: false, params: { instrument: "kraken-futures:PF_ETHUSD", maxQty: "40" } }
    ],
    recovery: { snapshotEveryEvents: 100, snapshotEverySeconds: 1 }
  })
}, 60_000)

afterAll(async () => {
  if (daemon !== undefined && daemon.child.exitCode === null) daemon.child.kill("SIGKILL")
  await pool?.end()
  await sim?.stop()
  await db?.drop()
})

interface OrderRow {
  readonly clientOrderId: string
  readonly type: string
  readonly state: string
  readonly open: boolean
  readonly filledQty: string
}

describe("crash regression: SIGKILL with an IOC partly filled and the budget nearly spent", () => {
  it("after the restart the venue never refused a call, every fill is journaled and audited once, no audit id repeats and no phantom order shows", async () => {
    daemon = await startDaemon(home, configFile)
    await waitReady(daemon)

    // 1. The budget nearly spent (the venue's own accounting).
    await until("the venue budget to be mostly spent", async () => (venue().rateLimitUsed >= LIMIT * 0.6 ? true : undefined), 60_000, () => daemon?.stderr ?? "")

    // 2. An IOC partly filled at the venue, its fill held back, and the kill.
    sim.admin.setFaults({ fillDelayMs: 4_000 })
    await api(daemon, home, "/api/strategies", { method: "POST", body: JSON.stringify({ file: IOC_STRATEGY, id: "ioc-once", params: { instrument: "kraken-futures:PF_ETHUSD", maxQty: "40" } }) })
    const ioc = await until(
      "the IOC to execute at the venue",
      async () => engine().allOrders("default").find((o) => o.cliOrdId?.startsWith("ioc-once-") === true && o.filled.greaterThan(0)),
      30_000,
      () => (daemon?.stderr ?? "").split("\n").filter((l) => /ioc-once|denied|RATE/i.test(l)).join("\n")
    )
    const budgetAtKill = venue().rateLimitUsed
    daemon.child.kill("SIGKILL")
    await daemon.exit
    process.stderr.write(`[ioc-crash] killed with the IOC ${ioc.cliOrdId} ${ioc.filled.toString()}/${ioc.size.toString()} filled at the venue, budget ${budgetAtKill}/${LIMIT}\n`)
    expect(ioc.filled.lessThan(ioc.size)).toBe(true)
    expect(ioc.state).toBe("cancelled")
    sim.admin.setFaults({ fillDelayMs: 0 })

    // 3. Restart while the venue's window still counts the previous run's calls, and trade on for a window.
    daemon = await startDaemon(home, configFile)
    await waitReady(daemon)
    await new Promise((r) => setTimeout(r, 11_000))
    const d = daemon
    const stderr = () => d.stderr

    const failures: string[] = []
    const check = (what: string, f: () => void): void => {
      try {
        f()
      } catch (e) {
        failures.push(`${what}: ${e instanceof Error ? e.message.split("\n")[0] : String(e)}`)
      }
    }
    // The IOC is closed, with its fill.
    const iocNow = async () => (await api<OrderRow[]>(d, home, "/api/orders")).find((x) => x.clientOrderId === ioc.cliOrdId)
    await until("the IOC closed", async () => ((await iocNow())?.open === false ? true : undefined), 20_000, stderr).catch(() => undefined)
    const ours = await iocNow()
    check(`the IOC after the restart (${JSON.stringify(ours)})`, () =>
      expect(ours === undefined ? "not known to the daemon" : { state: ours.state, filledQty: ours.filledQty, open: ours.open }).toEqual({ state: "canceled", filledQty: ioc.filled.toString(), open: false })
    )

    sim.admin.pauseMarket()
    await new Promise((r) => setTimeout(r, 1_500))

    // Zero apiLimitExceeded, by the simulator's count.
    check("apiLimitExceeded at the venue", () => expect(venue().apiLimitExceeded).toBe(0))

    // Every venue fill exactly once in the audit trail.
    const venueFills = engine().fills("default").map((f) => f.fillId)
    const audited = await pool.query<{ fill_id: string; n: string }>(
      "select payload->>'fillId' as fill_id, count(*) as n from audit_events where account = $1 and event_type = 'OrderFilled' group by 1",
      [account]
    )
    const auditCount = new Map(audited.rows.map((r) => [r.fill_id, Number(r.n)]))
    check("venue fills missing from the audit trail", () => expect(venueFills.filter((f) => !auditCount.has(f))).toEqual([]))
    const auditedTwice = [...auditCount].filter(([, n]) => n > 1)
    check(`fills audited more than once (${auditedTwice.length} of ${auditCount.size}, e.g. ${JSON.stringify(auditedTwice.slice(0, 2))})`, () => expect(auditedTwice).toEqual([]))

    // No audit event id repeated.
    const repeated = await pool.query<{ event_id: string; n: string }>("select event_id, count(*) as n from audit_events group by event_id having count(*) > 1 limit 20")
    check(`audit event ids repeated (e.g. ${JSON.stringify(repeated.rows.slice(0, 2))})`, () => expect(repeated.rows).toEqual([]))

    // No phantom orders: every open order is a real order of ours, open at the venue.
    const open = await api<OrderRow[]>(d, home, "/api/orders?open=1")
    const venueOpen = new Set(engine().openOrders("default").map((o) => o.cliOrdId))
    const phantoms = open.filter((o) => o.state === "initialized" || o.type === "?" || !venueOpen.has(o.clientOrderId))
    check(`phantom open orders (${phantoms.length}, e.g. ${JSON.stringify(phantoms.slice(0, 2))})`, () => expect(phantoms).toEqual([]))

    // The `orders` table equals the venue's orders (client order id, filled quantity, open or not).
    const venueOrders = engine()
      .allOrders("default")
      .filter((o) => o.cliOrdId !== undefined)
      .map((o) => ({ clientOrderId: o.cliOrdId as string, filled: o.filled.toString(), open: o.state === "open" || o.state === "untriggered" }))
      .sort((a, b) => a.clientOrderId.localeCompare(b.clientOrderId))
    const table = await pool
      .query<{ client_order_id: string; filled_quantity: string; is_open: boolean }>("select client_order_id, filled_quantity::text, is_open from orders where account = $1", [account])
      .then((r) => r.rows.map((x) => ({ clientOrderId: x.client_order_id, filled: String(Number(x.filled_quantity)), open: x.is_open })).sort((a, b) => a.clientOrderId.localeCompare(b.clientOrderId)))
      .catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))))
    const expected = venueOrders.map((o) => ({ ...o, filled: String(Number(o.filled)) }))
    const differing = table instanceof Error ? [] : expected.filter((v) => JSON.stringify(table.find((t) => t.clientOrderId === v.clientOrderId)) !== JSON.stringify(v)).map((v) => ({ venue: v, ours: table.find((t) => t.clientOrderId === v.clientOrderId) ?? null }))
    check(`orders table equal to the venue's orders (${table instanceof Error ? table.message : `${table.length} rows`} for ${venueOrders.length} venue orders; differing: ${JSON.stringify(differing.slice(0, 3))})`, () => expect(table instanceof Error ? `orders table: ${table.message}` : table).toEqual(expected))

    // A graceful stop, then the journal itself: every venue fill exactly once.
    d.child.kill("SIGTERM")
    expect(await d.exit).toBe(0)
    const journal = await Effect.runPromise(openFileJournal({ dir: join(home, "journal"), fsync: { kind: "never" } }))
    const journaled = new Map<string, number>()
    try {
      const end = (await Effect.runPromise(journal.endOffsets())).find((o) => o.topic === "orders")
      if (end !== undefined) {
        await Effect.runPromise(
          Stream.runForEach(journal.read({ topic: "orders", partition: end.partition, offset: "0" }), (r) =>
            Effect.sync(() => {
              const e = decodeEvent(r.payload)
              if (Either.isRight(e) && e.right._tag === "OrderFilled") journaled.set(e.right.fillId, (journaled.get(e.right.fillId) ?? 0) + 1)
            })
          )
        )
      }
    } finally {
      await Effect.runPromise(journal.close())
    }
    check("venue fills missing from the journal", () => expect(venueFills.filter((f) => !journaled.has(f))).toEqual([]))
    const journaledTwice = [...journaled].filter(([, n]) => n > 1)
    check(`fills journaled more than once (${journaledTwice.length} of ${journaled.size}, e.g. ${JSON.stringify(journaledTwice.slice(0, 2))})`, () => expect(journaledTwice).toEqual([]))

    process.stderr.write(`[ioc-crash] ${venueFills.length} venue fills, ${engine().allOrders("default").length} venue orders; failures:\n${failures.join("\n")}\n`)
    expect(failures).toEqual([])
  }, 180_000)
})
