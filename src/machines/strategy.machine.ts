import { assign, setup } from "xstate"
import type { StrategyId } from "../domain/ids.js"

/**
 * Lifecycle of one strategy inside the running daemon: hot start, stop and reconfigure
 * without stopping anything else. `degraded` keeps running with reduced trust (e.g. a data
 * feed is stale) and only cancels/reduces; `faulted` has stopped trading and waits for an
 * operator `RESET` (or the supervisor rebuilds the actor).
 */
export const STRATEGY_MACHINE_VERSION = "strategy@1"

export interface StrategyInput {
  readonly strategyId: StrategyId
  readonly configVersion: string
}

export interface StrategyContext {
  readonly strategyId: StrategyId
  readonly configVersion: string
  /** Requested while reconfiguring; becomes `configVersion` when applied. */
  readonly pendingConfigVersion: string | null
  readonly lastError: string | null
  readonly degradedReason: string | null
  readonly restarts: number
}

export type StrategyEvent =
  | { readonly type: "START" }
  | { readonly type: "STARTED" }
  | { readonly type: "DEGRADE"; readonly reason: string }
  | { readonly type: "RECOVER" }
  | { readonly type: "RECONFIGURE"; readonly configVersion: string }
  | { readonly type: "RECONFIGURED" }
  | { readonly type: "STOP" }
  | { readonly type: "STOPPED" }
  | { readonly type: "FAULT"; readonly error: string }
  | { readonly type: "RESET" }
  | { readonly type: "RESTORED" }

export const strategyMachine = setup({
  types: { context: {} as StrategyContext, events: {} as StrategyEvent, input: {} as StrategyInput },
  actions: {
    // Side effects, provided by the strategy host.
    startStrategy: () => {},
    stopStrategy: () => {},
    applyConfig: () => {},
    /** Stop timed out: cancel the strategy's open orders and drop it. */
    forceStop: () => {},
    recordFault: assign({ lastError: ({ context, event }) => (event.type === "FAULT" ? event.error : context.lastError) }),
    recordTimeout: assign({ lastError: (_, params: { what: string }) => `${params.what} timed out` }),
    recordDegraded: assign({ degradedReason: ({ context, event }) => (event.type === "DEGRADE" ? event.reason : context.degradedReason) }),
    clearDegraded: assign({ degradedReason: null }),
    requestConfig: assign({ pendingConfigVersion: ({ context, event }) => (event.type === "RECONFIGURE" ? event.configVersion : context.pendingConfigVersion) }),
    commitConfig: assign(({ context }) => ({ configVersion: context.pendingConfigVersion ?? context.configVersion, pendingConfigVersion: null })),
    dropConfig: assign({ pendingConfigVersion: null }),
    countRestart: assign({ restarts: ({ context }) => context.restarts + 1 })
  },
  delays: { startTimeout: 30_000, stopTimeout: 30_000, reconfigureTimeout: 30_000 }
}).createMachine({
  id: "strategy",
  initial: "ready",
  context: ({ input }) => ({
    strategyId: input.strategyId,
    configVersion: input.configVersion,
    pendingConfigVersion: null,
    lastError: null,
    degradedReason: null,
    restarts: 0
  }),
  states: {
    ready: { on: { START: "starting" } },
    starting: {
      entry: "startStrategy",
      on: { STARTED: "running", FAULT: { target: "faulted", actions: "recordFault" }, STOP: "stopping", RESTORED: { target: "starting", reenter: true } },
      after: { startTimeout: { target: "faulted", actions: { type: "recordTimeout", params: { what: "start" } } } }
    },
    running: {
      on: {
        DEGRADE: { target: "degraded", actions: "recordDegraded" },
        RECONFIGURE: { target: "reconfiguring", actions: "requestConfig" },
        STOP: "stopping",
        FAULT: { target: "faulted", actions: "recordFault" },
        // The strategy's in-memory state did not survive the restart: start it again.
        RESTORED: { target: "starting", actions: "countRestart" }
      }
    },
    degraded: {
      on: {
        RECOVER: { target: "running", actions: "clearDegraded" },
        DEGRADE: { actions: "recordDegraded" },
        STOP: "stopping",
        FAULT: { target: "faulted", actions: "recordFault" },
        RESTORED: { target: "starting", actions: "countRestart" }
      }
    },
    reconfiguring: {
      entry: "applyConfig",
      on: {
        RECONFIGURED: { target: "running", actions: "commitConfig" },
        // A config the strategy refuses leaves it faulted, with the old version still recorded.
        FAULT: { target: "faulted", actions: ["recordFault", "dropConfig"] },
        STOP: { target: "stopping", actions: "dropConfig" },
        RESTORED: { target: "reconfiguring", reenter: true }
      },
      after: { reconfigureTimeout: { target: "faulted", actions: [{ type: "recordTimeout", params: { what: "reconfigure" } }, "dropConfig"] } }
    },
    stopping: {
      entry: "stopStrategy",
      on: { STOPPED: "stopped", RESTORED: { target: "stopped", actions: "forceStop" } },
      after: { stopTimeout: { target: "stopped", actions: "forceStop" } }
    },
    stopped: { on: { START: { target: "starting", actions: "countRestart" } } },
    faulted: { on: { RESET: "ready", STOP: "stopped" } }
  }
})
