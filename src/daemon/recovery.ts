import { Data, Effect, Either, Option, Stream } from "effect"
import type { JournalOffset, JournalService, JournalTopic } from "../actors/ports/journal.js"
import type { StoreService } from "../actors/ports/store.js"
import { decodeEvent } from "../domain/codec.js"
import type { CanonicalEvent } from "../domain/events/index.js"
import type { Instrument } from "../domain/instrument.js"
import { LEDGER_VERSION, TradingLedger } from "../domain/ledger.js"

/**
 * Recovery of one account's trading state: the last ledger snapshot, then the journal after
 * the snapshot's offsets. The audit projection is caught up on the way: every record from the
 * audit trail's high watermark (less one projection batch, since a batch is written table by
 * table) is handed to `reproject`, which inserts idempotently.
 *
 * A snapshot the code cannot read — another ledger version, or corrupt — is not trusted: the
 * ledger is rebuilt from the start of the journal instead (slower, same result).
 */
export interface RecoveryReport {
  readonly ledger: TradingLedger
  /** "snapshot" when one was used, else why not ("none", or the reason it was refused). */
  readonly snapshot: string
  readonly replayed: number
  readonly reprojected: number
  readonly undecodable: number
  /** The first undecodable records (at most MAX_LISTED), in journal order. */
  readonly undecodableRecords: ReadonlyArray<UndecodableRecord>
  readonly ms: number
}

/** A journal record recovery could not decode: where it is, and why. */
export interface UndecodableRecord {
  readonly topic: string
  readonly partition: number
  readonly offset: string
  readonly key: string
  readonly error: string
}

const MAX_LISTED = 100

/** `orders/0@1234 (key acct/kraken-futures:PF_XBTUSD): <why>`, for logs and the fail-closed message. */
export const describeUndecodable = (r: UndecodableRecord): string => `${r.topic}/${r.partition}@${r.offset} (key ${r.key}): ${r.error}`

export interface RecoveryDeps {
  readonly actorId: string
  readonly journal: JournalService
  readonly store: StoreService
  readonly instruments: (id: string) => Instrument | undefined
  readonly reproject: (event: CanonicalEvent, offset: JournalOffset) => void
  readonly now: () => number
  /**
   * Each record that does not decode. It is never folded nor re-projected; whether the account
   * may trade on a ledger that lacks it is the caller's decision (the daemon fails closed).
   */
  readonly onUndecodable?: (record: UndecodableRecord) => void
  /**
   * Fold only the records of this account (journal key `account` or `account/...`): in a cluster
   * several accounts share the topics. Absent: every record is folded (one account per journal).
   */
  readonly account?: string
  /** How many partitions are read at once (default all). */
  readonly readConcurrency?: number
}

export const LEDGER_TOPICS: ReadonlyArray<JournalTopic> = ["orders"]
export const AUDIT_TOPICS: ReadonlyArray<JournalTopic> = ["orders", "control"]
/** EventJournal's projection batch size: the rows of one batch may be partly written. */
export const PROJECTION_BATCH = 2_000

/**
 * Recovery needs journal records that retention has deleted: the snapshot (or the audit trail)
 * that covered them is gone, another ledger version, or the store is a new one. Trading from a
 * ledger folded from the middle of the history would be wrong, so recovery refuses.
 */
export class JournalHistoryMissing extends Data.TaggedError("JournalHistoryMissing")<{
  readonly topic: JournalTopic
  readonly partition: number
  readonly needed: string
  readonly start: string
  readonly why: string
}> {
  override get message(): string {
    return (
      `recovery needs journal ${this.topic}/${this.partition} from offset ${this.needed} (${this.why}), but the journal starts at ${this.start}: ` +
      `older segments were deleted by retention and no snapshot or audit trail covers them. Restore the store that held the snapshot, or start on a new TROUPE_HOME`
    )
  }
}

export const ledgerActorId = (account: string): string => `ledger/${account}`

