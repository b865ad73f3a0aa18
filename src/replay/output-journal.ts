import { closeSync, mkdirSync, openSync, writeSync } from "node:fs"
import { join } from "node:path"
import { Effect, Stream } from "effect"
import { JournalClosedError, JournalIoError, JOURNAL_TOPICS, journalOffset, type JournalService, type JournalTopic } from "../actors/ports/journal.js"
import { encodeRecord } from "../adapters/journal/file/record.js"
import { IndexBuilder, segmentFile, writeIndexFile, type IndexEntry } from "../adapters/journal/file/segment.js"

/**
 * The replay's output journal: the file journal's on-disk layout (`<topic>/<base>.log` segments
 * of checksummed records, `.idx` for sealed segments; `adapters/journal/file`), written by one
 * buffered writer instead of the file journal's `TopicLog`.
 *
 * Why: the file journal issues one write per `append` call and stamps a call's records with the
 * time of the call; a replay appends an event at a time (four strategy records per book update
 * with Avellaneda–Stoikov), so the writes were the cost, and batching the calls would change the
 * record times. Here every record is encoded when appended, with its own offset and simulated
 * time, and the encoded records go to the OS in large synchronous writes. The files are byte for
 * byte those the file journal would have written for the same appends (same records, offsets,
 * segment boundaries and index entries), and `openFileJournal` / `troupe report` read them.
 *
 * Not a write-ahead log (see docs/architecture.md "Replay"): an append succeeds before its bytes
 * reach the OS, nothing is fsynced. A failed write is kept: later appends, `flush` and `close`
 * fail with it, so a replay whose output could not be written does not report success. The
 * journal is write-only while the run lasts (`read` fails); read the directory afterwards.
 */
export interface ReplayOutputJournal extends JournalService {
  /** Writes every buffered record to the OS. */
  readonly flush: () => Effect.Effect<void, JournalIoError>
}

export interface ReplayOutputJournalOptions {
  /** As the file journal's `segmentBytes` (default 64 MiB, the file journal's default). */
  readonly segmentBytes?: number
  /** As the file journal's `indexIntervalBytes` (default 4 KiB). */
  readonly indexIntervalBytes?: number
  /** Buffered bytes per topic before a write (default 1 MiB). */
  readonly writeBytes?: number
}

class TopicWriter {
  private readonly dir: string
  private fd: number
  private base = 0
  private bytes = 0
  private index: IndexBuilder
  readonly sealed: Array<{ readonly base: number; readonly entries: ReadonlyArray<IndexEntry> }> = []
  private chunk: Buffer[] = []
  private chunkBytes = 0
  next = 0

  constructor(
    root: string,
    readonly topic: JournalTopic,
    private readonly o: Required<ReplayOutputJournalOptions>
  ) {
    this.index = new IndexBuilder(o.indexIntervalBytes)
    this.dir = join(root, topic)
    mkdirSync(this.dir, { recursive: true })
    // "wx": an output directory never holds a previous run (a journal starts at offset 0).
    this.fd = openSync(join(this.dir, segmentFile(0)), "wx")
  }

  append(key: string, payload: Uint8Array, ts: number): number {
    const offset = this.next
    const buf = encodeRecord(offset, ts, key, payload)
    // The file journal's roll rule: a segment that holds something never goes past its size.
    if (this.bytes + this.chunkBytes > 0 && this.bytes + this.chunkBytes + buf.length > this.o.segmentBytes) this.roll(offset)
    this.index.add(offset, this.bytes + this.chunkBytes)
    this.chunk.push(buf)
    this.chunkBytes += buf.length
    this.next++
    if (this.chunkBytes >= this.o.writeBytes) this.write()
    return offset
  }

  write(): void {
    if (this.chunkBytes === 0) return
    const data = this.chunk.length === 1 ? (this.chunk[0] as Buffer) : Buffer.concat(this.chunk, this.chunkBytes)
    let done = 0
    while (done < data.length) done += writeSync(this.fd, data, done, data.length - done, this.bytes + done)
    this.bytes += data.length
    this.chunk = []
    this.chunkBytes = 0
  }

