import { randomUUID } from "node:crypto"
import { Either } from "effect"
import { Kafka, logLevel, type Consumer } from "kafkajs"
import type { MarketDataSink } from "../actors/ports/market-data.js"
import { decodeEvent } from "../domain/codec.js"
import type { BookDelta, BookSnapshot } from "../domain/events/market.js"
import type { InstrumentId } from "../domain/ids.js"
import type { MarketDataPortLike } from "../daemon/account-hooks.js"
import { deltaFrame, snapshotFrame } from "./book-frames.js"
import { ensureTopic, mdTopic } from "./kafka-topics.js"

/**
 * A trading node's market data from the cluster's md topic (docs/cluster.md): one consumer per
 * node, in a group of its own (every node reads every instrument, from the newest offsets). Per
 * instrument that an account of the node subscribed (records of others are skipped by key, not
 * decoded) it keeps the latest snapshot and the deltas after it, so a subscribe or a resync
 * (the instrument actor saw a gap) is answered at once from there — `subscribed`, the snapshot,
 * the deltas — without a venue round trip; when the kept deltas are not contiguous, at the next
 * snapshot. Each account the node runs gets its own port (`port()`) on the one consumer.
 */
interface Subscriber {
  readonly sink: MarketDataSink
  /** Waiting for a snapshot to start from; deltas are not sent meanwhile. */
  waiting: boolean
  readonly view: View
}

interface Stream {
  snapshot: BookSnapshot | undefined
  deltas: BookDelta[]
  contiguous: boolean
  lastSeq: number
  /**
   * A snapshot ahead of the stream, held while the stream still runs contiguously toward it (an md
   * node taking the instrument over while the previous one still relays it): used only if the
   * stream jumps past what it has (the previous node died), else dropped once the stream passes it.
   */
  pending: BookSnapshot | undefined
  readonly subscribers: Set<Subscriber>
}

interface View {
  frames: number
  resyncs: number
}

const MAX_KEPT_DELTAS = 20_000

export interface MdFeedCounters {
  records: number
  badRecords: number
  snapshots: number
  deltas: number
  /** Deltas whose seq did not follow the previous one on the topic and no snapshot covered (lost batches). */
  streamGaps: number
  /**
   * Jumps covered by a snapshot already on the topic (an md node died and another took its
   * instruments over): the kept book restarts there, and subscribers that see the jump resync from it.
   */
  bridged: number
  /** Snapshots behind the stream (a late periodic snapshot of a node that lost the instrument): ignored. */
  staleSnapshots: number
}

export interface MdFeed {
  readonly port: () => MarketDataPortLike
  readonly counters: MdFeedCounters
  readonly stop: () => Promise<void>
}

