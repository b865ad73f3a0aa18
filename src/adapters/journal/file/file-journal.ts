import { Effect, Layer, Stream } from "effect"
import { TroupeClock } from "../../../actors/clock.js"
import {
  Journal,
  JOURNAL_TOPICS,
  JournalClosedError,
  JournalCorruptError,
  JournalIoError,
  journalOffset,
  JournalOffsetError,
  type JournalError,
  type JournalOffset,
  type JournalRecord,
  type JournalService,
  type JournalTopic
} from "../../../actors/ports/journal.js"
import { TopicLog, type FsyncPolicy, type PruneResult, type TailRepair } from "./topic-log.js"

export type { FsyncPolicy, PruneResult, TailRepair } from "./topic-log.js"

/**
 * The embedded journal: `<dir>/<topic>/` per topic, one partition each, append-only segment
 * files with checksummed records. It is the default when no Kafka broker is configured.
 */
export interface FileJournalConfig {
  readonly dir: string
  readonly fsync: FsyncPolicy
  /** A segment rolls when the next write would take it past this size. Default 64 MiB. */
  readonly segmentBytes?: number
  /** One sparse index entry per this many bytes of log. Default 4 KiB. */
  readonly indexIntervalBytes?: number
  readonly groupCommitWindowMs?: number
  /** Record timestamps; the layer passes the injected `TroupeClock`. Default `Date.now`. */
  readonly now?: () => number
}

export interface FileJournalStats {
  readonly fsyncs: number
  readonly writes: number
}

export interface FileJournal extends JournalService {
  /** Torn tails cut off when the journal was opened (one per affected topic). */
  readonly repairs: ReadonlyArray<TailRepair>
  /** Counters since open: lets tests and metrics see group commit at work. */
  readonly stats: () => FileJournalStats
  /**
   * Retention (see `daemon/journal-retention.ts` for the policy): per topic, deletes the oldest
   * sealed segments that hold only offsets below `keepFrom[topic]` (absent: nothing below is
   * known to be covered, so nothing is deleted) and ended at or before `olderThan` (record time),
   * or that take the topic past `maxBytes[topic]`.
   */
  readonly prune: (rule: {
    readonly keepFrom: Partial<Record<JournalTopic, number>>
    readonly olderThan: number
    readonly maxBytes?: Partial<Record<JournalTopic, number>>
  }) => Effect.Effect<ReadonlyArray<PruneResult>, JournalIoError>
  /** Bytes of segment files on disk, per topic. */
  readonly diskBytes: () => Effect.Effect<Readonly<Record<JournalTopic, number>>, JournalIoError>
}

const PARTITION = 0

const toJournalError = (topic: JournalTopic, op: "append" | "read") => (e: unknown): JournalError =>
  e instanceof JournalIoError || e instanceof JournalCorruptError || e instanceof JournalClosedError || e instanceof JournalOffsetError
    ? e
    : new JournalIoError({ op, topic, cause: e })

