import { expect } from "vitest"
import type { AnyEventObject, AnyStateMachine, SnapshotFrom } from "xstate"
import type { AccountId, InstrumentId, StrategyId, VenueId } from "../../src/domain/ids.js"
import { bookSyncMachine } from "../../src/machines/book-sync.machine.js"
import { nodeMachine } from "../../src/machines/node.machine.js"
import { strategyMachine } from "../../src/machines/strategy.machine.js"
import { tradingStateMachine, type TradingStatus } from "../../src/machines/trading-state.machine.js"
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
      { type: "REDUCE", who: "alice", why: "vol spike" },
      { type: "REDUCE", who: "", why: "no name" },
      { type: "HALT", who: "bob", why: "venue incident" },
      { type: "HALT", who: "bob", why: " " },
      { type: "RESUME", who: "alice", why: "all clear" },
      { type: "RESUME", who: "", why: "" },
      { type: "DAILY_LOSS_BREACHED", loss: "-10500.25", limit: "-10000" },
      { type: "AUDIT_WRITE_FAILED", error: "pg down" }
    ],
    serialize: (s) => JSON.stringify([s.value, (s.context as { refused: number }).refused > 0]),
    invariant: (next, prev) => {
      const c = next.context as { lastChange: { from: TradingStatus; to: TradingStatus; who: string; why: string } | null }
      if (prev !== undefined && prev.value !== next.value) {
        expect(c.lastChange, "every change says from, to, who and why").toMatchObject({ from: prev.value, to: next.value })
        expect(c.lastChange?.who.trim()).not.toBe("")
        expect(c.lastChange?.why.trim()).not.toBe("")
      }
    },
    persistPath: [{ type: "AUDIT_WRITE_FAILED", error: "pg down" }]
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
