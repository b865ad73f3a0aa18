import { Cause, Deferred, Effect, Exit, Fiber, Option, Queue } from "effect"
import type { Scope } from "effect"
import { TroupeClock } from "../clock.js"
import type { ClockService } from "../clock.js"
import { ChildSlotTag, awaitReady, awaitWithin, makeLatch } from "./child-slot.js"
import type { ChildSlot } from "./child-slot.js"
import {
  ChildAlreadyExists,
  ChildNotFound,
  DEFAULT_INTENSITY,
  SupervisorGaveUp,
  SupervisorNotRunning
} from "./spec.js"
import type { ChildSpec, ChildState, RestartType, SupervisorEvent, SupervisorSpec, TreeNode } from "./spec.js"

/** A running supervisor: the handle the actor host uses for dynamic children and inspection. */
export interface Supervisor<R = never> {
  /** Path from the root, e.g. `root/orders`. */
  readonly path: string
  /** Appends a child and starts it (waiting for its readiness if it signals one). */
  readonly startChild: (spec: ChildSpec<R>) => Effect.Effect<void, ChildAlreadyExists | SupervisorNotRunning>
  /** Stops a child (with its shutdown timeout) and forgets it. */
  readonly stopChild: (id: string) => Effect.Effect<void, ChildNotFound | SupervisorNotRunning>
  readonly tree: Effect.Effect<TreeNode>
  /** Completes once every exit notice and command queued before it has been handled. */
  readonly settled: Effect.Effect<void, SupervisorNotRunning>
  /** Never succeeds; fails when the supervisor gives up. */
  readonly join: Effect.Effect<never, SupervisorGaveUp>
}

interface Child<R> {
  readonly spec: ChildSpec<R>
  readonly dynamic: boolean
  state: ChildState
  restarts: number
  startedAt: number
  /** Bumped at every start and stop, so the exit notice of a replaced incarnation is ignored. */
  gen: number
  fiber: Fiber.RuntimeFiber<void> | undefined
  nestedTree: Effect.Effect<TreeNode> | undefined
}

type Msg<R> =
  | { readonly _tag: "Exited"; readonly child: Child<R>; readonly gen: number; readonly exit: Exit.Exit<void, unknown> }
  | { readonly _tag: "StartChild"; readonly spec: ChildSpec<R>; readonly reply: Deferred.Deferred<void, ChildAlreadyExists | SupervisorNotRunning> }
  | { readonly _tag: "StopChild"; readonly id: string; readonly reply: Deferred.Deferred<void, ChildNotFound | SupervisorNotRunning> }
  | { readonly _tag: "Sync"; readonly reply: Deferred.Deferred<void, SupervisorNotRunning> }

const shouldRestart = (restart: RestartType, failed: boolean): boolean =>
  restart === "permanent" || (restart === "transient" && failed)

/**
 * Starts the children of `spec` in order, in the current scope, and returns the handle. Closing
 * the scope stops the children in reverse order, each within its own shutdown timeout. All
 * changes to the child list happen on one control fiber, one message at a time.
 */
