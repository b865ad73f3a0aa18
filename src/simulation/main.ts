import { execFileSync } from "node:child_process"
import { existsSync, mkdirSync, readdirSync } from "node:fs"
import { join } from "node:path"
import { parseArgs } from "node:util"
import { Effect } from "effect"
import { JOURNAL_TOPICS } from "../actors/ports/journal.js"
import { openReplayOutputJournal } from "../replay/output-journal.js"
import { FAULT_KINDS, FAULT_PROFILES, type FaultKind, type FaultProfile } from "./faults.js"
import type { MemoryJournal } from "./memory-journal.js"
import { runSeed, type SimResult } from "./run-seed.js"

/**
 * `troupe sim` / `npm run sim`: runs seeds of the deterministic simulation and reports.
 *
 *   npm run sim -- --seeds N [--from S] [--faults safety|liveness|none] [--minutes M] [--trace DIR] [--json]
 *
 * A failing seed is a bug report: the seed, the commit, the fault profile, the first violated
 * invariant with the events around it, and the command that reproduces the run byte for byte
 * (the same journal hash). The exit code is 1 when any seed failed.
 */
export interface SimIo {
  readonly out: (text: string) => void
  readonly err: (text: string) => void
}

const USAGE = `usage: troupe sim --seeds N [--from S] [--faults safety|liveness|none] [--minutes M] [--trace DIR] [--json]
  --seeds N      how many seeds (default 1)
  --from S       first seed (default 1)
  --faults P     fault profile: safety (faults all the way), liveness (faults, then heal), none (default safety)
  --minutes M    simulated minutes of trading per seed (default 1)
  --trace DIR    write each seed's journal to DIR/seed-<S>/journal (open it with the inspector or troupe report)
  --json         one JSON line per seed
`

export const commit = (): string => {
  try {
    return execFileSync("git", ["rev-parse", "--short=12", "HEAD"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim()
  } catch {
    return "unknown"
  }
}

export const reproduceCommand = (seed: number, profile: FaultProfile, minutes: number): string => `npm run sim -- --seeds 1 --from ${seed} --faults ${profile} --minutes ${minutes}`

/** The bug report of a failing seed (empty when it passed). */
export const failureReport = (r: SimResult, minutes: number, at = commit()): string => {
  const v = r.violations[0]
  if (v === undefined) return ""
  const lines = [
    `SEED ${r.seed} FAILED (profile ${r.profile}, commit ${at}, journal ${r.journalHash.slice(0, 16)})`,
    `  first violated invariant: ${v.invariant} at ${new Date(v.at).toISOString()}`,
    `  ${v.detail}`,
    `  strategies: ${r.strategies.join(", ")}`,
    `  faults injected: ${describeFaults(r.faults)}`,
    `  events before it:`,
    ...v.context.map((c) => `    ${c}`),
    ...(r.violations.length > 1 ? [`  and ${r.violations.length - 1} more: ${[...new Set(r.violations.slice(1).map((x) => x.invariant))].join(", ")}`] : []),
    `  reproduce: ${reproduceCommand(r.seed, r.profile, minutes)} --trace sim-trace`
  ]
  return lines.join("\n") + "\n"
}

export const describeFaults = (faults: Readonly<Record<FaultKind, number>>): string =>
  FAULT_KINDS.filter((k) => faults[k] > 0)
    .map((k) => `${k} ${faults[k]}`)
    .join(", ") || "none"

/** Writes a run's journal as a file journal (the replay's output format: the inspector and `troupe report` read it). */
export const writeTrace = async (journal: MemoryJournal, dir: string): Promise<void> => {
  if (existsSync(dir) && readdirSync(dir).length > 0) throw new Error(`${dir} is not empty`)
  mkdirSync(dir, { recursive: true })
  let ts = 0
  const out = await Effect.runPromise(openReplayOutputJournal(dir, () => ts))
  for (const topic of JOURNAL_TOPICS) {
    for (const r of journal.records(topic)) {
      ts = r.ts
      await Effect.runPromise(out.append(topic, r.key, r.payload, { durable: false }))
    }
  }
  await Effect.runPromise(out.flush())
  await Effect.runPromise(out.close())
}

export const runSimCli = async (argv: ReadonlyArray<string>, io: SimIo): Promise<number> => {
  let values: Record<string, string | boolean | undefined>
  try {
    values = parseArgs({
      args: [...argv],
      options: { seeds: { type: "string" }, from: { type: "string" }, faults: { type: "string" }, minutes: { type: "string" }, trace: { type: "string" }, json: { type: "boolean" }, help: { type: "boolean" } },
      strict: true
    }).values
  } catch (e) {
    io.err(`troupe sim: ${e instanceof Error ? e.message : String(e)}\n${USAGE}`)
    return 2
  }
  if (values.help === true) {
    io.out(USAGE)
    return 0
  }
  const int = (name: string, fallback: number): number | undefined => {
    const raw = values[name]
    if (raw === undefined) return fallback
    const n = Number(raw)
    return Number.isSafeInteger(n) && n >= 0 ? n : undefined
  }
  const seeds = int("seeds", 1)
  const from = int("from", 1)
  const minutes = values.minutes === undefined ? 1 : Number(values.minutes)
  const profile = (values.faults ?? "safety") as FaultProfile
  if (seeds === undefined || from === undefined || !(minutes > 0 && minutes <= 24 * 60) || !FAULT_PROFILES.includes(profile)) {
    io.err(`troupe sim: bad arguments\n${USAGE}`)
    return 2
  }
  const at = commit()
  const totals = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>
  let failed = 0
  let simMs = 0
  const started = performance.now()
  for (let seed = from; seed < from + seeds; seed++) {
    const t0 = performance.now()
    const r = await runSeed({ seed, profile, minutes })
    const wallMs = performance.now() - t0
    simMs += r.stats.simMs
    for (const k of FAULT_KINDS) totals[k] += r.faults[k]
    if (typeof values.trace === "string") await writeTrace(r.journal, join(values.trace, `seed-${seed}`, "journal"))
    if (values.json === true) {
      io.out(JSON.stringify({ seed, profile, commit: at, journalHash: r.journalHash, ok: r.violations.length === 0, violations: r.violations, faults: r.faults, stats: r.stats, wallMs: Math.round(wallMs) }) + "\n")
    } else if (r.violations.length === 0) {
      io.out(`seed ${seed} ok  ${r.journalHash.slice(0, 16)}  ${r.stats.submitted} orders, ${r.stats.fills} fills, ${r.stats.nodeRestarts} node + ${r.stats.coreRestarts} core restarts  (${Math.round(wallMs)} ms)\n`)
    }
    if (r.violations.length > 0) {
      failed++
      io.err(failureReport(r, minutes, at))
    }
  }
  const wall = (performance.now() - started) / 1000
  if (values.json !== true) {
    io.out(
      `${seeds} seeds (${profile}, ${minutes} simulated min each, commit ${at}): ${failed} failed; ${wall.toFixed(1)} s wall, ${((seeds / wall) * 60).toFixed(0)} seeds/min, ` +
        `${(simMs / 60_000 / wall).toFixed(2)} simulated min per wall s\n  faults injected: ${describeFaults(totals)}\n`
    )
  }
  return failed > 0 ? 1 : 0
}

const isMain = process.argv[1] !== undefined && /simulation[/\\]main\.[jt]s$/.test(process.argv[1])
if (isMain) {
  runSimCli(process.argv.slice(2), { out: (t) => void process.stdout.write(t), err: (t) => void process.stderr.write(t) }).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`troupe sim: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`)
      process.exit(70)
    }
  )
}
