import { expect, it } from "vitest"
import { CI_SEEDS, runCiSeeds } from "./ci-seeds.js"

// The CI seed set, safety profile (faults all the way): every invariant holds on every seed.
it(`${CI_SEEDS} seeds of the safety profile keep every invariant`, async () => {
  const { reports, results } = await runCiSeeds("safety")
  expect(reports.join("\n")).toBe("")
  // The set exercises what it claims to: crashes, halts, journal outages, lost answers.
  const sum = (k: keyof (typeof results)[number]["faults"]): number => results.reduce((n, r) => n + r.faults[k], 0)
  for (const k of ["nodeCrash", "coreCrash", "operatorHalt", "journalAppendFailed", "timeoutUnknownOutcome", "reportDuplicated"] as const) expect(sum(k), k).toBeGreaterThan(0)
  expect(results.reduce((n, r) => n + r.stats.fills, 0)).toBeGreaterThan(100)
}, 600_000)
