import type { RiskView } from "./control-api/risk-view.js"
import { riskView } from "./portfolio-risk/surface.js"
import { Effect, Either } from "effect"
import type { InspectionStream } from "../actors/inspection.js"
import type { MetricsRegistry } from "../actors/metrics.js"
import type { StrategyHost, StrategyStatus } from "../actors/strategy/strategy-host.js"
import type { Supervisor, TreeNode } from "../actors/supervisor/index.js"
import type { CanonicalEvent } from "../domain/events/index.js"
import type { OrderEvent } from "../domain/events/orders.js"
import type { ActionState, OperatorAction, OperatorActionKind } from "../domain/events/operator.js"
import { eventIds, type RunNumber } from "../domain/event-ids.js"
import { didYouMean } from "../domain/did-you-mean.js"
import { parseStrategyId } from "../domain/ids.js"
import {
  ControlError,
  type ActorDetail,
  type ActorTreeNode,
  type DaemonControl,
  type NodeState,
  type OrderView,
  type ReportSourceView,
  type StrategyCommand,
  type StrategyView,
  type StreamListener,
  type TransitionRecord
} from "./control.js"
import type { OperatorActions } from "./operator-actions.js"
import type { PositionMismatches } from "./position-mismatch.js"
import type { StrategyCatalog } from "./strategy-catalog.js"
import type { TradingNode } from "./trading-node.js"

/**
 * The daemon as the control API, CLI and inspector see it. Order actors are owned by the order
 * manager (one per live order, not supervisor children): they are listed under a synthetic
 * `orders` node so the inspector can open them, and their transitions are recorded here from
 * the order events as they happen.
 */
const MAX_TRANSITIONS = 200
/** Live orders listed in the tree (finished ones are behind `/api/orders/search`). */
const MAX_LIVE_SHOWN = 2_000
/** Order records kept for the inspector and `orders`: finished ones beyond this go, oldest first. */
export const MAX_ORDER_RECORDS = 10_000

interface OrderRecord {
  readonly clientOrderId: string
  instrument: string
  strategy: string | undefined
  side: "buy" | "sell"
  type: string
  price: string | undefined
  qty: string
  filledQty: string
  venueOrderId: string | undefined
  state: string
  /** When this record was made: the tree lists live orders in this order, so rows never jump. */
  readonly createdAt: number
  updatedAt: number
  readonly transitions: TransitionRecord[]
}

const stateText = (value: unknown): string => {
  if (typeof value === "string") return value
  if (value !== null && typeof value === "object") {
    const [k, v] = Object.entries(value as Record<string, unknown>)[0] ?? []
    return k === undefined ? "?" : `${k}.${stateText(v)}`
  }
  return String(value)
}

/**
 * The order machine's event for each journaled order event (see `toMachineEvent` in
 * `actors/orders/order.actor.ts` and the order manager's commands): the inspector names a step
 * as the diagram's edges do, and keeps the journal's name beside it (`journal`).
 */
const MACHINE_EVENT: Readonly<Record<OrderEvent["_tag"], string>> = {
  OrderSubmitted: "SUBMIT",
  OrderAccepted: "ACCEPTED",
  OrderRejected: "REJECTED",
  OrderModified: "MODIFIED",
  OrderModifyRejected: "MODIFY_REJECTED",
  OrderCancelRequested: "CANCEL",
  OrderCanceled: "CANCELED",
  OrderCancelRejected: "CANCEL_REJECTED",
  OrderExpired: "EXPIRED",
  OrderFilled: "FILL"
}
const precisionOf = (i: { readonly priceDecimals: number; readonly qtyDecimals: number } | undefined): { priceDecimals?: number; qtyDecimals?: number } =>
  i === undefined ? {} : { priceDecimals: i.priceDecimals, qtyDecimals: i.qtyDecimals }

const TERMINAL = new Set(["filled", "canceled", "rejected", "expired", "denied"])

