import { Context, Data, type Effect, type Stream } from "effect"

/**
 * The journal port: the write-ahead log every fact that matters goes through. Adapters: Kafka
 * (production) and the embedded file journal (`adapters/journal/file`). Payloads are opaque
 * bytes here; the event codec lives in `domain/`.
 */

export const JOURNAL_TOPICS = ["md", "orders", "strategy", "control"] as const
/** Logical topic name; an adapter may add a prefix (Kafka: `troupe.md`). */
export type JournalTopic = (typeof JOURNAL_TOPICS)[number]

export const isJournalTopic = (s: string): s is JournalTopic => (JOURNAL_TOPICS as readonly string[]).includes(s)

/**
 * A position in one partition of one topic. `offset` is a non-negative int64 as decimal text
 * (Kafka's own representation; JSON-safe for snapshot `offsets` columns). The file journal has
 * one partition per topic: `partition` is always 0 there.
 *
 * As a read/resume position it means "the record at this offset"; `endOffsets()` and the audit
 * high watermark are exclusive (the offset the next record will get), so they can be passed to
 * `read` unchanged.
 */
export interface JournalOffset {
  readonly topic: JournalTopic
  readonly partition: number
  readonly offset: string
}

export const journalOffset = (topic: JournalTopic, partition: number, offset: bigint | number): JournalOffset => ({
  topic,
  partition,
  offset: BigInt(offset).toString()
})

/** The offset after `o` (where a consumer resumes once `o` is applied). */
export const nextOffset = (o: JournalOffset): JournalOffset => ({ ...o, offset: (BigInt(o.offset) + 1n).toString() })

/** Orders two offsets of the same topic and partition; throws on a mix-up, which is a bug. */
export const compareOffsets = (a: JournalOffset, b: JournalOffset): -1 | 0 | 1 => {
  if (a.topic !== b.topic || a.partition !== b.partition) {
    throw new Error(`cannot compare offsets of ${a.topic}/${a.partition} and ${b.topic}/${b.partition}`)
  }
  const x = BigInt(a.offset)
  const y = BigInt(b.offset)
  return x < y ? -1 : x > y ? 1 : 0
}

export interface JournalRecord {
  readonly offset: JournalOffset
  /** Partition key: instrument for `md`, `account/instrument` for `orders`. */
  readonly key: string
  readonly payload: Uint8Array
  /** Append time in ms since the epoch, from the injected clock. */
  readonly ts: number
}

export interface AppendOptions {
  /**
   * Write-ahead: the effect succeeds only once the record is durable (file journal: fsynced;
   * Kafka: acknowledged by all in-sync replicas). Durable appends are group-committed, so
   * concurrent appends share one fsync / one broker round trip.
   */
  readonly durable: boolean
}

export interface JournalEntry {
  readonly key: string
  readonly payload: Uint8Array
}

// ---- errors -------------------------------------------------------------------------------

/** The medium failed (disk, broker). After a failed fsync the adapter refuses further appends. */
export class JournalIoError extends Data.TaggedError("JournalIoError")<{
  readonly op: "open" | "append" | "sync" | "read" | "close" | "prune" | "stat"
  readonly topic: JournalTopic | undefined
  readonly cause: unknown
}> {
  override get message(): string {
    const cause = this.cause instanceof Error ? this.cause.message : String(this.cause)
    return `journal ${this.op}${this.topic === undefined ? "" : ` on ${this.topic}`} failed: ${cause}`
  }
}

/** A stored record failed its checksum somewhere other than the repairable tail. */
export class JournalCorruptError extends Data.TaggedError("JournalCorruptError")<{
  readonly topic: JournalTopic
  readonly location: string
  readonly reason: string
}> {
  override get message(): string {
    return `journal ${this.topic} corrupt at ${this.location}: ${this.reason}`
  }
}

/** A read position outside the log, or a partition the adapter does not have. */
export class JournalOffsetError extends Data.TaggedError("JournalOffsetError")<{
  readonly requested: JournalOffset
  readonly reason: string
}> {
  override get message(): string {
    return `journal offset ${this.requested.topic}/${this.requested.partition}@${this.requested.offset}: ${this.reason}`
  }
}

export class JournalClosedError extends Data.TaggedError("JournalClosedError")<{ readonly op: string }> {
  override get message(): string {
    return `journal is closed (${this.op})`
  }
}

export type JournalError = JournalIoError | JournalCorruptError | JournalOffsetError | JournalClosedError

// ---- the service --------------------------------------------------------------------------

export interface JournalService {
  readonly append: (topic: JournalTopic, key: string, payload: Uint8Array, options: AppendOptions) => Effect.Effect<JournalOffset, JournalError>
  /**
   * The same as `append`, as a plain Promise (rejecting with a JournalError): the hot path of a
   * caller that lives outside Effect (one fiber less per record). Optional for adapters.
   */
  readonly appendNow?: (topic: JournalTopic, key: string, payload: Uint8Array, options: AppendOptions) => Promise<JournalOffset>
  /**
   * Appends in the caller's turn when the record can be made as durable as the adapter's policy
   * promises right now (the file journal under `os` durability: written to the OS with nothing
   * queued before it) and returns its offset; `undefined` when it cannot — nothing was appended,
   * use `appendNow`/`append`. Throws a JournalError when the write itself failed. Optional.
   */
  readonly appendWritten?: (topic: JournalTopic, key: string, payload: Uint8Array, options: AppendOptions) => JournalOffset | undefined
  /** Appends in order; the offsets are contiguous per partition (all-or-error, not atomic). */
  readonly appendBatch: (topic: JournalTopic, entries: ReadonlyArray<JournalEntry>, options: AppendOptions) => Effect.Effect<ReadonlyArray<JournalOffset>, JournalError>
  /**
   * Records of one partition from `from` (inclusive) up to the end offset at the time the
   * stream starts, in offset order. Finite: this is the replay path of recovery, not a tail.
   */
  readonly read: (from: JournalOffset) => Stream.Stream<JournalRecord, JournalError>
  /** Per topic and partition, the offset the next appended record will get (exclusive end). */
  readonly endOffsets: () => Effect.Effect<ReadonlyArray<JournalOffset>, JournalError>
  /**
   * Per topic and partition, the first offset still held: above 0 once retention deleted older
   * records. Absent in an adapter that never deletes (every journal then starts at 0).
   */
  readonly startOffsets?: () => Effect.Effect<ReadonlyArray<JournalOffset>, JournalError>
  /** Flushes and syncs what is pending, then releases files/connections. Idempotent. */
  readonly close: () => Effect.Effect<void>
}

export class Journal extends Context.Tag("troupe/Journal")<Journal, JournalService>() {}
