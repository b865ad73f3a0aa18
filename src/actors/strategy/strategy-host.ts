import { Data, Deferred, Effect, Either, Exit } from "effect"
import { createActor, type Actor } from "xstate"
import { TroupeClock, xstateClock } from "../clock.js"
import { childReady, makeSupervisor, worker } from "../supervisor/index.js"
import type { ChildSpec, Intensity, RestartType, Supervisor } from "../supervisor/index.js"
import type { OrderEvent } from "../../domain/events/orders.js"
import { parseInstrumentId, parseStrategyId, type AccountId, type InstrumentId, type StrategyId } from "../../domain/ids.js"
import type { Decimal } from "../../domain/decimal.js"
import type { Instrument } from "../../domain/instrument.js"
import type { Position } from "../../domain/position.js"
import { strategyMachine, type StrategyEvent } from "../../machines/strategy.machine.js"
import { decodeParams, instrumentsOf, type AnyStrategyDefinition, type StrategyParamsInvalid } from "../../strategies/ports.js"
import type { InstrumentLookup, StrategyLogSink } from "./ports.js"
import { StrategyFault, StrategyRuntime, type RuntimeDeps } from "./strategy-runtime.js"

export { StrategyFault } from "./strategy-runtime.js"

export class StrategyInvalid extends Data.TaggedError("StrategyInvalid")<{ readonly strategy: string; readonly field: "id" | "instruments"; readonly reason: string }> {
  override get message(): string {
    return `strategy ${this.strategy}: ${this.field} ${this.reason}`
  }
}
export class StrategyAlreadyExists extends Data.TaggedError("StrategyAlreadyExists")<{ readonly strategy: string }> {}
export class StrategyNotFound extends Data.TaggedError("StrategyNotFound")<{ readonly strategy: string }> {
  override get message(): string {
    return `no strategy ${this.strategy}`
  }
}
export class StrategyNotRunning extends Data.TaggedError("StrategyNotRunning")<{ readonly strategy: string; readonly state: string }> {}
export class StrategyReconfigureRefused extends Data.TaggedError("StrategyReconfigureRefused")<{ readonly strategy: string; readonly reason: string }> {}
export class StrategiesUnavailable extends Data.TaggedError("StrategiesUnavailable")<{ readonly reason: string }> {}

export type AddError = StrategyInvalid | StrategyParamsInvalid | StrategyAlreadyExists | StrategiesUnavailable
export type ReconfigureError = StrategyParamsInvalid | StrategyNotRunning | StrategyReconfigureRefused | StrategyInvalid | StrategyFault

/** How to run one strategy: the definition, its raw params (decoded here) and supervision options. */
export interface StrategySpec {
  readonly definition: AnyStrategyDefinition
  /** Params as they come from config or the control API; decoded with the definition's Schema. */
  readonly params: unknown
  /** Default: the definition's id. Also the prefix of its client order ids (at most 24 characters). */
  readonly id?: string
  /** Default: the host's account. */
  readonly account?: AccountId
  /** Restart type of the strategy's worker. Default `permanent`. */
  readonly restart?: RestartType
  /** Restarts allowed before the strategy is left faulted. Default 5 in 10 s. */
  readonly intensity?: Intensity
  /** Cancel the strategy's open orders when it is stopped. Default true. */
  readonly cancelOnStop?: boolean
  /** Close its positions with reduce-only market orders when it is stopped. Default false. */
  readonly flattenOnStop?: boolean
  /** Cancel its open orders when it is left faulted (nobody manages them any more). Default true. */
  readonly cancelOnFault?: boolean
  readonly configVersion?: string
  /**
   * Start it now (default). False registers it without starting (state `ready`): a strategy the
   * operator had stopped before a restart stays stopped until `restart` (`troupe strategy start`).
   */
  readonly start?: boolean
}

export interface StopOptions {
  readonly cancelOpenOrders?: boolean
  readonly flatten?: boolean
}

export interface StrategyHostDeps extends Omit<RuntimeDeps, "log"> {
  /** The dynamic `strategies` supervisor (one_for_one). Each strategy becomes a temporary child of it. */
  readonly supervisor: Pick<Supervisor, "startChild" | "stopChild">
  readonly instruments: InstrumentLookup
  readonly log?: StrategyLogSink
  /** Every step of a strategy's lifecycle machine, as it happens (the daemon feeds the inspector with it). */
  readonly onTransition?: (strategy: StrategyId, step: LifecycleStep) => void
}

