import type { VenueGatewayService } from "../../src/actors/ports/venue-gateway.js"
import { RiskActor } from "../../src/actors/risk/index.js"
import { RecentFillIds } from "../../src/domain/recent-fill-ids.js"
import type { InvariantName } from "../../src/simulation/invariants.js"
import type { SimOptions } from "../../src/simulation/run-seed.js"

/**
 * Deliberately broken variants of the system (the mutation check): each is injected for one run
 * through the simulation's test-only options (a patch of a prototype undone after the run, or
 * another write-ahead gate), never by editing the source. The simulation must catch each one —
 * the named invariant violated — within the CI seed set.
 */
export interface Mutant {
  readonly name: string
  readonly what: string
  readonly caughtBy: InvariantName
  readonly options: Pick<SimOptions, "mutate" | "writeAhead">
}

const patch = <T extends object, K extends keyof T>(target: T, key: K, value: T[K]): (() => void) => {
  const own = Object.getOwnPropertyDescriptor(target, key)
  Object.defineProperty(target, key, { value, configurable: true, writable: true })
  return () => {
    if (own === undefined) delete (target as Record<PropertyKey, unknown>)[key as PropertyKey]
    else Object.defineProperty(target, key, own)
  }
}

const proto = <T>(c: { prototype: T }): Record<string, unknown> => c.prototype as unknown as Record<string, unknown>

export const MUTANTS: ReadonlyArray<Mutant> = [
  {
    name: "readsUncharged",
    what: "the read budget charges nothing for reads (the gateway's reads bypass the rate budget)",
    caughtBy: "rateBudgetExceeded",
    options: {
      mutate: () => {
        const own = Object.getOwnPropertyDescriptor(RiskActor.prototype, "requestBudget")
        Object.defineProperty(RiskActor.prototype, "requestBudget", { get: () => ({ reserve: () => Promise.resolve() }), configurable: true })
        return () => {
          if (own !== undefined) Object.defineProperty(RiskActor.prototype, "requestBudget", own)
        }
      }
    }
  },
  {
    name: "haltNotRestored",
    what: "recovery does not restore the operator's halt (a restart lifts it)",
    caughtBy: "operatorHaltLifted",
    options: { mutate: () => patch(proto(RiskActor), "restoreOperatorCause", () => false) }
  },
  {
    name: "duplicateFillApplied",
    what: "fill ids are never recognised as seen (a repeated venue fill is applied again)",
    caughtBy: "fillNotJournaledOnce",
    options: { mutate: () => patch(proto(RecentFillIds), "has", () => false) }
  },
  {
    name: "submitLimitsSkipped",
    what: "risk approves every submit without its limit checks",
    caughtBy: "approvalViolatesLimit",
    options: { mutate: () => patch(proto(RiskActor), "checkSubmit", () => undefined) }
  },
  {
    name: "writeAheadSkipped",
    what: "venue calls go out without waiting for the journal to have the approval",
    caughtBy: "approvalNotJournaled",
    options: { writeAhead: (inner: VenueGatewayService) => inner }
  }
]
