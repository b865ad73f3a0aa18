import { fork, spawn, type ChildProcess } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { freePort } from "../test/services/free-port.js"
import { throwawayDatabase } from "../test/daemon/daemon-harness.js"
import { percentile, round, type Bench, type Figure } from "./harness.js"
import { account, BENCH_INSTRUMENT, type InternalSamples, type VenueCommand, type VenueReply } from "./tick/protocol.js"

/**
 * tick_to_order, in the process layout of a real deployment: the venue (exchange simulator, feed
 * driver, and the clock of every sample) in one process; the client under test in another. The
 * clients, one after the other in one run, each in the same position:
 * - the floor: a bare `ws` + keep-alive `http.request` client (bench/tick/floor-client.ts);
 * - the daemon, started as a user starts it (`troupe daemon --config`, sources through tsx) with
 *   the strategy from bench/tick/taker.strategy.ts, the real file journal (write-ahead) under each
 *   durability, the audit projection on (Postgres; PGlite beside), and the real risk checks with
 *   Kraken Futures' real venue budget (500 per 10 s, sendorder 10, 100 kept for cancels: 40 orders
 *   per 10 s) — so the feed triggers one order per 300 ms (3.3/s), inside it;
 * - the ccxt.pro `krakenfutures` bot (bench/tick/ccxt-bot.ts), same decision, throttle off.
 * A sample: the venue publishes a change of the best bid's size → the venue's HTTP server sees that
 * client's `sendorder`. A trigger without an order before the next one is `missed` and counts as
 * +∞ in the percentiles. Inside each client a preloaded probe (bench/tick/probe.ts) times frame in
 * → request bytes written (`internal`) and the CPU spent over the measured span.
 * Left out: Kafka (the daemon here uses the file journal), the private feed's fills (IOC orders at
 * the bid never fill), more than one instrument or strategy.
 */

const PHASE_MS = Number(process.env["TICK_BENCH_PHASE_MS"] ?? 15_000)
const WARMUP_MS = Number(process.env["TICK_BENCH_WARMUP_MS"] ?? 4_000)
const root = fileURLToPath(new URL("..", import.meta.url))
const tick = (f: string): string => join(root, "bench", "tick", f)

type Contender = { readonly kind: "floor" } | { readonly kind: "ccxt" } | { readonly kind: "daemon"; readonly durability: "os" | "fsync"; readonly store: "postgres" | "pglite"; readonly root?: string }

interface PhaseResult {
  readonly latenciesUs: number[]
  readonly missed: number
  readonly orders: number
  readonly internal: InternalSamples | undefined
  /** The daemon's per-hop trace (src/actors/trace/hop-trace.ts) over the measured span. */
  readonly hops: HopTable | undefined
}

/** Per hop of the order path: the time from the previous stamped hop, µs (p50 / p99 / samples). */
type HopTable = ReadonlyArray<{ readonly hop: string; readonly p50: number; readonly p99: number; readonly n: number }>

/**
 * The daemon's hop rows (epoch ms per hop, null where not stamped) inside [from, to] (by frame
 * in, else by intent): each hop's time since the previous stamped hop of its row, and the row's
 * whole span (first stamp → last) as `total`.
 */
const hopTable = (file: string, from: number, to: number): HopTable | undefined => {
  if (!existsSync(file)) return undefined
  const { hops, rows } = JSON.parse(readFileSync(file, "utf8")) as { hops: string[]; rows: Array<Array<number | null>> }
  const inSpan = rows.filter((r) => {
    const t = r[0] ?? r[3]
    return t !== null && t !== undefined && t >= from && t <= to
  })
  const per: number[][] = hops.map(() => [])
  const total: number[] = []
  for (const r of inSpan) {
    let prev: number | undefined
    let first: number | undefined
    r.forEach((t, h) => {
      if (t === null) return
      if (prev !== undefined) per[h]?.push((t - prev) * 1000)
      first ??= t
      prev = t
    })
    if (first !== undefined && prev !== undefined) total.push((prev - first) * 1000)
  }
  const row = (hop: string, xs: number[]) => {
    const s = Float64Array.from(xs).sort()
    return { hop, p50: round(percentile(s, 50), 1), p99: round(percentile(s, 99), 1), n: s.length }
  }
  return [...hops.slice(1).map((h, i) => row(h, per[i + 1] ?? [])), row("total", total)]
}

