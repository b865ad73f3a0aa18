import { writeSync } from "node:fs"
import { access, mkdir, open, stat, unlink, type FileHandle } from "node:fs/promises"
import { join } from "node:path"
import { JournalClosedError, JournalCorruptError, JournalIoError, JournalOffsetError, journalOffset, type JournalTopic } from "../../../actors/ports/journal.js"
import { encodeRecord, type DecodedRecord } from "./record.js"
import {
  indexFile,
  floorEntry,
  IndexBuilder,
  listSegmentBases,
  openSegment,
  readIndexFile,
  RecordCursor,
  scanSegment,
  segmentFile,
  writeIndexFile,
  type IndexEntry
} from "./segment.js"

/**
 * `always`: every write batch is fsynced before any append in it resolves (group commit).
 * `interval`: writes go to the OS at once, an fsync runs every `ms`; durable appends still wait
 * for a (group-committed) fsync.
 * `background`: every append (durable ones too) resolves once its bytes are written to the OS
 * (`pwrite` returned); an fsync runs every `ms` beside the writes, never in front of them. A
 * process crash (kill -9 included) loses nothing — the kernel holds the bytes — a power loss or
 * kernel crash can lose the last `ms` of resolved appends. Readers still see only synced records.
 * `never`: no fsync at all, not even for durable appends — for tests, replays and scratch runs
 * on tmpfs only.
 */
export type FsyncPolicy =
  | { readonly kind: "always" }
  | { readonly kind: "interval"; readonly ms: number }
  | { readonly kind: "background"; readonly ms: number }
  | { readonly kind: "never" }

export interface TopicLogOptions {
  readonly root: string
  readonly topic: JournalTopic
  readonly fsync: FsyncPolicy
  readonly segmentBytes: number
  readonly indexIntervalBytes: number
  /** Extra wait before a flush to gather more appends into one fsync; 0 = natural batching only. */
  readonly groupCommitWindowMs: number
  readonly now: () => number
  readonly stats: { fsyncs: number; writes: number }
}

/** A torn or corrupt tail cut off when the log was opened. */
export interface TailRepair {
  readonly topic: JournalTopic
  readonly segment: string
  /** Offset the next append got: the first lost record's offset. */
  readonly atOffset: number
  readonly truncatedBytes: number
  readonly reason: string
}

const exists = (path: string): Promise<boolean> =>
  access(path).then(
    () => true,
    () => false
  )

interface Waiter {
  readonly lastOffset: number
  readonly durable: boolean
  readonly resolve: () => void
  readonly reject: (e: JournalIoError | JournalClosedError) => void
}

interface Sealed {
  readonly base: number
  index: IndexEntry[] | undefined
}

/** What one retention pass removed from a topic. */
export interface PruneResult {
  readonly topic: JournalTopic
  readonly segments: number
  readonly bytes: number
  /** The topic's first offset afterwards. */
  readonly startOffset: number
}

/** One topic of the file journal: a directory of segments with one writer. */
export class TopicLog {
  private readonly dir: string
  private readonly sealed: Sealed[] = []
  private activeBase = 0
  private activeBytes = 0
  private activeIndex: IndexBuilder
  private fh!: FileHandle
  /** Offset the next append gets. */
  private next = 0
  /** Offset after the last record written to the OS. */
  private written = 0
  /** Offset after the last record readers may see: synced, unless the policy never syncs. */
  private visible = 0
  private pending: { readonly bufs: Buffer[]; readonly firstOffset: number }[] = []
  private waiters: Waiter[] = []
  private flushing: Promise<void> | undefined
  private syncRequested = false
  private failure: JournalIoError | undefined
  private closed = false
  private timer: ReturnType<typeof setInterval> | undefined
  /** The `background` policy's fsync in flight (it runs beside writes, not in the flush loop). */
  private syncing: Promise<void> | undefined
  private rolling = false

  private constructor(private readonly o: TopicLogOptions) {
    this.dir = join(o.root, o.topic)
    this.activeIndex = new IndexBuilder(o.indexIntervalBytes)
  }

  static async open(o: TopicLogOptions): Promise<{ log: TopicLog; repair: TailRepair | undefined }> {
    const log = new TopicLog(o)
    const repair = await log.recover()
    if (o.fsync.kind === "interval") {
      log.timer = setInterval(() => log.requestSync(), o.fsync.ms)
      log.timer.unref()
    } else if (o.fsync.kind === "background") {
      log.timer = setInterval(() => log.backgroundSync(), o.fsync.ms)
      log.timer.unref()
    }
    return { log, repair }
  }

