import { describe, expect, it } from "vitest"
import { dec } from "../../src/domain/decimal.js"
import type { OrderFilled, PositionChanged } from "../../src/domain/events/index.js"
import type { InstrumentId } from "../../src/domain/ids.js"
import { applyFill, flatPosition, inverseValue } from "../../src/domain/position.js"
import { fillOfEvent } from "../../src/domain/fill.js"
import { parseRecording } from "../../src/replay/market-input.js"
import { replayInstruments } from "../../src/replay/instruments.js"
import { runReplay } from "../../src/replay/replay.js"
import avellanedaStoikov from "../../src/strategies/examples/avellaneda-stoikov.js"
import type { AnyStrategyDefinition } from "../../src/strategies/ports.js"
import { syntheticRecording } from "./fixtures/synthetic-recording.js"
import { journalHash, readTopic, tempDir } from "./helpers.js"

// A recording that mixes a linear perpetual, an inverse perpetual and both kinds of dated future
// (the fixture generator's seeded synthetic market, as Kraken's public feed lines).
const SYMBOLS = ["PF_XBTUSD", "PI_XBTUSD", "FI_XBTUSD_261225", "FF_XBTUSD_261225"]
const input = parseRecording(syntheticRecording({ seed: 11, messages: 1_500, symbols: SYMBOLS }), "mixed-11")
const AS = avellanedaStoikov as unknown as AnyStrategyDefinition
const params = (instrument: string, orderQty: string, maxInventory: string) => ({
  instrument, gamma: 0.1, k: 1.5, horizonMs: 60_000, sigmaWindow: 20, orderQty, maxInventory, requoteTicks: 2
})
const replay = (instrument: string, orderQty: string, maxInventory: string) =>
  runReplay({ input, outDir: tempDir("mixed"), store: false, strategy: AS, params: params(instrument, orderQty, maxInventory), stopAtEnd: true })

describe("replay over a recording of linear, inverse and dated contracts", () => {
  it("maps each product to its kind, with the dated ones' expiry", () => {
    const { domain } = replayInstruments(input)
    expect(Object.fromEntries(domain.map((i) => [i.symbol, [i.kind, i.expiry]]))).toEqual({
      PF_XBTUSD: ["linearPerpetual", undefined],
      PI_XBTUSD: ["inversePerpetual", undefined],
      FI_XBTUSD_261225: ["inverseFuture", Date.UTC(2026, 11, 25, 16)],
      FF_XBTUSD_261225: ["linearFuture", Date.UTC(2026, 11, 25, 16)]
    })
  })

  it("trades the inverse perpetual and the inverse future: positions and PnL in XBT equal a fold of the fills; deterministic", async () => {
    for (const symbol of ["PI_XBTUSD", "FI_XBTUSD_261225"]) {
      const id = `kraken-futures:${symbol}` as InstrumentId
      const a = await replay(id, "100", "500")
      expect(a.fills).toBeGreaterThan(0)
      const orders = await readTopic(a.journalDir, "orders")
      const fills = orders.filter((e): e is OrderFilled => e._tag === "OrderFilled" && e.instrument === id)
      expect(fills.length).toBe(a.fills)
      // Fees are charged in XBT on the value qty × 1 USD / price.
      for (const f of fills) expect(f.feeCurrency).toBe("BTC")
      const folded = fills.reduce((p, f) => applyFill(p, fillOfEvent(f)), flatPosition(id, dec(1), true))
      const row = a.positions.find((p) => p.instrument === id)
      expect(row).toMatchObject({ quantity: folded.quantity.toString(), realizedPnl: folded.realizedPnl.toString(), pnlCurrency: "base" })
      const last = orders.filter((e): e is PositionChanged => e._tag === "PositionChanged" && e.instrument === id).at(-1)
      expect(last?.realizedPnl.toString()).toBe(folded.realizedPnl.toString())
      // Realized inverse PnL is small (XBT) and bounded by the traded value: never a USD-sized number.
      const traded = fills.reduce((s, f) => s.plus(inverseValue(f.qty, dec(1), f.price)), dec(0))
      expect(folded.realizedPnl.abs().lessThanOrEqualTo(traded)).toBe(true)
      const b = await replay(id, "100", "500")
      expect(journalHash(b.journalDir)).toBe(journalHash(a.journalDir))
    }
  })

  it("trades the linear future beside them, PnL in USD", async () => {
    const id = "kraken-futures:FF_XBTUSD_261225" as InstrumentId
    const r = await replay(id, "0.001", "0.005")
    expect(r.fills).toBeGreaterThan(0)
    expect(r.positions.find((p) => p.instrument === id)).toMatchObject({ pnlCurrency: "quote" })
  })
})
