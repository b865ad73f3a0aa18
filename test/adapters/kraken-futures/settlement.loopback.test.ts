import { Effect, Either } from "effect"
import ccxt from "ccxt"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { mapInstruments } from "../../../src/adapters/venues/kraken-futures/instruments.js"
import { KrakenPrivateFeed, type PrivateFeedSignal } from "../../../src/adapters/venues/kraken-futures/private-feed.js"
import { makeKrakenRestClient } from "../../../src/adapters/venues/kraken-futures/rest.js"
import { SettlementWatcher } from "../../../src/adapters/venues/kraken-futures/settlement.js"
import { defaultInstrument } from "../../../src/adapters/venues/simulator/instruments.js"
import { startSimulator, type Simulator } from "../../../src/adapters/venues/simulator/server.js"
import { PortfolioActor } from "../../../src/actors/portfolio/portfolio.actor.js"
import { wallClock, type ClockService } from "../../../src/actors/clock.js"
import { manualClock } from "../simulator/helpers.js"
import { dec } from "../../../src/domain/decimal.js"
import type { CanonicalEvent } from "../../../src/domain/events/index.js"
import type { PositionChanged } from "../../../src/domain/events/portfolio.js"
import { parseAccountId, type InstrumentId } from "../../../src/domain/ids.js"
import type { Instrument } from "../../../src/domain/instrument.js"
import { TradingLedger } from "../../../src/domain/ledger.js"
import { inverseValue } from "../../../src/domain/position.js"

// A dated inverse future expires in the simulator and Troupe books the settlement, on loopback:
// the real REST client and private feed, the portfolio the daemon runs, and the daemon's
// SettlementWatcher reading the venue's account log.
const MM = { name: "mm", apiKey: "mm-key", apiSecret: "bW1zZWNyZXRtbXNlY3JldA==" }
const TR = { name: "troupe", apiKey: "tr-key", apiSecret: "dHJzZWNyZXR0cnNlY3JldA==" }
const FI = "FI_XBTUSD_261225"
const FI_ID = `kraken-futures:${FI}` as InstrumentId
let sim: Simulator
let expiry: number
const run = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(Effect.either(e))

const until = async (what: string, ok: () => boolean, ms = 8000): Promise<void> => {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (ok()) return
    await new Promise((r) => setTimeout(r, 20))
  }
  throw new Error(`timed out waiting for ${what}`)
}

// The simulator runs on a clock the test moves: the expiry comes when the test says, however slow the machine.
const simClock = manualClock()
// Troupe's side reads the same time, with real timers for its polling.
const troupeClock: ClockService = { ...wallClock, now: simClock.now }

beforeAll(async () => {
  expiry = simClock.now() + 60_000
  sim = await startSimulator({
    seed: 3,
    clock: simClock,
    market: { kind: "none" },
    instruments: ["PF_XBTUSD", "PI_XBTUSD", { ...defaultInstrument(FI), lastTradingTime: expiry }, "FF_XBTUSD_261225"],
    accounts: [MM, TR],
    model: { settlementWindowMs: 400, fundingIntervalMs: 0 }
  })
})
afterAll(async () => {
  await sim.stop()
})