export const recoverLedger = (deps: RecoveryDeps): Effect.Effect<RecoveryReport, unknown> =>
  Effect.gen(function* () {
    const started = deps.now()
    const saved = yield* deps.store.loadSnapshot(deps.actorId)
    let ledger = new TradingLedger(deps.instruments)
    let snapshot = "none"
    if (Option.isSome(saved)) {
      const s = saved.value
      const restored = s.machineVersion === LEDGER_VERSION ? TradingLedger.fromSnapshot(s.snapshot, deps.instruments) : Either.left(`snapshot of version ${s.machineVersion}, this build reads ${LEDGER_VERSION}`)
      if (Either.isRight(restored)) {
        ledger = restored.right
        ledger.restoreOffsets(s.offsets)
        snapshot = "snapshot"
      } else snapshot = `rebuilt from the journal (${restored.left})`
    }
    const covered = new Map(ledger.coveredOffsets().map((o) => [`${o.topic}/${o.partition}`, BigInt(o.offset)]))
    const audited = new Map((yield* deps.store.auditHighWatermark()).map((o) => [`${o.topic}/${o.partition}`, BigInt(o.offset)]))
    const ends = yield* deps.journal.endOffsets()
    const starts = new Map(((yield* deps.journal.startOffsets?.() ?? Effect.succeed([])) as ReadonlyArray<JournalOffset>).map((o) => [`${o.topic}/${o.partition}`, BigInt(o.offset)]))
    const own = deps.account
    const ownRecord = (key: string): boolean => own === undefined || key === own || key.startsWith(`${own}/`)
    let replayed = 0
    let reprojected = 0
    let undecodable = 0
    const undecodableRecords: UndecodableRecord[] = []
    // What to read of each partition, checked before any read starts.
    const plan: Array<{ readonly topic: JournalTopic; readonly partition: number; readonly from: bigint; readonly foldFrom: bigint; readonly auditFrom: bigint; readonly folds: boolean; readonly audits: boolean }> = []
    for (const end of ends) {
      const folds = LEDGER_TOPICS.includes(end.topic)
      const audits = AUDIT_TOPICS.includes(end.topic)
      if (!folds && !audits) continue
      const k = `${end.topic}/${end.partition}`
      const foldFrom = folds ? (covered.get(k) ?? 0n) : BigInt(end.offset)
      const auditHw = audited.get(k)
      const auditFrom = !audits ? BigInt(end.offset) : auditHw === undefined ? 0n : auditHw > BigInt(PROJECTION_BATCH) ? auditHw - BigInt(PROJECTION_BATCH) : 0n
      const from = foldFrom < auditFrom ? foldFrom : auditFrom
      if (from >= BigInt(end.offset)) continue
      const start = starts.get(k) ?? 0n
      if (from < start) {
        const why = from === foldFrom && folds ? `ledger ${snapshot === "snapshot" ? "snapshot covers up to it" : snapshot}` : "audit trail's high watermark less one projection batch"
        return yield* Effect.fail(new JournalHistoryMissing({ topic: end.topic, partition: end.partition, needed: from.toString(), start: start.toString(), why }))
      }
      plan.push({ topic: end.topic, partition: end.partition, from, foldFrom, auditFrom, folds, audits })
    }
    // The partitions are read at once: a Kafka read starts with a group join of its own, which
    // dominated recovery when they were read one after the other (docs/cluster.md, "Failover
    // time"). Records of one partition are folded in order; across partitions the fold never
    // depended on an order (one account/instrument lives in one partition, and the replay's
    // partition-by-partition order was never the order of the appends either).
    yield* Effect.forEach(
      plan,
      ({ topic, partition, from, foldFrom, auditFrom, folds, audits }) =>
        Stream.runForEach(deps.journal.read({ topic, partition, offset: from.toString() }), (record) =>
          Effect.sync(() => {
            const decoded = decodeEvent(record.payload)
            if (Either.isLeft(decoded)) {
              undecodable++
              const r: UndecodableRecord = {
                topic: record.offset.topic,
                partition: record.offset.partition,
                offset: record.offset.offset,
                key: record.key,
                error: `${decoded.left.tag ?? "unknown event"}${decoded.left.path === "" ? "" : ` at ${decoded.left.path}`}: ${decoded.left.reason}`.slice(0, 300)
              }
              undecodableRecords.push(r)
              deps.onUndecodable?.(r)
              return
            }
            const at = BigInt(record.offset.offset)
            if (at >= foldFrom && folds && ownRecord(record.key)) {
              ledger.apply(decoded.right, record.offset)
              replayed++
            }
            if (at >= auditFrom && audits) {
              deps.reproject(decoded.right, record.offset)
              reprojected++
            }
          })
        ),
      { concurrency: deps.readConcurrency ?? "unbounded", discard: true }
    )
    // Journal order for the listing (the reads interleaved).
    const order = new Map(plan.map((p, i) => [`${p.topic}/${p.partition}`, i]))
    undecodableRecords.sort((a, b) => order.get(`${a.topic}/${a.partition}`)! - order.get(`${b.topic}/${b.partition}`)! || (BigInt(a.offset) < BigInt(b.offset) ? -1 : 1))
    undecodableRecords.splice(MAX_LISTED)
    return { ledger, snapshot, replayed, reprojected, undecodable, undecodableRecords, ms: deps.now() - started }
  })

/** Saves the ledger with the offsets it covers (consistent: both read in the same tick). */
export const saveLedgerSnapshot = (store: StoreService, actorId: string, ledger: TradingLedger, now: number): Effect.Effect<void, unknown> =>
  store.saveSnapshot({ actorId, machineVersion: LEDGER_VERSION, snapshot: ledger.toSnapshot(), offsets: ledger.coveredOffsets() as ReadonlyArray<JournalOffset>, takenAt: now })
