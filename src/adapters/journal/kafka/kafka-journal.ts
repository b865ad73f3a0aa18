import { Effect, Layer, Stream } from "effect"
import { Kafka, logLevel as kafkaLogLevel, Partitioners, type Admin, type RetryOptions } from "kafkajs"
import { kafkaLogSummary } from "./log-summary.js"
import { TroupeClock } from "../../../actors/clock.js"
import {
  Journal,
  JOURNAL_TOPICS,
  JournalClosedError,
  JournalIoError,
  journalOffset,
  type JournalEntry,
  type JournalError,
  type JournalOffset,
  type JournalService,
  type JournalTopic
} from "../../../actors/ports/journal.js"
import { partitionForKey } from "./partitioner.js"
import { fetchTopicOffsets, replay } from "./reader.js"
import { Writer, type WriteEntry, type WriterStats } from "./writer.js"

/**
 * The production journal on Kafka (kafkajs). Decisions belong in docs/architecture.md, "Journal
 * (Kafka adapter)". In short: topics are created up front; the key's partition is computed here
 * with Kafka's murmur2 partitioner; durable appends go through one idempotent producer whose
 * single writer loop group-commits everything pending into one `sendBatch` at a time; non-durable
 * appends use a second, plain producer the same way, so market data never delays an order.
 */
export interface KafkaJournalConfig {
  readonly brokers: ReadonlyArray<string>
  /** Default `troupe`. */
  readonly clientId?: string
  /** Kafka topic = prefix + journal topic. Default `troupe.`. */
  readonly topicPrefix?: string
  /** Partitions of topics this journal creates (existing topics keep theirs). */
  readonly partitions?: Partial<Record<JournalTopic, number>>
  /** Of created topics. Default 1 (a single test broker); 3 in production. */
  readonly replicationFactor?: number
  /** Retention of topics this journal creates (existing topics keep theirs); see DEFAULT_TOPIC_RETENTION. */
  readonly retention?: Partial<Record<JournalTopic, TopicRetention>>
  /** Bytes of records per produce request. Default 900 000 (under the broker's 1 MiB `message.max.bytes`). */
  readonly maxBatchBytes?: number
  /** Extra wait before a request to gather more appends; 0 = natural batching only (default). */
  readonly lingerMs?: number
  /** Durable records waiting for the writer before appends are refused. Default 200 000. */
  readonly maxQueuedDurable?: number
  /** Non-durable records waiting before they are refused (and counted as dropped). Default 50 000. */
  readonly maxQueuedFast?: number
  /** Broker-side ack timeout per request. Default 10 000 ms. */
  readonly ackTimeoutMs?: number
  /** kafkajs retry policy for connections and requests; see DEFAULT_RETRY. */
  readonly retry?: RetryOptions
  /** Record timestamps; the layer passes the injected `TroupeClock`. Default `Date.now`. */
  readonly now?: () => number
  readonly logLevel?: kafkaLogLevel
  /** Where kafkajs's own log goes, one line per kind of message (see `log-summary.ts`). Default stderr. */
  readonly log?: (line: string) => void
}

export const DEFAULT_PARTITIONS: Readonly<Record<JournalTopic, number>> = { md: 6, orders: 6, strategy: 1, control: 1 }

/** Kafka's `retention.ms` / `retention.bytes` (per partition) of a topic; -1 = unlimited. */
export interface TopicRetention {
  readonly ms: number
  readonly bytes: number
}

const DAY_MS = 86_400_000
const GIB = 1024 ** 3

/**
 * Explicit, never the broker's default (7 days, often changed cluster-wide). `orders` and
 * `control` are the record the ledger and the audit trail are rebuilt from: a year (snapshots
 * are taken every 30 s and the audit trail is kept forever in the store, so only a restore from
 * scratch reads that far). `md` is replay material: one day, 8 GiB per partition. `strategy`
 * records (quotes, signals) serve analysis: a week, 4 GiB per partition.
 */
