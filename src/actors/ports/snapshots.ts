import { Context, Data, Effect, Layer, Option } from "effect"
import type { JournalOffset } from "./journal.js"

/**
 * The snapshots port of the actor host: the last saved state of each actor, keyed by actor id.
 * The record is the store's `ActorSnapshot` shape (the Postgres/PGlite adapter implements this
 * port over its snapshots table); `snapshot` is `HostedSnapshot`: the XState persisted snapshot
 * plus the actor's own data (a book, a position), both JSON.
 */

export interface HostedSnapshot {
  readonly machine: unknown
  readonly data: unknown
}

export interface SnapshotRecord {
  readonly actorId: string
  /** Id + version of the machine definition; a snapshot of another version is not restored. */
  readonly machineVersion: string
  readonly snapshot: HostedSnapshot
  /** The journal positions the snapshot covers (exclusive ends): replay resumes at these. */
  readonly offsets: ReadonlyArray<JournalOffset>
  readonly takenAt: number
}

export class SnapshotError extends Data.TaggedError("SnapshotError")<{
  readonly actorId: string
  readonly operation: "save" | "load"
  readonly cause: unknown
}> {
  override get message(): string {
    return `snapshot ${this.operation} of ${this.actorId} failed: ${String(this.cause)}`
  }
}

export interface SnapshotsService {
  /** Replaces the actor's snapshot. */
  readonly save: (record: SnapshotRecord) => Effect.Effect<void, SnapshotError>
  readonly load: (actorId: string) => Effect.Effect<Option.Option<SnapshotRecord>, SnapshotError>
}

export class Snapshots extends Context.Tag("troupe/Snapshots")<Snapshots, SnapshotsService>() {}

export interface InMemorySnapshots extends SnapshotsService {
  readonly get: (actorId: string) => SnapshotRecord | undefined
  readonly saves: () => number
}

/**
 * Snapshots in a Map, for tests, benches and replays. Records go through JSON on save, as they
 * would to a database, so a snapshot that does not survive serialization fails here too.
 */
export const makeInMemorySnapshots = (): InMemorySnapshots => {
  const records = new Map<string, string>()
  let saves = 0
  const get = (actorId: string): SnapshotRecord | undefined => {
    const text = records.get(actorId)
    return text === undefined ? undefined : (JSON.parse(text) as SnapshotRecord)
  }
  return {
    save: (record) =>
      Effect.try({
        try: () => {
          records.set(record.actorId, JSON.stringify(record))
          saves++
        },
        catch: (cause) => new SnapshotError({ actorId: record.actorId, operation: "save", cause })
      }),
    load: (actorId) => Effect.sync(() => Option.fromNullable(get(actorId))),
    get,
    saves: () => saves
  }
}

export const inMemorySnapshotsLayer = (snapshots: InMemorySnapshots = makeInMemorySnapshots()): Layer.Layer<Snapshots> =>
  Layer.succeed(Snapshots, snapshots)
