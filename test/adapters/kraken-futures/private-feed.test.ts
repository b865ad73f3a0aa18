import fc from "fast-check"
import { Either } from "effect"
import { describe, expect, it } from "vitest"
import { signChallenge } from "../../../src/adapters/venues/kraken-futures/auth.js"
import type { AccountFact } from "../../../src/actors/ports/venue-gateway.js"
import { PrivateFeedSession, type PrivateFeedSignal } from "../../../src/adapters/venues/kraken-futures/private-feed.js"
import type { OrderEvent } from "../../../src/domain/events/orders.js"
import { parseAccountId } from "../../../src/domain/ids.js"

const SECRET = "7zxMEF5p/Z8l2p2U7Ghv6x14Af+Fx+92tPgUdVQ748FOIrEoT9bgT+bTRfXc5pz8na+hL/QdrCVG7bh9KpT0eMTm"
const order = (extra = "") =>
  `{"instrument":"PF_XBTUSD","time":1,"last_update_time":2,"qty":0.5,"filled":0,"limit_price":34981.5,"stop_price":null,"type":"limit","order_id":"o-1","cli_ord_id":"strat-1-a","direction":0,"reduce_only":false${extra}}`
const fill = (id: string, cli = '"strat-1-a"') =>
  `{"instrument":"PF_XBTUSD","time":3,"price":0.1,"seq":7,"buy":true,"qty":0.0001,"order_id":"o-1","cli_ord_id":${cli},"fill_id":"${id}","fill_type":"maker","fee_paid":-1e-8,"fee_currency":"USD"}`

const harness = (awaitingReplies?: () => boolean) => {
  const events: Array<OrderEvent> = []
  const signals: Array<PrivateFeedSignal> = []
  const sent: Array<Record<string, unknown>> = []
  const link: Array<string> = []
  const session = new PrivateFeedSession(
    { apiKey: "key-1", secret: SECRET, account: Either.getOrThrow(parseAccountId("acct-1")), onEvent: (e) => events.push(e), onSignal: (s) => signals.push(s), ...(awaitingReplies === undefined ? {} : { awaitingReplies }) },
    (m) => sent.push(m as Record<string, unknown>),
    { authenticated: () => link.push("authenticated"), failed: (e) => link.push(`failed: ${e}`) }
  )
  return { events, signals, sent, link, session }
}