const printHops = (label: string, t: HopTable | undefined): void => {
  if (t === undefined) return
  process.stderr.write(`  ${label}: per hop (µs since the previous hop)\n  ${"hop".padEnd(14)}${"p50".padStart(10)}${"p99".padStart(10)}${"n".padStart(6)}\n`)
  for (const h of t) process.stderr.write(`  ${h.hop.padEnd(14)}${String(h.p50).padStart(10)}${String(h.p99).padStart(10)}${String(h.n).padStart(6)}\n`)
}

/** `TICK_BENCH_CLIENTS=floor,os,ccxt` runs only those (default all: floor, os, fsync, pglite, ccxt). */
const CLIENTS = new Set((process.env["TICK_BENCH_CLIENTS"] ?? "floor,os,fsync,pglite,ccxt").split(",").map((s) => s.trim()))

const exited = (child: ChildProcess): Promise<void> => (child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once("exit", () => r())))

const stats = (latencies: ReadonlyArray<number>, missed: number) => {
  const s = Float64Array.from([...latencies, ...Array.from({ length: missed }, () => Number.POSITIVE_INFINITY)]).sort()
  return { p50: round(percentile(s, 50), 1), p99: round(percentile(s, 99), 1), n: s.length }
}

const run = async (): Promise<ReadonlyArray<Figure>> => {
  const tmp = mkdtempSync(join(tmpdir(), "troupe-tick-"))
  const venue = fork(tick("venue-process.ts"), [], { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] })
  const replies: VenueReply[] = []
  const waiters: Array<() => void> = []
  venue.on("message", (m: VenueReply) => {
    replies.push(m)
    for (const w of waiters.splice(0)) w()
  })
  const next = async <K extends VenueReply["kind"]>(kind: K): Promise<Extract<VenueReply, { kind: K }>> => {
    for (;;) {
      const i = replies.findIndex((r) => r.kind === kind)
      if (i >= 0) return replies.splice(i, 1)[0] as Extract<VenueReply, { kind: K }>
      if (venue.exitCode !== null) throw new Error(`the venue process exited (${venue.exitCode})`)
      await new Promise<void>((r) => waiters.push(r))
    }
  }
  let driveId = 0
  const drive = async (ms: number, apiKey: string | undefined) => {
    const id = ++driveId
    venue.send({ cmd: "drive", id, ms, apiKey } satisfies VenueCommand)
    return next("driven")
  }
  const db = process.env["DATABASE_URL"] !== undefined ? await throwawayDatabase(process.env["DATABASE_URL"], "troupe_tick") : undefined
  const children: ChildProcess[] = []
  try {
    const { url, wsUrl, rate, every } = await next("ready")
    const baseUrl = `${url}/derivatives`

    const start = async (c: Contender, probeOut: string, traceOut: string): Promise<{ child: ChildProcess; ready: () => Promise<void>; apiKey: string; log: () => string }> => {
      const env = { PATH: process.env["PATH"] ?? "", TICK_PROBE_OUT: probeOut }
      // TICK_BENCH_CPU_PROF=<dir>: each client process writes V8 CPU profiles to <dir>/<client>/ at
      // exit, one per thread (tsx's module-loader thread has its own; the main thread's is the
      // larger) — summarise with `node bench/tick/profile-summary.mjs <file.cpuprofile>`.
      const prof = process.env["TICK_BENCH_CPU_PROF"]
      const execArgv = ["--import", "tsx", "--import", tick("probe.ts"), ...(prof !== undefined ? ["--cpu-prof", "--cpu-prof-dir", join(prof, `${c.kind}${c.kind === "daemon" ? `-${c.durability}-${c.store}` : ""}`)] : [])]
      let log = ""
      const cwd = c.kind === "daemon" && c.root !== undefined ? c.root : root
      const spawned = (args: string[], extraEnv: Record<string, string> = {}): ChildProcess => {
        const child = spawn(process.execPath, [...execArgv, ...args], { cwd, env: { ...env, ...extraEnv }, stdio: ["ignore", "ignore", "pipe"] })
        child.stderr?.on("data", (b: Buffer) => (log = (log + b.toString()).slice(-8000)))
        children.push(child)
        return child
      }
      // The bare client says "ready" on stderr once the book feed reaches it, the bot once its
      // markets are loaded (ccxt's watchOrderBook returns only after a book update: the warm-up).
      const saysReady = (child: ChildProcess) => async (): Promise<void> => {
        const deadline = Date.now() + 180_000
        while (!log.includes("ready\n")) {
          if (child.exitCode !== null) throw new Error(`${c.kind} exited (${child.exitCode}):\n${log}`)
          if (Date.now() > deadline) throw new Error(`${c.kind} was not ready in 180 s:\n${log}`)
          await new Promise((r) => setTimeout(r, 100))
        }
      }
      if (c.kind === "floor") {
        const child = spawned([tick("floor-client.ts"), baseUrl, wsUrl])
        return { child, ready: saysReady(child), apiKey: account("floor").apiKey, log: () => log }
      }
      if (c.kind === "ccxt") {
        const child = spawned([tick("ccxt-bot.ts"), baseUrl, wsUrl])
        return { child, ready: saysReady(child), apiKey: account("ccxt").apiKey, log: () => log }
      }
      const home = mkdtempSync(join(tmp, `daemon-${c.durability}-${c.store}-`))
      const a = account("daemon")
      const config = {
        venue: { id: "simulator", account: "bench", baseUrl, wsUrl, apiKey: a.apiKey, apiSecret: a.apiSecret },
        risk: { strategyOrdersPerSecond: 20 },
        strategies: [{ id: "tick-taker", kind: join(cwd, "bench", "tick", "taker.strategy.ts"), instruments: [BENCH_INSTRUMENT], params: {} }],
        journal: { kind: "file", durability: c.durability },
        ...(c.store === "postgres" && db !== undefined ? { databaseUrl: db.url } : { store: { kind: "pglite" } })
      }
      const configFile = join(home, "config.json")
      writeFileSync(configFile, JSON.stringify(config))
      const port = await freePort()
      const child = spawned(["src/cli/main.ts", "daemon", "--config", configFile, "--port", String(port)], { TROUPE_HOME: home, ...(process.env["TICK_BENCH_HOP_TRACE"] === "1" ? { TROUPE_HOP_TRACE: traceOut } : {}) })
      const ready = async (): Promise<void> => {
        const deadline = Date.now() + 120_000
        for (;;) {
          if (child.exitCode !== null) throw new Error(`the daemon exited (${child.exitCode}):\n${log}`)
          const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then(
            (r) => r.status === 200,
            () => false
          )
          if (ok) return
          if (Date.now() > deadline) throw new Error(`the daemon was not ready in 120 s:\n${log}`)
          await new Promise((r) => setTimeout(r, 250))
        }
      }
      return { child, ready, apiKey: a.apiKey, log: () => log }
    }

    const phase = async (c: Contender, label: string): Promise<PhaseResult> => {
      process.stderr.write(`  tick_to_order: ${label}\n`)
      const probeOut = join(tmp, `${label}.probe.json`)
      const traceOut = join(tmp, `${label}.hops.json`)
      const client = await start(c, probeOut, traceOut)
      try {
        await client.ready()
        // Warm up until the client trades (a daemon is ready before its strategies have the book).
        const warmUntil = Date.now() + 180_000
        while ((await drive(WARMUP_MS, client.apiKey)).orders === 0) {
          if (Date.now() > warmUntil) throw new Error(`${label} sent no order in 180 s of warm-up:\n${client.log()}`)
        }
        const from = process.hrtime.bigint() / 1000n
        const fromWall = Date.now()
        const measured = await drive(PHASE_MS, client.apiKey)
        const toWall = Date.now()
        // The measured span on the monotonic clock V8's profiles use (µs), for profile-summary.mjs.
        if (process.env["TICK_BENCH_CPU_PROF"] !== undefined) process.stderr.write(`  profile window ${label}: --from ${from} --to ${process.hrtime.bigint() / 1000n}\n`)
        client.child.kill("SIGTERM")
        await exited(client.child)
        const internal = existsSync(probeOut) ? (JSON.parse(readFileSync(probeOut, "utf8")) as InternalSamples) : undefined
        const hops = hopTable(traceOut, fromWall, toWall)
        printHops(label, hops)
        return { ...measured, internal, hops }
      } finally {
        if (client.child.exitCode === null && client.child.signalCode === null) {
          client.child.kill("SIGKILL")
          await exited(client.child)
        }
      }
    }

    const skipped: PhaseResult = { latenciesUs: [], missed: 0, orders: 0, internal: undefined, hops: undefined }
    const maybe = (key: string, c: Contender, label: string): Promise<PhaseResult> => (CLIENTS.has(key) ? phase(c, label) : Promise.resolve(skipped))
    const floor1 = await maybe("floor", { kind: "floor" }, "floor-1")
    const os = await maybe("os", { kind: "daemon", durability: "os", store: "postgres" }, "daemon-os-postgres")
    // TICK_BENCH_BEFORE=<checkout>: the same daemon phase from another checkout (e.g. the code
    // before a change, `git archive <commit> | tar -x`), in this run: a same-run before/after.
    const beforeRoot = process.env["TICK_BENCH_BEFORE"]
    const before = beforeRoot === undefined ? undefined : await phase({ kind: "daemon", durability: "os", store: "postgres", root: beforeRoot }, "daemon-os-postgres-before")
    const fsync = await maybe("fsync", { kind: "daemon", durability: "fsync", store: "postgres" }, "daemon-fsync-postgres")
    const pglite = await maybe("pglite", { kind: "daemon", durability: "os", store: "pglite" }, "daemon-os-pglite")
    const bot = await maybe("ccxt", { kind: "ccxt" }, "ccxt")
    const floor2 = await maybe("floor", { kind: "floor" }, "floor-2")

    const floor = stats([...floor1.latenciesUs, ...floor2.latenciesUs], floor1.missed + floor2.missed)
    const e2e = (r: PhaseResult) => stats(r.latenciesUs, r.missed)
    const internal = (r: PhaseResult) => {
      const s = stats(r.internal?.internalUs ?? [], 0)
      const cpu = r.internal === undefined || r.internal.uptimeMs <= 0 ? undefined : round((100 * (r.internal.cpuUserUs + r.internal.cpuSystemUs)) / 1000 / r.internal.uptimeMs, 1)
      return { p50: s.p50, p99: s.p99, cpuPct: cpu }
    }
    const describe = (prefix: string, r: PhaseResult) => {
      const e = e2e(r)
      const i = internal(r)
      return { [`${prefix}p50_us`]: e.p50, [`${prefix}p99_us`]: e.p99, [`${prefix}missed`]: r.missed, [`${prefix}samples`]: e.n, [`${prefix}internal_p50_us`]: i.p50, [`${prefix}internal_p99_us`]: i.p99, [`${prefix}cpu_pct_of_core`]: i.cpuPct }
    }
    const d = e2e(os)
    const f = internal(floor1)
    const layout = `venue (simulator + feed driver + timing) in one process, the client in another; ${rate} book updates/s, a best-bid change every ${every} (one order per ${(every * 1000) / rate} ms: Kraken's budget of 40 sendorders per 10 s)`
    return [
      {
        name: "tick_to_order",
        value: d.p50,
        unit: "us",
        baseline: "bare ws + keep-alive http.request client (transport floor), same layout, same run",
        baseline_value: floor.p50,
        ratio: round(d.p50 / floor.p50, 3),
        ratio_p99: round(d.p99 / floor.p99, 3),
        goal: "ratio ≤ 1.2; internal p50 ≤ 50 µs, p99 ≤ 250 µs (os durability)",
        ...describe("", os),
        floor_p50_us: floor.p50,
        floor_p99_us: floor.p99,
        floor_missed: floor1.missed + floor2.missed,
        floor_samples: floor.n,
        floor_internal_p50_us: f.p50,
        floor_internal_p99_us: f.p99,
        floor_cpu_pct_of_core: f.cpuPct,
        ...describe("fsync_", fsync),
        ...describe("pglite_", pglite),
        hops: os.hops,
        ...(before === undefined ? {} : describe("before_", before)),
        fsync_hops: fsync.hops,
        durability: "os (fsync_* beside); audit projection Postgres (pglite_* beside, os)",
        note: "a percentile of null is +∞: a missed trigger falls in it",
        layout
      },
      {
        name: "tick_to_order.vs_ccxt",
        value: d.p50,
        unit: "us",
        baseline: "ccxt.pro krakenfutures bot (watchOrderBook → createOrder, throttle off), same simulator, same run",
        baseline_value: e2e(bot).p50,
        ratio: round(d.p50 / e2e(bot).p50, 3),
        goal: "ratio ≤ 0.8 (os durability)",
        fsync_ratio: round(e2e(fsync).p50 / e2e(bot).p50, 3),
        ...describe("daemon_", os),
        ...describe("ccxt_", bot),
        floor_p50_us: floor.p50,
        floor_p99_us: floor.p99,
        note: "no internal figure for ccxt: it bundles its own WebSocket, which the probe does not see; a percentile of null is +∞ (a missed trigger falls in it)",
        layout
      }
    ]
  } finally {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL")
    await Promise.all(children.map(exited))
    if (venue.connected) {
      venue.send({ cmd: "stop" } satisfies VenueCommand)
      await Promise.race([exited(venue), new Promise((r) => setTimeout(r, 5_000).unref())])
    }
    if (venue.exitCode === null) venue.kill("SIGKILL")
    await exited(venue)
    await db?.drop()
    rmSync(tmp, { recursive: true, force: true })
  }
}

export const benches: ReadonlyArray<Bench> = [{ name: "tick_to_order", needs: ["postgres"], run }]
