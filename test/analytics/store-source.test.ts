import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { journalOffset } from "../../src/actors/ports/journal.js"
import type { AuditKind, AuditRow, FillRow, StoreService } from "../../src/actors/ports/store.js"
import { loadDataset, openAnalyticsDb, type FillRow as AnalyticsFill, type OrderRow } from "../../src/analytics/dataset.js"
import { computeReport, type Report } from "../../src/analytics/metrics.js"
import { loadStoreSource, strategyOfClientOrderId, type StoreSource } from "../../src/analytics/store-source.js"
import { openPgliteStore } from "../../src/persistence/pglite.js"
import type { SqlClient } from "../../src/persistence/sql-client.js"

/**
 * A real PGlite store, written through the Store API the way the daemon's projection writes it:
 *
 *   strategy mm-a on X (client order ids mm-a-k3-<seq>):
 *     o1 buy  2 @ 100: intent t+0, approved, sent t+2, ack t+30, fill f1 2 @ 100 fee 0.2 maker t+100   → filled
 *     o2 sell 1 @ 105: intent t+2000, approved, sent, ack t+2050, fill f2 1 @ 105 fee 0.1 taker t+3000  → filled
 *        (f2 is only in the audit trail, not in the fills table: the projection crashed in between)
 *     o3 sell 1 @ 106: intent t+4000, approved, sent, ack t+4070, canceled t+5000                       → canceled
 *     o4, o5 denied MAX_POSITION, o6 denied RATE_LIMIT (intents only: not orders)
 *   beta-x1-2: a fill in the fills table only (sell 1 @ 50, fee 0): its strategy comes from the id.
 *
 *   mm-a: realized = 1 × (105 − 100) = 5; fees 0.3; open 1 @ 100, unrealized at the last fill
 *   price 105 = 5; net = 5 + 5 − 0.3 = 9.7. beta: short 1 @ 50, nothing realized, unrealized 0.
 *   intent → ack: 30, 50, 70 ms (p50 50, max 70); ack → first fill: 70, 950 ms.
 */

const T = Date.UTC(2026, 0, 5, 10)
const X = "paper:X"
let offset = 0
const audit = (eventType: string, kind: AuditKind, ts: number, payload: Record<string, unknown>): AuditRow => {
  const id = `ev-${offset}`
  const clientOrderId = typeof payload["clientOrderId"] === "string" ? payload["clientOrderId"] : null
  return {
    source: journalOffset("orders", 0, offset++),
    eventId: id,
    eventType,
    kind,
    ts,
    account: "acct-1",
    instrument: typeof payload["instrument"] === "string" ? payload["instrument"] : null,
    clientOrderId,
    payload: { _tag: eventType, id, ts, source: "test", account: "acct-1", ...payload }
  }
}

const coid = (seq: number): string => `mm-a-k3-${seq}`
const submit = (seq: number, ts: number, side: "buy" | "sell", qty: string, price: string): AuditRow =>
  audit("SubmitOrder", "order_action", ts, { strategy: "mm-a", instrument: X, clientOrderId: coid(seq), side, orderType: "limit", qty, price, reduceOnly: false })
const decide = (seq: number, ts: number, intentId: string, reason?: string): AuditRow =>
  reason === undefined
    ? audit("RiskApproved", "risk_decision", ts, { intentId, intent: "SubmitOrder", instrument: X, clientOrderId: coid(seq) })
    : audit("RiskDenied", "risk_decision", ts, { intentId, intent: "SubmitOrder", instrument: X, clientOrderId: coid(seq), reason, detail: "limit" })
const sent = (seq: number, ts: number, side: "buy" | "sell", qty: string, price: string): AuditRow =>
  audit("OrderSubmitted", "order_action", ts, { strategy: "mm-a", instrument: X, clientOrderId: coid(seq), side, orderType: "limit", qty, price, reduceOnly: false })
const reply = (eventType: string, seq: number, ts: number, extra: Record<string, unknown> = {}): AuditRow =>
  audit(eventType, "venue_reply", ts, { instrument: X, clientOrderId: coid(seq), ...extra })
const filled = (seq: number, ts: number, fillId: string, side: "buy" | "sell", qty: string, price: string, fee: string, liquidity: "maker" | "taker"): AuditRow =>
  reply("OrderFilled", seq, ts, { venueOrderId: `v${seq}`, fillId, side, price, qty, fee, feeCurrency: "USD", liquidity })

const lifecycle = (): AuditRow[] => {
  const rows: AuditRow[] = []
  const order = (seq: number, t: number, side: "buy" | "sell", qty: string, price: string, ack: number, then: (rows: AuditRow[]) => void): void => {
    const intent = submit(seq, t, side, qty, price)
    rows.push(intent, decide(seq, t + 1, intent.eventId), sent(seq, t + 2, side, qty, price), reply("OrderAccepted", seq, t + ack, { venueOrderId: `v${seq}` }))
    then(rows)
  }
  order(1, T, "buy", "2", "100", 30, (r) => r.push(filled(1, T + 100, "f1", "buy", "2", "100", "0.2", "maker")))
  order(2, T + 2000, "sell", "1", "105", 50, (r) => r.push(filled(2, T + 3000, "f2", "sell", "1", "105", "0.1", "taker")))
  order(3, T + 4000, "sell", "1", "106", 70, (r) => r.push(reply("OrderCanceled", 3, T + 5000, { venueOrderId: "v3" })))
  for (const [seq, reason] of [
    [4, "MAX_POSITION"],
    [5, "MAX_POSITION"],
    [6, "RATE_LIMIT"]
  ] as const) {
    const intent = submit(seq, T + 6000 + seq, "buy", "5", "99")
    rows.push(intent, decide(seq, T + 6001 + seq, intent.eventId, reason))
  }
  return rows
}

