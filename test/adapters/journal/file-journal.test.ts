import { mkdtempSync, readdirSync, rmSync, statSync, truncateSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Chunk, Effect, Either, Layer, Stream } from "effect"
import fc from "fast-check"
import { afterEach, describe, expect, it } from "vitest"
import { makeSimulatedClock, simulatedClockLayer } from "../../../src/actors/clock.js"
import { Journal, journalOffset, type JournalTopic } from "../../../src/actors/ports/journal.js"
import { FileJournalLive, openFileJournal, type FileJournal, type FileJournalConfig } from "../../../src/adapters/journal/file/file-journal.js"

const dirs: string[] = []
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), "troupe-journal-"))
  dirs.push(d)
  return d
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

const open = (config: Partial<FileJournalConfig> & { dir: string }): Promise<FileJournal> =>
  Effect.runPromise(openFileJournal({ fsync: { kind: "always" }, now: () => 1_700_000_000_000, ...config }))

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s)
const text = (b: Uint8Array): string => new TextDecoder().decode(b)

const readAll = (j: FileJournal, topic: JournalTopic, from = 0) =>
  Effect.runPromise(Stream.runCollect(j.read(journalOffset(topic, 0, from))).pipe(Effect.map(Chunk.toArray)))

const appendMany = async (j: FileJournal, topic: JournalTopic, payloads: ReadonlyArray<string>, durable = true): Promise<string[]> => {
  const offsets: string[] = []
  for (const p of payloads) offsets.push((await Effect.runPromise(j.append(topic, `k-${p}`, bytes(p), { durable }))).offset)
  return offsets
}

const lastSegment = (dir: string, topic: JournalTopic): string => {
  const logs = readdirSync(join(dir, topic)).filter((n) => n.endsWith(".log")).sort()
  return join(dir, topic, logs[logs.length - 1] as string)
}

