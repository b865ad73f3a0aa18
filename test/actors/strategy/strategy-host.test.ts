import { Effect, Either, Schema } from "effect"
import { describe, expect, it } from "vitest"
import { setup, assign } from "xstate"
import { dec } from "../../../src/domain/decimal.js"
import type { ClientOrderId } from "../../../src/domain/ids.js"
import { decodeParams, defineMachineStrategy, defineStrategy, DecimalFromString, order, type MachineStrategyEvent, type MachineStrategyInput } from "../../../src/strategies/sdk.js"
import { ACCOUNT, book, ETH, fillOf, settle, waitUntil, withHost, XBT } from "./fixtures.js"

/** Buys one lot on every book; throws on a book whose bid is 13 (the test's poison pill). */
const buyer = defineStrategy({
  id: "buyer",
  instruments: [XBT],
  params: Schema.Struct({ qty: DecimalFromString }),
  init: () => ({ books: 0 }),
  onBook: (ctx, view) => {
    if (view.bestBid?.price.equals(13) === true) throw new Error("poison book")
    ctx.state.books++
    ctx.submit({ instrument: XBT, side: "buy", qty: ctx.params.qty, type: order.limit(dec(100)) })
  }
})

/** Quotes one order and keeps a counter across callbacks, so a lost state is visible. */
const counter = defineStrategy({
  id: "counter",
  instruments: [XBT],
  params: Schema.Struct({ offset: Schema.Number, qty: DecimalFromString }),
  init: () => ({ seen: 0, quote: undefined as ClientOrderId | undefined, reconfigured: [] as number[] }),
  onBook: (ctx, view) => {
    ctx.state.seen++
    if (ctx.state.quote === undefined && view.bestBid !== undefined) {
      ctx.state.quote = ctx.submit({ instrument: XBT, side: "buy", qty: ctx.params.qty, type: order.postOnly(view.bestBid.price.minus(ctx.params.offset)) })
    }
  },
  onReconfigure: (ctx, previous) => {
    ctx.state.reconfigured.push(previous.offset)
    ctx.record("previous-offset", previous.offset)
    ctx.record("seen-before-reconfigure", ctx.state.seen)
  },
  onStop: (ctx) => ctx.record("stopped-after", ctx.state.seen)
})

