import { createHash } from "node:crypto"
import { mkdtempSync, readdirSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Either, Stream } from "effect"
import { journalOffset, JOURNAL_TOPICS } from "../../src/actors/ports/journal.js"
import { openFileJournal } from "../../src/adapters/journal/file/file-journal.js"
import { decodeEvent } from "../../src/domain/codec.js"
import type { CanonicalEvent } from "../../src/domain/events/index.js"
import { parseRecording, type MarketInput } from "../../src/replay/market-input.js"
import { runReplay, type ReplayOptions, type ReplayResult } from "../../src/replay/replay.js"
import { syntheticRecording } from "./fixtures/synthetic-recording.js"

export const XBT = "kraken-futures:PF_XBTUSD"
export const ETH = "kraken-futures:PF_ETHUSD"

/** The recording the replay tests share: seeded, two instruments, 20 s of market at 10 ms steps. */
export const RECORDING = { seed: 7, messages: 2_000 } as const

let cached: { text: string; input: MarketInput } | undefined
export const recording = (): { text: string; input: MarketInput } => {
  if (cached === undefined) {
    const text = syntheticRecording(RECORDING)
    cached = { text, input: parseRecording(text, "synthetic-7") }
  }
  return cached
}

export const tempDir = (prefix: string): string => mkdtempSync(join(tmpdir(), `troupe-${prefix}-`))

export const replay = (options: Omit<ReplayOptions, "input" | "outDir"> & { readonly outDir?: string }): Promise<ReplayResult> =>
  runReplay({ input: recording().input, outDir: options.outDir ?? tempDir("replay"), store: false, ...options })

/** sha256 over every segment file of the output journal, in topic and file order. */
export const journalHash = (journalDir: string): string => {
  const h = createHash("sha256")
  for (const topic of JOURNAL_TOPICS) {
    for (const file of readdirSync(join(journalDir, topic)).filter((f) => f.endsWith(".log")).sort()) {
      h.update(`${topic}/${file}\n`)
      h.update(readFileSync(join(journalDir, topic, file)))
    }
  }
  return h.digest("hex")
}

/** Every event of one topic of a journal, decoded. */
export const readTopic = (journalDir: string, topic: (typeof JOURNAL_TOPICS)[number]): Promise<CanonicalEvent[]> =>
  Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const j = yield* Effect.acquireRelease(openFileJournal({ dir: journalDir, fsync: { kind: "never" } }), (x) => x.close())
        const records = yield* Stream.runCollect(j.read(journalOffset(topic, 0, 0)))
        return [...records].map((r) => {
          const e = decodeEvent(r.payload)
          if (Either.isLeft(e)) throw e.left
          return e.right
        })
      })
    )
  )