export interface DaemonControlDeps {
  readonly version: string
  readonly startedAt: number
  readonly now: () => number
  readonly nodeState: () => NodeState
  readonly root: () => Supervisor | undefined
  readonly trading: TradingNode
  readonly strategies: () => StrategyHost | undefined
  readonly catalog: StrategyCatalog
  readonly metrics: MetricsRegistry
  readonly inspection: InspectionStream
  readonly account: string
  /** Journals operator actions (durable, topic `control`) before they take effect. */
  readonly journal?: OperatorJournal
  /** The daemon's run number, part of every event id. */
  readonly run?: RunNumber
  /** The operator's trading-state actions, journaled and audited (halt, reduce, resume, cancel-all, reconcile accept). */
  readonly operatorActions: OperatorActions
  readonly mismatches: PositionMismatches
  /** Process and Node runtime metrics (`process_*`, `nodejs_*`), appended to `/metrics`. */
  readonly runtimeMetrics?: MetricsRegistry
  /** The report's input from the daemon's store (see `report-source.ts`). */
  readonly reportSource?: () => Effect.Effect<ReportSourceView, ControlError>
  /** The portfolio risk monitor and alerts, for `GET /api/risk` (absent: the monitor is off). */
  readonly portfolioRisk?: () => RiskView
}

/** What the control needs of the EventJournal to journal an operator action first. */
export interface OperatorJournal {
  readonly append: (event: OperatorAction) => Promise<unknown>
  /** Events waiting for a journal that is down: an action now would not be journaled first. */
  readonly backlogSize: number
}

const STRATEGY_ACTION: Readonly<Record<StrategyCommand["action"], OperatorActionKind>> = {
  add: "strategy.add",
  start: "strategy.start",
  stop: "strategy.stop",
  restart: "strategy.restart",
  reconfigure: "strategy.reconfigure"
}

/** The params of an action as the journal keeps them (JSON text, bounded by the event schema). */
const MAX_PARAMS_JSON = 65_536

export class DaemonControlImpl {
  private readonly orders = new Map<string, OrderRecord>()
  private readonly listeners = new Set<StreamListener>()

  private readonly nextActionId: () => string

  constructor(private readonly deps: DaemonControlDeps) {
    deps.inspection.subscribe((event) => this.emit({ type: "inspection", event }))
    this.nextActionId = eventIds(`operator/${deps.account}`, deps.run)
  }

  /**
   * Journals an operator action and waits until it is durable: the audit trail has it before it
   * takes effect. Refused (not done) while the journal is down, since it could not be journaled first.
   */
  private journalAction(fields: Omit<OperatorAction, "_tag" | "id" | "ts" | "source">): Effect.Effect<OperatorAction, ControlError> {
    return Effect.gen(this, function* () {
      const journal = this.deps.journal
      const event: OperatorAction = { _tag: "OperatorAction", id: this.nextActionId(), ts: this.deps.now(), source: `operator:${fields.who}`, ...fields }
      if (journal === undefined) return event
      if (journal.backlogSize > 0) return yield* Effect.fail(new ControlError({ code: "Unavailable", message: "the journal is unavailable: the command was not done (it could not be journaled first)" }))
      yield* Effect.promise(() => journal.append(event))
      this.publish(event)
      return event
    })
  }

  /** The follow-up of an action journaled first that then failed: the roster fold skips the action. */
  private journalFailure(action: OperatorAction, error: ControlError): Effect.Effect<void> {
    const { _tag, id, ts, source, ...fields } = action
    void _tag
    void ts
    void source
    return Effect.ignore(this.journalAction({ ...fields, failedAction: id, failure: error.message.slice(0, 4096) }))
  }

  private strategyAudit(c: StrategyCommand, strategy: string): Effect.Effect<Omit<OperatorAction, "_tag" | "id" | "ts" | "source" | "action" | "before" | "after">, ControlError> {
    const id = parseStrategyId(strategy)
    if (Either.isLeft(id)) return Effect.fail(new ControlError({ code: "Invalid", message: id.left.message }))
    return Effect.succeed({
      who: (c.who ?? "api").slice(0, 200),
      why: (c.why ?? "no reason given").slice(0, 4096),
      client: (c.client ?? "in-process").slice(0, 512),
      account: this.deps.account as OperatorAction["account"] & string,
      strategy: id.right
    })
  }

  private paramsJson(params: unknown): Effect.Effect<string | undefined, ControlError> {
    if (params === undefined) return Effect.succeed(undefined)
    const text = JSON.stringify(params)
    return text.length > MAX_PARAMS_JSON ? Effect.fail(new ControlError({ code: "Invalid", message: `params: at most ${MAX_PARAMS_JSON} characters of JSON` })) : Effect.succeed(text)
  }