  /** Only the last segment can have a torn tail: sealed segments were fsynced when they rolled. */
  private async recover(): Promise<TailRepair | undefined> {
    await mkdir(this.dir, { recursive: true })
    const bases = await listSegmentBases(this.dir)
    const last = bases.pop() ?? 0
    for (const base of bases) this.sealed.push({ base, index: undefined })
    this.activeBase = last
    const created = bases.length === 0 && !(await exists(join(this.dir, segmentFile(last))))
    if (created) await (await openSegment(this.dir, last, "wx+")).close()
    this.fh = await openSegment(this.dir, last, "r+")
    const size = (await this.fh.stat()).size
    const scan = await scanSegment(this.fh, last, this.o.indexIntervalBytes)
    let repair: TailRepair | undefined
    if (scan.validBytes < size) {
      await this.fh.truncate(scan.validBytes)
      await this.fh.datasync()
      repair = {
        topic: this.o.topic,
        segment: segmentFile(last),
        atOffset: last + scan.records,
        truncatedBytes: size - scan.validBytes,
        reason: scan.stop?.reason ?? "trailing bytes"
      }
    } else if (this.o.fsync.kind !== "never" && size > 0) {
      // The tail may be bytes a crashed process had written but not synced (the `background` and
      // `interval` policies resolve or write before the fsync). They are whole and checksummed, and
      // readers are about to see them: sync first, so no reader (the audit projection) ever holds a
      // record that a later power loss could take back — its offset would then be reused.
      await this.fh.datasync()
      this.o.stats.fsyncs++
    }
    for (const e of scan.index) this.activeIndex.add(e.offset, e.position)
    this.activeBytes = scan.validBytes
    this.next = this.written = this.visible = last + scan.records
    if (created) {
      await this.syncDir(this.dir)
      await this.syncDir(this.o.root)
    }
    return repair
  }

  get endOffset(): number {
    return this.visible
  }

  /** The first offset still on disk: above 0 once retention has deleted the oldest segments. */
  get startOffset(): number {
    return this.sealed[0]?.base ?? this.activeBase
  }

  /** Bytes of this topic's segments on disk (sealed and active; indexes not counted). */
  async diskBytes(): Promise<number> {
    let total = this.activeBytes
    for (const s of this.sealed) total += (await stat(join(this.dir, segmentFile(s.base)))).size
    return total
  }

  /**
   * Retention: deletes sealed segments from the oldest on, while a segment (1) holds only offsets
   * below `keepFrom` and (2) ended at or before `olderThan` (record time: the first record of the
   * next segment was written after its last one), or — regardless of (2) — while the topic is over
   * `maxBytes`, which callers give only for topics nothing is rebuilt from. The active segment is
   * never deleted. Oldest first, so the log stays one contiguous range [startOffset, end).
   */
  async prune(keepFrom: number, olderThan: number, maxBytes = Number.POSITIVE_INFINITY): Promise<PruneResult> {
    let segments = 0
    let bytes = 0
    let onDisk = maxBytes === Number.POSITIVE_INFINITY ? 0 : await this.diskBytes()
    while (this.sealed.length > 0 && !this.closed) {
      const s = this.sealed[0] as Sealed
      const nextBase = this.sealed[1]?.base ?? this.activeBase
      if (nextBase > keepFrom) break
      const size = (await stat(join(this.dir, segmentFile(s.base)))).size
      const overSize = onDisk > maxBytes
      if (!overSize && (await this.firstRecordTs(nextBase)) > olderThan) break
      // The in-memory list first: a reader that starts now no longer sees the segment.
      this.sealed.shift()
      await unlink(join(this.dir, segmentFile(s.base)))
      await unlink(join(this.dir, indexFile(s.base))).catch(() => undefined)
      segments++
      bytes += size
      onDisk -= size
    }
    if (segments > 0) await this.syncDir(this.dir)
    return { topic: this.o.topic, segments, bytes, startOffset: this.startOffset }
  }

  /** Record time of a segment's first record (+Infinity when it has none yet). */
  private async firstRecordTs(base: number): Promise<number> {
    const fh = await openSegment(this.dir, base, "r")
    try {
      const step = await new RecordCursor(fh, 0).next()
      return step.kind === "record" ? step.record.ts : Number.POSITIVE_INFINITY
    } finally {
      await fh.close()
    }
  }

