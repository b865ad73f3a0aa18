import { Effect } from "effect"
import {
  ControlError,
  type ActorDetail,
  type ActorTreeNode,
  type DaemonControl,
  type NodeState,
  type OperatorCommand,
  type OrderView,
  type PositionView,
  type StrategyCommand,
  type StrategyView,
  type StreamItem,
  type StreamListener,
  type TradingState,
  type TransitionRecord
} from "../../../src/daemon/control.js"

/**
 * An in-memory `DaemonControl` for the control API, CLI and inspector tests: a small tree with
 * one order actor, fixed orders and positions, and a stream the test pushes into. It records
 * what the API asked of it, so a test can check that a command arrived as sent.
 */
export interface FakeControl extends DaemonControl {
  node: NodeState
  trading: TradingState
  readonly operatorCalls: Array<{ readonly command: "halt" | "reduce" | "resume" | "cancel-all" | "reconcile-accept" } & OperatorCommand>
  readonly strategyCalls: StrategyCommand[]
  readonly listeners: Set<StreamListener>
  /** Records the step in the order actor's history and publishes it as an inspection event. */
  readonly orderTransition: (event: TransitionRecord["event"], to: unknown) => void
  readonly push: (item: StreamItem) => void
}

export const ORDER_ACTOR = "order-c1"

const order = (over: Partial<OrderView> & Pick<OrderView, "clientOrderId" | "state" | "open">): OrderView => ({
  account: "default",
  instrument: "kf:PF_XBTUSD",
  strategy: "mm",
  side: "buy",
  type: "limit",
  price: "60000.5",
  qty: "0.010",
  filledQty: "0",
  updatedAt: 1_767_225_600_000,
  ...over
})

export const makeFakeControl = (): FakeControl => {
  const listeners = new Set<StreamListener>()
  const transitions: TransitionRecord[] = [
    { ts: 1_767_225_600_000, event: { type: "SUBMIT" }, from: "initialized", to: "submitted" },
    { ts: 1_767_225_600_050, event: { type: "ACCEPTED", venueOrderId: "v-77" }, from: "submitted", to: { working: "accepted" } }
  ]
  let orderState: unknown = { working: "accepted" }
  const strategies: StrategyView[] = [{ id: "mm", kind: "market-maker", state: "running", instruments: ["kf:PF_XBTUSD"], restarts: 1, params: { spread: "0.001" } }]

  const tree = (): ActorTreeNode => ({
    id: "root",
    kind: "supervisor",
    state: "running",
    restarts: 0,
    uptimeMs: 3_723_000,
    strategy: "one_for_one",
    children: [
      { id: "store", kind: "worker", state: "running", restarts: 0, uptimeMs: 3_700_000, children: [] },
      {
        id: "orders",
        kind: "supervisor",
        state: "running",
        restarts: 0,
        uptimeMs: 3_600_000,
        strategy: "one_for_one",
        children: [{ id: ORDER_ACTOR, kind: "worker", state: "running", restarts: 0, uptimeMs: 5_000, machine: "order", machineState: orderState, children: [] }]
      },
      { id: "strategy-mm", kind: "worker", state: "restarting", restarts: 2, uptimeMs: 0, machine: "strategy", machineState: "starting", children: [] }
    ]
  })

  const self: FakeControl = {
    node: "running",
    trading: "active",
    operatorCalls: [],
    strategyCalls: [],
    listeners,
    status: () =>
      Effect.sync(() => ({
        node: self.node,
        trading: { default: self.trading },
        uptimeMs: 3_723_000,
        version: "0.1.0",
        counts: { actors: 5, openOrders: 1, positions: 1, strategies: 1, restarts: 2 }
      })),
    ready: () => Effect.sync(() => ({ ready: self.node === "running", node: self.node })),
    actors: () => Effect.sync(tree),
    actor: (id) =>
      id === ORDER_ACTOR
        ? Effect.sync(
            (): ActorDetail => ({
              id,
              kind: "worker",
              state: "running",
              machine: "order",
              machineState: orderState,
              context: { clientOrderId: "c1", filledQty: "0" },
              transitions: [...transitions]
            })
          )
        : Effect.fail(new ControlError({ code: "NotFound", message: `no actor ${JSON.stringify(id)}` })),
    orders: (filter) =>
      Effect.sync(() => {
        const all = [order({ clientOrderId: "c1", venueOrderId: "v-77", state: "accepted", open: true }), order({ clientOrderId: "c0", side: "sell", state: "filled", filledQty: "0.010", open: false, updatedAt: 1_767_225_000_000 })]
        return filter.open === true ? all.filter((o) => o.open) : all
      }),
    positions: () =>
      Effect.succeed([
        { account: "default", instrument: "kf:PF_XBTUSD", qty: "-0.010", avgEntry: "60010.0", markPrice: "60000.5", unrealizedPnl: "0.095", realizedPnl: "1.25", realizedGross: "1.37", fees: "0.12" } satisfies PositionView
      ]),
    halt: (c) => operator("halt", c, "halted"),
    reduce: (c) => operator("reduce", c, "reducing"),
    resume: (c) => operator("resume", c, "active"),
    cancelAll: (c) => operator("cancel-all", c, self.trading),
    reconcileAccept: (c) =>
      Effect.map(operator("reconcile-accept", c, "active"), (r) => ({ trading: r.trading, adopted: [{ instrument: "kf:PF_XBTUSD", from: "0", to: "-0.010" }] })),
    strategies: () => Effect.sync(() => [...strategies]),
    strategyCommand: (c) =>
      Effect.suspend(() => {
        self.strategyCalls.push(c)
        const s = strategies.find((x) => x.id === (c.id ?? "mm"))
        if (c.action === "add") return Effect.succeed({ id: c.id ?? "new", kind: "file", state: "ready", instruments: [], restarts: 0, params: c.params ?? {} })
        if (s === undefined) return Effect.fail(new ControlError({ code: "NotFound", message: `no strategy ${JSON.stringify(c.id)}` }))
        if (c.action === "start" && s.state === "running") return Effect.fail(new ControlError({ code: "Conflict", message: `strategy ${s.id} is already running` }))
        return Effect.succeed({ ...s, state: c.action === "stop" ? "stopped" : "running", params: c.params ?? s.params })
      }),
    metricsText: () => Effect.succeed("# HELP troupe_fake_up Fake.\n# TYPE troupe_fake_up gauge\ntroupe_fake_up 1\n"),
    subscribe: (listener) => {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    push: (item) => {
      for (const l of listeners) l(item)
    },
    orderTransition: (event, to) => {
      const record: TransitionRecord = { ts: Date.now(), event, from: orderState, to }
      transitions.push(record)
      orderState = to
      self.push({ type: "inspection", event: { actorId: ORDER_ACTOR, kind: "order", type: "transition", state: to, event, ts: record.ts } })
    }
  }
  const operator = (command: "halt" | "reduce" | "resume" | "cancel-all" | "reconcile-accept", c: OperatorCommand, next: TradingState) =>
    Effect.sync(() => {
      self.operatorCalls.push({ command, ...c })
      self.trading = next
      return { trading: { default: next }, canceled: c.cancelAll === true ? 1 : 0 }
    })
  return self
}
