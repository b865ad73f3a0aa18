import { describe, expect, it } from "vitest"
import type { CancelAll, CancelOrder } from "../../../src/domain/events/intents.js"
import type { RiskDenied } from "../../../src/domain/events/risk.js"
import type { ClientOrderId } from "../../../src/domain/ids.js"
import { binanceUsdmModel, krakenFuturesModel } from "../../../src/domain/venue-rates.js"
import { BTC, makeAccounts, order } from "./binance-rig.js"

const flush = () => new Promise((r) => setImmediate(r))
const denial = (d: { _tag: string; event: unknown }): RiskDenied | undefined => (d._tag === "Denied" ? (d.event as RiskDenied) : undefined)
const cancelOf = (account: string, cid: string): CancelOrder => ({ _tag: "CancelOrder", id: `c-${cid}`, ts: 0, source: "test", account: account as CancelOrder["account"], strategy: "s" as CancelOrder["strategy"], instrument: BTC, clientOrderId: cid as ClientOrderId })

describe("Binance USD-M budgets in the risk actor", () => {
  it("orders count per account, 300 per 10 s: the 301st is denied naming orders10s; another account on the same address still trades", () => {
    const { accounts } = makeAccounts([{ id: "a" }, { id: "b" }])
    const [a, b] = accounts
    for (let k = 0; k < 300; k++) expect(a!.risk.decide(order(a!.id))._tag).toBe("Approved")
    const d = denial(a!.risk.decide(order(a!.id)))
    expect(d?.reason).toBe("RATE_LIMIT")
    expect(d?.budget).toBe("orders10s")
    expect(d?.limit?.toNumber()).toBe(300)
    expect(d?.actual?.toNumber()).toBe(301)
    expect(d?.detail).toContain("binance-usdm/orders10s/account:a")
    expect(b!.risk.decide(order(b!.id))._tag).toBe("Approved")
    expect(a!.risk.rateDenials().get("orders10s")).toBe(1)
  })

  it("orders per minute: 1200, across 10 s windows", () => {
    const { clock, accounts } = makeAccounts([{ id: "a" }])
    const a = accounts[0]!
    for (let w = 0; w < 4; w++) {
      for (let k = 0; k < 300; k++) expect(a.risk.decide(order(a.id))._tag).toBe("Approved")
      clock.advance(10_600)
    }
    // 1200 in the last 43 s: the minute is full though the 10 s window is empty.
    const d = denial(a.risk.decide(order(a.id)))
    expect(d?.budget).toBe("orders1m")
    clock.advance(60_500 - 4 * 10_600 + 1)
    expect(a.risk.decide(order(a.id))._tag).toBe("Approved")
  })

  it("request weight is one window per address: two accounts' reads and cancels spend it together, the submits cost none", async () => {
    const { accounts } = makeAccounts([{ id: "a" }, { id: "b" }, { id: "c", ip: "10.0.0.2" }])
    const [a, b, c] = accounts
    // 2200 = 2400 less the cancel reserve: 27 × 40 (openorders) + 28 × 40 = 2200.
    for (let k = 0; k < 27; k++) await a!.risk.requestBudget.reserve("openorders")
    for (let k = 0; k < 28; k++) await b!.risk.requestBudget.reserve("openorders")
    const usage = a!.risk.rateUsage().find((u) => u.budget === "weight1m")
    expect(usage).toMatchObject({ key: "binance-usdm/weight1m/ip:default", used: 2200, limit: 2400, scope: "ip" })
    // Submits cost 0 weight: they still pass.
    expect(a!.risk.decide(order(a!.id))._tag).toBe("Approved")
    // A read of either account now waits.
    let sent = false
    void b!.risk.requestBudget.reserve("orderStatus").then(() => (sent = true))
    await flush()
    expect(sent).toBe(false)
    // Cancels use the reserve (weight 1 each).
    expect(a!.risk.decide(cancelOf(a!.id, "x-1"))._tag).toBe("Approved")
    // The account on another address has its own weight.
    expect(c!.risk.rateUsage().find((u) => u.budget === "weight1m")?.used).toBe(0)
    await c!.risk.requestBudget.reserve("openorders")
  })

  it("an account-wide cancel-all costs one allOpenOrders per instrument traded; one instrument's costs one", () => {
    const { accounts } = makeAccounts([{ id: "a" }])
    const a = accounts[0]!
    const all: CancelAll = { _tag: "CancelAll", id: "ca-1", ts: 0, source: "test", account: a.id }
    const d = a.risk.decide(all)
    expect(d._tag === "Approved" && d.action.cost).toBe(1)
    const one: CancelAll = { ...all, id: "ca-2", instrument: BTC }
    const d2 = a.risk.decide(one)
    expect(d2._tag === "Approved" && d2.action.cost).toBe(1)
    const dms = a.risk.approveDeadMansSwitch(60)
    expect(dms._tag === "Approved" && dms.action.cost).toBe(10)
    expect(a.risk.rateUsage().find((u) => u.budget === "weight1m")?.used).toBe(12)
  })

  it("the venue's headers raise the windows to its counts, never lower them", () => {
    const { clock, accounts } = makeAccounts([{ id: "a" }, { id: "b" }])
    const [a, b] = accounts
    for (let k = 0; k < 10; k++) a!.risk.decide(order(a!.id))
    // The reply to the 10th comes back once it has surely reached the venue (after the send margin).
    clock.advance(600)
    // Another process on this address has spent 2150 weight; the account 290 orders in 10 s elsewhere.
    a!.risk.rateReports.syncFromHeaders({ "X-MBX-USED-WEIGHT-1M": "2150", "x-mbx-order-count-10s": "290", "X-Mbx-Order-Count-1m": "5" })
    const used = Object.fromEntries(a!.risk.rateUsage().map((u) => [u.budget, u.used]))
    expect(used).toEqual({ weight1m: 2150, orders10s: 290, orders1m: 10 })
    // The same headers again change nothing (they are counts, not increments).
    a!.risk.rateReports.syncFromHeaders(new Headers({ "x-mbx-used-weight-1m": "2150", "x-mbx-order-count-10s": "290" }))
    expect(a!.risk.rateUsage().find((u) => u.budget === "orders10s")?.used).toBe(290)
    // The address's weight is shared: account b sees it too.
    expect(b!.risk.rateUsage().find((u) => u.budget === "weight1m")?.used).toBe(2150)
    for (let k = 0; k < 10; k++) expect(a!.risk.decide(order(a!.id))._tag).toBe("Approved")
    expect(denial(a!.risk.decide(order(a!.id)))?.budget).toBe("orders10s")
    // A lower count (the venue's window reset) leaves ours as it is.
    a!.risk.rateReports.syncFromHeaders({ "x-mbx-used-weight-1m": "3" })
    expect(b!.risk.rateUsage().find((u) => u.budget === "weight1m")?.used).toBe(2150)
    // The WebSocket API's rateLimits do the same.
    b!.risk.rateReports.syncFromRateLimits([{ rateLimitType: "ORDERS", interval: "SECOND", intervalNum: 10, count: 7 }])
    expect(b!.risk.rateUsage().find((u) => u.budget === "orders10s")?.used).toBe(7)
    expect(b!.risk.rateUsage().find((u) => u.budget === "orders10s")?.external).toBe(7)
  })

  it("a 429 backs off with its own reason until Retry-After; reads wait for it", async () => {
    const { clock, accounts } = makeAccounts([{ id: "a" }, { id: "b" }])
    const [a, b] = accounts
    const held = a!.risk.rateReports.tooManyRequests({ budget: "weight1m", headers: { "retry-after": "7" }, why: "-1003 Too many requests" })
    expect(held).toEqual(["weight1m"])
    // A hold on the address stops every call to the venue from it, for every account on it.
    const d = denial(b!.risk.decide(order(b!.id)))
    expect(d?.reason).toBe("RATE_LIMIT_BACKOFF")
    expect(d?.budget).toBe("weight1m")
    expect(d?.detail).toContain("7 s more")
    expect(denial(a!.risk.decide(cancelOf(a!.id, "x")))?.reason).toBe("RATE_LIMIT_BACKOFF")
    let sent = false
    void a!.risk.requestBudget.reserve("openpositions").then(() => (sent = true))
    clock.advance(6_999)
    await flush()
    expect(sent).toBe(false)
    clock.advance(1)
    await flush()
    expect(sent).toBe(true)
    expect(a!.risk.decide(order(a!.id))._tag).toBe("Approved")
  })

  it("a 429 on an account's order count without Retry-After holds that account's orders for the window; cancels and the other account pass", () => {
    const { clock, accounts } = makeAccounts([{ id: "a" }, { id: "b" }])
    const [a, b] = accounts
    a!.risk.rateReports.tooManyRequests({ budget: "orders10s", why: "-1015 Too many new orders" })
    expect(denial(a!.risk.decide(order(a!.id)))?.reason).toBe("RATE_LIMIT_BACKOFF")
    expect(a!.risk.decide(cancelOf(a!.id, "x"))._tag).toBe("Approved")
    expect(b!.risk.decide(order(b!.id))._tag).toBe("Approved")
    clock.advance(10_499)
    expect(a!.risk.decide(order(a!.id))._tag).toBe("Denied")
    clock.advance(1)
    expect(a!.risk.decide(order(a!.id))._tag).toBe("Approved")
  })

  it("a 418 halts every account on that venue from that address with the venueBan cause until the ban ends; an account on another venue trades on", async () => {
    const { clock, accounts } = makeAccounts([{ id: "a" }, { id: "b" }, { id: "k", model: krakenFuturesModel() }])
    const [a, b, k] = accounts
    const t0 = clock.now()
    a!.risk.rateReports.banned({ untilWall: t0 + 300_000, why: "HTTP 418 Way too many requests; IP banned until " + String(t0 + 300_000) })
    for (const x of [a!, b!]) {
      expect(x.risk.status).toBe("halted")
      expect(x.risk.causes()).toEqual([{ cause: "venueBan", level: "halted", who: "risk:venue-rate", why: expect.stringContaining("binance-usdm: HTTP 418") as string, since: t0 }])
      expect(x.events.at(-1)).toMatchObject({ _tag: "TradingStateChanged", cause: "venueBan", change: "raised", to: "halted" })
      expect(denial(x.risk.decide(order(x.id)))?.reason).toBe("TRADING_HALTED")
      // Cancels pass the trading state, but nothing may be sent from a banned address.
      expect(denial(x.risk.decide(cancelOf(x.id, "y")))?.reason).toBe("VENUE_BANNED")
    }
    expect(k!.risk.status).toBe("active")
    expect(k!.risk.decide(order(k!.id))._tag).toBe("Approved")
    clock.advance(299_999)
    await flush()
    expect(a!.risk.status).toBe("halted")
    clock.advance(1)
    await flush()
    expect(a!.risk.status).toBe("active")
    expect(b!.risk.status).toBe("active")
    expect(b!.events.at(-1)).toMatchObject({ _tag: "TradingStateChanged", cause: "venueBan", change: "lifted" })
    expect(b!.risk.decide(order(b!.id))._tag).toBe("Approved")
  })

  it("a 418 without a time bans for at least two minutes; an operator's lift ends it for every account on the address", () => {
    const { clock, accounts } = makeAccounts([{ id: "a" }, { id: "b" }])
    const [a, b] = accounts
    a!.risk.rateReports.banned({ why: "HTTP 418" })
    clock.advance(119_000)
    expect(denial(b!.risk.decide(order(b!.id)))?.reason).toBe("TRADING_HALTED")
    expect(b!.risk.liftCause("venueBan", "carol", "checked with the venue")).toBe(true)
    expect(b!.risk.status).toBe("active")
    expect(a!.risk.status).toBe("active")
    expect(a!.risk.decide(order(a!.id))._tag).toBe("Approved")
  })

  it("a restart restores each account's journaled spends into the shared windows once", () => {
    const first = makeAccounts([{ id: "a" }, { id: "b" }])
    const spent = (acc: (typeof first.accounts)[number]) =>
      acc.events.flatMap((e) => (e._tag === "VenueRequestSent" ? [{ at: e.ts, cost: e.cost, call: e.call }] : []))
    const [a, b] = first.accounts
    for (let k = 0; k < 100; k++) a!.risk.decide(order(a!.id))
    for (let k = 0; k < 30; k++) b!.risk.decide(cancelOf(b!.id, `z-${k}`))
    first.clock.advance(2_000)
    const again = makeAccounts([{ id: "a" }, { id: "b" }], { clock: first.clock })
    const [a2, b2] = again.accounts
    a2!.risk.restoreSpent(spent(a!))
    b2!.risk.restoreSpent(spent(b!))
    // A trading core restart within the daemon: the windows outlived it; restoring again adds nothing.
    b2!.risk.restoreSpent(spent(b!))
    const of = (acc: typeof a2) => Object.fromEntries(acc!.risk.rateUsage().map((u) => [u.budget, u.used]))
    expect(of(a2)).toEqual({ weight1m: 30, orders10s: 100, orders1m: 100 })
    expect(of(b2)).toEqual({ weight1m: 30, orders10s: 0, orders1m: 0 })
  })

  it("per-budget metrics list every budget of the account with its key and limit", () => {
    const { accounts } = makeAccounts([{ id: "a" }])
    expect(accounts[0]!.risk.rateUsage().map((u) => [u.budget, u.scope, u.limit, u.key])).toEqual([
      ["weight1m", "ip", 2400, "binance-usdm/weight1m/ip:default"],
      ["orders10s", "account", 300, "binance-usdm/orders10s/account:a"],
      ["orders1m", "account", 1200, "binance-usdm/orders1m/account:a"]
    ])
    expect(binanceUsdmModel().budgets.map((b) => b.header)).toEqual(["x-mbx-used-weight-1m", "x-mbx-order-count-10s", "x-mbx-order-count-1m"])
  })
})

