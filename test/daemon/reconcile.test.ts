import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Either } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { makeSimulatedClock } from "../../src/actors/clock.js"
import { InspectionStream } from "../../src/actors/inspection.js"
import { MetricsRegistry } from "../../src/actors/metrics.js"
import { openFileJournal, type FileJournal } from "../../src/adapters/journal/file/file-journal.js"
import { makeKrakenRestClient, mapInstruments, type KrakenRestClient } from "../../src/adapters/venues/kraken-futures/index.js"
import { startSimulator, type Simulator } from "../../src/adapters/venues/simulator/server.js"
import { EventJournal } from "../../src/daemon/event-journal.js"
import { reconcileWithVenue, restoreTradingNode } from "../../src/daemon/reconcile.js"
import { TradingNode } from "../../src/daemon/trading-node.js"
import { dec } from "../../src/domain/decimal.js"
import type { OrderEvent } from "../../src/domain/events/orders.js"
import type { VenueRequestSent } from "../../src/domain/events/venue.js"
import { decodeEvent, encodeEvent } from "../../src/domain/codec.js"
import type { AccountId } from "../../src/domain/ids.js"
import type { Instrument } from "../../src/domain/instrument.js"
import { TradingLedger } from "../../src/domain/ledger.js"
import { openPgliteStore, type PgliteStoreHandle } from "../../src/persistence/pglite.js"

// Reconciliation after a restart, against the simulator over real HTTP: the journal says one
// thing, the venue another, and every difference becomes an order event — nothing is resent.
//   a: journaled as submitted, never reached the venue      → rejected ("never reached the venue")
//   b: journaled as submitted, resting at the venue          → accepted with the venue's order id
//   c: journaled as accepted, filled at the venue meanwhile  → the missed fill, then filled
//   d: journaled as accepted, gone from the venue, no fills  → canceled
//   e: resting at the venue, never journaled (placed elsewhere) → reported, left alone

const SECRET = Buffer.from("reconcile-secret-reconcile-secret").toString("base64")
const ACCOUNT = "acct" as AccountId
let sim: Simulator
let rest: KrakenRestClient
let instrument: Instrument
let journal: FileJournal
let store: PgliteStoreHandle

beforeAll(async () => {
  sim = await startSimulator({ port: 0, instruments: ["PF_XBTUSD"], accounts: [{ name: "default", apiKey: "k", apiSecret: SECRET }, { name: "other", apiKey: "k2", apiSecret: SECRET }], market: { kind: "none" } })
  rest = makeKrakenRestClient({ baseUrl: `${sim.url}/derivatives`, credentials: { apiKey: "k", secret: SECRET } })
  instrument = mapInstruments(await Effect.runPromise(rest.instruments())).instruments.map((k) => k.instrument).find((i) => i.symbol === "PF_XBTUSD")!
  const dir = mkdtempSync(join(tmpdir(), "troupe-reconcile-"))
  journal = await Effect.runPromise(openFileJournal({ dir: join(dir, "journal"), fsync: { kind: "never" } }))
  store = await openPgliteStore({ dataDir: join(dir, "pglite") })
  await Effect.runPromise(store.store.migrate())
}, 60_000)

afterAll(async () => {
  await sim?.stop()
  await Effect.runPromise(journal.close())
  await Effect.runPromise(store.store.close())
})

describe("the venue budget after a restart", () => {
  it("starts from the request costs the previous run journaled: risk counts them until they leave the venue's window", async () => {
    const now = 1_800_000_000_000
    const clock = makeSimulatedClock(now)
    // The last run sent 400 in the 5 s before the crash (journaled, folded by the ledger through the codec).
    const ledger = new TradingLedger((id) => (id === instrument.id ? instrument : undefined))
    for (let k = 0; k < 40; k++) {
      const e: VenueRequestSent = { _tag: "VenueRequestSent", id: `r${k}`, ts: now - 5_000 + k * 100, source: "risk/acct", account: ACCOUNT, call: "sendorder", cost: 10 }
      ledger.apply(Either.getOrThrow(decodeEvent(encodeEvent(e))))
    }
    const trading = new TradingNode({
      account: ACCOUNT,
      clock,
      instruments: [instrument],
      limits: {},
      gateway: { account: ACCOUNT, send: () => undefined, subscribe: () => () => undefined },
      marketData: { subscribe: () => () => undefined, resync: () => undefined },
      journal: new EventJournal({ journal, store: store.store }),
      metrics: new MetricsRegistry(),
      inspection: new InspectionStream(16),
      publish: () => undefined,
      onOrderEvent: () => undefined
    })
    restoreTradingNode(trading, ledger)
    expect(trading.risk.rateUsed).toBe(400)
    expect(trading.risk.rateUsedAtVenue).toBe(400)
    trading.risk.onBook(instrument.id, dec("59999.5"), dec("60000.5"))
    const submit = (cid: string) => trading.orders.handle({ _tag: "SubmitOrder", id: `i-${cid}`, ts: clock.now(), source: "test", account: ACCOUNT, strategy: "mm" as never, instrument: instrument.id, clientOrderId: cid as never, side: "buy", orderType: "limit", qty: dec("0.001"), price: dec("59000"), reduceOnly: false })
    const first = submit("mm-2-1")
    expect(first._tag === "Denied" && first.event.reason).toBe("RATE_LIMIT")
    // The first of them leaves our window at its time + 10 s + the 500 ms send margin.
    clock.advance(5_499)
    expect(submit("mm-2-2")._tag).toBe("Denied")
    clock.advance(1)
    expect(submit("mm-2-3")._tag).toBe("Approved")
    await Effect.runPromise(trading.stop())
  })
})

