import { describe, it, expect } from "vitest"
import { Either } from "effect"
import { dec } from "../../src/domain/decimal.js"
import { isOnLot, isOnTick, makeInstrument, notional, priceToTicks, roundToLot, roundToTick, ticksToPrice, type InstrumentSpec } from "../../src/domain/instrument.js"

const spec: InstrumentSpec = {
  id: "kraken-futures:PF_XBTUSD",
  kind: "linearPerpetual",
  base: "XBT",
  quote: "USD",
  tickSize: "0.5",
  lotSize: "0.0001",
  minQty: "0.0001",
  maxQty: "1000",
  contractSize: "1",
  tradable: true
}
const btc = Either.getOrThrow(makeInstrument(spec))

describe("instrument", () => {
  it("derives venue, symbol and the book's decimal scales from its spec", () => {
    expect(btc.venue).toBe("kraken-futures")
    expect(btc.symbol).toBe("PF_XBTUSD")
    expect(btc.priceDecimals).toBe(1)
    expect(btc.qtyDecimals).toBe(4)
    expect(btc.tickSize.equals(dec("0.5"))).toBe(true)
  })

  it("names the offending field when the spec is invalid", () => {
    const fieldOf = (patch: Partial<InstrumentSpec>) => {
      const r = makeInstrument({ ...spec, ...patch })
      return Either.isLeft(r) ? r.left.field : undefined
    }
    expect(fieldOf({ id: "PF_XBTUSD" })).toBe("id")
    expect(fieldOf({ tickSize: "0" })).toBe("tickSize")
    expect(fieldOf({ tickSize: "abc" })).toBe("tickSize")
    expect(fieldOf({ lotSize: "-1" })).toBe("lotSize")
    expect(fieldOf({ minQty: "0.00015" })).toBe("minQty")
    expect(fieldOf({ maxQty: "0.00001" })).toBe("maxQty")
    expect(fieldOf({ contractSize: "0" })).toBe("contractSize")
    expect(fieldOf({ quote: "" })).toBe("quote")
    expect(fieldOf({ tickSize: "0.0000000000000001" })).toBe("tickSize")
    expect(fieldOf({})).toBeUndefined()
    const err = makeInstrument({ ...spec, tickSize: "0" })
    expect(Either.isLeft(err) && err.left.message).toContain("tickSize")
  })

  it("checks prices against the tick and quantities against the lot exactly", () => {
    expect(isOnTick(btc, dec("34981.5"))).toBe(true)
    expect(isOnTick(btc, dec("34981.3"))).toBe(false)
    expect(isOnLot(btc, dec("0.0003"))).toBe(true)
    expect(isOnLot(btc, dec("0.00035"))).toBe(false)
  })

  it("rounds onto the grid in the asked direction", () => {
    expect(roundToTick(btc, dec("100.3"), "down").toString()).toBe("100")
    expect(roundToTick(btc, dec("100.1"), "up").toString()).toBe("100.5")
    expect(roundToTick(btc, dec("100.3")).toString()).toBe("100.5")
    expect(roundToTick(btc, dec("100.25")).toString()).toBe("100")
    expect(roundToLot(btc, dec("0.00039")).toString()).toBe("0.0003")
  })

  it("converts between prices and whole ticks", () => {
    expect(priceToTicks(btc, dec("34981.5"))).toBe(69963)
    expect(priceToTicks(btc, dec("34981.3"))).toBeUndefined()
    expect(ticksToPrice(btc, 69963).toString()).toBe("34981.5")
  })

  it("values notional in quote for linear and in base for inverse contracts", () => {
    expect(notional(btc, dec("-2"), dec("30000")).toString()).toBe("60000")
    const inverse = Either.getOrThrow(makeInstrument({ ...spec, id: "kraken-futures:PI_XBTUSD", kind: "inversePerpetual", lotSize: "1", minQty: "1", maxQty: "1000000" }))
    expect(notional(inverse, dec("30000"), dec("30000")).toString()).toBe("1")
  })
})
