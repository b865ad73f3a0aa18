import { Schema } from "effect"
import type {
  ActorDetail,
  ActorTreeNode,
  NodeStatus,
  OperatorResult,
  OrderView,
  PositionView,
  Readiness,
  ReconcileAcceptResult,
  ReportSourceView,
  StrategyView
} from "../control.js"
import type { GraphJson } from "../../machines/graph.js"
import type { OrderPage, StrategyPage } from "./order-search.js"

/**
 * The control API's answers as `Schema`s: what `api.ts` declares for each endpoint, what the
 * OpenAPI document shows, and what the CLI's client decodes. They mirror the plain interfaces
 * of `control.ts` (which the daemon implements), and `Same<...>` below makes a difference
 * between the two a type error, so neither can drift from the other.
 */

const optional = <S extends Schema.Schema.Any>(schema: S) => Schema.optionalWith(schema, { exact: true })
const Decimal = Schema.String.annotations({ description: "a decimal number as text (exact; never a float)" })
const EpochMs = Schema.Number.annotations({ description: "epoch milliseconds" })
const JsonValue = Schema.Unknown.annotations({ description: "any JSON value" })

const NodeState = Schema.Literal("starting", "recovering", "reconciling", "running", "draining", "stopped", "failed")
const TradingState = Schema.Literal("active", "reducing", "halted")
const TradingByAccount = Schema.Record({ key: Schema.String, value: TradingState })

export const CauseView = Schema.Struct({
  cause: Schema.Literal("operator", "journal", "audit", "dailyLoss", "reconciliation", "venueBan", "portfolioVar", "portfolioStress", "lossBreaker"),
  level: Schema.Literal("reducing", "halted"),
  who: Schema.String,
  why: Schema.String,
  since: EpochMs
}).annotations({ identifier: "Cause" })

export const PositionMismatchView = Schema.Struct({
  instrument: Schema.String,
  ours: Decimal,
  venue: Decimal,
  difference: Decimal,
  fills: Schema.Array(
    Schema.Struct({ fillId: Schema.String, side: Schema.String, qty: Decimal, price: Decimal, clientOrderId: Schema.NullOr(Schema.String), status: Schema.String })
  ),
  detectedAt: EpochMs
}).annotations({ identifier: "PositionMismatch" })

export const NodeStatusView = Schema.Struct({
  node: NodeState,
  trading: TradingByAccount,
  uptimeMs: Schema.Number,
  version: Schema.String,
  counts: Schema.Struct({ actors: Schema.Number, openOrders: Schema.Number, positions: Schema.Number, strategies: Schema.Number, restarts: Schema.Number }),
  causes: optional(Schema.Record({ key: Schema.String, value: Schema.Array(CauseView) })),
  positionMismatches: optional(Schema.Record({ key: Schema.String, value: Schema.Array(PositionMismatchView) }))
}).annotations({ identifier: "NodeStatus" })

export const ReadinessView = Schema.Struct({ ready: Schema.Boolean, node: NodeState }).annotations({ identifier: "Readiness" })

// Recursive, so typed by the interface it mirrors (a schema cannot infer its own type).
export const ActorTreeNodeView: Schema.Schema<ActorTreeNode> = Schema.Struct({
  id: Schema.String,
  kind: Schema.Literal("worker", "supervisor"),
  state: Schema.Literal("starting", "running", "restarting", "stopped", "failed"),
  restarts: Schema.Number,
  uptimeMs: Schema.Number,
  strategy: optional(Schema.Literal("one_for_one", "one_for_all", "rest_for_one")),
  machine: optional(Schema.String),
  machineState: optional(JsonValue),
  children: Schema.Array(Schema.suspend((): Schema.Schema<ActorTreeNode> => ActorTreeNodeView))
}).annotations({ identifier: "ActorTreeNode" })

export const TransitionRecordView = Schema.Struct({
  ts: EpochMs,
  event: Schema.Struct({ type: Schema.String }, Schema.Record({ key: Schema.String, value: Schema.Unknown })),
  from: JsonValue,
  to: JsonValue
}).annotations({ identifier: "TransitionRecord" })

export const ActorDetailView = Schema.Struct({
  id: Schema.String,
  kind: Schema.Literal("worker", "supervisor"),
  state: Schema.Literal("starting", "running", "restarting", "stopped", "failed"),
  machine: Schema.NullOr(Schema.String),
  machineState: JsonValue,
  context: Schema.Record({ key: Schema.String, value: Schema.Unknown }),
  transitions: Schema.Array(TransitionRecordView)
}).annotations({ identifier: "ActorDetail" })

export const OrderViewSchema = Schema.Struct({
  clientOrderId: Schema.String,
  venueOrderId: optional(Schema.String),
  account: Schema.String,
  instrument: Schema.String,
  strategy: optional(Schema.String),
  side: Schema.Literal("buy", "sell"),
  type: Schema.String,
  price: optional(Decimal),
  qty: Decimal,
  filledQty: Decimal,
  state: Schema.String,
  open: Schema.Boolean,
  updatedAt: EpochMs
}).annotations({ identifier: "Order" })

export const PositionViewSchema = Schema.Struct({
  account: Schema.String,
  instrument: Schema.String,
  qty: Decimal,
  avgEntry: Schema.NullOr(Decimal),
  markPrice: Schema.NullOr(Decimal),
  unrealizedPnl: Decimal,
  realizedPnl: Decimal,
  realizedGross: Decimal,
  fees: Decimal,
  priceDecimals: optional(Schema.Number),
  qtyDecimals: optional(Schema.Number)
}).annotations({ identifier: "Position" })

