import { readdir } from "node:fs/promises"
import { fileURLToPath } from "node:url"
import { startKafka, type KafkaService } from "../test/services/kafka-broker.js"
import { startPostgres, type PostgresService } from "../test/services/postgres.js"
import { emit, type Bench } from "./harness.js"

// Runs every `bench/*.bench.ts` (or those whose name contains argv[2]) and prints JSON lines.
// Benches that need Kafka or Postgres get the same real services the tests use, started here.
const dir = fileURLToPath(new URL(".", import.meta.url))
const filter = process.argv[2]
const files = (await readdir(dir)).filter((f) => f.endsWith(".bench.ts")).sort()
const selected: Bench[] = []
for (const file of files) {
  const mod = (await import(new URL(file, import.meta.url).href)) as { benches?: ReadonlyArray<Bench> }
  for (const bench of mod.benches ?? []) if (!filter || bench.name.includes(filter)) selected.push(bench)
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
