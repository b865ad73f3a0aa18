import { spawn, type ChildProcess } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { freePort } from "../services/free-port.js"
import { dashboardMetrics, promtoolCheck } from "./monitoring.js"
import { readmeCommands, stripComment } from "./readme-commands.js"

// Every command of README.md, run as written by `sh -c` in a fresh folder that looks like a
// checkout (bin/, examples/, package.json, dist/ or src/, node_modules linked to this one), against
// `npm start` on embedded defaults. The environment only moves the control port off 7400 (other
// daemons share this machine) and clears DATABASE_URL/KAFKA_BROKERS so the embedded stores are used.
//
// Not run: `npm ci` (it would replace the installed node_modules the test itself runs from) and
// `npm test` (this test is part of it).

const repo = resolve(".")
const readme = readFileSync(join(repo, "README.md"), "utf8")
const NOT_RUN = new Set(["npm ci", "npm test"])

interface Expect {
  readonly code: number
  /** Each must match stdout + stderr. */
  readonly output: ReadonlyArray<RegExp>
}

// What each README command must do. A README command missing here fails the test, and so does an
// entry here that the README no longer has: the two stay in step.
const DAEMON_COMMANDS: ReadonlyArray<readonly [string, Expect]> = [
  ["./bin/troupe status", { code: 0, output: [/^node\s+running$/m, /^trading default\s+active$/m] }],
  ["./bin/troupe actors", { code: 0, output: [/^root\s+supervisor/m, /instrument:kraken-futures:PF_XBTUSD/] }],
  ["./bin/troupe orders --open", { code: 0, output: [/CLIENT ORDER ID|no open orders/] }],
  ["./bin/troupe positions", { code: 0, output: [/^ACCOUNT\s+INSTRUMENT\s+QTY/m, /kraken-futures:PF_XBTUSD/] }],
  ["./bin/troupe strategy list", { code: 0, output: [/^mm-xbt\s+avellaneda-stoikov\s+running\s+kraken-futures:PF_XBTUSD/m, /^mm-eth\s+avellaneda-stoikov\s+running\s+kraken-futures:PF_ETHUSD/m] }],
  ["./bin/troupe report --html report.html", { code: 0, output: [/through the running daemon/, /report\.html/] }],
  ['./bin/troupe halt --reason "end of session" --cancel-all', { code: 0, output: [/^default: halted$/m, /^cancel sent for \d+ open orders?$/m] }],
  ['./bin/troupe resume --reason "new session"', { code: 0, output: [/^default: active$/m] }],
  ['./bin/troupe cancel-all --reason "requote from scratch"', { code: 0, output: [/^cancel sent for \d+ open orders?$/m] }],
  ['./bin/troupe resume --cause dailyLoss --reason "limit reviewed"', { code: 1, output: [/no dailyLoss cause to lift/] }],
  ['./bin/troupe reconcile accept --reason "the venue is right"', { code: 1, output: [/no position mismatch to accept/] }]
]
const OFFLINE_COMMANDS: ReadonlyArray<readonly [string, Expect]> = [
  ["./bin/troupe machines export order", { code: 0, output: [/^stateDiagram-v2$/m] }],
  [
    `./bin/troupe replay --from examples/feed.jsonl --strategy momentum-breakout --params '{"instrument":"kraken-futures:PF_XBTUSD","lookback":20,"orderQty":"0.001","maxPosition":"0.003","cooldownMs":2000}' --out run1`,
    { code: 0, output: [/replayed \d+ market events from examples\/feed\.jsonl/, /\d+ orders, [1-9]\d* fills/, /troupe report --home /] }
  ],
  ["./bin/troupe report --home run1", { code: 0, output: [/momentum-breakout/] }]
]
const SIMULATOR = "./bin/troupe simulator"

// A folder that looks like a fresh checkout, so the commands' relative paths and outputs stay out of the repository.
const work = mkdtempSync(join(tmpdir(), "troupe-readme-"))
for (const entry of ["bin", "examples", "package.json", "node_modules", "src", "dist"]) if (existsSync(join(repo, entry))) symlinkSync(join(repo, entry), join(work, entry))

const port = await freePort()
const env = (): NodeJS.ProcessEnv => ({ PATH: process.env["PATH"] ?? "", HOME: work, TROUPE_PORT: String(port), USER: "readme-test" })

interface Run {
  readonly code: number | null
  readonly output: string
}

const sh = (command: string, timeoutMs = 180_000): Promise<Run> =>
  new Promise((done) => {
    const child = spawn("sh", ["-c", command], { cwd: work, env: env(), stdio: ["ignore", "pipe", "pipe"] })
    let output = ""
    child.stdout.on("data", (b: Buffer) => (output += b.toString()))
    child.stderr.on("data", (b: Buffer) => (output += b.toString()))
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs)
    child.once("exit", (code) => {
      clearTimeout(timer)
      done({ code, output })
    })
  })

const check = async (command: string, want: Expect): Promise<void> => {
  const r = await sh(command)
  expect(r.code, `${command}\n${r.output}`).toBe(want.code)
  for (const re of want.output) expect(r.output, command).toMatch(re)
}

let daemon: ChildProcess | undefined
let metricsText = ""
let daemonOutput = ""
afterAll(() => {
  try {
    if (daemon?.pid !== undefined) process.kill(-daemon.pid, "SIGKILL")
  } catch {
    // already gone
  }
  rmSync(work, { recursive: true, force: true })
})