  /** Assigns offsets now (so they are contiguous in call order) and resolves per the policy. */
  append(entries: ReadonlyArray<{ readonly key: string; readonly payload: Uint8Array }>, durable: boolean): Promise<number> {
    if (this.closed) return Promise.reject(new JournalClosedError({ op: "append" }))
    if (this.failure !== undefined) return Promise.reject(this.failure)
    const firstOffset = this.next
    const ts = this.o.now()
    let bufs: Buffer[]
    try {
      bufs = entries.map((e, i) => encodeRecord(firstOffset + i, ts, e.key, e.payload))
    } catch (cause) {
      return Promise.reject(new JournalIoError({ op: "append", topic: this.o.topic, cause }))
    }
    if (bufs.length === 0) return Promise.resolve(firstOffset)
    if (this.canWriteNow(bufs)) {
      try {
        this.writeNow(bufs, firstOffset)
      } catch (cause) {
        this.failure ??= new JournalIoError({ op: "append", topic: this.o.topic, cause })
        return Promise.reject(this.failure)
      }
      this.next += bufs.length
      return Promise.resolve(firstOffset)
    }
    this.next += bufs.length
    this.pending.push({ bufs, firstOffset })
    return new Promise<number>((resolve, reject) => {
      this.waiters.push({ lastOffset: this.next - 1, durable, resolve: () => resolve(firstOffset), reject })
      this.kick()
    })
  }

  /**
   * One record appended in the caller's turn when `append` would write it now (see `canWriteNow`):
   * its offset, or -1 (nothing appended) when it would have to wait. Throws the log's failure.
   */
  appendWritten(key: string, payload: Uint8Array): number {
    if (this.closed) throw new JournalClosedError({ op: "append" })
    if (this.failure !== undefined) throw this.failure
    if (this.o.fsync.kind !== "background" || this.o.groupCommitWindowMs > 0) return -1
    if (this.flushing !== undefined || this.pending.length > 0 || this.rolling || this.syncRequested) return -1
    const offset = this.next
    let buf: Buffer
    try {
      buf = encodeRecord(offset, this.o.now(), key, payload)
    } catch (cause) {
      throw new JournalIoError({ op: "append", topic: this.o.topic, cause })
    }
    if (this.activeBytes + buf.length > this.o.segmentBytes) return -1
    try {
      this.writeNow([buf], offset)
    } catch (cause) {
      this.failure ??= new JournalIoError({ op: "append", topic: this.o.topic, cause })
      throw this.failure
    }
    this.next++
    return offset
  }

  /**
   * `background` resolves an append once its bytes are written to the OS. With nothing queued or
   * in flight before it, that write is issued here, in the caller's turn (`pwrite` of a few
   * hundred bytes into the page cache: microseconds), instead of one event-loop turn later plus
   * a thread-pool round trip: the write-ahead order path then waits for no other work. Anything
   * else — a flush in progress, a queue, a segment roll, group commit, another policy — keeps the
   * flush loop, so the log's order and roll rules are unchanged.
   */
  private canWriteNow(bufs: ReadonlyArray<Buffer>): boolean {
    if (this.o.fsync.kind !== "background" || this.o.groupCommitWindowMs > 0) return false
    if (this.flushing !== undefined || this.pending.length > 0 || this.rolling || this.syncRequested) return false
    let bytes = 0
    for (const b of bufs) bytes += b.length
    return this.activeBytes + bytes <= this.o.segmentBytes
  }

  private writeNow(bufs: ReadonlyArray<Buffer>, firstOffset: number): void {
    let bytes = 0
    for (let i = 0; i < bufs.length; i++) {
      this.activeIndex.add(firstOffset + i, this.activeBytes + bytes)
      bytes += (bufs[i] as Buffer).length
    }
    const data = bufs.length === 1 ? (bufs[0] as Buffer) : Buffer.concat(bufs as Buffer[], bytes)
    let done = 0
    while (done < bytes) done += writeSync(this.fh.fd, data, done, bytes - done, this.activeBytes + done)
    this.o.stats.writes++
    this.activeBytes += bytes
    this.written += bufs.length
  }

  private requestSync(): void {
    if (this.written > this.visible) {
      this.syncRequested = true
      this.kick()
    }
  }

