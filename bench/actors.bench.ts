import { Effect, Layer } from "effect"
import { WallClockLive } from "../src/actors/clock.js"
import { makeInstrumentActor } from "../src/actors/instrument/instrument.actor.js"
import type { InstrumentActor } from "../src/actors/instrument/instrument.actor.js"
import { marketDataLayer, SyntheticKrakenMarket } from "../src/actors/ports/market-data.js"
import type { MarketDataService, MarketDataSink, SyntheticInstrument } from "../src/actors/ports/market-data.js"
import { inMemorySnapshotsLayer } from "../src/actors/ports/snapshots.js"
import { makeSupervisor } from "../src/actors/supervisor/index.js"
import { parseBookSnapshotText } from "../src/actors/instrument/book-snapshot-text.js"
import { OrderBook } from "../src/domain/book.js"
import { applyScannedDelta, BookDeltaScanner } from "../src/domain/book-delta-text.js"
import type { InstrumentId } from "../src/domain/ids.js"
import { percentile, rateFigure, round, type Bench, type Figure } from "./harness.js"

/**
 * actors.fanout_1000: 1,000 instrument actors under one supervisor, fed 50 book deltas/s each
 * (Kraken `book` text from the synthetic venue, 50k msg/s in all), each with one top-of-book
 * subscriber. Latency is per delta: from the moment the venue hands the frame to the actor's
 * sink to the first view that includes it (performance.now, stamped just before the venue
 * step that sends it). CPU includes the synthetic venue generating the frames. The driver runs
 * on a 1 ms timer and sends what is due; when it is late (GC, a busy loop) it catches up in
 * chunks of at most ~1 ms of traffic with the event loop turning in between, so a stall shows
 * as driver lag (reported) rather than as one huge synchronous burst that the harness itself
 * queued. actors.overhead: one instrument at full speed through the actor
 * (mailbox, scan, apply, sync checks, view publish) against the bare scanner + book apply of
 * the same frames, in the same run.
 */

const seconds = Number(process.env.TROUPE_BENCH_SECONDS ?? 30)

const spec = (n: number): SyntheticInstrument => ({ id: `kraken-futures:PF_B${n}USD` as InstrumentId, productId: `PF_B${n}USD`, priceDecimals: 1, qtyDecimals: 4 })
const actorOf = (s: SyntheticInstrument, snapshotEveryMs: number): InstrumentActor =>
  makeInstrumentActor({ instrumentId: s.id, priceDecimals: s.priceDecimals, qtyDecimals: s.qtyDecimals, snapshotEveryMs })

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))
const immediate = () => new Promise<void>((r) => setImmediate(r))

