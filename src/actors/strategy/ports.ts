import type { OrderIntent } from "../../domain/events/intents.js"
import type { StrategyRecord } from "../../domain/events/strategy.js"
import type { RiskReason } from "../../domain/events/risk.js"
import type { InstrumentId } from "../../domain/ids.js"
import type { Instrument } from "../../domain/instrument.js"
import type { Trade } from "../../domain/events/market.js"
import type { BookView } from "../../strategies/ports.js"

/**
 * The seams of the strategy host. The daemon wires them: the gateway to the account's risk
 * actor, the feed to the instrument actors, the sink to the journal (`strategy` topic).
 */

/**
 * Risk's answer to one intent. Shaped so that the risk actor's own `Decision`
 * (`{_tag:"Approved", event, action} | {_tag:"Denied", event: RiskDenied}`) is assignable as is.
 */
export type Decision =
  | { readonly _tag: "Approved" }
  | { readonly _tag: "Denied"; readonly event: { readonly reason: RiskReason; readonly detail: string } }

/**
 * Every order action of a strategy goes through here: the gateway journals the intent and its
 * decision and, when approved, hands the action to the order manager. Intents are decided in
 * call order (the host may send a modify before the submit's decision has come back). A rejected
 * promise (journal down, risk gone) is treated by the host as a denial, `GATEWAY_FAILED`.
 */
export interface IntentGateway {
  readonly submit: (intent: OrderIntent) => Promise<Decision>
}

/** Market data for strategies. Each subscribe returns its unsubscribe. */
export interface StrategyMarketFeed {
  /** Book views of one instrument, coalesced (latest only), with `depth` levels per side (0: top of book). */
  readonly subscribeBook: (instrument: InstrumentId, depth: number, deliver: (view: BookView) => void) => () => void
  readonly subscribeTrades?: (instrument: InstrumentId, deliver: (trade: Trade) => void) => () => void
}

/** Where `ctx.record` goes: the journal's `strategy` topic. Must not throw (a failed record is the sink's to count). */
export type StrategyRecordSink = (record: StrategyRecord) => void

/** Instrument reference data (tick, lot, contract size); undefined for an unknown id. */
export type InstrumentLookup = (id: InstrumentId) => Instrument | undefined

export type StrategyLogLevel = "debug" | "info" | "warn" | "error"
export type StrategyLogSink = (level: StrategyLogLevel, strategy: string, message: string, fields?: Readonly<Record<string, unknown>>) => void