  /**
   * `background`: fsyncs what is written so far, beside the flush loop (a write issued meanwhile
   * is not held behind it); readers see the synced records afterwards.
   */
  private backgroundSync(): void {
    if (this.syncing !== undefined || this.rolling || this.closed || this.failure !== undefined || this.written <= this.visible) return
    const target = this.written
    this.syncing = this.fh
      .datasync()
      .then(
        () => {
          this.o.stats.fsyncs++
          if (target > this.visible) this.visible = target
        },
        (cause: unknown) => {
          // Appends already resolved were in the OS page cache only; after a failed fsync its state
          // is unknown ("fsyncgate"): refuse everything until the journal is reopened.
          this.failure ??= new JournalIoError({ op: "sync", topic: this.o.topic, cause })
          for (const w of this.waiters) w.reject(this.failure)
          this.waiters = []
          this.pending = []
        }
      )
      .finally(() => {
        this.syncing = undefined
      })
  }

  private kick(): void {
    if (this.flushing !== undefined) return
    this.flushing = new Promise<void>((done) => setImmediate(() => void this.flushLoop().finally(done))).finally(() => {
      this.flushing = undefined
      if (this.pending.length > 0 || this.syncRequested) this.kick()
    })
  }

  private async flushLoop(): Promise<void> {
    while (this.failure === undefined && (this.pending.length > 0 || this.syncRequested)) {
      if (this.o.groupCommitWindowMs > 0 && this.pending.length > 0) await new Promise((r) => setTimeout(r, this.o.groupCommitWindowMs))
      const batch = this.pending
      const waiters = this.waiters
      this.pending = []
      this.waiters = []
      const policy = this.o.fsync.kind
      const sync = this.syncRequested || policy === "always" || (policy === "interval" && waiters.some((w) => w.durable))
      // `background`: written to the OS is what every append waits for; the timer syncs.
      const written = policy === "never" || policy === "background"
      this.syncRequested = false
      try {
        // Pending appends hold contiguous offsets: one write for all of them, not one per append
        // (a write is a thread-pool round trip; a busy producer otherwise outruns the log).
        if (batch.length > 0) await this.write(batch.length === 1 ? (batch[0] as { bufs: Buffer[] }).bufs : batch.flatMap((b) => b.bufs), (batch[0] as { firstOffset: number }).firstOffset)
        if (policy === "never") {
          this.visible = this.written
        } else if (policy === "background") {
          if (sync) {
            await this.syncing
            await this.fh.datasync()
            this.o.stats.fsyncs++
            this.visible = this.written
          }
        } else {
          // Not yet synced records are resolved now only if nobody asked for durability.
          for (const w of waiters) if (!w.durable && !sync) w.resolve()
          if (sync) {
            await this.fh.datasync()
            this.o.stats.fsyncs++
            this.visible = this.written
          }
        }
      } catch (cause) {
        // After a failed write or fsync the page cache state is unknown ("fsyncgate"): refuse
        // further appends until the journal is reopened and its tail re-validated.
        this.failure = new JournalIoError({ op: policy === "never" ? "append" : "sync", topic: this.o.topic, cause })
        for (const w of [...waiters, ...this.waiters]) w.reject(this.failure)
        this.waiters = []
        this.pending = []
        return
      }
      for (const w of waiters) if (w.durable || sync || written) w.resolve()
    }
  }

  private async write(bufs: ReadonlyArray<Buffer>, firstOffset: number): Promise<void> {
    let chunk: Buffer[] = []
    let chunkBytes = 0
    let offset = firstOffset
    for (const buf of bufs) {
      if (this.activeBytes + chunkBytes > 0 && this.activeBytes + chunkBytes + buf.length > this.o.segmentBytes) {
        await this.writeChunk(chunk, chunkBytes)
        await this.roll(offset)
        chunk = []
        chunkBytes = 0
      }
      this.activeIndex.add(offset, this.activeBytes + chunkBytes)
      chunk.push(buf)
      chunkBytes += buf.length
      offset++
    }
    await this.writeChunk(chunk, chunkBytes)
  }

  private async writeChunk(chunk: Buffer[], bytes: number): Promise<void> {
    if (chunk.length === 0) return
    const data = chunk.length === 1 ? (chunk[0] as Buffer) : Buffer.concat(chunk, bytes)
    let done = 0
    while (done < bytes) {
      const { bytesWritten } = await this.fh.write(data, done, bytes - done, this.activeBytes + done)
      done += bytesWritten
    }
    this.o.stats.writes++
    this.activeBytes += bytes
    this.written += chunk.length
  }