export const DEFAULT_TOPIC_RETENTION: Readonly<Record<JournalTopic, TopicRetention>> = {
  orders: { ms: 365 * DAY_MS, bytes: -1 },
  control: { ms: 365 * DAY_MS, bytes: -1 },
  md: { ms: DAY_MS, bytes: 8 * GIB },
  strategy: { ms: 7 * DAY_MS, bytes: 4 * GIB }
}

/** The `configEntries` of a created topic. */
export const retentionEntries = (r: TopicRetention): Array<{ name: string; value: string }> => [
  { name: "retention.ms", value: String(r.ms) },
  { name: "retention.bytes", value: String(r.bytes) }
]

/**
 * Bounded: a durable append must fail (and the risk actor halt) within seconds when the broker
 * is gone, not wait forever. 100 ms doubling to 2 s, 6 retries: ~6 s before an append fails.
 */
export const DEFAULT_RETRY: RetryOptions = { initialRetryTime: 100, maxRetryTime: 2_000, retries: 6 }

export interface KafkaJournalHealth {
  /** False from a failed durable request until the next durable request succeeds. */
  readonly healthy: boolean
  readonly lastError: JournalIoError | undefined
  readonly durable: WriterStats
  readonly fast: WriterStats
}

export interface KafkaJournal extends JournalService {
  /** Kafka topic name and partition count per journal topic. */
  readonly topics: ReadonlyMap<JournalTopic, { readonly name: string; readonly partitions: number }>
  /** "No audit, no trade": the risk actor reads this before approving new risk. */
  readonly healthy: () => boolean
  readonly health: () => KafkaJournalHealth
  /**
   * Fire-and-forget non-durable append (market data recording): no offset, no promise. Returns
   * the typed error when the record was refused (writer backlog full, journal closed), or else
   * an earlier fire-and-forget failure not reported yet (returned once). Undefined: queued, and
   * nothing was lost since the last call that returned an error.
   */
  readonly publish: (topic: JournalTopic, key: string, payload: Uint8Array) => JournalIoError | JournalClosedError | undefined
  readonly partitionFor: (topic: JournalTopic, key: string) => number
}

const io = (op: JournalIoError["op"], topic: JournalTopic | undefined) => (cause: unknown) => new JournalIoError({ op, topic, cause })

const LEADER_WAIT_MS = 30_000