  private roll(base: number): void {
    this.write()
    closeSync(this.fd)
    this.sealed.push({ base: this.base, entries: this.index.entries })
    this.base = base
    this.bytes = 0
    this.index = new IndexBuilder(this.o.indexIntervalBytes)
    this.fd = openSync(join(this.dir, segmentFile(base)), "wx")
  }

  close(): void {
    closeSync(this.fd)
  }

  /** Sealed segments' index files (derived data, as the file journal writes them when it rolls). */
  indexFiles(): Promise<unknown> {
    return Promise.all(this.sealed.map((s) => writeIndexFile(this.dir, s.base, s.entries)))
  }
}

export const openReplayOutputJournal = (dir: string, now: () => number, options: ReplayOutputJournalOptions = {}): Effect.Effect<ReplayOutputJournal, JournalIoError> =>
  Effect.try({
    try: () => {
      const o = { segmentBytes: 64 * 1024 * 1024, indexIntervalBytes: 4096, writeBytes: 1024 * 1024, ...options }
      return new Map(JOURNAL_TOPICS.map((t) => [t, new TopicWriter(dir, t, o)]))
    },
    catch: (cause) => new JournalIoError({ op: "open", topic: undefined, cause })
  }).pipe(
    Effect.map((writers) => {
      let failure: JournalIoError | undefined
      let closed = false
      const writer = (topic: JournalTopic): TopicWriter => writers.get(topic) as TopicWriter
      const guarded = <A>(op: "append" | "close", topic: JournalTopic | undefined, f: () => A): Effect.Effect<A, JournalIoError | JournalClosedError> =>
        Effect.suspend((): Effect.Effect<A, JournalIoError | JournalClosedError> => {
          if (closed) return Effect.fail(new JournalClosedError({ op }))
          if (failure !== undefined) return Effect.fail(failure)
          try {
            return Effect.succeed(f())
          } catch (cause) {
            failure = new JournalIoError({ op, topic, cause })
            return Effect.fail(failure)
          }
        })
      const flush = (): Effect.Effect<void, JournalIoError> =>
        Effect.suspend(() => {
          if (closed) return Effect.void
          if (failure !== undefined) return Effect.fail(failure)
          for (const w of writers.values()) {
            try {
              w.write()
            } catch (cause) {
              failure = new JournalIoError({ op: "append", topic: w.topic, cause })
              return Effect.fail(failure)
            }
          }
          return Effect.void
        })
      const journal: ReplayOutputJournal = {
        flush,
        append: (topic, key, payload) => guarded("append", topic, () => journalOffset(topic, 0, writer(topic).append(key, payload, now()))),
        // The same without a fiber per record (EventJournal's hot path): the record is encoded now, in call order.
        appendNow: (topic, key, payload) => {
          if (closed) return Promise.reject(new JournalClosedError({ op: "append" }))
          if (failure !== undefined) return Promise.reject(failure)
          try {
            return Promise.resolve(journalOffset(topic, 0, writer(topic).append(key, payload, now())))
          } catch (cause) {
            failure = new JournalIoError({ op: "append", topic, cause })
            return Promise.reject(failure)
          }
        },
        appendBatch: (topic, entries) =>
          guarded("append", topic, () => {
            const w = writer(topic)
            const ts = now()
            return entries.map((e) => journalOffset(topic, 0, w.append(e.key, e.payload, ts)))
          }),
        read: (from) => Stream.fail(new JournalIoError({ op: "read", topic: from.topic, cause: new Error("a replay's output journal is write-only while the run lasts") })),
        endOffsets: () => Effect.sync(() => JOURNAL_TOPICS.map((t) => journalOffset(t, 0, writer(t).next))),
        close: () =>
          Effect.suspend(() => {
            if (closed) return Effect.void
            closed = true
            // A write that fails here was reported by the run's own `flush` (the replay calls it
            // before it reports a result); closing only releases the files.
            for (const w of writers.values()) {
              try {
                if (failure === undefined) w.write()
              } catch (cause) {
                failure = new JournalIoError({ op: "close", topic: w.topic, cause })
              }
              try {
                w.close()
              } catch {
                // The descriptor is gone either way.
              }
            }
            return Effect.promise(() => Promise.all([...writers.values()].map((w) => w.indexFiles().catch(() => undefined)))).pipe(Effect.asVoid)
          })
      }
      return journal
    })
  )
