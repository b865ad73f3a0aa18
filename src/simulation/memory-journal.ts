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
  /** Called after each record is written (the simulation's write-ahead check reads it). */
  onWritten: ((topic: JournalTopic, record: JournalRecord) => void) | undefined
}

const TOPICS: ReadonlyArray<JournalTopic> = ["md", "orders", "strategy", "control"]

export const makeMemoryJournal = (now: () => number): MemoryJournal => {
  const logs = new Map<JournalTopic, JournalRecord[]>(TOPICS.map((t) => [t, []]))
  const log = (topic: JournalTopic): JournalRecord[] => logs.get(topic) as JournalRecord[]
  const write = (topic: JournalTopic, key: string, payload: Uint8Array): JournalOffset => {
    const why = journal.refuse?.(topic)
    if (why !== undefined) throw new JournalIoError({ op: "append", topic, cause: new Error(why) })
    const records = log(topic)
    const offset = journalOffset(topic, 0, records.length)
    const record: JournalRecord = { offset, key, payload: payload.slice(), ts: now() }
    records.push(record)
    journal.onWritten?.(topic, record)
    return offset
  }
  const journal: MemoryJournal = {
    refuse: undefined,
    onWritten: undefined,
    append: (topic, key, payload) => Effect.try({ try: () => write(topic, key, payload), catch: (e) => e as JournalIoError }),
    appendNow: (topic, key, payload) => {
      try {
        return Promise.resolve(write(topic, key, payload))
      } catch (e) {
        return Promise.reject(e as Error)
      }
    },
    appendBatch: (topic, entries) => Effect.try({ try: () => entries.map((e) => write(topic, e.key, e.payload)), catch: (e) => e as JournalIoError }),
    read: (from) => Stream.suspend(() => Stream.fromIterable(log(from.topic).slice(Number(from.offset)))),
    endOffsets: () => Effect.sync(() => TOPICS.map((t) => journalOffset(t, 0, log(t).length))),
    startOffsets: () => Effect.sync(() => TOPICS.map((t) => journalOffset(t, 0, 0))),
    close: () => Effect.void,
    records: (topic) => log(topic),
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
