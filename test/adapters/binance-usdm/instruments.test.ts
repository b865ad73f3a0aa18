import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { mapExchangeInfo } from "../../../src/adapters/venues/binance-usdm/instruments.js"

const recorded = JSON.parse(readFileSync(new URL("./fixtures/exchangeInfo.json", import.meta.url), "utf8")) as { symbols: Array<Record<string, unknown>> }

describe("Binance USD-M exchangeInfo → instruments", () => {
  const load = mapExchangeInfo(recorded)
  const by = (symbol: string) => load.instruments.find((i) => i.instrument.symbol === symbol)

  it("takes tick from PRICE_FILTER and lot from LOT_SIZE, not from the precisions", () => {
    const btc = by("BTCUSDT")
    expect(btc).toBeDefined()
    const i = btc!.instrument
    expect(i.id).toBe("binance-usdm:BTCUSDT")
    expect(i.kind).toBe("linearPerpetual")
    expect([i.base, i.quote]).toEqual(["BTC", "USDT"])
    expect(i.tickSize.toFixed()).toBe("0.1")
    expect(i.lotSize.toFixed()).toBe("0.001")
    expect(i.minQty.toFixed()).toBe("0.001")
    expect(i.maxQty.toFixed()).toBe("1000")
    expect(i.priceDecimals).toBe(1)
    expect(i.qtyDecimals).toBe(3)
    expect(i.tradable).toBe(true)
    expect(btc!.minPrice.toFixed()).toBe("556.8")
    expect(btc!.maxPrice.toFixed()).toBe("4529764")
  })

  it("keeps the market lot, min notional, percent price and max orders beside the instrument", () => {
    const btc = by("BTCUSDT")!
    expect(btc.marketLot?.maxQty.toFixed()).toBe("120")
    expect(btc.marketLot?.stepSize.toFixed()).toBe("0.001")
    expect(btc.minNotional?.toFixed()).toBe("100")
    expect(btc.percentPrice?.multiplierUp.toFixed()).toBe("1.05")
    expect(btc.percentPrice?.multiplierDown.toFixed()).toBe("0.95")
    expect(btc.maxOrders).toBe(200)
    expect(btc.orderTypes).toContain("STOP_MARKET")
    expect(btc.timeInForce).toContain("GTX")
    const blz = by("BLZUSDT")!
    expect(blz.instrument.tickSize.toFixed()).toBe("0.0001")
    expect(blz.instrument.lotSize.toFixed()).toBe("1")
    expect(blz.instrument.qtyDecimals).toBe(0)
    expect(blz.minNotional?.toFixed()).toBe("5")
    expect(blz.percentPrice?.multiplierUp.toFixed()).toBe("1.15")
  })

  it("maps a quarterly to a linear future with its delivery date, a settling symbol to not tradable, and skips a non-contract", () => {
    const q = by("BTCUSDT_261225")!
    expect(q.instrument.kind).toBe("linearFuture")
    expect(q.deliveryDate).toBe(1766649600000)
    expect(by("OLDUSDT")!.instrument.tradable).toBe(false)
    expect(by("OLDUSDT")!.marketLot).toBeUndefined()
    expect(load.skipped).toEqual([{ symbol: "BTCDOMUSDT_IDX", reason: 'contractType "" is not a contract we trade' }])
    expect(load.errors).toEqual([])
    expect(load.instruments).toHaveLength(4)
  })

  it("reports a bad symbol as a typed error and still maps the others", () => {
    const btc = recorded.symbols[0]!
    const filters = btc["filters"] as Array<Record<string, unknown>>
    const numberTick = { ...btc, symbol: "NUMUSDT", filters: filters.map((f) => (f["filterType"] === "PRICE_FILTER" ? { ...f, tickSize: 0.1 } : f)) }
    const noLot = { ...btc, symbol: "NOLOTUSDT", filters: filters.filter((f) => f["filterType"] !== "LOT_SIZE") }
    const offGrid = { ...btc, symbol: "GRIDUSDT", filters: filters.map((f) => (f["filterType"] === "LOT_SIZE" ? { ...f, minQty: "0.0015" } : f)) }
    const r = mapExchangeInfo({ symbols: [numberTick, noLot, offGrid, "junk", btc] })
    expect(r.instruments.map((i) => i.instrument.symbol)).toEqual(["BTCUSDT"])
    expect(r.errors.map((e) => e._tag)).toEqual(["VenueDecodeError", "VenueDecodeError", "VenueDecodeError", "VenueDecodeError"])
    expect(r.errors[0]!.reason).toContain("PRICE_FILTER.tickSize is not a decimal string")
    expect(r.errors[1]!.reason).toContain("LOT_SIZE missing")
    expect(r.errors[2]!.reason).toContain("minQty")
    expect(mapExchangeInfo({ code: -1000 }).errors[0]!.reason).toBe("no symbols list")
  })
})