export const makeSupervisor = <R = never>(spec: SupervisorSpec<R>): Effect.Effect<Supervisor<R>, never, Scope.Scope | R | TroupeClock> =>
  Effect.gen(function* () {
    const clock: ClockService = yield* TroupeClock
    const parent = Option.getOrUndefined(yield* Effect.serviceOption(ChildSlotTag))
    const path = parent === undefined ? spec.id : `${parent.path}/${spec.id}`
    const observer = spec.observer ?? parent?.observer
    const intensity = spec.intensity ?? DEFAULT_INTENSITY
    const queue = yield* Queue.unbounded<Msg<R>>()
    const gaveUp = yield* Deferred.make<never, SupervisorGaveUp>()
    const children: Child<R>[] = []
    const restartTimes: number[] = []
    const startedAt = clock.now()
    let running = true
    let failed = false

    const emit = (event: SupervisorEvent): void => {
      if (observer === undefined) return
      try {
        observer(event)
      } catch {
        // An observer is metrics and inspection; it must never take supervision down.
      }
    }

    const startOne = (child: Child<R>): Effect.Effect<void, never, R> =>
      Effect.gen(function* () {
        const ready = makeLatch()
        const fiber = yield* Effect.uninterruptible(
          Effect.gen(function* () {
            const gen = ++child.gen
            child.state = "starting"
            child.nestedTree = undefined
            child.startedAt = clock.now()
            const slot: ChildSlot = {
              path,
              observer,
              ready: ready.raise,
              register: (tree) => {
                if (child.gen === gen) child.nestedTree = tree
              }
            }
            const f = yield* Effect.scoped(child.spec.start).pipe(
              Effect.provideService(ChildSlotTag, slot),
              Effect.exit,
              Effect.flatMap((exit) => Queue.offer(queue, { _tag: "Exited", child, gen, exit })),
              Effect.asVoid,
              // A fork inherits the uninterruptible region it is made in; the child must not.
              Effect.interruptible,
              Effect.forkDaemon
            )
            child.fiber = f
            emit({ _tag: "ChildStarted", supervisor: path, child: child.spec.id, kind: child.spec.kind, at: clock.now() })
            return f
          })
        )
        if (child.spec.kind === "supervisor" || child.spec.awaitReady === true) {
          yield* awaitReady(ready, fiber)
        }
        if (child.fiber === fiber && child.state === "starting") child.state = "running"
      })

    // A stop is bounded by the child's timeout; past it the fiber is abandoned (JS cannot kill
    // it) and reported, and the supervisor moves on.
    const stopOne = (child: Child<R>, state: ChildState): Effect.Effect<void> =>
      Effect.uninterruptible(
        Effect.gen(function* () {
          const fiber = child.fiber
          child.gen++
          child.fiber = undefined
          child.nestedTree = undefined
          child.state = state
          if (fiber === undefined) return
          yield* Fiber.interruptFork(fiber)
          const timeoutMs = child.spec.shutdownTimeoutMs
          const inTime = yield* awaitWithin(clock, fiber, timeoutMs)
          if (!inTime) emit({ _tag: "ChildKilled", supervisor: path, child: child.spec.id, timeoutMs, at: clock.now() })
          emit({ _tag: "ChildExited", supervisor: path, child: child.spec.id, reason: "stopped", at: clock.now() })
        })
      )

    const stopAll = (state: ChildState): Effect.Effect<void> =>
      Effect.forEach(children.slice().reverse(), (c) => stopOne(c, state), { discard: true })

    const remove = (child: Child<R>): void => {
      const i = children.indexOf(child)
      if (i >= 0) children.splice(i, 1)
    }

    const restartOne = (child: Child<R>): Effect.Effect<void, never, R> =>
      Effect.gen(function* () {
        child.restarts++
        yield* startOne(child)
        emit({ _tag: "ChildRestarted", supervisor: path, child: child.spec.id, restarts: child.restarts, at: clock.now() })
      })

    const giveUp = (child: Child<R>, cause: Cause.Cause<unknown>): Effect.Effect<void> =>
      Effect.gen(function* () {
        running = false
        failed = true
        const restarts = restartTimes.length
        emit({ _tag: "SupervisorGaveUp", supervisor: path, restarts, periodMs: intensity.periodMs, lastChild: child.spec.id, at: clock.now() })
        yield* stopAll("stopped")
        yield* Deferred.fail(
          gaveUp,
          new SupervisorGaveUp({ supervisor: path, lastChild: child.spec.id, restarts, periodMs: intensity.periodMs, lastCause: cause })
        )
      })

    // The crashed child is already down. Siblings that the strategy takes with it are stopped in
    // reverse order, then everything affected starts again in order; a temporary sibling is
    // stopped and forgotten, and a sibling that had already ended stays as it is.
    const applyStrategy = (crashed: Child<R>): Effect.Effect<void, never, R> =>
      Effect.gen(function* () {
        if (spec.strategy === "one_for_one") return yield* restartOne(crashed)
        const from = spec.strategy === "one_for_all" ? 0 : children.indexOf(crashed)
        const affected = children.slice(from).filter((c) => c === crashed || c.fiber !== undefined)
        for (const c of affected.slice().reverse()) {
          if (c === crashed) continue
          yield* stopOne(c, "restarting")
          if (c.spec.restart === "temporary") remove(c)
        }
        for (const c of affected) {
          if (children.includes(c)) yield* restartOne(c)
        }
      })

    const onExited = (child: Child<R>, gen: number, exit: Exit.Exit<void, unknown>): Effect.Effect<void, never, R> =>
      Effect.gen(function* () {
        if (child.gen !== gen || !children.includes(child)) return
        child.fiber = undefined
        child.nestedTree = undefined
        const crashed = Exit.isFailure(exit) && !Cause.isInterruptedOnly(exit.cause)
        const cause = Exit.isFailure(exit) ? exit.cause : Cause.empty
        emit({
          _tag: "ChildExited",
          supervisor: path,
          child: child.spec.id,
          reason: crashed ? "failure" : "normal",
          ...(crashed ? { cause } : {}),
          at: clock.now()
        })
        if (!shouldRestart(child.spec.restart, crashed)) {
          if (child.dynamic) remove(child)
          else child.state = crashed ? "failed" : "stopped"
          return
        }
        child.state = "restarting"
        const now = clock.now()
        restartTimes.push(now)
        while (restartTimes.length > 0 && (restartTimes[0] as number) <= now - intensity.periodMs) restartTimes.shift()
        if (restartTimes.length > intensity.maxRestarts) return yield* giveUp(child, cause)
        yield* applyStrategy(child)
      })

    const handle = (msg: Msg<R>): Effect.Effect<void, never, R> => {
      switch (msg._tag) {
        case "Exited":
          return onExited(msg.child, msg.gen, msg.exit)
        case "Sync":
          return Effect.asVoid(Deferred.succeed(msg.reply, undefined))
        case "StartChild": {
          const { spec: childSpec, reply } = msg
          if (children.some((c) => c.spec.id === childSpec.id)) {
            return Effect.asVoid(Deferred.fail(reply, new ChildAlreadyExists({ supervisor: path, child: childSpec.id })))
          }
          const child: Child<R> = { spec: childSpec, dynamic: true, state: "starting", restarts: 0, startedAt: 0, gen: 0, fiber: undefined, nestedTree: undefined }
          children.push(child)
          return startOne(child).pipe(
            Effect.zipRight(Deferred.succeed(reply, undefined)),
            Effect.ensuring(Deferred.fail(reply, new SupervisorNotRunning({ supervisor: path }))),
            Effect.asVoid
          )
        }
        case "StopChild": {
          const { id, reply } = msg
          const child = children.find((c) => c.spec.id === id)
          if (child === undefined) return Effect.asVoid(Deferred.fail(reply, new ChildNotFound({ supervisor: path, child: id })))
          return stopOne(child, "stopped").pipe(
            Effect.tap(() => remove(child)),
            Effect.zipRight(Deferred.succeed(reply, undefined)),
            Effect.asVoid
          )
        }
      }
    }

    const failPending = Effect.gen(function* () {
      const notRunning = new SupervisorNotRunning({ supervisor: path })
      for (const msg of yield* Queue.takeAll(queue)) {
        if (msg._tag === "StartChild") yield* Deferred.fail(msg.reply, notRunning)
        else if (msg._tag === "StopChild") yield* Deferred.fail(msg.reply, notRunning)
        else if (msg._tag === "Sync") yield* Deferred.fail(msg.reply, notRunning)
      }
    })

    const loop = Effect.gen(function* () {
      while (running) yield* handle(yield* Queue.take(queue))
      yield* failPending
    })

    const nodeOf = (c: Child<R>): Effect.Effect<TreeNode> => {
      const base = {
        id: c.spec.id,
        kind: c.spec.kind,
        state: c.state,
        restarts: c.restarts,
        uptimeMs: c.fiber === undefined ? 0 : clock.now() - c.startedAt
      }
      return c.nestedTree === undefined
        ? Effect.succeed({ ...base, children: [] })
        : Effect.map(c.nestedTree, (n) => ({ ...n, ...base }))
    }

    const tree: Effect.Effect<TreeNode> = Effect.suspend(() =>
      Effect.map(Effect.forEach(children.slice(), nodeOf), (nodes) => ({
        id: spec.id,
        kind: "supervisor" as const,
        state: failed ? ("failed" as const) : running ? ("running" as const) : ("stopped" as const),
        restarts: 0,
        uptimeMs: running ? clock.now() - startedAt : 0,
        strategy: spec.strategy,
        children: nodes
      }))
    )

    const command = <Err>(
      make: (reply: Deferred.Deferred<void, Err | SupervisorNotRunning>) => Msg<R>
    ): Effect.Effect<void, Err | SupervisorNotRunning> =>
      Effect.suspend(() => {
        if (!running) return Effect.fail(new SupervisorNotRunning({ supervisor: path }))
        return Effect.flatMap(Deferred.make<void, Err | SupervisorNotRunning>(), (reply) =>
          Effect.zipRight(Queue.offer(queue, make(reply)), Deferred.await(reply))
        )
      })

    // Finalizers run last-added first: the control fiber stops before the children, so no
    // restart can race the shutdown.
    yield* Effect.addFinalizer(() =>
      Effect.gen(function* () {
        running = false
        yield* stopAll("stopped")
        yield* failPending
      })
    )

    for (const child of spec.children) {
      const c: Child<R> = { spec: child, dynamic: false, state: "starting", restarts: 0, startedAt: 0, gen: 0, fiber: undefined, nestedTree: undefined }
      children.push(c)
      yield* startOne(c)
    }

    const loopFiber = yield* Effect.forkDaemon(Effect.interruptible(loop))
    yield* Effect.addFinalizer(() => Fiber.interrupt(loopFiber))

    if (parent !== undefined) {
      parent.register(tree)
      parent.ready()
    }

    const supervisor: Supervisor<R> = {
      path,
      startChild: (childSpec) => command<ChildAlreadyExists>((reply) => ({ _tag: "StartChild", spec: childSpec, reply })),
      stopChild: (id) => command<ChildNotFound>((reply) => ({ _tag: "StopChild", id, reply })),
      tree,
      settled: command<never>((reply) => ({ _tag: "Sync", reply })),
      join: Deferred.await(gaveUp)
    }
    return supervisor
  })