/** One step of a strategy's lifecycle machine: the event it took and the states before and after. */
export interface LifecycleStep {
  readonly ts: number
  readonly event: { readonly type: string; readonly [key: string]: unknown }
  readonly from: string
  readonly to: string
}

/** Steps kept per strategy for `history` (time travel in the inspector). */
const MAX_HISTORY = 200

export interface StrategyStatus {
  readonly id: StrategyId
  readonly definition: string
  /** The lifecycle machine's state. */
  readonly state: string
  readonly configVersion: string
  readonly params: unknown
  /** Incarnations started after the first (crash restarts and operator restarts). */
  readonly restarts: number
  readonly lastError: string | null
  readonly openOrders: number
  /** The instruments its configuration names (the definition's `instruments` under its params). */
  readonly instruments: ReadonlyArray<InstrumentId>
  readonly positions: ReadonlyArray<Position>
}

type LifecycleActor = Actor<typeof strategyMachine>

interface Entry {
  readonly spec: StrategySpec
  readonly rt: StrategyRuntime
  readonly actor: LifecycleActor
  readonly effects: string[]
  draining: boolean
  pendingParams: unknown
  stopOptions: StopOptions
  stopDone: Promise<void>
  configCounter: number
  readonly history: LifecycleStep[]
}

const ACTIVE = new Set(["running", "degraded"])

const defaultLog: StrategyLogSink = (level, strategy, message) => {
  if (level !== "debug") console.log(`[strategy ${strategy}] ${level}: ${message}`)
}

/** The strategy id a client order id was made for: `<strategy>-<run>-<seq>` (see makeClientOrderId). */
const strategyOfClientOrderId = (clientOrderId: string): string | undefined => {
  const last = clientOrderId.lastIndexOf("-")
  const run = last > 0 ? clientOrderId.lastIndexOf("-", last - 1) : -1
  return run > 0 ? clientOrderId.slice(0, run) : undefined
}

/**
 * Runs strategies inside the daemon. Each strategy is a temporary child supervisor of the
 * `strategies` supervisor, with one worker (the strategy's incarnation) and the strategy's own
 * restart intensity: a strategy that keeps crashing is left `faulted` and nothing else is touched.
 * Its lifecycle is the strategy machine; the host provides its actions. What must survive a
 * crash (params, positions, open orders, the id sequence) lives in the StrategyRuntime, outside
 * the incarnation; the strategy's own state is rebuilt by `init`.
 */
export class StrategyHost {
  private readonly entries = new Map<StrategyId, Entry>()
  private readonly log: StrategyLogSink

  constructor(private readonly deps: StrategyHostDeps) {
    this.log = deps.log ?? defaultLog
  }

  // ---- operator commands -------------------------------------------------------------------

  add(spec: StrategySpec): Effect.Effect<StrategyId, AddError> {
    return Effect.suspend((): Effect.Effect<StrategyId, AddError> => {
      const rawId = spec.id ?? spec.definition.id
      const id = parseStrategyId(rawId)
      if (Either.isLeft(id) || rawId.length > 24) {
        return Effect.fail(new StrategyInvalid({ strategy: rawId, field: "id", reason: "must be 1-24 of [A-Za-z0-9_.:-] (it prefixes client order ids)" }))
      }
      const strategyId = id.right
      if (this.entries.has(strategyId)) return Effect.fail(new StrategyAlreadyExists({ strategy: strategyId }))
      const params = decodeParams(strategyId, spec.definition.params, spec.params)
      if (Either.isLeft(params)) return Effect.fail(params.left)
      const instruments = this.resolveInstruments(strategyId, spec.definition, params.right)
      if (Either.isLeft(instruments)) return Effect.fail(instruments.left)

      const rt = new StrategyRuntime(strategyId, spec.definition, params.right, instruments.right, { ...this.deps, log: this.log }, spec.account ?? this.deps.account)
      const entry = this.makeEntry(spec, rt)
      this.entries.set(strategyId, entry)
      if (spec.start === false) return Effect.succeed(strategyId)
      return this.deps.supervisor.startChild(this.childSpec(entry)).pipe(
        Effect.catchTags({
          ChildAlreadyExists: () => Effect.fail(new StrategyAlreadyExists({ strategy: strategyId })),
          SupervisorNotRunning: () => Effect.fail(new StrategiesUnavailable({ reason: "the strategies supervisor is not running" }))
        }),
        Effect.tapError(() => Effect.sync(() => this.forget(entry))),
        Effect.as(strategyId)
      )
    })
  }

