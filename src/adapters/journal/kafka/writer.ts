import { CompressionTypes, type Message, type Producer, type RecordMetadata, type TopicMessages } from "kafkajs"
import { JournalClosedError, JournalIoError, type JournalTopic } from "../../../actors/ports/journal.js"

/**
 * One producer and the only loop that calls `sendBatch` on it: everything appended while a
 * request is in flight is coalesced into the next request (group commit). Never more than one
 * request is outstanding per producer, which is what kafkajs's idempotent producer needs to
 * keep its sequence numbers right (tulios/kafkajs#1005: concurrent sends to the same partitions
 * are acknowledged but silently dropped or reordered).
 */

export interface WriterOptions {
  /** Which journal lane this is; named in errors and health. */
  readonly name: "durable" | "fast"
  /** Creates and connects a fresh producer. A new producer gets a new producer id. */
  readonly connect: () => Promise<Producer>
  readonly acks: -1 | 1
  /** Broker-side ack timeout of one produce request. */
  readonly ackTimeoutMs: number
  /** Upper bound of one request's record bytes (keys + values + per-record overhead). */
  readonly maxBatchBytes: number
  /** Records waiting beyond this are refused at once (backpressure as a typed error). */
  readonly maxQueued: number
  /** Extra wait before sending to gather more records; 0 = natural batching only. */
  readonly lingerMs: number
  readonly onResult: (error: JournalIoError | undefined) => void
}

/** Settles one `append` or `appendBatch`: resolves once every record of it has an offset. */
interface Ticket {
  readonly offsets: string[]
  remaining: number
  settled: boolean
  readonly resolve: (offsets: ReadonlyArray<string>) => void
  readonly reject: (e: JournalIoError | JournalClosedError) => void
}

interface Pending {
  readonly topic: JournalTopic
  readonly kafkaTopic: string
  readonly message: Message & { partition: number }
  readonly bytes: number
  readonly ticket: Ticket | undefined
  readonly index: number
}

export interface WriteEntry {
  readonly key: string
  readonly payload: Uint8Array
  readonly partition: number
}

// Per-record framing in a v2 record batch is at most ~20 bytes (varints, attributes, deltas).
const RECORD_OVERHEAD = 24

export interface WriterStats {
  readonly requests: number
  readonly records: number
  readonly failedRequests: number
  readonly refused: number
  readonly queued: number
}

export class Writer {
  private queue: Pending[] = []
  private producer: Producer | undefined
  private running = false
  private closed = false
  private idleWaiters: (() => void)[] = []
  private readonly counters = { requests: 0, records: 0, failedRequests: 0, refused: 0 }

  constructor(private readonly o: WriterOptions) {}

  stats(): WriterStats {
    return { ...this.counters, queued: this.queue.length }
  }

  /** Connects eagerly so that the first append does not pay for it. */
  async start(): Promise<void> {
    this.producer = await this.o.connect()
  }