/** Runs a supervisor in the current scope until it gives up (then fails with `SupervisorGaveUp`). */
export const supervise = <R = never>(spec: SupervisorSpec<R>): Effect.Effect<never, SupervisorGaveUp, Scope.Scope | R | TroupeClock> =>
  Effect.flatMap(makeSupervisor(spec), (s) => s.join)

/**
 * A supervisor as the child of another. Its give-up is a crash of this child, so the parent
 * applies its own strategy. `onStarted` receives the handle of every incarnation (a restart
 * makes a new one), e.g. so the order manager can reach the dynamic `orders` supervisor.
 */
export const supervisorChild = <R = never>(
  spec: SupervisorSpec<R>,
  options: {
    readonly restart?: RestartType
    readonly shutdownTimeoutMs?: number
    readonly onStarted?: (supervisor: Supervisor<R>) => void
  } = {}
): ChildSpec<R | TroupeClock> => {
  const { onStarted } = options
  return {
    id: spec.id,
    kind: "supervisor",
    start: Effect.flatMap(makeSupervisor(spec), (s) => {
      onStarted?.(s)
      return s.join
    }),
    restart: options.restart ?? "permanent",
    shutdownTimeoutMs: options.shutdownTimeoutMs ?? Number.POSITIVE_INFINITY
  }
}