const fanout = async (): Promise<ReadonlyArray<Figure>> => {
  const N = 1_000
  const PER_SECOND = 50
  const specs = Array.from({ length: N }, (_, i) => spec(i))
  const market = new SyntheticKrakenMarket({ instruments: specs, seed: 11 })
  const actors = specs.map((s) => actorOf(s, 5_000))
  const RING = 4_096
  const sentAt = specs.map(() => new Float64Array(RING))
  const lastSeen = new Float64Array(N)
  // Latencies in µs, preallocated so recording allocates nothing while measuring.
  let samples = new Float64Array(Math.ceil(seconds * N * PER_SECOND * 1.25) + 1_024)
  let count = 0
  let measuring = false
  actors.forEach((a, i) => {
    const ring = sentAt[i] as Float64Array
    a.subscribe((v) => {
      const t = performance.now()
      if (measuring) {
        for (let s = (lastSeen[i] as number) + 1; s <= v.seq; s++) {
          if (count === samples.length) {
            const grown = new Float64Array(samples.length * 2)
            grown.set(samples)
            samples = grown
          }
          samples[count++] = (t - (ring[s & (RING - 1)] as number)) * 1_000
        }
      }
      lastSeen[i] = v.seq
    })
  })
  const layer = Layer.mergeAll(marketDataLayer(market), inMemorySnapshotsLayer(), WallClockLive)
  return Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        yield* makeSupervisor({ id: "instruments", strategy: "one_for_one", children: actors.map((a) => a.host.child) })
        yield* Effect.promise(async () => {
          while (!actors.every((a) => a.state() === "live")) await sleep(5)
        })
        const step = (i: number): void => {
          const id = (specs[i] as SyntheticInstrument).id
          const ring = sentAt[i] as Float64Array
          const from = market.seqOf(id) + 1
          const t = performance.now()
          market.step(id)
          const to = market.seqOf(id)
          for (let s = from; s <= to; s++) ring[s & (RING - 1)] = t
        }
        // At most ~1 ms of traffic per synchronous burst: what is due beyond that waits for the
        // next turn of the event loop (setImmediate), so deliveries of one chunk run before the
        // next chunk is sent, as with frames arriving from a socket.
        const CHUNK = Math.ceil((N * PER_SECOND) / 1_000)
        let lagMaxMs = 0
        let lagSumMs = 0
        let turns = 0
        const runFor = async (ms: number): Promise<number> => {
          const start = performance.now()
          let steps = 0
          let next = 0
          for (;;) {
            const elapsed = performance.now() - start
            if (elapsed >= ms) break
            const due = Math.floor((elapsed / 1_000) * N * PER_SECOND)
            // How far behind schedule the driver is when it starts this burst.
            const lagMs = ((due - steps) / (N * PER_SECOND)) * 1_000
            if (lagMs > lagMaxMs) lagMaxMs = lagMs
            lagSumMs += lagMs
            turns++
            const until = Math.min(due, steps + CHUNK)
            for (; steps < until; steps++) {
              step(next)
              next = next + 1 === N ? 0 : next + 1
            }
            await (steps < due ? immediate() : sleep(1))
          }
          return steps
        }
        yield* Effect.promise(() => runFor(1_000)) // warm-up
        lagMaxMs = 0
        lagSumMs = 0
        turns = 0
        for (let i = 0; i < N; i++) lastSeen[i] = market.seqOf((specs[i] as SyntheticInstrument).id)
        const framesBefore = market.framesSent
        measuring = true
        let rss = 0
        const rssTimer = setInterval(() => (rss = Math.max(rss, process.memoryUsage().rss)), 250)
        const cpu0 = process.cpuUsage()
        const t0 = performance.now()
        yield* Effect.promise(() => runFor(seconds * 1_000))
        yield* Effect.promise(immediate)
        const wallMs = performance.now() - t0
        const cpu = process.cpuUsage(cpu0)
        measuring = false
        clearInterval(rssTimer)
        rss = Math.max(rss, process.memoryUsage().rss)
        const frames = market.framesSent - framesBefore
        const sorted = samples.subarray(0, count).sort()
        const allLive = actors.filter((a) => a.state() === "live").length
        const gaps = actors.reduce((n, a) => n + a.stats.gaps, 0)
        const dropped = actors.reduce((n, a) => n + a.host.ref.dropped(), 0)
        const p99 = round(percentile(sorted, 99), 1)
        const figure: Figure = {
          name: "actors.fanout_1000",
          value: p99,
          unit: "us",
          p50_us: round(percentile(sorted, 50), 1),
          p99_us: p99,
          p999_us: round(percentile(sorted, 99.9), 1),
          max_us: round(sorted[sorted.length - 1] ?? Number.NaN, 1),
          rss_mb: round(rss / 2 ** 20, 1),
          cpu_pct: round(((cpu.user + cpu.system) / 1_000 / wallMs) * 100, 1),
          msg_per_s: Math.round(frames / (wallMs / 1_000)),
          samples: sorted.length,
          seconds: round(wallMs / 1_000, 1),
          instruments_live: allLive,
          gaps,
          dropped,
          driver_lag_max_ms: round(lagMaxMs, 2),
          driver_lag_mean_ms: round(lagSumMs / Math.max(1, turns), 3),
          goal_p99_us: 1_000,
          goal_rss_mb: 1_024
        }
        return [figure]
      })
    ).pipe(Effect.provide(layer))
  )
}