  /** Seals the active segment (synced, so recovery only ever checks the last one) and starts `base`. */
  private async roll(base: number): Promise<void> {
    // A background fsync may be running on the handle about to close; none starts meanwhile.
    this.rolling = true
    try {
      await this.syncing
      if (this.o.fsync.kind !== "never") {
        await this.fh.datasync()
        this.o.stats.fsyncs++
      }
      await this.fh.close()
      await writeIndexFile(this.dir, this.activeBase, this.activeIndex.entries)
      this.sealed.push({ base: this.activeBase, index: this.activeIndex.entries })
      this.activeBase = base
      this.activeBytes = 0
      this.activeIndex = new IndexBuilder(this.o.indexIntervalBytes)
      this.fh = await openSegment(this.dir, base, "wx+")
      await this.syncDir(this.dir)
    } finally {
      this.rolling = false
    }
  }

  /** Makes a new file's directory entry durable. */
  private async syncDir(dir: string): Promise<void> {
    if (this.o.fsync.kind === "never") return
    const d = await open(dir, "r")
    try {
      await d.sync()
      this.o.stats.fsyncs++
    } finally {
      await d.close()
    }
  }

  /** Records from `from` up to the visible end at the time of the call. */
  async *read(from: number): AsyncGenerator<DecodedRecord> {
    for await (const batch of this.readBatches(from)) yield* batch
  }

  /**
   * The same records in batches of up to `size`: a consumer pays one async step per batch
   * instead of one per record (the recovery and replay path reads millions).
   */
  async *readBatches(from: number, size = 1024): AsyncGenerator<DecodedRecord[]> {
    const end = this.visible
    if (from >= end) return
    // Never a silent start mid-history: records below the start were deleted by retention.
    if (from < this.startOffset) throw new JournalOffsetError({ requested: journalOffset(this.o.topic, 0, from), reason: `deleted by retention: the topic starts at offset ${this.startOffset}` })
    let batch: DecodedRecord[] = []
    const bases = [...this.sealed.map((s) => s.base), this.activeBase]
    let i = bases.length - 1
    while (i > 0 && (bases[i] as number) > from) i--
    let expected = from
    for (; i < bases.length && expected < end; i++) {
      const base = bases[i] as number
      const sealed = this.sealed[i]
      const index = sealed === undefined ? this.activeIndex.entries : await this.sealedIndex(sealed)
      const fh = await openSegment(this.dir, base, "r")
      try {
        let start = floorEntry(index, base, expected)
        let cursor = new RecordCursor(fh, start.position)
        let first = await cursor.next()
        if (first.kind !== "record" || first.record.offset !== start.offset) {
          // The index disagrees with the log: distrust it and scan from the segment start.
          if (sealed !== undefined) sealed.index = undefined
          start = { offset: base, position: 0 }
          cursor = new RecordCursor(fh, 0)
          first = await cursor.next()
        }
        let offset = start.offset
        for (let step = first; ; step = cursor.nextBuffered() ?? (await cursor.next())) {
          if (step.kind === "end") break
          if (step.kind === "bad") throw this.corrupt(base, step.position, step.reason)
          if (step.record.offset !== offset) throw this.corrupt(base, step.position, `offset ${step.record.offset} where ${offset} was expected`)
          offset++
          if (step.record.offset < expected) continue
          if (step.record.offset >= end) break
          expected++
          batch.push(step.record)
          if (expected >= end) break
          if (batch.length >= size) {
            yield batch
            batch = []
          }
        }
      } finally {
        await fh.close()
      }
    }
    if (batch.length > 0) yield batch
    if (expected < end) throw this.corrupt(this.activeBase, -1, `log ends at offset ${expected}, expected ${end}`)
  }

  private async sealedIndex(s: Sealed): Promise<IndexEntry[]> {
    if (s.index !== undefined) return s.index
    let index = await readIndexFile(this.dir, s.base)
    if (index === undefined) {
      const fh = await openSegment(this.dir, s.base, "r")
      try {
        index = (await scanSegment(fh, s.base, this.o.indexIntervalBytes)).index
      } finally {
        await fh.close()
      }
    }
    s.index = index
    return index
  }

  private corrupt(base: number, position: number, reason: string): JournalCorruptError {
    return new JournalCorruptError({ topic: this.o.topic, location: `${segmentFile(base)}@${position}`, reason })
  }

  /** Drains pending appends, syncs (unless `never`) and closes the active segment. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    if (this.timer !== undefined) clearInterval(this.timer)
    while (this.flushing !== undefined) await this.flushing
    await this.syncing
    if (this.failure === undefined && this.o.fsync.kind !== "never" && this.written > this.visible) {
      this.syncRequested = true
      this.kick()
      while (this.flushing !== undefined) await this.flushing
    }
    await this.fh.close()
  }
}
