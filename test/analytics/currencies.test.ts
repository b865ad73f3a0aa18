import { describe, expect, it } from "vitest"
import fc from "fast-check"
import { loadDataset, openAnalyticsDb, type AnalyticsSource, type FillRow, type InstrumentRow } from "../../src/analytics/dataset.js"
import { describeByName } from "../../src/analytics/instruments.js"
import { computeReport, type Report, type SummaryRow } from "../../src/analytics/metrics.js"
import { renderText } from "../../src/analytics/report.js"
import { dec } from "../../src/domain/decimal.js"
import type { Fill } from "../../src/domain/fill.js"
import type { ClientOrderId, FillId, InstrumentId, VenueOrderId } from "../../src/domain/ids.js"
import { applyFill, flatPosition, unrealizedPnl, type Position } from "../../src/domain/position.js"

// Issue 16 (inverse PnL through analytics): the report keeps XBT (inverse, base-currency) and USD
// PnL apart — one total and one strategy row per settlement currency — and its inverse PnL is the
// portfolio's (domain `applyFill`) to the last 1e-18.

const D = 20_000 * 86_400_000 // a UTC midnight
const LINEAR = "kraken-futures:PF_XBTUSD"
const INVERSE = "kraken-futures:PI_XBTUSD"

const fill = (id: string, instrument: string, side: "buy" | "sell", qty: string, price: string, fee: string, ts: number): FillRow => ({
  fillId: id, clientOrderId: `mm-0-${id}`, strategy: "mm", instrument, side, price, qty, fee, liquidity: "taker", ts
})

const reportOf = async (source: AnalyticsSource): Promise<Report> => {
  const db = await openAnalyticsDb()
  try {
    await loadDataset(db.conn, source)
    return await computeReport(db)
  } finally {
    db.close()
  }
}

const row = (r: Report, scopeId: string): SummaryRow => {
  const found = r.summary.find((s) => s.scopeId === scopeId)
  if (found === undefined) throw new Error(`no summary row ${scopeId}: ${r.summary.map((s) => s.scopeId).join(", ")}`)
  return found
}