export const openFileJournal = (config: FileJournalConfig): Effect.Effect<FileJournal, JournalIoError> =>
  Effect.gen(function* () {
    const stats = { fsyncs: 0, writes: 0 }
    const logs = new Map<JournalTopic, TopicLog>()
    const repairs: TailRepair[] = []
    for (const topic of JOURNAL_TOPICS) {
      const opened = yield* Effect.tryPromise({
        try: () =>
          TopicLog.open({
            root: config.dir,
            topic,
            fsync: config.fsync,
            segmentBytes: config.segmentBytes ?? 64 * 1024 * 1024,
            indexIntervalBytes: config.indexIntervalBytes ?? 4096,
            groupCommitWindowMs: config.groupCommitWindowMs ?? 0,
            now: config.now ?? Date.now,
            stats
          }),
        catch: (cause) => new JournalIoError({ op: "open", topic, cause })
      }).pipe(Effect.tapError(() => Effect.promise(() => Promise.allSettled([...logs.values()].map((l) => l.close())))))
      logs.set(topic, opened.log)
      if (opened.repair !== undefined) repairs.push(opened.repair)
    }
    const log = (topic: JournalTopic): TopicLog => logs.get(topic) as TopicLog
    let closed = false

    const appendAll = (topic: JournalTopic, entries: ReadonlyArray<{ key: string; payload: Uint8Array }>, durable: boolean): Effect.Effect<number, JournalError> =>
      closed
        ? Effect.fail(new JournalClosedError({ op: "append" }))
        : Effect.tryPromise({ try: () => log(topic).append(entries, durable), catch: toJournalError(topic, "append") })

    const journal: FileJournal = {
      repairs,
      stats: () => ({ ...stats }),
      append: (topic, key, payload, { durable }) =>
        appendAll(topic, [{ key, payload }], durable).pipe(Effect.map((o) => journalOffset(topic, PARTITION, o))),
      appendNow: (topic, key, payload, { durable }) =>
        closed
          ? Promise.reject(new JournalClosedError({ op: "append" }))
          : log(topic)
              .append([{ key, payload }], durable)
              .then(
                (o) => journalOffset(topic, PARTITION, o),
                (e: unknown) => Promise.reject(toJournalError(topic, "append")(e))
              ),
      appendWritten: (topic, key, payload) => {
        if (closed) throw new JournalClosedError({ op: "append" })
        let o: number
        try {
          o = log(topic).appendWritten(key, payload)
        } catch (e) {
          throw toJournalError(topic, "append")(e)
        }
        return o < 0 ? undefined : journalOffset(topic, PARTITION, o)
      },
      appendBatch: (topic, entries, { durable }) =>
        appendAll(topic, entries, durable).pipe(Effect.map((first) => entries.map((_, i) => journalOffset(topic, PARTITION, first + i)))),
      read: (from: JournalOffset): Stream.Stream<JournalRecord, JournalError> => {
        const topic = from.topic
        const start = /^\d{1,15}$/.test(from.offset) ? Number(from.offset) : Number.NaN
        if (closed) return Stream.fail(new JournalClosedError({ op: "read" }))
        if (from.partition !== PARTITION) return Stream.fail(new JournalOffsetError({ requested: from, reason: "the file journal has only partition 0" }))
        if (!Number.isSafeInteger(start)) return Stream.fail(new JournalOffsetError({ requested: from, reason: "not a non-negative integer offset" }))
        const end = log(topic).endOffset
        if (start > end) return Stream.fail(new JournalOffsetError({ requested: from, reason: `beyond the end offset ${end}` }))
        const first = log(topic).startOffset
        if (start < first && start < end) return Stream.fail(new JournalOffsetError({ requested: from, reason: `deleted by retention: the topic starts at offset ${first}` }))
        return Stream.fromAsyncIterable(
          { [Symbol.asyncIterator]: () => log(topic).readBatches(start) },
          toJournalError(topic, "read")
        ).pipe(Stream.mapConcat((batch) => batch.map((r) => ({ offset: journalOffset(topic, PARTITION, r.offset), key: r.key, payload: r.payload, ts: r.ts }))))
      },
      endOffsets: () => Effect.sync(() => JOURNAL_TOPICS.map((t) => journalOffset(t, PARTITION, log(t).endOffset))),
      startOffsets: () => Effect.sync(() => JOURNAL_TOPICS.map((t) => journalOffset(t, PARTITION, log(t).startOffset))),
      prune: (rule) =>
        Effect.forEach(JOURNAL_TOPICS, (topic) => {
          const keepFrom = rule.keepFrom[topic] ?? 0
          const maxBytes = rule.maxBytes?.[topic]
          return Effect.tryPromise({ try: () => log(topic).prune(keepFrom, rule.olderThan, maxBytes), catch: (cause) => new JournalIoError({ op: "prune", topic, cause }) })
        }),
      diskBytes: () =>
        Effect.forEach(JOURNAL_TOPICS, (topic) =>
          Effect.tryPromise({ try: () => log(topic).diskBytes(), catch: (cause) => new JournalIoError({ op: "stat", topic, cause }) }).pipe(Effect.map((b) => [topic, b] as const))
        ).pipe(Effect.map((e) => Object.fromEntries(e) as Record<JournalTopic, number>)),
      close: () =>
        Effect.suspend(() => {
          if (closed) return Effect.void
          closed = true
          return Effect.promise(() => Promise.allSettled([...logs.values()].map((l) => l.close()))).pipe(Effect.asVoid)
        })
    }
    return journal
  })

/** The file journal as the `Journal` service, closed (flushed and synced) with its scope. */
export const FileJournalLive = (config: Omit<FileJournalConfig, "now">): Layer.Layer<Journal, JournalIoError, TroupeClock> =>
  Layer.scoped(
    Journal,
    Effect.gen(function* () {
      const clock = yield* TroupeClock
      return yield* Effect.acquireRelease(openFileJournal({ ...config, now: clock.now }), (j) => j.close())
    })
  )
