import type { RiskView } from "./control-api/risk-view.js"
import { Data, type Effect } from "effect"
import type { InspectionEvent } from "../actors/inspection.js"
import type { ChildKind, ChildState, Strategy } from "../actors/supervisor/index.js"
import type { CanonicalEvent } from "../domain/events/index.js"
import type { FillRow, OrderRow, RiskDecisionRow } from "../analytics/dataset.js"

/**
 * What the control API (and through it the CLI and the inspector) may ask of a running daemon.
 * The composition root implements it over the supervisor, the actor host, the order manager,
 * the portfolio, the risk actors and the strategy host; the control API only talks to this.
 * Every answer is plain JSON-able data (decimals as text), so the server can send it as it is.
 */

export type NodeState = "starting" | "recovering" | "reconciling" | "running" | "draining" | "stopped" | "failed"
export type TradingState = "active" | "reducing" | "halted"

export interface NodeStatus {
  readonly node: NodeState
  /** The trading state of every account (kill switch), by account id. */
  readonly trading: Readonly<Record<string, TradingState>>
  readonly uptimeMs: number
  readonly version: string
  readonly counts: {
    readonly actors: number
    readonly openOrders: number
    readonly positions: number
    readonly strategies: number
    /** Restarts summed over the whole supervision tree. */
    readonly restarts: number
  }
  /** Every active cause of each account's trading state (the state is the most restrictive). */
  readonly causes?: Readonly<Record<string, ReadonlyArray<CauseView>>>
  /** Positions that differ from the venue's and hold the account reduce-only, by account. */
  readonly positionMismatches?: Readonly<Record<string, ReadonlyArray<PositionMismatchView>>>
}

export type CauseName = "operator" | "journal" | "audit" | "dailyLoss" | "reconciliation" | "venueBan" | "portfolioVar" | "portfolioStress" | "lossBreaker"

export interface CauseView {
  readonly cause: CauseName
  /** What this cause restricts to. */
  readonly level: "reducing" | "halted"
  readonly who: string
  readonly why: string
  /** Epoch ms. */
  readonly since: number
}

export interface PositionMismatchView {
  readonly instrument: string
  readonly ours: string
  readonly venue: string
  readonly difference: string
  /** Venue fills seen while reconciling: imported (`missed`) or without a client order id (`unattributed`). */
  readonly fills: ReadonlyArray<{ readonly fillId: string; readonly side: string; readonly qty: string; readonly price: string; readonly clientOrderId: string | null; readonly status: string }>
  readonly detectedAt: number
}

export interface Readiness {
  /** True only when the node is `running`. */
  readonly ready: boolean
  readonly node: NodeState
}

/** The supervision tree (`TreeNode` of the supervisor) plus, for an actor that runs a machine, which one and where it is. */
export interface ActorTreeNode {
  readonly id: string
  readonly kind: ChildKind
  readonly state: ChildState
  readonly restarts: number
  readonly uptimeMs: number
  readonly strategy?: Strategy
  /** Registry name of the machine the actor runs (`order`, `book-sync`, ...), see `src/machines/index.ts`. */
  readonly machine?: string
  /** The machine's current state value (XState `snapshot.value`). */
  readonly machineState?: unknown
  readonly children: ReadonlyArray<ActorTreeNode>
}

/** One recorded step of an actor's machine: what it received and where it went (for time travel). */
export interface TransitionRecord {
  readonly ts: number
  /** The XState event as received, payload included (`{ type, ...payload }`). */
  readonly event: { readonly type: string; readonly [key: string]: unknown }
  readonly from: unknown
  readonly to: unknown
}

export interface ActorDetail {
  readonly id: string
  readonly kind: ChildKind
  readonly state: ChildState
  readonly machine: string | null
  readonly machineState: unknown
  /** A JSON-able summary of the machine context (big or private fields left out by the host). */
  readonly context: Readonly<Record<string, unknown>>
  /** The last recorded transitions, oldest first (bounded by the host). */
  readonly transitions: ReadonlyArray<TransitionRecord>
}

export interface OrderView {
  readonly clientOrderId: string
  readonly venueOrderId?: string
  readonly account: string
  readonly instrument: string
  readonly strategy?: string
  readonly side: "buy" | "sell"
  /** `limit`, `market`, `stop`, ... */
  readonly type: string
  readonly price?: string
  readonly qty: string
  readonly filledQty: string
  /** The order machine's state, e.g. `accepted`, `partiallyFilled`. */
  readonly state: string
  readonly open: boolean
  readonly updatedAt: number
}

export interface PositionView {
  readonly account: string
  readonly instrument: string
  /** Signed: positive long, negative short. */
  readonly qty: string
  readonly avgEntry: string | null
  readonly markPrice: string | null
  readonly unrealizedPnl: string
  /**
   * Realized PnL NET of fees (closed-trade PnL minus every fee paid on the position's fills):
   * the same "realized net" as `troupe report`.
   */
  readonly realizedPnl: string
  /** Realized PnL before fees (= realizedPnl + fees): the report's "realized gross". */
  readonly realizedGross: string
  readonly fees: string
  /** The instrument's precision, for people: prices at `priceDecimals`, quantities at `qtyDecimals`. The values above stay exact. */
  readonly priceDecimals?: number
  readonly qtyDecimals?: number
}

