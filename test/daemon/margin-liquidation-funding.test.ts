import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { wallClock } from "../../src/actors/clock.js"
import { loadDataset, openAnalyticsDb } from "../../src/analytics/dataset.js"
import { computeReport } from "../../src/analytics/metrics.js"
import { loadStoreSource } from "../../src/analytics/store-source.js"
import { InspectionStream } from "../../src/actors/inspection.js"
import { MetricsRegistry } from "../../src/actors/metrics.js"
import type { VenueRead } from "../../src/actors/ports/request-budget.js"
import { openFileJournal, type FileJournal } from "../../src/adapters/journal/file/file-journal.js"
import { makeKrakenMarketDataPort, makeKrakenRestClient, makeKrakenVenueGateway, mapInstruments, type KrakenVenueGateway } from "../../src/adapters/venues/kraken-futures/index.js"
import { startSimulator, type Simulator } from "../../src/adapters/venues/simulator/server.js"
import { EventJournal } from "../../src/daemon/event-journal.js"
import { TradingNode } from "../../src/daemon/trading-node.js"
import { dec } from "../../src/domain/decimal.js"
import type { CanonicalEvent } from "../../src/domain/events/index.js"
import type { SubmitOrder } from "../../src/domain/events/intents.js"
import type { AccountId, ClientOrderId, StrategyId } from "../../src/domain/ids.js"
import type { Instrument } from "../../src/domain/instrument.js"
import { TradingLedger } from "../../src/domain/ledger.js"
import { openPgliteStore, type PgliteStoreHandle } from "../../src/persistence/pglite.js"

// Issue 16, must-show 3 (Troupe's half), over loopback against the simulator's margin model:
// Troupe's risk denies an order beyond the venue's available margin before the venue; a funding
// payment is booked on the position; a position driven below maintenance is liquidated by the
// simulator and Troupe journals the liquidation fill and books the position.
const SECRET = Buffer.from("margin-secret-margin-secret").toString("base64")
const A = "acct-margin" as AccountId
let sim: Simulator
let instrument: Instrument
let fileJournal: FileJournal
let store: PgliteStoreHandle

const until = async (what: string, ok: () => boolean, ms = 10_000): Promise<void> => {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (ok()) return
    await new Promise((r) => setTimeout(r, 10))
  }
  throw new Error(`timed out waiting for ${what}`)
}

beforeAll(async () => {
  sim = await startSimulator({
    port: 0,
    instruments: ["PF_XBTUSD"],
    // 2 000 USD of collateral: at 60 000 and the model's 2 % initial margin, at most 1.666 contracts.
    accounts: [{ name: A, apiKey: "key-m", apiSecret: SECRET, collateralUsd: "2000" }],
    market: { kind: "none" },
    // Funding only when the test asks (POST /__admin/funding).
    model: { fundingIntervalMs: 0 }
  })
  const rest = makeKrakenRestClient({ baseUrl: `${sim.url}/derivatives`, credentials: { apiKey: "key-m", secret: SECRET } })
  instrument = mapInstruments(await Effect.runPromise(rest.instruments())).instruments.map((k) => k.instrument).find((i) => i.symbol === "PF_XBTUSD")!
  const dir = mkdtempSync(join(tmpdir(), "troupe-margin-"))
  fileJournal = await Effect.runPromise(openFileJournal({ dir: join(dir, "journal"), fsync: { kind: "never" } }))
  store = await openPgliteStore({ dataDir: join(dir, "pglite") })
  await Effect.runPromise(store.store.migrate())
}, 60_000)

afterAll(async () => {
  await sim?.stop()
  await Effect.runPromise(fileJournal.close())
  await Effect.runPromise(store.store.close())
})

