import { Data, Schema } from "effect"
import type { ClockService } from "../clock.js"
import { hopTrace } from "../trace/hop-trace.js"
import type { Decimal } from "../../domain/decimal.js"
import type { CancelAll, CancelOrder, ModifyOrder, OrderIntent, SubmitOrder } from "../../domain/events/intents.js"
import type { Trade } from "../../domain/events/market.js"
import type { OrderEvent, OrderFilled } from "../../domain/events/orders.js"
import type { StrategyRecord } from "../../domain/events/strategy.js"
import { fillOfEvent } from "../../domain/fill.js"
import { RecentFillIds } from "../../domain/recent-fill-ids.js"
import { makeClientOrderId, type AccountId, type ClientOrderId, type InstrumentId, type StrategyId } from "../../domain/ids.js"
import { isInverse, type Instrument } from "../../domain/instrument.js"
import { limitPriceOf, triggerPriceOf } from "../../domain/order.js"
import { applyFill, flatPosition, settlePosition, type Position } from "../../domain/position.js"
import type { AnyStrategyDefinition, BookView, Denial, OrderRequest, StrategyClock, StrategyContext, StrategyLog } from "../../strategies/ports.js"
import { OpenOrders } from "./open-orders.js"
import type { IntentGateway, StrategyLogSink, StrategyMarketFeed, StrategyRecordSink } from "./ports.js"
import { bookInput, eventInput, instrumentText, type StrategyInput, type StrategyInputSink } from "./strategy-inputs.js"

/** A strategy callback threw (or init did): the incarnation ends and its supervisor decides. */
export class StrategyFault extends Data.TaggedError("StrategyFault")<{ readonly strategy: string; readonly callback: string; readonly error: string }> {
  override get message(): string {
    return `strategy ${this.strategy} threw in ${this.callback}: ${this.error}`
  }
}

export interface RuntimeDeps {
  readonly account: AccountId
  /** Daemon run number: part of every client order id, so ids never repeat across runs. */
  readonly run: number
  readonly clock: ClockService
  readonly gateway: IntentGateway
  readonly feed: StrategyMarketFeed
  readonly records: StrategyRecordSink
  readonly log: StrategyLogSink
  /** Every input the runtime takes, for parity replay (`strategy-inputs.ts`); absent: nothing is recorded. */
  readonly inputs?: StrategyInputSink
}

/** What lives only as long as one incarnation: the strategy's own state, timers, subscriptions. */
interface Incarnation {
  readonly ctx: StrategyContext<unknown, unknown>
  readonly timers: Map<string, () => void>
  readonly clockTimers: Map<number, () => void>
  readonly unsubscribes: Array<() => void>
  alive: boolean
  readonly crash: (fault: StrategyFault) => void
}

const errorText = (e: unknown): string => (e instanceof Error ? `${e.name}: ${e.message}` : String(e))

// Fill ids remembered per strategy for dedupe; the order actor dedupes too, this is a backstop.
const SEEN_FILLS = 2_000

/**
 * One strategy inside the host: what survives a crash (params, position, open orders, id
 * sequence) and the current incarnation (state, timers). Callbacks run through `call`, which
 * turns a throw into a fault of the incarnation.
 */
export class StrategyRuntime {
  params: unknown
  readonly positions = new Map<InstrumentId, Position>()
  readonly orders = new OpenOrders()
  readonly books = new Map<InstrumentId, BookView>()
  /** Set by the host from the lifecycle machine: callbacks run only while this is true. */
  active = false
  /** Degraded: new orders are sent reduce-only. */
  reduceOnly = false
  incarnations = 0
  private seq = 0
  private eventSeq = 0
  private readonly inFlight = new Set<Promise<void>>()
  /** Bounded like the portfolio's (RecentFillIds): a repeat of a forgotten old fill is still a repeat. */
  private readonly seenFills = new RecentFillIds(SEEN_FILLS)
  private incarnation: Incarnation | undefined
  private nextClockTimer = 0
  /** Parity recording: inside an input (nested entry points are part of it), and the intents it sent. */
  private inInput = false
  private emitted: string[] | undefined
  /** Every timer the runtime arms, numbered in arming order, until it fires or is canceled. */
  private timerSeq = 0
  private readonly armed = new Map<number, () => void>()