  /** Stops trading: `onStop`, then cancels open orders and flattens as configured, then ends the worker. */
  stop(id: string, options: StopOptions = {}): Effect.Effect<void, StrategyNotFound> {
    return Effect.flatMap(this.entry(id), (entry) =>
      Effect.gen(this, function* () {
        entry.stopOptions = {
          cancelOpenOrders: options.cancelOpenOrders ?? entry.spec.cancelOnStop ?? true,
          flatten: options.flatten ?? entry.spec.flattenOnStop ?? false
        }
        const state = this.stateOf(entry)
        if (state === "faulted" || state === "ready") {
          // No incarnation to run `onStop`; the orders still must not be left unmanaged.
          this.drive(entry, { type: "STOP" })
          entry.stopDone = this.windDown(entry)
        } else if (state !== "stopped" && state !== "stopping") {
          this.drive(entry, { type: "STOP" })
        }
        yield* Effect.promise(() => entry.stopDone)
        yield* this.deps.supervisor.stopChild(entry.rt.id).pipe(Effect.ignore)
      })
    )
  }

  /** Stops the worker (if any) and starts a new incarnation: a stopped or faulted strategy trades again. */
  restart(id: string): Effect.Effect<void, StrategyNotFound | StrategiesUnavailable> {
    return Effect.flatMap(this.entry(id), (entry) =>
      Effect.gen(this, function* () {
        yield* this.deps.supervisor.stopChild(entry.rt.id).pipe(Effect.ignore)
        yield* this.deps.supervisor
          .startChild(this.childSpec(entry))
          .pipe(Effect.mapError(() => new StrategiesUnavailable({ reason: "the strategies supervisor is not running" })))
      })
    )
  }

  /** Stops the strategy and forgets it (its positions and id sequence go with it). */
  remove(id: string, options: StopOptions = {}): Effect.Effect<void, StrategyNotFound> {
    return Effect.flatMap(this.entry(id), (entry) => Effect.tap(this.stop(id, options), () => this.forget(entry)))
  }

  /**
   * New params for a running strategy, validated with its Schema first. State, positions and open
   * orders are kept; `onReconfigure` sees the previous params. A change of instruments is refused
   * (positions on a dropped instrument would be orphaned): stop and add instead.
   */
  reconfigure(
    id: string,
    rawParams: unknown,
    configVersion?: string
  ): Effect.Effect<void, StrategyNotFound | ReconfigureError> {
    return Effect.flatMap(this.entry(id), (entry) =>
      Effect.suspend((): Effect.Effect<void, ReconfigureError> => {
        const { rt } = entry
        const params = decodeParams(rt.id, rt.definition.params, rawParams)
        if (Either.isLeft(params)) return Effect.fail(params.left)
        const instruments = this.resolveInstruments(rt.id, rt.definition, params.right)
        if (Either.isLeft(instruments)) return Effect.fail(instruments.left)
        const same = instruments.right.size === rt.instruments.size && [...instruments.right.keys()].every((k) => rt.instruments.has(k))
        if (!same) return Effect.fail(new StrategyReconfigureRefused({ strategy: rt.id, reason: "the instruments would change; stop the strategy and add it again" }))
        const state = this.stateOf(entry)
        if (state !== "running") return Effect.fail(new StrategyNotRunning({ strategy: rt.id, state }))
        entry.pendingParams = params.right
        this.drive(entry, { type: "RECONFIGURE", configVersion: configVersion ?? `${++entry.configCounter}` })
        const after = entry.actor.getSnapshot()
        return after.value === "running"
          ? Effect.void
          : Effect.fail(new StrategyFault({ strategy: rt.id, callback: "onReconfigure", error: after.context.lastError ?? "reconfigure failed" }))
      })
    )
  }

  /** Reduced trust (e.g. stale market data): new orders go out reduce-only until `recover`. */
  degrade(id: string, reason: string): Effect.Effect<void, StrategyNotFound> {
    return Effect.map(this.entry(id), (entry) => this.drive(entry, { type: "DEGRADE", reason }))
  }

  recover(id: string): Effect.Effect<void, StrategyNotFound> {
    return Effect.map(this.entry(id), (entry) => this.drive(entry, { type: "RECOVER" }))
  }

