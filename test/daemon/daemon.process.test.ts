import { execFile, spawn, type ChildProcess } from "node:child_process"
import { mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Option } from "effect"
import WebSocket from "ws"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { openPgliteStore } from "../../src/persistence/pglite.js"
import { freePort } from "../services/free-port.js"
import { TROUPE_BIN } from "../services/build.js"

// The daemon as a user runs it: a child process on embedded defaults (in-process simulator, file
// journal, PGlite), driven over its control API and with the real `troupe` CLI.
const home = mkdtempSync(join(tmpdir(), "troupe-daemon-"))
let port = 0
let daemon: ChildProcess
let stderr = ""
let exit: Promise<number | null>

interface Run {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

const troupe = (args: ReadonlyArray<string>): Promise<Run> =>
  new Promise((resolve) => {
    execFile(
      process.execPath,
      [TROUPE_BIN, ...args, "--port", String(port)],
      { env: { PATH: process.env["PATH"] ?? "", TROUPE_HOME: home }, timeout: 30_000 },
      (error, stdout, err) => resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : -1, stdout, stderr: err })
    )
  })

const token = (): string => readFileSync(join(home, "token"), "utf8").trim()
const api = (path: string, init: RequestInit = {}): Promise<Response> =>
  fetch(`http://127.0.0.1:${port}${path}`, { ...init, headers: { authorization: `Bearer ${token()}`, "content-type": "application/json", ...(init.headers ?? {}) } })

const until = async <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await probe().catch(() => undefined)
    if (v !== undefined) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; daemon stderr:\n${stderr.slice(-3000)}`)
    await new Promise((r) => setTimeout(r, 250))
  }
}

beforeAll(async () => {
  port = await freePort()
  daemon = spawn(process.execPath, [TROUPE_BIN, "daemon", "--port", String(port)], {
    env: { PATH: process.env["PATH"] ?? "", TROUPE_HOME: home },
    stdio: ["ignore", "pipe", "pipe"]
  })
  daemon.stderr?.on("data", (d: Buffer) => (stderr += d.toString()))
  exit = new Promise((r) => daemon.once("exit", (code) => r(code)))
  await until("/readyz to turn ready", async () => {
    const r = await fetch(`http://127.0.0.1:${port}/readyz`)
    return r.status === 200 ? true : undefined
  }, 120_000)
}, 150_000)

afterAll(() => {
  if (daemon.exitCode === null) daemon.kill("SIGKILL")
})

