import { Effect, Either, Option } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { journalOffset } from "../../src/actors/ports/journal.js"
import type { AuditRow, FillRow, MigrationReport, OrderRow, StoreService } from "../../src/actors/ports/store.js"
import type { SqlClient } from "../../src/persistence/sql-client.js"

/** What each adapter's test file provides: a migrated store and its two kinds of connection. */
export interface StoreUnderTest {
  readonly store: StoreService
  /** The report of the first `migrate` on a fresh schema. */
  readonly firstMigration: MigrationReport
  /**
   * The connection the application itself uses, and one statement as the schema owner (PGlite:
   * the same session with the role reset). Absent for a store without SQL (the in-memory one):
   * its audit trail is append-only by construction (no operation updates or deletes a row), so
   * the two privilege tests do not apply.
   */
  readonly sql?: { readonly app: SqlClient; readonly asOwner: (sql: string) => Promise<unknown> }
  readonly close: () => Promise<void>
}

const run = <A, E>(e: Effect.Effect<A, E>): Promise<A> => Effect.runPromise(e)

const T0 = Date.UTC(2025, 0, 2, 3, 4, 5, 678)

const audit = (offset: number, patch: Partial<AuditRow> = {}): AuditRow => ({
  source: journalOffset("orders", 0, offset),
  eventId: `evt-${offset}`,
  eventType: "OrderSubmitted",
  kind: "order_action",
  ts: T0 + offset,
  account: "acct-1",
  instrument: "simulator:PF_XBTUSD",
  clientOrderId: `s1-1-${offset}`,
  payload: { price: "65000.5", qty: "0.001", note: `it's "quoted" \\ ${offset}` },
  ...patch
})

const order = (offset: number, patch: Partial<OrderRow> = {}): OrderRow => ({
  account: "acct-1",
  clientOrderId: "s1-1-a",
  venueOrderId: null,
  instrument: "simulator:PF_XBTUSD",
  strategy: "s1",
  side: "buy",
  orderType: "limit",
  quantity: "0.001",
  price: "65000.5",
  filledQuantity: "0",
  avgFillPrice: null,
  status: "submitted",
  updatedAt: T0 + offset,
  source: journalOffset("orders", 0, offset),
  ...patch
})

const fill = (fillId: string, offset: number): FillRow => ({
  fillId,
  account: "acct-1",
  clientOrderId: "s1-1-a",
  venueOrderId: "v-1",
  instrument: "simulator:PF_XBTUSD",
  side: "buy",
  quantity: "0.000000000000000001",
  price: "12345678901234567890.123456789012345678",
  fee: "-0.0025",
  feeCurrency: "USD",
  liquidity: "maker",
  ts: T0 + offset,
  source: journalOffset("orders", 0, offset)
})

