import { Effect, Either } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { RequestBudgetService, VenueRead } from "../../../src/actors/ports/request-budget.js"
import type { VenueReport } from "../../../src/actors/ports/venue-gateway.js"
import type { ApprovedAction } from "../../../src/actors/risk/approval.js"
import { makeKrakenVenueGateway, type KrakenGatewayLog, type KrakenVenueGateway } from "../../../src/adapters/venues/kraken-futures/gateway.js"
import { makeKrakenRestClient } from "../../../src/adapters/venues/kraken-futures/rest.js"
import { startSimulator, type Simulator } from "../../../src/adapters/venues/simulator/server.js"
import { dec } from "../../../src/domain/decimal.js"
import type { OrderIntent } from "../../../src/domain/events/intents.js"
import type { ClientOrderId } from "../../../src/domain/ids.js"
import { ACCOUNT, cancel, makeRisk, modify, submit, XBT } from "../../actors/risk/fixtures.js"

// The gateway against the simulator on loopback; approvals come from the real risk actor.
const KEY = "gw-key"
const SECRET = "c2VjcmV0c2VjcmV0c2VjcmV0"
const ACCOUNT_NAME: string = ACCOUNT // the simulator account has the same name
let sim: Simulator

const until = async (what: string, ok: () => boolean, ms = 5000): Promise<void> => {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (ok()) return
    await new Promise((r) => setTimeout(r, 10))
  }
  throw new Error(`timed out waiting for ${what}`)
}
const settle = (ms = 150) => new Promise((r) => setTimeout(r, ms))

const approver = () => {
  const { risk } = makeRisk()
  risk.onBook(XBT, dec("59999.5"), dec("60000.5")) // the simulator's PF_XBTUSD mid is 60 000
  return (intent: OrderIntent): ApprovedAction => {
    const d = risk.decide(intent)
    if (d._tag !== "Approved") throw new Error(`risk denied: ${d.event.reason} ${d.event.detail}`)
    return d.action
  }
}

const rig = (s: Simulator, opts: { fetch?: typeof fetch } = {}) => {
  const reports: VenueReport[] = []
  const logs: KrakenGatewayLog[] = []
  // Reads are billed to a real risk actor's budget; the test records which reads were reserved.
  const reads: VenueRead[] = []
  const riskBudget = makeRisk().risk.requestBudget
  const budget: RequestBudgetService = {
    reserve: (call) => {
      reads.push(call)
      return riskBudget.reserve(call)
    }
  }
  const rest = makeKrakenRestClient({ baseUrl: `${s.url}/derivatives`, credentials: { apiKey: KEY, secret: SECRET }, ...(opts.fetch === undefined ? {} : { fetch: opts.fetch }) })
  const gw: KrakenVenueGateway = makeKrakenVenueGateway({
    account: ACCOUNT,
    rest,
    budget,
    privateFeed: { url: s.wsUrl, apiKey: KEY, secret: SECRET, backoff: { baseMs: 20, maxMs: 100, jitter: 0, maxAttempts: 20 } },
    reconcile: { attempts: 2, delayMs: 30 },
    onLog: (l) => logs.push(l)
  })
  gw.subscribe((r) => reports.push(r))
  return { gw, reports, logs, rest, reads }
}

const of = (reports: ReadonlyArray<VenueReport>, cid: string) => reports.filter((r) => r.clientOrderId === cid)
const tags = (reports: ReadonlyArray<VenueReport>, cid: string) => of(reports, cid).map((r) => r._tag)
const venueOrders = (cid: string) => (sim.admin.account(ACCOUNT_NAME).orders as ReadonlyArray<{ cliOrdId?: string }>).filter((o) => o.cliOrdId === cid)

beforeAll(async () => {
  sim = await startSimulator({ seed: 3, market: { kind: "none" }, accounts: [{ name: ACCOUNT_NAME, apiKey: KEY, apiSecret: SECRET }] })
})
afterAll(async () => {
  await sim.stop()
})