  constructor(
    readonly id: StrategyId,
    readonly definition: AnyStrategyDefinition,
    params: unknown,
    readonly instruments: ReadonlyMap<InstrumentId, Instrument>,
    private readonly deps: RuntimeDeps,
    readonly account: AccountId
  ) {
    this.params = params
    this.input(
      () => ({ k: "strategy", def: definition.id, account, run: deps.run, p: this.encodedParams(params), ins: [...instruments.values()].map(instrumentText) }),
      () => undefined
    )
  }

  /** Params in their raw (JSON) form, as the strategy's Schema encodes them. */
  encodedParams(params: unknown): unknown {
    try {
      return Schema.encodeUnknownSync(this.definition.params)(params)
    } catch {
      return null
    }
  }

  /**
   * Runs one input; when recording, reports it after it ran with its clock time and the intents
   * it sent. An entry point reached from inside another input (a callback's own cancelAll, a crash
   * ending the incarnation) is part of that input, not a new one.
   */
  private input<T>(make: () => StrategyInput, run: () => T): T {
    const sink = this.deps.inputs
    if (sink === undefined || this.inInput) return run()
    const t = this.deps.clock.now()
    const emitted: string[] = []
    this.inInput = true
    this.emitted = emitted
    try {
      return run()
    } finally {
      this.inInput = false
      this.emitted = undefined
      try {
        sink({ ...make(), s: this.id, t, o: emitted })
      } catch {
        // The recorder counts its own failures; trading does not depend on it.
      }
    }
  }

  /** A timer of this runtime on the injected clock; numbered so that a replay can fire the same one. */
  private armTimer(ms: number, fn: () => void): () => void {
    const n = this.timerSeq++
    const fire = (): void => {
      this.armed.delete(n)
      this.input(() => ({ k: "timer", n }), fn)
    }
    this.armed.set(n, fire)
    const cancel = this.deps.clock.setTimer(ms, fire)
    return () => {
      this.armed.delete(n)
      cancel()
    }
  }

  /** Parity replay: fires the `n`th timer armed; false when it is not armed (any more). */
  fireTimer(n: number): boolean {
    const fire = this.armed.get(n)
    if (fire === undefined) return false
    fire()
    return true
  }

  /** The host's lifecycle flags (from the strategy machine): recorded when they change. */
  setFlags(active: boolean, reduceOnly: boolean): void {
    if (active === this.active && reduceOnly === this.reduceOnly) return
    this.input(
      () => ({ k: "flags", active, reduceOnly }),
      () => {
        this.active = active
        this.reduceOnly = reduceOnly
      }
    )
  }

  /** New params, then `onReconfigure`; false (params restored) when it threw. */
  applyParams(params: unknown): boolean {
    return this.input(
      () => ({ k: "params", p: this.encodedParams(params) }),
      () => {
        const previous = this.params
        this.params = params
        const onReconfigure = this.definition.onReconfigure
        const ok = onReconfigure === undefined || this.call("onReconfigure", (ctx) => onReconfigure(ctx, previous))
        if (!ok) this.params = previous
        return ok
      }
    )
  }

  /** `onStop` before the host cancels and flattens; a throw is logged, not a crash. */
  runOnStop(): void {
    const onStop = this.definition.onStop
    this.input(
      () => ({ k: "stop" }),
      () => {
        if (onStop !== undefined) this.callQuietly("onStop", (ctx) => onStop(ctx))
      }
    )
  }

  get alive(): boolean {
    return this.incarnation?.alive === true
  }

  // ---- incarnations -------------------------------------------------------------------------

  begin(crash: (fault: StrategyFault) => void): void {
    this.input(() => ({ k: "begin" }), () => this.beginIncarnation(crash))
  }

  private beginIncarnation(crash: (fault: StrategyFault) => void): void {
    this.incarnations++
    const inc: Incarnation = { ctx: undefined as never, timers: new Map(), clockTimers: new Map(), unsubscribes: [], alive: true, crash }
    ;(inc as { ctx: StrategyContext<unknown, unknown> }).ctx = this.makeContext(inc)
    this.incarnation = inc
  }

  /** Runs `init` and subscribes to the books; false (and the incarnation crashed) when init threw. */
  start(): boolean {
    return this.input(() => ({ k: "start" }), () => this.startIncarnation())
  }

  private startIncarnation(): boolean {
    const inc = this.incarnation
    if (inc === undefined || !inc.alive) return false
    const ok = this.call("init", (ctx) => {
      ctx.state = this.definition.init(ctx)
    })
    if (!ok) return false
    for (const id of this.instruments.keys()) {
      inc.unsubscribes.push(this.deps.feed.subscribeBook(id, this.definition.depth ?? 0, (view) => this.onBook(view)))
      const trades = this.deps.feed.subscribeTrades
      if (trades !== undefined && this.definition.onTrade !== undefined) inc.unsubscribes.push(trades(id, (t) => this.onTrade(t)))
    }
    return true
  }

