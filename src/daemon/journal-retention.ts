import { Effect, Option } from "effect"
import type { JournalTopic } from "../actors/ports/journal.js"
import type { StoreService } from "../actors/ports/store.js"
import type { FileJournal, PruneResult } from "../adapters/journal/file/file-journal.js"
import { LEDGER_VERSION } from "../domain/ledger.js"
import { AUDIT_TOPICS, LEDGER_TOPICS, PROJECTION_BATCH } from "./recovery.js"

/**
 * Retention of the embedded file journal. A segment is deleted when all of these hold:
 *
 * - it is sealed (the segment being written is never deleted);
 * - every record in it is below the topic's floor — for `orders`, the offset the stored ledger
 *   snapshot covers (recovery starts there) and the audit trail's high watermark less one
 *   projection batch (the audit rebuild starts there), whichever is lower; for `control`, the
 *   audit floor, but `control` is kept whole (see below). No snapshot of this build's ledger version, or no audit row yet: the floor is 0
 *   and nothing of that topic is deleted;
 * - it ended more than `hours` ago (record time).
 *
 * `md` and `strategy` rebuild nothing (recovery folds `orders`, the audit trail `orders` and
 * `control`): only the window applies, and beyond `maxMb` per topic the oldest of their sealed
 * segments go even inside the window. Recovery then starts from the snapshot; a journal whose
 * deleted part no snapshot covers is refused at recovery (`JournalHistoryMissing`).
 *
 * `control` is never deleted: the strategy roster is rebuilt from all of it at start, and it holds
 * operator actions only (a few bytes per command).
 *
 * Disk bound with the defaults: orders keep `hours` of history plus one segment, and
 * more only while the snapshot or the audit projection lags; md/strategy at most `maxMb` plus one
 * segment each (segments are 64 MiB).
 */
export interface JournalRetention {
  /** Hours of history every topic keeps. */
  readonly hours: number
  /** Cap per topic, MiB, for the topics nothing is rebuilt from (`md`, `strategy`). */
  readonly maxMb: number
  /** How often the daemon runs a pass. */
  readonly everySeconds: number
}

export const DEFAULT_JOURNAL_RETENTION: JournalRetention = { hours: 24, maxMb: 1024, everySeconds: 300 }

const MIB = 1024 * 1024

/** Per topic, the offset below which the snapshot and the audit trail no longer need records. */
export const retentionFloors = (
  store: StoreService,
  ledgerActorId: string
): Effect.Effect<Partial<Record<JournalTopic, number>>, unknown> =>
  Effect.gen(function* () {
    const saved = yield* store.loadSnapshot(ledgerActorId)
    const audited = new Map((yield* store.auditHighWatermark()).map((o) => [o.topic, Number(o.offset)]))
    const floors: Partial<Record<JournalTopic, number>> = { md: Number.POSITIVE_INFINITY, strategy: Number.POSITIVE_INFINITY }
    // Only a snapshot recovery can read counts: another version makes recovery start from 0.
    const covered = Option.isSome(saved) && saved.value.machineVersion === LEDGER_VERSION ? new Map(saved.value.offsets.map((o) => [o.topic, Number(o.offset)])) : new Map<string, number>()
    for (const topic of new Set([...LEDGER_TOPICS, ...AUDIT_TOPICS])) {
      let floor = Number.POSITIVE_INFINITY
      if (LEDGER_TOPICS.includes(topic)) floor = Math.min(floor, covered.get(topic) ?? 0)
      if (AUDIT_TOPICS.includes(topic)) floor = Math.min(floor, Math.max(0, (audited.get(topic) ?? 0) - PROJECTION_BATCH))
      floors[topic] = floor
    }
    // `control` is never deleted: the strategy roster (strategies added, stopped, reconfigured at
    // run time) is rebuilt from the whole topic at every start, and it holds operator actions only.
    floors.control = 0
    return floors
  })

/** One retention pass over the file journal (see the module note). */
export const pruneFileJournal = (
  journal: FileJournal,
  store: StoreService,
  ledgerActorId: string,
  policy: JournalRetention,
  now: number
): Effect.Effect<ReadonlyArray<PruneResult>, unknown> =>
  Effect.gen(function* () {
    const keepFrom = yield* retentionFloors(store, ledgerActorId)
    const cap = policy.maxMb * MIB
    return yield* journal.prune({ keepFrom, olderThan: now - policy.hours * 3_600_000, maxBytes: { md: cap, strategy: cap } })
  })

/**
 * The daemon's retention loop: a pass every `everySeconds` (never two at once); what it deleted
 * is logged, a failure is logged and retried at the next pass (nothing is deleted then).
 * Returns the stop function.
 */
export const startFileJournalRetention = (deps: {
  readonly journal: FileJournal
  readonly store: StoreService
  readonly ledgerActorId: string
  readonly policy: JournalRetention
  readonly now: () => number
  readonly log: (message: string) => void
}): (() => void) => {
  let running = false
  const pass = (): void => {
    if (running) return
    running = true
    void Effect.runPromise(Effect.either(pruneFileJournal(deps.journal, deps.store, deps.ledgerActorId, deps.policy, deps.now())))
      .then((r) => {
        if (r._tag === "Left") return deps.log(`journal retention: pass failed, nothing deleted: ${String(r.left)}`)
        for (const t of r.right) if (t.segments > 0) deps.log(`journal retention: ${t.topic}: ${t.segments} segments (${(t.bytes / MIB).toFixed(1)} MiB) deleted, starts at offset ${t.startOffset}`)
      })
      .finally(() => {
        running = false
      })
  }
  const timer = setInterval(pass, deps.policy.everySeconds * 1000)
  timer.unref()
  return () => clearInterval(timer)
}

/** Config (hours / MiB, -1 unlimited) to Kafka topic retention overrides. */
export const kafkaTopicRetention = (
  c: Partial<Record<JournalTopic, { readonly hours: number; readonly mb: number }>>
): Partial<Record<JournalTopic, { readonly ms: number; readonly bytes: number }>> =>
  Object.fromEntries(
    Object.entries(c).map(([topic, r]) => [topic, { ms: r.hours === -1 ? -1 : r.hours * 3_600_000, bytes: r.mb === -1 ? -1 : r.mb * MIB }])
  )
