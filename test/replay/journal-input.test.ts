import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { openFileJournal } from "../../src/adapters/journal/file/file-journal.js"
import { encodeEvent } from "../../src/domain/codec.js"
import type { MarketEvent } from "../../src/domain/events/market.js"
import type { InstrumentId } from "../../src/domain/ids.js"
import { loadMarketInput } from "../../src/replay/market-input.js"
import momentumBreakout from "../../src/strategies/examples/momentum-breakout.js"
import type { AnyStrategyDefinition } from "../../src/strategies/ports.js"
import { runReplay } from "../../src/replay/replay.js"
import { journalHash, recording, replay, tempDir, XBT } from "./helpers.js"

const strategy = momentumBreakout as unknown as AnyStrategyDefinition
const params = { instrument: XBT, lookback: 20, orderQty: "0.001", maxPosition: "0.003", cooldownMs: 2_000 }

describe("replay from a file journal", () => {
  it("the md topic of a journal holding the recording's market data replays to the same output as the recording", async () => {
    const dir = tempDir("md-journal")
    // The recording as canonical market events, as the daemon journals them when recording.
    let n = 0
    const events: MarketEvent[] = recording().input.messages.map((m) => {
      const base = { id: `md-${++n}`, ts: m.ts, source: "test", instrument: `kraken-futures:${m.symbol}` as InstrumentId }
      if (m.kind === "trade") return { _tag: "Trade", ...base, price: m.price, qty: m.qty, aggressor: m.side }
      if (m.kind === "snapshot") return { _tag: "BookSnapshot", ...base, seq: n, bids: m.bids.map((l) => [l.price, l.qty] as const), asks: m.asks.map((l) => [l.price, l.qty] as const) }
      const level = [[m.price, m.qty] as const]
      return { _tag: "BookDelta", ...base, seq: n, bids: m.side === "buy" ? level : [], asks: m.side === "sell" ? level : [] }
    })
    await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const j = yield* Effect.acquireRelease(openFileJournal({ dir, fsync: { kind: "never" } }), (x) => x.close())
          yield* j.appendBatch("md", events.map((e) => ({ key: e.instrument, payload: encodeEvent(e) })), { durable: false })
        })
      )
    )
    const input = await Effect.runPromise(loadMarketInput(dir))
    expect(input.kind).toBe("journal")
    expect(input.messages).toHaveLength(recording().input.messages.length)
    const fromJournal = await runReplay({ input, strategy, params, outDir: tempDir("replay-journal"), store: false })
    const fromRecording = await replay({ strategy, params })
    expect(fromJournal.fills).toBeGreaterThan(0)
    expect(journalHash(fromJournal.journalDir)).toBe(journalHash(fromRecording.journalDir))
  })
})
