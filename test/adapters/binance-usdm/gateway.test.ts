import { Effect, Either } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { RequestBudgetService, VenueRead } from "../../../src/actors/ports/request-budget.js"
import type { VenueReport } from "../../../src/actors/ports/venue-gateway.js"
import type { ApprovedAction } from "../../../src/actors/risk/approval.js"
import type { RiskActor } from "../../../src/actors/risk/risk.actor.js"
import { Banned, RateLimited } from "../../../src/adapters/venues/binance-usdm/errors.js"
import { makeBinanceVenueGateway, type BinanceGatewayLog, type BinanceVenueGateway } from "../../../src/adapters/venues/binance-usdm/gateway.js"
import { mapExchangeInfo } from "../../../src/adapters/venues/binance-usdm/instruments.js"
import { makeBinanceRestClient, type BinanceRestClient } from "../../../src/adapters/venues/binance-usdm/rest.js"
import type { UserStreamSignal } from "../../../src/adapters/venues/binance-usdm/user-stream.js"
import { makeBinanceWsApiClient } from "../../../src/adapters/venues/binance-usdm/ws-api.js"
import { startSimulator, type Simulator } from "../../../src/adapters/venues/simulator/server.js"
import { dec, Decimal } from "../../../src/domain/decimal.js"
import type { OrderIntent } from "../../../src/domain/events/intents.js"
import type { InstrumentId } from "../../../src/domain/ids.js"
import { ACCOUNT, cancel, instrumentLimits, makeRisk, modify, submit } from "../../actors/risk/fixtures.js"

/**
 * The Binance USD-M gateway against the simulator's Binance face on loopback (real HTTP and
 * WebSocket, the face's own engine), approvals from the real risk actor: place, modify,
 * cancel (REST and WebSocket API), a fill, the cancel/fill race, a stop (algo) order, the
 * countdown cancel-all, listenKey expiry and a dropped stream losing no order event, 429/418.
 */

const BTC = "binance-usdm:BTCUSDT" as InstrumentId
const ME = { name: String(ACCOUNT), apiKey: "me-key", apiSecret: "me-secret", collateralUsd: "1000000" }
const TAKER = { name: "taker", apiKey: "taker-key", apiSecret: "taker-secret", collateralUsd: "1000000" }

const until = async (what: string, ok: () => boolean, ms = 8000): Promise<void> => {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (ok()) return
    await new Promise((r) => setTimeout(r, 10))
  }
  throw new Error(`timed out waiting for ${what}`)
}
const settle = (ms = 200) => new Promise((r) => setTimeout(r, ms))

const startFace = (binance: NonNullable<Parameters<typeof startSimulator>[0]>["binance"] = {}) =>
  startSimulator({ accounts: [ME, TAKER], market: { kind: "synthetic", rate: 0 }, instruments: ["BTCUSDT"], model: { fundingIntervalMs: 0 }, binance: { tickMs: 100, ...binance } })

const approver = async (s: Simulator): Promise<{ risk: RiskActor; approve: (i: OrderIntent) => ApprovedAction }> => {
  const { risk } = makeRisk()
  const load = mapExchangeInfo(await (await fetch(`${s.binance!.url}/fapi/v1/exchangeInfo`)).json())
  const btc = load.instruments.find((i) => i.instrument.id === BTC)
  if (btc === undefined) throw new Error("no BTCUSDT")
  Either.getOrThrow(risk.registerInstrument(btc.instrument, instrumentLimits))
  risk.onBook(BTC, dec("59999.9"), dec("60000.1"))
  return {
    risk,
    approve: (intent) => {
      const d = risk.decide(intent)
      if (d._tag !== "Approved") throw new Error(`risk denied: ${d.event.reason} ${d.event.detail}`)
      return d.action
    }
  }
}

