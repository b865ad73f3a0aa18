import { Effect, Either } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { mapInstruments } from "../../../src/adapters/venues/kraken-futures/instruments.js"
import { parseExactJson } from "../../../src/adapters/venues/kraken-futures/json-exact.js"
import { KrakenMarketData, type MarketDataSignal } from "../../../src/adapters/venues/kraken-futures/market-data.js"
import { KrakenPrivateFeed, type PrivateFeedSignal } from "../../../src/adapters/venues/kraken-futures/private-feed.js"
import { makeKrakenRestClient } from "../../../src/adapters/venues/kraken-futures/rest.js"
import { startSimulator, type Simulator } from "../../../src/adapters/venues/simulator/server.js"
import { dec, type Decimal } from "../../../src/domain/decimal.js"
import type { MarketEvent } from "../../../src/domain/events/market.js"
import type { OrderEvent } from "../../../src/domain/events/orders.js"
import { parseAccountId } from "../../../src/domain/ids.js"

// Loopback end-to-end: the real adapter against the simulator that speaks Kraken Futures.
const KEY = "e2e-key"
const SECRET = "c2VjcmV0c2VjcmV0c2VjcmV0"
let sim: Simulator
const run = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(Effect.either(e))

const until = async (what: string, ok: () => boolean | Promise<boolean>, ms = 5000): Promise<void> => {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (await ok()) return
    await new Promise((r) => setTimeout(r, 20))
  }
  throw new Error(`timed out waiting for ${what}`)
}

const admin = async (path: string, body?: unknown): Promise<Record<string, unknown>> => {
  const res = await fetch(`${sim.url}/__admin/${path}`, body === undefined ? {} : { method: "POST", body: JSON.stringify(body) })
  return Either.getOrThrow(parseExactJson(await res.text(), "admin")) as Record<string, unknown>
}

beforeAll(async () => {
  sim = await startSimulator({ seed: 7, market: { kind: "synthetic", rate: 100 }, accounts: [{ name: "e2e", apiKey: KEY, apiSecret: SECRET }] })
})
afterAll(async () => {
  await sim.stop()
})

