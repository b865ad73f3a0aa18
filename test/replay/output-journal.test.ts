import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { JOURNAL_TOPICS, type JournalService, type JournalTopic } from "../../src/actors/ports/journal.js"
import { openFileJournal } from "../../src/adapters/journal/file/file-journal.js"
import { openReplayOutputJournal } from "../../src/replay/output-journal.js"
import { tempDir } from "./helpers.js"

/** Every file of a journal directory (segments and index files), by relative path. */
const files = (dir: string): Map<string, Buffer> => {
  const out = new Map<string, Buffer>()
  for (const topic of JOURNAL_TOPICS) for (const f of readdirSync(join(dir, topic)).sort()) out.set(`${topic}/${f}`, readFileSync(join(dir, topic, f)))
  return out
}

/** A run's appends: one at a time, mixed topics and sizes, the clock moving every few appends. */
const appendAll = async (journal: JournalService, clock: { t: number }): Promise<string[]> => {
  const offsets: string[] = []
  for (let i = 0; i < 600; i++) {
    if (i % 7 === 0) clock.t += 10
    const topic: JournalTopic = i % 3 === 0 ? "orders" : "strategy"
    const payload = new Uint8Array(40 + ((i * 37) % 300)).fill(i % 251)
    offsets.push((await Effect.runPromise(journal.append(topic, `key-${i % 5}`, payload, { durable: topic === "orders" }))).offset)
  }
  return offsets
}

describe("replay output journal", () => {
  it("writes byte for byte the segments and index files the file journal writes for the same appends, rolls included", async () => {
    const segmentBytes = 16 * 1024
    const fileDir = tempDir("file-journal")
    const fileClock = { t: 1_700_000_000_000 }
    const file = await Effect.runPromise(openFileJournal({ dir: fileDir, fsync: { kind: "never" }, segmentBytes, now: () => fileClock.t }))
    const fileOffsets = await appendAll(file, fileClock)
    await Effect.runPromise(file.close())

    const outDir = tempDir("output-journal")
    const outClock = { t: 1_700_000_000_000 }
    const out = await Effect.runPromise(openReplayOutputJournal(outDir, () => outClock.t, { segmentBytes, writeBytes: 5_000 }))
    const outOffsets = await appendAll(out, outClock)
    await Effect.runPromise(out.flush())
    await Effect.runPromise(out.close())

    expect(outOffsets).toEqual(fileOffsets)
    const expected = files(fileDir)
    // The run did roll segments, so the roll rule and the index files are compared too.
    expect([...expected.keys()].filter((f) => f.endsWith(".idx")).length).toBeGreaterThan(2)
    const actual = files(outDir)
    expect([...actual.keys()]).toEqual([...expected.keys()])
    for (const [name, bytes] of expected) expect(actual.get(name)?.equals(bytes), name).toBe(true)
  })

  it("refuses a directory that already holds a journal", async () => {
    const dir = tempDir("output-journal")
    const first = await Effect.runPromise(openReplayOutputJournal(dir, () => 0))
    await Effect.runPromise(first.close())
    const again = await Effect.runPromise(Effect.either(openReplayOutputJournal(dir, () => 0)))
    expect(again._tag).toBe("Left")
  })
})
