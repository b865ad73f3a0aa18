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
import { joinMdShares, type MdShareGroup } from "./md-shares.js"

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
  /**
   * Share `instruments` with the other md nodes (docs/cluster-scale.md, "md shares"): this node
   * serves the instrument shares the md nodes' consumer group assigns it. Absent: it serves all.
   */
  readonly shares?: { readonly partitions: number; readonly sessionTimeoutMs?: number; readonly handoverOverlapMs?: number }
  /** Called on every venue delta the node publishes (benches time the hop from here). */
  readonly observe?: (instrument: string, seq: number) => void
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
  /** Bytes handed to Kafka (keys and msgpack values, before the record batch overhead). */
  bytes: number
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
  /** The instruments this node serves now. */
  readonly instruments: () => ReadonlyArray<string>
  /** Its venue connections now. */
  readonly connections: () => number
  /** Called with this node's shares after each change (shared mode). */
  readonly onShares: (f: (partitions: ReadonlyArray<number>) => void) => void
  readonly stop: () => Promise<void>
}

interface Share {
  readonly instruments: ReadonlyArray<Instrument>
  readonly connections: number
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

  const counters: MdNodeCounters = { frames: 0, published: 0, snapshots: 0, gaps: 0, badFrames: 0, dropped: 0, batches: 0, sendFailures: 0, bytes: 0 }
  let n = 0
  const start = Date.now().toString(36)
  const env = (): Envelope => ({ id: `md/${config.nodeId}-${start}-${(n++).toString(36)}`, ts: Date.now(), source: `md/${config.nodeId}` })

