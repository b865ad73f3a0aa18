import { execFile } from "node:child_process"
import { randomBytes } from "node:crypto"
import { mkdtempSync } from "node:fs"
import { tmpdir, userInfo } from "node:os"
import { join } from "node:path"
import pg from "pg"
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest"
import { startSimulator, type Simulator } from "../../src/adapters/venues/simulator/server.js"
import type { NodeStatus } from "../../src/daemon/control.js"
import { api, startDaemon, throwawayDatabase, waitReady, writeConfig, type DaemonProcess } from "./daemon-harness.js"
import { TROUPE_BIN } from "../services/build.js"

// Must-show 8: reconciliation does not quietly take the venue's side. A real daemon process
// against the simulator (the test owns it and sets the ground truth through its admin side):
//   1. first start on an account (empty ledger): the venue's position is adopted, by design;
//   2. stopped; meanwhile the venue's position changes by a fill no client order id of ours explains;
//   3. restarted (non-empty ledger): reduce-only with the cause "reconciliation" and the difference
//      in `status`; `troupe reconcile accept` → active, position = the venue's, audited.

const SECRET = Buffer.from("mismatch-secret-mismatch-secret-mismatch").toString("base64")
const SYMBOLS = ["PF_XBTUSD", "PF_ETHUSD", "PF_SOLUSD"]
const XBT = "kraken-futures:PF_XBTUSD"
// The CLI records the OS user as who acted.
const operator = userInfo().username
const account = `mismatch${randomBytes(3).toString("hex")}`
const home = mkdtempSync(join(tmpdir(), "troupe-mismatch-"))
let sim: Simulator
let db: { readonly url: string; readonly drop: () => Promise<void> }
let pool: pg.Pool
let configFile = ""
let daemon: DaemonProcess | undefined

/** The venue trades for our account behind the daemon's back (no client order id: nothing of ours explains it). */
const venueBuys = (size: string) => {
  sim.admin.placeAs({ account: "other", symbol: "PF_XBTUSD", orderType: "lmt", side: "sell", size, limitPrice: "50000" })
  const out = sim.admin.placeAs({ account: "default", symbol: "PF_XBTUSD", orderType: "mkt", side: "buy", size }) as { status: string }
  expect(out.status).toMatch(/placed|filled/i)
}

const venuePosition = (): string => sim.admin.exchange.engine.positions("default").find((p) => p.symbol === "PF_XBTUSD")?.balance.toString() ?? "0"

const step = (what: string): void => void process.stderr.write(`[mismatch test ${new Date().toISOString()}] ${what}\n`)

const stop = async (d: DaemonProcess): Promise<void> => {
  d.child.kill("SIGTERM")
  expect(await d.exit).toBe(0)
}

beforeAll(async () => {
  sim = await startSimulator({
    port: 0,
    instruments: SYMBOLS,
    accounts: [
      { name: "default", apiKey: "mm-key", apiSecret: SECRET },
      { name: "other", apiKey: "other-key", apiSecret: SECRET }
    ],
    market: { kind: "none" }
  })
  db = await throwawayDatabase(inject("databaseUrl"), "troupe_mismatch")
  pool = new pg.Pool({ connectionString: db.url, max: 2, options: "-c search_path=troupe" })
  configFile = writeConfig(home, {
    databaseUrl: db.url,
    venue: { account, baseUrl: `${sim.url}/derivatives`, wsUrl: sim.wsUrl, apiKey: "mm-key", apiSecret: SECRET },
    recovery: { onPositionMismatch: "reduce-only" }
  })
}, 60_000)

afterAll(async () => {
  if (daemon !== undefined && daemon.child.exitCode === null) daemon.child.kill("SIGKILL")
  await pool?.end()
  await sim?.stop()
  await db?.drop()
})

const troupe = (args: ReadonlyArray<string>, port: number): Promise<{ code: number | null; stdout: string; stderr: string }> =>
  new Promise((resolve) => {
    execFile(process.execPath, [TROUPE_BIN, ...args, "--port", String(port)], { env: { PATH: process.env["PATH"] ?? "", TROUPE_HOME: home }, timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error === null ? 0 : (error.code as number | null), stdout, stderr })
    )
  })