  private stateOf(s: StrategyStatus, paramsJson: string | undefined): ActionState {
    return paramsJson === undefined ? { state: s.state } : { state: s.state, params: paramsJson }
  }

  /** Every canonical event the node produces passes here (after the journal). */
  publish(event: CanonicalEvent): void {
    this.emit({ type: "event", event })
  }

  /** Order events, after the order actor has seen them: records the machine's transition. */
  onOrderEvent(event: OrderEvent): void {
    const actor = this.deps.trading.orders.order(event.clientOrderId)
    // Only our orders get a record: one submitted now, or one the order manager holds (adopted
    // from the journal). A report for an order it does not hold (a fill the venue replays for a
    // finished order, an order placed elsewhere) is a reconciliation event, not an order: a
    // record for it would be a phantom "initialized" order of type "?".
    if (!this.orders.has(event.clientOrderId) && event._tag !== "OrderSubmitted" && actor === undefined) return
    const rec = this.orders.get(event.clientOrderId) ?? this.seed(event.clientOrderId, event.instrument, event.ts)
    if (event._tag === "OrderSubmitted") {
      rec.side = event.side
      rec.type = event.orderType
      rec.qty = event.qty.toString()
      rec.price = event.price?.toString()
    }
    if ("venueOrderId" in event && typeof event.venueOrderId === "string") rec.venueOrderId = event.venueOrderId
    const r = rec
    // The order actor has processed the report once the current call stack unwinds.
    queueMicrotask(() => {
      const snapshot = actor?.actor.getSnapshot() ?? this.deps.trading.orders.order(event.clientOrderId)?.actor.getSnapshot()
      const from = r.state
      const to = snapshot === undefined ? from : stateText(snapshot.value)
      if (snapshot !== undefined) {
        const ctx = snapshot.context as { filledQty?: string }
        if (typeof ctx.filledQty === "string") r.filledQty = ctx.filledQty
      }
      r.state = to
      r.updatedAt = event.ts
      const type = MACHINE_EVENT[event._tag]
      r.transitions.push({ ts: event.ts, event: { type, journal: event._tag, ...this.payloadOf(event) }, from, to })
      if (r.transitions.length > MAX_TRANSITIONS) r.transitions.shift()
      this.emit({ type: "inspection", event: { actorId: `order:${r.clientOrderId}`, kind: "order", type: "transition", state: snapshot?.value ?? to, event: { type, journal: event._tag }, ts: event.ts } })
    })
  }

  /** A new record, filled from the order's actor when it has one (an order adopted after a restart). */
  private seed(clientOrderId: string, instrument: string, ts: number): OrderRecord {
    const snapshot = this.deps.trading.orders.order(clientOrderId)?.actor.getSnapshot()
    const ctx = snapshot?.context
    const rec: OrderRecord = {
      clientOrderId,
      instrument,
      strategy: this.deps.strategies()?.list().find((s) => clientOrderId.startsWith(`${s.id}-`))?.id,
      side: ctx?.side ?? "buy",
      type: ctx?.kind ?? "?",
      price: ctx?.price ?? undefined,
      qty: ctx?.quantity ?? "0",
      filledQty: ctx?.filledQty ?? "0",
      venueOrderId: ctx?.venueOrderId ?? undefined,
      state: snapshot === undefined ? "initialized" : stateText(snapshot.value),
      createdAt: ts,
      updatedAt: ts,
      transitions: []
    }
    this.orders.set(clientOrderId, rec)
    if (this.orders.size > MAX_ORDER_RECORDS) {
      for (const [id, r] of this.orders) {
        if (TERMINAL.has(r.state)) {
          this.orders.delete(id)
          break
        }
      }
    }
    return rec
  }

  /** Live orders the order manager holds that have no record yet (adopted, no event since): seeded. */
  private seedLive(): void {
    const manager = this.deps.trading.orders
    for (const cid of manager.liveOrderIds()) {
      if (this.orders.has(cid)) continue
      const ctx = manager.order(cid)?.actor.getSnapshot().context
      if (ctx !== undefined) this.seed(cid, ctx.instrumentId, this.deps.now())
    }
  }

