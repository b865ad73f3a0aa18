import { Effect, Stream } from "effect"
import { describe, expect, it } from "vitest"
import { MetricsRegistry } from "../../src/actors/metrics.js"
import { JournalIoError, journalOffset, type JournalService, type JournalTopic } from "../../src/actors/ports/journal.js"
import type { AuditRow, StoreService } from "../../src/actors/ports/store.js"
import { EventJournal } from "../../src/daemon/event-journal.js"
import { decodeEvent } from "../../src/domain/codec.js"
import { dec } from "../../src/domain/decimal.js"
import type { CanonicalEvent } from "../../src/domain/events/index.js"

// EventJournal's own logic — the backlog, write-ahead durability, health and the audit bound —
// over a journal and a store that fail on command (the adapters have their own integration tests;
// the daemon's outage test runs all of it against a real broker and a real Postgres).

const until = async (what: string, ok: () => boolean, ms = 5_000): Promise<void> => {
  const deadline = Date.now() + ms
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

const rig = (options: { readonly backlogBound?: number; readonly auditLagMs?: number } = {}) => {
  const state = { journalDown: false, storeDown: false, now: 1_000 }
  const written: Array<{ topic: JournalTopic; tag: string; id: string }> = []
  const next = new Map<string, number>()
  const journal: JournalService = {
    append: (topic, _key, payload) =>
      Effect.suspend(() => {
        if (state.journalDown) return Effect.fail(new JournalIoError({ op: "append", topic, cause: new Error("broker down") }))
        const e = decodeEvent(payload)
        if (e._tag === "Right") written.push({ topic, tag: e.right._tag, id: e.right.id })
        const o = next.get(topic) ?? 0
        next.set(topic, o + 1)
        return Effect.succeed(journalOffset(topic, 0, o))
      }),
    appendBatch: () => Effect.die("unused"),
    read: () => Stream.empty,
    endOffsets: () => Effect.succeed([]),
    close: () => Effect.void
  }
  const audit: AuditRow[] = []
  const store = {
    appendAudit: (rows: ReadonlyArray<AuditRow>) => (state.storeDown ? Effect.fail(new Error("store down")) : Effect.sync(() => (audit.push(...rows), rows.length))),
    insertFills: () => Effect.succeed(0),
    upsertPosition: () => Effect.succeed(undefined),
    upsertOrder: () => Effect.succeed(true),
    applyOrderChange: () => Effect.succeed(true)
  } as unknown as StoreService
  const health: boolean[] = []
  const metrics = new MetricsRegistry()
  const ej = new EventJournal({ journal, store, metrics, projectEveryMs: 10_000, now: () => state.now, onHealth: (h) => void health.push(h), ...options })
  return { state, written, audit, health, ej, metrics }
}

let n = 0
const submitted = (): CanonicalEvent =>
  ({ _tag: "OrderSubmitted", id: `s${++n}`, ts: 1, source: "t", account: "a", instrument: "kraken-futures:PF_XBTUSD", clientOrderId: `c-1-${n}`, strategy: "mm", side: "buy", orderType: "limit", qty: dec("1"), price: dec("100"), reduceOnly: false }) as never
const record = (): CanonicalEvent => ({ _tag: "StrategyRecord", id: `r${++n}`, ts: 1, source: "t", strategy: "mm", name: "fair", value: 1 }) as never

describe("EventJournal", () => {
  it("keeps failed appends in an ordered backlog, reports not-durable, halts, and drains when the journal is back", async () => {
    const { state, written, health, ej } = rig()
    const a = submitted()
    await ej.append(a)
    expect(await ej.durable()).toBe(true)
    state.journalDown = true
    const b = submitted()
    const c = submitted()
    const pb = ej.append(b)
    const pc = ej.append(c)
    expect(await ej.durable()).toBe(false) // write-ahead: what was appended before a venue call is not durable
    expect(ej.healthy()).toBe(false)
    expect(health).toEqual([false])
    expect(ej.backlogSize).toBeGreaterThanOrEqual(1)
    state.journalDown = false
    const [ob, oc] = await Promise.all([pb, pc])
    expect([ob?.offset, oc?.offset]).toEqual(["1", "2"])
    expect(written.map((w) => w.id)).toEqual([a.id, b.id, c.id])
    await until("healthy again", () => ej.healthy())
    expect(health).toEqual([false, true])
    expect(await ej.durable()).toBe(true)
  })

  it("drops strategy records beyond the backlog bound while the journal is down, never order events", async () => {
    const { state, written, ej, metrics } = rig({ backlogBound: 3 })
    state.journalDown = true
    const orders = [submitted(), submitted(), submitted(), submitted()]
    const pending = orders.map((e) => ej.append(e))
    await until("backlog holds the order events", () => ej.backlogSize === 4)
    const dropped = await ej.append(record())
    expect(dropped).toBeUndefined()
    expect(ej.backlogSize).toBe(4)
    state.journalDown = false
    await Promise.all(pending)
    expect(written.map((w) => w.id)).toEqual(orders.map((e) => e.id))
    expect(metrics.render()).toMatch(/journal_records_dropped_total 1/)
  })

  it("is unhealthy when the audit projection's oldest row waits longer than the bound, and healthy once it is written", async () => {
    const { state, audit, health, ej } = rig({ auditLagMs: 2_000 })
    state.storeDown = true
    await ej.append(submitted())
    await ej.project()
    expect(ej.healthy()).toBe(true) // a short outage is absorbed
    state.now += 2_001
    await ej.project()
    expect(ej.healthy()).toBe(false)
    state.storeDown = false
    await ej.project()
    expect(ej.healthy()).toBe(true)
    expect(audit.map((r) => r.eventType)).toEqual(["OrderSubmitted"])
    expect(health).toEqual([false, true])
    expect((await ej.close()).unprojected).toBe(0)
  })
})
