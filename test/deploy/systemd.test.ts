import { execFile } from "node:child_process"
import { readFileSync } from "node:fs"
import { promisify } from "node:util"
import { describe, expect, it } from "vitest"

// The shipped systemd unit: its keys in the right sections, and systemd's own checks where the
// tools are installed (else skipped, saying why).
const UNIT = "docs/deploy/troupe.service"
const run = promisify(execFile)
const analyze = await run("systemd-analyze", ["--version"]).then(
  () => true,
  () => false
)
if (!analyze) console.warn(`${UNIT}: systemd-analyze is not installed here: verify/security checks skipped (apt-get install systemd)`)

const sections = (text: string): Map<string, string[]> => {
  const out = new Map<string, string[]>()
  let current = ""
  for (const raw of text.split("\n")) {
    const line = raw.trim()
    if (line === "" || line.startsWith("#")) continue
    const header = /^\[(\w+)\]$/.exec(line)
    if (header !== null) current = header[1] as string
    else out.set(current, [...(out.get(current) ?? []), line])
  }
  return out
}

describe("the systemd unit", () => {
  const unit = sections(readFileSync(UNIT, "utf8"))

  it("bounds restarts in [Unit], where systemd reads start limits, and never writes world-readable files", () => {
    expect(unit.get("Unit")).toEqual(expect.arrayContaining(["StartLimitIntervalSec=300", "StartLimitBurst=10"]))
    expect(unit.get("Service")?.filter((l) => l.startsWith("StartLimit"))).toEqual([])
    expect(unit.get("Service")).toEqual(expect.arrayContaining(["UMask=0077", "CapabilityBoundingSet=", "ProtectHome=true", "PrivateDevices=true", "PrivateTmp=true", "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX"]))
    // V8's JIT needs writable+executable pages: this key would make Node abort at start.
    expect(unit.get("Service")?.some((l) => l.startsWith("MemoryDenyWriteExecute=true"))).toBe(false)
  })

  it.skipIf(!analyze)("systemd-analyze verify finds nothing to say", async () => {
    const r = await run("systemd-analyze", ["verify", UNIT]).then(
      (o) => ({ code: 0, out: o.stdout + o.stderr }),
      (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? 1, out: `${e.stdout ?? ""}${e.stderr ?? ""}` })
    )
    expect(r.out.trim()).toBe("")
    expect(r.code).toBe(0)
  })

  it.skipIf(!analyze)("systemd-analyze security rates the unit OK (exposure at most 2.5 of 10)", async () => {
    const r = await run("systemd-analyze", ["security", "--offline=true", "--no-pager", UNIT]).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? "" }))
    const m = /Overall exposure level for troupe\.service: (\d+\.\d+)/.exec(r.stdout)
    expect(m, r.stdout.slice(-2000)).not.toBeNull()
    expect(Number(m?.[1])).toBeLessThanOrEqual(2.5)
  })
})