describe("dated and inverse contracts on loopback", () => {
  it("ccxt loads the inverse perpetual and both dated futures as the venue describes them", async () => {
    const ex = new ccxt.krakenfutures({ urls: { api: { public: sim.apiBase, private: sim.apiBase, charts: `${sim.url}/api/charts/`, history: `${sim.url}/api/history/` } } })
    const markets = await ex.loadMarkets()
    const pi = markets["BTC/USD:BTC"]
    expect(pi).toMatchObject({ id: "PI_XBTUSD", inverse: true, linear: false, swap: true, settle: "BTC", contractSize: 1 })
    const fi = Object.values(markets).find((m) => m?.id === FI)
    // ccxt names a future by its lastTradingTime's date (the test's expiry is today, whatever the id says).
    const yymmdd = new Date(expiry).toISOString().slice(2, 10).replaceAll("-", "")
    expect(fi).toMatchObject({ inverse: true, future: true, settle: "BTC", expiry, symbol: `BTC/USD:BTC-${yymmdd}` })
    const ff = Object.values(markets).find((m) => m?.id === "FF_XBTUSD_261225")
    expect(ff).toMatchObject({ linear: true, future: true, settle: "USD", expiry: Date.UTC(2026, 11, 25, 16) })
  })

  it("the future stops trading at lastTradingTime, settles at the window's mark, and the portfolio books it once", async () => {
    const mm = makeKrakenRestClient({ baseUrl: `${sim.url}/derivatives`, credentials: { apiKey: MM.apiKey, secret: MM.apiSecret } })
    const tr = makeKrakenRestClient({ baseUrl: `${sim.url}/derivatives`, credentials: { apiKey: TR.apiKey, secret: TR.apiSecret } })
    const loaded = mapInstruments(Either.getOrThrow(await run(tr.instruments())))
    const instruments: Instrument[] = loaded.instruments.map((k) => k.instrument)
    const fi = instruments.find((i) => i.id === FI_ID) as Instrument
    expect(fi).toMatchObject({ kind: "inverseFuture", base: "XBT", quote: "USD", expiry })
    expect(instruments.find((i) => i.symbol === "PI_XBTUSD")?.kind).toBe("inversePerpetual")
    expect(instruments.find((i) => i.symbol === "FF_XBTUSD_261225")?.kind).toBe("linearFuture")

    const emitted: PositionChanged[] = []
    const portfolio = new PortfolioActor({ account: Either.getOrThrow(parseAccountId("troupe")), clock: wallClock, emit: (e) => emitted.push(e) })
    for (const i of instruments) expect(Either.isRight(portfolio.registerInstrument(i))).toBe(true)
    const ledger = new TradingLedger((id) => instruments.find((i) => i.id === id))
    const journal: CanonicalEvent[] = []
    const signals: PrivateFeedSignal[] = []
    const feed = new KrakenPrivateFeed({
      url: sim.wsUrl, apiKey: TR.apiKey, secret: TR.apiSecret, account: Either.getOrThrow(parseAccountId("troupe")), feeds: ["fills"],
      onEvent: (e) => {
        if (e._tag !== "OrderFilled") return
        journal.push(e)
        portfolio.onFill(e)
      },
      onSignal: (s) => signals.push(s)
    })
    feed.start()
    const watcher = new SettlementWatcher({
      restBase: `${sim.url}/derivatives`, credentials: { apiKey: TR.apiKey, secret: TR.apiSecret }, instruments, clock: troupeClock,
      onSettlement: (s) => portfolio.onSettlement(s.instrument, s.settlementId, s.price, s.ts), graceMs: 50, pollMs: 100, attempts: 50
    })
    try {
      await until("fills feed", () => signals.some((s) => s._tag === "Subscribed"))
      // Troupe buys 1 000 contracts (1 000 USD) at 60 000 from the market maker.
      expect(Either.isRight(await run(mm.sendOrder({ orderType: "lmt", symbol: FI, side: "sell", size: dec(1000), limitPrice: dec(60000), cliOrdId: "mm-1" })))).toBe(true)
      const bought = Either.getOrThrow(await run(tr.sendOrder({ orderType: "lmt", symbol: FI, side: "buy", size: dec(1000), limitPrice: dec(60000), cliOrdId: "tr-1" })))
      expect(bought.outcome.kind).toBe("accepted")
      await until("the fill in the portfolio", () => portfolio.position(FI_ID)?.quantity.eq(1000) === true)
      // Then the market moves to a 62 000 mid and stays there through the settlement window.
      await run(mm.sendOrder({ orderType: "lmt", symbol: FI, side: "buy", size: dec(1), limitPrice: dec("61999.5"), cliOrdId: "mm-2" }))
      await run(mm.sendOrder({ orderType: "lmt", symbol: FI, side: "sell", size: dec(1), limitPrice: dec("62000.5"), cliOrdId: "mm-3" }))
      simClock.advance(61_000)
      watcher.start()

      // Trading stopped: a new order is marketInactive; the resting ones were cancelled.
      const late = await run(tr.sendOrder({ orderType: "lmt", symbol: FI, side: "sell", size: dec(1), limitPrice: dec(62000), cliOrdId: "tr-2" }))
      expect(Either.isLeft(late) ? "refused" : late.right.outcome.kind).not.toBe("accepted")
      expect(Either.getOrThrow(await run(mm.openOrders())).filter((o) => o.symbol === FI)).toEqual([])

      await until("settlement booked", () => emitted.some((e) => e.settlementId !== undefined))
      const settled = emitted.find((e) => e.settlementId !== undefined) as PositionChanged
      expect(settled.settlementPrice?.toString()).toBe("62000")
      expect(settled.qty.toString()).toBe("0")
      // Realized (XBT) = 1 000 × (1/60 000 − 1/62 000) − the taker fee paid in XBT.
      const gross = inverseValue(dec(1000), dec(1), dec(60000)).minus(inverseValue(dec(1000), dec(1), dec(62000)))
      const position = portfolio.position(FI_ID)
      expect(position?.quantity.isZero()).toBe(true)
      expect(position?.realizedPnl.plus(position.fees).toString()).toBe(gross.toString())
      expect(position?.fees.toString()).toBe(inverseValue(dec(1000), dec(1), dec(60000)).times("0.0005").toString())
      // The venue's own account-log row agrees at its precision (10 decimals).
      const rows = Either.getOrThrow(await watcher.read())
      expect(rows).toHaveLength(1)
      expect(rows[0]?.asset).toBe("xbt")
      expect(rows[0]?.realizedPnl?.toString()).toBe(gross.toDecimalPlaces(10).toString())

      // Booked once: a second read of the same row changes nothing.
      expect(portfolio.onSettlement(FI_ID, rows[0]!.settlementId, rows[0]!.price, rows[0]!.ts)).toBe(false)
      expect(emitted.filter((e) => e.settlementId !== undefined)).toHaveLength(1)
      // A fold of the journal (fills, then the settlement) gives the same position.
      for (const e of [...journal, ...emitted]) ledger.apply(e)
      const folded = ledger.positions.get(FI_ID)
      expect(folded?.quantity.isZero()).toBe(true)
      expect(folded?.realizedPnl.toString()).toBe(position?.realizedPnl.toString())
    } finally {
      watcher.stop()
      await feed.stop()
    }
  })
})
