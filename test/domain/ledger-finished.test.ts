import fc from "fast-check"
import { Either } from "effect"
import { describe, expect, it } from "vitest"
import { Decimal } from "../../src/domain/decimal.js"
import type { CanonicalEvent } from "../../src/domain/events/index.js"
import type { OrderFilled, OrderSubmitted } from "../../src/domain/events/orders.js"
import { FINISHED_ORDERS_KEPT, TradingLedger } from "../../src/domain/ledger.js"
import { makeCore } from "../actors/orders/rig.js"
import { ACCOUNT, xbt } from "../actors/risk/fixtures.js"

/**
 * The ledger keeps recently finished orders, so that after a restart a fill the venue reports
 * late for an order that had already ended is still attributed to its order. Invariants:
 *  1. every order folded is live or finished (among the newest FINISHED_ORDERS_KEPT) — never
 *     lost while within that bound — and its filled quantity is the sum of its own fills;
 *  2. a snapshot taken at any point, restored and folded on, equals the uninterrupted fold;
 *  3. an order manager restored from the ledger holds each finished order as a finished actor
 *     with the same filled quantity, and attributes a late fill to it (no reconciliation event).
 */

type Step =
  | { readonly k: "submit"; readonly qty: number }
  | { readonly k: "accept" | "cancel" | "reject" | "expire"; readonly pick: number }
  | { readonly k: "fill"; readonly pick: number; readonly qty: number }

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ k: fc.constant("submit" as const), qty: fc.integer({ min: 1, max: 5 }) }),
  fc.record({ k: fc.constantFrom("accept" as const, "cancel" as const, "reject" as const, "expire" as const), pick: fc.nat() }),
  fc.record({ k: fc.constant("fill" as const), pick: fc.nat(), qty: fc.integer({ min: 1, max: 3 }) })
)

const lot = (n: number) => xbt.lotSize.times(n)

/** Journal events of a random order flow (late fills on finished orders included). */
const eventsOf = (steps: ReadonlyArray<Step>): CanonicalEvent[] => {
  const out: CanonicalEvent[] = []
  const cids: string[] = []
  let n = 0
  const ref = (cid: string) => ({ id: `e-${++n}`, ts: 1_700_000_000_000 + n, source: "test", account: ACCOUNT, instrument: xbt.id, clientOrderId: cid })
  for (const s of steps) {
    if (s.k === "submit") {
      const cid = `c-${cids.length + 1}`
      cids.push(cid)
      out.push({ _tag: "OrderSubmitted", ...ref(cid), strategy: "s1", side: "buy", orderType: "limit", qty: lot(s.qty), price: new Decimal(100), reduceOnly: false } as OrderSubmitted)
      continue
    }
    if (cids.length === 0) continue
    const cid = cids[s.pick % cids.length] as string
    switch (s.k) {
      case "accept":
        out.push({ _tag: "OrderAccepted", ...ref(cid), venueOrderId: `v-${cid}` } as CanonicalEvent)
        break
      case "cancel":
        out.push({ _tag: "OrderCanceled", ...ref(cid), venueOrderId: `v-${cid}`, reason: "ioc remainder" } as CanonicalEvent)
        break
      case "reject":
        out.push({ _tag: "OrderRejected", ...ref(cid), reason: "postWouldExecute" } as CanonicalEvent)
        break
      case "expire":
        out.push({ _tag: "OrderExpired", ...ref(cid) } as CanonicalEvent)
        break
      case "fill":
        out.push({ _tag: "OrderFilled", ...ref(cid), venueOrderId: `v-${cid}`, fillId: `f-${n + 1}`, side: "buy", price: new Decimal(100), qty: lot(s.qty), fee: new Decimal(0), feeCurrency: "USD", liquidity: "maker" } as OrderFilled)
        break
    }
  }
  return out
}

const fold = (events: ReadonlyArray<CanonicalEvent>, ledger = new TradingLedger((id) => (id === xbt.id ? xbt : undefined))) => {
  for (const e of events) ledger.apply(e)
  return ledger
}
const restored = (l: TradingLedger) => Either.getOrThrow(TradingLedger.fromSnapshot(JSON.parse(JSON.stringify(l.toSnapshot())), (id) => (id === xbt.id ? xbt : undefined)))

