import { execFile } from "node:child_process"
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { promisify } from "node:util"
import { describe, expect, it } from "vitest"
import { recording, tempDir, XBT } from "./helpers.js"
import { TROUPE_BIN } from "../services/build.js"

const run = promisify(execFile)
const CLI = [TROUPE_BIN]
const env = { ...process.env, DATABASE_URL: "", TROUPE_PORT: "1" }

describe("troupe replay (a child process) and troupe report over its output", () => {
  it("replays a recording through the CLI, writes journal and store, and report reads the same orders and fills", async () => {
    const dir = tempDir("replay-cli")
    const from = join(dir, "recording.jsonl")
    writeFileSync(from, recording().text)
    const out = join(dir, "out")
    const params = JSON.stringify({ instrument: XBT, lookback: 20, orderQty: "0.001", maxPosition: "0.003", cooldownMs: 2_000 })
    const replayed = await run(process.execPath, [...CLI, "replay", "--from", from, "--strategy", "momentum-breakout", "--params", params, "--speed", "max", "--out", out, "--json"], { env, timeout: 60_000 })
    const result = JSON.parse(replayed.stdout) as { orders: number; fills: number; journalDir: string; positions: Array<{ quantity: string }> }
    expect(result.fills).toBeGreaterThan(0)
    // Not a TTY: plain progress lines on stderr, ending with the rate.
    expect(replayed.stderr).toMatch(/replay: \d+\/\d+ market events, [\d.]+k? ev\/s/)

    const reported = await run(process.execPath, [...CLI, "report", "--home", out, "--json"], { env, timeout: 60_000 })
    const report = JSON.parse(reported.stdout) as { execution: Array<{ scope: string; strategy: string | null; orders: number; fills: number }> }
    const strategyRow = report.execution.find((r) => r.scope === "strategy" && r.strategy === "momentum-breakout")
    expect(strategyRow?.orders).toBe(result.orders)
    expect(strategyRow?.fills).toBe(result.fills)
  }, 90_000)
})
