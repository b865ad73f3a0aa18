import { expect, it } from "vitest"
import { CI_SEEDS, runCiSeeds } from "./ci-seeds.js"

// The CI seed set, liveness profile (faults, then heal): every invariant holds, and the node
// converges — nothing in flight, its open orders the venue's — once the faults stop.
it(`${CI_SEEDS} seeds of the liveness profile keep every invariant and converge`, async () => {
  const { reports, results } = await runCiSeeds("liveness")
  expect(reports.join("\n")).toBe("")
  expect(results.reduce((n, r) => n + r.stats.submitted, 0)).toBeGreaterThan(100)
}, 600_000)