export const openMdFeed = async (config: { readonly brokers: ReadonlyArray<string>; readonly topicPrefix: string; readonly nodeId: string; readonly log: (m: string) => void }): Promise<MdFeed> => {
  const topic = mdTopic(config.topicPrefix)
  const kafka = new Kafka({ clientId: `troupe-trading-md-${config.nodeId}`, brokers: [...config.brokers], logLevel: logLevel.NOTHING })
  const admin = kafka.admin()
  await admin.connect()
  try {
    await ensureTopic(admin, topic, 6)
  } finally {
    await admin.disconnect()
  }
  const streams = new Map<string, Stream>()
  const counters: MdFeedCounters = { records: 0, badRecords: 0, snapshots: 0, deltas: 0, streamGaps: 0, bridged: 0, staleSnapshots: 0 }
  const streamOf = (instrument: string): Stream => {
    let s = streams.get(instrument)
    if (s === undefined) streams.set(instrument, (s = { snapshot: undefined, deltas: [], contiguous: false, lastSeq: 0, pending: undefined, subscribers: new Set() }))
    return s
  }
  /** Starts a waiting subscriber from the kept snapshot and deltas, if they make a whole book. */
  const serve = (s: Stream, sub: Subscriber): void => {
    if (s.snapshot === undefined || !s.contiguous) return
    sub.waiting = false
    sub.sink.text(snapshotFrame(s.snapshot))
    sub.view.frames++
    for (const d of s.deltas) {
      const text = deltaFrame(d)
      if (text === undefined) continue
      sub.sink.text(text)
      sub.view.frames++
    }
  }
  const adopt = (s: Stream, e: BookSnapshot): void => {
    s.snapshot = e
    s.deltas = []
    s.contiguous = true
    s.lastSeq = e.seq
    s.pending = undefined
    for (const sub of s.subscribers) if (sub.waiting) serve(s, sub)
  }
  const onSnapshot = (s: Stream, e: BookSnapshot): void => {
    counters.snapshots++
    if (s.snapshot !== undefined && s.contiguous) {
      if (e.seq < s.lastSeq) {
        counters.staleSnapshots++
        return
      }
      // Ahead of a stream that still runs: another md node started relaying the instrument (a
      // hand-over) while the previous one still does. Held, not jumped to.
      if (e.seq > s.lastSeq) {
        s.pending = e
        return
      }
    }
    adopt(s, e)
  }
  const onDelta = (s: Stream, e: BookDelta): void => {
    counters.deltas++
    if (s.snapshot === undefined || e.seq <= s.lastSeq) return
    if (e.seq !== s.lastSeq + 1) {
      if (s.pending !== undefined && s.pending.seq < e.seq) {
        // The stream jumped past a snapshot already here: restart the kept book from it.
        counters.bridged++
        adopt(s, s.pending)
      }
      if (e.seq !== s.lastSeq + 1) {
        counters.streamGaps++
        s.contiguous = false
      }
    }
    if (s.pending !== undefined && e.seq >= s.pending.seq) s.pending = undefined
    s.lastSeq = e.seq
    if (s.contiguous) {
      if (s.deltas.length < MAX_KEPT_DELTAS) s.deltas.push(e)
      else s.contiguous = false
    }
    let text: string | undefined
    for (const sub of s.subscribers) {
      if (sub.waiting) continue
      // Sent even across a gap: the instrument actor sees the seq jump and asks for a resync.
      text ??= deltaFrame(e)
      if (text === undefined) break
      sub.sink.text(text)
      sub.view.frames++
    }
  }

  const consumer: Consumer = kafka.consumer({ groupId: `${config.topicPrefix}cluster.md-reader.${config.nodeId}.${randomUUID()}`, maxWaitTimeInMs: 50, allowAutoTopicCreation: false })
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: false })
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) {
        counters.records++
        // Only the instruments this node's accounts subscribed (the key is the instrument): the
        // rest is not decoded.
        if (m.value === null || m.key === null || !streams.has(m.key.toString("utf8"))) continue
        const decoded = decodeEvent(m.value)
        if (Either.isLeft(decoded)) {
          counters.badRecords++
          continue
        }
        const e = decoded.right
        if (e._tag === "BookSnapshot") onSnapshot(streamOf(e.instrument), e)
        else if (e._tag === "BookDelta") onDelta(streamOf(e.instrument), e)
      }
    }
  })
  config.log(`trading node ${config.nodeId}: reading market data from ${topic}`)

  return {
    counters,
    port: () => {
      const view: View = { frames: 0, resyncs: 0 }
      const mine = new Map<string, Subscriber>()
      const resubscribe = (instrumentId: InstrumentId, sub: Subscriber): void => {
        sub.waiting = true
        sub.sink.status("subscribed")
        serve(streamOf(instrumentId), sub)
      }
      return {
        start: () => undefined,
        stop: async () => {
          for (const [instrument, sub] of mine) streamOf(instrument).subscribers.delete(sub)
          mine.clear()
        },
        counters: () => ({ frames: view.frames, badFrames: counters.badRecords, resyncs: view.resyncs }),
        subscribe: (instrumentId, sink) => {
          const s = streamOf(instrumentId)
          const old = mine.get(instrumentId)
          if (old !== undefined) s.subscribers.delete(old)
          const sub: Subscriber = { sink, waiting: true, view }
          mine.set(instrumentId, sub)
          s.subscribers.add(sub)
          // Like a socket: the contract's `subscribed` and book come after subscribe returns.
          queueMicrotask(() => {
            if (mine.get(instrumentId) === sub) resubscribe(instrumentId, sub)
          })
          return () => {
            if (mine.get(instrumentId) !== sub) return
            mine.delete(instrumentId)
            s.subscribers.delete(sub)
          }
        },
        resync: (instrumentId) => {
          const sub = mine.get(instrumentId)
          if (sub === undefined) return
          view.resyncs++
          resubscribe(instrumentId, sub)
        }
      }
    },
    stop: () => consumer.disconnect()
  }
}