describe("strategy host supervision", () => {
  it("a strategy that throws in onBook is restarted, then left faulted past its intensity, while another strategy under the same supervisor keeps trading", async () => {
    const result = await withHost((w) =>
      Effect.gen(function* () {
        yield* w.host.add({ definition: buyer, id: "fragile", params: { qty: "0.001" }, intensity: { maxRestarts: 2, periodMs: 60_000 } })
        yield* w.host.add({ definition: buyer, id: "steady", params: { qty: "0.002" } })
        expect(w.host.status("fragile")?.state).toBe("running")

        const crashes: Array<{ state: string | undefined; restarts: number | undefined }> = []
        for (let i = 1; i <= 3; i++) {
          w.feed.push(book(XBT, 13, 14))
          // Crash i is followed by restart i (i <= 2); the third exceeds the intensity.
          yield* waitUntil(() => (i <= 2 ? w.host.status("fragile")?.restarts === i && w.host.status("fragile")?.state === "running" : w.host.status("fragile")?.state === "faulted"), `crash ${i} handled`)
          yield* waitUntil(() => i <= 2 || w.events.some((e) => e._tag === "ChildExited" && e.child === "fragile" && e.reason === "failure"), "gave up")
          crashes.push({ state: w.host.status("fragile")?.state, restarts: w.host.status("fragile")?.restarts })
        }
        const steadyBefore = w.gateway.from("steady").length
        w.feed.push(book(XBT, 99, 101))
        w.feed.push(book(XBT, 99.5, 101))
        yield* settle(w)
        return {
          crashes,
          fragileAfter: w.gateway.from("fragile").filter((i) => i._tag === "SubmitOrder").length,
          steadyNew: w.gateway.from("steady").length - steadyBefore,
          steadyState: w.host.status("steady")?.state,
          lastError: w.host.status("fragile")?.lastError,
          cancelOnFault: w.gateway.from("fragile").some((i) => i._tag === "CancelAll"),
          gaveUp: w.events.some((e) => e._tag === "SupervisorGaveUp" && e.supervisor === "strategies/fragile")
        }
      })
    )
    expect(result.crashes).toEqual([
      { state: "running", restarts: 1 },
      { state: "running", restarts: 2 },
      { state: "faulted", restarts: 2 }
    ])
    expect(result.gaveUp).toBe(true)
    expect(result.lastError).toContain("poison book")
    // The faulted strategy sends nothing more; its resting orders are canceled for it.
    expect(result.fragileAfter).toBe(0)
    expect(result.cancelOnFault).toBe(true)
    expect(result.steadyState).toBe("running")
    expect(result.steadyNew).toBe(2)
  })

  it("a faulted strategy trades again after an operator restart", async () => {
    const state = await withHost((w) =>
      Effect.gen(function* () {
        yield* w.host.add({ definition: buyer, params: { qty: "0.001" }, restart: "temporary" })
        w.feed.push(book(XBT, 13, 14))
        yield* waitUntil(() => w.host.status("buyer")?.state === "faulted", "faulted")
        yield* w.host.restart("buyer")
        w.feed.push(book(XBT, 99, 101))
        yield* settle(w)
        return { state: w.host.status("buyer")?.state, submits: w.gateway.of("SubmitOrder").length, history: w.host.history("buyer").map((s) => `${s.from} -${s.event.type}-> ${s.to}`) }
      })
    )
    expect({ state: state.state, submits: state.submits }).toEqual({ state: "running", submits: 1 })
    // The lifecycle is recorded step by step (the inspector's time travel over a strategy):
    // the crash, the operator's restart, and each step starts where the previous one ended.
    expect(state.history[0]).toBe("ready -START-> starting")
    expect(state.history).toContain("running -FAULT-> faulted")
    expect(state.history[state.history.length - 1]).toMatch(/-> running$/)
    for (let k = 1; k < state.history.length; k++) expect(state.history[k]!.split(" ")[0]).toBe(state.history[k - 1]!.split(" ").pop())
  })
})

describe("strategy host run-time changes", () => {
  it("reconfigure changes params without losing the position or the strategy's state", async () => {
    const r = await withHost((w) =>
      Effect.gen(function* () {
        yield* w.host.add({ definition: counter, params: { offset: 1, qty: "0.001" } })
        w.feed.push(book(XBT, 100, 101))
        yield* settle(w)
        const quote = w.gateway.of("SubmitOrder")[0]
        w.host.onOrderEvent(fillOf(quote?.clientOrderId as ClientOrderId, XBT, "buy", "0.001", "99"))
        yield* w.host.reconfigure("counter", { offset: 2, qty: "0.005" })
        w.feed.push(book(XBT, 100, 101))
        const status = w.host.status("counter")
        return { status, submits: w.gateway.of("SubmitOrder").length, records: w.records.map((x) => [x.name, x.value]) }
      })
    )
    expect(r.status?.state).toBe("running")
    expect(r.status?.configVersion).toBe("2")
    expect(r.status?.params).toEqual({ offset: 2, qty: dec("0.005") })
    expect(r.status?.positions.map((p) => p.quantity.toString())).toEqual(["0.001"])
    // State survived: the quote id is remembered (no second submit) and onReconfigure saw the old offset.
    expect(r.submits).toBe(1)
    expect(r.records).toEqual([["previous-offset", 1], ["seen-before-reconfigure", 1]])
    expect(r.status?.restarts).toBe(0)
  })

  it("reconfigure with params that do not decode is refused with the field named, and the old params stay", async () => {
    const r = await withHost((w) =>
      Effect.gen(function* () {
        yield* w.host.add({ definition: counter, params: { offset: 1, qty: "0.001" } })
        const error = yield* Effect.flip(w.host.reconfigure("counter", { offset: 1, qty: 0.5 }))
        return { error, params: w.host.status("counter")?.params }
      })
    )
    expect(r.error._tag).toBe("StrategyParamsInvalid")
    expect(r.error._tag === "StrategyParamsInvalid" && r.error.field).toBe("qty")
    expect(r.params).toEqual({ offset: 1, qty: dec("0.001") })
  })

  it("stop runs onStop, cancels the strategy's open orders, flattens when asked, and delivers nothing more", async () => {
    const r = await withHost((w) =>
      Effect.gen(function* () {
        yield* w.host.add({ definition: counter, params: { offset: 1, qty: "0.002" } })
        w.feed.push(book(XBT, 100, 101))
        yield* settle(w)
        const quote = w.gateway.of("SubmitOrder")[0]?.clientOrderId as ClientOrderId
        w.host.onOrderEvent(fillOf(quote, XBT, "buy", "0.001", "99"))
        yield* w.host.stop("counter", { flatten: true })
        w.feed.push(book(XBT, 100, 101))
        yield* settle(w)
        return { state: w.host.status("counter")?.state, intents: w.gateway.intents.slice(1), records: w.records, subscribers: w.feed.subscribers(XBT) }
      })
    )
    expect(r.state).toBe("stopped")
    expect(r.intents.map((i) => i._tag)).toEqual(["CancelAll", "SubmitOrder"])
    expect(r.intents[0]).toMatchObject({ _tag: "CancelAll", account: ACCOUNT, strategy: "counter" })
    expect(r.intents[1]).toMatchObject({ _tag: "SubmitOrder", side: "sell", orderType: "market", reduceOnly: true, qty: dec("0.001") })
    expect(r.records.map((x) => [x.name, x.value])).toEqual([["stopped-after", 1]])
    expect(r.subscribers).toBe(0)
  })

  it("a stopped strategy can be started again with its position", async () => {
    const r = await withHost((w) =>
      Effect.gen(function* () {
        yield* w.host.add({ definition: counter, params: { offset: 1, qty: "0.001" } })
        w.feed.push(book(XBT, 100, 101))
        yield* settle(w)
        w.host.onOrderEvent(fillOf(w.gateway.of("SubmitOrder")[0]?.clientOrderId as ClientOrderId, XBT, "buy", "0.001", "99"))
        yield* w.host.stop("counter", { cancelOpenOrders: false })
        yield* w.host.restart("counter")
        return { state: w.host.status("counter")?.state, positions: w.host.status("counter")?.positions.map((p) => p.quantity.toString()) }
      })
    )
    expect(r).toEqual({ state: "running", positions: ["0.001"] })
  })
})