describe("the ledger's recently finished orders", () => {
  it("keeps every order live or finished with the sum of its own fills, and a snapshot at any point folds on to the same ledger", () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 120 }), fc.nat(), (steps, cutAt) => {
        const events = eventsOf(steps)
        const whole = fold(events)
        const submitted = events.filter((e): e is OrderSubmitted => e._tag === "OrderSubmitted").map((e) => e.clientOrderId as string)
        for (const cid of submitted) {
          const o = whole.orders.get(cid) ?? whole.finished.get(cid)
          expect(o, `order ${cid}`).toBeDefined()
          const own = events.filter((e): e is OrderFilled => e._tag === "OrderFilled" && e.clientOrderId === cid)
          expect(o!.filled.toString()).toBe(own.reduce((s, f) => s.plus(f.qty), new Decimal(0)).toString())
          expect(whole.orders.has(cid) && whole.finished.has(cid)).toBe(false)
        }
        const cut = events.length === 0 ? 0 : cutAt % (events.length + 1)
        const resumed = fold(events.slice(cut), restored(fold(events.slice(0, cut))))
        expect(JSON.stringify({ ...resumed.toSnapshot(), applied: 0 })).toBe(JSON.stringify({ ...whole.toSnapshot(), applied: 0 }))
      }),
      { numRuns: 300 }
    )
  })

  it("keeps only the newest finished orders beyond the bound, oldest dropped first", () => {
    const steps: Step[] = []
    for (let k = 0; k < FINISHED_ORDERS_KEPT + 50; k++) steps.push({ k: "submit", qty: 1 }, { k: "cancel", pick: k })
    const l = fold(eventsOf(steps))
    expect(l.finished.size).toBe(FINISHED_ORDERS_KEPT)
    expect([...l.finished.keys()][0]).toBe("c-51")
    expect(l.finished.has(`c-${FINISHED_ORDERS_KEPT + 50}`)).toBe(true)
  })

  it("after a restart, an order canceled before it gets its late fill: status and filled as the running daemon would have them, no reconciliation event", () => {
    // An IOC partly filled: 2 lots filled, its remainder canceled; the fill of a 3rd lot arrives after the restart.
    const events = eventsOf([{ k: "submit", qty: 5 }, { k: "accept", pick: 0 }, { k: "fill", pick: 0, qty: 2 }, { k: "cancel", pick: 0 }, { k: "submit", qty: 1 }, { k: "reject", pick: 1 }])
    const ledger = restored(fold(events))
    expect(ledger.orders.size).toBe(0)
    expect([...ledger.finished.values()].map((o) => [o.submitted.clientOrderId, o.status, o.filled.toString()])).toEqual([
      ["c-1", "canceled", lot(2).toString()],
      ["c-2", "rejected", "0"]
    ])

    const core = makeCore()
    for (const o of ledger.finished.values()) core.manager.adoptFinished(o)
    expect(core.manager.liveOrders).toBe(0)
    expect(core.manager.order("c-1")?.status).toBe("canceled")
    expect(core.manager.order("c-2")?.status).toBe("rejected")
    expect(core.journal).toEqual([]) // nothing sent, nothing journaled by the adoption

    const late = { _tag: "OrderFilled", id: "late", ts: 1, source: "venue", account: ACCOUNT, instrument: xbt.id, clientOrderId: "c-1", venueOrderId: "v-c-1", fillId: "f-late", side: "buy", price: new Decimal(100), qty: lot(1), fee: new Decimal(0), feeCurrency: "USD", liquidity: "taker" } as OrderFilled
    core.manager.onVenueReport(late)
    expect(core.journal.filter((e) => e._tag === "ReconciliationNeeded")).toEqual([])
    expect(core.manager.order("c-1")?.actor.getSnapshot().context.filledQty).toBe(lot(3).toString())
    expect(core.manager.order("c-1")?.status).toBe("canceled")
  })
})
