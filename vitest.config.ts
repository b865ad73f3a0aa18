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
    reporters: ["default"]
  }
})