describe("kraken-futures adapter against the simulator on loopback", () => {
  it("the book built from market data equals the simulator's book at the same seq", async () => {
    const bids = new Map<string, Decimal>()
    const asks = new Map<string, Decimal>()
    let seq = -1
    const signals: Array<MarketDataSignal> = []
    const apply = (side: Map<string, Decimal>, levels: ReadonlyArray<readonly [Decimal, Decimal]>) => {
      for (const [p, q] of levels) {
        if (q.isZero()) side.delete(p.toString())
        else side.set(p.toString(), q)
      }
    }
    const md = new KrakenMarketData({
      url: sim.wsUrl,
      products: ["PF_XBTUSD"],
      feeds: ["book"],
      onSignal: (s) => signals.push(s),
      onEvent: (e: MarketEvent) => {
        if (e._tag === "BookSnapshot") {
          bids.clear()
          asks.clear()
        }
        if (e._tag === "BookSnapshot" || e._tag === "BookDelta") {
          apply(bids, e.bids)
          apply(asks, e.asks)
          seq = e.seq
        }
      }
    })
    md.start()
    try {
      await until("deltas", () => seq > 0 && md.counters().frames > 20)
      await admin("market/pause", {})
      let truth: Record<string, unknown> = {}
      await until("same seq", async () => {
        truth = await admin("books/PF_XBTUSD")
        return Number(truth.seq) === seq
      })
      const norm = (levels: unknown) => (levels as Array<[string, string]>).map(([p, q]) => [dec(p).toString(), dec(q).toString()])
      const ours = (side: Map<string, Decimal>, desc: boolean) =>
        [...side.entries()].sort((a, b) => (desc ? dec(b[0]).comparedTo(dec(a[0])) : dec(a[0]).comparedTo(dec(b[0])))).map(([p, q]) => [p, q.toString()])
      const tb = norm(truth.bids)
      const ta = norm(truth.asks)
      expect(tb.length).toBeGreaterThan(0)
      expect(ours(bids, true).slice(0, tb.length)).toEqual(tb)
      expect(ours(asks, false).slice(0, ta.length)).toEqual(ta)
      expect(md.counters().decodeErrors).toBe(0)
      expect(signals.some((s) => s._tag === "Subscribed")).toBe(true)
    } finally {
      await admin("market/resume", {})
      await md.stop()
    }
  })

  it("an injected gap is detected and the book resyncs from a fresh snapshot", async () => {
    const tags: Array<string> = []
    const signals: Array<MarketDataSignal> = []
    const md = new KrakenMarketData({ url: sim.wsUrl, products: ["PF_XBTUSD"], feeds: ["book"], onEvent: (e) => tags.push(e._tag), onSignal: (s) => signals.push(s) })
    md.start()
    try {
      await until("first delta", () => tags.includes("BookDelta"))
      await admin("faults/gap", { symbol: "PF_XBTUSD" })
      await until("gap", () => signals.some((s) => s._tag === "SequenceGap"))
      await until("resnapshot", () => tags.filter((t) => t === "BookSnapshot").length >= 2)
      expect(md.counters().gaps).toBe(1)
    } finally {
      await md.stop()
    }
  })

  it("places and cancels an order over REST and sees both on the private feed", async () => {
    const events: Array<OrderEvent> = []
    const signals: Array<PrivateFeedSignal> = []
    const feed = new KrakenPrivateFeed({ url: sim.wsUrl, apiKey: KEY, secret: SECRET, account: Either.getOrThrow(parseAccountId("e2e")), onEvent: (e) => events.push(e), onSignal: (s) => signals.push(s) })
    feed.start()
    try {
      await until("authenticated", () => signals.some((s) => s._tag === "Authenticated"))
      const rest = makeKrakenRestClient({ baseUrl: `${sim.url}/derivatives`, credentials: { apiKey: KEY, secret: SECRET } })
      const placed = Either.getOrThrow(await run(rest.sendOrder({ orderType: "lmt", symbol: "PF_XBTUSD", side: "buy", size: dec("0.01"), limitPrice: dec("1000"), cliOrdId: "e2e-1" })))
      expect(placed.outcome.kind).toBe("accepted")
      const open = Either.getOrThrow(await run(rest.openOrders()))
      expect(open.map((o) => o.cliOrdId)).toContain("e2e-1")
      const canceled = Either.getOrThrow(await run(rest.cancelOrder({ cliOrdId: "e2e-1" })))
      expect(canceled.outcome.kind).toBe("canceled")
      await until("private events", () => events.some((e) => e._tag === "OrderCanceled"))
      expect(events.map((e) => e._tag)).toEqual(["OrderAccepted", "OrderCanceled"])
      expect(events[0]).toMatchObject({ clientOrderId: "e2e-1", instrument: "kraken-futures:PF_XBTUSD", venueOrderId: placed.venueOrderId })
      const again = await run(rest.cancelOrder({ cliOrdId: "e2e-1" }))
      expect(Either.getOrThrow(again).outcome).toEqual({ kind: "cancelRejected", reason: "notFound" })
      expect(signals.filter((s) => s._tag === "DecodeFailed")).toEqual([])
      expect(feed.counters().decodeErrors).toBe(0)
    } finally {
      await feed.stop()
    }
  })

  it("a taker order fills and the fill arrives as OrderFilled with the execution's exact price", async () => {
    const events: Array<OrderEvent> = []
    const signals: Array<PrivateFeedSignal> = []
    const feed = new KrakenPrivateFeed({ url: sim.wsUrl, apiKey: KEY, secret: SECRET, account: Either.getOrThrow(parseAccountId("e2e")), feeds: ["fills"], onEvent: (e) => events.push(e), onSignal: (s) => signals.push(s) })
    feed.start()
    try {
      await until("authenticated", () => signals.some((s) => s._tag === "Authenticated"))
      const rest = makeKrakenRestClient({ baseUrl: `${sim.url}/derivatives`, credentials: { apiKey: KEY, secret: SECRET } })
      const r = Either.getOrThrow(await run(rest.sendOrder({ orderType: "ioc", symbol: "PF_XBTUSD", side: "buy", size: dec("0.01"), limitPrice: dec("1000000"), cliOrdId: "e2e-2" })))
      expect(r.executions.length).toBeGreaterThan(0)
      await until("fill", () => events.some((e) => e._tag === "OrderFilled" && e.clientOrderId === "e2e-2"))
      const fill = events.find((e) => e._tag === "OrderFilled" && e.clientOrderId === "e2e-2")
      if (fill?._tag !== "OrderFilled") throw new Error("no fill")
      expect(fill.liquidity).toBe("taker")
      expect(r.executions.map((x) => x.price.toString())).toContain(fill.price.toString())
    } finally {
      await feed.stop()
    }
  })

  it("the public instruments list maps to domain instruments with tick and lot", async () => {
    const rest = makeKrakenRestClient({ baseUrl: `${sim.url}/derivatives` })
    const load = mapInstruments(Either.getOrThrow(await run(rest.instruments())))
    const pf = load.instruments.find((k) => k.instrument.id === "kraken-futures:PF_XBTUSD")?.instrument
    expect([pf?.tickSize.toString(), pf?.lotSize.toFixed(), pf?.kind]).toEqual(["0.5", "0.0001", "linearPerpetual"])
    expect(load.errors).toEqual([])
  })

  it("a wrong secret is AuthenticationFailed on REST and on the private feed", async () => {
    const rest = makeKrakenRestClient({ baseUrl: `${sim.url}/derivatives`, credentials: { apiKey: KEY, secret: "d3Jvbmc=" } })
    const r = await run(rest.openOrders())
    expect(Either.isLeft(r) && r.left._tag).toBe("AuthenticationFailed")
    const signals: Array<PrivateFeedSignal> = []
    const feed = new KrakenPrivateFeed({ url: sim.wsUrl, apiKey: KEY, secret: "d3Jvbmc=", account: Either.getOrThrow(parseAccountId("e2e")), onEvent: () => {}, onSignal: (s) => signals.push(s) })
    feed.start()
    try {
      await until("auth failure", () => signals.some((s) => s._tag === "AuthenticationFailed"))
      expect(signals.some((s) => s._tag === "Authenticated")).toBe(false)
    } finally {
      await feed.stop()
    }
  })

  it("spending the rate budget gives RateLimited", async () => {
    const small = await startSimulator({ market: { kind: "none" }, rateLimit: { limit: 25, windowMs: 60_000 }, accounts: [{ apiKey: KEY, apiSecret: SECRET }] })
    try {
      const rest = makeKrakenRestClient({ baseUrl: `${small.url}/derivatives`, credentials: { apiKey: KEY, secret: SECRET } })
      const tags: Array<string> = []
      for (let i = 0; i < 4; i++) {
        const r = await run(rest.cancelOrder({ orderId: `none-${i}` }))
        tags.push(Either.isLeft(r) ? r.left._tag : r.right.outcome.kind)
      }
      expect(tags).toEqual(["cancelRejected", "cancelRejected", "RateLimited", "RateLimited"])
    } finally {
      await small.stop()
    }
  })

  it("an HTTP 5xx from the venue is VenueUnavailable", async () => {
    await admin("faults", { restFailures: 1, restFailureStatus: 503 })
    const rest = makeKrakenRestClient({ baseUrl: `${sim.url}/derivatives`, credentials: { apiKey: KEY, secret: SECRET } })
    const r = await run(rest.openPositions())
    expect(Either.isLeft(r) && r.left).toMatchObject({ _tag: "VenueUnavailable", status: 503 })
    expect(Either.isRight(await run(rest.openPositions()))).toBe(true)
  })
})