const fillRow = (fillId: string, clientOrderId: string, side: "buy" | "sell", quantity: string, price: string, fee: string, ts: number): FillRow => ({
  fillId,
  account: "acct-1",
  clientOrderId,
  venueOrderId: null,
  instrument: X,
  side,
  quantity,
  price,
  fee,
  feeCurrency: "USD",
  liquidity: "maker",
  ts,
  source: journalOffset("orders", 0, 10_000 + ts - T)
})

let dir: string
let store: StoreService
let app: SqlClient

const collect = async <A>(rows: AsyncIterable<A> | Iterable<A> | undefined): Promise<A[]> => {
  const out: A[] = []
  if (rows !== undefined) for await (const r of rows) out.push(r)
  return out
}

const reportOf = async (source: StoreSource): Promise<Report> => {
  const db = await openAnalyticsDb()
  try {
    await loadDataset(db.conn, source)
    return await computeReport(db)
  } finally {
    db.close()
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "troupe-report-store-"))
  ;({ store, app } = await openPgliteStore({ dataDir: dir }))
  await Effect.runPromise(store.migrate())
  await Effect.runPromise(store.appendAudit(lifecycle()))
  await Effect.runPromise(
    store.insertFills([fillRow("f1", coid(1), "buy", "2", "100", "0.2", T + 100), fillRow("g1", "beta-x1-2", "sell", "1", "50", "0", T + 200)])
  )
}, 60_000)

afterAll(async () => {
  await Effect.runPromise(store.close())
  rmSync(dir, { recursive: true, force: true })
})

describe("strategyOfClientOrderId", () => {
  it("strips the run and sequence parts", () => {
    expect(strategyOfClientOrderId("mm-a-k3-1z")).toBe("mm-a")
    expect(strategyOfClientOrderId("alpha-1-2")).toBe("alpha")
    expect(strategyOfClientOrderId("plain")).toBe("plain")
  })
})

describe.each([
  ["keyset pages over SQL (page size 2)", true],
  ["the store port only", false]
] as const)("store source via %s", (_name, paged) => {
  let source: StoreSource
  let report: Report
  beforeAll(async () => {
    source = await loadStoreSource(paged ? { store, sql: app, pageSize: 2 } : { store })
    report = await reportOf(await loadStoreSource(paged ? { store, sql: app, pageSize: 2 } : { store }))
  })

  it("rebuilds the orders from the audit trail", async () => {
    const orders = (await collect(source.orders)).sort((a, b) => a.submittedTs - b.submittedTs)
    expect(orders.map((o) => [o.clientOrderId, o.strategy, o.finalState])).toEqual([
      [coid(1), "mm-a", "filled"],
      [coid(2), "mm-a", "filled"],
      [coid(3), "mm-a", "canceled"]
    ])
    expect(orders[0]).toEqual<OrderRow>({
      clientOrderId: coid(1),
      strategy: "mm-a",
      instrument: X,
      side: "buy",
      type: "limit",
      qty: "2",
      price: "100",
      submittedTs: T,
      acceptedTs: T + 30,
      firstFillTs: T + 100,
      finalTs: T + 100,
      finalState: "filled"
    })
    expect(orders[2]?.finalTs).toBe(T + 5000)
  })

  it("takes fills from the table and the audit trail once each, with no arrival mid", async () => {
    const fills = (await collect(source.fills)).sort((a, b) => a.ts - b.ts)
    expect(fills.map((f) => [f.fillId, f.strategy, f.qty, f.price, f.fee])).toEqual([
      ["f1", "mm-a", "2", "100", "0.2"],
      ["g1", "beta", "1", "50", "0"],
      ["f2", "mm-a", "1", "105", "0.1"]
    ])
    expect(fills.every((f: AnalyticsFill) => f.arrivalMid === undefined)).toBe(true)
  })

  it("computes the report", () => {
    const mm = report.summary.find((s) => s.scopeId === "strategy|mm-a||QUOTE")
    expect(mm?.fills).toBe(2)
    expect(mm?.realized).toBe("5")
    expect(mm?.fees).toBe("0.3")
    expect(mm?.unrealized).toBe("5")
    expect(mm?.netPnl).toBe("9.7")
    const total = report.summary.find((s) => s.scopeId === "total|||QUOTE")
    expect(total?.fills).toBe(3)
    expect(total?.realized).toBe("5")

    const exec = report.execution.find((e) => e.scopeId === "strategy|mm-a||QUOTE")
    expect(exec).toMatchObject({ orders: 3, filledOrders: 2, canceled: 1, rejected: 0, fills: 2, makerFills: 1, riskApproved: 3, riskDenied: 3 })

    const denials = report.riskDenials.filter((d) => d.scope === "total").map((d) => [d.reason, d.denials])
    expect(denials).toEqual([
      ["MAX_POSITION", 2],
      ["RATE_LIMIT", 1]
    ])

    const ack = report.latency.find((l) => l.scope === "total" && l.stage === "intentToAck")
    expect(ack).toMatchObject({ count: 3, p50: 50, max: 70, mean: 50 })
    const toFill = report.latency.find((l) => l.scope === "total" && l.stage === "ackToFill")
    expect(toFill).toMatchObject({ count: 2, p50: 70, max: 950 })
    expect(report.tca.every((t) => t.fills === 0) || report.tca.length === 0).toBe(true)
  })
})
