import { execFile, spawn, type ChildProcess } from "node:child_process"
import { mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { demoStrategies } from "../../src/daemon/demo-defaults.js"
import { freePort } from "../services/free-port.js"
import { TROUPE_BIN } from "../services/build.js"

// The demo as a new user meets it: `troupe daemon` with no config. It prints its strategies and
// risk limits, every strategy trades, risk denies few intents (the rate limit almost none), and
// the report of the short run draws equity and drawdown. (The 10-minute figures are in
// docs/architecture.md "Demo defaults".)
const home = mkdtempSync(join(tmpdir(), "troupe-demo-"))
let port = 0
let daemon: ChildProcess
let stderr = ""
let exit: Promise<number | null>

const token = (): string => readFileSync(join(home, "token"), "utf8").trim()

const until = async <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await probe().catch(() => undefined)
    if (v !== undefined) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; daemon stderr:\n${stderr.slice(-3000)}`)
    await new Promise((r) => setTimeout(r, 500))
  }
}

/** `name{labels} value` lines of the Prometheus text, as [labels, value] for one metric. */
const samples = (text: string, name: string): Array<{ readonly labels: Record<string, string>; readonly value: number }> =>
  text
    .split("\n")
    .filter((l) => l.startsWith(`troupe_${name}{`))
    .map((l) => {
      const labels = Object.fromEntries([...l.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1] as string, m[2] as string]))
      return { labels, value: Number(l.slice(l.lastIndexOf(" ") + 1)) }
    })

const metrics = async (): Promise<string> => (await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: `Bearer ${token()}` } })).text()

beforeAll(async () => {
  port = await freePort()
  daemon = spawn(process.execPath, [TROUPE_BIN, "daemon", "--port", String(port)], {
    env: { PATH: process.env["PATH"] ?? "", TROUPE_HOME: home },
    stdio: ["ignore", "pipe", "pipe"]
  })
  daemon.stderr?.on("data", (d: Buffer) => (stderr += d.toString()))
  exit = new Promise((r) => daemon.once("exit", (code) => r(code)))
  await until("/readyz to turn ready", async () => ((await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200 ? true : undefined), 150_000)
}, 160_000)

afterAll(() => {
  if (daemon.exitCode === null) daemon.kill("SIGKILL")
})

describe("the demo on embedded defaults", () => {
  it("prints its explicit risk limits and the parameters of every demo strategy at start", () => {
    expect(stderr).toMatch(/demo risk limits \(account default\): maxOrderQty=1 maxNotional=2000 priceBand=0\.02 maxPosition=5 .*dailyLossLimit=250 strategyOrdersPerSecond=4/)
    for (const s of demoStrategies()) expect(stderr).toContain(`demo strategy ${s.id} (${s.kind}): ${JSON.stringify(s.params)}`)
    expect(stderr).toMatch(/50% of them informed.*fees maker 0, taker 0\.0005/)
  })

  it("every demo strategy gets fills, and the rate limit denies under 5% of intents", async () => {
    const ids = demoStrategies().map((s) => s.id as string)
    const text = await until(
      "a fill on every demo strategy and 40 intents decided",
      async () => {
        const t = await metrics()
        const filled = new Set(samples(t, "fills_total").filter((s) => s.value > 0).map((s) => s.labels["strategy"]))
        // …and enough intents decided for the denial ratio to mean something.
        const decided = samples(t, "risk_intents_total").reduce((n, s) => n + s.value, 0)
        return ids.every((id) => filled.has(id)) && decided >= 40 ? t : undefined
      },
      150_000
    )
    const intents = samples(text, "risk_intents_total").reduce((n, s) => n + s.value, 0)
    const rateDenied = samples(text, "risk_denials_total").filter((s) => s.labels["reason"] === "RATE_LIMIT" || s.labels["reason"] === "STRATEGY_RATE_LIMIT").reduce((n, s) => n + s.value, 0)
    expect(intents).toBeGreaterThanOrEqual(40)
    expect(rateDenied / intents).toBeLessThan(0.05)
  }, 160_000)

  it("after a graceful stop, the report of the short run draws equity and drawdown with points", async () => {
    daemon.kill("SIGTERM")
    expect(await exit).toBe(0)
    const html = join(home, "report.html")
    const run = await new Promise<{ code: number; out: string }>((resolve) =>
      execFile(process.execPath, [TROUPE_BIN, "report", "--html", html], { env: { PATH: process.env["PATH"] ?? "", TROUPE_HOME: home }, timeout: 90_000 }, (error, stdout, err) =>
        resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : -1, out: stdout + err })
      )
    )
    expect(run.code, run.out).toBe(0)
    const page = readFileSync(html, "utf8")
    for (const kind of ["equity", "drawdown"]) {
      const svg = new RegExp(`<svg[^>]*data-chart="${kind}"[\\s\\S]*?</svg>`).exec(page)?.[0] ?? ""
      const points = [...svg.matchAll(/<path class="series" data-points="(\d+)"/g)].map((m) => Number(m[1]))
      // The total's line and one per strategy, each with more than one point on the run's time axis.
      expect(points.length, kind).toBeGreaterThan(0)
      expect(Math.max(...points), kind).toBeGreaterThan(1)
    }
  }, 120_000)
})
