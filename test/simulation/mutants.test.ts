import { describe, expect, it } from "vitest"
import { runSeed } from "../../src/simulation/run-seed.js"
import { CI_MINUTES, ciSeeds } from "./ci-seeds.js"
import { MUTANTS } from "./mutants.js"

// The mutation check: each deliberately broken variant is caught — its invariant violated — by
// some seed of the CI seed set (searched in order: safety 1-50, then liveness 1-50).
describe("the simulation catches deliberately broken variants", () => {
  for (const m of MUTANTS) {
    it(`${m.name}: ${m.what} → ${m.caughtBy}`, async () => {
      let caught: string | undefined
      search: for (const profile of ["safety", "liveness"] as const) {
        for (const seed of ciSeeds(profile)) {
          const r = await runSeed({ seed, profile, minutes: CI_MINUTES, ...m.options })
          if (r.violations.some((v) => v.invariant === m.caughtBy)) {
            caught = `${profile} seed ${seed}`
            break search
          }
        }
      }
      expect(caught, `${m.name} was not caught by any CI seed`).toBeDefined()
    }, 600_000)
  }
})
