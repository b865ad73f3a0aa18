import { describe, expect, it } from "vitest"
import { Decimal } from "../../src/domain/decimal.js"
import type { OrderFilled, PositionChanged } from "../../src/domain/events/index.js"
import avellanedaStoikov from "../../src/strategies/examples/avellaneda-stoikov.js"
import momentumBreakout from "../../src/strategies/examples/momentum-breakout.js"
import pairsZScore from "../../src/strategies/examples/pairs-zscore.js"
import type { AnyStrategyDefinition } from "../../src/strategies/ports.js"
import type { ReplayResult } from "../../src/replay/replay.js"
import { ETH, readTopic, replay, XBT } from "./helpers.js"

const def = (d: unknown): AnyStrategyDefinition => d as AnyStrategyDefinition

/** Positions rebuilt from the journal's fills agree with the portfolio's last PositionChanged and the strategy's own positions. */
const expectPositionsMatchFills = async (r: ReplayResult): Promise<ReadonlyMap<string, Decimal>> => {
  const orders = await readTopic(r.journalDir, "orders")
  const fills = orders.filter((e): e is OrderFilled => e._tag === "OrderFilled")
  const fromFills = new Map<string, Decimal>()
  for (const f of fills) fromFills.set(f.instrument, (fromFills.get(f.instrument) ?? new Decimal(0)).plus(f.side === "buy" ? f.qty : f.qty.negated()))
  const lastChange = new Map<string, PositionChanged>()
  for (const e of orders) if (e._tag === "PositionChanged") lastChange.set(e.instrument, e)
  expect(orders.filter((e) => e._tag === "PositionChanged")).toHaveLength(fills.length)
  for (const [instrument, qty] of fromFills) {
    expect(lastChange.get(instrument)?.qty.toString()).toBe(qty.toString())
    expect(r.positions.find((p) => p.instrument === instrument)?.quantity ?? "0").toBe(qty.toString())
  }
  return fromFills
}

describe("the example strategies in replay", () => {
  it("avellaneda-stoikov quotes post-only on both sides and its quotes are filled by the recorded flow", async () => {
    const r = await replay({
      strategy: def(avellanedaStoikov),
      params: { instrument: XBT, gamma: 0.1, k: 1.5, horizonMs: 60_000, sigmaWindow: 20, orderQty: "0.001", maxInventory: "0.005", requoteTicks: 2 }
    })
    expect(r.strategyState).toBe("stopped")
    expect(r.orders).toBeGreaterThan(0)
    expect(r.fills).toBeGreaterThan(0)
    const orders = await readTopic(r.journalDir, "orders")
    const fills = orders.filter((e): e is OrderFilled => e._tag === "OrderFilled")
    // A market maker's fills are passive, and on both sides.
    expect(fills.every((f) => f.liquidity === "maker")).toBe(true)
    expect(new Set(fills.map((f) => f.side))).toEqual(new Set(["buy", "sell"]))
    const pos = await expectPositionsMatchFills(r)
    expect(pos.get(XBT)?.abs().lte("0.005")).toBe(true)
  })

  it("momentum-breakout takes liquidity with IOCs on breakouts and stays within its max position", async () => {
    const r = await replay({
      strategy: def(momentumBreakout),
      params: { instrument: XBT, lookback: 20, orderQty: "0.001", maxPosition: "0.003", cooldownMs: 2_000 }
    })
    expect(r.fills).toBeGreaterThan(0)
    const orders = await readTopic(r.journalDir, "orders")
    const fills = orders.filter((e): e is OrderFilled => e._tag === "OrderFilled")
    expect(fills.every((f) => f.liquidity === "taker")).toBe(true)
    const pos = await expectPositionsMatchFills(r)
    expect(pos.get(XBT)?.abs().lte("0.003")).toBe(true)
  })

  it("pairs-zscore trades both legs of the pair", async () => {
    const r = await replay({
      strategy: def(pairsZScore),
      params: { legA: XBT, legB: ETH, window: 30, entryZ: 1.5, exitZ: 0.3, qtyA: "0.001", qtyB: "0.02" }
    })
    expect(r.fills).toBeGreaterThan(0)
    const pos = await expectPositionsMatchFills(r)
    const orders = await readTopic(r.journalDir, "orders")
    const filled = new Set(orders.filter((e) => e._tag === "OrderFilled").map((e) => (e as OrderFilled).instrument))
    expect(filled).toEqual(new Set([XBT, ETH]))
    expect(pos.size).toBe(2)
  })
})
