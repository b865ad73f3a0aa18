import { expect } from "vitest"
import type { AnyEventObject, AnyStateMachine, SnapshotFrom } from "xstate"
import type { AccountId, InstrumentId, StrategyId, VenueId } from "../../src/domain/ids.js"
import { bookSyncMachine } from "../../src/machines/book-sync.machine.js"
import { nodeMachine } from "../../src/machines/node.machine.js"
import { strategyMachine } from "../../src/machines/strategy.machine.js"
import { effectiveStatus, tradingStateMachine, type TradingStateContext } from "../../src/machines/trading-state.machine.js"
import { backoffDelay, DEFAULT_BACKOFF, venueConnectionMachine } from "../../src/machines/venue-connection.machine.js"
import type { ModelSpec } from "./model.js"

type Snap = SnapshotFrom<AnyStateMachine>
const after = (delay: string, stateId: string): AnyEventObject => ({ type: `xstate.after.${delay}.${stateId}` })

/** Model specs of the five lifecycle machines: events that exercise every guard, and invariants. */
export const lifecycleSpecs: ReadonlyArray<ModelSpec & { readonly persistPath: ReadonlyArray<AnyEventObject> }> = [
  {
    name: "book-sync",
    machine: bookSyncMachine,
    inputs: [{ instrumentId: "kraken-futures:PF_XBTUSD" as InstrumentId }],
    events: [
      { type: "START" },
      { type: "STOP" },
      { type: "SUBSCRIBED" },
      { type: "SNAPSHOT", seq: 7 },
      { type: "ALIVE" },
      { type: "GAP", expected: 8, got: 10 },
      { type: "CROSSED" },
      { type: "DISCONNECTED" },
      { type: "RESTORED" },
      after("subscribeTimeout", "bookSync.subscribing"),
      after("snapshotTimeout", "bookSync.awaitingSnapshot"),
      after("staleAfter", "bookSync.live"),
      after("resyncAfter", "bookSync.stale"),
      after("subscribeTimeout", "bookSync.resyncing")
    ],
    serialize: (s) => JSON.stringify([s.value, (s.context as { lastResync: unknown }).lastResync, (s.context as { snapshotSeq: unknown }).snapshotSeq]),
    invariant: (next) => {
      const c = next.context as { snapshotSeq: number | null; resyncs: number; lastResync: string | null }
      if (next.value === "live" || next.value === "stale") expect(c.snapshotSeq, "a live book came from a snapshot").not.toBeNull()
      expect(c.resyncs === 0, "resync count and reason agree").toBe(c.lastResync === null)
    },
    persistPath: [{ type: "START" }, { type: "SUBSCRIBED" }, { type: "SNAPSHOT", seq: 3 }]
  },
  {
    name: "venue-connection",
    machine: venueConnectionMachine,
    inputs: [
      { venue: "simulator" as VenueId, backoff: { ...DEFAULT_BACKOFF, maxAttempts: 3 }, seed: 42 },
      // one attempt only: a drop from `subscribed` fails at once
      { venue: "simulator" as VenueId, backoff: { ...DEFAULT_BACKOFF, maxAttempts: 1 }, seed: 42 }
    ],
    events: [
      { type: "CONNECT" },
      { type: "DISCONNECT" },
      { type: "OPENED" },
      { type: "AUTHENTICATED" },
      { type: "HEARTBEAT" },
      { type: "FAILED", error: "socket closed" },
      { type: "RESET" },
      { type: "RESTORED" },
      after("connectTimeout", "venueConnection.online.connecting"),
      after("authTimeout", "venueConnection.online.authenticating"),
      after("heartbeatTimeout", "venueConnection.online.subscribed"),
      after("backoff", "venueConnection.online.backoff")
    ],
    serialize: (s) => JSON.stringify([s.value, (s.context as { attempts: number }).attempts]),
    invariant: (next) => {
      const c = next.context as { attempts: number; backoffMs: number; backoff: typeof DEFAULT_BACKOFF }
      expect(c.attempts).toBeLessThanOrEqual(c.backoff.maxAttempts)
      expect(c.backoffMs).toBeLessThanOrEqual(c.backoff.maxMs)
      expect(c.backoffMs).toBeGreaterThanOrEqual(0)
      if (next.value === "failed") expect(c.attempts).toBe(c.backoff.maxAttempts)
      if (JSON.stringify(next.value) === JSON.stringify({ online: "backoff" })) {
        expect(c.backoffMs).toBeGreaterThanOrEqual(backoffDelay(c.backoff, c.attempts, 1))
        expect(c.backoffMs).toBeLessThanOrEqual(backoffDelay(c.backoff, c.attempts, 0))
      }
    },
    persistPath: [{ type: "CONNECT" }, { type: "FAILED", error: "refused" }]
  },
  {
    name: "strategy",
    machine: strategyMachine,
    inputs: [{ strategyId: "mm-1" as StrategyId, configVersion: "v1" }],
    events: [
      { type: "START" },
      { type: "STARTED" },
      { type: "DEGRADE", reason: "book stale" },
      { type: "RECOVER" },
      { type: "RECONFIGURE", configVersion: "v2" },
      { type: "RECONFIGURED" },
      { type: "STOP" },
      { type: "STOPPED" },
      { type: "FAULT", error: "boom" },
      { type: "RESET" },
      { type: "RESTORED" },
      after("startTimeout", "strategy.starting"),
      after("stopTimeout", "strategy.stopping"),
      after("reconfigureTimeout", "strategy.reconfiguring")
    ],
    serialize: (s) => JSON.stringify([s.value, (s.context as { configVersion: string }).configVersion, (s.context as { pendingConfigVersion: unknown }).pendingConfigVersion]),
    invariant: (next) => {
      const c = next.context as { pendingConfigVersion: string | null; degradedReason: string | null }
      expect(c.pendingConfigVersion !== null, "a config is pending only while reconfiguring").toBe(next.value === "reconfiguring")
      if (next.value === "degraded") expect(c.degradedReason).not.toBeNull()
    },
    persistPath: [{ type: "START" }, { type: "STARTED" }, { type: "DEGRADE", reason: "x" }]
  },
  {
    name: "trading-state",
    machine: tradingStateMachine,
    inputs: [{ account: "acc-1" as AccountId }],
    events: [
      { type: "REDUCE", who: "operator:alice", why: "vol spike", at: 1 },
      { type: "REDUCE", who: "", why: "no name", at: 2 },
      { type: "HALT", who: "operator:bob", why: "venue incident", at: 3 },
      { type: "HALT", who: "operator:bob", why: " ", at: 4 },
      { type: "RESUME", who: "operator:alice", why: "all clear", at: 5 },
      { type: "RESUME", who: "", why: "", at: 6 },
      { type: "JOURNAL_FAILED", why: "disk full", at: 7 },
      { type: "JOURNAL_RECOVERED", why: "appends succeed", at: 8 },
      { type: "AUDIT_LAGGING", why: "pg down", at: 9 },
      { type: "AUDIT_CAUGHT_UP", why: "caught up", at: 10 },
      { type: "DAILY_LOSS_BREACHED", why: "loss 10500.25 beyond 10000", at: 11 },
      { type: "DAILY_LOSS_RECOVERED", why: "new day", at: 12 },
      { type: "RECONCILIATION_MISMATCH", why: "XBT ours 1 venue 2", at: 13 },
      { type: "LIFT", cause: "reconciliation", who: "operator:carol", why: "venue is right", at: 14 },
      { type: "LIFT", cause: "journal", who: "", why: "", at: 15 },
      { type: "LIFT", cause: "journal", who: "operator:dave", why: "journal checked by hand", at: 16 },
      { type: "LIFT", cause: "audit", who: "operator:dave", why: "store restored", at: 17 },
      { type: "LIFT", cause: "audit", who: "operator:dave", why: "", at: 18 },
      { type: "LIFT", cause: "dailyLoss", who: "operator:erin", why: "loss reviewed", at: 19 },
      { type: "LIFT", cause: "dailyLoss", who: " ", why: "x", at: 20 },
      { type: "LIFT", cause: "reconciliation", who: "operator:carol", why: "", at: 21 },
      { type: "VENUE_BANNED", why: "binance-usdm: HTTP 418", at: 22 },
      { type: "VENUE_BAN_ENDED", why: "binance-usdm: ban over", at: 23 },
      { type: "LIFT", cause: "venueBan", who: "operator:frank", why: "ban checked with the venue", at: 24 },
      { type: "LIFT", cause: "venueBan", who: "operator:frank", why: "", at: 25 },
      { type: "VAR_BREACHED", why: "VaR 2500 vs limit 2000", at: 26 },
      { type: "VAR_RECOVERED", why: "VaR 1700 under 1800", at: 27 },
      { type: "STRESS_BREACHED", why: "stress 6000 vs 5000", at: 28 },
      { type: "STRESS_RECOVERED", why: "stress 4000", at: 29 },
      { type: "LOSS_BREAKER_TRIPPED", why: "day's loss 2000 vs 2000", at: 30 },
      { type: "LOSS_BREAKER_RECOVERED", why: "day's loss 900", at: 31 },
      { type: "LIFT", cause: "portfolioVar", who: "operator:erin", why: "limit reviewed", at: 32 },
      { type: "LIFT", cause: "portfolioStress", who: "operator:erin", why: "scenario reviewed", at: 33 },
      { type: "LIFT", cause: "lossBreaker", who: "operator:erin", why: "loss reviewed", at: 34 },
      { type: "LIFT", cause: "lossBreaker", who: "", why: "", at: 35 },
      { type: "LIFT", cause: "portfolioVar", who: "", why: "", at: 36 },
      { type: "LIFT", cause: "portfolioStress", who: " ", why: "x", at: 37 }
    ],
    // The portfolio risk causes (three more parallel regions: 8× the states) are explored with the
    // older automatic causes clear, and those with the portfolio causes clear: every state and
    // transition is still reached (and every step checked); their combinations are left to the
    // random sequences below, so the exploration stays at seconds.
    serialize: (s) => {
      const v = { ...(s.value as Record<string, string>) }
      if (["journal", "audit", "dailyLoss", "reconciliation", "venueBan"].some((r) => v[r] !== "clear")) for (const r of ["portfolioVar", "portfolioStress", "lossBreaker"]) v[r] = "clear"
      return JSON.stringify([v, (s.context as { refused: number }).refused > 0])
    },
    invariant: (next, prev) => {
      const c = next.context as TradingStateContext
      // Each region's state and the recorded causes say the same thing.
      const v = next.value as Record<string, string>
      expect(v["operator"] === "none", "the operator region and its cause agree").toBe(c.causes.operator === undefined)
      if (c.causes.operator !== undefined) expect(c.causes.operator.level).toBe(v["operator"])
      for (const [region, cause] of [["journal", "journal"], ["audit", "audit"], ["dailyLoss", "dailyLoss"], ["reconciliation", "reconciliation"], ["venueBan", "venueBan"], ["portfolioVar", "portfolioVar"], ["portfolioStress", "portfolioStress"], ["lossBreaker", "lossBreaker"]] as const)
        expect(v[region] === "clear", `${region} region and its cause agree`).toBe(c.causes[cause] === undefined)
      if (prev !== undefined) {
        const p = prev.context as TradingStateContext
        // Nothing automatic ever lifts the operator's cause.
        if (p.causes.operator !== undefined && c.causes.operator === undefined) expect(c.lastChange?.who.startsWith("operator:")).toBe(true)
        if (JSON.stringify(prev.value) !== JSON.stringify(next.value)) {
          expect(c.lastChange, "every change says which cause, who and why").not.toBeNull()
          expect(c.lastChange?.who.trim()).not.toBe("")
          expect(c.lastChange?.why.trim()).not.toBe("")
          expect(c.lastChange?.to).toBe(effectiveStatus(c.causes))
        }
      }
    },
    persistPath: [{ type: "HALT", who: "operator:bob", why: "venue incident", at: 3 }, { type: "DAILY_LOSS_BREACHED", why: "loss", at: 4 }]
  },
  {
    name: "node",
    machine: nodeMachine,
    inputs: [{ nodeId: "n1" }],
    events: [
      { type: "STARTED" },
      { type: "RECOVERED" },
      { type: "RECONCILED", differences: 2 },
      { type: "SHUTDOWN" },
      { type: "DRAINED" },
      { type: "FATAL", error: "disk full" },
      { type: "RESTORED" },
      after("recoveryTimeout", "node.recovering"),
      after("reconcileTimeout", "node.reconciling"),
      after("drainTimeout", "node.draining")
    ],
    serialize: (s) => JSON.stringify([s.value, (s.context as { error: unknown }).error !== null]),
    invariant: (next, prev) => {
      const c = next.context as { error: string | null }
      if (next.value === "failed") expect(c.error).not.toBeNull()
      if (prev !== undefined && (prev.value === "stopped" || prev.value === "failed")) expect(next.value).toBe(prev.value)
    },
    persistPath: [{ type: "STARTED" }, { type: "RECOVERED" }]
  }
]

export type { Snap }
