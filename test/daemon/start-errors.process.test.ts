import { execFile } from "node:child_process"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { kafkaLogSummary } from "../../src/adapters/journal/kafka/log-summary.js"
import { redactUrl } from "../../src/daemon/startup-errors.js"
import { freePort } from "../services/free-port.js"
import { TROUPE_BIN } from "../services/build.js"

// A daemon that cannot start says so once, names the setting and what to do, and shows no stack
// unless asked (--verbose).
const daemon = (env: Record<string, string>, args: ReadonlyArray<string> = []): Promise<{ code: number | null; stderr: string }> =>
  freePort().then(
    (port) =>
      new Promise((resolve) => {
        const home = mkdtempSync(join(tmpdir(), "troupe-start-error-"))
        execFile(process.execPath, [TROUPE_BIN, "daemon", "--port", String(port), ...args], { env: { PATH: process.env["PATH"] ?? "", TROUPE_HOME: home, ...env }, timeout: 90_000 }, (error, _stdout, stderr) =>
          resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : null, stderr })
        )
      })
  )

describe.concurrent("errors at start", () => {
  it("an unreachable DATABASE_URL: one line naming DATABASE_URL and what to do, the password redacted, no stack", async () => {
    const r = await daemon({ DATABASE_URL: "postgres://trader:s3cret@127.0.0.1:1/troupe" })
    expect(r.code).toBe(1)
    const lines = r.stderr.split("\n").filter((l) => l.startsWith("troupe: cannot"))
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/^troupe: cannot use the Postgres store at DATABASE_URL=postgres:\/\/trader:\*\*\*@127\.0\.0\.1:1\/troupe: .*ECONNREFUSED.*unset DATABASE_URL to use the embedded PGlite store/)
    expect(r.stderr).not.toContain("s3cret")
    expect(r.stderr).not.toMatch(/^\s+at /m)
    expect(r.stderr).toContain("(run with --verbose for the full cause)")
  }, 100_000)

  it("an unreachable KAFKA_BROKERS: kafkajs's retries folded into one line, then one line naming KAFKA_BROKERS; --verbose adds the stack", async () => {
    const r = await daemon({ KAFKA_BROKERS: "127.0.0.1:1" }, ["--verbose"])
    expect(r.code).toBe(1)
    expect(r.stderr.split("\n").filter((l) => l.startsWith("kafka "))).toHaveLength(1)
    expect(r.stderr).not.toContain('"logger":"kafkajs"')
    expect(r.stderr).toMatch(/^troupe: cannot use the Kafka journal at KAFKA_BROKERS=127\.0\.0\.1:1: .*ECONNREFUSED.*unset KAFKA_BROKERS to use the embedded file journal/m)
    expect(r.stderr).toMatch(/^\s+at /m)
  }, 100_000)

  it("--log-format json: every line the daemon writes is a JSON object with a level; the failure is one error naming DATABASE_URL", async () => {
    const r = await daemon({ DATABASE_URL: "postgres://trader:s3cret@127.0.0.1:1/troupe" }, ["--log-format", "json"])
    expect(r.code).toBe(1)
    const lines = r.stderr.trim().split("\n").map((l) => JSON.parse(l) as { ts: string; level: string; msg: string })
    expect(lines.length).toBeGreaterThanOrEqual(2)
    for (const l of lines) expect(["debug", "info", "warn", "error"]).toContain(l.level)
    expect(lines[0]?.msg).toMatch(/^config /)
    expect(lines.filter((l) => l.level === "error").map((l) => l.msg)).toEqual([expect.stringMatching(/^cannot use the Postgres store at DATABASE_URL=postgres:\/\/trader:\*\*\*@/)])
    expect(r.stderr).not.toContain("s3cret")
  }, 100_000)

  it("kafkajs log lines: the first of each kind is written, repeats only counted", () => {
    const out: string[] = []
    const summary = kafkaLogSummary((l) => out.push(l))
    const log = summary.logCreator(0)
    for (let i = 0; i < 5; i++) {
      log({ namespace: "Connection", level: 1, label: "ERROR", log: { timestamp: "", message: `Connection error: connect ECONNREFUSED 127.0.0.1:1`, broker: "127.0.0.1:1" } })
      log({ namespace: "BrokerPool", level: 1, label: "ERROR", log: { timestamp: "", message: `Failed to connect to seed broker, trying another broker from the list: Connection error: connect ECONNREFUSED 127.0.0.1:1`, retryCount: i } })
    }
    log({ namespace: "Producer", level: 2, label: "WARN", log: { timestamp: "", message: "something else" } })
    expect(out).toEqual([
      "kafka error: Connection error: connect ECONNREFUSED 127.0.0.1:1 (broker 127.0.0.1:1); repeats of this message are counted, not logged",
      "kafka warn: something else; repeats of this message are counted, not logged"
    ])
    expect(summary.summary()).toEqual(["kafka error: Connection error: connect ECONNREFUSED 127.0.0.1:1 (broker 127.0.0.1:1) — 10 times in all"])
    expect(redactUrl("postgres://u:p@h:5432/d")).toBe("postgres://u:***@h:5432/d")
  })
})
