import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { PublicFeedSession, type MarketDataSignal } from "../../../src/adapters/venues/kraken-futures/market-data.js"
import type { MarketEvent } from "../../../src/domain/events/market.js"

const snapshot = (seq: number) =>
  `{"feed":"book_snapshot","product_id":"PF_XBTUSD","timestamp":1612269825817,"seq":${seq},"tickSize":null,"bids":[{"price":34892.5,"qty":6385},{"price":34893,"qty":1}],"asks":[{"price":34911.5,"qty":20598},{"price":34910,"qty":2}]}`
const delta = (seq: number, price = "34981", qty = "0", side = "sell") =>
  `{"feed":"book","product_id":"PF_XBTUSD","side":"${side}","seq":${seq},"price":${price},"qty":${qty},"timestamp":1612269953629}`

const harness = () => {
  const events: Array<MarketEvent> = []
  const signals: Array<MarketDataSignal> = []
  const sent: Array<unknown> = []
  const session = new PublicFeedSession(["book", "trade", "ticker"], ["PF_XBTUSD"], { onEvent: (e) => events.push(e), onSignal: (s) => signals.push(s) }, (m) => sent.push(m))
  return { events, signals, sent, session }
}

describe("kraken-futures public feed session", () => {
  it("subscribes heartbeat and every feed for the products", () => {
    const h = harness()
    h.session.subscribeAll()
    expect(h.sent).toEqual([
      { event: "subscribe", feed: "heartbeat" },
      { event: "subscribe", feed: "book", product_ids: ["PF_XBTUSD"] },
      { event: "subscribe", feed: "trade", product_ids: ["PF_XBTUSD"] },
      { event: "subscribe", feed: "ticker", product_ids: ["PF_XBTUSD"] }
    ])
  })

  it("a snapshot then contiguous deltas become BookSnapshot and BookDelta on kraken-futures:PF_XBTUSD, bids best first", () => {
    const h = harness()
    h.session.handle(snapshot(10))
    h.session.handle(delta(11, "34981", "5", "buy"))
    h.session.handle(delta(12))
    expect(h.events.map((e) => e._tag)).toEqual(["BookSnapshot", "BookDelta", "BookDelta"])
    const snap = h.events[0]
    if (snap?._tag !== "BookSnapshot") throw new Error("no snapshot")
    expect(snap.instrument).toBe("kraken-futures:PF_XBTUSD")
    expect(snap.bids.map(([p]) => p.toString())).toEqual(["34893", "34892.5"])
    expect(snap.asks.map(([p]) => p.toString())).toEqual(["34910", "34911.5"])
    const d = h.events[1]
    if (d?._tag !== "BookDelta") throw new Error("no delta")
    expect(d.bids.map(([p, q]) => [p.toString(), q.toString()])).toEqual([["34981", "5"]])
    expect(d.asks).toEqual([])
    expect(d.seq).toBe(11)
    expect(d.venueTs).toBe(1612269953629)
  })

  it("a sequence gap signals SequenceGap, resubscribes the product's book and drops deltas until a fresh snapshot", () => {
    const h = harness()
    h.session.handle(snapshot(10))
    h.session.handle(delta(12))
    expect(h.signals).toContainEqual({ _tag: "SequenceGap", product: "PF_XBTUSD", expected: 11, received: 12 })
    expect(h.sent).toEqual([
      { event: "unsubscribe", feed: "book", product_ids: ["PF_XBTUSD"] },
      { event: "subscribe", feed: "book", product_ids: ["PF_XBTUSD"] }
    ])
    h.session.handle(delta(13))
    expect(h.events.map((e) => e._tag)).toEqual(["BookSnapshot"])
    h.session.handle(snapshot(20))
    h.session.handle(delta(21))
    expect(h.events.map((e) => e._tag)).toEqual(["BookSnapshot", "BookSnapshot", "BookDelta"])
    expect(h.session.counters()).toMatchObject({ gaps: 1, droppedDeltas: 1, decodeErrors: 0 })
  })

  it("trades and tickers are normalized with exact prices, the trade side as aggressor", () => {
    const h = harness()
    h.session.handle('{"feed":"trade","product_id":"PF_XBTUSD","uid":"u-1","side":"sell","type":"fill","seq":653355,"time":1612266317519,"qty":0.0001,"price":34969.5}')
    h.session.handle('{"feed":"ticker","product_id":"PF_XBTUSD","time":1,"bid":0.1,"ask":0.2,"bid_size":3,"ask_size":4,"last":0.15,"markPrice":0.15,"index":0.14,"funding_rate":-1e-8,"suspended":false}')
    const [t, k] = h.events
    if (t?._tag !== "Trade" || k?._tag !== "Ticker") throw new Error("unexpected")
    expect([t.price.toString(), t.qty.toString(), t.aggressor, t.tradeId]).toEqual(["34969.5", "0.0001", "sell", "u-1"])
    expect(k.bid?.plus(k.ask!).toString()).toBe("0.3")
    expect(k.fundingRate?.toFixed()).toBe("-0.00000001")
    expect(k.indexPrice?.toString()).toBe("0.14")
  })

  it("the book delta fast path and the general decoder agree, whatever the key order and spacing", () => {
    const h = harness()
    h.session.handle(snapshot(1))
    h.session.handle(delta(2, "34981.5", "0.25", "buy"))
    h.session.handle('{ "qty" : 1e-8, "timestamp":5, "price":0.1, "seq":3, "side":"sell", "product_id":"PF_XBTUSD", "feed":"book", "extra":[1,{"a":null}] }')
    // A delta with an escaped key is not the scanner's usual shape; it must still decode exactly.
    h.session.handle('{"feed":"book","product_id":"PF_XBTUSD","side":"sell","seq":4,"pr\\u0069ce":0.3,"qty":2,"timestamp":6}')
    const deltas = h.events.filter((e) => e._tag === "BookDelta")
    expect(deltas.map((d) => [d.seq, ...[...d.bids, ...d.asks].flatMap(([p, q]) => [p.toString(), q.toFixed()])])).toEqual([
      [2, "34981.5", "0.25"],
      [3, "0.1", "0.00000001"],
      [4, "0.3", "2"]
    ])
    expect(h.session.counters().decodeErrors).toBe(0)
  })

  it("malformed frames become counted DecodeFailed signals", () => {
    const h = harness()
    for (const bad of ["", "{", "[]", '{"feed":"nope"}', delta(1, '"x"'), '{"feed":"book_snapshot","product_id":"PF_XBTUSD","seq":-1,"bids":[],"asks":[]}', '{"feed":"trade","product_id":"bad id!","side":"buy","qty":1,"price":1}']) {
      h.session.handle(bad)
    }
    const c = h.session.counters()
    expect(c.frames).toBe(7)
    expect(c.decodeErrors).toBe(7)
    expect(h.signals.filter((s) => s._tag === "DecodeFailed")).toHaveLength(7)
    expect(h.events).toEqual([])
  })

  it("any text at all — random strings, random JSON, mutated valid frames — never throws and is either an event, a signal or a counted error", () => {
    const valid = [snapshot(1), delta(2), '{"feed":"trade","product_id":"PF_XBTUSD","side":"buy","qty":1,"price":2}', '{"event":"info","version":1}']
    const mutated = fc.tuple(fc.constantFrom(...valid), fc.nat(), fc.string({ maxLength: 4 }), fc.nat({ max: 3 })).map(([v, at, ins, del]) => {
      const i = at % (v.length + 1)
      return v.slice(0, i) + ins + v.slice(i + del)
    })
    const frames = fc.oneof(fc.string(), fc.json(), mutated, fc.jsonValue().map((j) => JSON.stringify({ feed: "book", product_id: "PF_XBTUSD", x: j })))
    fc.assert(
      fc.property(fc.array(frames, { maxLength: 20 }), (texts) => {
        const h = harness()
        for (const t of texts) h.session.handle(t)
        const c = h.session.counters()
        expect(c.frames).toBe(texts.length)
        const decodeSignals = h.signals.filter((s) => s._tag === "DecodeFailed").length
        expect(decodeSignals).toBe(c.decodeErrors)
      }),
      { numRuns: 300 }
    )
  })
})
