import { Effect, Queue, Scope } from "effect"
import { makeSimulatedClock, simulatedClockLayer } from "../../src/actors/clock.js"
import type { SimulatedClock, TroupeClock } from "../../src/actors/clock.js"
import type { ChildSpec, RestartType, SupervisorEvent } from "../../src/actors/supervisor/index.js"
import type { Supervisor } from "../../src/actors/supervisor/index.js"

type Command = "crash" | "exit"

/**
 * Workers whose every start and stop is logged, and which crash or exit when the test says so.
 * Each incarnation takes the next command from its worker's queue.
 */
export class Probe {
  readonly log: string[] = []
  readonly events: SupervisorEvent[] = []
  readonly clock: SimulatedClock = makeSimulatedClock(0)
  private readonly starts = new Map<string, number>()
  private readonly commands = new Map<string, Queue.Queue<Command>>()

  readonly observer = (e: SupervisorEvent): void => {
    this.events.push(e)
  }

  startsOf(id: string): number {
    return this.starts.get(id) ?? 0
  }

  startCounts(ids: ReadonlyArray<string>): Record<string, number> {
    return Object.fromEntries(ids.map((id) => [id, this.startsOf(id)]))
  }

  private queue(id: string): Queue.Queue<Command> {
    let q = this.commands.get(id)
    if (q === undefined) {
      q = Effect.runSync(Queue.unbounded<Command>())
      this.commands.set(id, q)
    }
    return q
  }

  worker(id: string, restart: RestartType = "permanent", shutdownTimeoutMs = 1_000): ChildSpec {
    const q = this.queue(id)
    return {
      id,
      kind: "worker",
      restart,
      shutdownTimeoutMs,
      start: Effect.gen(this, function* () {
        this.starts.set(id, this.startsOf(id) + 1)
        this.log.push(`start:${id}`)
        yield* Effect.addFinalizer(() => Effect.sync(() => this.log.push(`stop:${id}`)))
        const command = yield* Queue.take(q)
        if (command === "crash") return yield* Effect.fail(new Error(`${id} crashed`))
      })
    }
  }

  /** True when the latest incarnation of `id` has started and not stopped. */
  isRunning(id: string): boolean {
    const last = this.log.findLast((s) => s === `start:${id}` || s === `stop:${id}`)
    return last === `start:${id}`
  }

  /** Waits until every listed worker runs: supervisors fork their children and return. */
  running(ids: ReadonlyArray<string>): Effect.Effect<void, Error> {
    return waitUntil(() => ids.every((id) => this.isRunning(id)), `${ids.join(", ")} running`)
  }

  exitsOf(supervisor: string, id: string): number {
    return this.events.filter((e) => e._tag === "ChildExited" && e.supervisor === supervisor && e.child === id && e.reason !== "stopped").length
  }

  /** Sends a command to the running incarnation of `id` and waits until `sup` has handled its exit. */
  send(sup: Supervisor<never> | Supervisor<TroupeClock>, id: string, command: Command, supervisorPath = sup.path): Effect.Effect<void, unknown> {
    const before = this.exitsOf(supervisorPath, id)
    return Queue.offer(this.queue(id), command).pipe(
      Effect.zipRight(waitUntil(() => this.exitsOf(supervisorPath, id) > before)),
      Effect.zipRight(sup.settled)
    )
  }

  run<A, E>(program: Effect.Effect<A, E, Scope.Scope | TroupeClock>): Promise<A> {
    return Effect.runPromise(Effect.scoped(program).pipe(Effect.provide(simulatedClockLayer(this.clock))))
  }
}

/** Polls a condition on real time (the supervisor itself runs on the simulated clock). */
export const waitUntil = (cond: () => boolean, what = "condition"): Effect.Effect<void, Error> =>
  Effect.gen(function* () {
    for (let i = 0; i < 2_000; i++) {
      if (cond()) return
      yield* Effect.sleep("1 millis")
    }
    return yield* Effect.fail(new Error(`timed out waiting for ${what}`))
  })
