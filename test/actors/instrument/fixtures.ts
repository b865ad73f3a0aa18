import { Effect, Layer } from "effect"
import type { Scope } from "effect"
import { WallClockLive } from "../../../src/actors/clock.js"
import type { TroupeClock } from "../../../src/actors/clock.js"
import { makeInstrumentActor } from "../../../src/actors/instrument/instrument.actor.js"
import type { InstrumentActor, InstrumentActorConfig } from "../../../src/actors/instrument/instrument.actor.js"
import { marketDataLayer, SyntheticKrakenMarket } from "../../../src/actors/ports/market-data.js"
import type { MarketData, MarketDataService, SyntheticInstrument } from "../../../src/actors/ports/market-data.js"
import { inMemorySnapshotsLayer, makeInMemorySnapshots } from "../../../src/actors/ports/snapshots.js"
import type { InMemorySnapshots, Snapshots } from "../../../src/actors/ports/snapshots.js"
import type { InstrumentId } from "../../../src/domain/ids.js"

export const instrument = (n: number): SyntheticInstrument => ({
  id: `kraken-futures:PF_T${n}USD` as InstrumentId,
  productId: `PF_T${n}USD`,
  priceDecimals: 1,
  qtyDecimals: 4
})

export const instrumentActor = (spec: SyntheticInstrument, extra: Partial<InstrumentActorConfig> = {}): InstrumentActor =>
  makeInstrumentActor({ instrumentId: spec.id, priceDecimals: spec.priceDecimals, qtyDecimals: spec.qtyDecimals, snapshotEveryMs: Infinity, ...extra })

export type Env = MarketData | Snapshots | TroupeClock | Scope.Scope

export interface World {
  readonly market: SyntheticKrakenMarket
  readonly snapshots: InMemorySnapshots
  readonly run: <A, E>(program: Effect.Effect<A, E, Env>) => Promise<A>
}

/** A synthetic venue, in-memory snapshots and the wall clock (the machines' timers are seconds long, tests are not). */
export const world = (specs: ReadonlyArray<SyntheticInstrument>, marketData?: (m: SyntheticKrakenMarket) => MarketDataService): World => {
  const market = new SyntheticKrakenMarket({ instruments: specs, seed: 7 })
  const snapshots = makeInMemorySnapshots()
  const layer = Layer.mergeAll(marketDataLayer(marketData?.(market) ?? market), inMemorySnapshotsLayer(snapshots), WallClockLive)
  return { market, snapshots, run: (program) => Effect.runPromise(Effect.scoped(program).pipe(Effect.provide(layer))) }
}

/** Polls on real time. */
export const until = (cond: () => boolean, what = "condition", timeoutMs = 3_000): Effect.Effect<void, Error> =>
  Effect.gen(function* () {
    const deadline = Date.now() + timeoutMs
    while (!cond()) {
      if (Date.now() > deadline) return yield* Effect.fail(new Error(`timed out waiting for ${what}`))
      yield* Effect.sleep("1 millis")
    }
  })

/** Lets queued microtasks and immediates run (mailbox drains, view deliveries, venue frames). */
export const settle: Effect.Effect<void> = Effect.promise(() => new Promise<void>((r) => setImmediate(r)))

export const bookText = (a: InstrumentActor) => {
  const s = a.book()?.toSnapshotText()
  return s === undefined ? undefined : { seq: s.seq, bids: s.bids, asks: s.asks }
}

export const sameAsVenue = (a: InstrumentActor, market: SyntheticKrakenMarket): boolean =>
  JSON.stringify(bookText(a)) === JSON.stringify(market.reference(a.instrumentId))
