import { Either } from "effect"
import { describe, expect, it } from "vitest"
import { parseConfig } from "../../src/daemon/config.js"
import { BINANCE_USDM_CALLS, BINANCE_USDM_ENDPOINTS, binanceUsdmModel, KRAKEN_FUTURES_CALL_COSTS, krakenFuturesModel, venueRateModel, venueRateModels, VenueRateConfigInvalid } from "../../src/domain/venue-rates.js"

const left = <A>(e: Either.Either<A, VenueRateConfigInvalid>) => (Either.isLeft(e) ? { path: e.left.path, reason: e.left.reason, tag: e.left._tag } : undefined)

describe("venue cost models", () => {
  it("Kraken: one budget of 500 per 10 s per account, the costs of today", () => {
    const m = krakenFuturesModel()
    expect(m.budgets).toEqual([{ name: "cost", scope: "account", limit: 500, windowMs: 10_000, reserve: 100, marginMs: 500 }])
    expect(m.costs.sendorder).toEqual({ cost: 10 })
    expect(m.costs.fillsBefore).toEqual({ cost: 25 })
    expect(KRAKEN_FUTURES_CALL_COSTS.cancelallordersafter).toBe(25)
  })

  it("Binance USD-M: weight per minute per address, orders per 10 s and per minute per account, each call billed as its endpoint", () => {
    const m = binanceUsdmModel()
    expect(m.budgets.map((b) => [b.name, b.scope, b.limit, b.windowMs])).toEqual([
      ["weight1m", "ip", 2400, 60_000],
      ["orders10s", "account", 300, 10_000],
      ["orders1m", "account", 1200, 60_000]
    ])
    // New order, modify: 1 on each order count, 0 weight; cancel: 1 weight; countdownCancelAll 10; openOrders (all symbols) 40.
    expect(m.costs.sendorder).toEqual({ weight1m: 0, orders10s: 1, orders1m: 1 })
    expect(m.costs.editorder).toEqual({ weight1m: 0, orders10s: 1, orders1m: 1 })
    expect(m.costs.cancelorder).toEqual({ weight1m: 1, orders10s: 0, orders1m: 0 })
    expect(m.costs.cancelallordersafter.weight1m).toBe(10)
    expect(m.costs.openorders.weight1m).toBe(40)
    expect(m.costs.depthSnapshot.weight1m).toBe(20)
    expect(m.costs.openpositions.weight1m).toBe(5)
    for (const [call, endpoint] of Object.entries(BINANCE_USDM_CALLS)) expect(BINANCE_USDM_ENDPOINTS[endpoint], call).toBeDefined()
    expect(m.perSymbol).toEqual(["cancelallorders", "cancelallordersafter"])
  })

  it("settings override the defaults and are checked, with typed errors naming the key", () => {
    const m = venueRateModel("binance-usdm", { weightPerMinute: 1200, ordersPer10s: 50 })
    expect(Either.isRight(m) && m.right.budgets.map((b) => b.limit)).toEqual([1200, 50, 1200])
    expect(left(venueRateModel("binance-usdm", { weightPerMinute: 0 }))).toEqual({ tag: "VenueRateConfigInvalid", path: "rateLimits.binance-usdm.weightPerMinute", reason: "expected an integer 1..1000000, got 0" })
    expect(left(venueRateModel("binance-usdm", { weightPerMinute: "2400" }))?.reason).toBe('expected an integer 1..1000000, got "2400"')
    expect(left(venueRateModel("binance-usdm", { weightsPerMinute: 10 }))).toMatchObject({ path: "rateLimits.binance-usdm.weightsPerMinute", reason: expect.stringContaining("unknown key") as string })
    expect(left(venueRateModel("binance-usdm", { weightReserve: 2400 }))).toEqual({ tag: "VenueRateConfigInvalid", path: "rateLimits.binance-usdm.weightReserve", reason: "expected less than weightPerMinute (2400), got 2400" })
    // openorders (40 weight) must fit outside the reserve, or it would wait forever.
    expect(left(venueRateModel("binance-usdm", { weightPerMinute: 100, weightReserve: 70 }))).toMatchObject({ path: "rateLimits.binance-usdm.weightPerMinute", reason: expect.stringContaining("openorders costs 40") as string })
    expect(left(venueRateModel("kraken-futures", { budget: 20 }))).toMatchObject({ path: "rateLimits.kraken-futures.reserve", reason: "expected less than budget (20), got 100" })
    expect(left(venueRateModel("okx", {}))).toMatchObject({ path: "rateLimits.okx", reason: expect.stringContaining("unknown venue") as string })
    expect(left(venueRateModels([]))?.path).toBe("rateLimits")
  })

  it("the daemon's config takes them under rateLimits and stops at a bad one with its key path", () => {
    const ok = parseConfig({ rateLimits: { "binance-usdm": { ordersPer10s: 100 } } }, {})
    expect(Either.isRight(ok) && ok.right.rateLimits.get("binance-usdm")?.budgets[1]?.limit).toBe(100)
    expect(Either.isRight(ok) && ok.right.rateLimits.get("kraken-futures")?.budgets[0]?.limit).toBe(500)
    const bad = parseConfig({ rateLimits: { "kraken-futures": { windowMs: -1 } } }, {})
    expect(Either.isLeft(bad) && bad.left.message).toBe("config error at rateLimits.kraken-futures.windowMs: expected an integer 1..3600000, got -1")
  })
})