  /** Ends the incarnation: timers and subscriptions go, the strategy's own state is dropped. */
  end(): void {
    const inc = this.incarnation
    if (inc === undefined || !inc.alive) {
      if (inc !== undefined) this.endIncarnation(inc)
      return
    }
    this.input(() => ({ k: "end" }), () => this.endIncarnation(inc))
  }

  private endIncarnation(inc: Incarnation): void {
    inc.alive = false
    for (const cancel of inc.timers.values()) cancel()
    for (const cancel of inc.clockTimers.values()) cancel()
    inc.timers.clear()
    inc.clockTimers.clear()
    for (const unsubscribe of inc.unsubscribes.splice(0)) unsubscribe()
  }

  /**
   * Runs a callback with the context. A throw ends the incarnation and reports the fault;
   * returns false then. `force` runs it outside `running` (init, reconfigure, stop).
   */
  call(name: string, fn: (ctx: StrategyContext<unknown, unknown>) => void, force = true): boolean {
    const inc = this.incarnation
    if (inc === undefined || !inc.alive || (!force && !this.active)) return true
    try {
      fn(inc.ctx)
      return true
    } catch (e) {
      const fault = new StrategyFault({ strategy: this.id, callback: name, error: errorText(e) })
      this.deps.log("error", this.id, fault.message)
      this.end()
      inc.crash(fault)
      return false
    }
  }

  /** For `onStop`: the strategy is going away anyway, so a throw is logged, not a crash. */
  callQuietly(name: string, fn: (ctx: StrategyContext<unknown, unknown>) => void): void {
    const inc = this.incarnation
    if (inc === undefined || !inc.alive) return
    try {
      fn(inc.ctx)
    } catch (e) {
      this.deps.log("error", this.id, `strategy ${this.id} threw in ${name}: ${errorText(e)}`)
    }
  }

  // ---- inputs -------------------------------------------------------------------------------

  onBook(view: BookView): void {
    if (hopTrace.on) hopTrace.view(view.instrumentId)
    this.input(
      () => bookInput(view),
      () => {
        this.books.set(view.instrumentId, view)
        const onBook = this.definition.onBook
        if (onBook !== undefined) this.call("onBook", (ctx) => onBook(ctx, view), false)
      }
    )
  }

  onTrade(trade: Trade): void {
    const onTrade = this.definition.onTrade
    if (onTrade !== undefined) this.input(() => eventInput("trade", trade), () => this.call("onTrade", (ctx) => onTrade(ctx, trade), false))
  }

  /** Bookkeeping always happens; callbacks only while running. */
  onOrderEvent(e: OrderEvent): void {
    this.input(() => eventInput("order", e), () => this.orderEvent(e))
  }

  private orderEvent(e: OrderEvent): void {
    if (e._tag === "OrderFilled") {
      if (this.seenFills.has(e.fillId, e.venueTs ?? e.ts)) return
      this.seenFills.add(e.fillId, e.venueTs ?? e.ts)
      this.applyFill(e)
    }
    this.orders.apply(e)
    if (e._tag === "OrderFilled") {
      const onFill = this.definition.onFill
      if (onFill !== undefined && !this.call("onFill", (ctx) => onFill(ctx, e), false)) return
    }
    const onOrder = this.definition.onOrder
    if (onOrder !== undefined) this.call("onOrder", (ctx) => onOrder(ctx, e), false)
  }

  /**
   * A dated contract the venue settled: the strategy's share of the position is closed at the
   * settlement price (as the portfolio's), so it no longer believes it holds an expired contract.
   */
  onSettlement(instrument: InstrumentId, price: Decimal): void {
    const p = this.positions.get(instrument)
    if (p !== undefined && !p.quantity.isZero()) this.positions.set(instrument, settlePosition(p, price))
  }

  private applyFill(e: OrderFilled): void {
    const fill = fillOfEvent(e)
    this.positions.set(e.instrument, applyFill(this.position(e.instrument), fill))
  }

  position(id: InstrumentId): Position {
    const p = this.positions.get(id)
    if (p !== undefined) return p
    const instrument = this.instruments.get(id)
    return flatPosition(id, instrument?.contractSize ?? (this.firstContractSize() as Decimal), instrument !== undefined && isInverse(instrument.kind))
  }

