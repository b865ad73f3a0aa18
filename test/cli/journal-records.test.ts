import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { openFileJournal } from "../../src/adapters/journal/file/file-journal.js"
import { readJournalStrategyRecords } from "../../src/cli/journal-records.js"
import { encodeEvent } from "../../src/domain/codec.js"
import { dec } from "../../src/domain/decimal.js"
import type { CanonicalEvent } from "../../src/domain/events/index.js"

const home = mkdtempSync(join(tmpdir(), "troupe-records-"))
afterAll(() => rmSync(home, { recursive: true, force: true }))

describe("strategy records for the report", () => {
  it("are read from the file journal's strategy topic, other records skipped and counted", async () => {
    expect(await readJournalStrategyRecords(join(home, "nowhere"))).toBeUndefined()
    const journal = await Effect.runPromise(openFileJournal({ dir: join(home, "journal"), fsync: { kind: "never" } }))
    const record = (id: string, name: string, value: unknown, instrument?: string): Uint8Array =>
      encodeEvent({ _tag: "StrategyRecord", id, ts: 1_767_225_600_000 + Number(id.slice(-1)), source: "strategy/mm", strategy: "mm", name, value, ...(instrument === undefined ? {} : { instrument }) } as unknown as CanonicalEvent)
    await Effect.runPromise(journal.append("strategy", "mm", record("r-1", "inventory", 3), { durable: true }))
    await Effect.runPromise(journal.append("strategy", "mm", record("r-2", "fair", dec("60000.5"), "kraken-futures:PF_XBTUSD"), { durable: true }))
    await Effect.runPromise(journal.append("strategy", "mm", new Uint8Array([1, 2, 3]), { durable: true }))
    await Effect.runPromise(journal.close())
    const read = await readJournalStrategyRecords(home)
    expect(read?.skipped).toBe(1)
    expect(read?.rows).toEqual([
      { strategy: "mm", name: "inventory", value: "3", ts: 1_767_225_600_001 },
      { strategy: "mm", name: "fair kraken-futures:PF_XBTUSD", value: "60000.5", ts: 1_767_225_600_002 }
    ])
  })
})
