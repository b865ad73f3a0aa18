import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Either } from "effect"
import { makeSimulatedClock } from "../src/actors/clock.js"
import { parseBookSnapshotText } from "../src/actors/instrument/book-snapshot-text.js"
import { applyScannedDelta, BookDeltaScanner } from "../src/domain/book-delta-text.js"
import { OrderBook } from "../src/domain/book.js"
import { replayInstruments, REPLAY_VENUE } from "../src/replay/instruments.js"
import { parseRecording, type MarketInput } from "../src/replay/market-input.js"
import { ReplayMarketData } from "../src/replay/market-data.js"
import { RecordedLiquidity, REPLAY_MAKER_ACCOUNT } from "../src/replay/recorded-liquidity.js"
import { ReplayExchange } from "../src/replay/replay-exchange.js"
import { runReplay } from "../src/replay/replay.js"
import avellanedaStoikov from "../src/strategies/examples/avellaneda-stoikov.js"
import momentumBreakout from "../src/strategies/examples/momentum-breakout.js"
import type { AnyStrategyDefinition } from "../src/strategies/ports.js"
import type { InstrumentId } from "../src/domain/ids.js"
import { syntheticRecording } from "../test/replay/fixtures/synthetic-recording.js"
import { rateFigure, round, type Bench, type Figure } from "./harness.js"

/**
 * replay.full: recorded market events per wall second through the whole replay — recording →
 * matching engine (recorded liquidity, our orders in its queues) → book frames → instrument actor
 * (scanner, seq check, book, book-sync machine) → book views → strategy → risk → order manager and
 * order actors → in-process venue gateway → engine fills → portfolio, every event journaled (the
 * file journal's format, no fsync, written before the time stops; the PGlite projection is off:
 * it runs after the loop and is not timed).
 *
 * Baseline, same run, same recording: the bare engine and book — the recorded liquidity applied
 * to the matching engine, its book changes rendered as Kraken frames, scanned and applied to one
 * domain OrderBook per instrument — with no actor, no strategy, no drain between timestamps.
 *
 * The recording is the seeded synthetic market (two instruments, a burst of 1-3 lines every
 * 10 ms): each burst is its own timestamp, so the strategy sees (almost) every book change.
 */
const MESSAGES = Number(process.env["REPLAY_BENCH_MESSAGES"] ?? 20_000)
const XBT = "kraken-futures:PF_XBTUSD"

const bareRate = (input: MarketInput): number => {
  const clock = makeSimulatedClock(input.messages[0]?.ts ?? 0)
  const { sim, domain } = replayInstruments(input)
  const exchange = new ReplayExchange(sim, 1, clock)
  const md = new ReplayMarketData(exchange.engine, REPLAY_VENUE, clock.now)
  const liquidity = new RecordedLiquidity(exchange)
  const scanner = new BookDeltaScanner()
  let applied = 0
  for (const i of domain) {
    const book = Either.getOrThrow(OrderBook.make({ instrumentId: i.id, priceDecimals: i.priceDecimals, qtyDecimals: i.qtyDecimals }))
    md.subscribe(i.id as InstrumentId, {
      status: () => undefined,
      event: () => undefined,
      text: (frame) => {
        if (scanner.scan(frame)) {
          if (applyScannedDelta(book, scanner) === 0) applied++
        } else {
          const snap = parseBookSnapshotText(frame)
          if (Either.isRight(snap)) book.applySnapshotText(snap.right)
        }
      }
    })
  }
  exchange.routeTo((effects) => {
    for (const e of effects) {
      if (e.kind === "book") md.book(e.symbol, e.side, e.price, e.qty)
      else if ((e.kind === "fill" || e.kind === "order") && e.account === REPLAY_MAKER_ACCOUNT) liquidity.onEffect(e)
    }
  })
  const start = performance.now()
  for (const m of input.messages) {
    if (m.ts > clock.now()) clock.setTime(m.ts)
    liquidity.apply(m)
  }
  const ms = performance.now() - start
  if (applied === 0) throw new Error("bench baseline applied no book delta")
  return (input.messages.length / ms) * 1000
}

const fullRun = async (input: MarketInput, strategy: AnyStrategyDefinition, params: unknown): Promise<{ rate: number; fills: number; orders: number; records: number }> => {
  const out = mkdtempSync(join(tmpdir(), "troupe-replay-bench-"))
  try {
    const r = await runReplay({ input, strategy, params, outDir: out, store: false })
    return { rate: (r.messages / r.wallMs) * 1000, fills: r.fills, orders: r.orders, records: r.events["StrategyRecord"] ?? 0 }
  } finally {
    rmSync(out, { recursive: true, force: true })
  }
}

const run = async (): Promise<ReadonlyArray<Figure>> => {
  const input = parseRecording(syntheticRecording({ seed: 11, messages: MESSAGES }), "synthetic-11")
  const momentum = momentumBreakout as unknown as AnyStrategyDefinition
  const mm = avellanedaStoikov as unknown as AnyStrategyDefinition
  const momentumParams = { instrument: XBT, lookback: 20, orderQty: "0.001", maxPosition: "0.003", cooldownMs: 2_000 }
  const mmParams = { instrument: XBT, gamma: 0.1, k: 1.5, horizonMs: 60_000, sigmaWindow: 20, orderQty: "0.001", maxInventory: "0.005", requoteTicks: 2 }
  // Warm-up (JIT) of every path, then best of three, alternating (the machine is shared: the
  // best run is the one least disturbed, and the baseline is measured between the full runs).
  bareRate(input)
  await fullRun(input, momentum, momentumParams)
  await fullRun(input, mm, mmParams)
  let bare = 0
  let full = { rate: 0, fills: 0, orders: 0, records: 0 }
  let as = { rate: 0, fills: 0, orders: 0, records: 0 }
  for (let round = 0; round < 3; round++) {
    bare = Math.max(bare, bareRate(input))
    const f = await fullRun(input, momentum, momentumParams)
    if (f.rate > full.rate) full = f
    const a = await fullRun(input, mm, mmParams)
    if (a.rate > as.rate) as = a
  }
  const extra = { messages: input.messages.length, goal: 200_000 }
  return [
    rateFigure("replay.full", full.rate, "replay.bare_engine_and_book", bare, { ...extra, strategy: "momentum-breakout", fills: full.fills, orders: full.orders }),
    rateFigure("replay.full.avellaneda_stoikov", as.rate, "replay.bare_engine_and_book", bare, { ...extra, goal: 100_000, strategy: "avellaneda-stoikov", fills: as.fills, orders: as.orders, strategy_records: as.records }),
    { name: "replay.bare_engine_and_book", value: Math.round(bare), unit: "msg/s", us_per_msg: round(1e6 / bare, 2) }
  ]
}

export const benches: ReadonlyArray<Bench> = [{ name: "replay.full", run }]