  private firstContractSize(): Decimal | undefined {
    for (const i of this.instruments.values()) return i.contractSize
    return undefined
  }

  // ---- intents ------------------------------------------------------------------------------

  private envelope(): { id: string; ts: number; source: string } {
    return { id: `strategy/${this.id}/${this.deps.run}/${this.eventSeq++}`, ts: this.deps.clock.now(), source: `strategy/${this.id}` }
  }

  /** Sends one intent; on denial `onDenied` runs after the bookkeeping is corrected. */
  /** Risk refused an intent (or it could not reach risk): the bookkeeping is corrected, then `onDenied`. */
  denied(denial: Denial): void {
    this.input(
      () => ({ k: "denied", d: denial }),
      () => {
        if (denial.clientOrderId !== undefined && denial.intent !== "CancelAll") this.orders.denied(denial.intent, denial.clientOrderId)
        const onDenied = this.definition.onDenied
        if (onDenied !== undefined) this.call("onDenied", (ctx) => onDenied(ctx, denial), false)
      }
    )
  }

  private send(intent: OrderIntent, clientOrderId: ClientOrderId | undefined): void {
    this.emitted?.push(intent.id)
    const deny = (reason: Denial["reason"], detail: string): void =>
      this.denied({
        intent: intent._tag,
        reason,
        detail,
        ...(clientOrderId === undefined ? {} : { clientOrderId }),
        ...(intent.instrument === undefined ? {} : { instrument: intent.instrument })
      })
    let decided: Promise<void>
    try {
      decided = this.deps.gateway.submit(intent).then(
        (d) => {
          if (d._tag === "Denied") deny(d.event.reason, d.event.detail)
        },
        (e: unknown) => deny("GATEWAY_FAILED", errorText(e))
      )
    } catch (e) {
      // A gateway that throws instead of rejecting breaks the port's contract; treat it the same.
      decided = Promise.resolve().then(() => deny("GATEWAY_FAILED", errorText(e)))
    }
    this.inFlight.add(decided)
    void decided.finally(() => this.inFlight.delete(decided))
  }

