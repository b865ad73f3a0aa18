import { describe, expect, it } from "vitest"
import { dec } from "../../../src/domain/decimal.js"
import { defaultInstrument } from "../../../src/adapters/venues/simulator/instruments.js"
import { MatchingEngine } from "../../../src/adapters/venues/simulator/matching-engine.js"
import { RecordedMarket, REPLAY_MAKER_ACCOUNT } from "../../../src/adapters/venues/simulator/recorded-market.js"
import { SyntheticMarket, TAKER_ACCOUNT, type MarketVenue } from "../../../src/adapters/venues/simulator/synthetic-market.js"

const SYM = "PF_XBTUSD"
const venueOf = (engine: MatchingEngine, clock: { t: number }): MarketVenue => ({
  engine,
  send: (cmd) => engine.send(cmd, ++clock.t),
  cancel: (ref) => engine.cancel(ref, ++clock.t),
  edit: (cmd) => engine.edit(cmd, ++clock.t)
})

describe("markets of other participants", () => {
  it("the synthetic market is reproducible from its seed and partially fills a resting order", () => {
    const run = () => {
      const engine = new MatchingEngine({ instruments: [defaultInstrument(SYM)], seed: 1 })
      const clock = { t: 0 }
      const market = new SyntheticMarket(venueOf(engine, clock), { seed: 9, takerShare: 0.3 })
      market.populate()
      const bid = engine.bestBid(SYM) ?? dec(0)
      const ours = engine.send({ account: "me", symbol: SYM, orderType: "lmt", side: "buy", size: dec("0.5"), limitPrice: bid }, ++clock.t)
      for (let i = 0; i < 400; i++) market.tick()
      return { engine, orderId: ours.order?.orderId ?? "" }
    }
    const a = run()
    const b = run()
    expect(a.engine.depth(SYM)).toEqual(b.engine.depth(SYM))
    const fills = a.engine.fills("me")
    expect(fills.length).toBeGreaterThan(1)
    expect(fills.every((f) => f.liquidity === "maker" && f.qty.lt("0.5"))).toBe(true)
  })

  it("with reversion the mid stays near its fair value where a random walk of the same seed wanders off", () => {
    // Largest distance of the mid from where it started, in ticks, over 20,000 messages (half of them walks).
    const excursion = (reversion: number): number => {
      const engine = new MatchingEngine({ instruments: [defaultInstrument(SYM)], seed: 1 })
      const market = new SyntheticMarket(venueOf(engine, { t: 0 }), { seed: 5, walkShare: 0.5, takerShare: 0.1, reversion, fairValueShare: 0 })
      market.populate()
      const start = market.mid(SYM) ?? dec(0)
      let worst = 0
      for (let i = 0; i < 20_000; i++) {
        market.tick()
        worst = Math.max(worst, (market.mid(SYM) ?? start).minus(start).abs().div("0.5").toNumber())
      }
      return worst
    }
    const pulled = excursion(0.1)
    // A pull of 0.1 per tick holds the mid at ±5 ticks with probability 0.95 of stepping back.
    expect(pulled).toBeLessThanOrEqual(8)
    expect(excursion(0)).toBeGreaterThan(pulled * 3)
  })

  it("a recorded feed replays into the book and its trades fill the recorded liquidity", () => {
    const engine = new MatchingEngine({ instruments: [defaultInstrument(SYM)], seed: 1 })
    const lines = [
      { feed: "book_snapshot", product_id: SYM, seq: 1, bids: [{ price: 100, qty: 2 }, { price: 99.5, qty: 1 }], asks: [{ price: 101, qty: 3 }] },
      { feed: "book", product_id: SYM, side: "buy", seq: 2, price: 100, qty: 5 },
      { feed: "book", product_id: SYM, side: "sell", seq: 3, price: 101, qty: 1 },
      { feed: "book", product_id: SYM, side: "buy", seq: 4, price: 99.5, qty: 0 },
      { feed: "trade", product_id: SYM, side: "sell", qty: 1, price: 100 },
      "not json"
    ].map((l) => (typeof l === "string" ? l : JSON.stringify(l)))
    const replay = new RecordedMarket(venueOf(engine, { t: 0 }), lines.join("\n"))
    while (replay.tick());
    const depth = engine.depth(SYM)
    expect(depth.bids.map(([p, q]) => [p.toString(), q.toString()])).toEqual([["100", "4"]])
    expect(depth.asks.map(([p, q]) => [p.toString(), q.toString()])).toEqual([["101", "1"]])
    expect(engine.fills(REPLAY_MAKER_ACCOUNT)).toHaveLength(1)
    expect(replay.skipped).toBe(1)
  })

  it("informed takers trade towards where the mid goes next; uninformed ones do not", () => {
    // Σ side × (mid 300 messages later − mid at the order), per taker order, in ticks: the edge a
    // maker that filled them gave away. Same seed, only the informed share differs.
    const edge = (informedShare: number): number => {
      const engine = new MatchingEngine({ instruments: [defaultInstrument(SYM)], seed: 1 })
      const clock = { t: 0 }
      const taken: Array<{ side: number; mid: number; at: number }> = []
      let i = 0
      const ref: { market?: SyntheticMarket } = {}
      const venue: MarketVenue = {
        ...venueOf(engine, clock),
        send: (cmd) => {
          if (cmd.account === TAKER_ACCOUNT && ref.market !== undefined) taken.push({ side: cmd.side === "buy" ? 1 : -1, mid: ref.market.mid(SYM)?.toNumber() ?? 0, at: i })
          return engine.send(cmd, ++clock.t)
        }
      }
      const market = new SyntheticMarket(venue, { seed: 3, takerShare: 0.3, reversion: 0.05, fairValueShare: 0.3, informedShare, jumpShare: 0.1 })
      ref.market = market
      market.populate()
      const mids: number[] = []
      for (i = 0; i < 20_000; i++) {
        market.tick()
        mids.push(market.mid(SYM)?.toNumber() ?? 0)
      }
      return taken.filter((t) => t.at + 300 < mids.length).reduce((sum, t) => sum + (t.side * ((mids[t.at + 300] ?? 0) - t.mid)) / 0.5, 0) / taken.length
    }
    const informed = edge(0.8)
    const noise = edge(0)
    expect(informed).toBeGreaterThan(0.5)
    expect(Math.abs(noise)).toBeLessThan(informed / 3)
  })

  it("jumps of the fair value move the mid further in a second than one-tick steps do", () => {
    // Largest move of the mid over 60 messages (a second of the demo's flow), in ticks.
    const largest = (jumpShare: number): number => {
      const engine = new MatchingEngine({ instruments: [defaultInstrument(SYM)], seed: 1 })
      const market = new SyntheticMarket(venueOf(engine, { t: 0 }), { seed: 4, walkShare: 0.3, reversion: 0.05, fairValueShare: 0.3, jumpShare, maxJumpTicks: 15 })
      market.populate()
      const mids: number[] = []
      for (let i = 0; i < 20_000; i++) {
        market.tick()
        mids.push(market.mid(SYM)?.toNumber() ?? 0)
      }
      let worst = 0
      for (let i = 60; i < mids.length; i++) worst = Math.max(worst, Math.abs((mids[i] ?? 0) - (mids[i - 60] ?? 0)) / 0.5)
      return worst
    }
    expect(largest(0.3)).toBeGreaterThan(largest(0) + 3)
  })
})