describe("kraken-futures private feed session", () => {
  it("answers the challenge by subscribing each private feed with the signed challenge", () => {
    const h = harness()
    h.session.authenticate()
    expect(h.sent).toEqual([{ event: "challenge", api_key: "key-1" }])
    h.session.handle('{"event":"challenge","message":"c100b894-1729-464d-ace1-52dbce11db42"}')
    expect(h.link).toEqual(["authenticated"])
    h.session.subscribe()
    const signed = "4JEpF3ix66GA2B+ooK128Ift4XQVtc137N9yeg4Kqsn9PI0Kpzbysl9M1IeCEdjg0zl00wkVqcsnG4bmnlMb3A=="
    expect(signChallenge({ secret: SECRET, challenge: "c100b894-1729-464d-ace1-52dbce11db42" })).toBe(signed)
    expect(h.sent.slice(1)).toEqual(
      ["open_orders", "balances", "account_log", "fills", "open_positions"].map((feed) => ({ event: "subscribe", feed, api_key: "key-1", original_challenge: "c100b894-1729-464d-ace1-52dbce11db42", signed_challenge: signed }))
    )
    h.session.handle('{"event":"subscribed","feed":"fills"}')
    expect(h.signals[0]).toEqual({ _tag: "Authenticated" })
  })

  it("an error before any subscription is an authentication failure", () => {
    const h = harness()
    h.session.handle('{"event":"error","message":"Invalid challenge"}')
    expect(h.signals).toEqual([{ _tag: "AuthenticationFailed", detail: "Invalid challenge" }])
    expect(h.link).toEqual(["failed: authentication failed: Invalid challenge"])
  })

  it("a new order, an edit and a user cancel become OrderAccepted, OrderModified and OrderCanceled for the client order id", () => {
    const h = harness()
    h.session.handle(`{"feed":"open_orders","order":${order()},"is_cancel":false,"reason":"new_placed_order_by_user"}`)
    h.session.handle(`{"feed":"open_orders","order":${order().replace("34981.5", "34990")},"is_cancel":false,"reason":"edited_by_user"}`)
    h.session.handle('{"feed":"open_orders","order_id":"o-1","is_cancel":true,"reason":"cancelled_by_user"}')
    expect(h.events.map((e) => e._tag)).toEqual(["OrderAccepted", "OrderModified", "OrderCanceled"])
    for (const e of h.events) {
      expect(e).toMatchObject({ account: "acct-1", instrument: "kraken-futures:PF_XBTUSD", clientOrderId: "strat-1-a" })
    }
    const m = h.events[1]
    if (m?._tag !== "OrderModified") throw new Error("no modify")
    expect(m.price?.toString()).toBe("34990")
    expect(m.qty?.toString()).toBe("0.5")
    expect(h.events[2]).toMatchObject({ venueOrderId: "o-1", reason: "cancelled_by_user" })
  })

  it("a post-only order the venue canceled keeps the venue's reason; a full fill removal emits no cancel", () => {
    const h = harness()
    h.session.handle(`{"feed":"open_orders","order":${order()},"is_cancel":true,"reason":"post_order_failed_because_it_would_be_filled"}`)
    expect(h.events.map((e) => e._tag)).toEqual(["OrderCanceled"])
    expect(h.events[0]).toMatchObject({ reason: "post_order_failed_because_it_would_be_filled" })
    const g = harness()
    g.session.handle(`{"feed":"open_orders","order":${order()},"is_cancel":false,"reason":"new_placed_order_by_user"}`)
    g.session.handle('{"feed":"open_orders","order_id":"o-1","is_cancel":true,"reason":"full_fill"}')
    expect(g.events.map((e) => e._tag)).toEqual(["OrderAccepted"])
  })

  it("fills become OrderFilled with fill id, order ids, exact price and qty, maker liquidity and the fee", () => {
    const h = harness()
    h.session.handle(`{"feed":"fills","account":"a","fills":[${fill("f-1")}]}`)
    const f = h.events[0]
    if (f?._tag !== "OrderFilled") throw new Error("no fill")
    expect([f.fillId, f.venueOrderId, f.clientOrderId, f.side, f.liquidity, f.feeCurrency, f.venueTs]).toEqual(["f-1", "o-1", "strat-1-a", "buy", "maker", "USD", 3])
    expect([f.price.toString(), f.qty.toString(), f.fee.toFixed()]).toEqual(["0.1", "0.0001", "-0.00000001"])
  })

  it("a fill without a client order id is attributed through an order seen earlier, else signalled as unattributed", () => {
    const h = harness()
    h.session.handle(`{"feed":"fills","fills":[${fill("f-0", "null")}]}`)
    expect(h.signals).toContainEqual({ _tag: "Unattributed", what: "fill", orderId: "o-1", reason: "no client order id" })
    h.session.handle(`{"feed":"open_orders_snapshot","account":"a","orders":[${order()}]}`)
    h.session.handle(`{"feed":"fills","fills":[${fill("f-1", "null")}]}`)
    expect(h.events.map((e) => e._tag)).toEqual(["OrderFilled"])
    expect(h.events[0]).toMatchObject({ clientOrderId: "strat-1-a" })
  })

  it("one malformed fill in a frame is counted and the other fills still arrive", () => {
    const h = harness()
    h.session.handle(`{"feed":"fills","fills":[${fill("f-1")},{"fill_id":"f-2","price":"abc"},${fill("f-3")}]}`)
    expect(h.events.map((e) => (e._tag === "OrderFilled" ? e.fillId : e._tag))).toEqual(["f-1", "f-3"])
    expect(h.session.counters()).toMatchObject({ frames: 1, decodeErrors: 1 })
  })

  it("the cancel of an IOC remainder that never rested is held until the sendorder reply maps its order id, then attributed", () => {
    let pending = true
    const h = harness(() => pending)
    h.session.handle('{"feed":"open_orders","order_id":"o-9","is_cancel":true,"reason":"ioc_order_failed_because_it_would_not_be_executed"}')
    expect(h.events).toEqual([])
    expect(h.signals).toEqual([])
    h.session.mapOrder("o-9", "strat-1-b" as never, "PF_XBTUSD")
    expect(h.events.map((e) => [e._tag, e.clientOrderId, e._tag === "OrderCanceled" ? [e.venueOrderId, e.instrument, e.reason] : null])).toEqual([
      ["OrderCanceled", "strat-1-b", ["o-9", "kraken-futures:PF_XBTUSD", "ioc_order_failed_because_it_would_not_be_executed"]]
    ])
    // A cancel of an order no reply claims is given up as unattributed once no reply is pending.
    h.session.handle('{"feed":"open_orders","order_id":"o-10","is_cancel":true,"reason":"cancelled_by_user"}')
    pending = false
    h.session.releaseHeld()
    expect(h.signals).toEqual([{ _tag: "Unattributed", what: "order", orderId: "o-10", reason: "cancelled_by_user" }])
    expect(h.events.length).toBe(1)
  })

  it("a fill teaches the order id, so a later cancel frame naming only order_id is attributed", () => {
    const h = harness()
    h.session.handle(`{"feed":"fills","account":"a","fills":[${fill("f-1")}]}`)
    h.session.handle('{"feed":"open_orders","order_id":"o-1","is_cancel":true,"reason":"ioc_order_failed_because_it_would_not_be_executed"}')
    expect(h.events.map((e) => [e._tag, e.clientOrderId])).toEqual([["OrderFilled", "strat-1-a"], ["OrderCanceled", "strat-1-a"]])
    expect(h.signals).toEqual([])
  })

  it("fuzzed private frames never throw and every failure is counted", () => {
    const valid = [`{"feed":"fills","fills":[${fill("f-1")}]}`, `{"feed":"open_orders","order":${order()},"is_cancel":false,"reason":"x"}`, '{"event":"challenge","message":"m"}']
    const mutated = fc.tuple(fc.constantFrom(...valid), fc.nat(), fc.string({ maxLength: 4 }), fc.nat({ max: 3 })).map(([v, at, ins, del]) => {
      const i = at % (v.length + 1)
      return v.slice(0, i) + ins + v.slice(i + del)
    })
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string(), fc.json(), mutated), { maxLength: 20 }), (texts) => {
        const h = harness()
        for (const t of texts) h.session.handle(t)
        const c = h.session.counters()
        expect(c.frames).toBe(texts.length)
        expect(h.signals.filter((s) => s._tag === "DecodeFailed").length).toBe(c.decodeErrors)
      }),
      { numRuns: 300 }
    )
  })
})