const overhead = async (): Promise<ReadonlyArray<Figure>> => {
  const WARM = 100_000
  const MEASURED = 300_000
  const s = spec(0)
  // Capture the frames once, so both sides apply exactly the same text.
  const capture = new SyntheticKrakenMarket({ instruments: [s], seed: 5, delivery: "sync", levels: 25 })
  const frames: string[] = []
  let snapshotFrame = ""
  capture.subscribe(s.id, { text: (f) => (snapshotFrame === "" ? (snapshotFrame = f) : frames.push(f)), event: () => {}, status: () => {} })
  while (frames.length < WARM + MEASURED) capture.step(s.id)
  frames.length = WARM + MEASURED

  // Bare: scanner + book.
  const parsed = parseBookSnapshotText(snapshotFrame)
  if (parsed._tag === "Left") throw parsed.left
  const snapshot = parsed.right
  const bare = (): { rate: number; book: OrderBook } => {
    const made = OrderBook.make({ instrumentId: s.id, priceDecimals: s.priceDecimals, qtyDecimals: s.qtyDecimals })
    if (made._tag === "Left") throw made.left
    const book = made.right
    book.applySnapshotText(snapshot)
    const scanner = new BookDeltaScanner()
    for (let i = 0; i < WARM; i++) if (scanner.scan(frames[i] as string)) applyScannedDelta(book, scanner)
    const t0 = performance.now()
    for (let i = WARM; i < frames.length; i++) if (scanner.scan(frames[i] as string)) applyScannedDelta(book, scanner)
    return { rate: MEASURED / ((performance.now() - t0) / 1_000), book }
  }
  const first = bare()
  const book = first.book
  let t = 0

  // Through the actor: the venue's sink puts frames in the mailbox; one top-of-book subscriber.
  let sink: MarketDataSink | undefined
  const venue: MarketDataService = {
    subscribe: (_id, k) => {
      sink = k
      queueMicrotask(() => {
        k.status("subscribed")
        k.text(snapshotFrame)
      })
      return () => {}
    },
    resync: () => {
      throw new Error("no resync expected in the overhead bench")
    }
  }
  const actor = actorOf(s, 60_000)
  let views = 0
  actor.subscribe(() => void views++)
  const layer = Layer.mergeAll(marketDataLayer(venue), inMemorySnapshotsLayer(), WallClockLive)
  const feed = async (from: number, to: number): Promise<void> => {
    const CHUNK = 1_024
    for (let i = from; i < to; ) {
      const end = Math.min(to, i + CHUNK)
      for (; i < end; i++) sink?.text(frames[i] as string)
      while (actor.host.ref.depth() > 0) await immediate()
    }
  }
  const actorRate = await Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        yield* makeSupervisor({ id: "instruments", strategy: "one_for_one", children: [actor.host.child] })
        yield* Effect.promise(async () => {
          while (actor.state() !== "live") await sleep(1)
        })
        yield* Effect.promise(() => feed(0, WARM))
        t = performance.now()
        yield* Effect.promise(() => feed(WARM, frames.length))
        const rate = MEASURED / ((performance.now() - t) / 1_000)
        return { rate, same: JSON.stringify(actor.book()?.toSnapshotText()) === JSON.stringify(book.toSnapshotText()) }
      })
    ).pipe(Effect.provide(layer))
  )
  // The bare side runs before and after the actor; the better of the two is the baseline.
  const bareRate = Math.max(first.rate, bare().rate)
  return [rateFigure("actors.overhead", actorRate.rate, "bare_book_apply", bareRate, { books_equal: actorRate.same, views, gaps: actor.stats.gaps, dropped: actor.host.ref.dropped() })]
}

export const benches: ReadonlyArray<Bench> = [
  { name: "actors.fanout_1000", run: fanout },
  { name: "actors.overhead", run: overhead }
]
