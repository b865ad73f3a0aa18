import { existsSync } from "node:fs"
import { mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startDaemon } from "./daemon-harness.js"

describe("troupe daemon with a bad limit", () => {
  let home: string

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), "troupe-badcfg-"))
  })
  afterAll(async () => {
    await rm(home, { recursive: true, force: true })
  })

  it("refuses to start: exit 2, the key path and the rule on stderr, nothing opened", async () => {
    const file = join(home, "troupe.json")
    await writeFile(file, JSON.stringify({ risk: { maxOrderQty: "-1" } }))
    const d = await startDaemon(home, file)
    const code = await d.exit
    expect(code).toBe(2)
    expect(d.stderr).toBe('troupe daemon: config error at risk.maxOrderQty: expected a decimal greater than 0, got "-1"\n')
    // Refused before anything started: no token, no journal, no store.
    expect(existsSync(join(home, "token"))).toBe(false)
    expect(existsSync(join(home, "journal"))).toBe(false)
  }, 60_000)

  it("refuses a one-character TROUPE_TOKEN the same way", async () => {
    const file = join(home, "empty.json")
    await writeFile(file, "{}")
    const d = await startDaemon(home, file, { TROUPE_TOKEN: "x" })
    expect(await d.exit).toBe(2)
    expect(d.stderr).toBe("troupe daemon: config error at TROUPE_TOKEN: expected at least 16 characters, got 1\n")
  }, 60_000)
})