  // Batching: one send in flight; everything queued meanwhile goes in the next one. An idle
  // producer sends at the end of the current I/O turn (setImmediate: every frame of the venue
  // messages read in this turn in one batch), not after a timer, which added its wait to every hop.
  let queue: Array<{ key: string; value: Buffer }> = []
  let sending = false
  let timer: NodeJS.Immediate | undefined
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
    if (timer === undefined && !sending && !stopped) timer = setImmediate(flush)
  }
  const publish = (e: CanonicalEvent & { readonly instrument: string }): void => {
    if (queue.length >= MAX_QUEUED) {
      counters.dropped++
      return
    }
    const value = Buffer.from(encodeEvent(e))
    counters.bytes += value.length + e.instrument.length
    queue.push({ key: e.instrument, value })
    schedule()
  }

  const perConnection = Math.max(1, config.productsPerConnection ?? 50)
  /** The instruments this node serves now, each on its share's connections. */
  const feeds: Feed[] = []
  const shares = new Map<string, Share>()
  /**
   * Opens venue connections (at most `perConnection` products each) for a share of instruments:
   * each connection subscribes, takes the venue's snapshot (published as a `BookSnapshot`, so a
   * consumer that saw the previous owner's deltas continues from it) and publishes every delta.
   */
  const openShare = (instruments: ReadonlyArray<Instrument>): Share => {
    const ports: KrakenMarketDataPort[] = []
    const mine: Feed[] = []
    for (let i = 0; i < instruments.length; i += perConnection) {
      const port = makeKrakenMarketDataPort({ url: config.wsUrl })
      ports.push(port)
      for (const instrument of instruments.slice(i, i + perConnection)) {
        const feed: Feed = { book: OrderBook.forInstrument(instrument), port, syncing: true }
        mine.push(feed)
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
              config.observe?.(instrument.id, scanner.seq)
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
    feeds.push(...mine)
    return {
      instruments,
      connections: ports.length,
      stop: async () => {
        for (const f of mine) {
          f.syncing = true
          const k = feeds.indexOf(f)
          if (k >= 0) feeds.splice(k, 1)
        }
        await Promise.allSettled(ports.map((p) => p.stop()))
      }
    }
  }
  const connections = (): number => [...shares.values()].reduce((n, s) => n + s.connections, 0)

  // The periodic snapshots, staggered over the period so a thousand books are not built in one tick.
  const every = config.snapshotEveryMs ?? 1_000
  let next = 0
  const TICK_MS = 20
  const snapshotTimer = setInterval(() => {
    const perTick = Math.ceil((feeds.length * TICK_MS) / every)
    for (let k = 0; k < perTick && feeds.length > 0; k++) {
      const feed = feeds[next % feeds.length] as Feed
      next++
      if (feed.syncing || feed.book.sequence === 0) continue
      counters.snapshots++
      publish(snapshotOfBook(feed.book, env()))
    }
  }, TICK_MS)

  let group: MdShareGroup | undefined
  let overlap = 0
  let leaving = false
  const releasing = new Map<string, { readonly share: Share; readonly timer: NodeJS.Timeout }>()
  let onShares: ((partitions: ReadonlyArray<number>) => void) | undefined
  if (config.shares === undefined) shares.set("all", openShare(config.instruments))
  else {
    // Shares from the md nodes' consumer group: partition p of the instruments topic is the
    // instruments at positions p, p + P, p + 2P, ... of the cluster's sorted instrument list.
    const sorted = [...config.instruments].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    const partitions = config.shares.partitions
    const ofPartition = (p: number): ReadonlyArray<Instrument> => sorted.filter((_, i) => i % partitions === p)
    // Make before break: a share this node loses keeps relaying for `overlap` ms while its new owner
    // subscribes and publishes from its own snapshot. Both relay the venue's one seq per instrument,
    // and a consumer drops what it already has, so the topic's stream stays contiguous.
    overlap = config.shares.handoverOverlapMs ?? 3_000
    group = await joinMdShares({
      brokers: config.brokers,
      topicPrefix: config.topicPrefix,
      nodeId: config.nodeId,
      partitions,
      sessionTimeoutMs: config.shares.sessionTimeoutMs ?? 6_000,
      log: config.log,
      onAssignment: (assigned) => {
        if (leaving) return
        const wanted = new Set(assigned.map(String))
        for (const [p, share] of [...shares]) {
          if (wanted.has(p)) continue
          shares.delete(p)
          const timer = setTimeout(() => {
            releasing.delete(p)
            void share.stop().then(() => config.log(`md: released share ${p} (${share.instruments.length} instruments)`))
          }, overlap)
          releasing.set(p, { share, timer })
        }
        for (const p of wanted) {
          if (shares.has(p)) continue
          const back = releasing.get(p)
          if (back !== undefined) {
            clearTimeout(back.timer)
            releasing.delete(p)
            shares.set(p, back.share)
            continue
          }
          const share = openShare(ofPartition(Number(p)))
          shares.set(p, share)
          config.log(`md: took share ${p} (${share.instruments.length} instruments on ${share.connections} connection(s))`)
        }
        onShares?.([...shares.keys()].map(Number).sort((a, b) => a - b))
      }
    })
  }
  config.log(
    config.shares === undefined
      ? `md node ${config.nodeId}: ${config.instruments.length} instruments on ${connections()} venue connection(s), publishing to ${topic}`
      : `md node ${config.nodeId}: sharing ${config.instruments.length} instruments over ${config.shares.partitions} shares with the other md nodes, publishing to ${topic}`
  )

  return {
    counters,
    instruments: () => feeds.map((f) => f.book.instrumentId),
    connections,
    onShares: (f) => {
      onShares = f
    },
    stop: async () => {
      // Leave the group first (the others take the shares over), relay meanwhile, then close.
      if (group !== undefined) {
        await group.stop()
        await new Promise((r) => setTimeout(r, overlap))
      }
      leaving = true
      clearInterval(snapshotTimer)
      const all = [...shares.values()]
      for (const { share, timer } of releasing.values()) {
        clearTimeout(timer)
        all.push(share)
      }
      releasing.clear()
      await Promise.allSettled(all.map((s) => s.stop()))
      shares.clear()
      flush()
      stopped = true
      if (timer !== undefined) clearImmediate(timer)
      await producer.disconnect().catch(() => undefined)
    }
  }
}
