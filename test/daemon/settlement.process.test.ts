import { spawn, type ChildProcess } from "node:child_process"
import { randomBytes } from "node:crypto"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Either, Stream } from "effect"
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest"
import { openFileJournal } from "../../src/adapters/journal/file/file-journal.js"
import { dec } from "../../src/domain/decimal.js"
import { decodeEvent } from "../../src/domain/codec.js"
import type { PositionChanged } from "../../src/domain/events/portfolio.js"
import { inverseValue } from "../../src/domain/position.js"
import { freePort } from "../services/free-port.js"
import { api, throwawayDatabase, until, waitReady, writeConfig, type DaemonProcess } from "./daemon-harness.js"

// Issue 16 must-show 2, as a user runs it: `bin/troupe simulator` and `bin/troupe daemon` as two
// processes. A dated inverse future (FI_XBTUSD_261225) is given a last trading time a few seconds
// ahead; the daemon holds a position in it (adopted at its first start), the simulator stops the
// contract and settles it at the window's mark, and the daemon books the settlement once (one
// journaled PositionChanged with the venue's booking id, the position flat, the realized PnL the
// inverse PnL at the settlement price) — and again once after a restart, whose settlement watcher
// reads the same account-log row and finds it already booked.

const FI = "FI_XBTUSD_261225"
const FI_ID = `kraken-futures:${FI}`
const SECRET = Buffer.from("settlement-secret-settlement-secret!").toString("base64")
const KEY = "settle-key"
// The daemon must be up (holding the position) before the expiry, counted from the simulator's
// start: on a loaded 2-core machine the simulator took 10 s to answer and the daemon 15 s more to
// be ready, so the test takes about this long plus a restart (~45 s there; less on an idle one).
const EXPIRY_IN_MS = 30_000
const home = mkdtempSync(join(tmpdir(), "troupe-settle-"))
const account = `settle${randomBytes(3).toString("hex")}`
const bin = join(process.cwd(), "bin", "troupe")
let simChild: ChildProcess | undefined
let simOut = ""
let simUrl = ""
let wsUrl = ""
let expiry = 0
let db: { readonly url: string; readonly drop: () => Promise<void> }
let configFile = ""
let daemon: DaemonProcess | undefined

const startDaemon = async (): Promise<DaemonProcess> => {
  const port = await freePort()
  const child = spawn(process.execPath, [bin, "daemon", "--config", configFile, "--port", String(port)], { env: { PATH: process.env["PATH"] ?? "", TROUPE_HOME: home }, stdio: ["ignore", "pipe", "pipe"] })
  const d: DaemonProcess = { child, port, exit: new Promise((r) => child.once("exit", (code) => r(code))), stderr: "" }
  child.stderr?.on("data", (b: Buffer) => (d.stderr += b.toString()))
  child.stdout?.on("data", (b: Buffer) => (d.stderr += b.toString()))
  return d
}

const admin = async (path: string, body?: unknown): Promise<Record<string, unknown>> => {
  const r = await fetch(`${simUrl}/__admin/${path}`, body === undefined ? {} : { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } })
  return (await r.json()) as Record<string, unknown>
}

interface PositionView {
  readonly instrument: string
  readonly qty: string
  readonly realizedPnl: string
  readonly fees: string
}
const fiPosition = async (d: DaemonProcess): Promise<PositionView | undefined> => (await api<PositionView[]>(d, home, "/api/positions")).find((p) => p.instrument === FI_ID)

const settlementsInJournal = async (): Promise<PositionChanged[]> => {
  const journal = await Effect.runPromise(openFileJournal({ dir: join(home, "journal"), fsync: { kind: "never" } }))
  const out: PositionChanged[] = []
  try {
    const end = (await Effect.runPromise(journal.endOffsets())).find((o) => o.topic === "orders")
    if (end !== undefined)
      await Effect.runPromise(
        Stream.runForEach(journal.read({ topic: "orders", partition: end.partition, offset: "0" }), (r) =>
          Effect.sync(() => {
            const e = decodeEvent(r.payload)
            if (Either.isRight(e) && e.right._tag === "PositionChanged" && e.right.settlementId !== undefined) out.push(e.right)
          })
        )
      )
  } finally {
    await Effect.runPromise(journal.close())
  }
  return out
}

const stop = async (d: DaemonProcess): Promise<void> => {
  d.child.kill("SIGTERM")
  expect(await d.exit, d.stderr.slice(-3000)).toBe(0)
}

const booked = (log: string): number => (log.match(new RegExp(`settlement of ${FI} booked at`, "g")) ?? []).length