const rig = (s: Simulator, opts: { orderEntry?: "rest" | "ws"; keepAliveMs?: number; onSignal?: (s: UserStreamSignal) => void } = {}) => {
  const reports: VenueReport[] = []
  const logs: BinanceGatewayLog[] = []
  const signals: UserStreamSignal[] = []
  const limits: Array<RateLimited | Banned> = []
  const reads: VenueRead[] = []
  const riskBudget = makeRisk().risk.requestBudget
  const budget: RequestBudgetService = {
    reserve: (call) => {
      reads.push(call)
      return riskBudget.reserve(call)
    }
  }
  const face = s.binance!
  const rest = makeBinanceRestClient({ baseUrl: face.url, apiKey: ME.apiKey, secret: ME.apiSecret, reconcile: { attempts: 2, delayMs: 50 } })
  const wsApi = opts.orderEntry === "ws" ? makeBinanceWsApiClient({ url: face.wsApiUrl, apiKey: ME.apiKey, secret: ME.apiSecret, rest, backoff: { baseMs: 20, maxMs: 100, jitter: 0, maxAttempts: 50 } }) : undefined
  const gw: BinanceVenueGateway = makeBinanceVenueGateway({
    account: ACCOUNT,
    rest,
    ...(wsApi === undefined ? {} : { wsApi, orderEntry: "ws" as const }),
    budget,
    symbols: ["BTCUSDT"],
    userStream: { wsUrl: face.url.replace("http", "ws"), backoff: { baseMs: 50, maxMs: 200, jitter: 0, maxAttempts: 50 }, ...(opts.keepAliveMs === undefined ? {} : { keepAliveMs: opts.keepAliveMs }) },
    reconcile: { attempts: 2, delayMs: 50 },
    onLog: (l) => logs.push(l),
    onStreamSignal: (sg) => {
      signals.push(sg)
      opts.onSignal?.(sg)
    },
    onVenueLimit: (e) => limits.push(e)
  })
  gw.subscribe((r) => reports.push(r))
  return { gw, reports, logs, signals, limits, reads, rest }
}

const of = (reports: ReadonlyArray<VenueReport>, cid: string) => reports.filter((r) => r.clientOrderId === cid)
const tags = (reports: ReadonlyArray<VenueReport>, cid: string) => of(reports, cid).map((r) => r._tag)
const filledQty = (reports: ReadonlyArray<VenueReport>, cid: string) => of(reports, cid).reduce((s, r) => (r._tag === "OrderFilled" ? s.plus(r.qty) : s), new Decimal(0))
const TERMINAL = new Set(["OrderCanceled", "OrderExpired", "OrderRejected"])

const taker = (s: Simulator): BinanceRestClient => makeBinanceRestClient({ baseUrl: s.binance!.url, apiKey: TAKER.apiKey, secret: TAKER.apiSecret })
const takerSell = (s: Simulator, qty: string, price: string) =>
  Effect.runPromise(taker(s).placeOrder({ symbol: "BTCUSDT", side: "SELL", type: "LIMIT", timeInForce: "IOC", quantity: qty, price, clientOrderId: `tk-${Math.random().toString(36).slice(2, 10)}` }))