describe("kraken-futures private feed: account facts", () => {
  const accountHarness = () => {
    const facts: Array<AccountFact> = []
    const events: Array<OrderEvent> = []
    const signals: Array<PrivateFeedSignal> = []
    const session = new PrivateFeedSession(
      { apiKey: "key-1", secret: SECRET, account: Either.getOrThrow(parseAccountId("acct-1")), onEvent: (e) => events.push(e), onSignal: (s) => signals.push(s), onAccount: (f) => facts.push(f) },
      () => undefined
    )
    return { facts, events, signals, session }
  }

  it("a balances frame gives the flex account's margin figures, exactly; a subscribed ack is not a frame of its feed", () => {
    const h = accountHarness()
    h.session.handle('{"event":"subscribed","feed":"balances","api_key":"key-1"}')
    h.session.handle('{"event":"subscribed","feed":"account_log","api_key":"key-1"}')
    h.session.handle(
      '{"feed":"balances_snapshot","account":"a","holding":{},"futures":{},"flex_futures":{"currencies":{},"available_margin":9963.660000000001,"initial_margin":36.34,"maintenance_margin":18.17,"margin_equity":10000},"timestamp":1,"seq":1}'
    )
    // Single-collateral only: no figure, no error.
    h.session.handle('{"feed":"balances","account":"a","holding":{},"futures":{},"timestamp":2,"seq":2}')
    expect(h.signals.filter((s) => s._tag === "DecodeFailed")).toEqual([])
    expect(h.signals.filter((s) => s._tag === "Subscribed").map((s) => (s as { feed: string }).feed)).toEqual(["balances", "account_log"])
    expect(h.facts.map((f) => (f._tag === "AccountMargin" ? [f.available.toString(), f.initialMargin?.toString(), f.maintenanceMargin?.toString(), f.equity?.toString()] : f._tag))).toEqual([
      ["9963.660000000001", "36.34", "18.17", "10000"]
    ])
  })

  it("an account-log funding entry is a FundingPaid on its instrument; other entries are not", () => {
    const h = accountHarness()
    const entry = (info: string, extra: string) => `{"id":7,"date":"2026-12-03T16:00:00.000Z","asset":"usd","info":"${info}","booking_uid":"b-${info.length}","margin_account":"flex","contract":"pf_xbtusd"${extra}}`
    h.session.handle(`{"feed":"account_log_snapshot","logs":[${entry("futures trade", ',"realized_funding":null')}]}`)
    h.session.handle(`{"feed":"account_log","new_entry":${entry("funding rate change", ',"realized_funding":-0.6,"funding_rate":0.6')}}`)
    expect(h.signals.filter((s) => s._tag === "DecodeFailed")).toEqual([])
    expect(h.facts).toHaveLength(1)
    const f = h.facts[0]
    expect(f?._tag === "FundingPaid" && { instrument: f.instrument, amount: f.amount.toString(), rate: f.rate?.toString(), bookingId: f.bookingId, venueTs: f.venueTs }).toEqual({
      instrument: "kraken-futures:PF_XBTUSD",
      amount: "-0.6",
      rate: "0.6",
      bookingId: "b-19",
      venueTs: Date.parse("2026-12-03T16:00:00.000Z")
    })
  })

  it("a liquidation fill of the venue's own order is reported under liquidation-<order id>; any other fill without a client id is not ours", () => {
    const h = accountHarness()
    h.session.handle(
      '{"feed":"fills","fills":[{"instrument":"PF_XBTUSD","time":3,"price":57000,"seq":8,"buy":false,"qty":1,"order_id":"o-liq","cli_ord_id":null,"fill_id":"f-liq","fill_type":"liquidation","fee_paid":0,"fee_currency":"USD"}]}'
    )
    h.session.handle(
      '{"feed":"fills","fills":[{"instrument":"PF_XBTUSD","time":3,"price":57000,"seq":9,"buy":false,"qty":1,"order_id":"o-other","cli_ord_id":null,"fill_id":"f-x","fill_type":"taker","fee_paid":0,"fee_currency":"USD"}]}'
    )
    expect(h.events).toHaveLength(1)
    expect(h.events[0]).toMatchObject({ _tag: "OrderFilled", clientOrderId: "liquidation-o-liq", fillType: "liquidation", side: "sell", liquidity: "taker" })
    expect(h.signals.filter((s) => s._tag === "Unattributed").map((s) => (s as { orderId: string }).orderId)).toEqual(["o-other"])
  })
})
