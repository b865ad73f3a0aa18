import { Effect } from "effect"
import { ControlError, type ActorDetail, type ActorTreeNode, type OrderView, type StrategyView, type TransitionRecord } from "../../src/daemon/control.js"
import { makeFakeControl, type FakeControl } from "../daemon/control-api/fake-control.js"

/**
 * A `DaemonControl` the size of a busy day: `instruments` book-sync actors, `finished` finished
 * orders spread over them and three strategies, a few live ones, and a way to stream new orders
 * through their lifecycle (each step recorded and published as the daemon does). Deterministic.
 */
export interface ScaleControl extends FakeControl {
  readonly instrumentIds: ReadonlyArray<string>
  readonly finishedIds: ReadonlyArray<string>
  /** Starts a new live order (SUBMIT, ACCEPTED) and returns its client order id. */
  readonly newOrder: () => string
  /** One step of a live order: partial fill, fill or cancel. */
  readonly step: (clientOrderId: string, event: TransitionRecord["event"], to: unknown) => void
  /** A book-sync transition on an instrument (resync then live), as the instrument actors publish. */
  readonly bookTick: (instrumentIndex: number) => void
}

const STRATEGIES = ["mm-xbt", "mm-eth", "trend"] as const
const T0 = 1_767_225_600_000
const FINAL = ["filled", "canceled", "canceled", "filled", "rejected", "expired"] as const

interface Rec {
  view: OrderView
  transitions: TransitionRecord[]
  value: unknown
}

