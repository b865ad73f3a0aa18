import { existsSync } from "node:fs"
import { join } from "node:path"
import { Effect, Either, Stream } from "effect"
import { journalOffset } from "../actors/ports/journal.js"
import { openFileJournal } from "../adapters/journal/file/file-journal.js"
import type { StrategyRecordRow } from "../analytics/dataset.js"
import { decodeEvent } from "../domain/codec.js"

/**
 * The strategy records (`StrategyRecord` events, topic `strategy`) of the file journal under
 * `home/journal`, for the report's "Strategy records" section. The store keeps none, so the
 * journal is where they are. Only while no daemon runs: opening a file journal repairs a torn
 * tail, which must never race the daemon's writer (the caller checks). A Kafka journal is not
 * read here (the report says so). Undecodable records are counted, not fatal.
 */
export const readJournalStrategyRecords = async (home: string): Promise<{ readonly rows: ReadonlyArray<StrategyRecordRow>; readonly skipped: number } | undefined> => {
  const dir = join(home, "journal")
  if (!existsSync(dir)) return undefined
  const rows: StrategyRecordRow[] = []
  let skipped = 0
  await Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const journal = yield* Effect.acquireRelease(openFileJournal({ dir, fsync: { kind: "never" } }), (j) => j.close())
        yield* journal.read(journalOffset("strategy", 0, 0)).pipe(
          Stream.runForEach((record) =>
            Effect.sync(() => {
              const decoded = decodeEvent(record.payload)
              if (Either.isLeft(decoded) || decoded.right._tag !== "StrategyRecord") {
                skipped++
                return
              }
              const e = decoded.right
              rows.push({ strategy: e.strategy, name: e.instrument === undefined ? e.name : `${e.name} ${e.instrument}`, value: String(e.value), ts: e.ts })
            })
          )
        )
      })
    )
  )
  return { rows, skipped }
}
