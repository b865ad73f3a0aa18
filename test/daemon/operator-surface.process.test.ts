import { execFile, execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { Schema } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { controlApiSpec } from "../../src/daemon/control-api/api.js"
import { promtoolCheck } from "../docs/monitoring.js"
import { freePort } from "../services/free-port.js"

// The operator's surface of a real daemon (bin/troupe on embedded defaults): a strategy from a
// folder outside the checkout added with `troupe strategy add`, every JSON answer held to the
// API definition's schemas, and /metrics held to `promtool check metrics`.
const repo = resolve(".")
const home = mkdtempSync(join(tmpdir(), "troupe-surface-"))
let port = 0
let daemon: ChildProcess
let stderr = ""

interface Run {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

const troupe = (args: ReadonlyArray<string>, cwd = repo): Promise<Run> =>
  new Promise((done) => {
    execFile(
      process.execPath,
      [join(repo, "bin/troupe"), ...args, "--port", String(port)],
      { cwd, env: { PATH: process.env["PATH"] ?? "", TROUPE_HOME: home }, timeout: 60_000 },
      (error, stdout, err) => done({ code: error === null ? 0 : typeof error.code === "number" ? error.code : -1, stdout, stderr: err })
    )
  })

const token = (): string => readFileSync(join(home, "token"), "utf8").trim()
const get = (path: string): Promise<Response> => fetch(`http://127.0.0.1:${port}${path}`, { headers: { authorization: `Bearer ${token()}` } })

const until = async <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await probe().catch(() => undefined)
    if (v !== undefined) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; daemon stderr:\n${stderr.slice(-3000)}`)
    await new Promise((r) => setTimeout(r, 250))
  }
}

beforeAll(async () => {
  // `troupe/sdk` resolves to the built SDK, and bin/troupe prefers the build: `npm ci` builds through `prepare`.
  if (!existsSync(join(repo, "dist/strategies/sdk.js"))) throw new Error("dist/ is missing: run `npm run build` first (npm ci does it)")
  port = await freePort()
  daemon = spawn(process.execPath, [join(repo, "bin/troupe"), "daemon", "--port", String(port)], {
    env: { PATH: process.env["PATH"] ?? "", TROUPE_HOME: home },
    stdio: ["ignore", "pipe", "pipe"]
  })
  daemon.stderr?.on("data", (d: Buffer) => (stderr += d.toString()))
  daemon.stdout?.resume()
  await until("/readyz to turn ready", async () => ((await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200 ? true : undefined), 120_000)
}, 150_000)

afterAll(() => {
  if (daemon.exitCode === null) daemon.kill("SIGKILL")
})

describe("the operator's surface of a running daemon", () => {
  it("adds a strategy written in a folder outside the checkout with `troupe strategy add`, and it runs", async () => {
    const desk = mkdtempSync(join(tmpdir(), "my-desk-"))
    mkdirSync(join(desk, "node_modules"))
    symlinkSync(repo, join(desk, "node_modules", "troupe"))
    writeFileSync(
      join(desk, "quote-once.strategy.ts"),
      `import { defineStrategy, DecimalFromString, order, Schema, type InstrumentId } from "troupe/sdk"

export default defineStrategy({
  id: "quote-once",
  description: "one post-only bid one tick under the best bid",
  instruments: (p) => [p.instrument],
  params: Schema.Struct({ instrument: Schema.String, qty: DecimalFromString }),
  init: () => ({ sent: false }),
  onBook: (ctx, book) => {
    if (ctx.state.sent || book.bestBid === undefined) return
    ctx.state.sent = true
    ctx.submit({ instrument: ctx.params.instrument as InstrumentId, side: "buy", qty: ctx.params.qty, type: order.postOnly(book.bestBid.price) })
  }
})
`
    )
    // Run from the author's folder with a relative path, as a person would.
    const params = JSON.stringify({ instrument: "kraken-futures:PF_XBTUSD", qty: "0.001" })
    const add = await troupe(["strategy", "add", "quote-once.strategy.ts", "--id", "desk-quote", "--params", params, "--reason", "a desk's own strategy"], desk)
    expect(add.stderr + add.code).toBe("0")
    expect(add.stdout).toMatch(/^desk-quote\s+quote-once\s+\S+\s+kraken-futures:PF_XBTUSD\s/m)
    const running = await until(
      "the added strategy to run and quote",
      async () => {
        const orders = (await (await get("/api/orders")).json()) as Array<{ strategy?: string }>
        return orders.some((o) => o.strategy === "desk-quote") ? true : undefined
      },
      60_000
    )
    expect(running).toBe(true)
    // Adding it again is refused with the daemon's sentence, without "(HTTP 409)".
    const again = await troupe(["strategy", "add", "quote-once.strategy.ts", "--id", "desk-quote", "--params", params], desk)
    expect(again.code).toBe(1)
    expect(again.stderr).toMatch(/^troupe: .*desk-quote/)
    expect(again.stderr).not.toMatch(/HTTP \d{3}/)
  }, 120_000)

  it("answers every JSON route exactly as the API definition says (no field missing, none extra)", async () => {
    const strictly = { onExcessProperty: "error", errors: "all" } as const
    const endpoints = Object.values(controlApiSpec.groups).flatMap((g) => Object.values(g.endpoints))
    const strategies = (await (await get("/api/strategies")).json()) as Array<{ id: string }>
    type Node = { id: string; machine?: string; children: Node[] }
    const withMachine = (n: Node): Node | undefined => (n.machine !== undefined ? n : n.children.map(withMachine).find((x) => x !== undefined))
    const actorId = withMachine((await (await get("/api/actors")).json()) as Node)?.id ?? "none"
    const paths: Record<string, string> = {
      "/api/actors/:id": `/api/actors/${encodeURIComponent(actorId)}`,
      "/api/strategies/:id/page": `/api/strategies/${encodeURIComponent(strategies[0]?.id ?? "")}/page`,
      "/api/machines/:name": "/api/machines/order"
    }
    let checked = 0
    for (const endpoint of endpoints) {
      if (endpoint.method !== "GET" || !(endpoint.path.startsWith("/api/") || endpoint.path.endsWith("z"))) continue
      if (endpoint.path === "/api/stream" || endpoint.path === "/api/openapi.json") continue
      const path = paths[endpoint.path] ?? endpoint.path
      const res = await get(path)
      expect([path, res.status]).toEqual([path, 200])
      const body: unknown = await res.json()
      const decoded = Schema.decodeUnknownEither(endpoint.successSchema as Schema.Schema<unknown>)(body, strictly)
      expect([path, decoded._tag === "Left" ? String(decoded.left) : "ok"]).toEqual([path, "ok"])
      checked++
    }
    expect(checked).toBeGreaterThanOrEqual(12)
  }, 60_000)

  it("serves /metrics that `promtool check metrics` accepts without a complaint", async () => {
    if (!hasPromtool()) {
      console.log(`promtool check metrics: SKIPPED — ${promtoolMissing}`)
      return
    }
    const res = await fetch(`http://127.0.0.1:${port}/metrics`)
    expect(res.status).toBe(200)
    const text = await res.text()
    expect(text).toMatch(/^troupe_/m)
    expect(await promtoolCheck(text)).toEqual({ code: 0, output: "" })
  }, 300_000)
})

let promtoolMissing = ""
/** promtool from Debian's `prometheus` package: installed here when apt can, else the reason it cannot. */
const hasPromtool = (): boolean => {
  const found = (): boolean => spawnSync("promtool", ["--version"], { encoding: "utf8" }).status === 0
  if (found()) return true
  try {
    execFileSync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", "prometheus"], { stdio: "pipe", timeout: 240_000, env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } })
  } catch (e) {
    promtoolMissing = `Debian's prometheus package could not be installed (${(e as Error).message.split("\n")[0]})`
    return false
  }
  if (found()) return true
  promtoolMissing = "the prometheus package installed but promtool is not on PATH"
  return false
}