  // ---- inputs and views --------------------------------------------------------------------

  /** Order events from the order actors; routed to the owning strategy by client order id. */
  onOrderEvent(event: OrderEvent): void {
    const owner = event._tag === "OrderSubmitted" ? event.strategy : strategyOfClientOrderId(event.clientOrderId)
    if (owner === undefined) return
    this.entries.get(owner as StrategyId)?.rt.onOrderEvent(event)
  }

  /** A dated contract settled by the venue: every strategy's position in it is closed at `price`. */
  onSettlement(instrument: InstrumentId, price: Decimal): void {
    for (const { rt } of this.entries.values()) rt.onSettlement(instrument, price)
  }

  status(id: string): StrategyStatus | undefined {
    const entry = this.entries.get(id as StrategyId)
    if (entry === undefined) return undefined
    const { rt } = entry
    const ctx = entry.actor.getSnapshot().context
    return {
      id: rt.id,
      definition: rt.definition.id,
      state: this.stateOf(entry),
      configVersion: ctx.configVersion,
      params: rt.params,
      restarts: Math.max(0, rt.incarnations - 1),
      lastError: ctx.lastError,
      openOrders: rt.orders.size,
      instruments: [...rt.instruments.keys()],
      positions: [...rt.positions.values()]
    }
  }

  /** The last steps of the strategy's lifecycle machine, oldest first (bounded). */
  history(id: string): ReadonlyArray<LifecycleStep> {
    return [...(this.entries.get(id as StrategyId)?.history ?? [])]
  }

  list(): ReadonlyArray<StrategyStatus> {
    return [...this.entries.keys()].flatMap((id) => this.status(id) ?? [])
  }

  /** Resolves when every intent sent so far has been decided and its callbacks have run. */
  async settled(): Promise<void> {
    await Promise.all([...this.entries.values()].map((e) => e.rt.settled()))
  }

  // ---- internals ---------------------------------------------------------------------------

  private entry(id: string): Effect.Effect<Entry, StrategyNotFound> {
    return Effect.suspend(() => {
      const entry = this.entries.get(id as StrategyId)
      return entry === undefined ? Effect.fail(new StrategyNotFound({ strategy: id })) : Effect.succeed(entry)
    })
  }

  private forget(entry: Entry): void {
    entry.actor.stop()
    if (this.entries.get(entry.rt.id) === entry) this.entries.delete(entry.rt.id)
  }

  private resolveInstruments(strategy: string, definition: AnyStrategyDefinition, params: unknown): Either.Either<ReadonlyMap<InstrumentId, Instrument>, StrategyInvalid> {
    const out = new Map<InstrumentId, Instrument>()
    const ids = instrumentsOf(definition, params)
    if (ids.length === 0) return Either.left(new StrategyInvalid({ strategy, field: "instruments", reason: "is empty" }))
    for (const raw of ids) {
      const id = parseInstrumentId(raw)
      if (Either.isLeft(id)) return Either.left(new StrategyInvalid({ strategy, field: "instruments", reason: id.left.message }))
      const instrument = this.deps.instruments(id.right)
      if (instrument === undefined) return Either.left(new StrategyInvalid({ strategy, field: "instruments", reason: `${raw} is not a known instrument` }))
      out.set(id.right, instrument)
    }
    return Either.right(out)
  }

  private stateOf(entry: Entry): string {
    return String(entry.actor.getSnapshot().value)
  }

  private makeEntry(spec: StrategySpec, rt: StrategyRuntime): Entry {
    const effects: string[] = []
    // The machine's actions only queue the work; `drive` runs it after the transition, so the
    // host never re-enters the actor from inside one of its own actions.
    const machine = strategyMachine.provide({
      actions: {
        startStrategy: () => void effects.push("start"),
        stopStrategy: () => void effects.push("stop"),
        applyConfig: () => void effects.push("applyConfig"),
        forceStop: () => void effects.push("forceStop")
      }
    })
    const actor = createActor(machine, {
      input: { strategyId: rt.id, configVersion: spec.configVersion ?? "1" },
      clock: xstateClock(this.deps.clock)
    })
    // Subscribed before start: an unobserved XState error would crash Node.
    actor.subscribe({ error: (e) => this.log("error", rt.id, `lifecycle machine error: ${String(e)}`) })
    actor.start()
    return { spec, rt, actor, effects, draining: false, pendingParams: undefined, stopOptions: {}, stopDone: Promise.resolve(), configCounter: 1, history: [] }
  }

