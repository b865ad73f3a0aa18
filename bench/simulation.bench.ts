import { runSeed } from "../src/simulation/run-seed.js"
import type { FaultProfile } from "../src/simulation/faults.js"
import { round, type Bench, type Figure } from "./harness.js"

/**
 * sim.seeds_per_min: whole-node simulation seeds (src/simulation) per wall minute, as `npm run sim`
 * runs them, with simulated minutes per wall second beside it. Each profile runs the same seeds
 * (0.25 simulated minutes of trading + the settle time, as in CI); the baseline in the same run is
 * the fault-free profile `none` on the same seeds (same market, strategies and limits, no faults).
 * Seeds alternate between profiles so that a change of machine load hits all of them alike.
 */
const SEEDS = Number(process.env["SIM_BENCH_SEEDS"] ?? 20)
const FROM = 5_000
const MINUTES = 0.25

export const benches: ReadonlyArray<Bench> = [
  {
    name: "sim.seeds_per_min",
    run: async () => {
      const profiles: ReadonlyArray<FaultProfile> = ["none", "safety", "liveness"]
      const wall = new Map<FaultProfile, number>(profiles.map((p) => [p, 0]))
      const simMs = new Map<FaultProfile, number>(profiles.map((p) => [p, 0]))
      const violations = new Map<FaultProfile, number>(profiles.map((p) => [p, 0]))
      await runSeed({ seed: FROM - 1, profile: "safety", minutes: MINUTES }) // warm-up (JIT, module init)
      for (let seed = FROM; seed < FROM + SEEDS; seed++) {
        for (const profile of profiles) {
          const start = performance.now()
          const r = await runSeed({ seed, profile, minutes: MINUTES })
          wall.set(profile, wall.get(profile)! + performance.now() - start)
          simMs.set(profile, simMs.get(profile)! + r.stats.simMs)
          violations.set(profile, violations.get(profile)! + r.violations.length)
        }
      }
      const perMin = (p: FaultProfile): number => (SEEDS / wall.get(p)!) * 60_000
      const simMinPerWallSec = (p: FaultProfile): number => simMs.get(p)! / 60_000 / (wall.get(p)! / 1000)
      const base = perMin("none")
      return profiles
        .filter((p) => p !== "none")
        .map(
          (p): Figure => ({
            name: `sim.seeds_per_min.${p}`,
            value: round(perMin(p), 1),
            unit: "seeds/min",
            baseline: "sim.seeds_per_min.none (same seeds, no faults)",
            baseline_value: round(base, 1),
            ratio: round(perMin(p) / base, 3),
            sim_minutes_per_wall_second: round(simMinPerWallSec(p), 2),
            baseline_sim_minutes_per_wall_second: round(simMinPerWallSec("none"), 2),
            seeds: SEEDS,
            simulated_minutes_per_seed: round(simMs.get(p)! / SEEDS / 60_000, 3),
            violations: violations.get(p)
          })
        )
    }
  }
]
