import { randomUUID } from "node:crypto"
import { Chunk, Effect, Queue, Stream, Take } from "effect"
import type { Admin, Consumer, EachBatchPayload, Kafka, RetryOptions } from "kafkajs"
import { JournalIoError, journalOffset, JournalOffsetError, type JournalError, type JournalOffset, type JournalRecord } from "../../../actors/ports/journal.js"

/**
 * Replay of one partition from an offset up to the partition's end offset when the read
 * starts. kafkajs has no `assign()`: each read is a consumer in a group of its own (unique id,
 * nothing committed, so the broker forgets the group when it leaves), subscribed to the topic,
 * with a `seek` on the wanted partition and the other partitions paused.
 */

export interface ReplayDeps {
  readonly kafka: Kafka
  readonly admin: Admin
  readonly kafkaTopic: string
  readonly partitions: number
  readonly groupPrefix: string
  readonly retry: RetryOptions
}

const EMPTY = new Uint8Array(0)
const MAX_RESTARTS = 5

/**
 * `admin.fetchTopicOffsets` with a few retries of retriable errors: kafkajs does not refresh
 * its metadata on NOT_LEADER here, and a leader that just moved (or a topic just created)
 * answers that for a moment.
 */
export const fetchTopicOffsets = async (admin: Admin, topic: string): ReturnType<Admin["fetchTopicOffsets"]> => {
  for (let attempt = 0; ; attempt++) {
    try {
      return await admin.fetchTopicOffsets(topic)
    } catch (e) {
      if (attempt >= 5 || (e as { retriable?: unknown }).retriable !== true) throw e
      await new Promise((r) => setTimeout(r, 100 * 2 ** attempt))
    }
  }
}

export const replay = (deps: ReplayDeps, from: JournalOffset): Stream.Stream<JournalRecord, JournalError> =>
  Stream.unwrapScoped(
    Effect.gen(function* () {
      const { topic, partition } = from
      if (!Number.isInteger(partition) || partition < 0 || partition >= deps.partitions) {
        return yield* new JournalOffsetError({ requested: from, reason: `${deps.kafkaTopic} has partitions 0..${deps.partitions - 1}` })
      }
      if (!/^\d{1,19}$/.test(from.offset)) return yield* new JournalOffsetError({ requested: from, reason: "not a non-negative integer offset" })
      const start = BigInt(from.offset)
      const offsets = yield* Effect.tryPromise({
        try: () => fetchTopicOffsets(deps.admin, deps.kafkaTopic),
        catch: (cause) => new JournalIoError({ op: "read", topic, cause })
      })
      const p = offsets.find((o) => o.partition === partition)
      if (p === undefined) return yield* new JournalOffsetError({ requested: from, reason: `${deps.kafkaTopic} has no partition ${partition}` })
      const end = BigInt(p.high)
      if (start > end) return yield* new JournalOffsetError({ requested: from, reason: `beyond the end offset ${end}` })
      if (start < BigInt(p.low)) return yield* new JournalOffsetError({ requested: from, reason: `before the log start offset ${p.low} (deleted by retention)` })
      if (start === end) return Stream.empty

      const queue = yield* Queue.bounded<Take.Take<JournalRecord, JournalError>>(8)
      const offer = (take: Take.Take<JournalRecord, JournalError>): Promise<void> =>
        Effect.runPromise(Queue.offer(queue, take)).then(
          () => undefined,
          () => undefined // the stream was closed early: nobody wants the rest
        )
      let done = false

      const eachBatch = async ({ batch }: EachBatchPayload): Promise<void> => {
        if (done || batch.partition !== partition) return
        const out: JournalRecord[] = []
        let last = -1n
        for (const m of batch.messages) {
          const o = BigInt(m.offset)
          // A fetch may return a whole record batch that starts before the seek position.
          if (o < start) continue
          if (o >= end) break
          last = o
          out.push({ offset: journalOffset(topic, partition, o), key: m.key?.toString("utf8") ?? "", payload: m.value ?? EMPTY, ts: Number(m.timestamp) })
        }
        const reached = last + 1n >= end || BigInt(batch.lastOffset()) + 1n >= end
        if (out.length > 0) await offer(Take.chunk(Chunk.unsafeFromArray(out)))
        if (reached && !done) {
          done = true
          await offer(Take.end)
        }
      }

      yield* Effect.acquireRelease(
        Effect.tryPromise({
          try: async () => {
            let restarts = 0
            const consumer: Consumer = deps.kafka.consumer({
              groupId: `${deps.groupPrefix}replay.${randomUUID()}`,
              allowAutoTopicCreation: false,
              maxWaitTimeInMs: 100,
              // A retriable crash (e.g. the group coordinator still loading on a fresh broker)
              // restarts the consumer a few times; after that the stream fails.
              retry: { ...deps.retry, restartOnFailure: async () => ++restarts <= MAX_RESTARTS }
            })
            // Seek on every (re)join: a restarted consumer has lost the previous seek.
            consumer.on(consumer.events.GROUP_JOIN, () => {
              consumer.seek({ topic: deps.kafkaTopic, partition, offset: start.toString() })
              const others = Array.from({ length: deps.partitions }, (_, i) => i).filter((i) => i !== partition)
              if (others.length > 0) consumer.pause([{ topic: deps.kafkaTopic, partitions: others }])
            })
            consumer.on(consumer.events.CRASH, (event) => {
              if (!done && !event.payload.restart) {
                done = true
                void offer(Take.fail(new JournalIoError({ op: "read", topic, cause: event.payload.error })))
              }
            })
            try {
              await consumer.connect()
              // fromBeginning only matters before the seek applies; records before it are skipped.
              await consumer.subscribe({ topics: [deps.kafkaTopic], fromBeginning: true })
              await consumer.run({ autoCommit: false, eachBatchAutoResolve: true, eachBatch })
            } catch (e) {
              await consumer.disconnect().catch(() => undefined)
              throw e
            }
            return consumer
          },
          catch: (cause) => new JournalIoError({ op: "read", topic, cause })
        }),
        (consumer) => Effect.promise(() => consumer.disconnect().catch(() => undefined))
      )
      // Runs before the consumer's release: a handler blocked on a full queue gives up first.
      yield* Effect.addFinalizer(() => Queue.shutdown(queue))
      return Stream.fromQueue(queue).pipe(Stream.flattenTake)
    })
  )
