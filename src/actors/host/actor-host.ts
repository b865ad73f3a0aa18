import { Data, Deferred, Effect, Exit, Option } from "effect"
import type { Scope } from "effect"
import { createActor } from "xstate"
import type { Actor, AnyStateMachine, EventObject, InspectionEvent as XStateInspectionEvent } from "xstate"
import { TroupeClock, xstateClock } from "../clock.js"
import type { ClockService } from "../clock.js"
import type { InspectionStream, InspectionType } from "../inspection.js"
import type { MetricsRegistry } from "../metrics.js"
import type { JournalOffset } from "../ports/journal.js"
import { Snapshots } from "../ports/snapshots.js"
import type { HostedSnapshot, SnapshotError, SnapshotRecord } from "../ports/snapshots.js"
import { worker } from "../supervisor/index.js"
import type { ChildSpec, RestartType } from "../supervisor/index.js"
import { ActorCell } from "./actor-cell.js"
import type { ActorKind, ActorRef, Consumer } from "./actor-cell.js"

export { overflowPolicyOf } from "./actor-cell.js"
export type { ActorKind, ActorRef } from "./actor-cell.js"

/**
 * The actor host: one XState machine (the actor's lifecycle) plus a mailbox, plain-code message
 * handling, snapshots and restore, inspection and metrics, run as a supervisor worker. Each start
 * of the worker is an incarnation: it loads the last snapshot, builds the machine (restored when
 * the machine version matches, fresh otherwise), and runs until it is stopped or crashes. A
 * crash — a machine error, a handler that throws, `kill` — fails the worker's Effect, and the
 * supervisor decides what restarts.
 */

/** Why an incarnation ended in failure. */
export class ActorCrashed extends Data.TaggedError("ActorCrashed")<{
  readonly actorId: string
  readonly reason: "machine" | "handler" | "killed"
  readonly error: unknown
}> {
  override get message(): string {
    return `actor ${this.actorId} crashed (${this.reason}): ${this.error instanceof Error ? this.error.message : String(this.error)}`
  }
}

export interface IncarnationContext<Msg> {
  readonly actorId: string
  /** 0 for the first start, then one more per restart. */
  readonly incarnation: number
  readonly clock: ClockService
  readonly self: ActorRef<Msg>
  /** An event to this incarnation's machine (a no-op before it starts and after it stops). */
  readonly send: (event: EventObject) => void
  /** The machine's current snapshot, once it exists. */
  readonly machineSnapshot: () => ReturnType<Actor<AnyStateMachine>["getSnapshot"]> | undefined
}

export interface Incarnation<Msg> {
  /** The machine with its side-effect actions provided (`machine.provide({ actions })`). */
  readonly machine: AnyStateMachine
  readonly input?: unknown
  readonly handle: (msg: Msg) => void | PromiseLike<void>
  readonly afterBatch?: () => void
  /** The actor's own data for a snapshot (JSON). */
  readonly data?: () => unknown
  /** Called with the data of a restored snapshot, before the machine starts. */
  readonly restoreData?: (data: unknown) => void
  readonly offsets?: () => ReadonlyArray<JournalOffset>
  /** Every machine snapshot's state value, as it changes. */
  readonly observe?: (value: unknown) => void
  /** After the machine started (and was sent RESTORED, when restored and accepted). */
  readonly started?: (restored: boolean) => void
}

export interface ActorDefinition<Msg, R> {
  readonly id: string
  readonly kind: ActorKind
  /** Must change whenever persisted state would not fit the machine or the data any more. */
  readonly machineVersion: string
  readonly mailboxCapacity?: number
  /** Messages per drain before yielding to I/O. */
  readonly batchSize?: number
  /** Periodic snapshot; also saved on a normal stop. `Infinity`: only on stop. */
  readonly snapshotEveryMs?: number
  /**
   * In [0, 1): where in the period this actor's snapshots fall. Without it the first periodic
   * snapshot comes `snapshotEveryMs` after the start; with it, after (1 + phase) / 2 of that.
   * Actors started together (a thousand instruments) each take a different phase, so their
   * snapshots spread over the period instead of all landing in the same tick.
   */
  readonly snapshotPhase?: number
  readonly restart?: RestartType
  readonly shutdownTimeoutMs?: number
  readonly metrics?: MetricsRegistry
  readonly inspection?: InspectionStream
  readonly incarnate: (ctx: IncarnationContext<Msg>) => Effect.Effect<Incarnation<Msg>, unknown, R | Scope.Scope>
}