describe("Binance USD-M venue gateway against the face", () => {
  let sim: Simulator
  beforeAll(async () => {
    sim = await startFace()
  })
  afterAll(async () => {
    await sim.stop()
  })

  for (const orderEntry of ["rest", "ws"] as const) {
    it(`place → OrderAccepted, modify → OrderModified, cancel → OrderCanceled, once each (${orderEntry})`, async () => {
      const { approve } = await approver(sim)
      const { gw, reports } = rig(sim, { orderEntry })
      gw.start()
      try {
        await until("stream", () => gw.counters().streamListening)
        const s = submit({ instrument: BTC, price: "59900", qty: "0.01" })
        gw.send(approve(s))
        await until("accepted", () => tags(reports, s.clientOrderId).includes("OrderAccepted"))
        const open = await Effect.runPromise(makeBinanceRestClient({ baseUrl: sim.binance!.url, apiKey: ME.apiKey, secret: ME.apiSecret }).queryOrder("BTCUSDT", s.clientOrderId))
        expect(of(reports, s.clientOrderId)[0]).toMatchObject({ _tag: "OrderAccepted", account: ACCOUNT, instrument: BTC, venueOrderId: String(open.orderId) })
        const m = modify(s.clientOrderId, { instrument: BTC, price: "59890", qty: "0.02" })
        gw.send(approve(m))
        await until("modified", () => tags(reports, s.clientOrderId).includes("OrderModified"))
        const atVenue = await Effect.runPromise(makeBinanceRestClient({ baseUrl: sim.binance!.url, apiKey: ME.apiKey, secret: ME.apiSecret }).queryOrder("BTCUSDT", s.clientOrderId))
        expect([atVenue.price, atVenue.origQty]).toEqual(["59890", "0.02"])
        gw.send(approve(cancel(s.clientOrderId, BTC)))
        await until("canceled", () => tags(reports, s.clientOrderId).includes("OrderCanceled"))
        await settle()
        // The stream's NEW / AMENDMENT / CANCELED are the same facts: reported once.
        expect(tags(reports, s.clientOrderId)).toEqual(["OrderAccepted", "OrderModified", "OrderCanceled"])
      } finally {
        await gw.stop()
      }
    })
  }

  it("a fill on the user stream → OrderFilled with the venue's trade id, price, fee and liquidity", async () => {
    const { approve } = await approver(sim)
    const { gw, reports } = rig(sim)
    gw.start()
    try {
      await until("stream", () => gw.counters().streamListening)
      const s = submit({ instrument: BTC, price: "60000", qty: "0.01" })
      gw.send(approve(s))
      await until("accepted", () => tags(reports, s.clientOrderId).includes("OrderAccepted"))
      await takerSell(sim, "0.01", "60000")
      await until("filled", () => filledQty(reports, s.clientOrderId).equals("0.01"))
      const fill = of(reports, s.clientOrderId).find((r) => r._tag === "OrderFilled")
      expect(fill).toMatchObject({ _tag: "OrderFilled", side: "buy", liquidity: "maker", feeCurrency: "USDT" })
      expect(fill?._tag === "OrderFilled" && [fill.price.toFixed(), fill.qty.toFixed(), fill.fillId.startsWith("BTCUSDT-")]).toEqual(["60000", "0.01", true])
      expect(fill?._tag === "OrderFilled" && fill.fee.isPositive()).toBe(true)
      await settle()
      expect(tags(reports, s.clientOrderId).filter((t) => t === "OrderFilled")).toHaveLength(1)
    } finally {
      await gw.stop()
    }
  })

  it("cancel/fill race: the venue's one outcome, never both a fill of everything and a cancel", async () => {
    const { approve } = await approver(sim)
    const { gw, reports } = rig(sim)
    const rest = makeBinanceRestClient({ baseUrl: sim.binance!.url, apiKey: ME.apiKey, secret: ME.apiSecret })
    gw.start()
    try {
      await until("stream", () => gw.counters().streamListening)
      const outcomes = new Set<string>()
      for (let k = 0; k < 6; k++) {
        const s = submit({ instrument: BTC, price: "60000", qty: "0.01" })
        gw.send(approve(s))
        await until("accepted", () => tags(reports, s.clientOrderId).includes("OrderAccepted"))
        // The taker's sell and our cancel leave together; which one the venue runs first decides.
        const sell = takerSell(sim, "0.01", "60000")
        if (k % 2 === 0) await new Promise((r) => setImmediate(r))
        gw.send(approve(cancel(s.clientOrderId, BTC)))
        await sell
        await until("settled", () => tags(reports, s.clientOrderId).some((t) => TERMINAL.has(t) || t === "OrderCancelRejected"))
        await settle(100)
        const venue = await Effect.runPromise(rest.queryOrder("BTCUSDT", s.clientOrderId))
        const t = tags(reports, s.clientOrderId)
        // What we report filled is what the venue executed; terminal at most once.
        expect(filledQty(reports, s.clientOrderId).toFixed()).toBe(new Decimal(venue.executedQty).toFixed())
        expect(t.filter((x) => TERMINAL.has(x)).length).toBeLessThanOrEqual(1)
        if (venue.status === "FILLED") {
          expect(t).toContain("OrderCancelRejected")
          expect(t).not.toContain("OrderCanceled")
          outcomes.add("filled")
        } else {
          expect(venue.status).toBe("CANCELED")
          expect(t).toContain("OrderCanceled")
          outcomes.add("canceled")
        }
      }
      expect(outcomes.size).toBeGreaterThanOrEqual(1)
    } finally {
      await gw.stop()
    }
  })

  it("a stop order goes to the algo endpoints: accepted, triggered by trades, filled under the same client order id; another is canceled", async () => {
    const { approve } = await approver(sim)
    const { gw, reports } = rig(sim)
    gw.start()
    try {
      await until("stream", () => gw.counters().streamListening)
      const stop = submit({ instrument: BTC, orderType: "stop", price: undefined, triggerPrice: dec("60000.3"), qty: "0.01" })
      gw.send(approve(stop))
      await until("accepted", () => tags(reports, stop.clientOrderId).includes("OrderAccepted"))
      expect(of(reports, stop.clientOrderId)[0]).toMatchObject({ _tag: "OrderAccepted", venueOrderId: expect.stringMatching(/^algo-\d+$/) as unknown })
      // Another account lifts the offers up to 60000.5: the last price crosses the trigger.
      await Effect.runPromise(taker(sim).placeOrder({ symbol: "BTCUSDT", side: "BUY", type: "LIMIT", timeInForce: "IOC", quantity: "0.3", price: "60000.5", clientOrderId: "tk-lift" }))
      await until("stop filled", () => filledQty(reports, stop.clientOrderId).equals("0.01"))
      const fills = of(reports, stop.clientOrderId).filter((r) => r._tag === "OrderFilled")
      expect(fills.every((f) => f._tag === "OrderFilled" && /^\d+$/.test(f.venueOrderId))).toBe(true)
      expect(tags(reports, stop.clientOrderId).filter((t) => TERMINAL.has(t))).toEqual([])

      const stop2 = submit({ instrument: BTC, orderType: "stop", side: "sell", price: undefined, triggerPrice: dec("59000"), qty: "0.01" })
      gw.send(approve(stop2))
      await until("accepted 2", () => tags(reports, stop2.clientOrderId).includes("OrderAccepted"))
      gw.send(approve(cancel(stop2.clientOrderId, BTC)))
      await until("canceled 2", () => tags(reports, stop2.clientOrderId).includes("OrderCanceled"))
      await settle()
      expect(tags(reports, stop2.clientOrderId)).toEqual(["OrderAccepted", "OrderCanceled"])
    } finally {
      await gw.stop()
    }
  })

  it("the dead man's switch is countdownCancelAll: the venue cancels when it runs out, the stream reports it", async () => {
    const { risk, approve } = await approver(sim)
    const { gw, reports } = rig(sim)
    gw.start()
    try {
      await until("stream", () => gw.counters().streamListening)
      const s = submit({ instrument: BTC, price: "59800", qty: "0.01" })
      gw.send(approve(s))
      await until("accepted", () => tags(reports, s.clientOrderId).includes("OrderAccepted"))
      const dms = risk.approveDeadMansSwitch(1)
      if (dms._tag !== "Approved") throw new Error("dms denied")
      const started = Date.now()
      gw.send(dms.action)
      await until("canceled by the venue", () => tags(reports, s.clientOrderId).includes("OrderCanceled"), 5000)
      expect(Date.now() - started).toBeGreaterThanOrEqual(900)
      expect(gw.counters().accountCallFailures).toBe(0)
    } finally {
      await gw.stop()
    }
  })
})

