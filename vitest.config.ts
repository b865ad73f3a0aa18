import { defineConfig } from "vitest/config"

// One run covers everything: pure unit tests and integration tests against the real
// Kafka broker and Postgres that the global setup starts (and stops) itself.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/services/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: "forks",
    // Two test files at a time: the process tests mostly wait on a daemon, a simulator or a
    // broker, so on a 2-core machine two files overlap well (vitest's default is cores - 1 = 1).
    // TROUPE_TEST_WORKERS=1 runs them one by one.
    maxWorkers: Number(process.env.TROUPE_TEST_WORKERS ?? 2),
    reporters: ["default"]
  }
})
