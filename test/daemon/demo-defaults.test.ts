import { Effect, Either } from "effect"
import { describe, expect, it } from "vitest"
import { Decimal } from "../../src/domain/decimal.js"
import { checkLimitsForInstruments, checkRules } from "../../src/daemon/config-rules.js"
import { parseConfig, type Config } from "../../src/daemon/config.js"
import { DEMO_RISK_LIMITS, demoInstruments, demoStrategies, describeDemoDefaults, EMBEDDED_SYMBOLS, withDemoDefaults } from "../../src/daemon/demo-defaults.js"
import { StrategyCatalog } from "../../src/daemon/strategy-catalog.js"
import { lotSize } from "../../src/adapters/venues/simulator/instruments.js"
import { decodeParams } from "../../src/strategies/ports.js"

const embedded = (file: unknown = undefined): Config => Either.getOrThrow(parseConfig(file, {}))

describe("demo defaults", () => {
  it("with no strategies configured, the demo's strategies and explicit risk limits are the config, a configured limit winning", () => {
    const demo = withDemoDefaults(embedded({ risk: { dailyLossLimit: "100" } }))
    expect(demo.strategies.map((s) => s.id)).toEqual(["mm-xbt", "mm-eth", "mm-sol", "mo-sol"])
    expect(demo.risk.dailyLossLimit?.toString()).toBe("100")
    expect(demo.risk.maxNotional?.toString()).toBe("2000")
    expect(demo.risk.maxOpenOrders).toBe(12)
    // Printed at start: every limit and every strategy's params.
    const lines = describeDemoDefaults(demo).join("\n")
    expect(lines).toMatch(/maxOrderQty=1 maxNotional=2000 priceBand=0\.02 maxPosition=5 maxGrossExposure=10000 maxNetExposure=5000 maxOpenOrders=12 dailyLossLimit=100 strategyOrdersPerSecond=4/)
    expect(lines).toContain('demo strategy mm-sol (avellaneda-stoikov): {"instrument":"kraken-futures:PF_SOLUSD","gamma":0.1,"k":40')
  })

  it("configured strategies or a real venue turn the demo off, limits included", () => {
    const own = embedded({ strategies: [{ id: "mine", kind: "momentum-breakout", instruments: ["kraken-futures:PF_XBTUSD"] }] })
    expect(withDemoDefaults(own)).toBe(own)
    const venue = embedded({ venue: { id: "kraken-futures", baseUrl: "https://futures.example", wsUrl: "wss://futures.example/ws", apiKey: "k", apiSecret: "s" } })
    expect(withDemoDefaults(venue).risk).toEqual({})
  })

  it("the demo's limits pass the config rules and allow an order on every demo instrument", () => {
    expect(checkRules({ risk: DEMO_RISK_LIMITS, venue: { id: "simulator" }, strategies: demoStrategies(), token: undefined, databaseUrl: undefined, appDatabaseUrl: undefined })).toBeUndefined()
    const instruments = demoInstruments(EMBEDDED_SYMBOLS).map((i) => ({ id: i.symbol, minQty: lotSize(i), lotSize: lotSize(i) }))
    expect(checkLimitsForInstruments(DEMO_RISK_LIMITS, instruments)).toBeUndefined()
  })

  it("every demo strategy's params decode with its definition, its order within the limits, on the market-maker fee tier (no maker fee, a taker fee)", async () => {
    const catalog = new StrategyCatalog()
    for (const s of demoStrategies()) {
      const definition = await Effect.runPromise(catalog.load(s.kind))
      const params = Either.getOrThrow(decodeParams(s.id, definition.params, s.params)) as { orderQty: Decimal }
      expect(params.orderQty.lte(DEMO_RISK_LIMITS.maxOrderQty ?? 0), s.id).toBe(true)
    }
    for (const i of demoInstruments(EMBEDDED_SYMBOLS)) {
      expect(i.makerFee.isZero()).toBe(true)
      expect(i.takerFee.gt(0)).toBe(true)
    }
  })
})