describe("a position mismatch after a restart", () => {
  it("holds the account reduce-only with the difference shown until an operator accepts the venue's side, audited", async () => {
    // 1. First start: the venue already holds 0.010 XBT; an empty ledger adopts it.
    venueBuys("0.010")
    daemon = await startDaemon(home, configFile)
    await waitReady(daemon)
    step("first start ready")
    let status = await api<NodeStatus>(daemon, home, "/api/status")
    expect(status.trading[account], daemon.stderr).toBe("active")
    expect(status.causes?.[account]).toEqual([])
    const positions = await api<Array<{ instrument: string; qty: string }>>(daemon, home, "/api/positions")
    expect(positions.find((p) => p.instrument === XBT)?.qty).toBe("0.01")
    await stop(daemon)
    step("first stop")

    // 2. While it is down the venue's position grows by a fill that is not ours to explain.
    venueBuys("0.005")
    expect(venuePosition()).toBe("0.015")

    // 3. Restart: fail closed.
    daemon = await startDaemon(home, configFile)
    await waitReady(daemon)
    step("second start ready")
    status = await api<NodeStatus>(daemon, home, "/api/status")
    expect(status.trading[account], daemon.stderr).toBe("reducing")
    expect(status.causes?.[account]).toEqual([{ cause: "reconciliation", level: "reducing", who: "node:reconcile", why: expect.stringContaining(`${XBT} ours 0.01, venue 0.015`), since: expect.any(Number) }])
    expect(status.positionMismatches?.[account]).toEqual([expect.objectContaining({ instrument: XBT, ours: "0.01", venue: "0.015", difference: "0.005" })])
    const shown = await troupe(["status"], daemon.port)
    expect(shown.code, shown.stderr).toBe(0)
    expect(shown.stdout).toMatch(/reconciliation\s+reducing\s+node:reconcile/)
    expect(shown.stdout).toMatch(new RegExp(`${XBT}\\s+0\\.01\\s+0\\.015\\s+0\\.005`))
    const metrics = await (await fetch(`http://127.0.0.1:${daemon.port}/metrics`)).text()
    expect(metrics).toContain(`troupe_trading_cause_active{account="${account}",cause="reconciliation"} 1`)
    // A plain resume lifts only the operator's cause: there is none, so it is refused and nothing changes.
    const resumed = await troupe(["resume", "--reason", "just go"], daemon.port)
    expect(resumed.code).toBe(1)
    expect((await api<NodeStatus>(daemon, home, "/api/status")).trading[account]).toBe("reducing")

    // 4. The operator accepts the venue's side.
    const accepted = await troupe(["reconcile", "accept", "--reason", "venue fill confirmed by the exchange"], daemon.port)
    expect(accepted.code, accepted.stderr).toBe(0)
    expect(accepted.stdout).toContain(`${account}: active`)
    status = await api<NodeStatus>(daemon, home, "/api/status")
    expect([status.trading[account], status.causes?.[account], status.positionMismatches?.[account]]).toEqual(["active", [], []])
    const after = await api<Array<{ instrument: string; qty: string }>>(daemon, home, "/api/positions")
    expect(after.find((p) => p.instrument === XBT)?.qty).toBe("0.015")
    await stop(daemon)

    // 5. The audit trail: the operator's action (who, why, client, before/after, what it accepted) and the cause raised and lifted.
    const rows = await pool.query<{ event_type: string; kind: string; payload: Record<string, unknown> }>("select event_type, kind, payload from audit_events order by ts, id")
    const action = rows.rows.find((r) => r.event_type === "OperatorAction" && r.payload["action"] === "reconcileAccept")
    expect(action?.kind).toBe("operator_action")
    expect(action?.payload).toMatchObject({ who: operator, why: "venue fill confirmed by the exchange", before: { state: "reducing", causes: "reconciliation:reducing" }, after: { state: "active", causes: "none" } })
    expect(String(action?.payload["client"])).toMatch(/^troupe-cli\/\S+ (::ffff:)?127\.0\.0\.1$/)
    const changes = rows.rows.filter((r) => r.event_type === "TradingStateChanged").map((r) => [r.payload["cause"], r.payload["change"], r.payload["by"]])
    expect(changes).toEqual([
      ["reconciliation", "raised", "node:reconcile"],
      ["reconciliation", "lifted", `operator:${operator}`]
    ])
    // What was accepted is named in the record (positions themselves are projected to `positions`, not to the audit trail).
    expect(action?.payload["target"]).toBe(`${XBT} ours 0.01 venue 0.015`)
  }, 180_000)
})