describe("README.md as written", () => {
  const commands = readmeCommands(readme).map((c) => c.command)

  it("has a check for every command it shows, and shows every command checked", () => {
    expect(commands.length).toBeGreaterThan(10)
    const checked = new Set([...NOT_RUN, "npm start", SIMULATOR, ...DAEMON_COMMANDS.map(([c]) => c), ...OFFLINE_COMMANDS.map(([c]) => c)])
    expect(commands.filter((c) => !checked.has(c))).toEqual([])
    expect([...checked].filter((c) => !commands.includes(c))).toEqual([])
    expect(stripComment(`a '# not' "# not" # comment`)).toBe(`a '# not' "# not"`)
  })

  // The two run side by side (they share nothing: the offline commands never read TROUPE_PORT's daemon).
  it.concurrent("runs `npm start`, every command against it, checks /metrics, and Ctrl-C drains and exits 0", async () => {
    // Its own process group, so that Ctrl-C reaches npm and the daemon together, as in a terminal.
    daemon = spawn("npm", ["start"], { cwd: work, env: env(), stdio: ["ignore", "pipe", "pipe"], detached: true })
    daemon.stdout?.on("data", (b: Buffer) => (daemonOutput += b.toString()))
    daemon.stderr?.on("data", (b: Buffer) => (daemonOutput += b.toString()))
    const exited = new Promise<void>((r) => daemon?.once("exit", () => r()))
    const deadline = Date.now() + 120_000
    while (!/troupe: running/.test(daemonOutput)) {
      if (Date.now() > deadline || daemon.exitCode !== null) throw new Error(`npm start did not reach running:\n${daemonOutput.slice(-3000)}`)
      await new Promise((r) => setTimeout(r, 200))
    }
    expect(daemonOutput).toMatch(/Inspector: http:\/\/127\.0\.0\.1:\d+\/#token=/)
    // Orders before the kill switch, so that halt --cancel-all has something to cancel.
    while (!/CLIENT ORDER ID/.test((await sh("./bin/troupe orders --open")).output)) {
      if (Date.now() > deadline) throw new Error("no open orders")
      await new Promise((r) => setTimeout(r, 300))
    }
    for (const [command, want] of DAEMON_COMMANDS) await check(command, want)
    expect(existsSync(join(work, "report.html"))).toBe(true)
    expect(readFileSync(join(work, "report.html"), "utf8")).toMatch(/<html/i)

    // The monitoring checks below read this daemon's /metrics, once it has fills to count.
    const fillsBy = Date.now() + 90_000
    for (;;) {
      metricsText = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
      if (/^troupe_fills_total\{/m.test(metricsText)) break
      if (Date.now() > fillsBy) throw new Error(`no fills counted in /metrics after 90 s:\n${metricsText.slice(0, 2000)}`)
      await new Promise((r) => setTimeout(r, 500))
    }

    // /metrics: promtool accepts it, and every metric the Grafana dashboard uses is served.
    expect(metricsText).toMatch(/^troupe_build_info\{/m)
    const present = new Set([...metricsText.matchAll(/^([a-zA-Z_:][a-zA-Z0-9_:]*)/gm)].map((m) => m[1] as string))
    const used = dashboardMetrics(readFileSync(join(repo, "docs/deploy/grafana-dashboard.json"), "utf8"))
    expect(used.length).toBeGreaterThan(15)
    expect(used.filter((m) => !present.has(m))).toEqual([])
    for (const name of ["troupe_fills_total", "troupe_traded_notional_total", "troupe_realized_pnl", "troupe_unrealized_pnl", "troupe_position_contracts", "troupe_strategy_position_contracts", "process_resident_memory_bytes", "nodejs_heap_size_used_bytes", "nodejs_eventloop_lag_seconds", "nodejs_gc_duration_seconds_count", "troupe_recovery_seconds"]) {
      expect(present.has(name), name).toBe(true)
    }
    const promtool = await promtoolCheck(metricsText)
    if (promtool === undefined) {
      console.warn("promtool is not installed (Debian: apt-get install prometheus): `promtool check metrics` skipped")
    } else expect(promtool).toEqual({ code: 0, output: "" })

    process.kill(-(daemon.pid as number), "SIGINT")
    await exited
    // npm re-raises the SIGINT on itself once its script is done, as in a terminal; the daemon
    // drains and its last words are that it stopped (a fatal exit or a second signal would say otherwise).
    expect(daemonOutput).toMatch(/drain: (\d+) of \1 open orders? canceled\n/)
    expect(daemonOutput.trimEnd()).toMatch(/troupe: stopped \(journal \d+ events, audit \d+ rows\)$/)
    expect(daemonOutput).not.toMatch(/fatal|second signal/)
  }, 400_000)

  it.concurrent("runs the commands that need no daemon", async () => {
    for (const [command, want] of OFFLINE_COMMANDS) await check(command, want)
    // The simulator runs until stopped: it must come up and say where.
    const sim = spawn("sh", ["-c", SIMULATOR], { cwd: work, env: env(), stdio: ["ignore", "pipe", "pipe"], detached: true })
    let out = ""
    sim.stdout.on("data", (b: Buffer) => (out += b.toString()))
    const exited = new Promise<number | null>((r) => sim.once("exit", (code) => r(code)))
    const deadline = Date.now() + 30_000
    while (!/listening[\s\S]*rest:\s+http:\/\/127\.0\.0\.1:\d+/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
    process.kill(-(sim.pid as number), "SIGINT")
    await exited
    expect(out).toMatch(/simulator \(Kraken Futures protocol\) listening/)
  }, 400_000)
})