  private drive(entry: Entry, event: StrategyEvent): void {
    const from = this.stateOf(entry)
    entry.actor.send(event)
    const step: LifecycleStep = { ts: this.deps.clock.now(), event: { ...event }, from, to: this.stateOf(entry) }
    entry.history.push(step)
    if (entry.history.length > MAX_HISTORY) entry.history.shift()
    this.deps.onTransition?.(entry.rt.id, step)
    this.syncFlags(entry)
    if (entry.draining) return
    entry.draining = true
    try {
      for (let effect = entry.effects.shift(); effect !== undefined; effect = entry.effects.shift()) this.runEffect(entry, effect)
    } finally {
      entry.draining = false
      this.syncFlags(entry)
    }
  }

  private syncFlags(entry: Entry): void {
    const state = this.stateOf(entry)
    entry.rt.setFlags(ACTIVE.has(state), state === "degraded")
  }

  private runEffect(entry: Entry, effect: string): void {
    const { rt } = entry
    switch (effect) {
      case "start":
        if (rt.start()) this.drive(entry, { type: "STARTED" })
        return
      case "applyConfig": {
        if (rt.applyParams(entry.pendingParams)) this.drive(entry, { type: "RECONFIGURED" })
        return
      }
      case "stop": {
        rt.runOnStop()
        rt.end()
        entry.stopDone = this.windDown(entry).then(() => this.drive(entry, { type: "STOPPED" }))
        return
      }
      case "forceStop":
        this.log("warn", rt.id, "stop timed out: the strategy was dropped with intents still undecided")
        return
    }
  }

  /** Cancels and flattens as the stop options say, and waits for risk's decisions. */
  private windDown(entry: Entry): Promise<void> {
    const { rt } = entry
    if (entry.stopOptions.cancelOpenOrders !== false) rt.cancelAll()
    if (entry.stopOptions.flatten === true) rt.flatten()
    return rt.settled()
  }

  /** The strategy's own supervisor (its intensity) with its one worker, as a temporary child. */
  private childSpec(entry: Entry): ChildSpec {
    const { rt, spec } = entry
    const incarnation = Effect.gen(this, function* () {
      const failure = yield* Deferred.make<never, StrategyFault>()
      yield* Effect.addFinalizer(() => Effect.sync(() => rt.end()))
      rt.begin((fault) => {
        Deferred.unsafeDone(failure, Exit.fail(fault))
        this.drive(entry, { type: "FAULT", error: fault.message })
        if (spec.restart === "temporary") this.leftFaulted(entry)
      })
      this.beginIncarnation(entry)
      yield* childReady
      return yield* Deferred.await(failure)
    })
    const strategySupervisor = makeSupervisor({
      id: rt.id,
      strategy: "one_for_one",
      ...(spec.intensity === undefined ? {} : { intensity: spec.intensity }),
      children: [worker("incarnation", incarnation, { restart: spec.restart ?? "permanent", awaitReady: true })]
    })
    return {
      id: rt.id,
      kind: "supervisor",
      restart: "temporary",
      shutdownTimeoutMs: Number.POSITIVE_INFINITY,
      start: strategySupervisor.pipe(
        Effect.flatMap((s) => s.join),
        Effect.tapError(() => Effect.sync(() => this.leftFaulted(entry))),
        Effect.provideService(TroupeClock, this.deps.clock)
      )
    }
  }

  private beginIncarnation(entry: Entry): void {
    switch (this.stateOf(entry)) {
      case "faulted":
        this.drive(entry, { type: "RESET" })
        this.drive(entry, { type: "START" })
        return
      case "ready":
      case "stopped":
        this.drive(entry, { type: "START" })
        return
      default:
        // running, degraded, starting, reconfiguring, stopping: the machine says what a restart means.
        this.drive(entry, { type: "RESTORED" })
    }
  }

  /** The supervisor gave up on the strategy: nobody manages its orders any more. */
  private leftFaulted(entry: Entry): void {
    this.log("error", entry.rt.id, `strategy left faulted: ${entry.actor.getSnapshot().context.lastError ?? "restart intensity exceeded"}`)
    if (entry.spec.cancelOnFault !== false) entry.rt.cancelAll()
  }
}
