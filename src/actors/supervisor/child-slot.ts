import { Context, Effect, Option } from "effect"
import type { Fiber } from "effect"
import type { ClockService } from "../clock.js"
import type { SupervisorObserver, TreeNode } from "./spec.js"

/**
 * What a supervisor hands to each child it starts: readiness, and for a child that is itself a
 * supervisor, where to register its tree and which observer and path to inherit.
 */
export interface ChildSlot {
  readonly path: string
  readonly observer: SupervisorObserver | undefined
  readonly ready: () => void
  readonly register: (tree: Effect.Effect<TreeNode>) => void
}

export class ChildSlotTag extends Context.Tag("troupe/supervisor/ChildSlot")<ChildSlotTag, ChildSlot>() {}

/**
 * A worker with `awaitReady: true` calls this once it can serve (e.g. the store after its pool
 * connected); its later siblings start only then. Outside a supervised child it does nothing.
 */
export const childReady: Effect.Effect<void> = Effect.flatMap(Effect.serviceOption(ChildSlotTag), (slot) =>
  Option.isSome(slot) ? Effect.sync(slot.value.ready) : Effect.void
)

// The waits below are plain callbacks rather than `Effect.race`: they run inside uninterruptible
// regions (finalizers, stops), where a race would wait forever for its loser to be interrupted.

/** True if `fiber` ended within `timeoutMs` of the clock, false if the timer fired first. */
export const awaitWithin = (clock: ClockService, fiber: Fiber.RuntimeFiber<void>, timeoutMs: number): Effect.Effect<boolean> =>
  Effect.async<boolean>((resume) => {
    let settled = false
    const finish = (inTime: boolean): void => {
      if (settled) return
      settled = true
      cancel()
      fiber.removeObserver(onExit)
      resume(Effect.succeed(inTime))
    }
    const onExit = (): void => finish(true)
    const cancel = clock.setTimer(timeoutMs, () => finish(false))
    fiber.addObserver(onExit)
    return Effect.sync(() => {
      settled = true
      cancel()
      fiber.removeObserver(onExit)
    })
  })

/** A one-shot readiness signal a child can raise from any fiber. */
export interface Latch {
  readonly raise: () => void
  readonly onRaised: (f: () => void) => () => void
}

export const makeLatch = (): Latch => {
  let raised = false
  let waiters: Array<() => void> = []
  return {
    raise: () => {
      if (raised) return
      raised = true
      const ws = waiters
      waiters = []
      for (const w of ws) w()
    },
    onRaised: (f) => {
      if (raised) {
        f()
        return () => {}
      }
      waiters.push(f)
      return () => {
        waiters = waiters.filter((w) => w !== f)
      }
    }
  }
}

/** Until the child is ready or has ended, whichever comes first. */
export const awaitReady = (latch: Latch, fiber: Fiber.RuntimeFiber<void>): Effect.Effect<void> =>
  Effect.async<void>((resume) => {
    let settled = false
    const finish = (): void => {
      if (settled) return
      settled = true
      offLatch()
      fiber.removeObserver(finish)
      resume(Effect.void)
    }
    const offLatch = latch.onRaised(finish)
    fiber.addObserver(finish)
    return Effect.sync(() => {
      settled = true
      offLatch()
      fiber.removeObserver(finish)
    })
  })
