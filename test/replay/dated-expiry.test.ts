import { describe, expect, it } from "vitest"
import { dec } from "../../src/domain/decimal.js"
import type { CanonicalEvent, OrderFilled, PositionChanged } from "../../src/domain/events/index.js"
import { fillOfEvent } from "../../src/domain/fill.js"
import type { InstrumentId } from "../../src/domain/ids.js"
import { applyFill, flatPosition, settlePosition } from "../../src/domain/position.js"
import { parseRecording } from "../../src/replay/market-input.js"
import { replayInstruments } from "../../src/replay/instruments.js"
import { runReplay } from "../../src/replay/replay.js"
import avellanedaStoikov from "../../src/strategies/examples/avellaneda-stoikov.js"
import type { AnyStrategyDefinition } from "../../src/strategies/ports.js"
import { syntheticRecording } from "./fixtures/synthetic-recording.js"
import { journalHash, readTopic, tempDir } from "./helpers.js"

// Issue 16: replay expires dated contracts as the simulator does. A recording of an inverse
// future whose instrument line puts its last trading time in the middle of the recording: the
// strategy trades it until then; at that time the open orders are cancelled, new ones refused,
// and the position is settled at the window's mark and booked once by the portfolio.
const FI = "FI_XBTUSD_261225"
const FI_ID = `kraken-futures:${FI}` as InstrumentId
const text = syntheticRecording({ seed: 11, messages: 1_500, symbols: [FI] })
const times = parseRecording(text, "probe").messages.map((m) => m.ts)
const expiry = times[Math.floor(times.length * 0.6)] as number
const input = parseRecording(`{"feed":"instrument","product_id":"${FI}","lastTradingTime":"${new Date(expiry).toISOString()}"}\n${text}`, "dated-11")
const AS = avellanedaStoikov as unknown as AnyStrategyDefinition
const replay = () =>
  runReplay({
    input, outDir: tempDir("dated"), store: false, strategy: AS, stopAtEnd: true,
    params: { instrument: FI_ID, gamma: 0.1, k: 1.5, horizonMs: 60_000, sigmaWindow: 20, orderQty: "100", maxInventory: "500", requoteTicks: 2 }
  })

describe("replay of a dated future through its last trading time", () => {
  it("takes the last trading time from the recording's instrument line", () => {
    expect(replayInstruments(input).domain.find((i) => i.id === FI_ID)).toMatchObject({ kind: "inverseFuture", expiry })
  })

  it("stops trading at expiry and books the settlement of the open position once", async () => {
    const r = await replay()
    const orders: CanonicalEvent[] = await readTopic(r.journalDir, "orders")
    const fills = orders.filter((e): e is OrderFilled => e._tag === "OrderFilled" && e.instrument === FI_ID)
    expect(fills.length).toBeGreaterThan(0)
    // Nothing trades at or after the last trading time.
    expect(fills.filter((f) => f.ts >= expiry)).toEqual([])
    expect(orders.filter((e) => e._tag === "OrderAccepted" && e.ts >= expiry)).toEqual([])
    const settlements = orders.filter((e): e is PositionChanged => e._tag === "PositionChanged" && e.settlementId !== undefined)
    expect(settlements).toHaveLength(1)
    const s = settlements[0] as PositionChanged
    expect([s.instrument, s.ts, s.qty.toFixed()]).toEqual([FI_ID, expiry, "0"])
    // The settled PnL is the fold of the fills closed at the settlement price (in XBT).
    const held = fills.reduce((p, f) => applyFill(p, fillOfEvent(f)), flatPosition(FI_ID, dec(1), true))
    expect(held.quantity.isZero(), "the position was open at expiry (else there is nothing to settle)").toBe(false)
    const settled = settlePosition(held, s.settlementPrice ?? dec(0))
    expect(s.realizedPnl.toFixed()).toBe(settled.realizedPnl.toFixed())
    expect(r.positions.find((p) => p.instrument === FI_ID)).toMatchObject({ quantity: "0", realizedPnl: settled.realizedPnl.toString() })
    // Orders after expiry were refused by the venue, not filled.
    const afterwards = orders.filter((e) => e._tag === "OrderSubmitted" && e.ts >= expiry).length
    const refused = orders.filter((e) => e._tag === "OrderRejected" && e.ts >= expiry).length
    expect(refused).toBe(afterwards)
    // Deterministic, as every replay.
    expect(journalHash((await replay()).journalDir)).toBe(journalHash(r.journalDir))
  })
})
