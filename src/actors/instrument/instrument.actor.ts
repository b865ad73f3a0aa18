import { Effect, Either } from "effect"
import { BookCode, OrderBook } from "../../domain/book.js"
import type { BookSnapshotText } from "../../domain/book.js"
import { applyScannedDelta, BookDeltaScanner } from "../../domain/book-delta-text.js"
import type { MarketEvent } from "../../domain/events/market.js"
import type { InstrumentId } from "../../domain/ids.js"
import { BOOK_SYNC_MACHINE_VERSION, bookSyncMachine } from "../../machines/book-sync.machine.js"
import type { BookSyncContext, BookSyncEvent } from "../../machines/book-sync.machine.js"
import { hostActor } from "../host/actor-host.js"
import type { HostedActor } from "../host/actor-host.js"
import type { InspectionStream } from "../inspection.js"
import type { MetricsRegistry } from "../metrics.js"
import { hopTrace } from "../trace/hop-trace.js"
import { MarketData } from "../ports/market-data.js"
import type { MarketDataSink } from "../ports/market-data.js"
import { parseBookSnapshotText } from "./book-snapshot-text.js"
import { BookViewPublisher } from "./book-views.js"
import type { BookView, BookViewSubscriber } from "./book-views.js"

/**
 * One instrument: the book-sync machine (lifecycle) and the L2 book it owns. The hot path is
 * plain code — scan the delta text, check its sequence, apply it — and the machine hears only
 * what changes the lifecycle: the snapshot, a gap, a crossed book, and a sign of life at most
 * once per `aliveEveryMs`. Views go to subscribers coalesced (book-views.ts).
 */

export type InstrumentMessage = string | MarketEvent | { readonly _tag: "Status"; readonly status: "subscribed" | "disconnected" }

export interface InstrumentActorConfig {
  readonly instrumentId: InstrumentId
  readonly priceDecimals: number
  readonly qtyDecimals: number
  /** Supervisor child id; default `instrument:<id>`. */
  readonly actorId?: string
  readonly aliveEveryMs?: number
  readonly mailboxCapacity?: number
  readonly snapshotEveryMs?: number
  readonly metrics?: MetricsRegistry
  readonly inspection?: InspectionStream
}

export interface InstrumentActorStats {
  deltas: number
  /** Deltas that arrived while the book was not live (before a snapshot, while resyncing). */
  ignored: number
  gaps: number
  crossed: number
  /** Frames that were neither a book delta nor a book snapshot, or had bad numbers. */
  malformed: number
  snapshots: number
}

export interface InstrumentActor {
  readonly instrumentId: InstrumentId
  readonly host: HostedActor<InstrumentMessage, MarketData>
  readonly subscribe: (fn: BookViewSubscriber, options?: { readonly depth?: number }) => () => void
  /** The current incarnation's book (undefined between incarnations). */
  readonly book: () => OrderBook | undefined
  /** `idle`, `subscribing`, ..., `live`: the machine's state value. */
  readonly state: () => string | undefined
  readonly context: () => BookSyncContext | undefined
  readonly view: (depth?: number) => BookView | undefined
  readonly stats: InstrumentActorStats
  /** Book seq of the snapshot the current incarnation restored, if it restored one. */
  readonly restoredSeq: () => number | undefined
}

interface InstrumentData {
  readonly book: BookSnapshotText
}

/** A stable fraction in [0, 1) from the id (FNV-1a): where in the snapshot period this instrument saves. */
const phaseOf = (id: string): number => {
  let h = 0x811c9dc5
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193)
  return (h >>> 0) / 4294967296
}

const status = (s: "subscribed" | "disconnected"): InstrumentMessage => ({ _tag: "Status", status: s })
const SUBSCRIBED = status("subscribed")
const DISCONNECTED = status("disconnected")

