import { assign, setup } from "xstate"
import type { VenueId } from "../domain/ids.js"

/**
 * One venue connection (socket + session). Reconnects with exponential backoff, jitter and a
 * cap; after `maxAttempts` failures in a row it goes to `failed` and escalates to its
 * supervisor. Jitter comes from a seeded generator kept in the context, so a run replays
 * exactly and a restored snapshot continues the same sequence.
 */
export const VENUE_CONNECTION_MACHINE_VERSION = "venue-connection@1"

export interface BackoffPolicy {
  readonly baseMs: number
  readonly maxMs: number
  /** 0..1: the delay is drawn uniformly from [(1 - jitter) * d, d]. */
  readonly jitter: number
  readonly maxAttempts: number
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 500, maxMs: 30_000, jitter: 0.5, maxAttempts: 8 }

export interface VenueConnectionInput {
  readonly venue: VenueId
  readonly backoff?: BackoffPolicy
  readonly seed?: number
}

export interface VenueConnectionContext {
  readonly venue: VenueId
  readonly backoff: BackoffPolicy
  /** Consecutive failures since the last successful subscription. */
  readonly attempts: number
  readonly backoffMs: number
  readonly rng: number
  readonly lastError: string | null
}

export type VenueConnectionEvent =
  | { readonly type: "CONNECT" }
  | { readonly type: "DISCONNECT" }
  | { readonly type: "OPENED" }
  | { readonly type: "AUTHENTICATED" }
  | { readonly type: "HEARTBEAT" }
  | { readonly type: "FAILED"; readonly error: string }
  | { readonly type: "RESET" }
  | { readonly type: "RESTORED" }

/** mulberry32: one step of a small deterministic generator; returns [value in [0,1), next state]. */
export const nextRandom = (state: number): readonly [number, number] => {
  const s = (state + 0x6d2b79f5) | 0
  let t = Math.imul(s ^ (s >>> 15), 1 | s)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return [((t ^ (t >>> 14)) >>> 0) / 4294967296, s]
}

/** Delay before attempt `attempt` (1-based): base * 2^(attempt-1), capped, minus up to `jitter` of it. */
export const backoffDelay = (policy: BackoffPolicy, attempt: number, random01: number): number => {
  const capped = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempt - 1))
  return Math.round(capped * (1 - policy.jitter * random01))
}

const failTo = (error: string | null) =>
  [
    { guard: "attemptsExhausted", target: "#venueConnection.failed", actions: [{ type: "noteFailure", params: { error } }, "closeSocket", "escalate"] },
    { target: "#venueConnection.online.backoff", actions: [{ type: "noteFailure", params: { error } }, "closeSocket"] }
  ] as const

export const venueConnectionMachine = setup({
  types: { context: {} as VenueConnectionContext, events: {} as VenueConnectionEvent, input: {} as VenueConnectionInput },
  actions: {
    // Side effects, provided by the venue gateway.
    openSocket: () => {},
    authenticate: () => {},
    subscribeChannels: () => {},
    closeSocket: () => {},
    /** Tell the supervisor: this child gave up. */
    escalate: () => {},
    noteFailure: assign(({ context, event }, params: { error: string | null }) => {
      const attempts = context.attempts + 1
      const [r, rng] = nextRandom(context.rng)
      return {
        attempts,
        rng,
        backoffMs: backoffDelay(context.backoff, attempts, r),
        lastError: params.error ?? (event.type === "FAILED" ? event.error : "unknown")
      }
    }),
    resetAttempts: assign({ attempts: 0, lastError: null })
  },
  guards: {
    attemptsExhausted: ({ context }) => context.attempts + 1 >= context.backoff.maxAttempts
  },
  delays: {
    backoff: ({ context }) => context.backoffMs,
    connectTimeout: 10_000,
    authTimeout: 10_000,
    /** No heartbeat for this long: the connection is dead even if the socket says otherwise. */
    heartbeatTimeout: 15_000
  }
}).createMachine({
  id: "venueConnection",
  initial: "disconnected",
  context: ({ input }) => ({
    venue: input.venue,
    backoff: input.backoff ?? DEFAULT_BACKOFF,
    attempts: 0,
    backoffMs: 0,
    rng: input.seed ?? 1,
    lastError: null
  }),
  states: {
    disconnected: { on: { CONNECT: "online" } },
    online: {
      initial: "connecting",
      // After a restart the socket is gone: connect again, which also re-arms the timers.
      on: { RESTORED: { target: ".connecting", reenter: true }, DISCONNECT: { target: "disconnected", actions: "closeSocket" } },
      states: {
        connecting: {
          entry: "openSocket",
          on: { OPENED: "authenticating", FAILED: failTo(null) },
          after: { connectTimeout: failTo("connect timeout") }
        },
        authenticating: {
          entry: "authenticate",
          on: { AUTHENTICATED: { target: "subscribed", actions: ["subscribeChannels", "resetAttempts"] }, FAILED: failTo(null) },
          after: { authTimeout: failTo("auth timeout") }
        },
        subscribed: {
          // Each heartbeat re-enters the state, which restarts the watchdog.
          on: { HEARTBEAT: { target: "subscribed", reenter: true }, FAILED: failTo(null) },
          after: { heartbeatTimeout: failTo("heartbeat timeout") }
        },
        backoff: {
          after: { backoff: "connecting" }
        }
      }
    },
    failed: { on: { RESET: { target: "disconnected", actions: "resetAttempts" } } }
  }
})