  private payloadOf(event: OrderEvent): Record<string, unknown> {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(event)) {
      if (k === "_tag" || k === "id" || k === "source") continue
      out[k] = typeof v === "object" && v !== null && "toFixed" in v ? String(v) : v
    }
    return out
  }

  private emit(item: Parameters<StreamListener>[0]): void {
    for (const l of this.listeners) {
      try {
        l(item)
      } catch {
        // A listener that throws is the API's problem, never the daemon's.
      }
    }
  }

  private annotate(node: TreeNode): ActorTreeNode {
    const inst = this.deps.trading.instrumentActors.find((a) => node.id === a.host.child.id)
    const extra = inst === undefined ? {} : { machine: "book-sync", machineState: inst.state() }
    const strategy = this.deps.strategies()?.list().find((s) => node.id === `strategy:${s.id}` || node.id === s.id)
    const extraS = strategy === undefined ? {} : { machine: "strategy", machineState: strategy.state }
    return { ...node, ...extra, ...extraS, children: node.children.map((c) => this.annotate(c)) }
  }

  private orderNodes(): ActorTreeNode {
    this.seedLive()
    // Live orders only, oldest first (then by id): a row stays where it is until its order finishes.
    const recent = [...this.orders.values()]
      .filter((o) => this.isOpen(o))
      .sort((a, b) => a.createdAt - b.createdAt || (a.clientOrderId < b.clientOrderId ? -1 : a.clientOrderId > b.clientOrderId ? 1 : 0))
      .slice(0, MAX_LIVE_SHOWN)
    const now = this.deps.now()
    return {
      id: "orders",
      kind: "supervisor",
      state: "running",
      restarts: 0,
      uptimeMs: now - this.deps.startedAt,
      children: recent.map((o) => ({
        id: `order:${o.clientOrderId}`,
        kind: "worker",
        state: TERMINAL.has(o.state) ? "stopped" : "running",
        restarts: 0,
        uptimeMs: now - (o.transitions[0]?.ts ?? now),
        machine: "order",
        machineState: this.deps.trading.orders.order(o.clientOrderId)?.actor.getSnapshot().value ?? o.state,
        children: []
      }))
    }
  }

  private orderView(o: OrderRecord): OrderView {
    return {
      clientOrderId: o.clientOrderId,
      ...(o.venueOrderId === undefined ? {} : { venueOrderId: o.venueOrderId }),
      account: this.deps.account,
      instrument: o.instrument,
      ...(o.strategy === undefined ? {} : { strategy: o.strategy }),
      side: o.side,
      type: o.type,
      ...(o.price === undefined ? {} : { price: o.price }),
      qty: o.qty,
      filledQty: o.filledQty,
      state: o.state,
      // The actor's own answer when it is held (the same test as `status` and the metrics).
      open: this.isOpen(o),
      updatedAt: o.updatedAt
    }
  }

  private isOpen(o: OrderRecord): boolean {
    const actor = this.deps.trading.orders.order(o.clientOrderId)
    if (actor !== undefined) return !actor.terminal
    return !TERMINAL.has(o.state.split(".").pop() ?? o.state) && !TERMINAL.has(o.state)
  }

  private strategyView(s: StrategyStatus): StrategyView {
    return { id: s.id, kind: s.definition, state: s.state, instruments: [...new Set([...s.instruments, ...s.positions.map((p) => p.instrumentId)])], restarts: s.restarts, params: (s.params ?? {}) as Record<string, unknown> }
  }

  /** ` — did you mean mm-xbt?` for a strategy id typed wrong, with the ids there are. */
  private strategySuggestion(id: string): string {
    const ids = (this.deps.strategies()?.list() ?? []).map((s) => s.id as string)
    const hint = didYouMean(id, ids)
    return hint !== "" ? hint : ids.length > 0 ? ` (strategies: ${ids.join(", ")})` : ""
  }

  readonly control: DaemonControl = {
    status: () =>
      Effect.sync(() => ({
        node: this.deps.nodeState(),
        trading: { [this.deps.account]: this.deps.trading.risk.status },
        uptimeMs: this.deps.now() - this.deps.startedAt,
        version: this.deps.version,
        counts: {
          actors: this.deps.trading.instrumentActors.length + this.deps.trading.orders.retainedOrders + (this.deps.strategies()?.list().length ?? 0),
          openOrders: this.deps.trading.orders.liveOrders,
          positions: this.deps.trading.instrumentActors.filter((a) => !(this.deps.trading.portfolio.position(a.instrumentId)?.quantity.isZero() ?? true)).length,
          strategies: this.deps.strategies()?.list().length ?? 0,
          restarts: this.deps.trading.instrumentActors.reduce((n, a) => n + Math.max(0, a.host.incarnations() - 1), 0)
        },
        causes: { [this.deps.account]: this.deps.trading.risk.causes() },
        positionMismatches: { [this.deps.account]: this.deps.mismatches.list }
      })),
    ready: () => Effect.sync(() => ({ ready: this.deps.nodeState() === "running", node: this.deps.nodeState() })),
    actors: () =>
      Effect.gen(this, function* () {
        const root = this.deps.root()
        const tree: TreeNode | undefined = root === undefined ? undefined : yield* root.tree
        const base: ActorTreeNode =
          tree === undefined ? { id: "root", kind: "supervisor", state: "starting", restarts: 0, uptimeMs: 0, children: [] } : this.annotate(tree)
        return { ...base, children: [...base.children, this.orderNodes()] }
      }),
    actor: (id) =>
      Effect.gen(this, function* () {
        if (id.startsWith("order:")) {
          const o = this.orders.get(id.slice("order:".length))
          if (o === undefined) return yield* Effect.fail(new ControlError({ code: "NotFound", message: `no actor ${id}` }))
          const snap = this.deps.trading.orders.order(o.clientOrderId)?.actor.getSnapshot()
          const detail: ActorDetail = {
            id,
            kind: "worker",
            state: TERMINAL.has(o.state) ? "stopped" : "running",
            machine: "order",
            machineState: snap?.value ?? o.state,
            context: (snap?.context ?? { state: o.state }) as Record<string, unknown>,
            transitions: o.transitions
          }
          return detail
        }
        const inst = this.deps.trading.instrumentActors.find((a) => a.host.child.id === id)
        if (inst !== undefined) {
          const detail: ActorDetail = {
            id,
            kind: "worker",
            state: "running",
            machine: "book-sync",
            machineState: inst.state() ?? "idle",
            context: { ...(inst.context() ?? {}), stats: { ...inst.stats } } as Record<string, unknown>,
            transitions: this.deps.inspection
              .recent()
              .filter((e) => e.actorId === id && e.type === "transition")
              .map((e) => ({ ts: e.ts, event: (e.event ?? { type: "?" }) as { type: string }, from: null, to: e.state }))
          }
          return detail
        }
        const s = this.deps.strategies()?.list().find((x) => id === x.id || id === `strategy:${x.id}`)
        if (s !== undefined) {
          const transitions = this.deps.strategies()?.history(s.id) ?? []
          const detail: ActorDetail = { id, kind: "supervisor", state: "running", machine: "strategy", machineState: s.state, context: { ...s }, transitions }
          return detail
        }
        return yield* Effect.fail(new ControlError({ code: "NotFound", message: `no actor ${id}` }))
      }),
    orders: (filter) =>
      Effect.sync(() => {
        this.seedLive()
        const all = [...this.orders.values()].map((o) => this.orderView(o)).sort((a, b) => b.updatedAt - a.updatedAt)
        return filter.open === true ? all.filter((o) => o.open) : all
      }),
    positions: () =>
      Effect.sync(() =>
        this.deps.trading.instrumentActors.flatMap((a) => {
          const p = this.deps.trading.portfolio.position(a.instrumentId)
          if (p === undefined) return []
          return [
            {
              account: this.deps.account,
              instrument: a.instrumentId,
              qty: p.quantity.toString(),
              avgEntry: p.quantity.isZero() ? null : p.avgEntryPrice.toString(),
              markPrice: a.view()?.bestBid && a.view()?.bestAsk ? a.view()!.bestBid!.price.plus(a.view()!.bestAsk!.price).div(2).toString() : null,
              unrealizedPnl: this.deps.trading.portfolio.unrealized(a.instrumentId).toString(),
              realizedPnl: p.realizedPnl.toString(),
              realizedGross: p.realizedPnl.plus(p.fees).toString(),
              fees: p.fees.toString(),
              ...precisionOf(this.deps.trading.instrument(a.instrumentId))
            }
          ]
        })
      ),
    halt: (c) => this.deps.operatorActions.halt(c),
    reduce: (c) => this.deps.operatorActions.reduce(c),
    resume: (c) => this.deps.operatorActions.resume(c),
    cancelAll: (c) => this.deps.operatorActions.cancelAll(c),
    reconcileAccept: (c) => this.deps.operatorActions.reconcileAccept(c),
    strategies: () => Effect.sync(() => (this.deps.strategies()?.list() ?? []).map((s) => this.strategyView(s))),
    strategyCommand: (c) =>
      Effect.gen(this, function* () {
        const host = this.deps.strategies()
        if (host === undefined) return yield* Effect.fail(new ControlError({ code: "Unavailable", message: "strategies are not running" }))
        const fail = (e: { readonly _tag: string; readonly message?: string }) =>
          new ControlError({
            code: e._tag === "StrategyNotFound" ? "NotFound" : e._tag.includes("Invalid") ? "Invalid" : "Conflict",
            message: `${e.message || e._tag}${e._tag === "StrategyNotFound" ? this.strategySuggestion(c.id ?? "") : ""}`
          })
        // Each command is journaled (durable) before it takes effect; what is refused up front
        // (unknown strategy, bad file or id) takes no effect and is not journaled. A command that
        // fails as it takes effect gets a second event naming the first (the roster skips it).
        if (c.action === "add") {
          if (c.file === undefined) return yield* Effect.fail(new ControlError({ code: "Invalid", message: "add needs a file" }))
          const definition = yield* this.deps.catalog.load(c.file).pipe(Effect.mapError((e) => new ControlError({ code: "Invalid", message: e.message })))
          const strategyId = c.id ?? definition.id
          if (host.status(strategyId) !== undefined) return yield* Effect.fail(new ControlError({ code: "Conflict", message: `strategy ${strategyId} already exists` }))
          const params = c.params ?? {}
          const paramsText = yield* this.paramsJson(params)
          const audit = yield* this.strategyAudit(c, strategyId)
          const action = yield* this.journalAction({ ...audit, action: "strategy.add", file: c.file, ...(paramsText === undefined ? {} : { after: { state: "running", params: paramsText } }) })
          const id = yield* host.add({ definition, params, id: strategyId }).pipe(
            Effect.mapError(fail),
            Effect.tapError((e) => this.journalFailure(action, e))
          )
          return this.strategyView(host.status(id) as StrategyStatus)
        }
        const id = c.id
        if (id === undefined) return yield* Effect.fail(new ControlError({ code: "Invalid", message: `${c.action} needs a strategy id` }))
        const before = host.status(id)
        if (before === undefined) return yield* Effect.fail(new ControlError({ code: "NotFound", message: `no strategy ${id}${this.strategySuggestion(id)}` }))
        const beforeParams = yield* this.paramsJson(before.params)
        const newParams = c.action === "reconfigure" ? yield* this.paramsJson(c.params ?? {}) : undefined
        const audit = yield* this.strategyAudit(c, id)
        const afterState: ActionState =
          c.action === "stop" ? { state: "stopped" } : c.action === "reconfigure" ? { state: before.state, ...(newParams === undefined ? {} : { params: newParams }) } : { state: "running" }
        const action = yield* this.journalAction({ ...audit, action: STRATEGY_ACTION[c.action], before: this.stateOf(before, beforeParams), after: afterState })
        const effect: Effect.Effect<void, ControlError> =
          c.action === "start" || c.action === "restart"
            ? host.restart(id).pipe(Effect.mapError(fail))
            : c.action === "stop"
              ? host.stop(id).pipe(Effect.mapError(fail))
              : host.reconfigure(id, c.params ?? {}).pipe(Effect.mapError(fail))
        yield* effect.pipe(Effect.tapError((e) => this.journalFailure(action, e)))
        const s = host.status(id)
        if (s === undefined) return yield* Effect.fail(new ControlError({ code: "NotFound", message: `no strategy ${id}` }))
        return this.strategyView(s)
      }),
    metricsText: () => Effect.sync(() => this.deps.metrics.render() + (this.deps.runtimeMetrics?.render() ?? "")),
    reportSource: () => this.deps.reportSource?.() ?? Effect.fail(new ControlError({ code: "NotFound", message: "this daemon does not serve the report's source" })),
    portfolioRisk: () => Effect.sync(() => this.deps.portfolioRisk?.() ?? riskView(undefined, undefined)),
    subscribe: (listener) => {
      this.listeners.add(listener)
      return () => {
        this.listeners.delete(listener)
      }
    }
  }
}