export const makeInstrumentActor = (config: InstrumentActorConfig): InstrumentActor => {
  const { instrumentId } = config
  const aliveEveryMs = config.aliveEveryMs ?? 1_000
  const stats: InstrumentActorStats = { deltas: 0, ignored: 0, gaps: 0, crossed: 0, malformed: 0, snapshots: 0 }
  const metrics = config.metrics
  const labels = { instrument: instrumentId }
  const gapCounter = metrics?.counter("instrument_gaps_total", "Sequence gaps that sent an instrument to resync", labels)
  const crossedCounter = metrics?.counter("instrument_crossed_total", "Crossed books that sent an instrument to resync", labels)
  const malformedCounter = metrics?.counter("instrument_malformed_frames_total", "Market data frames an instrument could not read", labels)

  let currentBook: OrderBook | undefined
  let stale = false
  let live = false
  let restoredSeq: number | undefined
  let stateValue: string | undefined
  let nowFn: () => number = Date.now

  const views = new BookViewPublisher(instrumentId, {
    book: () => (live ? currentBook : undefined),
    status: () => (stale ? "stale" : "live"),
    now: () => nowFn()
  })

  const host = hostActor<InstrumentMessage, MarketData>({
    id: config.actorId ?? `instrument:${instrumentId}`,
    kind: "instrument",
    machineVersion: BOOK_SYNC_MACHINE_VERSION,
    ...(config.mailboxCapacity === undefined ? {} : { mailboxCapacity: config.mailboxCapacity }),
    ...(config.snapshotEveryMs === undefined ? {} : { snapshotEveryMs: config.snapshotEveryMs }),
    // Instruments start together: each saves at its own point of the period.
    snapshotPhase: phaseOf(config.actorId ?? instrumentId),
    ...(metrics === undefined ? {} : { metrics }),
    ...(config.inspection === undefined ? {} : { inspection: config.inspection }),
    incarnate: (ctx) =>
      Effect.gen(function* () {
        const marketData = yield* MarketData
        const clock = ctx.clock
        nowFn = clock.now
        const made = OrderBook.make({ instrumentId, priceDecimals: config.priceDecimals, qtyDecimals: config.qtyDecimals })
        if (Either.isLeft(made)) return yield* Effect.fail(made.left)
        const book = made.right
        const scanner = new BookDeltaScanner()
        const send = (e: BookSyncEvent): void => ctx.send(e)
        let unsubscribe: (() => void) | undefined
        let changed = false
        let lastAlive = Number.NEGATIVE_INFINITY
        let syncing = false // between a resync request and the next snapshot: ignore deltas

        currentBook = book
        live = false
        stale = false
        restoredSeq = undefined

        const sink: MarketDataSink = {
          text: hopTrace.on
            ? (frame) => {
                hopTrace.queued(instrumentId)
                ctx.self.send(frame)
              }
            : (frame) => void ctx.self.send(frame),
          event: (event) => void ctx.self.send(event),
          status: (s) => void ctx.self.send(s === "subscribed" ? SUBSCRIBED : DISCONNECTED)
        }
        const subscribe = (): void => {
          unsubscribe?.()
          unsubscribe = marketData.subscribe(instrumentId, sink)
        }
        yield* Effect.addFinalizer(() =>
          Effect.sync(() => {
            unsubscribe?.()
            unsubscribe = undefined
            if (currentBook === book) {
              live = false
              currentBook = undefined
            }
          })
        )

        const machine = bookSyncMachine.provide({
          actions: {
            subscribe: () => {
              syncing = true
              subscribe()
            },
            unsubscribe: () => {
              unsubscribe?.()
              unsubscribe = undefined
            },
            requestResync: () => {
              syncing = true
              live = false
              book.clear()
              if (unsubscribe === undefined) subscribe()
              else marketData.resync(instrumentId)
            },
            markStale: () => {
              stale = true
              views.publish()
            }
          }
        })

        const onState = (value: unknown): void => {
          stateValue = typeof value === "string" ? value : JSON.stringify(value)
          const nowLive = value === "live" || value === "stale"
          stale = value === "stale"
          if (nowLive !== live) {
            live = nowLive
            if (live) views.publish()
          }
        }

        const onSnapshotFrame = (frame: string): void => {
          const parsed = parseBookSnapshotText(frame)
          if (Either.isLeft(parsed)) {
            stats.malformed++
            malformedCounter?.inc()
            return
          }
          if (ctx.machineSnapshot()?.value !== "awaitingSnapshot") return
          const code = book.applySnapshotText(parsed.right)
          if (code !== BookCode.Ok) {
            stats.malformed++
            malformedCounter?.inc()
            return
          }
          stats.snapshots++
          syncing = false
          changed = true
          lastAlive = clock.now()
          send({ type: "SNAPSHOT", seq: parsed.right.seq })
        }

        const handleOne = (msg: InstrumentMessage): void => {
          if (typeof msg === "string") {
            if (scanner.scan(msg)) {
              if (syncing || !live) {
                stats.ignored++
                return
              }
              const expected = book.sequence + 1
              if (scanner.seq !== expected) {
                if (scanner.seq < expected) {
                  stats.ignored++ // a replay of what the book already has
                  return
                }
                stats.gaps++
                gapCounter?.inc()
                syncing = true
                send({ type: "GAP", expected, got: scanner.seq })
                return
              }
              const code = applyScannedDelta(book, scanner)
              if (code !== BookCode.Ok) {
                // A level we cannot read leaves the book wrong from here on: as good as a lost delta.
                stats.malformed++
                malformedCounter?.inc()
                syncing = true
                send({ type: "GAP", expected, got: scanner.seq })
                return
              }
              stats.deltas++
              changed = true
            } else if (msg.includes('"book_snapshot"')) {
              onSnapshotFrame(msg)
            } else {
              stats.malformed++
              malformedCounter?.inc()
            }
          } else if ("_tag" in msg && msg._tag === "Status") {
            send({ type: msg.status === "subscribed" ? "SUBSCRIBED" : "DISCONNECTED" })
          } else {
            // Canonical events (trades, tickers) are not part of the book; strategies get them elsewhere.
          }
        }

        // Tracing (hop-trace.ts) pairs each text frame with its arrival stamp; off, nothing is wrapped.
        const handle = hopTrace.on
          ? (msg: InstrumentMessage): void => {
              if (typeof msg !== "string") return handleOne(msg)
              const before = stats.deltas
              handleOne(msg)
              hopTrace.taken(instrumentId, stats.deltas !== before)
            }
          : handleOne

        // Once per drained batch: a venue book is never crossed after a whole message, but we
        // check per batch, which also tolerates a venue that crosses for a moment mid-update.
        const afterBatch = (): void => {
          if (!changed) return
          changed = false
          if (!live) return
          if (book.isCrossed()) {
            stats.crossed++
            crossedCounter?.inc()
            syncing = true
            send({ type: "CROSSED" })
            return
          }
          const now = clock.now()
          if (stale || now - lastAlive >= aliveEveryMs) {
            lastAlive = now
            send({ type: "ALIVE" })
          }
          views.publish()
        }

        return {
          machine,
          input: { instrumentId },
          handle,
          afterBatch,
          data: (): InstrumentData => ({ book: book.toSnapshotText() }),
          restoreData: (data) => {
            const d = data as InstrumentData | null
            if (d === null || book.applySnapshotText(d.book) !== BookCode.Ok) return
            restoredSeq = d.book.seq
          },
          started: (restored) => {
            const snap = ctx.machineSnapshot()
            onState(snap?.value)
            if (!restored || snap?.value === "idle") send({ type: "START" })
          },
          // The hot path reads plain flags kept in step with the machine, not XState, per delta.
          observe: onState
        }
      })
  })

  return {
    instrumentId,
    host,
    subscribe: (fn, options) => views.subscribe(fn, options),
    book: () => currentBook,
    state: () => (host.machine() === undefined ? undefined : stateValue),
    context: () => host.machine()?.getSnapshot().context as BookSyncContext | undefined,
    view: (depth = 0) => views.view(depth),
    stats,
    restoredSeq: () => restoredSeq
  }
}
