import type { AnyStateMachine } from "xstate"
import { BOOK_SYNC_MACHINE_VERSION, bookSyncMachine } from "./book-sync.machine.js"
import { toGraphJson, toMermaid, type GraphJson } from "./graph.js"
import { NODE_MACHINE_VERSION, nodeMachine } from "./node.machine.js"
import { ORDER_MACHINE_VERSION, orderMachine } from "./order.machine.js"
import { STRATEGY_MACHINE_VERSION, strategyMachine } from "./strategy.machine.js"
import { TRADING_STATE_MACHINE_VERSION, tradingStateMachine } from "./trading-state.machine.js"
import { VENUE_CONNECTION_MACHINE_VERSION, venueConnectionMachine } from "./venue-connection.machine.js"

/**
 * Every lifecycle machine, by the name the inspector, the docs and the CLI use
 * (`troupe machines export <name> --format mermaid|json`). `version` is stored with each
 * persisted snapshot; a snapshot whose version differs is not restored (rebuild from journal).
 */
export interface MachineEntry {
  readonly name: string
  readonly version: string
  readonly description: string
  readonly machine: AnyStateMachine
}

export const machines: ReadonlyArray<MachineEntry> = [
  { name: "order", version: ORDER_MACHINE_VERSION, description: "One order, from the risk decision to a terminal state.", machine: orderMachine },
  { name: "book-sync", version: BOOK_SYNC_MACHINE_VERSION, description: "Book synchronisation of one instrument.", machine: bookSyncMachine },
  { name: "venue-connection", version: VENUE_CONNECTION_MACHINE_VERSION, description: "One venue connection with backoff and heartbeat watchdog.", machine: venueConnectionMachine },
  { name: "strategy", version: STRATEGY_MACHINE_VERSION, description: "Lifecycle of one strategy.", machine: strategyMachine },
  { name: "trading-state", version: TRADING_STATE_MACHINE_VERSION, description: "The risk actor's trading state (kill switch) for one account.", machine: tradingStateMachine },
  { name: "node", version: NODE_MACHINE_VERSION, description: "The daemon's own lifecycle.", machine: nodeMachine }
]

export const findMachine = (name: string): MachineEntry | undefined => machines.find((m) => m.name === name)

export type ExportFormat = "mermaid" | "json"

export const exportMachine = (entry: MachineEntry, format: ExportFormat): string =>
  format === "mermaid" ? toMermaid(entry.machine) : JSON.stringify(toGraphJson(entry.machine, entry.version) satisfies GraphJson, null, 2) + "\n"

export * from "./book-sync.machine.js"
export * from "./graph.js"
export * from "./node.machine.js"
export * from "./order.machine.js"
export * from "./strategy.machine.js"
export * from "./trading-state.machine.js"
export * from "./venue-connection.machine.js"