  /** Resolves when every intent sent so far has its decision (and its callbacks ran). */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight])
  }

  private ownInstrument(id: InstrumentId): Instrument {
    const instrument = this.instruments.get(id)
    if (instrument === undefined) throw new Error(`strategy ${this.id} does not trade ${id} (its instruments: ${[...this.instruments.keys()].join(", ")})`)
    return instrument
  }

  submit(request: OrderRequest): ClientOrderId {
    this.ownInstrument(request.instrument)
    if (!request.qty.isFinite() || !request.qty.greaterThan(0)) throw new Error(`submit: qty must be positive, got ${request.qty.toString()}`)
    const clientOrderId = makeClientOrderId(this.id, this.deps.run, this.seq++)
    const reduceOnly = request.reduceOnly === true || this.reduceOnly
    const price = limitPriceOf(request.type)
    const triggerPrice = triggerPriceOf(request.type)
    const intent: SubmitOrder = {
      _tag: "SubmitOrder",
      ...this.envelope(),
      account: this.account,
      strategy: this.id,
      instrument: request.instrument,
      clientOrderId,
      side: request.side,
      orderType: request.type._tag,
      qty: request.qty,
      ...(price === undefined ? {} : { price }),
      ...(triggerPrice === undefined ? {} : { triggerPrice }),
      reduceOnly
    }
    this.orders.submitted({ clientOrderId, instrument: request.instrument, side: request.side, type: request.type, qty: request.qty, reduceOnly })
    this.send(intent, clientOrderId)
    return clientOrderId
  }

  modify(clientOrderId: ClientOrderId, change: { readonly price?: Decimal; readonly qty?: Decimal; readonly triggerPrice?: Decimal }): boolean {
    const o = this.orders.modifyRequested(clientOrderId, change)
    if (o === undefined) return false
    const intent: ModifyOrder = {
      _tag: "ModifyOrder",
      ...this.envelope(),
      account: this.account,
      strategy: this.id,
      instrument: o.instrument,
      clientOrderId,
      ...(change.qty === undefined ? {} : { qty: change.qty }),
      ...(change.price === undefined ? {} : { price: change.price }),
      ...(change.triggerPrice === undefined ? {} : { triggerPrice: change.triggerPrice })
    }
    this.send(intent, clientOrderId)
    return true
  }

  cancel(clientOrderId: ClientOrderId): boolean {
    const o = this.orders.cancelRequested(clientOrderId)
    if (o === undefined) return false
    const intent: CancelOrder = { _tag: "CancelOrder", ...this.envelope(), account: this.account, strategy: this.id, instrument: o.instrument, clientOrderId }
    this.send(intent, clientOrderId)
    return true
  }

  cancelAll(instrument?: InstrumentId): void {
    this.input(() => ({ k: "cancelAll" }), () => this.cancelAllOrders(instrument))
  }

  private cancelAllOrders(instrument?: InstrumentId): void {
    for (const o of this.orders.list(instrument)) this.orders.cancelRequested(o.clientOrderId)
    const intent: CancelAll = { _tag: "CancelAll", ...this.envelope(), account: this.account, strategy: this.id, ...(instrument === undefined ? {} : { instrument }) }
    this.send(intent, undefined)
  }

  /** Market, reduce-only orders that take every non-flat position to zero. */
  flatten(): void {
    this.input(() => ({ k: "flatten" }), () => this.flattenPositions())
  }

  private flattenPositions(): void {
    for (const [id, p] of this.positions) {
      if (p.quantity.isZero()) continue
      this.submit({ instrument: id, side: p.quantity.isPositive() ? "sell" : "buy", qty: p.quantity.abs(), type: { _tag: "market" }, reduceOnly: true })
    }
  }

  // ---- context ------------------------------------------------------------------------------

  private record(name: string, value: number | Decimal, instrument?: InstrumentId): void {
    if (typeof value === "number" && !Number.isFinite(value)) return
    const event: StrategyRecord = {
      _tag: "StrategyRecord",
      ...this.envelope(),
      strategy: this.id,
      name,
      value,
      ...(instrument === undefined ? {} : { instrument })
    }
    this.deps.records(event)
  }

  private makeContext(inc: Incarnation): StrategyContext<unknown, unknown> {
    const paramsOf = (): unknown => this.params
    const { clock } = this.deps
    const onTimer = (name: string): void => {
      const fn = this.definition.onTimer
      if (fn !== undefined) this.call(`onTimer(${name})`, (ctx) => fn(ctx, name), false)
    }
    const checkDelay = (name: string, ms: number, positive: boolean): void => {
      if (!Number.isFinite(ms) || ms < 0 || (positive && ms === 0)) throw new Error(`timer ${name}: bad interval ${ms} ms`)
    }
    const cancelTimer = (name: string): void => {
      inc.timers.get(name)?.()
      inc.timers.delete(name)
    }
    const logAt =
      (level: "debug" | "info" | "warn" | "error") =>
      (message: string, fields?: Readonly<Record<string, unknown>>): void =>
        this.deps.log(level, this.id, message, fields)
    const log: StrategyLog = { debug: logAt("debug"), info: logAt("info"), warn: logAt("warn"), error: logAt("error") }
    const xclock: StrategyClock = {
      setTimeout: (fn, ms) => {
        const id = this.nextClockTimer++
        inc.clockTimers.set(
          id,
          this.armTimer(ms, () => {
            inc.clockTimers.delete(id)
            if (inc.alive) fn()
          })
        )
        return id
      },
      clearTimeout: (id) => {
        if (typeof id !== "number") return
        inc.clockTimers.get(id)?.()
        inc.clockTimers.delete(id)
      }
    }
    return {
      strategyId: this.id,
      get params() {
        return paramsOf()
      },
      state: undefined,
      now: () => clock.now(),
      instrument: (id) => this.ownInstrument(id),
      book: (id) => this.books.get(id),
      position: (id) => this.position(id),
      openOrders: (instrument) => this.orders.list(instrument),
      submit: (request) => this.submit(request),
      modify: (id, change) => this.modify(id, change),
      cancel: (id) => this.cancel(id),
      cancelAll: (instrument) => this.cancelAll(instrument),
      setTimer: (name, ms) => {
        checkDelay(name, ms, false)
        cancelTimer(name)
        inc.timers.set(
          name,
          this.armTimer(ms, () => {
            inc.timers.delete(name)
            onTimer(name)
          })
        )
      },
      every: (name, ms) => {
        checkDelay(name, ms, true)
        cancelTimer(name)
        const arm = (): void => {
          inc.timers.set(
            name,
            this.armTimer(ms, () => {
              // Re-armed before the callback, so the period does not drift with its run time.
              arm()
              onTimer(name)
            })
          )
        }
        arm()
      },
      cancelTimer,
      record: (name, value, instrument) => this.record(name, value, instrument),
      log,
      clock: xclock
    }
  }
}