describe("file journal", () => {
  it("reads back what was appended, with keys, timestamps and per-topic offsets", async () => {
    const dir = tempDir()
    const j = await open({ dir })
    expect(await appendMany(j, "orders", ["a", "b", "c"])).toEqual(["0", "1", "2"])
    const batch = await Effect.runPromise(j.appendBatch("md", [{ key: "x", payload: bytes("m0") }, { key: "y", payload: new Uint8Array() }], { durable: false }))
    expect(batch).toEqual([journalOffset("md", 0, 0), journalOffset("md", 0, 1)])

    const orders = await readAll(j, "orders")
    expect(orders.map((r) => [r.offset.offset, r.key, text(r.payload), r.ts])).toEqual([
      ["0", "k-a", "a", 1_700_000_000_000],
      ["1", "k-b", "b", 1_700_000_000_000],
      ["2", "k-c", "c", 1_700_000_000_000]
    ])
    expect((await readAll(j, "orders", 2)).map((r) => text(r.payload))).toEqual(["c"])
    expect((await readAll(j, "orders", 3)).length).toBe(0)
    expect((await readAll(j, "md")).map((r) => r.key)).toEqual(["x", "y"])
    expect(await Effect.runPromise(j.endOffsets())).toEqual([
      journalOffset("md", 0, 2),
      journalOffset("orders", 0, 3),
      journalOffset("strategy", 0, 0),
      journalOffset("control", 0, 0)
    ])
    await Effect.runPromise(j.close())
  })

  it("as a layer, stamps records with the injected clock and closes the journal with its scope", async () => {
    const dir = tempDir()
    const clock = makeSimulatedClock(42_000)
    const layer = FileJournalLive({ dir, fsync: { kind: "always" } }).pipe(Layer.provide(simulatedClockLayer(clock)))
    const offset = await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const journal = yield* Journal
          return yield* journal.append("control", "operator", bytes("halt"), { durable: true })
        }).pipe(Effect.provide(layer))
      )
    )
    expect(offset).toEqual(journalOffset("control", 0, 0))
    const reopened = await open({ dir })
    expect((await readAll(reopened, "control")).map((r) => [r.ts, text(r.payload)])).toEqual([[42_000, "halt"]])
    await Effect.runPromise(reopened.close())
  })

  it("rejects a read past the end and an append after close with typed errors", async () => {
    const j = await open({ dir: tempDir() })
    await appendMany(j, "control", ["halt"])
    const past = await Effect.runPromise(Effect.either(Stream.runCollect(j.read(journalOffset("control", 0, 5)))))
    expect(Either.isLeft(past) && past.left._tag).toBe("JournalOffsetError")
    const otherPartition = await Effect.runPromise(Effect.either(Stream.runCollect(j.read(journalOffset("control", 1, 0)))))
    expect(Either.isLeft(otherPartition) && otherPartition.left._tag).toBe("JournalOffsetError")
    await Effect.runPromise(j.close())
    const after = await Effect.runPromise(Effect.either(j.append("control", "k", bytes("x"), { durable: true })))
    expect(Either.isLeft(after) && after.left._tag).toBe("JournalClosedError")
  })

  it("keeps offsets contiguous across segment rolls and a reopen, and seeks into sealed segments", async () => {
    const dir = tempDir()
    const first = Array.from({ length: 40 }, (_, i) => `payload-${i}`)
    const j1 = await open({ dir, segmentBytes: 256, indexIntervalBytes: 64 })
    expect(await appendMany(j1, "strategy", first)).toEqual(first.map((_, i) => String(i)))
    await Effect.runPromise(j1.close())
    const segments = readdirSync(join(dir, "strategy")).filter((n) => n.endsWith(".log"))
    expect(segments.length).toBeGreaterThan(4)
    // A lost index file is rebuilt by a scan, not trusted blindly.
    rmSync(join(dir, "strategy", segments[1]?.replace(".log", ".idx") as string))

    const j2 = await open({ dir, segmentBytes: 256, indexIntervalBytes: 64 })
    expect(j2.repairs).toEqual([])
    const second = Array.from({ length: 10 }, (_, i) => `later-${i}`)
    expect(await appendMany(j2, "strategy", second)).toEqual(second.map((_, i) => String(40 + i)))
    const all = await readAll(j2, "strategy")
    expect(all.map((r) => r.offset.offset)).toEqual([...first, ...second].map((_, i) => String(i)))
    expect(all.map((r) => text(r.payload))).toEqual([...first, ...second])
    for (const from of [7, 13, 39, 45]) {
      expect((await readAll(j2, "strategy", from)).map((r) => text(r.payload))).toEqual([...first, ...second].slice(from))
    }
    await Effect.runPromise(j2.close())
  })

  it("repairs a tail cut mid-record: earlier records intact, appends continue at the cut", async () => {
    const dir = tempDir()
    const j1 = await open({ dir })
    await appendMany(j1, "orders", ["r0", "r1", "r2", "r3"])
    await Effect.runPromise(j1.close())
    const file = lastSegment(dir, "orders")
    truncateSync(file, statSync(file).size - 3)

    const j2 = await open({ dir })
    expect(j2.repairs).toEqual([expect.objectContaining({ topic: "orders", atOffset: 3, truncatedBytes: 34 - 3 })])
    expect((await readAll(j2, "orders")).map((r) => text(r.payload))).toEqual(["r0", "r1", "r2"])
    expect(await appendMany(j2, "orders", ["r3-again"])).toEqual(["3"])
    expect((await readAll(j2, "orders")).map((r) => text(r.payload))).toEqual(["r0", "r1", "r2", "r3-again"])
    await Effect.runPromise(j2.close())
  })

  it("repairs a last record whose bytes were flipped", async () => {
    const dir = tempDir()
    const j1 = await open({ dir })
    await appendMany(j1, "orders", ["r0", "r1", "r2"])
    await Effect.runPromise(j1.close())
    const file = lastSegment(dir, "orders")
    const buf = readFileSync(file)
    buf[buf.length - 1] = (buf[buf.length - 1] as number) ^ 0xff
    writeFileSync(file, buf)

    const j2 = await open({ dir })
    expect(j2.repairs).toEqual([expect.objectContaining({ topic: "orders", atOffset: 2, reason: "checksum mismatch" })])
    expect((await readAll(j2, "orders")).map((r) => text(r.payload))).toEqual(["r0", "r1"])
    expect(await appendMany(j2, "orders", ["r2-again"])).toEqual(["2"])
    await Effect.runPromise(j2.close())
    const j3 = await open({ dir })
    expect(j3.repairs).toEqual([])
    expect((await readAll(j3, "orders")).map((r) => text(r.payload))).toEqual(["r0", "r1", "r2-again"])
    await Effect.runPromise(j3.close())
  })

  it("group-commits 100 concurrent durable appends into far fewer fsyncs than appends", async () => {
    const j = await open({ dir: tempDir() })
    const before = j.stats().fsyncs
    const offsets = await Effect.runPromise(
      Effect.all(
        Array.from({ length: 100 }, (_, i) => j.append("orders", "acct/inst", bytes(`intent-${i}`), { durable: true })),
        { concurrency: "unbounded" }
      )
    )
    const fsyncs = j.stats().fsyncs - before
    expect(new Set(offsets.map((o) => o.offset)).size).toBe(100)
    expect(fsyncs).toBeGreaterThan(0)
    expect(fsyncs).toBeLessThanOrEqual(10)
    // The counter is not vacuous: one-at-a-time durable appends pay one fsync each.
    const sequentialBefore = j.stats().fsyncs
    await appendMany(j, "orders", ["s0", "s1", "s2", "s3", "s4"])
    expect(j.stats().fsyncs - sequentialBefore).toBe(5)
    await Effect.runPromise(j.close())
  })

  it("under the interval policy, shows non-durable records to readers only once synced", async () => {
    const j = await open({ dir: tempDir(), fsync: { kind: "interval", ms: 100 } })
    const opened = j.stats().fsyncs
    await Effect.runPromise(j.append("md", "inst", bytes("tick"), { durable: false }))
    expect(j.stats()).toEqual({ fsyncs: opened, writes: 1 })
    expect(await readAll(j, "md")).toEqual([])
    await new Promise((r) => setTimeout(r, 250))
    expect(j.stats().fsyncs).toBeGreaterThan(opened)
    expect((await readAll(j, "md")).map((r) => text(r.payload))).toEqual(["tick"])
    await Effect.runPromise(j.append("md", "inst", bytes("durable"), { durable: true }))
    expect((await readAll(j, "md")).map((r) => text(r.payload))).toEqual(["tick", "durable"])
    await Effect.runPromise(j.close())
  })

  it("under the background policy (`os` durability), a durable append resolves once written to the OS, readers see it once the background fsync ran", async () => {
    const j = await open({ dir: tempDir(), fsync: { kind: "background", ms: 40 } })
    const opened = j.stats().fsyncs
    await Effect.runPromise(j.append("orders", "acct/inst", bytes("order"), { durable: true }))
    // Resolved without an fsync in front of it: the write is all it waited for.
    expect(j.stats()).toEqual({ fsyncs: opened, writes: 1 })
    expect(await readAll(j, "orders")).toEqual([])
    await new Promise((r) => setTimeout(r, 150))
    expect(j.stats().fsyncs).toBeGreaterThan(opened)
    expect((await readAll(j, "orders")).map((r) => text(r.payload))).toEqual(["order"])
    await Effect.runPromise(j.close())
  })

  it("under the background policy, an append with nothing queued before it is written in the caller's turn, before any other callback runs", async () => {
    const dir = tempDir()
    const j = await open({ dir, fsync: { kind: "background", ms: 3_600_000 } })
    await Effect.runPromise(j.append("orders", "k", bytes("first"), { durable: true }))
    const segment = join(dir, "orders", readdirSync(join(dir, "orders")).find((n) => n.endsWith(".log")) as string)
    const before = statSync(segment).size
    let sizeSeenByNextCallback = -1
    const appended = Effect.runPromise(j.append("orders", "k", bytes("second"), { durable: true }))
    setImmediate(() => {
      sizeSeenByNextCallback = statSync(segment).size
    })
    await appended
    // Resolved within the caller's turn (microtasks only): the callback queued after the append
    // has not run yet, and the bytes are already in the file. Through the flush loop the append
    // would wait for a `setImmediate` and a thread-pool write, and that callback would run first.
    expect(sizeSeenByNextCallback).toBe(-1)
    expect(statSync(segment).size).toBeGreaterThan(before)
    await Effect.runPromise(j.close())
    const j2 = await open({ dir })
    expect((await readAll(j2, "orders")).map((r) => text(r.payload))).toEqual(["first", "second"])
    await Effect.runPromise(j2.close())
  })

  it("under the background policy, segment rolls with fsyncs running beside the writes keep every record, in order", async () => {
    const dir = tempDir()
    const j = await open({ dir, fsync: { kind: "background", ms: 1 }, segmentBytes: 300 })
    const payloads = Array.from({ length: 200 }, (_, i) => `p${i}`)
    // Concurrent appends (one flush loop, many group commits) while the 1 ms timer syncs.
    await Promise.all(payloads.map((p) => Effect.runPromise(j.append("orders", "k", bytes(p), { durable: true }))))
    await Effect.runPromise(j.close())
    expect(readdirSync(join(dir, "orders")).filter((n) => n.endsWith(".log")).length).toBeGreaterThan(5)
    const j2 = await open({ dir })
    expect((await readAll(j2, "orders")).map((r) => text(r.payload))).toEqual(payloads)
    await Effect.runPromise(j2.close())
  })

  it("a process that dies with written but unsynced records (background policy) loses none: the next open syncs them before readers see them", async () => {
    const dir = tempDir()
    // The dying process: its timer never gets to sync (an hour), and it is never closed.
    const dying = await open({ dir, fsync: { kind: "background", ms: 3_600_000 } })
    const created = dying.stats().fsyncs // directory entries of the new topics
    await appendMany(dying, "orders", ["a", "b", "c"])
    expect(dying.stats().fsyncs).toBe(created)
    const next = await open({ dir, fsync: { kind: "background", ms: 3_600_000 } })
    // Opening synced the tail it found (one fsync per topic with records: only `orders` here).
    expect(next.stats().fsyncs).toBe(1)
    expect((await readAll(next, "orders")).map((r) => text(r.payload))).toEqual(["a", "b", "c"])
    expect(await appendMany(next, "orders", ["d"])).toEqual(["3"])
    await Effect.runPromise(next.close())
    await Effect.runPromise(dying.close()).catch(() => undefined)
  })

  it("after any cut or flipped byte in the last segment, reopening yields exactly a prefix of the appends", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ maxLength: 40 }), { minLength: 1, maxLength: 30 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.boolean(),
        async (payloads, where, flip) => {
          const dir = tempDir()
          const j1 = await open({ dir, fsync: { kind: "never" }, segmentBytes: 200 })
          await Effect.runPromise(j1.appendBatch("md", payloads.map((payload, i) => ({ key: `k${i}`, payload })), { durable: false }))
          await Effect.runPromise(j1.close())
          const file = lastSegment(dir, "md")
          const size = statSync(file).size
          const at = Math.min(size, Math.floor(where * size))
          if (flip && at < size) {
            const buf = readFileSync(file)
            buf[at] = (buf[at] as number) ^ 0x5a
            writeFileSync(file, buf)
          } else {
            truncateSync(file, at)
          }
          const j2 = await open({ dir, fsync: { kind: "never" }, segmentBytes: 200 })
          const got = await readAll(j2, "md")
          const n = got.length
          expect(got.map((r) => [r.offset.offset, r.key, Array.from(r.payload)])).toEqual(payloads.slice(0, n).map((p, i) => [String(i), `k${i}`, Array.from(p)]))
          expect(n === payloads.length).toBe(at === size)
          const next = await Effect.runPromise(j2.append("md", "after", bytes("x"), { durable: false }))
          expect(next.offset).toBe(String(n))
          await Effect.runPromise(j2.close())
          rmSync(dir, { recursive: true, force: true })
        }
      ),
      { numRuns: 40 }
    )
  })
})
