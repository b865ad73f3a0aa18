import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Effect, Option } from "effect"
import type { JournalOffset } from "../src/actors/ports/journal.js"
import type { StoreService } from "../src/actors/ports/store.js"
import { openFileJournal, type FileJournal } from "../src/adapters/journal/file/file-journal.js"
import { defaultInstrument } from "../src/adapters/venues/simulator/instruments.js"
import { MatchingEngine } from "../src/adapters/venues/simulator/matching-engine.js"
import { MAKER_ACCOUNT, SyntheticMarket, TAKER_ACCOUNT, type MarketVenue } from "../src/adapters/venues/simulator/synthetic-market.js"
import type { EngineEffect } from "../src/adapters/venues/simulator/engine-types.js"
import { defaultStrategies } from "../src/daemon/daemon.js"
import { DEFAULT_JOURNAL_RETENTION, pruneFileJournal } from "../src/daemon/journal-retention.js"
import { LEDGER_VERSION, TradingLedger } from "../src/domain/ledger.js"
import { DEFAULT_START_MS, type MarketInput, type MarketMessage } from "../src/replay/market-input.js"
import { runReplay } from "../src/replay/replay.js"
import { replayInstruments } from "../src/replay/instruments.js"
import avellanedaStoikov from "../src/strategies/examples/avellaneda-stoikov.js"
import { emit, round, type Bench, type Figure } from "./harness.js"

/**
 * soak.memory: the trading node with the daemon's demo market makers (defaultStrategies: one
 * Avellaneda–Stoikov market maker per embedded symbol) trades for SOAK_HOURS (default 24) of
 * simulated time through the replay (runReplay: TradingNode + StrategyHost on a simulated clock
 * against the simulator's matching engine), on the simulator's seeded synthetic market streamed
 * at the embedded venue's default rate (20 messages/s), as many orders as risk's venue budget
 * allows. Events go to the daemon's file journal (64 MiB segments, no fsync); every SOAK_SAMPLE_MIN
 * simulated minutes the bench does what the daemon does periodically — project the audit trail,
 * snapshot the ledger, one retention pass with the default policy — then forces GC and samples
 * heapUsed and RSS.
 *
 * Figures: heap and RSS growth per simulated hour over the second half (least squares over the
 * samples; goal under 1 MB/h), each beside the same slope over the first half (warm-up: caches,
 * JIT, the bounded sets filling to their caps) measured in the same run; journal MiB on disk at
 * the end beside the bound the policy gives for this run.
 *
 * Left out: the store (audit rows are handed to a store that keeps nothing, so PGlite's or
 * Postgres' memory is not measured), the control API, inspector and metrics HTTP, WebSockets and
 * the Kraken gateway (the venue is in-process), Kafka. RSS includes V8's code space and the
 * allocator's retained pages, so it moves in steps; heap after a forced GC is the tighter figure.
 *
 * Alone: `node --expose-gc --import tsx bench/soak-memory.bench.ts [hours]` (SOAK_HOURS,
 * SOAK_RATE, SOAK_SAMPLE_MIN as environment). Under `npm run bench` (no --expose-gc) GC is
 * forced through v8 flags at run time.
 */
const HOURS = Number(process.env["SOAK_HOURS"] ?? 24)
/** Synthetic market messages per simulated second (the embedded simulator's default is 20). */
const RATE = Number(process.env["SOAK_RATE"] ?? 20)
const SAMPLE_MIN = Number(process.env["SOAK_SAMPLE_MIN"] ?? 30)
const MIB = 1024 * 1024
const HOUR = 3_600_000

const forceGc = async (): Promise<() => void> => {
  const g = (globalThis as { gc?: () => void }).gc
  if (g !== undefined) return g
  const v8 = await import("node:v8")
  const vm = await import("node:vm")
  v8.setFlagsFromString("--expose-gc")
  return vm.runInNewContext("gc") as () => void
}