describe("strategy context", () => {
  it("client order ids are deterministic from strategy, run and sequence, and never repeat across a crash", async () => {
    const ids = await withHost((w) =>
      Effect.gen(function* () {
        yield* w.host.add({ definition: buyer, params: { qty: "0.001" } })
        w.feed.push(book(XBT, 99, 101))
        w.feed.push(book(XBT, 13, 14))
        yield* waitUntil(() => w.host.status("buyer")?.restarts === 1 && w.host.status("buyer")?.state === "running", "restarted")
        w.feed.push(book(XBT, 99, 101))
        yield* settle(w)
        return w.gateway.of("SubmitOrder").map((i) => i.clientOrderId)
      })
    )
    expect(ids).toEqual(["buyer-1-0", "buyer-1-1"])
  })

  it("a denied submit leaves the open orders and reaches onDenied with risk's reason", async () => {
    const denials: string[] = []
    const strategy = defineStrategy({
      id: "denied",
      instruments: [XBT],
      params: Schema.Struct({}),
      init: () => null,
      onBook: (ctx) => {
        if (ctx.openOrders().length === 0) ctx.submit({ instrument: XBT, side: "sell", qty: dec("0.001"), type: order.limit(dec(200)) })
      },
      onDenied: (ctx, d) => void denials.push(`${d.intent} ${d.reason} ${d.clientOrderId ?? ""} open=${ctx.openOrders().length}`)
    })
    await withHost((w) =>
      Effect.gen(function* () {
        w.gateway.deny = () => ({ _tag: "Denied", event: { reason: "MAX_POSITION", detail: "too long" } })
        yield* w.host.add({ definition: strategy, params: {} })
        w.feed.push(book(XBT, 99, 101))
        yield* settle(w)
      })
    )
    expect(denials).toEqual(["SubmitOrder MAX_POSITION denied-1-0 open=0"])
  })

  it("timers run on the injected clock and records become StrategyRecord events", async () => {
    const strategy = defineStrategy({
      id: "ticker",
      instruments: [XBT],
      params: Schema.Struct({ everyMs: Schema.Int }),
      init: (ctx) => {
        ctx.every("tick", ctx.params.everyMs)
        ctx.setTimer("once", 2_500)
        return { ticks: 0 }
      },
      onTimer: (ctx, name) => {
        if (name === "tick") ctx.record("ticks", ++ctx.state.ticks)
        else ctx.record("once", dec("1.5"), XBT)
      }
    })
    const r = await withHost((w) =>
      Effect.gen(function* () {
        yield* w.host.add({ definition: strategy, params: { everyMs: 1_000 } })
        w.clock.advance(3_000)
        yield* w.host.stop("ticker", { cancelOpenOrders: false })
        w.clock.advance(5_000)
        return { records: w.records.map((x) => `${x.name}=${String(x.value)}@${x.ts - 1_000_000}`), pending: w.clock.pendingTimers(), first: w.records[0] }
      })
    )
    expect(r.records).toEqual(["ticks=1@1000", "ticks=2@2000", "once=1.5@2500", "ticks=3@3000"])
    expect(r.first).toMatchObject({ _tag: "StrategyRecord", strategy: "ticker", source: "strategy/ticker" })
    expect(r.pending).toBe(0)
  })

  it("params that do not decode are a typed error naming the field, and nothing starts", async () => {
    const r = await withHost((w) =>
      Effect.gen(function* () {
        const missing = yield* Effect.flip(w.host.add({ definition: counter, params: { qty: "0.001" } }))
        const extra = yield* Effect.flip(w.host.add({ definition: counter, params: { offset: 1, qty: "0.001", gama: 2 } }))
        return { missing, extra, list: w.host.list() }
      })
    )
    expect(r.missing).toMatchObject({ _tag: "StrategyParamsInvalid", strategy: "counter", field: "offset" })
    expect(r.extra).toMatchObject({ _tag: "StrategyParamsInvalid", field: "gama" })
    expect(r.list).toEqual([])
    const bad = decodeParams("s", Schema.Struct({ gamma: Schema.Number.pipe(Schema.positive()) }), { gamma: -1 })
    expect(Either.isLeft(bad) && bad.left.message).toMatch(/^strategy s: params\.gamma: /)
  })

  it("an unknown instrument is refused when the strategy is added", async () => {
    const strategy = defineStrategy({ id: "lost", instruments: ["simulator:NOPE"], params: Schema.Struct({}), init: () => null })
    const error = await withHost((w) => Effect.flip(w.host.add({ definition: strategy, params: {} })))
    expect(error).toMatchObject({ _tag: "StrategyInvalid", field: "instruments" })
  })
})

