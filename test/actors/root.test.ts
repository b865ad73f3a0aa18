import { spawn } from "node:child_process"
import { describe, expect, it } from "vitest"

const ROOT = new URL("../../", import.meta.url).pathname

interface Run {
  readonly code: number | null
  readonly stdout: string
}

/** Runs a fixture under `node --import tsx`; `onLine` may signal the process. */
const runFixture = (name: string, onLine: (line: string, kill: (signal: NodeJS.Signals) => void) => void = () => {}): Promise<Run> =>
  new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ["--import", "tsx", `test/actors/fixtures/${name}`], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let pending = ""
    proc.stdout.setEncoding("utf8")
    proc.stdout.on("data", (chunk: string) => {
      stdout += chunk
      pending += chunk
      let nl = pending.indexOf("\n")
      while (nl >= 0) {
        onLine(pending.slice(0, nl), (signal) => proc.kill(signal))
        pending = pending.slice(nl + 1)
        nl = pending.indexOf("\n")
      }
    })
    proc.stderr.resume()
    const timer = setTimeout(() => {
      proc.kill("SIGKILL")
      reject(new Error(`${name} did not exit in time; stdout so far: ${stdout}`))
    }, 50_000)
    proc.on("error", reject)
    proc.on("exit", (code) => {
      clearTimeout(timer)
      resolve({ code, stdout })
    })
  })

describe("the root supervisor and the process", () => {
  it("a root supervisor that gives up ends the process with exit code 1", async () => {
    const run = await runFixture("root-gives-up.ts")
    expect(run.stdout).toContain("gave-up:root")
    expect(run.code).toBe(1)
  }, 60_000)

  it("SIGTERM shuts the tree down in reverse order and the process exits 0", async () => {
    const run = await runFixture("normal-shutdown.ts", (line, kill) => {
      if (line === "started:journal") kill("SIGTERM")
    })
    expect(run.stdout.trim().split("\n")).toEqual(["started:store", "started:journal", "stopped:journal", "stopped:store"])
    expect(run.code).toBe(0)
  }, 60_000)
})
