import { describe, it, expect } from "vitest"
import fc from "fast-check"
import { Either } from "effect"
import { dec, Decimal, ZERO } from "../../src/domain/decimal.js"
import type { Fill } from "../../src/domain/fill.js"
import type { ClientOrderId, FillId, InstrumentId, VenueOrderId } from "../../src/domain/ids.js"
import { makeInstrument } from "../../src/domain/instrument.js"
import type { Side } from "../../src/domain/order.js"
import { applyFill, flatPosition, positionFor, totalPnl, unrealizedPnl, type Position } from "../../src/domain/position.js"

const ID = "kraken-futures:PF_XBTUSD" as InstrumentId

let n = 0
const fill = (side: Side, quantity: string, price: string, fee = "0"): Fill => ({
  fillId: `f${++n}` as FillId,
  clientOrderId: "c1" as ClientOrderId,
  venueOrderId: "v1" as VenueOrderId,
  instrumentId: ID,
  side,
  price: dec(price),
  quantity: dec(quantity),
  fee: dec(fee),
  feeCurrency: "USD",
  liquidity: "taker",
  ts: 1_700_000_000_000
})

const applyAll = (fills: ReadonlyArray<Fill>, contractSize = "1"): Position => fills.reduce(applyFill, flatPosition(ID, dec(contractSize)))

const s = (d: Decimal) => d.toString()

describe("netting position", () => {
  it("averages the entry price when a position increases", () => {
    const p = applyAll([fill("buy", "1", "100"), fill("buy", "3", "120")])
    expect(s(p.quantity)).toBe("4")
    expect(s(p.avgEntryPrice)).toBe("115")
    expect(s(p.realizedPnl)).toBe("0")
    expect(s(unrealizedPnl(p, dec("125")))).toBe("40")
  })

  it("realizes PnL on the reduced part and keeps the entry price of the rest", () => {
    const p = applyAll([fill("buy", "4", "100"), fill("sell", "1", "110")])
    expect(s(p.quantity)).toBe("3")
    expect(s(p.avgEntryPrice)).toBe("100")
    expect(s(p.realizedPnl)).toBe("10")
    expect(s(unrealizedPnl(p, dec("90")))).toBe("-30")
  })

  it("closes to flat with the whole cost realized", () => {
    const p = applyAll([fill("sell", "2", "100", "0.1"), fill("buy", "2", "95", "0.1")])
    expect(p.quantity.isZero()).toBe(true)
    expect(s(p.avgEntryPrice)).toBe("0")
    expect(s(p.entryCost)).toBe("0")
    expect(s(p.realizedPnl)).toBe("9.8")
    expect(s(p.fees)).toBe("0.2")
    expect(s(unrealizedPnl(p, dec("1000")))).toBe("0")
  })

  it("flips through zero: closes the old side, opens the rest at the fill price", () => {
    const p = applyAll([fill("buy", "2", "100"), fill("sell", "5", "110")])
    expect(s(p.quantity)).toBe("-3")
    expect(s(p.avgEntryPrice)).toBe("110")
    expect(s(p.realizedPnl)).toBe("20")
    expect(s(unrealizedPnl(p, dec("100")))).toBe("30")
  })

  it("scales PnL by the contract size", () => {
    const p = applyAll([fill("buy", "10", "2000"), fill("sell", "4", "2100")], "0.01")
    expect(s(p.realizedPnl)).toBe("4")
    expect(s(unrealizedPnl(p, dec("1900")))).toBe("-6")
  })

  it("keeps the exact entry cost when the average is not a finite decimal", () => {
    const p = applyAll([fill("buy", "1", "100"), fill("buy", "2", "100.5")])
    expect(s(p.entryCost)).toBe("301")
    expect(s(unrealizedPnl(p, dec("100")))).toBe("-1")
    const q = applyFill(p, fill("sell", "3", "101"))
    expect(s(q.realizedPnl)).toBe("2")
  })

  it("counts a rebate (negative fee) as income", () => {
    const p = applyAll([fill("buy", "1", "100", "-0.02")])
    expect(s(p.realizedPnl)).toBe("0.02")
    expect(s(p.fees)).toBe("-0.02")
  })

  it("values inverse instruments in the base currency: qty × contract value × (1/entry − 1/exit)", () => {
    const inverse = Either.getOrThrow(
      makeInstrument({ id: "kraken-futures:PI_XBTUSD", kind: "inversePerpetual", base: "XBT", quote: "USD", tickSize: "0.5", lotSize: "1", minQty: "1", maxQty: "1000000", contractSize: "1", tradable: true })
    )
    const flat = Either.getOrThrow(positionFor(inverse))
    expect(flat.inverse).toBe(true)
    // 10 000 USD long at 50 000, closed at 40 000: 10 000 × (1/50 000 − 1/40 000) = −0.05 XBT.
    const long = applyFill(flat, fill("buy", "10000", "50000"))
    expect(s(long.entryCost)).toBe("0.2")
    expect(s(unrealizedPnl(long, dec("40000")))).toBe("-0.05")
    const closed = applyFill(long, fill("sell", "10000", "40000"))
    expect(s(closed.realizedPnl)).toBe("-0.05")
    expect(s(closed.quantity)).toBe("0")
    // Harmonic average entry: 1 at 100 and 1 at 200 is 2 / (1/100 + 1/200) = 133.33…
    const two = applyFill(applyFill(flat, fill("buy", "1", "100")), fill("buy", "1", "200"))
    expect(two.avgEntryPrice.toDecimalPlaces(6).toString()).toBe("133.333333")
  })

  it("realized + unrealized equals the mark-to-market of the cash flows, exactly, over any fills", () => {
    const fillArb = fc.tuple(
      fc.constantFrom<Side>("buy", "sell"),
      fc.integer({ min: 1, max: 50_000 }), // qty in lots of 0.001
      fc.integer({ min: 1, max: 2_000_000 }), // price in ticks of 0.5
      fc.integer({ min: -500, max: 5_000 }) // fee in 0.0001
    )
    fc.assert(
      fc.property(
        fc.array(fillArb, { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 1, max: 2_000_000 }),
        fc.constantFrom("1", "0.001", "0.5", "10"),
        (raw, markTicks, contractSize) => {
          const cs = dec(contractSize)
          const fills = raw.map(([side, lots, ticks, fee]) => fill(side, dec(lots).times("0.001").toString(), dec(ticks).times("0.5").toString(), dec(fee).times("0.0001").toString()))
          const mark = dec(markTicks).times("0.5")
          let position = flatPosition(ID, cs)
          let cash = ZERO
          let held = ZERO
          for (const f of fills) {
            const signed = f.side === "buy" ? f.quantity : f.quantity.negated()
            cash = cash.minus(signed.times(f.price).times(cs)).minus(f.fee)
            held = held.plus(signed)
            position = applyFill(position, f)
            // Invariants at every step, not only at the end.
            expect(position.quantity.equals(held)).toBe(true)
            expect(position.entryCost.isZero() || position.entryCost.isNegative() === position.quantity.isNegative()).toBe(true)
          }
          const markToMarket = cash.plus(held.times(mark).times(cs))
          expect(totalPnl(position, mark).toString()).toBe(markToMarket.toString())
          expect(position.fillCount).toBe(fills.length)
        }
      ),
      { numRuns: 1000 }
    )
  })
})