describe("kraken-futures connection lifecycle against the simulator", () => {
  it("a dropped connection is reconnected through backoff and the book is rebuilt from a new snapshot", async () => {
    const tags: Array<string> = []
    const signals: Array<MarketDataSignal> = []
    const md = new KrakenMarketData({
      url: sim.wsUrl,
      products: ["PF_XBTUSD"],
      feeds: ["book"],
      backoff: { baseMs: 50, maxMs: 200, jitter: 0.5, maxAttempts: 5 },
      seed: 3,
      onEvent: (e) => tags.push(e._tag),
      onSignal: (s) => signals.push(s)
    })
    md.start()
    try {
      await until("snapshot", () => tags.includes("BookSnapshot"))
      expect(md.connectionState().matches({ online: "subscribed" })).toBe(true)
      await admin("faults/drop-connections", {})
      await until("second snapshot", () => tags.filter((t) => t === "BookSnapshot").length >= 2)
      const disconnected = signals.find((s) => s._tag === "Disconnected")
      expect(disconnected).toMatchObject({ _tag: "Disconnected" })
      expect(disconnected?._tag === "Disconnected" && disconnected.reconnectInMs !== undefined && disconnected.reconnectInMs <= 50).toBe(true)
    } finally {
      await md.stop()
    }
  })

  it("silence longer than the watchdog allows counts as a failure and reconnects", async () => {
    const signals: Array<MarketDataSignal> = []
    // A product whose public messages the simulator withholds, and pings too rare to help.
    await admin("faults", { staleProducts: ["PF_ETHUSD"] })
    const md = new KrakenMarketData({
      url: sim.wsUrl,
      products: ["PF_ETHUSD"],
      feeds: ["book"],
      pingIntervalMs: 60_000,
      staleAfterMs: 300,
      backoff: { baseMs: 20, maxMs: 50, jitter: 0, maxAttempts: 50 },
      onEvent: () => {},
      onSignal: (s) => signals.push(s)
    })
    md.start()
    try {
      await until("heartbeat timeout", () => signals.some((s) => s._tag === "Disconnected" && s.reason === "heartbeat timeout"))
    } finally {
      await md.stop()
      await admin("faults", { staleProducts: [] })
    }
  })
})
