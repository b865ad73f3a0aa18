import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Stream } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { wallClock } from "../../src/actors/clock.js"
import type { StoreService } from "../../src/actors/ports/store.js"
import type { VenueGatewayService } from "../../src/actors/ports/venue-gateway.js"
import type { ApprovedAction } from "../../src/actors/risk/index.js"
import { openFileJournal, type FileJournal } from "../../src/adapters/journal/file/file-journal.js"
import { fsyncPolicyOf } from "../../src/daemon/config.js"
import { EventJournal } from "../../src/daemon/event-journal.js"
import { writeAheadGateway } from "../../src/daemon/write-ahead.js"
import { decodeEvent } from "../../src/domain/codec.js"
import { dec } from "../../src/domain/decimal.js"
import type { CanonicalEvent } from "../../src/domain/events/index.js"

// The write-ahead hop on the order path: under `os` durability the file journal writes an append
// in the caller's turn (`appendWritten`) and the write-ahead gateway then sends in that same turn;
// under `fsync` (or with an append still on its way) the action waits for the append, as before.
// Real file journal on a temp dir; the venue is a recording gateway.

const dir = mkdtempSync(join(tmpdir(), "troupe-wa-now-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const store = {
  appendAudit: (rows: ReadonlyArray<unknown>) => Effect.succeed(rows.length),
  insertFills: () => Effect.succeed(0),
  upsertPosition: () => Effect.succeed(undefined),
  upsertOrder: () => Effect.succeed(true),
  applyOrderChange: () => Effect.succeed(true)
} as unknown as StoreService

let n = 0
const submitted = (): CanonicalEvent =>
  ({ _tag: "OrderSubmitted", id: `s${++n}`, ts: 1, source: "t", account: "a", instrument: "kraken-futures:PF_XBTUSD", clientOrderId: `c-1-${n}`, strategy: "mm", side: "buy", orderType: "limit", qty: dec("1"), price: dec("100"), reduceOnly: false }) as never
/** An approval as the gateway sees it (the write-ahead gateway reads only `action.kind`). */
const approval = (kind: "submit" | "cancel"): ApprovedAction => ({ action: { kind, intent: { clientOrderId: "c-1-1" } } }) as unknown as ApprovedAction

const rig = async (name: string, durability: "os" | "fsync") => {
  const file: FileJournal = await Effect.runPromise(openFileJournal({ dir: join(dir, name), fsync: fsyncPolicyOf(durability) }))
  const ej = new EventJournal({ journal: file, store, projectEveryMs: 60_000 })
  const sent: ApprovedAction[] = []
  const inner: VenueGatewayService = { account: "a" as never, send: (a) => void sent.push(a), subscribe: () => () => undefined }
  const gateway = writeAheadGateway(inner, ej, wallClock)
  const close = async () => {
    await ej.close()
    await Effect.runPromise(file.close())
  }
  return { file, ej, sent, gateway, close }
}

describe("write-ahead in the caller's turn", () => {
  it("os: the append is written before append() returns, and the action is sent in the same turn", async () => {
    const r = await rig("os", "os")
    const e = submitted()
    const appended: CanonicalEvent[] = []
    r.ej.onAppended = (ev) => void appended.push(ev)
    void r.ej.append(e)
    // Written now: the ledger's fold has it and the record is in the log, before any await.
    expect(appended.map((x) => x.id)).toEqual([e.id])
    expect(r.ej.durableNow()).toBe(true)
    r.gateway.send(approval("submit"))
    expect(r.sent).toHaveLength(1)
    // The record is really there: read back from the file journal (readers see it once the
    // background fsync, every 5 ms, has run).
    await new Promise((res) => setTimeout(res, 50))
    const records = await Effect.runPromise(Stream.runCollect(r.file.read({ topic: "orders", partition: 0, offset: "0" })))
    expect([...records].map((rec) => (decodeEvent(rec.payload) as { right: CanonicalEvent }).right.id)).toEqual([e.id])
    await r.close()
  })

  it("fsync: nothing is sent before the append is durable (the action waits a turn for the fdatasync)", async () => {
    const r = await rig("fsync", "fsync")
    const e = submitted()
    let durableAt = -1
    const p = r.ej.append(e).then(() => (durableAt = r.sent.length))
    expect(r.ej.durableNow()).toBeUndefined()
    r.gateway.send(approval("submit"))
    expect(r.sent).toHaveLength(0)
    await p
    await new Promise((res) => setTimeout(res, 20))
    expect(durableAt).toBe(0)
    expect(r.sent).toHaveLength(1)
    await r.close()
  })

  it("a journal that failed: a submit is refused, not sent, and durableNow says false", async () => {
    const r = await rig("closed", "os")
    await Effect.runPromise(r.file.close())
    void r.ej.append(submitted())
    await new Promise((res) => setTimeout(res, 20))
    expect(r.ej.durableNow()).toBe(false)
    const reports: string[] = []
    r.gateway.subscribe((rep) => void reports.push(rep._tag))
    r.gateway.send(approval("submit"))
    await new Promise((res) => setTimeout(res, 20))
    expect(r.sent).toHaveLength(0)
    expect(reports).toEqual(["OrderRejected"])
    // A cancel still goes out (taking risk off does not wait for the journal).
    r.gateway.send(approval("cancel"))
    await new Promise((res) => setTimeout(res, 20))
    expect(r.sent.map((a) => a.action.kind)).toEqual(["cancel"])
    await r.ej.close()
  })
})
