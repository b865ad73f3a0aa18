import { execFile } from "node:child_process"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startControlApi, type ControlApi } from "../../src/daemon/control-api/server.js"
import { makeFakeControl, type FakeControl } from "../daemon/control-api/fake-control.js"
import { TROUPE_BIN } from "../services/build.js"

// The CLI runs as a child process from the sources (dist/ may be stale in a checkout), against
// the real control API with an in-memory daemon behind it.
const TOKEN = "cli-test-token"
let api: ControlApi
let control: FakeControl
const home = mkdtempSync(join(tmpdir(), "troupe-cli-"))

beforeAll(async () => {
  control = makeFakeControl()
  api = await startControlApi({ port: 0, token: TOKEN, control })
})
afterAll(() => api.close())

interface Run {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

const troupe = (args: ReadonlyArray<string>, env: Record<string, string> = {}): Promise<Run> =>
  new Promise((resolve) => {
    execFile(
      process.execPath,
      [TROUPE_BIN, ...args],
      { env: { PATH: process.env["PATH"] ?? "", HOME: home, TROUPE_HOME: home, TROUPE_TOKEN: TOKEN, ...env }, timeout: 30_000 },
      (error, stdout, stderr) => resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : -1, stdout, stderr })
    )
  })

const port = () => String(api.port)

describe("troupe CLI against the control API", () => {
  it("prints status, the actor tree, orders and positions as tables", async () => {
    const [status, actors, orders, positions] = await Promise.all([
      troupe(["status", "--port", port()]),
      troupe(["actors", "--port", port()]),
      troupe(["orders", "--open", "--port", port()]),
      troupe(["positions", "--port", port()])
    ])
    expect(status.code, status.stderr).toBe(0)
    expect(status.stdout).toMatch(/^node\s+running$/m)
    expect(status.stdout).toMatch(/^trading default\s+active$/m)
    expect(status.stdout).toMatch(/^uptime\s+1h 2m$/m)
    expect(actors.code, actors.stderr).toBe(0)
    expect(actors.stdout).toMatch(/^root\s+supervisor \(one_for_one\)\s+running/m)
    expect(actors.stdout).toMatch(/^│ {2}└─ order-c1\s+order\s+running\s+working\.accepted\s+0\s+5s$/m)
    expect(actors.stdout).toMatch(/^└─ strategy-mm\s+strategy\s+restarting\s+starting\s+2\s+-$/m)
    expect(orders.code, orders.stderr).toBe(0)
    expect(orders.stdout).toMatch(/^c1\s+kf:PF_XBTUSD\s+buy\s+limit\s+60000\.5\s+0\.010\s+0\s+accepted/m)
    expect(orders.stdout).not.toMatch(/^c0/m)
    expect(positions.stdout).toMatch(/^default\s+kf:PF_XBTUSD\s+-0\.010\s+60010\.0\s+60000\.5\s+0\.095\s+1\.37\s+0\.12\s+1\.25$/m)
  })

  it("prints JSON with --json", async () => {
    const [orders, status] = await Promise.all([troupe(["orders", "--json", "--port", port()]), troupe(["status", "--json", "--port", port()])])
    expect((JSON.parse(orders.stdout) as Array<{ clientOrderId: string }>).map((o) => o.clientOrderId)).toEqual(["c1", "c0"])
    expect(JSON.parse(status.stdout)).toMatchObject({ node: "running", counts: { openOrders: 1 } })
  })

  it("halts with the reason and the OS user, and refuses a halt without a reason", async () => {
    const halted = await troupe(["halt", "--reason", "fat finger", "--cancel-all", "--port", port()], { USER: "ignored" })
    expect(halted.code, halted.stderr).toBe(0)
    expect(halted.stdout).toContain("default: halted")
    const call = control.operatorCalls.at(-1)
    expect(call).toMatchObject({ command: "halt", why: "fat finger", cancelAll: true })
    expect(call?.who).toMatch(/\S/)
    const calls = control.operatorCalls.length
    const noReason = await troupe(["halt", "--port", port()])
    expect(noReason.code).toBe(2)
    expect(noReason.stderr).toContain("--reason is required")
    expect(control.operatorCalls.length).toBe(calls)
  })

  it("exits 1 with the daemon's message when the daemon refuses", async () => {
    const r = await troupe(["strategy", "start", "mm", "--port", port()])
    expect(r.code).toBe(1)
    expect(r.stderr.trim()).toBe("troupe: strategy mm is already running")
  })

  it("exits 3 with one clear line when no daemon listens", async () => {
    const r = await troupe(["status", "--port", "1"])
    expect(r.code).toBe(3)
    expect(r.stderr.trim()).toBe("troupe: no daemon answers on 127.0.0.1:1 (start it with `npm start`)")
  })

  it("exits 4 on a wrong token, and reads the token from $TROUPE_HOME/token", async () => {
    const wrong = await troupe(["status", "--port", port()], { TROUPE_TOKEN: "wrong" })
    expect(wrong.code).toBe(4)
    expect(wrong.stderr).toContain("refused the token")
    writeFileSync(join(home, "token"), `${TOKEN}\n`)
    const fromFile = await troupe(["status", "--port", port()], { TROUPE_TOKEN: "" })
    expect(fromFile.code, fromFile.stderr).toBe(0)
  })

  it("exports a machine without a daemon", async () => {
    const r = await troupe(["machines", "export", "order", "--format", "mermaid", "--port", "1"])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^stateDiagram-v2\n/)
    expect((await troupe(["machines", "export", "order", "--format", "png"])).code).toBe(2)
  })
})
