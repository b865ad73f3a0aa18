import { assign, setup } from "xstate"

/**
 * The daemon's own lifecycle. Recovery (snapshots + journal) and reconciliation with the venues
 * happen before anything trades; shutdown drains (cancel-on-exit policy, flush journal, final
 * snapshots) within a bound. `failed` ends the process with a non-zero code so the OS
 * supervisor restarts it.
 */
export const NODE_MACHINE_VERSION = "node@1"

export interface NodeInput {
  readonly nodeId: string
}

export interface NodeContext {
  readonly nodeId: string
  readonly error: string | null
  /** Reconciliation differences reported (they are journaled as events by the host). */
  readonly differences: number
}

export type NodeEvent =
  | { readonly type: "STARTED" }
  | { readonly type: "RECOVERED" }
  | { readonly type: "RECONCILED"; readonly differences: number }
  | { readonly type: "SHUTDOWN" }
  | { readonly type: "DRAINED" }
  | { readonly type: "FATAL"; readonly error: string }
  | { readonly type: "RESTORED" }

const fatal = { target: "#node.failed", actions: "recordError" } as const

export const nodeMachine = setup({
  types: { context: {} as NodeContext, events: {} as NodeEvent, input: {} as NodeInput },
  actions: {
    // Side effects, provided by the composition root.
    startInfra: () => {},
    recover: () => {},
    reconcile: () => {},
    openForTrading: () => {},
    drain: () => {},
    exitProcess: () => {},
    recordError: assign({ error: ({ context, event }) => (event.type === "FATAL" ? event.error : context.error) }),
    recordTimeout: assign({ error: (_, params: { what: string }) => `${params.what} timed out` }),
    recordDifferences: assign({ differences: ({ context, event }) => (event.type === "RECONCILED" ? event.differences : context.differences) })
  },
  delays: { recoveryTimeout: 120_000, reconcileTimeout: 60_000, drainTimeout: 30_000 }
}).createMachine({
  id: "node",
  initial: "starting",
  context: ({ input }) => ({ nodeId: input.nodeId, error: null, differences: 0 }),
  states: {
    starting: {
      entry: "startInfra",
      on: { STARTED: "recovering", FATAL: fatal, SHUTDOWN: "stopped" }
    },
    recovering: {
      entry: "recover",
      on: { RECOVERED: "reconciling", FATAL: fatal, SHUTDOWN: "draining", RESTORED: { target: "recovering", reenter: true } },
      after: { recoveryTimeout: { target: "failed", actions: { type: "recordTimeout", params: { what: "recovery" } } } }
    },
    reconciling: {
      entry: "reconcile",
      on: {
        RECONCILED: { target: "running", actions: "recordDifferences" },
        FATAL: fatal,
        SHUTDOWN: "draining",
        RESTORED: { target: "reconciling", reenter: true }
      },
      after: { reconcileTimeout: { target: "failed", actions: { type: "recordTimeout", params: { what: "reconciliation" } } } }
    },
    running: {
      entry: "openForTrading",
      on: { SHUTDOWN: "draining", FATAL: fatal }
    },
    draining: {
      entry: "drain",
      on: { DRAINED: "stopped", FATAL: fatal, RESTORED: { target: "draining", reenter: true } },
      after: { drainTimeout: { target: "stopped", actions: { type: "recordTimeout", params: { what: "drain" } } } }
    },
    stopped: { tags: ["terminal"], entry: "exitProcess" },
    failed: { tags: ["terminal"], entry: "exitProcess" }
  }
})
