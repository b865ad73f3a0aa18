import { assign, setup } from "xstate"
import type { InstrumentId } from "../domain/ids.js"

/**
 * Book synchronisation of one instrument. Lifecycle only: the instrument actor applies deltas to
 * its L2 book in plain code and sends this machine what changes the lifecycle — the snapshot, a
 * sequence gap, a crossed book, a throttled sign of life (`ALIVE`, at most once per interval,
 * never one per delta), a disconnect.
 */
export const BOOK_SYNC_MACHINE_VERSION = "book-sync@1"

export type ResyncReason = "gap" | "crossed" | "silence" | "disconnected" | "timeout" | "restored"

export interface BookSyncInput {
  readonly instrumentId: InstrumentId
}

export interface BookSyncContext {
  readonly instrumentId: InstrumentId
  /** Sequence number of the last snapshot that made the book live. */
  readonly snapshotSeq: number | null
  readonly resyncs: number
  readonly lastResync: ResyncReason | null
}

export type BookSyncEvent =
  | { readonly type: "START" }
  | { readonly type: "STOP" }
  | { readonly type: "SUBSCRIBED" }
  | { readonly type: "SNAPSHOT"; readonly seq: number }
  | { readonly type: "ALIVE" }
  | { readonly type: "GAP"; readonly expected: number; readonly got: number }
  | { readonly type: "CROSSED" }
  | { readonly type: "DISCONNECTED" }
  | { readonly type: "RESTORED" }

const resync = (reason: ResyncReason) => ({ target: "#bookSync.resyncing", actions: { type: "noteResync", params: { reason } } }) as const

export const bookSyncMachine = setup({
  types: { context: {} as BookSyncContext, events: {} as BookSyncEvent, input: {} as BookSyncInput },
  actions: {
    // Side effects, provided by the instrument actor.
    subscribe: () => {},
    unsubscribe: () => {},
    /** Drop the book, resubscribe and ask for a fresh snapshot. */
    requestResync: () => {},
    markStale: () => {},
    noteResync: assign(({ context }, params: { reason: ResyncReason }) => ({ resyncs: context.resyncs + 1, lastResync: params.reason })),
    recordSnapshot: assign({ snapshotSeq: ({ context, event }) => (event.type === "SNAPSHOT" ? event.seq : context.snapshotSeq) })
  },
  delays: {
    subscribeTimeout: 10_000,
    snapshotTimeout: 10_000,
    /** No sign of life for this long: the book is stale (still shown, flagged). */
    staleAfter: 5_000,
    /** Stale for this long on top: resync. */
    resyncAfter: 30_000
  }
}).createMachine({
  id: "bookSync",
  initial: "idle",
  context: ({ input }) => ({ instrumentId: input.instrumentId, snapshotSeq: null, resyncs: 0, lastResync: null }),
  states: {
    idle: { on: { START: "subscribing" } },
    subscribing: {
      entry: "subscribe",
      on: { SUBSCRIBED: "awaitingSnapshot", DISCONNECTED: resync("disconnected"), RESTORED: resync("restored") },
      after: { subscribeTimeout: resync("timeout") }
    },
    awaitingSnapshot: {
      on: {
        SNAPSHOT: { target: "live", actions: "recordSnapshot" },
        DISCONNECTED: resync("disconnected"),
        RESTORED: resync("restored")
      },
      after: { snapshotTimeout: resync("timeout") }
    },
    live: {
      on: {
        ALIVE: { target: "live", reenter: true },
        GAP: resync("gap"),
        CROSSED: resync("crossed"),
        DISCONNECTED: resync("disconnected"),
        // A restored book cannot be trusted: fetch a fresh one.
        RESTORED: resync("restored")
      },
      after: { staleAfter: { target: "stale", actions: "markStale" } }
    },
    stale: {
      on: {
        ALIVE: "live",
        GAP: resync("gap"),
        CROSSED: resync("crossed"),
        DISCONNECTED: resync("disconnected"),
        RESTORED: resync("restored")
      },
      after: { resyncAfter: resync("silence") }
    },
    resyncing: {
      entry: "requestResync",
      on: { SUBSCRIBED: "awaitingSnapshot", RESTORED: resync("restored") },
      after: { subscribeTimeout: resync("timeout") }
    }
  },
  on: { STOP: { target: ".idle", actions: "unsubscribe" } }
})
