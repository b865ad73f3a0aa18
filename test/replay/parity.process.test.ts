import { execFile } from "node:child_process"
import { mkdtempSync, readdirSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { promisify } from "node:util"
import { afterAll, describe, expect, it } from "vitest"
import { api, startDaemon, until, waitReady, writeConfig, type DaemonProcess } from "../daemon/daemon-harness.js"
import { TROUPE_BIN } from "../services/build.js"

// Must-show 5 of issue 17: a live run of the daemon against the simulator, recorded
// (journal.recordMarketData), replays with the same decisions; a strategy changed by one parameter
// reports the first divergence and exits non-zero.

const run = promisify(execFile)
const CLI = [TROUPE_BIN]
const home = mkdtempSync(join(tmpdir(), "troupe-parity-"))
let daemon: DaemonProcess | undefined

afterAll(() => {
  if (daemon !== undefined && daemon.child.exitCode === null) daemon.child.kill("SIGKILL")
})

const parity = async (args: ReadonlyArray<string>): Promise<{ code: number; stdout: string; stderr: string }> => {
  try {
    const r = await run(process.execPath, [...CLI, "replay", "--parity", join(home, "journal"), ...args], { env: { PATH: process.env["PATH"] ?? "" }, timeout: 60_000 })
    return { code: 0, stdout: r.stdout, stderr: r.stderr }
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string }
    return { code: err.code ?? -1, stdout: err.stdout ?? "", stderr: err.stderr ?? "" }
  }
}

describe("troupe replay --parity over a recorded live run", () => {
  it("finds the same decisions, and the first divergence when a strategy's parameter is changed", async () => {
    const config = writeConfig(home, {
      journal: { recordMarketData: true },
      strategies: [
        {
          id: "mo-eth",
          kind: "momentum-breakout",
          instruments: ["kraken-futures:PF_ETHUSD"],
          params: { instrument: "kraken-futures:PF_ETHUSD", lookback: 5, orderQty: "0.01", maxPosition: "0.05", cooldownMs: 500 }
        },
        {
          id: "as-sol",
          kind: "avellaneda-stoikov",
          instruments: ["kraken-futures:PF_SOLUSD"],
          params: { instrument: "kraken-futures:PF_SOLUSD", gamma: 0.1, k: 1.5, horizonMs: 60_000, sigmaWindow: 20, orderQty: "1", maxInventory: "5", requoteTicks: 2 }
        }
      ]
    })
    daemon = await startDaemon(home, config)
    await waitReady(daemon, 240_000)
    const d = daemon
    // Long enough for orders of the momentum taker and quotes (and requotes) of the market maker.
    await until(
      "orders of both strategies",
      async () => {
        const orders = await api<Array<{ strategy?: string }>>(d, home, "/api/orders")
        return orders.some((o) => o.strategy === "mo-eth") && orders.filter((o) => o.strategy === "as-sol").length >= 2 ? true : undefined
      },
      180_000,
      () => d.stderr
    )
    d.child.kill("SIGTERM")
    expect(await d.exit).toBe(0)
    const files = readdirSync(join(home, "journal", "parity"))
    expect(files).toEqual([expect.stringMatching(/^run-\d+\.jsonl$/)])
    const lines = readFileSync(join(home, "journal", "parity", files[0]!), "utf8").trim().split("\n")
    expect(lines.some((l) => l.includes('"k":"book"'))).toBe(true)

    const same = await parity(["--json"])
    expect(same.stderr).toBe("")
    const result = JSON.parse(same.stdout) as { inputs: number; matched: number; divergences: number; unattributed: number; strategies: string[] }
    expect(result.strategies.sort()).toEqual(["as-sol", "mo-eth"])
    expect(result.divergences).toBe(0)
    expect(result.unattributed).toBe(0)
    expect(result.matched).toBeGreaterThan(4)
    expect(result.inputs).toBe(lines.length)
    expect(same.code).toBe(0)

    const text = await parity([])
    expect(text.code).toBe(0)
    expect(text.stdout).toMatch(/, 0 divergences\n$/)

    // One parameter changed: the momentum taker's order size. Its first submit is the first divergence.
    const changed = await parity(["--id", "mo-eth", "--params", '{"orderQty":"0.02"}'])
    expect(changed.code).toBe(1)
    expect(changed.stdout).toMatch(/1 divergence\b/)
    expect(changed.stdout).toMatch(/first divergence: strategy mo-eth, run \d+, input \d+ \(book kraken-futures:PF_ETHUSD [^)]*\) at [^,]+, intent 1: the intents differ/)
    expect(changed.stdout).toMatch(/expected \(journal\): \{[^\n]*"_tag":"SubmitOrder"[^\n]*"qty":"0.01"/)
    expect(changed.stdout).toMatch(/got \(replay\): +\{[^\n]*"_tag":"SubmitOrder"[^\n]*"qty":"0.02"/)
  }, 600_000)
})