describe("Binance USD-M user stream: listenKey expiry and a dropped socket lose no order event", () => {
  let sim: Simulator
  beforeAll(async () => {
    sim = await startFace({ listenKeyValidityMs: 1500 })
  })
  afterAll(async () => {
    await sim.stop()
  })

  // Straight on the engine, in the same turn: no socket of the account can hear it.
  const gapSell = (qty: string) => sim.admin.exchange.send({ account: TAKER.name, symbol: "BTCUSDT", orderType: "ioc", side: "sell", size: dec(qty), limitPrice: dec("60000") })
  const gapCancel = (cid: string) => sim.admin.exchange.cancel({ account: ME.name, cliOrdId: cid })

  it("events while the key was dead are found by REST after the new key's socket opens", async () => {
    const { approve } = await approver(sim)
    const inGap: Array<() => void> = []
    // No keep-alive within the key's life: the face expires it. What is done when the stream says
    // listenKeyExpired happens before the new key exists.
    const { gw, reports, reads } = rig(sim, {
      keepAliveMs: 600_000,
      onSignal: (sg) => {
        if (sg._tag === "ListenKeyExpired") for (const f of inGap.splice(0)) f()
      }
    })
    gw.start()
    try {
      await until("stream", () => gw.counters().streamListening)
      const firstKey = gw.userStream.currentListenKey()
      const a = submit({ instrument: BTC, price: "60000", qty: "0.01" })
      const b = submit({ instrument: BTC, price: "59700", qty: "0.01" })
      gw.send(approve(a))
      gw.send(approve(b))
      await until("accepted", () => tags(reports, a.clientOrderId).includes("OrderAccepted") && tags(reports, b.clientOrderId).includes("OrderAccepted"))
      const resumesBefore = gw.counters().resumes
      let acted = false
      inGap.push(() => {
        expect(gapSell("0.01").status).toBe("placed")
        gapCancel(b.clientOrderId)
        acted = true
      })
      await until("expired and acted in the gap", () => acted, 5000)
      await until("resumed", () => gw.counters().resumes > resumesBefore, 5000)
      await until("missed events reported", () => filledQty(reports, a.clientOrderId).equals("0.01") && tags(reports, b.clientOrderId).includes("OrderCanceled"), 5000)
      expect(gw.userStream.currentListenKey()).not.toBe(firstKey)
      expect(gw.userStream.counters().renewals).toBeGreaterThanOrEqual(1)
      expect(gw.counters().resumeReports).toBeGreaterThanOrEqual(2)
      expect(reads).toContain("fills")
      expect(reads).toContain("openorders")
      await settle(300)
      expect(tags(reports, b.clientOrderId)).toEqual(["OrderAccepted", "OrderCanceled"])
      expect(tags(reports, a.clientOrderId).filter((t) => t === "OrderFilled")).toHaveLength(1)

      // A dropped socket on a live key: the machine reconnects, the resume finds the gap.
      const c = submit({ instrument: BTC, price: "60000", qty: "0.02" })
      gw.send(approve(c))
      await until("accepted c", () => tags(reports, c.clientOrderId).includes("OrderAccepted"))
      const resumes = gw.counters().resumes
      sim.binance!.dropConnections()
      gapSell("0.02")
      await until("resumed again", () => gw.counters().resumes > resumes, 5000)
      await until("fill after drop", () => filledQty(reports, c.clientOrderId).equals("0.02"), 5000)
      await settle(300)
      expect(filledQty(reports, c.clientOrderId).toFixed()).toBe("0.02")
    } finally {
      await gw.stop()
    }
  })
})

