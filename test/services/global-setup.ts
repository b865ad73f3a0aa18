import type { TestProject } from "vitest/node"
import { ensureBuild } from "./build.js"
import { ensureChromium } from "./chromium.js"
import { startKafka, type KafkaService } from "./kafka-broker.js"
import { startPostgres, type PostgresService } from "./postgres.js"

declare module "vitest" {
  export interface ProvidedContext {
    kafkaBrokers: string
    databaseUrl: string
  }
}

/**
 * Brings up the real services the integration tests use — a Kafka broker (KRaft) and a
 * throwaway Postgres database, and Debian's chromium for the browser tests — and tears them down after the run. Set
 * TROUPE_TEST_SERVICES=none to run only the unit tests quickly while developing.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (process.env.TROUPE_TEST_SERVICES === "none") {
    project.provide("kafkaBrokers", "")
    project.provide("databaseUrl", "")
    return async () => undefined
  }
  ensureBuild((msg) => process.stderr.write(`[services] ${msg}\n`))
  ensureChromium()
  const [kafka, postgres]: [KafkaService, PostgresService] = await Promise.all([startKafka(), startPostgres()])
  project.provide("kafkaBrokers", kafka.brokers.join(","))
  project.provide("databaseUrl", postgres.url)
  return async () => {
    await Promise.allSettled([kafka.stop(), postgres.stop()])
  }
}