export interface HostedActor<Msg, R> {
  readonly ref: ActorRef<Msg>
  /** The supervisor child that runs it. */
  readonly child: ChildSpec<Exclude<R, Scope.Scope> | Snapshots | TroupeClock>
  /** The running machine actor, if an incarnation is up. */
  readonly machine: () => Actor<AnyStateMachine> | undefined
  readonly incarnations: () => number
  /** True when the current incarnation started from a snapshot. */
  readonly restored: () => boolean
  /** Saves a snapshot of the running incarnation now; false if none runs or it is not active. */
  readonly saveSnapshot: Effect.Effect<boolean, SnapshotError, Snapshots>
  /** Crashes the running incarnation, as Erlang's `exit(Pid, Reason)`: the supervisor restarts it. */
  readonly kill: (reason?: unknown) => boolean
}

const INSPECTION_TYPE: Partial<Record<XStateInspectionEvent["type"], InspectionType>> = {
  "@xstate.event": "event",
  "@xstate.microstep": "transition",
  "@xstate.snapshot": "snapshot"
}

interface Running {
  readonly actor: Actor<AnyStateMachine>
  readonly incarnation: Incarnation<unknown>
  readonly fail: (reason: ActorCrashed["reason"], error: unknown) => void
  readonly clock: ClockService
}

