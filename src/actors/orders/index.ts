export { DeadMansSwitch, DEFAULT_DEAD_MANS_SWITCH, type DeadMansSwitchConfig } from "./dead-mans-switch.js"
export { OrderActor, orderInputOf, toMachineEvent } from "./order.actor.js"
export { OrderManager, type OrderJournalEvent, type OrderManagerDeps } from "./order-manager.js"
export type { ReconciliationEvent } from "./reconciliation.js"