describe("the report per settlement currency", () => {
  // Linear: buy 1 XBT at 50 000, sell at 50 100: +100 USD, fees 0.5 + 0.5 USD.
  // Inverse: buy 1 000 USD contracts at 50 000, sell at 60 000: 1000/50000 − 1000/60000
  //   = 0.02 − 0.016666666666666667 (half-even at 1e-18) = 0.003333333333333333 XBT, fees 0.00001 XBT each.
  const fills = [
    fill("1", LINEAR, "buy", "1", "50000", "0.5", D + 1000),
    fill("2", LINEAR, "sell", "1", "50100", "0.5", D + 2000),
    fill("3", INVERSE, "buy", "1000", "50000", "0.00001", D + 3000),
    fill("4", INVERSE, "sell", "1000", "60000", "0.00001", D + 4000)
  ]

  it("has one total and one strategy row per currency, never a sum of XBT and USD", async () => {
    const r = await reportOf({ fills })
    const totals = r.summary.filter((s) => s.scope === "total")
    expect(totals.map((t) => [t.currency, t.realized, t.fees, t.netPnl, t.turnover])).toEqual([
      // turnover: Σ price × qty (USD); Σ qty × contractSize / price (XBT)
      ["USD", "100", "1", "99", "100100"],
      ["XBT", "0.003333333333333333", "0.00002", "0.003313333333333333", "0.036666666666666667"]
    ])
    expect(row(r, "strategy|mm||XBT").realized).toBe("0.003333333333333333")
    expect(row(r, "strategy|mm||USD").realized).toBe("100")
    expect(row(r, `instrument||${INVERSE}|XBT`).netPnl).toBe("0.003313333333333333")
    // the old bug: 100 + 0.00333… in one total
    expect(r.summary.some((s) => s.realized.startsWith("100.00333"))).toBe(false)
    expect(r.daily.filter((d) => d.scope === "total").map((d) => [d.currency, d.netPnl])).toEqual([
      ["USD", "99"],
      ["XBT", "0.003313333333333333"]
    ])
    expect(r.roundTrips.map((t) => [t.instrument, t.currency, t.pnl])).toEqual([
      [LINEAR, "USD", "99"],
      [INVERSE, "XBT", "0.003313333333333333"]
    ])
    expect(r.execution.filter((e) => e.scope === "total").map((e) => [e.currency, e.fills, e.fees])).toEqual([
      ["USD", 2, "1"],
      ["XBT", 2, "0.00002"]
    ])
    const lastEquity = (c: string) => r.equityCurve.filter((p) => p.scope === "total" && p.currency === c).at(-1)?.equity
    expect([lastEquity("USD"), lastEquity("XBT")]).toEqual(["99", "0.003313333333333333"])
    const text = renderText(r)
    expect(text).toMatch(/^TOTAL USD\s+99\s+100\s+1\s+99\s/m)
    expect(text).toMatch(/^TOTAL XBT\s+0\.00331333\s+0\.00333333\s+0\.00002\s/m)
  })

  it("takes the kind from the source's instruments before the name (an inverse contract of 10 USD)", async () => {
    const instruments: InstrumentRow[] = [{ instrument: "paper:BTCINV", inverse: true, contractSize: "10", currency: "BTC" }]
    const r = await reportOf({
      instruments,
      fills: [fill("1", "paper:BTCINV", "sell", "3", "40000", "0", D + 1), fill("2", "paper:BTCINV", "buy", "3", "30000", "0", D + 2)]
    })
    // short 30 USD from 40 000 to 30 000: 30/30000 − 30/40000 = 0.00025 BTC
    expect(r.summary.filter((s) => s.scope === "total").map((s) => [s.currency, s.realized])).toEqual([["BTC", "0.00025"]])
  })

  it("describes undescribed instruments by their names", () => {
    expect(describeByName("kraken-futures:PI_ETHUSD")).toEqual({ instrument: "kraken-futures:PI_ETHUSD", inverse: true, contractSize: "1", currency: "ETH" })
    expect(describeByName("kraken-futures:FI_XBTUSD_260327")).toMatchObject({ inverse: true, currency: "XBT" })
    expect(describeByName("kraken-futures:FF_XBTUSD_260327")).toMatchObject({ inverse: false, currency: "USD" })
    expect(describeByName("kraken-futures:pf_solusd")).toMatchObject({ inverse: false, currency: "USD" })
    expect(describeByName("binance-usdm:BTCUSDT")).toMatchObject({ inverse: false, currency: "USDT" })
    expect(describeByName("paper:X")).toMatchObject({ inverse: false, currency: "QUOTE" })
  })

  const fillArb = fc.tuple(
    fc.constantFrom<"buy" | "sell">("buy", "sell"),
    fc.integer({ min: 1, max: 2_000_000 }), // contracts
    fc.integer({ min: 1, max: 400_000 }), // price in ticks of 0.5
    fc.integer({ min: 0, max: 10_000 }) // fee in 1e-8 XBT
  )

  it("realized and unrealized inverse PnL equal the portfolio's (domain applyFill) exactly, over any fills", async () => {
    // 40 generated cases in one report (one DuckDB per case would take a second each): case i
    // trades its own inverse instrument paper:INV<i> with its own contract size and mark.
    const cases = fc.sample(fc.tuple(fc.array(fillArb, { minLength: 1, maxLength: 30 }), fc.integer({ min: 1, max: 400_000 }), fc.constantFrom("1", "10")), { numRuns: 40, seed: 16 })
    const rows: FillRow[] = []
    const instruments: InstrumentRow[] = []
    const marks: Array<{ instrument: string; ts: number; price: string }> = []
    const expected = cases.map(([arb, markTicks, cs], c) => {
      const id = `paper:INV${c}`
      let p: Position = flatPosition(id as InstrumentId, dec(cs), true)
      arb.forEach(([side, qty, ticks, fee], i) => {
        const price = dec(ticks).times("0.5")
        const f: Fill = {
          fillId: `f${i}` as FillId, clientOrderId: "c" as ClientOrderId, venueOrderId: "v" as VenueOrderId, instrumentId: id as InstrumentId,
          side, price, quantity: dec(qty), fee: dec(fee).times("1e-8"), feeCurrency: "XBT", liquidity: "taker", ts: D + i
        }
        p = applyFill(p, f)
        rows.push(fill(`${c}-${String(i).padStart(4, "0")}`, id, side, String(qty), price.toFixed(), f.fee.toFixed(), D + i))
      })
      const mark = dec(markTicks).times("0.5")
      instruments.push({ instrument: id, inverse: true, contractSize: cs, currency: "XBT" })
      marks.push({ instrument: id, ts: D + 1000, price: mark.toFixed() })
      // the portfolio's realizedPnl is net of fees; the report's realized is before them
      return { id, realizedNet: p.realizedPnl.toFixed(), unrealized: unrealizedPnl(p, mark).toFixed() }
    })
    const r = await reportOf({ fills: rows, marks, instruments })
    const got = expected.map(({ id }) => {
      const s = row(r, `instrument||${id}|XBT`)
      return { id, realizedNet: dec(s.realized).minus(s.fees).toFixed(), unrealized: dec(s.unrealized).toFixed() }
    })
    expect(got).toEqual(expected)
    expect(expected.some((e) => e.realizedNet.length > 12)).toBe(true) // cases where 1/price does not end
  })
})
