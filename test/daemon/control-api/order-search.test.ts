import { Either } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { parseOrderQuery, searchOrders, strategyPage, sumDecimals } from "../../../src/daemon/control-api/order-search.js"
import type { OrderView } from "../../../src/daemon/control.js"

const view = (clientOrderId: string, updatedAt: number, over: Partial<OrderView> = {}): OrderView => ({
  clientOrderId,
  account: "a",
  instrument: "kf:PF_XBTUSD",
  strategy: "mm",
  side: "buy",
  type: "limit",
  qty: "1",
  filledQty: "0",
  state: "filled",
  open: false,
  updatedAt,
  ...over
})

const arbOrders = fc.uniqueArray(
  fc.record({ id: fc.stringMatching(/^[a-c]{1,4}$/), t: fc.integer({ min: 0, max: 20 }), open: fc.boolean(), inst: fc.constantFrom("X", "Y", "Z") }),
  { selector: (r) => r.id, maxLength: 60 }
)

describe("order search", () => {
  it("pages walk the whole filtered list once, newest first, even when orders arrive between pages", () => {
    fc.assert(
      fc.property(arbOrders, fc.integer({ min: 1, max: 7 }), fc.constantFrom(undefined, "X"), fc.integer({ min: 0, max: 5 }), (rows, limit, instrument, arrivals) => {
        let all: OrderView[] = rows.map((r) => view(r.id, r.t, { open: r.open, instrument: r.inst }))
        const q = { limit, open: false, ...(instrument === undefined ? {} : { instrument }) }
        const expected = all
          .filter((o) => !o.open && (instrument === undefined || o.instrument === instrument))
          .sort((a, b) => b.updatedAt - a.updatedAt || (a.clientOrderId < b.clientOrderId ? 1 : -1))
          .map((o) => o.clientOrderId)
        const seen: string[] = []
        let cursor: string | undefined
        for (let guard = 0; guard < 100; guard++) {
          const parsed = parseOrderQuery(new URLSearchParams({ limit: String(limit), open: "false", ...(instrument === undefined ? {} : { instrument }), ...(cursor === undefined ? {} : { cursor }) }))
          expect(Either.isRight(parsed)).toBe(true)
          const page = searchOrders(all, Either.getOrThrow(parsed))
          expect(page.items.length).toBeLessThanOrEqual(limit)
          seen.push(...page.items.map((o) => o.clientOrderId))
          // Newer orders finishing meanwhile sort before the cursor: they never shift later pages.
          if (guard < arrivals) all = [...all, view(`new-${guard}`, 1000 + guard, { instrument: "X" })]
          if (page.next === undefined) break
          cursor = page.next
        }
        expect(seen).toEqual(expected)
        void q
      })
    )
  })

  it("filters by id substring (client or venue id), strategy, state and time; refuses bad queries with the field named", () => {
    const all = [
      view("mm-1-000001", 10, { venueOrderId: "V-77", state: "working.accepted", open: true }),
      view("mm-1-000002", 20, { state: "canceled" }),
      view("tr-1-000003", 30, { strategy: "trend", state: "filled" })
    ]
    const run = (qs: string): string[] => searchOrders(all, Either.getOrThrow(parseOrderQuery(new URLSearchParams(qs)))).items.map((o) => o.clientOrderId)
    expect(run("id=v-77")).toEqual(["mm-1-000001"])
    expect(run("strategy=trend")).toEqual(["tr-1-000003"])
    expect(run("state=accepted")).toEqual(["mm-1-000001"])
    expect(run("state=working")).toEqual(["mm-1-000001"])
    expect(run("from=15&to=25")).toEqual(["mm-1-000002"])
    expect(run(`from=${new Date(15).toISOString()}`)).toEqual(["tr-1-000003", "mm-1-000002"])
    expect(searchOrders(all, { limit: 1, facets: true }).facets).toEqual({ instruments: ["kf:PF_XBTUSD"], strategies: ["mm", "trend"], states: ["canceled", "filled", "working.accepted"] })
    for (const [qs, field] of [
      ["limit=0", "limit"],
      ["limit=501", "limit"],
      ["open=maybe", "open"],
      ["from=yesterday", "from"],
      ["cursor=nope", "cursor"],
      ["colour=red", "colour"]
    ] as const) {
      const r = parseOrderQuery(new URLSearchParams(qs))
      expect(Either.isLeft(r) && r.left.field).toBe(field)
    }
  })

  it("a strategy page sums PnL as decimals (no float drift) and lists its own open orders", () => {
    expect(sumDecimals(["0.1", "0.2"])).toBe("0.3")
    expect(sumDecimals(["-1.25", "0.5", "0.75"])).toBe("0.00")
    expect(sumDecimals(["-0.001", "0"])).toBe("-0.001")
    expect(sumDecimals([])).toBe("0")
    const page = strategyPage(
      { id: "mm", kind: "as", state: "running", instruments: ["X"], restarts: 0, params: {} },
      [
        { account: "a", instrument: "X", qty: "1", avgEntry: "1", markPrice: "1", unrealizedPnl: "0.1", realizedPnl: "0.2", realizedGross: "0.21", fees: "0.01" },
        { account: "a", instrument: "Y", qty: "1", avgEntry: "1", markPrice: "1", unrealizedPnl: "5", realizedPnl: "5", realizedGross: "10", fees: "5" }
      ],
      [view("mm-1", 1, { open: true }), view("mm-2", 2), view("tr-1", 3, { strategy: "trend", open: true })]
    )
    expect(page.pnl).toEqual({ realizedNet: "0.2", unrealized: "0.1", fees: "0.01" })
    expect(page.openOrders.map((o) => o.clientOrderId)).toEqual(["mm-1"])
    expect(page.finishedOrders).toBe(1)
  })
})