describe("the venue's count binds until its window has surely ended", () => {
  it("a count reported at t holds (plus what we send after t less the margin) until t + the window, then our own window alone", () => {
    const { clock, accounts } = makeAccounts([{ id: "a" }])
    const a = accounts[0]!
    a.risk.rateReports.syncFromHeaders({ "x-mbx-order-count-10s": "295" })
    for (let k = 0; k < 5; k++) expect(a.risk.decide(order(a.id))._tag).toBe("Approved")
    expect(denial(a.risk.decide(order(a.id)))?.budget).toBe("orders10s")
    clock.advance(9_999)
    expect(a.risk.decide(order(a.id))._tag).toBe("Denied")
    clock.advance(1)
    // The reported 295 no longer binds (the gauge shows the venue's 10 s window: empty); our own 5 of
    // t=0 still count here until 10.5 s (the send margin), so 295 more fit, not 300.
    expect(a.risk.rateUsage().find((u) => u.budget === "orders10s")?.used).toBe(0)
    for (let k = 0; k < 295; k++) expect(a.risk.decide(order(a.id))._tag).toBe("Approved")
    expect(a.risk.decide(order(a.id))._tag).toBe("Denied")
  })

  it("a read waiting on the venue's count is sent when the count stops binding", async () => {
    const { clock, accounts } = makeAccounts([{ id: "a" }])
    const a = accounts[0]!
    a.risk.rateReports.syncFromHeaders({ "x-mbx-used-weight-1m": "2190" })
    let sent = false
    void a.risk.requestBudget.reserve("depthSnapshot").then(() => (sent = true))
    clock.advance(59_999)
    await flush()
    expect(sent).toBe(false)
    clock.advance(1)
    await flush()
    expect(sent).toBe(true)
  })
})