export const StrategyViewSchema = Schema.Struct({
  id: Schema.String,
  kind: Schema.String,
  state: Schema.String,
  instruments: Schema.Array(Schema.String),
  restarts: Schema.Number,
  params: Schema.Record({ key: Schema.String, value: Schema.Unknown })
}).annotations({ identifier: "Strategy" })

export const OperatorResultView = Schema.Struct({ trading: TradingByAccount, canceled: Schema.Number }).annotations({ identifier: "OperatorResult" })

export const ReconcileAcceptView = Schema.Struct({
  trading: TradingByAccount,
  adopted: Schema.Array(Schema.Struct({ instrument: Schema.String, from: Decimal, to: Decimal }))
}).annotations({ identifier: "ReconcileAcceptResult" })

export const OrderPageView = Schema.Struct({
  total: Schema.Number,
  items: Schema.Array(OrderViewSchema),
  next: optional(Schema.String),
  facets: optional(Schema.Struct({ instruments: Schema.Array(Schema.String), strategies: Schema.Array(Schema.String), states: Schema.Array(Schema.String) }))
}).annotations({ identifier: "OrderPage" })

export const StrategyPageView = Schema.Struct({
  strategy: StrategyViewSchema,
  positions: Schema.Array(PositionViewSchema),
  openOrders: Schema.Array(OrderViewSchema),
  finishedOrders: Schema.Number,
  pnl: Schema.Struct({ realizedNet: Decimal, unrealized: Decimal, fees: Decimal }),
  pnlHistory: Schema.Array(Schema.Struct({ ts: EpochMs, realizedNet: Decimal, unrealized: Decimal })).annotations({
    description: "the PnL sampled by the daemon every 5 s (a point when it changed, or each minute), oldest first, the last hour"
  })
}).annotations({ identifier: "StrategyPage" })

const Side = Schema.Literal("buy", "sell")
const maybe = <S extends Schema.Schema.Any>(schema: S) => Schema.optional(schema)

export const ReportSourceSchema = Schema.Struct({
  orders: Schema.Array(
    Schema.Struct({
      clientOrderId: Schema.String,
      strategy: Schema.String,
      instrument: Schema.String,
      side: Side,
      type: Schema.String,
      qty: Decimal,
      price: maybe(Decimal),
      submittedTs: EpochMs,
      acceptedTs: maybe(EpochMs),
      firstFillTs: maybe(EpochMs),
      finalTs: maybe(EpochMs),
      finalState: Schema.String
    })
  ),
  fills: Schema.Array(
    Schema.Struct({
      fillId: Schema.String,
      clientOrderId: Schema.String,
      strategy: Schema.String,
      instrument: Schema.String,
      side: Side,
      price: Decimal,
      qty: Decimal,
      fee: Decimal,
      liquidity: Schema.Literal("maker", "taker"),
      ts: EpochMs,
      arrivalMid: maybe(Decimal)
    })
  ),
  riskDecisions: Schema.Array(
    Schema.Struct({ ts: EpochMs, strategy: Schema.String, clientOrderId: maybe(Schema.String), approved: Schema.Boolean, reason: maybe(Schema.String) })
  ),
  counts: Schema.Struct({ auditRows: Schema.Number, orders: Schema.Number, riskDecisions: Schema.Number, auditFills: Schema.Number }),
  where: Schema.String
}).annotations({ identifier: "ReportSource" })

export const MachineSummaryView = Schema.Struct({ name: Schema.String, version: Schema.String, description: Schema.String }).annotations({ identifier: "MachineSummary" })

export const MachineGraphView = Schema.Struct({
  id: Schema.String,
  version: Schema.String,
  graph: JsonValue,
  transitions: Schema.Array(
    Schema.Struct({
      source: Schema.String,
      event: Schema.String,
      guard: Schema.NullOr(Schema.String),
      targets: Schema.Array(Schema.String),
      reenter: Schema.Boolean,
      actions: Schema.Array(Schema.String)
    })
  ),
  states: Schema.Array(Schema.Struct({ id: Schema.String, type: Schema.String }))
}).annotations({ identifier: "MachineGraph" })

// ---- the schemas and the interfaces of control.ts must agree both ways -------------------------

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
type Deep<T> = T extends ReadonlyArray<infer E> ? ReadonlyArray<Deep<E>> : T extends object ? { readonly [K in keyof T]: Deep<T[K]> } : T
const agree = <_T extends true>(): void => undefined

agree<Same<Deep<typeof NodeStatusView.Type>, Deep<NodeStatus>>>()
agree<Same<Deep<typeof ReadinessView.Type>, Deep<Readiness>>>()
agree<Same<Deep<typeof ActorTreeNodeView.Type>, Deep<ActorTreeNode>>>()
agree<Same<Deep<typeof ActorDetailView.Type>, Deep<ActorDetail>>>()
agree<Same<Deep<typeof OrderViewSchema.Type>, Deep<OrderView>>>()
agree<Same<Deep<typeof PositionViewSchema.Type>, Deep<PositionView>>>()
agree<Same<Deep<typeof StrategyViewSchema.Type>, Deep<StrategyView>>>()
agree<Same<Deep<typeof OperatorResultView.Type>, Deep<OperatorResult>>>()
agree<Same<Deep<typeof ReconcileAcceptView.Type>, Deep<ReconcileAcceptResult>>>()
agree<Same<Deep<typeof OrderPageView.Type>, Deep<OrderPage>>>()
agree<Same<Deep<typeof StrategyPageView.Type>, Deep<StrategyPage>>>()
agree<Same<Deep<typeof ReportSourceSchema.Type>, Deep<ReportSourceView>>>()
agree<Same<Deep<Omit<typeof MachineGraphView.Type, "states">>, Deep<GraphJson>>>()
