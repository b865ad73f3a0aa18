import { Either } from "effect"
import { Kafka, logLevel, type Producer } from "kafkajs"
import { parseBookSnapshotText } from "../actors/instrument/book-snapshot-text.js"
import { makeKrakenMarketDataPort, type KrakenMarketDataPort } from "../adapters/venues/kraken-futures/index.js"
import { BookCode, OrderBook } from "../domain/book.js"
import { applyScannedDelta, BookDeltaScanner } from "../domain/book-delta-text.js"
import { encodeEvent } from "../domain/codec.js"
import type { CanonicalEvent } from "../domain/events/index.js"
import type { Instrument } from "../domain/instrument.js"
import { deltaOfScan, snapshotOfBook, type Envelope } from "./book-frames.js"
import { ensureTopic, mdTopic } from "./kafka-topics.js"

/**
 * A market-data node (docs/cluster.md, "Market data through Kafka"): venue connections for its
 * instruments (at most `productsPerConnection` products each), one L2 book per instrument, and
 * every venue frame published as a canonical event to `<prefix>cluster.md`, keyed by instrument,
 * msgpack-encoded, in batches; plus the book it holds as a `BookSnapshot` every
 * `snapshotEveryMs`, so consumers start and resync without asking the venue.
 */
export interface MdNodeConfig {
  readonly brokers: ReadonlyArray<string>
  readonly topicPrefix: string
  readonly nodeId: string
  readonly wsUrl: string
  readonly instruments: ReadonlyArray<Instrument>
  readonly productsPerConnection?: number
  readonly snapshotEveryMs?: number
  readonly partitions?: number
  readonly log: (message: string) => void
}

export interface MdNodeCounters {
  frames: number
  published: number
  snapshots: number
  gaps: number
  badFrames: number
  dropped: number
  batches: number
  sendFailures: number
}

interface Feed {
  readonly book: OrderBook
  readonly port: KrakenMarketDataPort
  /** Between a (re)subscribe or a gap and the venue's next snapshot: deltas are not applied. */
  syncing: boolean
}

const MAX_BATCH = 1_000
const MAX_QUEUED = 200_000

export interface MdNode {
  readonly counters: MdNodeCounters
  readonly stop: () => Promise<void>
}

export const startMdNode = async (config: MdNodeConfig): Promise<MdNode> => {
  const topic = mdTopic(config.topicPrefix)
  const kafka = new Kafka({ clientId: `troupe-md-${config.nodeId}`, brokers: [...config.brokers], logLevel: logLevel.NOTHING, retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 1_000 } })
  const admin = kafka.admin()
  await admin.connect()
  try {
    await ensureTopic(admin, topic, config.partitions ?? 6)
  } finally {
    await admin.disconnect()
  }
  const producer: Producer = kafka.producer({ allowAutoTopicCreation: false })
  await producer.connect()

  const counters: MdNodeCounters = { frames: 0, published: 0, snapshots: 0, gaps: 0, badFrames: 0, dropped: 0, batches: 0, sendFailures: 0 }
  let n = 0
  const start = Date.now().toString(36)
  const env = (): Envelope => ({ id: `md/${config.nodeId}-${start}-${(n++).toString(36)}`, ts: Date.now(), source: `md/${config.nodeId}` })

  // Batching: one sendBatch in flight; everything queued meanwhile goes in the next one.
  let queue: Array<{ key: string; value: Buffer }> = []
  let sending = false
  let timer: NodeJS.Timeout | undefined
  let stopped = false
  const flush = (): void => {
    timer = undefined
    if (sending || queue.length === 0 || stopped) return
    const messages = queue.length <= MAX_BATCH ? queue : queue.slice(0, MAX_BATCH)
    queue = queue.length <= MAX_BATCH ? [] : queue.slice(MAX_BATCH)
    sending = true
    producer
      .send({ topic, acks: 1, messages })
      .then(
        () => {
          counters.batches++
          counters.published += messages.length
        },
        (e: unknown) => {
          // Lost events are a gap for consumers, which resync from the next snapshot.
          counters.sendFailures++
          counters.dropped += messages.length
          config.log(`md: publishing ${messages.length} events failed: ${String(e).slice(0, 200)}`)
        }
      )
      .finally(() => {
        sending = false
        if (queue.length > 0) schedule()
      })
  }
  const schedule = (): void => {
    if (timer === undefined && !stopped) timer = setTimeout(flush, queue.length >= MAX_BATCH ? 0 : 5)
  }
  const publish = (e: CanonicalEvent & { readonly instrument: string }): void => {
    if (queue.length >= MAX_QUEUED) {
      counters.dropped++
      return
    }
    queue.push({ key: e.instrument, value: Buffer.from(encodeEvent(e)) })
    schedule()
  }

  const perConnection = Math.max(1, config.productsPerConnection ?? 50)
  const feeds: Feed[] = []
  const ports: KrakenMarketDataPort[] = []
  for (let i = 0; i < config.instruments.length; i += perConnection) {
    const port = makeKrakenMarketDataPort({ url: config.wsUrl })
    ports.push(port)
    for (const instrument of config.instruments.slice(i, i + perConnection)) {
      const feed: Feed = { book: OrderBook.forInstrument(instrument), port, syncing: true }
      feeds.push(feed)
      const scanner = new BookDeltaScanner()
      const resync = (): void => {
        feed.syncing = true
        counters.gaps++
        port.resync(instrument.id)
      }
      port.subscribe(instrument.id, {
        text: (frame) => {
          counters.frames++
          if (scanner.scan(frame)) {
            if (feed.syncing) return
            const expected = feed.book.sequence + 1
            if (scanner.seq < expected) return
            if (scanner.seq > expected || applyScannedDelta(feed.book, scanner) !== BookCode.Ok) return resync()
            publish(deltaOfScan(scanner, instrument.id, env()))
          } else if (frame.includes('"book_snapshot"')) {
            const parsed = parseBookSnapshotText(frame)
            if (Either.isLeft(parsed) || feed.book.applySnapshotText(parsed.right) !== BookCode.Ok) {
              counters.badFrames++
              return resync()
            }
            feed.syncing = false
            counters.snapshots++
            publish(snapshotOfBook(feed.book, env()))
          } else counters.badFrames++
        },
        // Trades and tickers are not subscribed in this slice.
        event: () => undefined,
        status: () => {
          feed.syncing = true
        }
      })
    }
    port.start()
  }

  // The periodic snapshots, staggered over the period so a thousand books are not built in one tick.
  const every = config.snapshotEveryMs ?? 1_000
  let next = 0
  const tick = Math.max(10, Math.floor(every / Math.max(1, feeds.length)))
  const perTick = Math.max(1, Math.ceil(feeds.length / Math.max(1, Math.floor(every / tick))))
  const snapshotTimer = setInterval(() => {
    for (let k = 0; k < perTick && feeds.length > 0; k++) {
      const feed = feeds[next % feeds.length] as Feed
      next++
      if (feed.syncing || feed.book.sequence === 0) continue
      counters.snapshots++
      publish(snapshotOfBook(feed.book, env()))
    }
  }, tick)
  config.log(`md node ${config.nodeId}: ${config.instruments.length} instruments on ${ports.length} venue connection(s), publishing to ${topic}`)

  return {
    counters,
    stop: async () => {
      clearInterval(snapshotTimer)
      await Promise.allSettled(ports.map((p) => p.stop()))
      flush()
      stopped = true
      if (timer !== undefined) clearTimeout(timer)
      await producer.disconnect().catch(() => undefined)
    }
  }
}
