import { randomBytes, randomUUID } from "node:crypto"
import { Effect } from "effect"
import { CompressionTypes, Kafka, logLevel, Partitioners, type Message } from "kafkajs"
import { openKafkaJournal } from "../src/adapters/journal/kafka/kafka-journal.js"
import { rateFigure, type Bench } from "./harness.js"

// journal.kafka_append: durable appends through the Kafka journal (1,000 concurrent appenders,
// each awaiting its offset before the next; the figure is the Promise path `appendNow` that the
// daemon's EventJournal uses, the Effect `append` path is reported beside it) against the raw kafkajs producer with the same
// guarantees (idempotent, acks=all, one request in flight) sending the same records in
// sendBatch calls of 1,000, on the same broker, in the same run. Best of 3 alternating rounds.

const RECORDS = 20_000
const CONCURRENCY = 1_000
const KEYS = 50
const ROUNDS = 3

// ~200 bytes, shaped like a msgpack-encoded order event: a fixmap with short keys, a few strings, numbers.
const payloads = Array.from({ length: RECORDS }, (_, i) => {
  const head = Buffer.from([0x8a, 0xa4, ...Buffer.from("kind"), 0xa9, ...Buffer.from("OrderFill"), 0xa3, ...Buffer.from("seq"), 0xce, (i >>> 24) & 0xff, (i >>> 16) & 0xff, (i >>> 8) & 0xff, i & 0xff])
  return new Uint8Array(Buffer.concat([head, randomBytes(200 - head.length)]))
})
const keyOf = (i: number): string => `acct-${i % 5}/PF_INST${i % KEYS}`

const journalRound = async (append: (key: string, payload: Uint8Array) => Promise<unknown>): Promise<number> => {
  let next = 0
  const start = performance.now()
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let i = next++; i < RECORDS; i = next++) await append(keyOf(i), payloads[i] as Uint8Array)
    })
  )
  return RECORDS / ((performance.now() - start) / 1000)
}

const runJournalBench = async (): Promise<ReturnType<typeof rateFigure>[]> => {
  const brokers = (process.env.KAFKA_BROKERS ?? "").split(",").filter((s) => s.length > 0)
  const prefix = `bench${randomUUID().slice(0, 8)}.`
  const journal = await Effect.runPromise(openKafkaJournal({ brokers, topicPrefix: prefix, logLevel: logLevel.NOTHING }))
  const kafka = new Kafka({ brokers, clientId: "bench-raw", logLevel: logLevel.NOTHING })
  const rawTopic = `${prefix}raw`
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic: rawTopic, numPartitions: journal.topics.get("orders")?.partitions ?? 6, replicationFactor: 1 }] })
  const raw = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner })
  await raw.connect()
  const messages: Message[] = payloads.map((p, i) => ({ key: keyOf(i), value: Buffer.from(p.buffer, p.byteOffset, p.byteLength) }))
  const rawRound = async (): Promise<number> => {
    const start = performance.now()
    for (let i = 0; i < RECORDS; i += CONCURRENCY) {
      await raw.sendBatch({ topicMessages: [{ topic: rawTopic, messages: messages.slice(i, i + CONCURRENCY) }], acks: -1, compression: CompressionTypes.None })
    }
    return RECORDS / ((performance.now() - start) / 1000)
  }
  const append = (key: string, payload: Uint8Array): Promise<unknown> => Effect.runPromise(journal.append("orders", key, payload, { durable: true }))
  const appendNow = (key: string, payload: Uint8Array): Promise<unknown> => journal.appendNow!("orders", key, payload, { durable: true })
  try {
    // Warm up both paths (connections, metadata, JIT).
    await rawRound()
    await journalRound(append)
    let bestRaw = 0
    let bestJournal = 0
    let bestNow = 0
    for (let r = 0; r < ROUNDS; r++) {
      bestRaw = Math.max(bestRaw, await rawRound())
      bestJournal = Math.max(bestJournal, await journalRound(append))
      bestNow = Math.max(bestNow, await journalRound(appendNow))
    }

    const stats = journal.health().durable
    return [
      rateFigure("journal.kafka_append", bestNow, "kafkajs idempotent producer sendBatch(1000), acks=all, 1 in flight", bestRaw, {
        path: "appendNow (the daemon's EventJournal path)",
        effect_append_msg_s: Math.round(bestJournal),
        effect_append_ratio: Math.round((bestJournal / bestRaw) * 1000) / 1000,
        records: RECORDS,
        concurrency: CONCURRENCY,
        payload_bytes: 200,
        records_per_request: Math.round(stats.records / Math.max(1, stats.requests))
      })
    ]
  } finally {
    await raw.disconnect().catch(() => undefined)
    await admin.disconnect().catch(() => undefined)
    await Effect.runPromise(journal.close())
  }
}

export const benches: ReadonlyArray<Bench> = [{ name: "journal.kafka_append", needs: ["kafka"], run: runJournalBench }]