export const hostActor = <Msg, R = never>(def: ActorDefinition<Msg, R>): HostedActor<Msg, R> => {
  const cell = new ActorCell<Msg>(def.id, def.kind, def.mailboxCapacity ?? 4_096, def.batchSize ?? 256)
  const labels = { actor: def.id, kind: def.kind }
  const metrics = def.metrics
  const restarts = metrics?.counter("actor_restarts_total", "Incarnations of an actor after its first", labels)
  const snapshotFailures = metrics?.counter("actor_snapshot_failures_total", "Snapshot saves that failed (the actor keeps running)", labels)
  const versionMismatches = metrics?.counter("actor_snapshot_discarded_total", "Snapshots not restored: other machine version or unreadable", labels)
  if (metrics !== undefined) {
    metrics.sampled("actor_mailbox_depth", "Messages waiting in an actor's mailbox", "gauge", labels, cell.depth)
    metrics.sampled("actor_mailbox_dropped_total", "Messages dropped by a dropOldest mailbox", "counter", labels, cell.dropped)
    metrics.sampled("actor_mailbox_blocked_senders", "Senders waiting on a full backpressure mailbox", "gauge", labels, cell.blockedSenders)
    cell.processing = metrics.histogram("actor_processing_seconds", "Time to handle one message (batch mean)", { kind: def.kind })
  }

  let incarnations = 0
  let running: Running | undefined
  let restoredNow = false

  const recordOf = (r: Running, clock: ClockService): SnapshotRecord | undefined => {
    const persisted = r.actor.getPersistedSnapshot() as { status?: string }
    // Only an active machine is worth restoring (not one that errored or stopped).
    if (persisted.status !== "active") return undefined
    const snapshot: HostedSnapshot = { machine: persisted, data: r.incarnation.data?.() ?? null }
    return { actorId: def.id, machineVersion: def.machineVersion, snapshot, offsets: r.incarnation.offsets?.() ?? [], takenAt: clock.now() }
  }

  const saveOf = (r: Running): Effect.Effect<boolean, SnapshotError, Snapshots> =>
    Effect.gen(function* () {
      const snapshots = yield* Snapshots
      const record = recordOf(r, r.clock)
      if (record === undefined) return false
      yield* snapshots.save(record)
      return true
    })

  const saveQuietly = (r: Running): Effect.Effect<void, never, Snapshots> =>
    Effect.catchAll(saveOf(r), () => Effect.sync(() => snapshotFailures?.inc()))

  const inspectInto = (stream: InspectionStream, clock: ClockService) => (ev: XStateInspectionEvent) => {
    const type = INSPECTION_TYPE[ev.type]
    if (type === undefined) return
    const snap = (ev as { snapshot?: { value?: unknown } }).snapshot ?? ev.actorRef.getSnapshot()
    stream.publish({ actorId: def.id, kind: def.kind, type, state: (snap as { value?: unknown } | undefined)?.value, event: (ev as { event?: unknown }).event, ts: clock.now() })
  }

  const start: Effect.Effect<void, unknown, R | Scope.Scope | Snapshots | TroupeClock> = Effect.gen(function* () {
    const clock = yield* TroupeClock
    const snapshots = yield* Snapshots
    const incarnation = incarnations++
    if (incarnation > 0) restarts?.inc()
    const failed = yield* Deferred.make<never, ActorCrashed>()
    let actor: Actor<AnyStateMachine> | undefined

    const ctx: IncarnationContext<Msg> = {
      actorId: def.id,
      incarnation,
      clock,
      self: cell,
      send: (event) => actor?.send(event),
      machineSnapshot: () => actor?.getSnapshot()
    }
    const loaded = yield* snapshots.load(def.id)
    const inc = yield* def.incarnate(ctx)

    const options = {
      clock: xstateClock(clock),
      ...(inc.input === undefined ? {} : { input: inc.input }),
      ...(def.inspection === undefined ? {} : { inspect: inspectInto(def.inspection, clock) })
    }
    let restored = false
    const record = Option.getOrUndefined(loaded)
    if (record !== undefined && record.machineVersion === def.machineVersion) {
      try {
        inc.restoreData?.(record.snapshot.data)
        actor = createActor(inc.machine, { ...options, snapshot: record.snapshot.machine as never })
        restored = true
      } catch {
        // Unreadable for this machine despite the version: start fresh, as on a version change.
        versionMismatches?.inc()
      }
    } else if (record !== undefined) {
      versionMismatches?.inc()
    }
    if (!restored) actor = createActor(inc.machine, options)
    const machine = actor as Actor<AnyStateMachine>

    const fail = (reason: ActorCrashed["reason"], error: unknown): void => {
      cell.detach(consumer)
      Deferred.unsafeDone(failed, Exit.fail(new ActorCrashed({ actorId: def.id, reason, error })))
    }
    const consumer: Consumer<Msg> = {
      handle: inc.handle,
      afterBatch: inc.afterBatch ?? (() => {}),
      fail: (e) => fail("handler", e)
    }
    // Before start: an XState error nobody observes is rethrown on a timer and kills Node.
    const observe = inc.observe
    machine.subscribe({
      ...(observe === undefined ? {} : { next: (snap: { readonly value: unknown }) => observe(snap.value) }),
      error: (err: unknown) => fail("machine", err)
    })
    const current: Running = { actor: machine, incarnation: inc as Incarnation<unknown>, fail, clock }

    yield* Effect.addFinalizer((exit) =>
      Effect.gen(function* () {
        cell.detach(consumer)
        if (running === current) running = undefined
        // A crashed incarnation's state is suspect: keep the last good snapshot instead.
        if (Exit.isSuccess(exit) || Exit.isInterrupted(exit)) yield* saveQuietly(current)
        machine.stop()
      })
    )

    running = current
    restoredNow = restored
    machine.start()
    // XState does not re-arm `after` timers from a persisted snapshot; every machine accepts RESTORED
    // in the states that have them and re-enters a state that arms them again.
    if (restored && machine.getSnapshot().status === "active" && machine.getSnapshot().can({ type: "RESTORED" })) machine.send({ type: "RESTORED" })
    inc.started?.(restored)
    cell.attach(consumer)

    const every = def.snapshotEveryMs ?? 1_000
    if (Number.isFinite(every) && every > 0) {
      const phase = def.snapshotPhase
      const first = phase === undefined || !(phase >= 0 && phase < 1) ? every : Math.round((every * (1 + phase)) / 2)
      const periodic = Effect.forever(Effect.zipRight(clock.sleep(every), saveQuietly(current)))
      yield* Effect.forkScoped(first === every ? periodic : Effect.zipRight(Effect.zipRight(clock.sleep(first), saveQuietly(current)), periodic))
    }
    return yield* Deferred.await(failed)
  })

  return {
    ref: cell,
    child: worker(def.id, start, {
      ...(def.restart === undefined ? {} : { restart: def.restart }),
      ...(def.shutdownTimeoutMs === undefined ? {} : { shutdownTimeoutMs: def.shutdownTimeoutMs })
    }),
    machine: () => running?.actor,
    incarnations: () => incarnations,
    restored: () => running !== undefined && restoredNow,
    saveSnapshot: Effect.suspend(() => (running === undefined ? Effect.succeed(false) : saveOf(running))),
    kill: (reason = "killed") => {
      if (running === undefined) return false
      running.fail("killed", reason)
      return true
    }
  }
}
