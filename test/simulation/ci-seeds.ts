import type { FaultProfile } from "../../src/simulation/faults.js"
import { failureReport } from "../../src/simulation/main.js"
import { runSeed, type SimOptions, type SimResult } from "../../src/simulation/run-seed.js"

/** The CI seed set: seeds 1-50 of each profile, a quarter of a simulated minute each (plus the settle). */
export const CI_SEEDS = 50
export const CI_MINUTES = 0.25

export const ciSeeds = (_profile: FaultProfile): ReadonlyArray<number> => Array.from({ length: CI_SEEDS }, (_, i) => i + 1)

/** Runs the profile's CI seeds; the failures' bug reports (empty when every seed passed). */
export const runCiSeeds = async (profile: FaultProfile, extra: Partial<SimOptions> = {}): Promise<{ readonly reports: string[]; readonly results: SimResult[] }> => {
  const reports: string[] = []
  const results: SimResult[] = []
  for (const seed of ciSeeds(profile)) {
    const r = await runSeed({ seed, profile, minutes: CI_MINUTES, ...extra })
    results.push({ ...r, journal: undefined as never })
    if (r.violations.length > 0) reports.push(failureReport(r, CI_MINUTES))
  }
  return { reports, results }
}
