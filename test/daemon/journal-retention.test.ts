import { mkdtempSync, readdirSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Option, Stream } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { openFileJournal, type FileJournal } from "../../src/adapters/journal/file/file-journal.js"
import { EventJournal } from "../../src/daemon/event-journal.js"
import { DEFAULT_JOURNAL_RETENTION, pruneFileJournal, retentionFloors } from "../../src/daemon/journal-retention.js"
import { ledgerActorId, PROJECTION_BATCH, recoverLedger, saveLedgerSnapshot } from "../../src/daemon/recovery.js"
import { dec } from "../../src/domain/decimal.js"
import type { CanonicalEvent } from "../../src/domain/events/index.js"
import { TradingLedger } from "../../src/domain/ledger.js"
import { openPgliteStore, type PgliteStoreHandle } from "../../src/persistence/pglite.js"
import { ACCOUNT, eth, xbt } from "../actors/risk/fixtures.js"

// Retention of the file journal: segments go only when the ledger snapshot and the audit trail
// cover them and they are older than the window; recovery then starts from the snapshot, and a
// journal whose deleted part nothing covers is refused rather than folded from the middle.

const HOUR = 3_600_000
const instruments = (id: string) => [xbt, eth].find((i) => i.id === id)
let dir: string
let t = 1_700_000_000_000
let files: FileJournal
let store: PgliteStoreHandle
let journal: EventJournal
const live = new TradingLedger(instruments)
const actorId = ledgerActorId(ACCOUNT)

/** n orders: submitted, accepted, filled; order 0 stays open (its submit is in the first segment). */
const flow = (from: number, n: number): CanonicalEvent[] => {
  const out: CanonicalEvent[] = []
  for (let i = from; i < from + n; i++) {
    const env = (s: string) => ({ id: `${s}-${i}-${out.length}`, ts: t, source: s })
    const ref = { account: ACCOUNT, instrument: xbt.id, clientOrderId: `mm-1-1-${i.toString(36)}` }
    out.push({ _tag: "OrderSubmitted", ...env("orders"), ...ref, strategy: "mm-1", side: "buy", orderType: "limit", qty: dec("0.004"), price: dec("50000"), reduceOnly: false } as never)
    out.push({ _tag: "OrderAccepted", ...env("gw"), ...ref, venueOrderId: `v-${i}` } as never)
    if (i !== 0) out.push({ _tag: "OrderFilled", ...env("gw"), ...ref, venueOrderId: `v-${i}`, fillId: `f-${i}`, side: "buy", price: dec("50000"), qty: dec("0.004"), fee: dec("0.01"), feeCurrency: "USD", liquidity: "maker" } as never)
  }
  return out
}

const write = async (events: ReadonlyArray<CanonicalEvent>, hoursBetween = 0): Promise<void> => {
  for (const e of events) {
    t += (hoursBetween * HOUR) / events.length
    await journal.append({ ...e, ts: Math.round(t) } as CanonicalEvent)
  }
  while (journal.lag() > 0) await journal.project()
}

const recover = () => Effect.runPromise(Effect.either(recoverLedger({ actorId, journal: files, store: store.store, instruments, reproject: () => undefined, now: Date.now })))

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "troupe-retention-"))
  files = await Effect.runPromise(openFileJournal({ dir: join(dir, "journal"), fsync: { kind: "never" }, segmentBytes: 16 * 1024, now: () => t }))
  store = await openPgliteStore({ dataDir: join(dir, "pglite") })
  await Effect.runPromise(store.store.migrate())
  journal = new EventJournal({ journal: files, store: store.store, projectEveryMs: 2 ** 31 - 1, now: () => t })
  journal.onAppended = (e, o) => live.apply(e, o)
}, 60_000)

afterAll(async () => {
  await journal.close()
  await Effect.runPromise(files.close())
  await Effect.runPromise(store.store.close())
  rmSync(dir, { recursive: true, force: true })
})

const auditEnd = async (): Promise<number> => Number((await Effect.runPromise(store.store.auditHighWatermark())).find((o) => o.topic === "orders")?.offset)

const orderSegments = () => readdirSync(join(dir, "journal", "orders")).filter((f) => f.endsWith(".log")).length

