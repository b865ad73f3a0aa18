import type { Random } from "../adapters/venues/simulator/random.js"

/**
 * The faults of one seed: which kinds are on and how often, drawn from the seed. `safety`
 * injects faults all the way through the run; `liveness` injects them in the first part of the
 * run, then heals (no new faults) so the system must converge and trade again; `none` is the
 * fault-free baseline.
 */
export type FaultProfile = "safety" | "liveness" | "none"
export const FAULT_PROFILES: ReadonlyArray<FaultProfile> = ["safety", "liveness", "none"]

export const FAULT_KINDS = [
  "reportDelayed",
  "reportDuplicated",
  "feedDisconnect",
  "mdFrameDropped",
  "mdFrameDuplicated",
  "requestDelayed",
  "timeoutUnknownOutcome",
  "venue5xx",
  "apiLimitExceeded",
  "journalAppendFailed",
  "journalStalled",
  "coreCrash",
  "nodeCrash",
  "operatorHalt",
  "clockJump",
  // Drawn from a stream of their own (`extraRandom`), so that adding them left every earlier
  // seed's other faults where they were (the regression seeds keep their schedules).
  "storeOutage",
  "storeStalled",
  "clockJumpBack"
] as const
export type FaultKind = (typeof FAULT_KINDS)[number]

export interface FaultPlan {
  readonly profile: FaultProfile
  /** Per-event probabilities (0 = off for this seed). */
  readonly p: Readonly<Record<FaultKind, number>>
  /** Simulated time after which no new fault is injected (liveness: the heal point). */
  healAt: number
  /** No new fault from now on (the end of a run: what is in flight lands). */
  readonly stopInjecting: () => void
  /** Faults injected, by kind. */
  readonly injected: Record<FaultKind, number>
  /** True when a fault of `kind` happens now (draws from the seed's fault stream). */
  readonly roll: (kind: FaultKind, now: number) => boolean
}

const BASE: Readonly<Record<FaultKind, number>> = {
  reportDelayed: 0.15,
  reportDuplicated: 0.05,
  feedDisconnect: 0.002,
  mdFrameDropped: 0.003,
  mdFrameDuplicated: 0.003,
  requestDelayed: 0.2,
  timeoutUnknownOutcome: 0.03,
  venue5xx: 0.02,
  apiLimitExceeded: 0.01,
  journalAppendFailed: 0.002,
  journalStalled: 0.002,
  // Scheduled, not per event: the probability that the run has one.
  coreCrash: 0.5,
  nodeCrash: 0.5,
  operatorHalt: 0.5,
  clockJump: 0.3,
  // Per store call: an outage (every call fails for up to 5 s) or a stall (the call waits up to 2 s).
  storeOutage: 0.01,
  storeStalled: 0.02,
  // Scheduled: the node's wall clock steps back (NTP) by 1-30 s; its timers run on (monotonic).
  clockJumpBack: 0.5
}

/** Kinds drawn from `extraRandom` (see FAULT_KINDS). */
const EXTRA: ReadonlySet<FaultKind> = new Set(["storeOutage", "storeStalled", "clockJumpBack"])

export const drawFaultPlan = (profile: FaultProfile, random: Random, start: number, end: number, extraRandom: Random = random, without: ReadonlySet<FaultKind> = new Set()): FaultPlan => {
  const p = {} as Record<FaultKind, number>
  for (const kind of FAULT_KINDS) {
    // Each kind is on for about two seeds in three, at a rate between a quarter and twice its base.
    const r = EXTRA.has(kind) ? extraRandom : random
    const on = profile !== "none" && r.next() < 0.7
    p[kind] = on ? Math.min(1, BASE[kind] * (0.25 + r.next() * 1.75)) : 0
    if (without.has(kind)) p[kind] = 0
  }
  const injected = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>
  const healAt = profile === "liveness" ? start + Math.floor((end - start) * 0.5) : profile === "safety" ? Number.POSITIVE_INFINITY : start
  const plan: FaultPlan = {
    profile,
    p,
    healAt,
    injected,
    stopInjecting: () => {
      plan.healAt = Number.NEGATIVE_INFINITY
    },
    roll: (kind, now) => {
      const chance = p[kind]
      if (chance === 0 || now >= plan.healAt) return false
      if ((EXTRA.has(kind) ? extraRandom : random).next() >= chance) return false
      injected[kind]++
      return true
    }
  }
  return plan
}