/** Creates the missing topics and waits until every partition of every topic has a leader. */
const ensureTopics = async (
  admin: Admin,
  names: ReadonlyMap<JournalTopic, string>,
  partitions: Record<JournalTopic, number>,
  replicationFactor: number,
  retention: Record<JournalTopic, TopicRetention>
): Promise<Map<JournalTopic, number>> => {
  const existing = new Set(await admin.listTopics())
  const missing = JOURNAL_TOPICS.filter((t) => !existing.has(names.get(t) as string))
  if (missing.length > 0) {
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((t) => ({ topic: names.get(t) as string, numPartitions: partitions[t], replicationFactor, configEntries: retentionEntries(retention[t]) }))
    })
  }
  const deadline = Date.now() + LEADER_WAIT_MS
  for (;;) {
    const meta = await admin.fetchTopicMetadata({ topics: JOURNAL_TOPICS.map((t) => names.get(t) as string) })
    const ready = meta.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))
    // A new partition's leader can show in metadata a moment before it serves: probe it.
    if (ready && (await Promise.all(JOURNAL_TOPICS.map((t) => admin.fetchTopicOffsets(names.get(t) as string).then(() => true, () => false)))).every(Boolean)) {
      const counts = new Map<JournalTopic, number>()
      for (const t of JOURNAL_TOPICS) counts.set(t, meta.topics.find((m) => m.name === names.get(t))?.partitions.length ?? 0)
      return counts
    }
    if (Date.now() > deadline) throw new Error(`journal topics have no leader after ${LEADER_WAIT_MS} ms`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

export const openKafkaJournal = (config: KafkaJournalConfig): Effect.Effect<KafkaJournal, JournalIoError> =>
  Effect.gen(function* () {
    const prefix = config.topicPrefix ?? "troupe."
    const retry = config.retry ?? DEFAULT_RETRY
    const now = config.now ?? Date.now
    const kafka = new Kafka({
      clientId: config.clientId ?? "troupe",
      brokers: [...config.brokers],
      retry,
      connectionTimeout: 3_000,
      requestTimeout: 30_000,
      logLevel: config.logLevel ?? kafkaLogLevel.ERROR,
      logCreator: kafkaLogSummary(config.log ?? ((line) => void process.stderr.write(`${line}\n`))).logCreator
    })
    const names = new Map(JOURNAL_TOPICS.map((t) => [t, prefix + t] as const))
    const admin = kafka.admin({ retry })
    const counts = yield* Effect.tryPromise({
      try: async () => {
        try {
          await admin.connect()
          // Unset: 3 replicas on a cluster of 3 brokers or more, else one per broker.
          const replication = config.replicationFactor ?? Math.min(3, (await admin.describeCluster()).brokers.length)
          return await ensureTopics(admin, names, { ...DEFAULT_PARTITIONS, ...config.partitions }, replication, { ...DEFAULT_TOPIC_RETENTION, ...config.retention })
        } catch (e) {
          await admin.disconnect().catch(() => undefined)
          throw e
        }
      },
      catch: io("open", undefined)
    })
    const topics = new Map(JOURNAL_TOPICS.map((t) => [t, { name: names.get(t) as string, partitions: counts.get(t) as number }] as const))

    let lastError: JournalIoError | undefined
    let durableHealthy = true
    let unreportedFastError: JournalIoError | undefined
    let closed = false

    // The partition is always set on the message; the partitioner is named only to pin the
    // kafkajs default (and silence its v2 migration warning).
    const durable = new Writer({
      name: "durable",
      // Idempotent: retries inside kafkajs cannot duplicate or reorder. maxInFlightRequests 1
      // and our single writer loop keep it to one request at a time (kafkajs#1005).
      connect: async () => {
        const p = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, retry, createPartitioner: Partitioners.DefaultPartitioner })
        await p.connect()
        return p
      },
      acks: -1,
      ackTimeoutMs: config.ackTimeoutMs ?? 10_000,
      maxBatchBytes: config.maxBatchBytes ?? 900_000,
      maxQueued: config.maxQueuedDurable ?? 200_000,
      lingerMs: config.lingerMs ?? 0,
      onResult: (e) => {
        durableHealthy = e === undefined
        if (e !== undefined) lastError = e
      }
    })
    const fast = new Writer({
      name: "fast",
      // Leader ack only and not idempotent: a retry after a lost response may duplicate a market
      // data record (consumers dedupe by venue sequence); one request at a time keeps key order.
      connect: async () => {
        const p = kafka.producer({ idempotent: false, maxInFlightRequests: 1, allowAutoTopicCreation: false, retry, createPartitioner: Partitioners.DefaultPartitioner })
        await p.connect()
        return p
      },
      acks: 1,
      ackTimeoutMs: config.ackTimeoutMs ?? 10_000,
      maxBatchBytes: config.maxBatchBytes ?? 900_000,
      maxQueued: config.maxQueuedFast ?? 50_000,
      lingerMs: config.lingerMs ?? 0,
      onResult: (e) => {
        if (e !== undefined) {
          lastError = e
          unreportedFastError ??= e
        }
      }
    })
    yield* Effect.tryPromise({
      try: () => Promise.all([durable.start(), fast.start()]),
      catch: io("open", undefined)
    }).pipe(Effect.tapError(() => Effect.promise(() => Promise.allSettled([durable.close(), fast.close(), admin.disconnect()]))))

    const info = (topic: JournalTopic) => topics.get(topic) as { readonly name: string; readonly partitions: number }
    const partitionFor = (topic: JournalTopic, key: string): number => {
      const n = info(topic).partitions
      return n === 1 ? 0 : partitionForKey(key, n)
    }
    const toWrite = (topic: JournalTopic, entries: ReadonlyArray<JournalEntry>): WriteEntry[] =>
      entries.map((e) => ({ key: e.key, payload: e.payload, partition: partitionFor(topic, e.key) }))

    const appendAll = (topic: JournalTopic, entries: ReadonlyArray<JournalEntry>, isDurable: boolean): Effect.Effect<ReadonlyArray<JournalOffset>, JournalError> =>
      Effect.suspend(() => {
        const write = toWrite(topic, entries)
        return Effect.tryPromise({
          try: () => (isDurable ? durable : fast).write(topic, info(topic).name, write, now(), true),
          catch: (e) => (e instanceof JournalIoError || e instanceof JournalClosedError ? e : new JournalIoError({ op: "append", topic, cause: e }))
        }).pipe(Effect.map((offsets) => offsets.map((offset, i) => ({ topic, partition: (write[i] as WriteEntry).partition, offset }))))
      })

    const journal: KafkaJournal = {
      topics,
      healthy: () => !closed && durableHealthy,
      health: () => ({ healthy: !closed && durableHealthy, lastError, durable: durable.stats(), fast: fast.stats() }),
      partitionFor,
      publish: (topic, key, payload) => {
        const refused = fast.write(topic, info(topic).name, [{ key, payload, partition: partitionFor(topic, key) }], now(), false)
        if (refused !== undefined) return refused
        const earlier = unreportedFastError
        unreportedFastError = undefined
        return earlier
      },
      append: (topic, key, payload, { durable: d }) =>
        appendAll(topic, [{ key, payload }], d).pipe(Effect.map((offsets) => offsets[0] as JournalOffset)),
      appendNow: (topic, key, payload, { durable: d }) => {
        const partition = partitionFor(topic, key)
        return (d ? durable : fast).write(topic, info(topic).name, [{ key, payload, partition }], now(), true).then(
          (offsets) => ({ topic, partition, offset: offsets[0] as string }),
          (e: unknown) => Promise.reject(e instanceof JournalIoError || e instanceof JournalClosedError ? e : new JournalIoError({ op: "append", topic, cause: e }))
        )
      },
      appendBatch: (topic, entries, { durable: d }) => appendAll(topic, entries, d),
      read: (from) =>
        closed
          ? Stream.fail(new JournalClosedError({ op: "read" }))
          : replay({ kafka, admin, kafkaTopic: info(from.topic).name, partitions: info(from.topic).partitions, groupPrefix: prefix, retry }, from),
      endOffsets: () =>
        Effect.suspend(() => (closed ? Effect.fail(new JournalClosedError({ op: "endOffsets" })) : Effect.void)).pipe(
          Effect.zipRight(Effect.forEach(JOURNAL_TOPICS, (topic) =>
          Effect.tryPromise({ try: () => fetchTopicOffsets(admin, info(topic).name), catch: io("read", topic) }).pipe(
            Effect.map((offsets) => [...offsets].sort((a, b) => a.partition - b.partition).map((o) => journalOffset(topic, o.partition, BigInt(o.high))))
          )
        )),
          Effect.map((perTopic) => perTopic.flat())
        ),
      startOffsets: () =>
        Effect.suspend(() => (closed ? Effect.fail(new JournalClosedError({ op: "endOffsets" })) : Effect.void)).pipe(
          Effect.zipRight(Effect.forEach(JOURNAL_TOPICS, (topic) =>
            Effect.tryPromise({ try: () => fetchTopicOffsets(admin, info(topic).name), catch: io("read", topic) }).pipe(
              Effect.map((offsets) => [...offsets].sort((a, b) => a.partition - b.partition).map((o) => journalOffset(topic, o.partition, BigInt(o.low))))
            )
          )),
          Effect.map((perTopic) => perTopic.flat())
        ),
      close: () =>
        Effect.suspend(() => {
          if (closed) return Effect.void
          closed = true
          return Effect.promise(() => Promise.allSettled([durable.close(), fast.close()]).then(() => admin.disconnect().catch(() => undefined)))
        })
    }
    return journal
  })

/** The Kafka journal as the `Journal` service, flushed and disconnected with its scope. */
export const KafkaJournalLive = (config: Omit<KafkaJournalConfig, "now">): Layer.Layer<Journal, JournalIoError, TroupeClock> =>
  Layer.scoped(
    Journal,
    Effect.gen(function* () {
      const clock = yield* TroupeClock
      return yield* Effect.acquireRelease(openKafkaJournal({ ...config, now: clock.now }), (j) => j.close())
    })
  )
