import { Context, Effect, Layer } from "effect"

/**
 * The time port. Every timestamp and every timer in Troupe goes through it, so a test or a
 * replay can run the whole system on simulated time. Named `TroupeClock` so it never clashes
 * with Effect's built-in `Clock`.
 */
export interface ClockService {
  /** Milliseconds since the Unix epoch (simulated: whatever the driver set). */
  readonly now: () => number
  /**
   * Calls `fn` once, `ms` from now. Returns the cancel function (idempotent; a no-op after the
   * timer fired). A non-finite `ms` means "never".
   */
  readonly setTimer: (ms: number, fn: () => void) => () => void
  /** Suspends for `ms`; interrupting the sleep cancels its timer. */
  readonly sleep: (ms: number) => Effect.Effect<void>
}

export class TroupeClock extends Context.Tag("troupe/Clock")<TroupeClock, ClockService>() {}

const sleepWith =
  (setTimer: ClockService["setTimer"]) =>
  (ms: number): Effect.Effect<void> =>
    Effect.async<void>((resume) => {
      const cancel = setTimer(ms, () => resume(Effect.void))
      return Effect.sync(cancel)
    })

// setTimeout clamps delays above 2^31-1 ms to 1 ms; a timer that far out is re-armed in steps.
const MAX_NODE_DELAY = 2 ** 31 - 1

const wallSetTimer = (ms: number, fn: () => void): (() => void) => {
  if (!Number.isFinite(ms)) return () => {}
  const due = Date.now() + Math.max(0, ms)
  let handle: ReturnType<typeof setTimeout> | undefined
  const arm = (): void => {
    const left = due - Date.now()
    if (left > MAX_NODE_DELAY) {
      handle = setTimeout(arm, MAX_NODE_DELAY)
    } else {
      handle = setTimeout(() => {
        handle = undefined
        fn()
      }, Math.max(0, left))
    }
  }
  arm()
  return () => {
    if (handle !== undefined) clearTimeout(handle)
    handle = undefined
  }
}

/** Real time: `Date.now()` and Node timers. */
export const wallClock: ClockService = {
  now: () => Date.now(),
  setTimer: wallSetTimer,
  sleep: sleepWith(wallSetTimer)
}

export const WallClockLive: Layer.Layer<TroupeClock> = Layer.succeed(TroupeClock, wallClock)

/**
 * Simulated time for tests and replay. Time only moves when the driver calls `advance` or
 * `setTime`; due timers then fire one by one in (due time, creation order), with `now()` set to
 * each timer's due time while it runs, so a timer that arms another timer inside the window
 * sees it fire in the same call. Time never goes backwards: `setTime` to the past is ignored.
 */
export interface SimulatedClock extends ClockService {
  readonly advance: (ms: number) => void
  readonly setTime: (t: number) => void
  /** Timers armed and not yet fired or cancelled. */
  readonly pendingTimers: () => number
  /** Due time of the next timer, if any: lets a replay jump straight to it. */
  readonly nextTimerAt: () => number | undefined
}

interface SimTimer {
  readonly due: number
  readonly seq: number
  fn: () => void
  cancelled: boolean
}

const earlier = (a: SimTimer, b: SimTimer): boolean => a.due < b.due || (a.due === b.due && a.seq < b.seq)

const noop = (): void => {}

export const makeSimulatedClock = (startMs = 0): SimulatedClock => {
  let now = startMs
  let seq = 0
  let live = 0
  // Binary min-heap on (due, seq); cancelled timers stay in the heap and are skipped on pop.
  const heap: SimTimer[] = []

  const push = (t: SimTimer): void => {
    heap.push(t)
    let i = heap.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      const parent = heap[p] as SimTimer
      if (!earlier(t, parent)) break
      heap[i] = parent
      i = p
    }
    heap[i] = t
  }

  const pop = (): SimTimer | undefined => {
    const top = heap[0]
    const last = heap.pop()
    if (top === undefined || last === undefined || heap.length === 0) return top
    let i = 0
    for (;;) {
      const l = 2 * i + 1
      if (l >= heap.length) break
      const r = l + 1
      const left = heap[l] as SimTimer
      const right = heap[r]
      const c = right !== undefined && earlier(right, left) ? r : l
      const child = heap[c] as SimTimer
      if (!earlier(child, last)) break
      heap[i] = child
      i = c
    }
    heap[i] = last
    return top
  }

  const dropCancelledTop = (): void => {
    while (heap[0]?.cancelled === true) pop()
  }

  const setTimer = (ms: number, fn: () => void): (() => void) => {
    if (!Number.isFinite(ms)) return () => {}
    const timer: SimTimer = { due: now + Math.max(0, ms), seq: seq++, fn, cancelled: false }
    push(timer)
    live++
    return () => {
      if (timer.cancelled) return
      timer.cancelled = true
      // A cancelled timer waits in the heap until its due time: it must not keep what its
      // callback holds (an order actor, a strategy's context) alive that long.
      timer.fn = noop
      live--
      // Cancelled timers due far ahead pile up (a 60 s timer re-armed on every book update):
      // rebuild the heap from the live ones when they are under half of it.
      if (heap.length > 1024 && heap.length > 2 * live) {
        const keep = heap.filter((t) => !t.cancelled)
        heap.length = 0
        for (const t of keep) push(t)
      }
    }
  }

  const runUntil = (target: number): void => {
    for (;;) {
      dropCancelledTop()
      const next = heap[0]
      if (next === undefined || next.due > target) break
      pop()
      next.cancelled = true
      live--
      if (next.due > now) now = next.due
      next.fn()
    }
    if (target > now) now = target
  }

  return {
    now: () => now,
    setTimer,
    sleep: sleepWith(setTimer),
    advance: (ms) => runUntil(now + Math.max(0, ms)),
    setTime: (t) => runUntil(Math.max(now, t)),
    pendingTimers: () => live,
    nextTimerAt: () => {
      dropCancelledTop()
      return heap[0]?.due
    }
  }
}

export const simulatedClockLayer = (clock: SimulatedClock): Layer.Layer<TroupeClock> => Layer.succeed(TroupeClock, clock)

/**
 * The `clock` option of XState v5's `createActor(machine, { clock })`, backed by a Troupe
 * clock, so `after` delays in machines run on injected (possibly simulated) time.
 */
export interface XStateClock {
  setTimeout(fn: (...args: unknown[]) => void, timeout: number): unknown
  clearTimeout(id: unknown): void
}

export const xstateClock = (clock: ClockService): XStateClock => {
  let nextId = 0
  const cancels = new Map<number, () => void>()
  return {
    setTimeout: (fn, timeout) => {
      const id = nextId++
      cancels.set(
        id,
        clock.setTimer(timeout, () => {
          cancels.delete(id)
          fn()
        })
      )
      return id
    },
    clearTimeout: (id) => {
      if (typeof id !== "number") return
      const cancel = cancels.get(id)
      if (cancel === undefined) return
      cancels.delete(id)
      cancel()
    }
  }
}
