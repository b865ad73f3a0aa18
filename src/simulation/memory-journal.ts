import { createHash } from "node:crypto"
import { Effect, Stream } from "effect"
import { JournalIoError, journalOffset, type JournalOffset, type JournalRecord, type JournalService, type JournalTopic } from "../actors/ports/journal.js"

/**
 * The journal port in memory, for the simulation: one partition per topic (as the file
 * journal), offsets from 0, every record kept. It outlives the simulated node, as the daemon's
 * journal outlives a crash. `refuse` is the fault hook: asked before each append (with the
 * topic), an answer other than undefined fails the append with that reason, as a broker or a
 * disk does, and the record is not written.
 */
export interface MemoryJournal extends JournalService {
  readonly records: (topic: JournalTopic) => ReadonlyArray<JournalRecord>
  /** SHA-256 over every record (topic, offset, key, payload) in topic order: same run, same hash. */
  readonly hash: () => string
  refuse: ((topic: JournalTopic) => string | undefined) | undefined
  /**
   * The stall hook: asked before each append; a number of ms stalls the journal that long
   * (appends made meanwhile wait, in order, and are written when it ends, as a broker that is
   * slow to acknowledge). `setTimer` is the simulated clock's.
   */
  stall: { readonly next: () => number | undefined; readonly setTimer: (ms: number, fn: () => void) => () => void } | undefined
  /**
   * The journal as one process sees it: once `end` is called (the process crashed), its appends
   * fail — also those still waiting out a stall — so nothing a dead node held reaches the log.
   */
  readonly session: () => JournalService & { readonly end: () => void }
  /** Called after each record is written (the simulation's write-ahead check reads it). */
  onWritten: ((topic: JournalTopic, record: JournalRecord) => void) | undefined
}

const TOPICS: ReadonlyArray<JournalTopic> = ["md", "orders", "strategy", "control"]

export const makeMemoryJournal = (now: () => number): MemoryJournal => {
  const logs = new Map<JournalTopic, JournalRecord[]>(TOPICS.map((t) => [t, []]))
  const log = (topic: JournalTopic): JournalRecord[] => logs.get(topic) as JournalRecord[]
  const write = (topic: JournalTopic, key: string, payload: Uint8Array, session?: { ended: boolean }): JournalOffset => {
    if (session?.ended === true) throw new JournalIoError({ op: "append", topic, cause: new Error("the process that made this append is gone") })
    const why = journal.refuse?.(topic)
    if (why !== undefined) throw new JournalIoError({ op: "append", topic, cause: new Error(why) })
    const records = log(topic)
    const offset = journalOffset(topic, 0, records.length)
    const record: JournalRecord = { offset, key, payload: payload.slice(), ts: now() }
    records.push(record)
    journal.onWritten?.(topic, record)
    return offset
  }
  let stalled: Array<() => void> | undefined
  const later = <A>(f: () => A): Promise<A> => {
    const ms = stalled === undefined ? journal.stall?.next() : undefined
    if (ms !== undefined && journal.stall !== undefined) {
      stalled = []
      journal.stall.setTimer(ms, () => {
        const waiting = stalled ?? []
        stalled = undefined
        for (const go of waiting) go()
      })
    }
    if (stalled === undefined) {
      try {
        return Promise.resolve(f())
      } catch (e) {
        return Promise.reject(e as Error)
      }
    }
    const queue = stalled
    return new Promise<A>((resolve, reject) => {
      queue.push(() => {
        try {
          resolve(f())
        } catch (e) {
          reject(e as Error)
        }
      })
    })
  }
  const journal: MemoryJournal = {
    refuse: undefined,
    stall: undefined,
    onWritten: undefined,
    append: (topic, key, payload) => Effect.tryPromise({ try: () => later(() => write(topic, key, payload)), catch: (e) => e as JournalIoError }),
    appendNow: (topic, key, payload) => later(() => write(topic, key, payload)),
    appendBatch: (topic, entries) => Effect.try({ try: () => entries.map((e) => write(topic, e.key, e.payload)), catch: (e) => e as JournalIoError }),
    read: (from) => Stream.suspend(() => Stream.fromIterable(log(from.topic).slice(Number(from.offset)))),
    endOffsets: () => Effect.sync(() => TOPICS.map((t) => journalOffset(t, 0, log(t).length))),
    startOffsets: () => Effect.sync(() => TOPICS.map((t) => journalOffset(t, 0, 0))),
    close: () => Effect.void,
    records: (topic) => log(topic),
    session: () => {
      const session = { ended: false }
      return {
        ...journal,
        append: (topic, key, payload) => Effect.tryPromise({ try: () => later(() => write(topic, key, payload, session)), catch: (e) => e as JournalIoError }),
        appendNow: (topic, key, payload) => later(() => write(topic, key, payload, session)),
        appendBatch: (topic, entries) => Effect.try({ try: () => entries.map((e) => write(topic, e.key, e.payload, session)), catch: (e) => e as JournalIoError }),
        end: () => {
          session.ended = true
        }
      }
    },
    hash: () => {
      const h = createHash("sha256")
      for (const t of TOPICS) {
        for (const r of log(t)) {
          h.update(`${t}/${r.offset.offset}/${r.key}/${r.ts}:`)
          h.update(r.payload)
        }
      }
      return h.digest("hex")
    }
  }
  return journal
}