beforeAll(async () => {
  // Everything the daemon needs first, so that it starts as soon as the simulator answers.
  db = await throwawayDatabase(inject("databaseUrl") || (process.env["DATABASE_URL"] ?? ""), "troupe_settle")
  const port = await freePort()
  simUrl = `http://127.0.0.1:${port}`
  wsUrl = `ws://127.0.0.1:${port}/ws/v1`
  configFile = writeConfig(home, {
    databaseUrl: db.url,
    venue: { account, baseUrl: `${simUrl}/derivatives`, wsUrl, apiKey: KEY, apiSecret: SECRET },
    // A stopped strategy on the future: the daemon loads the instrument (and watches its expiry), nothing trades it.
    strategies: [
      { id: "dated", kind: "momentum-breakout", instruments: [FI_ID], enabled: false, params: { instrument: FI_ID, lookback: 20, orderQty: "1", maxPosition: "3", cooldownMs: 2000 } }
    ]
  })
  const simStarted = Date.now()
  simChild = spawn(
    process.execPath,
    [bin, "simulator", "--port", String(port), "--api-key", KEY, "--api-secret", SECRET, "--instruments", `PF_XBTUSD,${FI}`,
      "--last-trading-time", `${FI}=+${EXPIRY_IN_MS}ms`, "--settlement-window-ms", "1000", "--rate", "50"],
    { stdio: ["ignore", "pipe", "pipe"] }
  )
  simChild.stdout?.on("data", (b: Buffer) => (simOut += b.toString()))
  simChild.stderr?.on("data", (b: Buffer) => (simOut += b.toString()))
  await until("the simulator", async () => (simOut.includes("api secret") ? true : undefined), 20_000, () => simOut)
  expect(simOut).toContain(`api base: ${simUrl}/derivatives/api/`)
  expiry = simStarted + EXPIRY_IN_MS // the simulator's is a little later (it reads the clock after starting)
}, 60_000)

afterAll(async () => {
  if (daemon !== undefined && daemon.child.exitCode === null) daemon.child.kill("SIGKILL")
  if (simChild !== undefined && simChild.exitCode === null) simChild.kill("SIGTERM")
  await db?.drop()
})

describe("settlement of a dated future, daemon and simulator processes", () => {
  it("is booked once at expiry, and still once after a restart", async () => {
    // The account buys 20 contracts (20 USD) of the future at the venue before the daemon's first start.
    const bought = (await admin("orders", { account: "default", symbol: FI, orderType: "mkt", side: "buy", size: "20" })) as { order: { filled: number } }
    expect(bought.order.filled).toBe(20)
    const venueFills = ((await admin("accounts/default")) as { fills: Array<{ symbol: string; price: number; qty: number }> }).fills.filter((f) => f.symbol === FI)

    const t0 = Date.now()
    daemon = await startDaemon()
    await waitReady(daemon, 30_000)
    process.stderr.write(`[settlement test] daemon ready in ${Date.now() - t0} ms, ${expiry - Date.now()} ms before the expiry\n`)
    expect(Date.now(), "the daemon came up after the expiry: raise EXPIRY_IN_MS").toBeLessThan(expiry)
    // First start on the account: the venue's position is adopted.
    expect((await fiPosition(daemon))?.qty).toBe("20")

    // Expiry: the simulator settles the position; the daemon's watcher reads the account log and books it.
    const flat = await until("the settlement booked", async () => {
      const p = await fiPosition(daemon!)
      return p?.qty === "0" && booked(daemon!.stderr) === 1 ? p : undefined
    }, Math.max(0, expiry - Date.now()) + 20_000, () => daemon!.stderr)
    const price = dec(new RegExp(`settlement of ${FI} booked at (\\S+)`).exec(daemon.stderr)?.[1] ?? "0")
    expect(price.greaterThan(0)).toBe(true)
    // The venue's position is gone too, and the contract no longer trades.
    const venue = (await admin("accounts/default")) as { positions: Array<{ symbol: string; balance: number }> }
    expect(venue.positions.filter((p) => p.symbol === FI && p.balance !== 0)).toEqual([])
    const late = (await admin("orders", { account: "default", symbol: FI, orderType: "lmt", side: "sell", size: "1", limitPrice: "60000" })) as { status: string }
    expect(late.status).not.toBe("placed")

    // Realized (XBT, gross of fees) = value at entry − value at the settlement price. The position was
    // adopted at the venue's average entry, so the entry value is the adopted one: 20 / avg entry.
    const entryValue = venueFills.reduce((s, f) => s.plus(inverseValue(dec(String(f.qty)), dec(1), dec(String(f.price)))), dec(0))
    const avgEntry = dec(20).dividedBy(entryValue)
    const gross = dec(flat.realizedPnl).plus(flat.fees)
    const expected = inverseValue(dec(20), dec(1), avgEntry).minus(inverseValue(dec(20), dec(1), price))
    expect(gross.minus(expected).abs().lessThanOrEqualTo("1e-15"), `gross ${gross.toFixed()} vs ${expected.toFixed()}`).toBe(true)
    expect(gross.isZero()).toBe(false)
    await stop(daemon)
    const first = await settlementsInJournal()
    expect(first.map((e) => [e.instrument, e.qty.toFixed(), e.settlementPrice?.toFixed()])).toEqual([[FI_ID, "0", price.toFixed()]])

    // Restart after the expiry: the watcher looks at once, finds the same row, books nothing.
    const firstLog = daemon.stderr
    daemon = await startDaemon()
    await waitReady(daemon, 30_000)
    const status = await api<{ trading: Record<string, string> }>(daemon, home, "/api/status")
    expect(status.trading[account], daemon.stderr).toBe("active") // no position mismatch: flat on both sides
    // The look is at start + 1 s (graceMs); give it time to read the account log twice over.
    await new Promise((r) => setTimeout(r, 2_500))
    const again = await fiPosition(daemon)
    expect([again?.qty, again?.realizedPnl]).toEqual(["0", flat.realizedPnl])
    expect(booked(daemon.stderr), daemon.stderr.slice(-2000)).toBe(0)
    await stop(daemon)
    expect(booked(firstLog)).toBe(1)
    const after = await settlementsInJournal()
    expect(after.map((e) => e.settlementId)).toEqual(first.map((e) => e.settlementId))
  }, 120_000)
})