describe("Kraken Futures venue gateway", () => {
  it("submit → OrderAccepted, modify → OrderModified, cancel → OrderCanceled, each reported once", async () => {
    const approve = approver()
    const { gw, reports } = rig(sim)
    gw.start()
    try {
      await until("private feed", () => gw.counters().feedAuthenticated)
      const s = submit({ price: "59800", qty: "0.01" })
      gw.send(approve(s))
      await until("accepted", () => tags(reports, s.clientOrderId).includes("OrderAccepted"))
      const accepted = of(reports, s.clientOrderId)[0]
      const atVenue = venueOrders(s.clientOrderId) as ReadonlyArray<{ orderId?: string }>
      expect(atVenue.length).toBe(1)
      expect(accepted).toMatchObject({ _tag: "OrderAccepted", account: ACCOUNT, instrument: XBT, venueOrderId: atVenue[0]?.orderId })
      expect(accepted?.source).toBe(`kraken-futures/gateway/${ACCOUNT}`)

      gw.send(approve(modify(s.clientOrderId, { price: "59750" })))
      await until("modified", () => tags(reports, s.clientOrderId).includes("OrderModified"))
      const m = of(reports, s.clientOrderId).find((r) => r._tag === "OrderModified")
      expect(m?._tag === "OrderModified" && m.price?.toString()).toBe("59750")

      gw.send(approve(cancel(s.clientOrderId)))
      await until("canceled", () => tags(reports, s.clientOrderId).includes("OrderCanceled"))
      await settle()
      // REST reply and private feed both saw each fact: reported once, ids unique.
      expect(tags(reports, s.clientOrderId)).toEqual(["OrderAccepted", "OrderModified", "OrderCanceled"])
      expect(new Set(reports.map((r) => r.id)).size).toBe(reports.length)
    } finally {
      await gw.stop()
    }
  })

  it("a marketable order fills: OrderFilled from the private feed with the venue's qty and price", async () => {
    const approve = approver()
    const { gw, reports } = rig(sim)
    gw.start()
    try {
      await until("private feed", () => gw.counters().feedAuthenticated)
      sim.admin.placeAs({ account: "mm", symbol: "PF_XBTUSD", side: "sell", orderType: "lmt", size: "0.5", limitPrice: "60010" })
      const s = submit({ price: "60020", qty: "0.2" })
      gw.send(approve(s))
      await until("filled", () => tags(reports, s.clientOrderId).includes("OrderFilled"))
      await settle()
      expect(tags(reports, s.clientOrderId)).toEqual(["OrderAccepted", "OrderFilled"])
      const fill = of(reports, s.clientOrderId)[1]
      if (fill?._tag !== "OrderFilled") throw new Error("no fill")
      expect([fill.qty.toString(), fill.price.toString(), fill.side, fill.liquidity]).toEqual(["0.2", "60010", "buy", "taker"])
    } finally {
      await gw.stop()
    }
  })

  it("a cancel that races a fill: the venue filled first, so the fill is reported and the cancel rejected, never both canceled and filled", async () => {
    const approve = approver()
    const { gw, reports } = rig(sim)
    gw.start()
    try {
      await until("private feed", () => gw.counters().feedAuthenticated)
      const s = submit({ price: "59800", qty: "0.01" })
      gw.send(approve(s))
      await until("accepted", () => tags(reports, s.clientOrderId).includes("OrderAccepted"))
      // The fill happens at the venue before our cancel arrives; we have not heard of it yet.
      sim.admin.placeAs({ account: "mm", symbol: "PF_XBTUSD", side: "sell", orderType: "ioc", size: "0.01", limitPrice: "59800" })
      gw.send(approve(cancel(s.clientOrderId)))
      await until("fill and cancel answer", () => tags(reports, s.clientOrderId).includes("OrderFilled") && tags(reports, s.clientOrderId).includes("OrderCancelRejected"))
      await settle()
      const t = tags(reports, s.clientOrderId)
      expect(t.filter((x) => x === "OrderFilled").length).toBe(1)
      expect(t).not.toContain("OrderCanceled")
      const fill = of(reports, s.clientOrderId).find((r) => r._tag === "OrderFilled")
      expect(fill?._tag === "OrderFilled" && [fill.qty.toString(), fill.price.toString()]).toEqual(["0.01", "59800"])
    } finally {
      await gw.stop()
    }
  })

  it("a duplicate client order id (the first send reached the venue before a crash) is reconciled, not placed twice", async () => {
    const approve = approver()
    const { gw, reports, rest } = rig(sim)
    const s = submit({ price: "59700", qty: "0.01" })
    // The previous incarnation's send: the order exists before this gateway starts.
    const first = Either.getOrThrow(
      await Effect.runPromise(Effect.either(rest.sendOrder({ orderType: "lmt", symbol: "PF_XBTUSD", side: "buy", size: dec("0.01"), limitPrice: dec("59700"), cliOrdId: s.clientOrderId })))
    )
    gw.start()
    try {
      await until("private feed", () => gw.counters().feedAuthenticated)
      gw.send(approve(s))
      await until("accepted", () => tags(reports, s.clientOrderId).includes("OrderAccepted"))
      await settle()
      expect(tags(reports, s.clientOrderId)).toEqual(["OrderAccepted"])
      expect(of(reports, s.clientOrderId)[0]).toMatchObject({ venueOrderId: first.venueOrderId })
      expect(venueOrders(s.clientOrderId).length).toBe(1)
      expect(gw.counters().reconciled).toBe(1)
    } finally {
      await gw.stop()
    }
  })

  it("an exhausted rate limit is a rejection with reason rate_limited; nothing is thrown", async () => {
    const limited = await startSimulator({ seed: 4, market: { kind: "none" }, accounts: [{ name: ACCOUNT_NAME, apiKey: KEY, apiSecret: SECRET }], rateLimit: { limit: 10, windowMs: 60_000 } })
    const approve = approver()
    const { gw, reports } = rig(limited)
    try {
      const a = submit({ price: "59800", qty: "0.01" })
      const b = submit({ price: "59800", qty: "0.01" })
      expect(() => gw.send(approve(a))).not.toThrow()
      await until("first answered", () => of(reports, a.clientOrderId).length > 0)
      expect(() => gw.send(approve(b))).not.toThrow()
      await until("second answered", () => of(reports, b.clientOrderId).length > 0)
      expect(tags(reports, a.clientOrderId)).toEqual(["OrderAccepted"])
      expect(of(reports, b.clientOrderId)).toEqual([expect.objectContaining({ _tag: "OrderRejected", reason: "rate_limited" })])
      expect(gw.counters().rateLimited).toBe(1)
    } finally {
      await gw.stop()
      await limited.stop()
    }
  })

  it("a 5xx on submit is reconciled through openorders/fills, each read reserved from risk's budget first: not placed → rejected as not_placed, never resent", async () => {
    const approve = approver()
    const { gw, reports, logs, reads } = rig(sim)
    try {
      sim.admin.setFaults({ restFailures: 1 })
      const s = submit({ price: "59800", qty: "0.01" })
      gw.send(approve(s))
      await until("answered", () => of(reports, s.clientOrderId).length > 0)
      const r = of(reports, s.clientOrderId)
      expect(r.length).toBe(1)
      expect(r[0]?._tag).toBe("OrderRejected")
      expect(r[0]?._tag === "OrderRejected" && r[0].reason).toMatch(/^not_placed: venue_unavailable/)
      expect(venueOrders(s.clientOrderId).length).toBe(0)
      expect(gw.counters()).toMatchObject({ reconciliations: 1, reconciled: 1, unresolved: 0 })
      expect(reads).toEqual(["openorders", "fills", "openorders", "fills"])
      expect(logs.filter((l) => l.level === "error")).toEqual([])
    } finally {
      await gw.stop()
    }
  })

  it("a send that reached the venue but whose reply was lost (timeout) is found by client order id: accepted, exactly one order", async () => {
    const approve = approver()
    let loseNext = true
    const lossy: typeof fetch = async (input, init) => {
      const res = await fetch(input, init)
      if (String(input).includes("/sendorder") && loseNext) {
        loseNext = false
        await res.text()
        const e = new Error("The operation was aborted due to timeout")
        e.name = "TimeoutError"
        throw e
      }
      return res
    }
    const { gw, reports } = rig(sim, { fetch: lossy })
    try {
      const s = submit({ price: "59600", qty: "0.01" })
      gw.send(approve(s))
      await until("accepted", () => tags(reports, s.clientOrderId).includes("OrderAccepted"))
      await settle()
      expect(tags(reports, s.clientOrderId)).toEqual(["OrderAccepted"])
      expect(venueOrders(s.clientOrderId).length).toBe(1)
      expect(gw.counters()).toMatchObject({ reconciliations: 1, reconciled: 1 })
    } finally {
      await gw.stop()
    }
  })

  it("a timeout with no trace of the order reports nothing and counts it unresolved", async () => {
    const approve = approver()
    const dead: typeof fetch = async (input, init) => {
      if (String(input).includes("/sendorder")) {
        const e = new Error("timeout")
        e.name = "TimeoutError"
        throw e
      }
      return fetch(input, init)
    }
    const { gw, reports, logs } = rig(sim, { fetch: dead })
    try {
      const s = submit({ price: "59600", qty: "0.01" })
      gw.send(approve(s))
      await until("unresolved", () => gw.counters().unresolved === 1)
      expect(of(reports, s.clientOrderId)).toEqual([])
      expect(logs.some((l) => l.clientOrderId === (s.clientOrderId as ClientOrderId) && l.level === "warn")).toBe(true)
    } finally {
      await gw.stop()
    }
  })

  it("drops anything that is not a genuine approval", () => {
    const { gw, reports } = rig(sim)
    // @ts-expect-error a look-alike is not an ApprovedAction
    gw.send({ approvalId: "x", account: ACCOUNT, call: "cancelallorders", cost: 25, action: { kind: "cancelAll" }, approvedAt: 0 })
    expect(gw.counters().forged).toBe(1)
    expect(reports).toEqual([])
  })
})