export interface StrategyView {
  readonly id: string
  readonly kind: string
  /** The strategy machine's state: `ready`, `running`, `degraded`, ... */
  readonly state: string
  readonly instruments: ReadonlyArray<string>
  readonly restarts: number
  readonly params: Readonly<Record<string, unknown>>
}

export interface OperatorCommand {
  /** Who asked (the CLI sends the OS user); recorded in the audit trail. */
  readonly who: string
  readonly why: string
  /** With `halt`/`reduce`: also cancel every open order. */
  readonly cancelAll?: boolean
  /** With `resume`: lift this automatic cause instead of the operator's own (audited). */
  readonly cause?: Exclude<CauseName, "operator">
  /** The client it came from (`User-Agent address`; the control API fills it in; recorded in the audit trail). */
  readonly client?: string
}

export interface ReconcileAcceptResult {
  readonly trading: Readonly<Record<string, TradingState>>
  /** Positions set to the venue's. */
  readonly adopted: ReadonlyArray<{ readonly instrument: string; readonly from: string; readonly to: string }>
}

export interface OperatorResult {
  readonly trading: Readonly<Record<string, TradingState>>
  /** Orders a cancel was sent for (with `cancelAll`). */
  readonly canceled: number
}

export type StrategyAction = "start" | "stop" | "restart" | "reconfigure" | "add"

export interface StrategyCommand {
  /** The strategy id; for `add` optional (taken from the file's strategy when absent). */
  readonly id?: string
  readonly action: StrategyAction
  readonly params?: Readonly<Record<string, unknown>>
  /** `add` only: path of the strategy module to load. */
  readonly file?: string
  /** Who asked (the CLI sends the OS user), why, and from which client: the audit trail's. */
  readonly who?: string
  readonly why?: string
  readonly client?: string
}

/** What the live stream carries: the actor host's inspection events and the canonical events. */
export type StreamItem =
  | { readonly type: "inspection"; readonly event: InspectionEvent }
  | { readonly type: "event"; readonly event: CanonicalEvent }

/** The analytics source as JSON: orders, fills and risk decisions rebuilt from the store. */
export interface ReportSourceView {
  readonly orders: ReadonlyArray<OrderRow>
  readonly fills: ReadonlyArray<FillRow>
  readonly riskDecisions: ReadonlyArray<RiskDecisionRow>
  readonly counts: { readonly auditRows: number; readonly orders: number; readonly riskDecisions: number; readonly auditFills: number }
  /** Where the rows came from, for the CLI's note. */
  readonly where: string
}

export type StreamListener = (item: StreamItem) => void

/**
 * A refusal of the daemon, mapped to an HTTP status by the control API:
 * `NotFound` 404, `Conflict` 409 (e.g. start of a running strategy), `Invalid` 422 (params the
 * strategy refuses), `Unavailable` 503 (not running yet, draining).
 */
export class ControlError extends Data.TaggedError("ControlError")<{
  readonly code: "NotFound" | "Conflict" | "Invalid" | "Unavailable"
  readonly message: string
}> {}

export interface DaemonControl {
  readonly status: () => Effect.Effect<NodeStatus>
  readonly ready: () => Effect.Effect<Readiness>
  readonly actors: () => Effect.Effect<ActorTreeNode>
  readonly actor: (id: string) => Effect.Effect<ActorDetail, ControlError>
  readonly orders: (filter: { readonly open?: boolean }) => Effect.Effect<ReadonlyArray<OrderView>>
  readonly positions: () => Effect.Effect<ReadonlyArray<PositionView>>
  readonly halt: (command: OperatorCommand) => Effect.Effect<OperatorResult, ControlError>
  readonly reduce: (command: OperatorCommand) => Effect.Effect<OperatorResult, ControlError>
  readonly resume: (command: OperatorCommand) => Effect.Effect<OperatorResult, ControlError>
  /** Cancel every open order of every account (risk-approved), without changing the trading state. */
  readonly cancelAll: (command: OperatorCommand) => Effect.Effect<OperatorResult, ControlError>
  /** Take the venue's side of every position mismatch and lift the reconciliation cause. */
  readonly reconcileAccept: (command: OperatorCommand) => Effect.Effect<ReconcileAcceptResult, ControlError>
  readonly strategies: () => Effect.Effect<ReadonlyArray<StrategyView>>
  readonly strategyCommand: (command: StrategyCommand) => Effect.Effect<StrategyView, ControlError>
  /** Prometheus text exposition (format 0.0.4) of the daemon's metrics registry. */
  readonly metricsText: () => Effect.Effect<string>
  /**
   * The post-trade report's input read from the daemon's own store (`troupe report` while the
   * daemon runs on PGlite, which one process alone may open). Absent: the API answers 404.
   */
  readonly reportSource?: () => Effect.Effect<ReportSourceView, ControlError>
  /** The portfolio risk monitor's limits, figures and headroom, and the newest alerts (`troupe risk`). */
  readonly portfolioRisk?: () => Effect.Effect<RiskView>
  /**
   * Live stream. The listener is called synchronously by the publisher and must not block;
   * returns the unsubscribe function.
   */
  readonly subscribe: (listener: StreamListener) => () => void
}
