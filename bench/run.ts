import { readdir } from "node:fs/promises"
import { fileURLToPath } from "node:url"
import { startKafka, type KafkaService } from "../test/services/kafka-broker.js"
import { startPostgres, type PostgresService } from "../test/services/postgres.js"
import { emit, type Bench } from "./harness.js"

// Runs every `bench/*.bench.ts` (or those whose name contains one of the comma-separated argv[2])
// and prints JSON lines.
// Benches that need Kafka or Postgres get the same real services the tests use, started here.
const dir = fileURLToPath(new URL(".", import.meta.url))
const filters = (process.argv[2] ?? "").split(",").filter((f) => f !== "")
const files = (await readdir(dir)).filter((f) => f.endsWith(".bench.ts")).sort()
const selected: Bench[] = []
for (const file of files) {
  const mod = (await import(new URL(file, import.meta.url).href)) as { benches?: ReadonlyArray<Bench> }
  for (const bench of mod.benches ?? []) if (filters.length === 0 || filters.some((f) => bench.name.includes(f))) selected.push(bench)
}

const needs = new Set(selected.flatMap((b) => b.needs ?? []))
let kafka: KafkaService | undefined
let postgres: PostgresService | undefined
try {
  if (needs.has("kafka")) {
    kafka = await startKafka()
    process.env.KAFKA_BROKERS = kafka.brokers.join(",")
  }
  if (needs.has("postgres")) {
    postgres = await startPostgres()
    process.env.DATABASE_URL = postgres.url
  }
  for (const bench of selected) {
    process.stderr.write(`bench ${bench.name}...\n`)
    for (const figure of await bench.run()) emit(figure)
  }
} finally {
  await Promise.allSettled([kafka?.stop(), postgres?.stop()])
}

// Every bench closes what it opened, so the process ends here by itself. If something still holds
// the event loop 10 s later, name it and fail rather than hang (the timer itself holds nothing).
setTimeout(() => {
  process.stderr.write(`bench: still running 10 s after the last bench; open resources: ${process.getActiveResourcesInfo().join(", ")}\n`)
  process.exit(1)
}, 10_000).unref()