describe("file journal retention", () => {
  it("deletes nothing while no snapshot covers the journal, however old it is", async () => {
    await write(flow(0, 1000), 48)
    const before = orderSegments()
    expect(before).toBeGreaterThan(5)
    const r = await Effect.runPromise(pruneFileJournal(files, store.store, actorId, DEFAULT_JOURNAL_RETENTION, t + 100 * HOUR))
    expect(r.find((x) => x.topic === "orders")).toMatchObject({ segments: 0, startOffset: 0 })
    expect(orderSegments()).toBe(before)
  })

  it("deletes only segments below both the snapshot's and the audit trail's offsets, and older than the window", async () => {
    await Effect.runPromise(saveLedgerSnapshot(store.store, actorId, live, t))
    await write(flow(1000, 300), 1)
    const floors = await Effect.runPromise(retentionFloors(store.store, actorId))
    const covered = Number(live.coveredOffsets()[0]?.offset)
    expect(floors.orders).toBe(Math.min(covered, (await auditEnd()) - PROJECTION_BATCH))
    // The strategy roster is rebuilt from the whole control topic: it is never pruned.
    expect(floors.control).toBe(0)
    // A window longer than the history: nothing goes.
    const inside = await Effect.runPromise(pruneFileJournal(files, store.store, actorId, { ...DEFAULT_JOURNAL_RETENTION, hours: 100 }, t))
    expect(inside.find((x) => x.topic === "orders")?.segments).toBe(0)
    // The default 24 h: the records were spread over the last 49 h, so about half of them go.
    const before = orderSegments()
    const r = await Effect.runPromise(pruneFileJournal(files, store.store, actorId, DEFAULT_JOURNAL_RETENTION, t))
    const orders = r.find((x) => x.topic === "orders")!
    expect(orders.segments).toBeGreaterThan(0)
    expect(orderSegments()).toBe(before - orders.segments)
    // Never past the floor (the snapshot's offsets, the audit trail's less one batch) ...
    expect(orders.startOffset).toBeGreaterThan(0)
    expect(orders.startOffset).toBeLessThanOrEqual(floors.orders!)
    // ... and nothing younger than the window: the first record kept is at or before its start.
    const first = await Effect.runPromise(Stream.runHead(files.read({ topic: "orders", partition: 0, offset: String(orders.startOffset) })))
    expect(Option.getOrThrow(first).ts).toBeLessThanOrEqual(t - 24 * HOUR)
  })

  it("recovers from the snapshot after retention, with the order whose submit was deleted still open", async () => {
    const r = await recover()
    expect(r._tag).toBe("Right")
    if (r._tag !== "Right") return
    expect(r.right.snapshot).toBe("snapshot")
    const full = new TradingLedger(instruments)
    for (const e of [...flow(0, 1000), ...flow(1000, 300)]) full.apply(e)
    expect(r.right.ledger.positions.get(xbt.id)?.quantity.toString()).toBe(full.positions.get(xbt.id)?.quantity.toString())
    expect([...r.right.ledger.orders.keys()]).toEqual(["mm-1-1-0"])
  })

  it("a read from offset 0 after retention fails and names the start, instead of starting mid-history", async () => {
    const read = await Effect.runPromise(Effect.either(Stream.runCount(files.read({ topic: "orders", partition: 0, offset: "0" }))))
    expect(read._tag).toBe("Left")
    if (read._tag === "Left") expect(read.left.message).toMatch(/deleted by retention: the topic starts at offset [1-9]\d*/)
  })

  it("recovery refuses a journal whose deleted part no snapshot covers, with a message saying why", async () => {
    const saved = Option.getOrThrow(await Effect.runPromise(store.store.loadSnapshot(actorId)))
    await Effect.runPromise(store.store.saveSnapshot({ ...saved, machineVersion: "ledger-v0" }))
    const r = await recover()
    expect(r._tag).toBe("Left")
    if (r._tag === "Left") {
      expect((r.left as { _tag?: string })._tag).toBe("JournalHistoryMissing")
      expect(String((r.left as Error).message)).toMatch(/recovery needs journal orders\/0 from offset 0 \(ledger rebuilt from the journal \(snapshot of version ledger-v0.*\), but the journal starts at [1-9]\d*: older segments were deleted by retention/)
    }
    await Effect.runPromise(store.store.saveSnapshot(saved))
  })
})