export const makeScaleControl = (opts: { readonly instruments: number; readonly finished: number }): ScaleControl => {
  const base = makeFakeControl()
  const instrumentIds = Array.from({ length: opts.instruments }, (_, i) => `kraken-futures:PF_I${String(i).padStart(4, "0")}USD`)
  const orders = new Map<string, Rec>()
  const put = (cid: string, instrument: string, strategy: string, ts: number, steps: ReadonlyArray<readonly [TransitionRecord["event"], unknown]>): Rec => {
    const transitions: TransitionRecord[] = []
    let value: unknown = "initialized"
    steps.forEach(([event, to], k) => {
      transitions.push({ ts: ts + k * 40, event, from: value, to })
      value = to
    })
    const state = typeof value === "string" ? value : `working.${(value as { working: string }).working}`
    const last = state.split(".").pop() as string
    const rec: Rec = {
      view: {
        clientOrderId: cid,
        account: "default",
        instrument,
        strategy,
        side: ts % 2 === 0 ? "buy" : "sell",
        type: "limit",
        price: "100.5",
        qty: "1",
        filledQty: last === "filled" ? "1" : "0",
        state,
        open: !["filled", "canceled", "rejected", "expired", "denied"].includes(last),
        updatedAt: ts + (steps.length - 1) * 40
      },
      transitions,
      value
    }
    orders.set(cid, rec)
    return rec
  }
  const lifecycle = (final: string): Array<readonly [TransitionRecord["event"], unknown]> => {
    const accepted: Array<readonly [TransitionRecord["event"], unknown]> = [
      [{ type: "SUBMIT", journal: "OrderSubmitted" }, "submitted"],
      [{ type: "ACCEPTED", journal: "OrderAccepted", venueOrderId: "v" }, { working: "accepted" }]
    ]
    if (final === "rejected") return [accepted[0] as readonly [TransitionRecord["event"], unknown], [{ type: "REJECTED", journal: "OrderRejected", reason: "post-only would cross" }, "rejected"]]
    if (final === "filled") return [...accepted, [{ type: "FILL", journal: "OrderFilled", fillId: "f", quantity: "0.4", price: "100.5" }, { working: "partiallyFilled" }], [{ type: "FILL", journal: "OrderFilled", fillId: "g", quantity: "0.6", price: "100.5" }, "filled"]]
    if (final === "expired") return [...accepted, [{ type: "EXPIRED", journal: "OrderExpired" }, "expired"]]
    return [...accepted, [{ type: "CANCEL", journal: "OrderCancelRequested" }, { working: "pendingCancel" }], [{ type: "CANCELED", journal: "OrderCanceled", reason: "requested" }, "canceled"]]
  }
  const finishedIds: string[] = []
  for (let i = 0; i < opts.finished; i++) {
    const strategy = STRATEGIES[i % STRATEGIES.length] as string
    const cid = `${strategy}-1-${String(i).padStart(6, "0")}`
    put(cid, instrumentIds[(i * 7) % instrumentIds.length] as string, strategy, T0 + i * 1000, lifecycle(FINAL[i % FINAL.length] as string))
    finishedIds.push(cid)
  }
  let seq = 0
  const live: string[] = []
  const publish = (cid: string, rec: Rec, record: TransitionRecord): void =>
    base.push({ type: "inspection", event: { actorId: `order:${cid}`, kind: "order", type: "transition", state: record.to, event: record.event, ts: record.ts } })
  const addStep = (cid: string, event: TransitionRecord["event"], to: unknown): void => {
    const rec = orders.get(cid)
    if (rec === undefined) return
    const record: TransitionRecord = { ts: Date.now(), event, from: rec.value, to }
    rec.transitions.push(record)
    rec.value = to
    const state = typeof to === "string" ? to : `working.${(to as { working: string }).working}`
    const last = state.split(".").pop() as string
    rec.view = { ...rec.view, state, open: !["filled", "canceled", "rejected", "expired"].includes(last), updatedAt: record.ts, filledQty: last === "filled" ? "1" : rec.view.filledQty }
    publish(cid, rec, record)
  }
  const newOrder = (): string => {
    const strategy = STRATEGIES[seq % STRATEGIES.length] as string
    const cid = `${strategy}-2-${String(seq++).padStart(6, "0")}`
    const now = Date.now()
    const rec = put(cid, instrumentIds[seq % instrumentIds.length] as string, strategy, now, [])
    rec.view = { ...rec.view, state: "initialized", open: true, updatedAt: now }
    live.push(cid)
    addStep(cid, { type: "SUBMIT", journal: "OrderSubmitted" }, "submitted")
    addStep(cid, { type: "ACCEPTED", journal: "OrderAccepted", venueOrderId: `v-${seq}` }, { working: "accepted" })
    return cid
  }
  for (let i = 0; i < 20; i++) newOrder()

  const strategies: StrategyView[] = STRATEGIES.map((id, i) => ({
    id,
    kind: id.startsWith("mm") ? "avellaneda-stoikov" : "trend",
    state: "running",
    instruments: [instrumentIds[i] as string],
    restarts: 0,
    params: { gamma: "0.1", orderQty: "1", instruments: [instrumentIds[i]] }
  }))
  const bookState = new Map<string, string>()

  const tree = (): ActorTreeNode => ({
    id: "root",
    kind: "supervisor",
    state: "running",
    restarts: 0,
    uptimeMs: 3_600_000,
    children: [
      {
        id: "instruments",
        kind: "supervisor",
        state: "running",
        restarts: 0,
        uptimeMs: 3_600_000,
        children: instrumentIds.map((id) => ({ id: `instrument:${id}`, kind: "worker" as const, state: "running" as const, restarts: 0, uptimeMs: 3_600_000, machine: "book-sync", machineState: bookState.get(id) ?? "live", children: [] }))
      },
      {
        id: "strategies",
        kind: "supervisor",
        state: "running",
        restarts: 0,
        uptimeMs: 3_600_000,
        children: strategies.map((s) => ({ id: s.id, kind: "supervisor" as const, state: "running" as const, restarts: 0, uptimeMs: 3_600_000, machine: "strategy", machineState: s.state, children: [] }))
      },
      {
        id: "orders",
        kind: "supervisor",
        state: "running",
        restarts: 0,
        uptimeMs: 3_600_000,
        children: live
          .map((cid) => orders.get(cid) as Rec)
          .filter((r) => r.view.open)
          .map((r) => ({ id: `order:${r.view.clientOrderId}`, kind: "worker" as const, state: "running" as const, restarts: 0, uptimeMs: 1_000, machine: "order", machineState: r.value, children: [] }))
      }
    ]
  })

  const strategyHistory: TransitionRecord[] = [
    { ts: T0, event: { type: "START" }, from: "ready", to: "starting" },
    { ts: T0 + 5, event: { type: "STARTED" }, from: "starting", to: "running" }
  ]

  return {
    ...base,
    instrumentIds,
    finishedIds,
    newOrder,
    step: addStep,
    bookTick: (i) => {
      const id = instrumentIds[i % instrumentIds.length] as string
      const next = bookState.get(id) === "resyncing" ? "live" : "resyncing"
      bookState.set(id, next)
      base.push({ type: "inspection", event: { actorId: `instrument:${id}`, kind: "book-sync", type: "transition", state: next, event: { type: next === "live" ? "SNAPSHOT" : "GAP" }, ts: Date.now() } })
    },
    actors: () => Effect.sync(tree),
    actor: (id) =>
      Effect.suspend(() => {
        const rec = id.startsWith("order:") ? orders.get(id.slice("order:".length)) : undefined
        if (rec !== undefined) {
          const d: ActorDetail = { id, kind: "worker", state: rec.view.open ? "running" : "stopped", machine: "order", machineState: rec.value, context: { ...rec.view, nested: { fills: [{ id: "f", qty: "0.4" }], limits: { maxQty: "5" } } }, transitions: [...rec.transitions] }
          return Effect.succeed(d)
        }
        const s = strategies.find((x) => x.id === id)
        if (s !== undefined) return Effect.succeed<ActorDetail>({ id, kind: "supervisor", state: "running", machine: "strategy", machineState: s.state, context: { ...s }, transitions: strategyHistory })
        return Effect.fail(new ControlError({ code: "NotFound", message: `no actor ${JSON.stringify(id)}` }))
      }),
    orders: (filter) =>
      Effect.sync(() => {
        const all = [...orders.values()].map((r) => r.view)
        return filter.open === true ? all.filter((o) => o.open) : all
      }),
    strategies: () => Effect.sync(() => strategies),
    positions: () =>
      Effect.succeed(
        strategies.map((s, i) => ({ account: "default", instrument: s.instruments[0] as string, qty: String(i - 1), avgEntry: "100.25", markPrice: "100.5", unrealizedPnl: String((i - 1) * 0.25), realizedPnl: `${12 + i}.5`, realizedGross: `${13 + i}.25`, fees: "0.75" }))
      )
  }
}
