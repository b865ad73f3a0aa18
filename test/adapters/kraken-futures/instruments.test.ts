import { describe, expect, it } from "vitest"
import { lotFromPrecision, mapInstruments } from "../../../src/adapters/venues/kraken-futures/instruments.js"
import { parseExactJson } from "../../../src/adapters/venues/kraken-futures/json-exact.js"
import { Either } from "effect"

const reply = `{"result":"success","instruments":[
 {"symbol":"PF_XBTUSD","type":"flexible_futures","tickSize":0.5,"contractSize":1,"contractValueTradePrecision":4,"tradeable":true,"postOnly":false,"marginLevels":[{"contracts":0,"initialMargin":0.02,"maintenanceMargin":0.01}]},
 {"symbol":"PI_XBTUSD","type":"futures_inverse","tickSize":0.5,"contractSize":1,"contractValueTradePrecision":0,"tradeable":true},
 {"symbol":"FI_XBTUSD_230929","type":"futures_inverse","tickSize":0.5,"contractSize":1,"contractValueTradePrecision":0,"tradeable":false,"lastTradingTime":"2023-09-29T15:00:00.000Z"},
 {"symbol":"PF_SHIBUSD","type":"flexible_futures","tickSize":1e-8,"contractSize":1,"contractValueTradePrecision":-3,"tradeable":true},
 {"symbol":"in_xbtusd","type":"spot index","tradeable":false},
 {"symbol":"PF_BAD","type":"flexible_futures","tickSize":"x","tradeable":true}
]}`

describe("kraken-futures instruments", () => {
  it("lot size is ten to the minus contractValueTradePrecision, negative precision included", () => {
    expect(lotFromPrecision(4).toFixed()).toBe("0.0001")
    expect(lotFromPrecision(0).toFixed()).toBe("1")
    expect(lotFromPrecision(-2).toFixed()).toBe("100")
  })

  it("maps contracts to domain instruments with tick, lot, kind and tradeable, skipping indexes and reporting bad entries", () => {
    const json = Either.getOrThrow(parseExactJson(reply, "t")) as { instruments: ReadonlyArray<unknown> }
    const load = mapInstruments(json.instruments)
    const byId = Object.fromEntries(load.instruments.map((k) => [k.instrument.id, k]))
    expect(Object.keys(byId)).toEqual(["kraken-futures:PF_XBTUSD", "kraken-futures:PI_XBTUSD", "kraken-futures:FI_XBTUSD_230929", "kraken-futures:PF_SHIBUSD"])
    const pf = byId["kraken-futures:PF_XBTUSD"]!.instrument
    expect([pf.kind, pf.tickSize.toString(), pf.lotSize.toFixed(), pf.base, pf.quote, pf.tradable]).toEqual(["linearPerpetual", "0.5", "0.0001", "XBT", "USD", true])
    expect(byId["kraken-futures:PI_XBTUSD"]!.instrument.kind).toBe("inversePerpetual")
    const fi = byId["kraken-futures:FI_XBTUSD_230929"]!
    expect([fi.instrument.kind, fi.instrument.tradable, fi.lastTradingTime]).toEqual(["inverseFuture", false, "2023-09-29T15:00:00.000Z"])
    const shib = byId["kraken-futures:PF_SHIBUSD"]!.instrument
    expect([shib.tickSize.toFixed(), shib.lotSize.toFixed()]).toEqual(["0.00000001", "1000"])
    expect(load.skipped.map((s) => s.symbol)).toEqual(["in_xbtusd"])
    expect(load.errors).toHaveLength(1)
    expect(load.errors[0]?._tag).toBe("VenueDecodeError")
  })
})