describe("machine strategies", () => {
  it("a strategy written as an XState machine gets books as events and submits through the context", async () => {
    const machine = setup({
      types: { context: {} as { ctx: MachineStrategyInput<{ qty: typeof dec extends (s: string) => infer D ? D : never }>["ctx"]; books: number }, events: {} as MachineStrategyEvent, input: {} as MachineStrategyInput<{ qty: ReturnType<typeof dec> }> }
    }).createMachine({
      context: ({ input }) => ({ ctx: input.ctx, books: 0 }),
      initial: "waiting",
      states: {
        waiting: {
          on: {
            book: [
              {
                guard: ({ context }) => context.books >= 1,
                target: "done",
                actions: ({ context }) => context.ctx.submit({ instrument: ETH, side: "buy", qty: context.ctx.params.qty, type: order.market() })
              },
              { actions: assign({ books: ({ context }) => context.books + 1 }) }
            ]
          }
        },
        done: {}
      }
    })
    const strategy = defineMachineStrategy({ id: "fsm", instruments: [ETH], params: Schema.Struct({ qty: DecimalFromString }), machine })
    const submits = await withHost((w) =>
      Effect.gen(function* () {
        yield* w.host.add({ definition: strategy, params: { qty: "0.001" } })
        for (let i = 0; i < 3; i++) w.feed.push(book(ETH, 10, 10.05))
        yield* settle(w)
        return w.gateway.of("SubmitOrder").map((s) => `${s.side} ${s.orderType} ${s.qty.toString()}`)
      })
    )
    expect(submits).toEqual(["buy market 0.001"])
  })
})