/** The synthetic market of the embedded simulator, as replay messages produced on demand. */
function* syntheticMarket(symbols: ReadonlyArray<string>, seed: number, ticks: number, stepMs: number): Generator<MarketMessage> {
  const engine = new MatchingEngine({ instruments: symbols.map(defaultInstrument), seed })
  // The generator's own participants: their history nobody reads.
  engine.skipBooking(MAKER_ACCOUNT)
  engine.skipBooking(TAKER_ACCOUNT)
  let t = DEFAULT_START_MS
  let out: MarketMessage[] = []
  const record = (effects: ReadonlyArray<EngineEffect>): void => {
    for (const e of effects) {
      if (e.kind === "book") out.push({ kind: "level", ts: t, symbol: e.symbol, side: e.side, price: e.price, qty: e.qty })
      else if (e.kind === "trade") out.push({ kind: "trade", ts: t, symbol: e.symbol, side: e.takerSide, price: e.price, qty: e.qty })
    }
  }
  let on = false
  const venue: MarketVenue = {
    engine,
    send: (cmd) => {
      const r = engine.send(cmd, t)
      if (on) record(r.effects)
      return r
    },
    cancel: (ref) => {
      const r = engine.cancel(ref, t)
      if (on) record(r.effects)
      return r
    },
    edit: (cmd) => {
      const r = engine.edit(cmd, t)
      if (on) record(r.effects)
      return r
    }
  }
  const market = new SyntheticMarket(venue, { seed: seed + 1, levels: 10, takerShare: 0.15, walkShare: 0.2 })
  market.populate()
  for (const symbol of symbols) {
    const d = engine.depth(symbol)
    yield { kind: "snapshot", ts: t, symbol, bids: d.bids.map(([price, qty]) => ({ price, qty })), asks: d.asks.map(([price, qty]) => ({ price, qty })) }
  }
  on = true
  for (let k = 0; k < ticks; k++) {
    t += stepMs
    market.tick()
    yield* out
    out = []
  }
}

/** Least-squares slope of y over x. */
const slope = (pts: ReadonlyArray<readonly [number, number]>): number => {
  const n = pts.length
  if (n < 2) return Number.NaN
  const mx = pts.reduce((a, p) => a + p[0], 0) / n
  const my = pts.reduce((a, p) => a + p[1], 0) / n
  const sxy = pts.reduce((a, p) => a + (p[0] - mx) * (p[1] - my), 0)
  const sxx = pts.reduce((a, p) => a + (p[0] - mx) ** 2, 0)
  return sxx === 0 ? Number.NaN : sxy / sxx
}

