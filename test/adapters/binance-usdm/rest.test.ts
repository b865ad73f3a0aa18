import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { makeBinanceRestClient, type BinanceRestClient } from "../../../src/adapters/venues/binance-usdm/rest.js"
import { signedParams } from "../../../src/adapters/venues/binance-usdm/signing.js"
import { startSimulator, type Simulator } from "../../../src/adapters/venues/simulator/server.js"
import { Decimal } from "../../../src/domain/decimal.js"

/**
 * Order entry over REST against the simulator's Binance face: place / modify / cancel by
 * Troupe's client order id, and an unknown outcome (the face runs the order, then answers
 * 503 -1000) reconciled by client order id — one order at the venue, never a resend.
 */
describe("Binance USD-M REST order entry against the face", () => {
  let sim: Simulator
  let client: BinanceRestClient
  let price: string
  beforeAll(async () => {
    sim = await startSimulator({ accounts: [{ name: "me", apiKey: "k", apiSecret: "s", collateralUsd: "100000" }], market: { kind: "synthetic", rate: 0 }, instruments: ["BTCUSDT"], model: { fundingIntervalMs: 0 }, binance: {} })
    client = makeBinanceRestClient({ baseUrl: sim.binance!.url, apiKey: "k", secret: "s", reconcile: { attempts: 2, delayMs: 50 } })
    const mark = ((await (await fetch(`${sim.binance!.url}/fapi/v1/premiumIndex?symbol=BTCUSDT`)).json()) as { markPrice: string }).markPrice
    price = new Decimal(mark).times("0.97").toDecimalPlaces(1, Decimal.ROUND_FLOOR).toFixed()
  })
  afterAll(async () => {
    await sim.stop()
  })

  const openWith = (clientOrderId: string) => Effect.runPromise(Effect.either(client.queryOrder("BTCUSDT", clientOrderId)))

  it("places with newClientOrderId = the client order id, modifies and cancels by it", async () => {
    const placed = await Effect.runPromise(client.placeOrder({ symbol: "BTCUSDT", side: "BUY", type: "LIMIT", timeInForce: "GTC", quantity: "0.01", price, clientOrderId: "troupe-1" }))
    expect(placed._tag).toBe("Placed")
    if (placed._tag !== "Placed") return
    expect([placed.order.clientOrderId, placed.order.status, placed.order.price, placed.reconciled]).toEqual(["troupe-1", "NEW", price, false])
    const lower = new Decimal(price).minus("1").toFixed()
    const modified = await Effect.runPromise(client.modifyOrder({ symbol: "BTCUSDT", clientOrderId: "troupe-1", side: "BUY", quantity: "0.02", price: lower }))
    expect([modified.price, modified.origQty, modified.orderId]).toEqual([lower, "0.02", placed.order.orderId])
    const canceled = await Effect.runPromise(client.cancelOrder("BTCUSDT", "troupe-1"))
    expect(canceled.status).toBe("CANCELED")
    const again = await Effect.runPromise(Effect.either(client.cancelOrder("BTCUSDT", "troupe-1")))
    expect(again._tag === "Left" && again.left._tag).toBe("OrderNotFound")
  })

  it("a venue rejection is typed and final (no reconcile)", async () => {
    const r = await Effect.runPromise(client.placeOrder({ symbol: "BTCUSDT", side: "BUY", type: "LIMIT", timeInForce: "GTC", quantity: "0.0001", price, clientOrderId: "troupe-small" }))
    expect(r._tag).toBe("Rejected")
    expect(r._tag === "Rejected" && r.error._tag).toBe("InvalidArgument")
    const q = await openWith("troupe-small")
    expect(q._tag === "Left" && q.left._tag).toBe("OrderNotFound")
  })

  it("an unknown outcome (503 -1000 after the order ran) is reconciled by client order id: placed once, never resent", async () => {
    sim.binance!.faults.unknownOutcomes = 1
    const r = await Effect.runPromise(client.placeOrder({ symbol: "BTCUSDT", side: "BUY", type: "LIMIT", timeInForce: "GTC", quantity: "0.01", price, clientOrderId: "troupe-2" }))
    expect(r._tag).toBe("Placed")
    expect(r._tag === "Placed" && [r.reconciled, r.order.clientOrderId, r.order.status]).toEqual([true, "troupe-2", "NEW"])
    expect(sim.binance!.faults.unknownOutcomes).toBe(0)
    // Exactly one order with that id rests at the venue.
    const open = (await (await fetch(`${sim.binance!.url}/fapi/v1/openOrders?${signedQuery()}`, { headers: { "X-MBX-APIKEY": "k" } })).json()) as Array<{ clientOrderId: string }>
    expect(open.filter((o) => o.clientOrderId === "troupe-2")).toHaveLength(1)
    // A resend would be refused as a duplicate: the client sent only once.
    const resend = await Effect.runPromise(client.placeOrder({ symbol: "BTCUSDT", side: "BUY", type: "LIMIT", timeInForce: "GTC", quantity: "0.01", price, clientOrderId: "troupe-2" }))
    expect(resend._tag === "Placed" && resend.reconciled).toBe(true) // -4116 → reconciled to the same order
    expect(resend._tag === "Placed" && resend.order.orderId).toBe(r._tag === "Placed" ? r.order.orderId : -1)
  })

  it("a certain failure (-1001 internal error) is a rejection the caller may retry", async () => {
    sim.admin.exchange.faults.restFailures = 1
    const r = await Effect.runPromise(client.placeOrder({ symbol: "BTCUSDT", side: "BUY", type: "LIMIT", timeInForce: "GTC", quantity: "0.01", price, clientOrderId: "troupe-3" }))
    expect(r._tag === "Rejected" && r.error._tag === "VenueUnavailable" && r.error.mayHaveReached).toBe(false)
    const q = await openWith("troupe-3")
    expect(q._tag === "Left" && q.left._tag).toBe("OrderNotFound")
  })
})

const signedQuery = (): string => signedParams("s", [["symbol", "BTCUSDT"]], { timestamp: Date.now() })