export const storeContract = (name: string, open: () => Promise<StoreUnderTest>, skipReason?: string): void => {
  describe.skipIf(skipReason !== undefined)(`${name} store${skipReason === undefined ? "" : ` (skipped: ${skipReason})`}`, () => {
    let s: StoreUnderTest

    beforeAll(async () => {
      s = await open()
    })
    afterAll(async () => {
      await s?.close()
    })

    it("applies the migrations once: a second and two racing migrates apply nothing", async () => {
      expect(s.firstMigration.applied).toEqual([1])
      expect(await run(s.store.migrate())).toEqual({ applied: [], current: 1 })
      const racing = await Promise.all([run(s.store.migrate()), run(s.store.migrate())])
      expect(racing.map((r) => r.applied)).toEqual([[], []])
    })

    it("appends audit rows once per journal position and reports where projection resumes", async () => {
      expect(await run(s.store.auditHighWatermark())).toEqual([])
      expect(await run(s.store.appendAudit([audit(0), audit(1), audit(2)]))).toBe(3)
      const replayed = await run(s.store.appendAudit([audit(1), audit(2), audit(3, { kind: "risk_decision", eventType: "RiskApproved", clientOrderId: null })]))
      expect(replayed).toBe(1)
      const rows = await run(s.store.queryAudit({ account: "acct-1" }))
      expect(rows.map((r) => r.source.offset)).toEqual(["0", "1", "2", "3"])
      expect(rows[0]).toEqual(audit(0))
      expect(rows[3]?.clientOrderId).toBeNull()
      await run(s.store.appendAudit([audit(0, { source: journalOffset("control", 0, 7), kind: "operator_action", account: null })]))
      expect(await run(s.store.auditHighWatermark())).toEqual([journalOffset("control", 0, 8), journalOffset("orders", 0, 4)])
      // Large batches are split under the bind-parameter limit and stay idempotent.
      const many = Array.from({ length: 1200 }, (_, i) => audit(100 + i))
      expect(await run(s.store.appendAudit(many))).toBe(1200)
      expect(await run(s.store.appendAudit(many))).toBe(0)
    })

    it("rejects UPDATE, DELETE and TRUNCATE of audit rows from the application's connection", async () => {
      await run(s.store.appendAudit([audit(50)]))
      const sql = s.sql
      if (sql === undefined) return
      for (const q of ["update audit_events set kind = 'venue_reply'", "delete from audit_events", "truncate audit_events"]) {
        await expect(sql.app.query(q), q).rejects.toMatchObject({ code: "42501" })
      }
      const left = await run(s.store.queryAudit({ clientOrderId: "s1-1-50" }))
      expect(left.map((r) => r.kind)).toEqual(["order_action"])
    })

    it("rejects UPDATE, DELETE and TRUNCATE of audit rows even from the schema owner, by trigger", async () => {
      const sql = s.sql
      for (const q of ["update audit_events set kind = 'venue_reply'", "delete from audit_events", "truncate audit_events"]) {
        if (sql !== undefined) await expect(sql.asOwner(q), q).rejects.toThrow(/append-only/)
      }
      expect((await run(s.store.queryAudit({ clientOrderId: "s1-1-50" }))).length).toBe(1)
    })

    it("saves, replaces and loads an actor snapshot with its journal offsets", async () => {
      expect(Option.isNone(await run(s.store.loadSnapshot("order:acct-1:s1-1-a")))).toBe(true)
      const first = {
        actorId: "order:acct-1:s1-1-a",
        machineVersion: "order@1",
        snapshot: { value: "accepted", context: { filled: "0.5" } },
        offsets: [journalOffset("orders", 0, 41)],
        takenAt: T0
      }
      await run(s.store.saveSnapshot(first))
      expect(await run(s.store.loadSnapshot(first.actorId))).toEqual(Option.some(first))
      const second = { ...first, machineVersion: "order@2", snapshot: { value: "filled" }, offsets: [journalOffset("orders", 0, 42), journalOffset("md", 3, 9007199254740993n)], takenAt: T0 + 1 }
      await run(s.store.saveSnapshot(second))
      expect(await run(s.store.loadSnapshot(first.actorId))).toEqual(Option.some(second))
    })

    it("projects orders idempotently: a replayed older record never overwrites a newer one", async () => {
      expect(await run(s.store.upsertOrder(order(10)))).toBe(true)
      expect(await run(s.store.upsertOrder(order(12, { status: "accepted", venueOrderId: "v-1" })))).toBe(true)
      expect(await run(s.store.upsertOrder(order(11, { status: "rejected" })))).toBe(false)
      expect(await run(s.store.upsertOrder(order(12, { status: "accepted", venueOrderId: "v-1" })))).toBe(false)
      await run(s.store.upsertOrder(order(13, { clientOrderId: "s1-1-b", status: "filled", filledQuantity: "0.001", avgFillPrice: "65000.50" })))
      expect(await run(s.store.queryOrders({ open: true }))).toEqual([order(12, { status: "accepted", venueOrderId: "v-1" })])
      const closed = await run(s.store.queryOrders({ open: false }))
      expect(closed.map((o) => [o.clientOrderId, o.status, o.avgFillPrice])).toEqual([["s1-1-b", "filled", "65000.5"]])
      expect((await run(s.store.queryOrders({ account: "nobody" }))).length).toBe(0)
    })

    it("applies later order facts to the row once, in journal order, and makes no row for an order it does not have", async () => {
      const ref = (offset: number) => ({ account: "acct-1", clientOrderId: "s1-1-c", updatedAt: T0 + offset, source: journalOffset("orders", 0, offset) })
      await run(s.store.upsertOrder(order(30, { clientOrderId: "s1-1-c", quantity: "2", price: "100" })))
      expect(await run(s.store.applyOrderChange({ ...ref(31), kind: "status", status: "accepted", venueOrderId: "v-c" }))).toBe(true)
      expect(await run(s.store.applyOrderChange({ ...ref(32), kind: "fill", quantity: "1", price: "100", venueOrderId: "v-c" }))).toBe(true)
      // A re-projection of the same record (or an older one) changes nothing.
      expect(await run(s.store.applyOrderChange({ ...ref(32), kind: "fill", quantity: "1", price: "100", venueOrderId: "v-c" }))).toBe(false)
      expect(await run(s.store.applyOrderChange({ ...ref(31), kind: "status", status: "accepted", venueOrderId: "v-c" }))).toBe(false)
      const partly = (await run(s.store.queryOrders({ open: true }))).find((o) => o.clientOrderId === "s1-1-c")
      expect([partly?.status, partly?.filledQuantity]).toEqual(["partiallyFilled", "1"])
      expect(await run(s.store.applyOrderChange({ ...ref(33), kind: "status", status: "pendingCancel", venueOrderId: null }))).toBe(true)
      expect(await run(s.store.applyOrderChange({ ...ref(34), kind: "fill", quantity: "1", price: "200", venueOrderId: "v-c" }))).toBe(true)
      // The cancel's ack after the fill that completed the order: a terminal row keeps its status.
      expect(await run(s.store.applyOrderChange({ ...ref(35), kind: "status", status: "canceled", venueOrderId: "v-c" }))).toBe(true)
      const done = (await run(s.store.queryOrders({ open: false }))).find((o) => o.clientOrderId === "s1-1-c")
      expect([done?.status, done?.filledQuantity, done?.avgFillPrice, done?.venueOrderId]).toEqual(["filled", "2", "150", "v-c"])
      expect(await run(s.store.applyOrderChange({ ...ref(36), clientOrderId: "replayed-1", kind: "fill", quantity: "1", price: "1", venueOrderId: null }))).toBe(false)
      expect((await run(s.store.queryOrders({}))).some((o) => o.clientOrderId === "replayed-1")).toBe(false)
    })

    it("inserts each fill once by fill id and keeps decimals exact as text", async () => {
      expect(await run(s.store.insertFills([fill("f-1", 20), fill("f-2", 21)]))).toBe(2)
      expect(await run(s.store.insertFills([fill("f-2", 21), fill("f-3", 22)]))).toBe(1)
      const fills = await run(s.store.queryFills({ clientOrderId: "s1-1-a" }))
      expect(fills).toEqual([fill("f-1", 20), fill("f-2", 21), fill("f-3", 22)])
      const bad = await run(Effect.either(s.store.insertFills([{ ...fill("f-4", 23), quantity: "not a number" }])))
      expect(Either.isLeft(bad) && bad.left._tag).toBe("StoreError")
    })

    it("projects signed positions per account and instrument", async () => {
      const pos = { account: "acct-1", instrument: "simulator:PF_XBTUSD", quantity: "-0.003", avgEntryPrice: "64999.25", realizedPnl: "0", updatedAt: T0, source: journalOffset("orders", 0, 30) }
      expect(await run(s.store.upsertPosition(pos))).toBe(true)
      const flat = { ...pos, quantity: "0", avgEntryPrice: null, realizedPnl: "-1.75", source: journalOffset("orders", 0, 31) }
      expect(await run(s.store.upsertPosition(flat))).toBe(true)
      expect(await run(s.store.upsertPosition(pos))).toBe(false)
      expect(await run(s.store.queryPositions({ account: "acct-1" }))).toEqual([flat])
    })
  })
}