describe("Binance USD-M: 429 and 418 are typed errors", () => {
  let sim: Simulator
  beforeAll(async () => {
    sim = await startFace({ limits: { weightPerMinute: 12, ordersPer10s: 300, ordersPerMinute: 1200, banMs: 60_000 } })
  })
  afterAll(async () => {
    await sim.stop()
  })

  it("over the weight: RateLimited with Retry-After, then Banned with its end; the reports say so", async () => {
    const { approve } = await approver(sim)
    const { gw, reports, limits } = rig(sim)
    // Without the stream (its listenKey costs weight too): order entry only.
    const cids: string[] = []
    try {
      for (let k = 0; k < 30 && !limits.some((l) => l._tag === "Banned"); k++) {
        const s = submit({ instrument: BTC, price: "59800", qty: "0.01" })
        cids.push(s.clientOrderId)
        gw.send(approve(s))
        await until("report", () => of(reports, s.clientOrderId).length > 0)
        // cancel costs weight 1: the cheap way over the limit
        gw.send(approve(cancel(s.clientOrderId, BTC)))
        await until("cancel report", () => of(reports, s.clientOrderId).length > 1 || tags(reports, s.clientOrderId).includes("OrderRejected"))
      }
      const limited = limits.find((l): l is RateLimited => l._tag === "RateLimited")
      const banned = limits.find((l): l is Banned => l._tag === "Banned")
      expect(limited).toBeInstanceOf(RateLimited)
      expect(limited?.retryAfterMs).toBeGreaterThan(0)
      expect(banned).toBeInstanceOf(Banned)
      expect(banned?.untilMs).toBeGreaterThan(Date.now())
      const reasons = reports.flatMap((r) => ("reason" in r && typeof r.reason === "string" ? [r.reason] : []))
      expect(reasons.some((r) => r.startsWith("rate_limited"))).toBe(true)
      expect(reasons).toContain("banned")
      expect(gw.counters().rateLimited).toBeGreaterThan(0)
      expect(gw.counters().banned).toBeGreaterThan(0)
    } finally {
      await gw.stop()
    }
  })
})
