import { startKafka } from "./kafka-broker.js"
import { startPostgres } from "./postgres.js"

// `npm run services`: keeps a Kafka broker and a throwaway Postgres database up while developing.
const [kafka, postgres] = await Promise.all([startKafka(), startPostgres()])
process.stdout.write(`export KAFKA_BROKERS=${kafka.brokers.join(",")}\nexport DATABASE_URL=${postgres.url}\n(Ctrl-C stops them)\n`)
const stop = async (): Promise<void> => {
  await Promise.allSettled([kafka.stop(), postgres.stop()])
  process.exit(0)
}
process.on("SIGINT", () => void stop())
process.on("SIGTERM", () => void stop())
setInterval(() => undefined, 1 << 30)