  /**
   * Queues the entries contiguously (one ticket) and resolves with their offsets, in entry order.
   * Without `wantOffsets` nothing is returned and failures only reach `onResult`.
   */
  write(topic: JournalTopic, kafkaTopic: string, entries: ReadonlyArray<WriteEntry>, ts: number, wantOffsets: true): Promise<ReadonlyArray<string>>
  write(topic: JournalTopic, kafkaTopic: string, entries: ReadonlyArray<WriteEntry>, ts: number, wantOffsets: false): JournalIoError | JournalClosedError | undefined
  write(
    topic: JournalTopic,
    kafkaTopic: string,
    entries: ReadonlyArray<WriteEntry>,
    ts: number,
    wantOffsets: boolean
  ): Promise<ReadonlyArray<string>> | JournalIoError | JournalClosedError | undefined {
    const refusal = this.closed
      ? new JournalClosedError({ op: "append" })
      : this.queue.length + entries.length > this.o.maxQueued && this.queue.length > 0
        ? new JournalIoError({ op: "append", topic, cause: new Error(`${this.o.name} journal writer backlog full (${this.queue.length} records queued)`) })
        : undefined
    if (refusal !== undefined) {
      if (refusal._tag === "JournalIoError") this.counters.refused += entries.length
      return wantOffsets ? Promise.reject(refusal) : refusal
    }
    if (entries.length === 0) return wantOffsets ? Promise.resolve([]) : undefined
    const timestamp = String(ts)
    let ticket: Ticket | undefined
    const promise = wantOffsets
      ? new Promise<ReadonlyArray<string>>((resolve, reject) => {
          ticket = { offsets: new Array<string>(entries.length), remaining: entries.length, settled: false, resolve, reject }
        })
      : undefined
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i] as WriteEntry
      const value = Buffer.from(e.payload.buffer, e.payload.byteOffset, e.payload.byteLength)
      this.queue.push({
        topic,
        kafkaTopic,
        message: { key: e.key, value, partition: e.partition, timestamp },
        bytes: value.length + e.key.length * 3 + RECORD_OVERHEAD,
        ticket,
        index: i
      })
    }
    this.kick()
    return promise
  }

  /** Resolves once everything queued so far has been sent (or failed). */
  drain(): Promise<void> {
    if (!this.running && this.queue.length === 0) return Promise.resolve()
    return new Promise((resolve) => this.idleWaiters.push(resolve))
  }

  /** Sends what is queued, then refuses new writes and disconnects. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.drain()
    const p = this.producer
    this.producer = undefined
    await p?.disconnect().catch(() => undefined)
  }

  private kick(): void {
    if (this.running) return
    this.running = true
    void this.loop()
  }

  private async loop(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        // Let the appenders woken by the previous request run and queue their next records
        // first (one event-loop turn), so that they ride this request, not the one after it.
        if (this.o.lingerMs > 0) await new Promise((r) => setTimeout(r, this.o.lingerMs))
        else {
          // Turns until the queue stops growing (at most 8): appenders resumed through Effect's
          // scheduler may come back on a timer turn after the first check turn, and a request
          // that leaves without them halves the batch of every request after it.
          let before = -1
          for (let turn = 0; turn < 8 && this.queue.length !== before; turn++) {
            before = this.queue.length
            await new Promise((r) => setImmediate(r))
          }
        }
        await this.send(this.take())
      }
    } finally {
      this.running = false
      for (const w of this.idleWaiters.splice(0)) w()
    }
  }

  private take(): Pending[] {
    let bytes = 0
    let n = 0
    const q = this.queue
    while (n < q.length) {
      const b = (q[n] as Pending).bytes
      if (n > 0 && bytes + b > this.o.maxBatchBytes) break
      bytes += b
      n++
    }
    if (n === q.length) {
      this.queue = []
      return q
    }
    return q.splice(0, n)
  }

  private async send(batch: Pending[]): Promise<void> {
    const byTopic = new Map<string, Message[]>()
    for (const r of batch) {
      const list = byTopic.get(r.kafkaTopic)
      if (list === undefined) byTopic.set(r.kafkaTopic, [r.message])
      else list.push(r.message)
    }
    const topicMessages: TopicMessages[] = [...byTopic].map(([topic, messages]) => ({ topic, messages }))
    let meta: RecordMetadata[]
    try {
      this.producer ??= await this.o.connect()
      meta = await this.producer.sendBatch({ topicMessages, acks: this.o.acks, timeout: this.o.ackTimeoutMs, compression: CompressionTypes.None })
    } catch (cause) {
      // The fate of this request is unknown (it may be in the log). The producer's sequence
      // state no longer matches the broker's for sure, and reusing it could make the broker
      // discard the next request as a duplicate: start over with a new producer id.
      const p = this.producer
      this.producer = undefined
      await p?.disconnect().catch(() => undefined)
      this.fail(batch, cause)
      return
    }
    const base = new Map<string, number>()
    for (const m of meta) {
      const b = Number(m.baseOffset)
      if (m.errorCode === 0 && m.baseOffset !== undefined && Number.isSafeInteger(b)) base.set(`${m.topicName}\u0000${m.partition}`, b)
    }
    // A partition's records are one record batch, in queue order: offset = baseOffset + index.
    const seen = new Map<string, number>()
    let missing: JournalIoError | undefined
    for (const r of batch) {
      const k = `${r.kafkaTopic}\u0000${r.message.partition}`
      const b = base.get(k)
      const t = r.ticket
      if (b === undefined) {
        missing ??= new JournalIoError({ op: "append", topic: r.topic, cause: new Error(`no offset in the produce response for ${r.kafkaTopic}/${r.message.partition}`) })
        this.settleError(r, missing)
        continue
      }
      const i = seen.get(k) ?? 0
      seen.set(k, i + 1)
      if (t === undefined || t.settled) continue
      t.offsets[r.index] = String(b + i)
      if (--t.remaining === 0) {
        t.settled = true
        t.resolve(t.offsets)
      }
    }
    this.counters.requests++
    this.counters.records += batch.length
    this.o.onResult(missing)
  }

  private fail(batch: ReadonlyArray<Pending>, cause: unknown): void {
    this.counters.requests++
    this.counters.failedRequests++
    let first: JournalIoError | undefined
    for (const r of batch) {
      const e = new JournalIoError({ op: "append", topic: r.topic, cause })
      first ??= e
      this.settleError(r, e)
    }
    if (first !== undefined) this.o.onResult(first)
  }

  private settleError(r: Pending, e: JournalIoError): void {
    const t = r.ticket
    if (t === undefined || t.settled) return
    t.settled = true
    t.reject(e)
  }
}
