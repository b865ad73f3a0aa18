import { readdirSync, readFileSync, statSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { RiskActor } from "../../src/actors/risk/index.js"
import { StepSafeTime } from "../../src/actors/risk/rate-limiter.js"
import { TradingNode } from "../../src/daemon/trading-node.js"
import { runSeed } from "../../src/simulation/run-seed.js"
import { SimVenue } from "../../src/simulation/sim-venue.js"
import { failureReport } from "../../src/simulation/main.js"

// The deterministic simulation itself: one seed is one byte-identical run; a failing seed is a
// bug report; the simulated parts take time and chance only from injected services.

/** A seed whose run fails only with both defenses of the halt across a core restart removed (found by searching; moves when the model changes). */
const HALT_SEED = 883

describe("deterministic simulation", () => {
  it("gives the same journal, byte for byte, for the same seed, and another one for another seed", async () => {
    const a = await runSeed({ seed: 7, profile: "safety", minutes: 0.2 })
    const b = await runSeed({ seed: 7, profile: "safety", minutes: 0.2 })
    const c = await runSeed({ seed: 8, profile: "safety", minutes: 0.2 })
    expect(a.stats.events).toBeGreaterThan(50)
    expect(b.journalHash).toBe(a.journalHash)
    expect(b.faults).toEqual(a.faults)
    expect(c.journalHash).not.toBe(a.journalHash)
  }, 60_000)

  // Regression, found by the simulation: a trading core rebuilt while the journal was down read a
  // ledger without the events still in the journal's backlog — here the operator's halt — and
  // traded again. The restart now waits for EventJournal.settled(); with the old wait
  // (`durable()`, false at once during an outage) the same seed fails.
  // (Seed 36 when found, then 97, 285, 450 and 883 as the model's restarts changed; see HALT_SEED.)
  it(`seed ${HALT_SEED} (safety): a core restarted during a journal outage keeps the operator's halt`, async () => {
    const fixed = await runSeed({ seed: HALT_SEED, profile: "safety", minutes: 0.25 })
    expect(fixed.violations).toEqual([])
    expect(fixed.stats.coreRestarts + fixed.stats.nodeRestarts).toBeGreaterThan(0)
    // Two defenses hold the halt now: the restart waits for the backlog (settled), and the new core
    // takes over the old core's causes (RiskActor.inherit). Without both, the same seed fails.
    const withoutInherit = () => {
      const own = Object.getOwnPropertyDescriptor(RiskActor.prototype, "inherit")
      Object.defineProperty(RiskActor.prototype, "inherit", { value: () => undefined, configurable: true, writable: true })
      return () => {
        if (own !== undefined) Object.defineProperty(RiskActor.prototype, "inherit", own)
      }
    }
    const old = await runSeed({ seed: HALT_SEED, profile: "safety", minutes: 0.25, settle: (journal) => journal.durable(), mutate: withoutInherit })
    expect(old.violations[0]?.invariant).toBe("operatorHaltLifted")
    const report = failureReport(old, 0.25, "abc123")
    expect(report).toContain(`SEED ${HALT_SEED} FAILED (profile safety, commit abc123`)
    expect(report).toContain("first violated invariant: operatorHaltLifted")
    expect(report).toContain(`reproduce: npm run sim -- --seeds 1 --from ${HALT_SEED} --faults safety --minutes 0.25`)
    expect(report).toContain("operator HALT")
  }, 60_000)

  // Found by the 2,000-seed run as approvalViolatesLimit (safety 387, 957, 958): after a node
  // crash the successor traded on the ledger's position before it knew the fills the venue had
  // made while it was down (the simulation reconciled only after the strategies had started, and
  // with no restart time). The daemon reconciles (reconcileWithVenue) before any strategy starts,
  // and so does the simulation now: the same seeds keep every invariant.
  // Found by the 2,000-seed run as notConverged (liveness 104, 170, 220, 736; safety 170, 220, 736):
  // a reduce-only IOC larger than the position, which the venue reduced to the position, filled
  // and closed as full_fill, stayed open in the ledger for ever (the gateway passed over the
  // close; the fills were short of the order). The Kraken gateway now reports the remainder of an
  // immediate order canceled after its fills (test/adapters/kraken-futures/ioc-partial-fill.test.ts),
  // and the simulated venue models that decision.
  it("seeds 104 (liveness), 220 (safety): a reduce-only IOC the venue reduced closes, and the ledger converges", async () => {
    for (const [seed, profile] of [[104, "liveness"], [220, "safety"]] as const) {
      const r = await runSeed({ seed, profile, minutes: 0.25 })
      expect(r.violations.map((v) => `${profile} ${seed}: ${v.invariant} ${v.detail}`)).toEqual([])
      const canceled = r.journal
        .records("orders")
        .map((rec) => new TextDecoder().decode(rec.payload))
        .filter((t) => t.includes("OrderCanceled") && t.includes("the venue reduced or closed the order"))
      expect(canceled.length, `${profile} ${seed}`).toBeGreaterThan(0)
    }
  }, 60_000)

  it("seeds 387, 957, 958 (safety): a restarted node reconciles with the venue before its strategies trade", async () => {
    for (const seed of [387, 957, 958]) {
      const r = await runSeed({ seed, profile: "safety", minutes: 0.25 })
      expect(r.stats.nodeRestarts, `seed ${seed}`).toBeGreaterThan(0)
      expect(r.violations.map((v) => `${seed}: ${v.invariant} ${v.detail}`)).toEqual([])
    }
  }, 60_000)

  // Regression, found by the simulation: an operator's halt made while the trading core was down
  // (crashed, its rebuild waiting for the journal) went to the stopped core and was lost; the
  // rebuilt core took over the stopped core's causes and the ledger's, neither of which had it,
  // and traded through the halt. TradingNode now holds trading-state changes made while the core
  // is down and applies them to the rebuilt core. With the old routing (straight to the current
  // core, stopped or not) the same seeds fail.
  it("seeds 504 (safety) and 918 (liveness): an operator's halt made while the trading core is down holds on the rebuilt core", async () => {
    const straightToCore = () => {
      const own = Object.getOwnPropertyDescriptor(TradingNode.prototype, "change")
      Object.defineProperty(TradingNode.prototype, "change", {
        value: function (this: { core: unknown }, f: (core: unknown) => void) {
          f(this.core)
        },
        configurable: true,
        writable: true
      })
      return () => {
        if (own !== undefined) Object.defineProperty(TradingNode.prototype, "change", own)
      }
    }
    for (const [seed, profile] of [
      [504, "safety"],
      [918, "liveness"]
    ] as const) {
      const fixed = await runSeed({ seed, profile, minutes: 0.25 })
      expect(fixed.violations).toEqual([])
      expect(fixed.faults.operatorHalt).toBe(1)
      expect(fixed.stats.coreRestarts).toBeGreaterThan(0)
      const old = await runSeed({ seed, profile, minutes: 0.25, mutate: straightToCore })
      expect(old.violations[0]?.invariant).toBe("operatorHaltLifted")
    }
  }, 60_000)

  // Regression, found by the simulation: reads sent while the journal was down had their spend
  // record (VenueRequestSent) only in the journal's backlog; a node crash lost it, and the
  // restarted node's rate limiter, restored from the journal, under-counted what the venue still
  // counted in its window — the venue then refused a call (apiLimitExceeded by its accounting).
  // A read now goes out only once its spend record is journaled (writeAheadBudget). With reads
  // sent at once the same seeds fail. Found with an instant node restart (the model then): with the
  // deploy unit's 2 s downtime the crashed run's spend has partly left the venue's 10 s window and
  // the gap needs a busier window, so the regression keeps the restart instant.
  it("seeds 866 (safety) and 912 (liveness): reads made during a journal outage are not forgotten by the rate limiter after a node crash", async () => {
    for (const [seed, profile] of [
      [866, "safety"],
      [912, "liveness"]
    ] as const) {
      const fixed = await runSeed({ seed, profile, minutes: 0.25, nodeRestartMs: 0 })
      expect(fixed.violations).toEqual([])
      expect(fixed.stats.nodeRestarts).toBeGreaterThan(0)
      expect(fixed.faults.journalAppendFailed).toBeGreaterThan(0)
      const old = await runSeed({ seed, profile, minutes: 0.25, nodeRestartMs: 0, writeAheadReads: (budget) => budget })
      expect(old.violations[0]?.invariant).toBe("rateBudgetExceeded")
    }
  }, 60_000)

  // Regression, found by the simulation (with the store and clock faults added, which moved its
  // timing): a trading core crashed while the gateway was resolving a submit's unknown outcome;
  // the read it needed was refused (the crashed core's budget closed) and the gateway left the
  // outcome "to reconciliation" — the order stayed submitted in the ledger, counted as open, until
  // the next restart (notConverged). The Kraken gateway (and the model, sim-venue.ts) now ask the
  // rebuilt core's budget again; with the refused read dropped, as before, the seed fails. (Seed 48
  // when found; 1187 after the margin and contract changes moved the model's timing.)
  it("seed 1187 (safety): a read refused by a restarting trading core is asked again, and the unknown outcome resolves", async () => {
    const dropRefusedReads = (): (() => void) => {
      const proto = SimVenue.prototype as unknown as { read: (call: string, then: () => void, attempt?: number) => void }
      const { read } = proto
      proto.read = function (this: unknown, call, then) {
        read.call(this, call, then, 1_000)
      }
      return () => {
        proto.read = read
      }
    }
    const fixed = await runSeed({ seed: 1187, profile: "safety", minutes: 0.25 })
    expect(fixed.violations).toEqual([])
    expect(fixed.faults.timeoutUnknownOutcome).toBeGreaterThan(0)
    expect(fixed.stats.coreRestarts).toBeGreaterThan(0)
    const old = await runSeed({ seed: 1187, profile: "safety", minutes: 0.25, mutate: dropRefusedReads })
    expect(old.violations[0]?.invariant).toBe("notConverged")
  }, 60_000)

  // Regression, found by the simulation's backward clock steps (clockJumpBack): the rate limiter's
  // sliding window ran on the wall clock, so after the node's clock stepped back every spend
  // counted for the length of the step longer — a read waited for the budget past the end of the
  // run (notConverged); a step back of an hour would stop all trading for an hour. The limiter now
  // counts a step back as no time passing (StepSafeTime). With the wall clock read directly the
  // same seeds fail.
  it("seeds 79 and 85 (safety): a backward step of the node's clock does not hold the rate budget for the length of the step", async () => {
    const wallTime = (): (() => void) => {
      const proto = StepSafeTime.prototype as unknown as { now: () => number; fromWall: (at: number) => number }
      const { now, fromWall } = proto
      proto.now = function (this: { wall: () => number }) {
        return this.wall()
      }
      proto.fromWall = (at) => at
      return () => {
        proto.now = now
        proto.fromWall = fromWall
      }
    }
    for (const seed of [79, 85]) {
      const fixed = await runSeed({ seed, profile: "safety", minutes: 0.25 })
      expect(fixed.violations).toEqual([])
      expect(fixed.faults.clockJumpBack).toBe(1)
      const old = await runSeed({ seed, profile: "safety", minutes: 0.25, mutate: wallTime })
      expect(old.violations[0]?.invariant).toBe("notConverged")
    }
  }, 60_000)
})

/**
 * The simulated parts read time and chance only through injected services (the clock port, the
 * seeded generators). A direct `Date.now`, `Math.random`, `setTimeout`, `setInterval` or
 * `performance.now` there would make a seed unrepeatable. Each known exception is listed with the
 * reason it cannot reach a simulated run.
 */
describe("no wall clock or Math.random in the simulated parts", () => {
  const SIMULATED = ["src/actors", "src/domain", "src/strategies", "src/machines", "src/simulation", "src/daemon/trading-node.ts", "src/daemon/write-ahead.ts", "src/daemon/recovery.ts", "src/daemon/trading-core-child.ts", "src/daemon/event-journal.ts", "src/adapters/venues/simulator/matching-engine.ts", "src/adapters/venues/simulator/synthetic-market.ts", "src/adapters/venues/simulator/exchange.ts", "src/replay/market-data.ts", "src/replay/replay-exchange.ts", "src/persistence/memory-store.ts"]
  // A member call (`clock.setTimeout(...)`) is an injected port, not the global.
  const BANNED = /(?<![.\w])(Date\.now|Math\.random|setTimeout|setInterval|performance\.now)\s*\(|new Date\(\)/
  const ALLOWED: Record<string, string> = {
    // The wall clock itself: the default the daemon injects, never the simulation's.
    "src/actors/clock.ts": "the wall clock implementation",
    // Metrics only: how long a mailbox batch took; never part of a decision or an event.
    "src/actors/host/actor-cell.ts": "processing-time histogram",
    // Per-hop latency stamps (off unless TROUPE_HOP_TRACE is set): written to a ring, never read by a decision.
    "src/actors/trace/hop-trace.ts": "per-hop latency stamps for the benches",
    // The default before a clock is injected (the node injects its clock).
    "src/actors/instrument/instrument.actor.ts": "default now() before injection",
    // Node's timer when no simulated one is injected (the simulation injects setTimer).
    "src/daemon/event-journal.ts": "default timer when none is injected",
    // The strategy sandbox's timer facade is built on the injected clock; the word appears as its API name.
    "src/actors/strategy/strategy-runtime.ts": "the strategy-facing setTimeout API, backed by the injected clock",
    "src/strategies/ports.ts": "the strategy-facing setTimeout API (a type)",
    // The simulation's wall-time report (seeds per minute), outside the simulated run.
    "src/simulation/main.ts": "wall time of the CLI report"
  }
  /** Single lines allowed in otherwise checked files: defaults the simulation replaces by injection. */
  const ALLOWED_LINES: ReadonlyArray<readonly [string, string]> = [
    ["src/daemon/trading-node.ts", "this.deps.log ?? "],
    ["src/adapters/venues/simulator/exchange.ts", "now: () => Date.now(),"],
    ["src/adapters/venues/simulator/exchange.ts", "setTimeout: (fn, ms) => setTimeout(fn, ms),"]
  ]
  const files = (p: string): string[] => (statSync(p).isDirectory() ? readdirSync(p).flatMap((n) => files(join(p, n))) : p.endsWith(".ts") ? [p] : [])

  it("finds none outside the listed exceptions", () => {
    const found: string[] = []
    for (const root of SIMULATED) {
      for (const f of files(root)) {
        if (ALLOWED[f] !== undefined) continue
        readFileSync(f, "utf8")
          .split("\n")
          .forEach((line, i) => {
            const code = line.replace(/\/\/.*$/, "")
            if (ALLOWED_LINES.some(([file, text]) => file === f && line.includes(text))) return
            if (BANNED.test(code) && !/^\s*\*/.test(line)) found.push(`${f}:${i + 1}: ${line.trim()}`)
          })
      }
    }
    expect(found).toEqual([])
  })
})
