import { Either } from "effect"
import { describe, expect, it } from "vitest"
import { dec } from "../../../src/domain/decimal.js"
import type { InstrumentId } from "../../../src/domain/ids.js"
import { makeInstrument, notionalQuote } from "../../../src/domain/instrument.js"
import { makeRisk, submit } from "./fixtures.js"

// Inverse contracts: the notional is qty × contract value in USD, whatever the price.
const PI = "kraken-futures:PI_XBTUSD" as InstrumentId
const pi = Either.getOrThrow(
  makeInstrument({ id: PI, kind: "inversePerpetual", base: "XBT", quote: "USD", tickSize: "0.5", lotSize: "1", minQty: "1", maxQty: "1000000", contractSize: "1", tradable: true })
)

describe("risk on inverse contracts", () => {
  it("MAX_NOTIONAL compares qty × contract value in USD, at any price", () => {
    const { risk } = makeRisk()
    Either.getOrThrow(risk.registerInstrument(pi, { maxOrderQty: dec(1_000_000), maxOrderNotional: dec(20_000), priceBandBps: 100, maxPosition: dec(1_000_000) }))
    risk.onBook(PI, dec("49999.5"), dec("50000.5"))
    expect(risk.decide(submit({ instrument: PI, qty: "20000", price: "50000" }))._tag).toBe("Approved")
    for (const price of ["49600", "50400"]) {
      const d = risk.decide(submit({ instrument: PI, qty: "20001", price }))
      expect(d._tag === "Denied" ? [d.event.reason, d.event.limit?.toString(), d.event.actual?.toString()] : d._tag).toEqual(["MAX_NOTIONAL", "20000", "20001"])
    }
    expect(notionalQuote(pi, dec(-20001), dec(50400)).toString()).toBe("20001")
  })

  it("gross exposure counts an inverse position's USD value (contracts × contract value)", () => {
    const { risk } = makeRisk({ limits: { maxGrossExposure: dec(30_000), maxNetExposure: dec(30_000), maxOpenOrders: 50, dailyLossLimit: dec(1_000) } })
    Either.getOrThrow(risk.registerInstrument(pi, { maxOrderQty: dec(1_000_000), maxOrderNotional: dec(1_000_000), priceBandBps: 100, maxPosition: dec(1_000_000) }))
    risk.onBook(PI, dec("49999.5"), dec("50000.5"))
    expect(risk.decide(submit({ instrument: PI, qty: "30000", price: "50000" }))._tag).toBe("Approved")
    const d = risk.decide(submit({ instrument: PI, qty: "1", price: "50000" }))
    expect(d._tag === "Denied" ? d.event.reason : d._tag).toBe("MAX_GROSS_EXPOSURE")
  })
})

describe("risk on dated contracts", () => {
  it("a dated future is not tradable from its last trading time on (NOT_TRADABLE), and is before it", () => {
    const FI = "kraken-futures:FI_XBTUSD_231115" as InstrumentId
    const { risk, clock } = makeRisk()
    const expiry = clock.now() + 60_000
    const fi = Either.getOrThrow(
      makeInstrument({ id: FI, kind: "inverseFuture", base: "XBT", quote: "USD", tickSize: "0.5", lotSize: "1", minQty: "1", maxQty: "1000000", contractSize: "1", tradable: true, expiry })
    )
    Either.getOrThrow(risk.registerInstrument(fi, { maxOrderQty: dec(1_000), maxOrderNotional: dec(100_000), priceBandBps: 100, maxPosition: dec(1_000) }))
    risk.onBook(FI, dec("49999.5"), dec("50000.5"))
    expect(risk.decide(submit({ instrument: FI, qty: "10", price: "50000" }))._tag).toBe("Approved")
    clock.advance(60_000)
    const d = risk.decide(submit({ instrument: FI, qty: "10", price: "50000" }))
    expect(d._tag === "Denied" ? d.event.reason : d._tag).toBe("NOT_TRADABLE")
  })
  it("initial margin of an inverse order is contracts × contract value (USD) × rate, at any price", () => {
    const { risk } = makeRisk({ margin: { whenUnknown: "deny" } })
    Either.getOrThrow(risk.registerInstrument(pi, { maxOrderQty: dec(1_000_000), maxOrderNotional: dec(1_000_000), priceBandBps: 100, maxPosition: dec(1_000_000) }))
    risk.onBook(PI, dec("49999.5"), dec("50000.5"))
    // 20 000 contracts of 1 USD at the default rate 0.02: 400 USD, not 20 000 × 50 000 × 0.02.
    risk.onAccountMargin({ available: dec("399.5") })
    const d = risk.decide(submit({ instrument: PI, qty: "20000", price: "50000" }))
    expect(d._tag === "Denied" ? [d.event.reason, d.event.limit?.toString(), d.event.actual?.toString()] : d._tag).toEqual(["INSUFFICIENT_MARGIN", "399.5", "400"])
    risk.onAccountMargin({ available: dec("400") })
    expect(risk.decide(submit({ instrument: PI, qty: "20000", price: "49900" }))._tag).toBe("Approved")
  })
})