describe("reconciliation with the venue after a restart", () => {
  it("turns every difference between the journal and the venue into an order event, and sends nothing", async () => {
    const place = (account: string, cliOrdId: string | undefined, side: "buy" | "sell", orderType: string, price?: string) => {
      const out = sim.admin.placeAs({ account, symbol: "PF_XBTUSD", orderType, side, size: "0.001", ...(price === undefined ? {} : { limitPrice: price }), ...(cliOrdId === undefined ? {} : { cliOrdId }) }) as { order: { orderId: string } | null; status: string }
      return out.order?.orderId ?? out.status
    }
    const b = place("default", "mm-1-b", "buy", "lmt", "40000")
    const c = place("default", "mm-1-c", "buy", "lmt", "41000")
    // Fills c while we are "down" (an IOC at c's price: a market order is collared around the mark, far above these bids).
    place("other", undefined, "sell", "ioc", "41000")
    place("default", "elsewhere-1", "sell", "lmt", "60000")

    const ledger = new TradingLedger((id) => (id === instrument.id ? instrument : undefined))
    let ts = 1
    const env = () => ({ id: `e${ts}`, ts: ts++, source: "test" })
    const submitted = (cid: string, price: string) =>
      ({ _tag: "OrderSubmitted", ...env(), account: ACCOUNT, instrument: instrument.id, clientOrderId: cid, strategy: "mm", side: "buy", orderType: "limit", qty: dec("0.001"), price: dec(price), reduceOnly: false }) as never
    const accepted = (cid: string, venueOrderId: string) => ({ _tag: "OrderAccepted", ...env(), account: ACCOUNT, instrument: instrument.id, clientOrderId: cid, venueOrderId }) as never
    ledger.apply(submitted("mm-1-a", "39000"))
    ledger.apply(submitted("mm-1-b", "40000"))
    ledger.apply(submitted("mm-1-c", "41000"))
    ledger.apply(accepted("mm-1-c", c))
    ledger.apply(submitted("mm-1-d", "42000"))
    ledger.apply(accepted("mm-1-d", "gone-at-the-venue"))

    const sent: unknown[] = []
    const events: OrderEvent[] = []
    const trading = new TradingNode({
      account: ACCOUNT,
      clock: makeSimulatedClock(1_800_000_000_000),
      instruments: [instrument],
      limits: {},
      gateway: { account: ACCOUNT, send: (a) => void sent.push(a), subscribe: () => () => undefined },
      marketData: { subscribe: () => () => undefined, resync: () => undefined },
      journal: new EventJournal({ journal, store: store.store }),
      metrics: new MetricsRegistry(),
      inspection: new InspectionStream(16),
      publish: () => undefined,
      onOrderEvent: (e) => void events.push(e)
    })
    expect(restoreTradingNode(trading, ledger)).toBe(4)
    expect(trading.risk.openOrderCount).toBe(4)

    const report = await Effect.runPromise(reconcileWithVenue({ account: ACCOUNT, clock: makeSimulatedClock(1_800_000_000_000), rest, budget: trading.risk.requestBudget, trading, instruments: [instrument], log: () => undefined }, ledger, { cancelRecoveredOrders: false }))

    const outcome = (cid: string) => events.filter((e) => e.clientOrderId === cid).map((e) => e._tag)
    expect(outcome("mm-1-a")).toEqual(["OrderRejected"])
    expect(events.find((e) => e.clientOrderId === "mm-1-a" && e._tag === "OrderRejected")).toMatchObject({ reason: expect.stringMatching(/never reached/) })
    expect(outcome("mm-1-b")).toEqual(["OrderAccepted"])
    expect(events.find((e) => e.clientOrderId === "mm-1-b")).toMatchObject({ venueOrderId: b })
    expect(outcome("mm-1-c")).toEqual(["OrderFilled"])
    expect(outcome("mm-1-d")).toEqual(["OrderCanceled"])
    expect(trading.orders.order("mm-1-b")?.status).toMatch(/accepted/)
    expect(trading.orders.order("mm-1-c")?.status).toBe("filled")
    expect(trading.orders.liveOrderIds()).toEqual(["mm-1-b"])
    expect(trading.risk.openOrderCount).toBe(1)
    // The missed fill made the position; it equals the venue's now, so nothing was adopted.
    expect(trading.portfolio.position(instrument.id)?.quantity.toString()).toBe("0.001")
    expect(report).toMatchObject({ restoredOrders: 4, missedFills: 1, acceptedWhileAway: 1, rejectedNeverSent: 1, canceledWhileAway: 1, unknownVenueOrders: ["elsewhere-1"], positionDifferences: [], canceledOnRecovery: 0 })
    // Nothing was sent to the venue: every outcome was resolved by client order id.
    expect(sent).toEqual([])
    // Every read was billed to risk first (fills 2, openorders 2, openpositions 2), exactly what the venue charged.
    expect(trading.risk.rateUsed).toBe(6)
    expect(sim.admin.account("default").rateLimitUsed).toBe(6)
    await Effect.runPromise(trading.stop())
  }, 60_000)
})