describe("margin, funding and liquidation between Troupe and the simulator", () => {
  it("risk denies beyond available margin before the venue; funding is booked on the position; a liquidation fill is journaled and booked", async () => {
    const metrics = new MetricsRegistry()
    const journal = new EventJournal({ journal: fileJournal, store: store.store, metrics })
    const ledger = new TradingLedger((id) => (id === instrument.id ? instrument : undefined))
    journal.onAppended = (e, o) => {
      if (o.topic === "orders") ledger.apply(e, o)
    }
    const published: CanonicalEvent[] = []
    const rest = makeKrakenRestClient({ baseUrl: `${sim.url}/derivatives`, credentials: { apiKey: "key-m", secret: SECRET } })
    const budget = { reserve: (call: VenueRead) => node.risk.requestBudget.reserve(call) }
    const gateway: KrakenVenueGateway = makeKrakenVenueGateway({ account: A, rest, budget, privateFeed: { url: sim.wsUrl, apiKey: "key-m", secret: SECRET } })
    const node: TradingNode = new TradingNode({
      account: A,
      clock: wallClock,
      instruments: [instrument],
      limits: {},
      gateway,
      marketData: makeKrakenMarketDataPort({ url: sim.wsUrl }),
      journal,
      metrics,
      inspection: new InspectionStream(16),
      publish: (e) => void published.push(e),
      onOrderEvent: () => undefined,
      log: () => undefined
    })
    gateway.start()
    try {
      await until("the private feed", () => gateway.counters().feedAuthenticated)
      await until("the venue's margin figure", () => node.risk.margin?.lastVenue() !== undefined)
      expect(node.risk.margin?.lastVenue()?.available.toString()).toBe("2000")
      // The books are not subscribed here: risk and the portfolio get the venue's top by hand.
      const top = (bid: string, ask: string): void => {
        node.risk.onBook(instrument.id, dec(bid), dec(ask))
        node.portfolio.onBook(instrument.id, dec(bid), dec(ask))
      }
      top("59999.5", "60000.5")
      let seq = 0
      const submit = (side: "buy" | "sell", price: string, qty: string): SubmitOrder => ({
        _tag: "SubmitOrder",
        id: `m-${++seq}`,
        ts: Date.now(),
        source: "test",
        account: A,
        strategy: "margin" as StrategyId,
        instrument: instrument.id,
        clientOrderId: `margin-0-${seq}` as ClientOrderId,
        side,
        orderType: "limit",
        qty: dec(qty),
        price: dec(price),
        reduceOnly: false
      })

      // 1. Beyond available margin: 2 × 60 000 × 0.02 = 2 400 > 2 000. Denied by Troupe's risk.
      const big = submit("buy", "60000", "2")
      const denied = await node.intentGateway.submit(big)
      expect(denied._tag).toBe("Denied")
      const d = published.find((e) => e._tag === "RiskDenied" && e.clientOrderId === big.clientOrderId)
      expect(d?._tag === "RiskDenied" && { reason: d.reason, limit: d.limit?.toString(), actual: d.actual?.toString() }).toEqual({ reason: "INSUFFICIENT_MARGIN", limit: "2000", actual: "2400" })
      // Nothing reached the venue: no order, no venue history for the account.
      expect(published.some((e) => e._tag === "OrderSubmitted" && e.clientOrderId === big.clientOrderId)).toBe(false)
      expect(sim.admin.account(A).orders).toEqual([])

      // 2. A position of 1 at 60 000 (the market maker's ask), with a deep bid below.
      sim.admin.placeAs({ account: "mm", symbol: "PF_XBTUSD", side: "sell", orderType: "lmt", size: "1", limitPrice: "60000" })
      sim.admin.placeAs({ account: "mm", symbol: "PF_XBTUSD", side: "buy", orderType: "lmt", size: "5", limitPrice: "57000" })
      top("57000", "60000")
      const buy = submit("buy", "60000", "1")
      expect((await node.intentGateway.submit(buy))._tag).toBe("Approved")
      await until("the position", () => node.portfolio.position(instrument.id)?.quantity.toString() === "1")

      // 3. Funding: longs pay 0.00001 × mark per contract. The mark is the last trade (one-sided book): 60 000.
      sim.admin.handle("POST", "/__admin/funding", {})
      await until("funding on the position", () => !node.portfolio.funding(instrument.id).isZero())
      expect(node.portfolio.funding(instrument.id).toString()).toBe("-0.6")
      const fundingEvent = published.find((e) => e._tag === "FundingPaid")
      expect(fundingEvent?._tag === "FundingPaid" && { instrument: fundingEvent.instrument, amount: fundingEvent.amount.toString(), rate: fundingEvent.rate?.toString() }).toEqual({
        instrument: instrument.id,
        amount: "-0.6",
        rate: "0.6"
      })
      const withFunding = published.filter((e) => e._tag === "PositionChanged").at(-1)
      expect(withFunding?._tag === "PositionChanged" && withFunding.funding?.toString()).toBe("-0.6")

      // 4. The mark falls to 57 005 (ask at 57 010): equity 2 000 − 0.6 − 2 995 < maintenance. The
      // simulator liquidates: cancels, and sells 1 into the bid at 57 000.
      const liquidationsBefore = published.filter((e) => e._tag === "OrderFilled" && e.fillType === "liquidation").length
      expect(liquidationsBefore).toBe(0)
      sim.admin.placeAs({ account: "mm", symbol: "PF_XBTUSD", side: "sell", orderType: "lmt", size: "1", limitPrice: "57010" })
      await until("the liquidation fill", () => published.some((e) => e._tag === "OrderFilled" && e.fillType === "liquidation"))
      const liq = published.find((e) => e._tag === "OrderFilled" && e.fillType === "liquidation")
      if (liq?._tag !== "OrderFilled") throw new Error("no liquidation fill")
      expect({ side: liq.side, qty: liq.qty.toString(), price: liq.price.toString() }).toEqual({ side: "sell", qty: "1", price: "57000" })
      expect(liq.clientOrderId.startsWith("liquidation-")).toBe(true)
      // Booked: flat, the loss realized (3 000 less fees) and the funding still on the position.
      await until("the flat position", () => node.portfolio.position(instrument.id)?.quantity.isZero() === true)
      const p = node.portfolio.position(instrument.id)!
      expect(p.realizedPnl.plus(p.fees).toString()).toBe("-3000")
      expect(node.portfolio.funding(instrument.id).toString()).toBe("-0.6")
      // Journaled: the ledger (the journal's fold) has the same position and funding.
      await journal.durable()
      await until("the ledger", () => ledger.positions.get(instrument.id)?.quantity.isZero() === true)
      expect(ledger.positions.get(instrument.id)?.realizedPnl.toString()).toBe(p.realizedPnl.toString())
      expect(ledger.funding.get(instrument.id)?.toString()).toBe("-0.6")
      // The venue agrees: flat.
      const venue = await Effect.runPromise(rest.openPositions())
      expect(venue.filter((x) => x.symbol === "PF_XBTUSD")).toEqual([])

      // The report (from the store the journal projects into): the funding and the liquidation
      // fill belong to the strategy that held the position, and funding is in its net PnL.
      await journal.project()
      const source = await loadStoreSource({ store: store.store })
      expect(source.funding).toEqual([{ strategy: "margin", instrument: instrument.id, amount: "-0.6", ts: expect.any(Number) }])
      const db = await openAnalyticsDb()
      try {
        await loadDataset(db.conn, source)
        const report = await computeReport(db)
        const row = report.summary.find((r) => r.scope === "strategy" && r.strategy === "margin")
        expect(row?.funding).toBe("-0.6")
        expect(row?.fills).toBe(2)
        // realized −3 000, fees, funding −0.6: the position's whole story.
        expect(row?.netPnl).toBe(p.realizedPnl.minus(0.6).toString())
      } finally {
        db.close()
      }
    } finally {
      await gateway.stop()
      await Effect.runPromise(node.stop())
      await journal.close()
    }
  }, 30_000)
})