describe("the daemon on embedded defaults", () => {
  it("answers 401 on the control API without the token and 200 with it", async () => {
    expect((await fetch(`http://127.0.0.1:${port}/api/status`)).status).toBe(401)
    expect((await fetch(`http://127.0.0.1:${port}/api/status`, { headers: { authorization: "Bearer wrong" } })).status).toBe(401)
    const r = await api("/api/status")
    expect(r.status).toBe(200)
    expect(((await r.json()) as { node: string }).node).toBe("running")
  })

  it("places orders with the example market maker and gets them filled by the simulator", async () => {
    const filled = await until("a filled order", async () => {
      const orders = (await (await api("/api/orders")).json()) as Array<{ state: string; filledQty: string }>
      return orders.find((o) => o.state === "filled" && o.filledQty !== "0")
    }, 90_000)
    expect(filled.state).toBe("filled")
  }, 100_000)

  it("answers every CLI command", async () => {
    for (const args of [["status"], ["actors"], ["orders"], ["orders", "--open"], ["positions"], ["strategy", "list"], ["status", "--json"]]) {
      const r = await troupe(args)
      expect(r.stderr + r.code, args.join(" ")).toBe("0")
      expect(r.stdout.length, args.join(" ")).toBeGreaterThan(0)
    }
    const actors = await troupe(["actors"])
    expect(actors.stdout).toMatch(/instrument:kraken-futures:PF_XBTUSD/)
    const mermaid = await troupe(["machines", "export", "order", "--format", "mermaid"])
    expect(mermaid.code).toBe(0)
    expect(mermaid.stdout).toMatch(/stateDiagram-v2/)
    const restart = await troupe(["strategy", "restart", "mm-eth"])
    expect(restart.stderr + restart.code).toBe("0")
  }, 120_000)

  it("adds, reconfigures, stops and starts a strategy at run time through the CLI", async () => {
    const params = JSON.stringify({ instrument: "kraken-futures:PF_ETHUSD", lookback: 20, orderQty: "0.01", maxPosition: "0.05", cooldownMs: 5000 })
    const add = await troupe(["strategy", "add", "src/strategies/examples/momentum-breakout.ts", "--id", "mo-eth", "--params", params, "--json"])
    expect(add.stderr + add.code).toBe("0")
    expect((JSON.parse(add.stdout) as { id: string; state: string }).id).toBe("mo-eth")
    const reconf = await troupe(["strategy", "reconfigure", "mo-eth", "--params", params.replace('"lookback":20', '"lookback":30'), "--json"])
    expect(reconf.stderr + reconf.code).toBe("0")
    expect((JSON.parse(reconf.stdout) as { params: { lookback: number } }).params.lookback).toBe(30)
    const bad = await troupe(["strategy", "reconfigure", "mo-eth", "--params", '{"lookback":"x"}'])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/lookback|instrument/)
    const stop = await troupe(["strategy", "stop", "mo-eth", "--json"])
    expect(stop.stderr + stop.code).toBe("0")
    expect((JSON.parse(stop.stdout) as { state: string }).state).toMatch(/stop/)
    const start = await troupe(["strategy", "start", "mo-eth", "--json"])
    expect(start.stderr + start.code).toBe("0")
    const list = await troupe(["strategy", "list", "--json"])
    expect((JSON.parse(list.stdout) as Array<{ id: string }>).map((x) => x.id).sort()).toEqual(["mm-eth", "mm-sol", "mm-xbt", "mo-eth", "mo-sol"])
  }, 120_000)

  it("troupe reduce puts the account in reduce-only and resume brings it back", async () => {
    const reduce = await troupe(["reduce", "--reason", "test: reduce only"])
    expect(reduce.stderr + reduce.code).toBe("0")
    expect((JSON.parse((await troupe(["status", "--json"])).stdout) as { trading: Record<string, string> }).trading.default).toBe("reducing")
    const resume = await troupe(["resume", "--reason", "test over"])
    expect(resume.stderr + resume.code).toBe("0")
    expect((JSON.parse((await troupe(["status", "--json"])).stdout) as { trading: Record<string, string> }).trading.default).toBe("active")
  }, 60_000)

  it("troupe halt makes new submits denied and status shows halted", async () => {
    const denials: string[] = []
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api/stream`, { headers: { authorization: `Bearer ${token()}` } })
    ws.on("message", (data: Buffer) => {
      const item = JSON.parse(data.toString()) as { type: string; event?: { _tag?: string; reason?: string; intent?: { _tag?: string } } }
      if (item.type === "event" && item.event?._tag === "RiskDenied") denials.push(`${item.event.reason}`)
    })
    await new Promise((r) => ws.once("open", r))
    // Halt and pull the quotes: the market makers then try to quote again, and risk says no.
    const halt = await troupe(["halt", "--reason", "test: kill switch", "--cancel-all"])
    expect(halt.stderr + halt.code).toBe("0")
    const status = await troupe(["status", "--json"])
    expect((JSON.parse(status.stdout) as { trading: Record<string, string> }).trading.default).toBe("halted")
    await until("a submit denied as TRADING_HALTED", async () => (denials.includes("TRADING_HALTED") ? true : undefined), 30_000)
    ws.close()
    // The denial is counted by reason, and market data by frames, on /metrics.
    const metrics = await (await api("/metrics")).text()
    expect(metrics).toMatch(/troupe_risk_denials_total\{[^}]*reason="TRADING_HALTED"[^}]*\} [1-9]/)
    expect(metrics).toMatch(/troupe_market_frames_total [1-9]/)
    const resume = await troupe(["resume", "--reason", "test over"])
    expect(resume.code).toBe(0)
  }, 60_000)

  it("exits 0 on SIGTERM with the final snapshots written", async () => {
    daemon.kill("SIGTERM")
    const code = await Promise.race([exit, new Promise<"timeout">((r) => setTimeout(() => r("timeout"), 30_000))])
    expect(code).toBe(0)
    expect(stderr).toMatch(/stopped \(journal \d+ events/)
    const { store } = await openPgliteStore({ dataDir: join(home, "pglite") })
    await Effect.runPromise(store.migrate())
    const snapshot = await Effect.runPromise(store.loadSnapshot("instrument:kraken-futures:PF_XBTUSD"))
    const audit = await Effect.runPromise(store.queryAudit({ limit: 10 }))
    await Effect.runPromise(store.close())
    expect(Option.isSome(snapshot)).toBe(true)
    expect(audit.length).toBeGreaterThan(0)
  }, 60_000)
})