export const soakMemory = async (hours = HOURS): Promise<ReadonlyArray<Figure>> => {
  const gc = await forceGc()
  // The demo's market makers (its breakout taker shares SOL with mm-sol, so the symbols stay the same).
  const makers = defaultStrategies().filter((s) => s.kind === "avellaneda-stoikov")
  const symbols = makers.map((s) => String((s.params as { instrument: string }).instrument).split(":")[1] as string)
  const strategies = makers.map((s) => ({ strategy: avellanedaStoikov, params: s.params, strategyId: s.id as string }))
  const stepMs = 1000 / RATE
  const ticks = Math.round((hours * HOUR) / stepMs)
  const input: MarketInput = { source: `synthetic ${symbols.join(",")} ${RATE}/s`, kind: "recording", messages: [{ kind: "trade", ts: DEFAULT_START_MS, symbol: symbols[0] as string, side: "buy", price: defaultInstrument(symbols[0] as string).initialMid, qty: defaultInstrument(symbols[0] as string).tickSize }], symbols, specs: new Map(), skipped: 0 }
  const out = mkdtempSync(join(tmpdir(), "troupe-soak-"))
  const account = "soak"
  const actorId = `ledger/${account}`
  let files: FileJournal | undefined
  const { domain } = replayInstruments(input)
  const ledger = new TradingLedger((id) => domain.find((i) => i.id === id))
  // What the daemon keeps in its store for retention: the last ledger snapshot's offsets and the audit high watermark.
  let snapshotOffsets: ReadonlyArray<JournalOffset> = []
  let audited: ReadonlyArray<JournalOffset> = []
  const floorsFrom = {
    loadSnapshot: () => Effect.succeed(snapshotOffsets.length === 0 ? Option.none() : Option.some({ actorId, machineVersion: LEDGER_VERSION, snapshot: {}, offsets: snapshotOffsets, takenAt: 0 })),
    auditHighWatermark: () => Effect.succeed(audited)
  } as unknown as StoreService
  const samples: Array<{ h: number; heap: number; rss: number }> = []
  let pruned = 0
  let maxJournal = 0
  const wallStart = performance.now()
  try {
    const result = await runReplay({
      input,
      stream: { total: ticks, messages: syntheticMarket(symbols, 11, ticks, stepMs) },
      strategy: strategies[0]!.strategy,
      params: strategies[0]!.params,
      strategyId: strategies[0]!.strategyId,
      moreStrategies: strategies.slice(1),
      outDir: out,
      store: false,
      account,
      openJournal: async (dir: string, now: () => number) => {
        files = await Effect.runPromise(openFileJournal({ dir, fsync: { kind: "never" }, now }))
        return files
      },
      onJournal: (journal) => {
        journal.onAppended = (e, o) => {
          if (o.topic === "orders") ledger.apply(e, o)
        }
      },
      every: {
        simMs: SAMPLE_MIN * 60_000,
        run: async (simTime, journal) => {
          // The daemon's periodic work: audit projection, ledger snapshot, retention.
          while (journal.lag() > 0) await journal.project()
          // Everything appended so far is in the audit trail now: its high watermark is the end of the audited topics.
          if (files !== undefined) audited = (await Effect.runPromise(files.endOffsets())).filter((o) => o.topic === "orders" || o.topic === "control")
          // The snapshot as the daemon stores it (serialized), its offsets kept for the retention floor.
          JSON.stringify(ledger.toSnapshot())
          snapshotOffsets = ledger.coveredOffsets() as ReadonlyArray<JournalOffset>
          if (files !== undefined) {
            const r = await Effect.runPromise(pruneFileJournal(files, floorsFrom, actorId, DEFAULT_JOURNAL_RETENTION, simTime))
            pruned += r.reduce((a, x) => a + x.segments, 0)
            const bytes = Object.values(await Effect.runPromise(files.diskBytes())).reduce((a, b) => a + b, 0)
            maxJournal = Math.max(maxJournal, bytes)
          }
          gc()
          gc()
          const m = process.memoryUsage()
          const h = (simTime - DEFAULT_START_MS) / HOUR
          samples.push({ h, heap: m.heapUsed / MIB, rss: m.rss / MIB })
          process.stderr.write(`soak ${h.toFixed(1)} h simulated, ${((performance.now() - wallStart) / 1000).toFixed(0)} s wall: heap ${(m.heapUsed / MIB).toFixed(1)} MB, rss ${(m.rss / MIB).toFixed(1)} MB, journal ${(maxJournal / MIB).toFixed(0)} MB\n`)
        }
      },
      log: () => undefined
    })
    const wallS = (performance.now() - wallStart) / 1000
    const half = hours / 2
    const first = samples.filter((s) => s.h > 0 && s.h <= half)
    const second = samples.filter((s) => s.h >= half)
    const heap2 = slope(second.map((s) => [s.h, s.heap] as const))
    const heap1 = slope(first.map((s) => [s.h, s.heap] as const))
    const rss2 = slope(second.map((s) => [s.h, s.rss] as const))
    const rss1 = slope(first.map((s) => [s.h, s.rss] as const))
    const journalMb = files === undefined ? 0 : Object.values(await Effect.runPromise(files.diskBytes())).reduce((a, b) => a + b, 0) / MIB
    const run = { simulated_hours: hours, wall_s: round(wallS, 1), orders: result.orders, fills: result.fills, market_messages: result.messages, samples: samples.length }
    const bound = `orders/control: ${DEFAULT_JOURNAL_RETENTION.hours} h + one 64 MiB segment; md/strategy: min(${DEFAULT_JOURNAL_RETENTION.hours} h, ${DEFAULT_JOURNAL_RETENTION.maxMb} MiB) + one segment each`
    return [
      { name: "soak.memory.heap_mb_per_hour", value: round(heap2, 3), unit: "MB/simulated h", baseline: "first half of the same run", baseline_value: round(heap1, 3), goal: "< 1", heap_mb_end: round(samples.at(-1)?.heap ?? 0, 1), ...run },
      { name: "soak.memory.rss_mb_per_hour", value: round(rss2, 3), unit: "MB/simulated h", baseline: "first half of the same run", baseline_value: round(rss1, 3), goal: "< 1", rss_mb_end: round(samples.at(-1)?.rss ?? 0, 1), ...run },
      { name: "soak.memory.journal_mb", value: round(journalMb, 1), unit: "MiB on disk at the end", max_during_run_mb: round(maxJournal / MIB, 1), segments_deleted: pruned, policy: bound, ...run }
    ]
  } finally {
    rmSync(out, { recursive: true, force: true })
  }
}

export const benches: ReadonlyArray<Bench> = [{ name: "soak.memory", run: () => soakMemory() }]

// Alone: node --expose-gc --import tsx bench/soak-memory.bench.ts [hours]
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const hours = process.argv[2] === undefined ? HOURS : Number(process.argv[2])
  for (const f of await soakMemory(hours)) emit(f)
}
