import { Effect, Either } from "effect"
import type { Scope } from "effect"
import { makeSimulatedClock, simulatedClockLayer, type SimulatedClock, TroupeClock } from "../../../src/actors/clock.js"
import type { Decision, IntentGateway, StrategyMarketFeed } from "../../../src/actors/strategy/ports.js"
import { StrategyHost } from "../../../src/actors/strategy/strategy-host.js"
import { makeSupervisor } from "../../../src/actors/supervisor/index.js"
import type { SupervisorEvent } from "../../../src/actors/supervisor/index.js"
import { dec } from "../../../src/domain/decimal.js"
import type { OrderIntent } from "../../../src/domain/events/intents.js"
import type { OrderFilled } from "../../../src/domain/events/orders.js"
import type { StrategyRecord } from "../../../src/domain/events/strategy.js"
import type { AccountId, ClientOrderId, FillId, InstrumentId, VenueOrderId } from "../../../src/domain/ids.js"
import { makeInstrument, type Instrument } from "../../../src/domain/instrument.js"
import type { Side } from "../../../src/domain/order.js"
import { bookViewFromLevels, type BookView } from "../../../src/strategies/sdk.js"

export const instrumentOf = (id: string, tickSize = "0.5"): Instrument => {
  const made = makeInstrument({ id, kind: "linearPerpetual", base: "XBT", quote: "USD", tickSize, lotSize: "0.001", minQty: "0.001", maxQty: "100", contractSize: "1", tradable: true })
  if (Either.isLeft(made)) throw made.left
  return made.right
}

export const XBT = "simulator:PF_XBTUSD" as InstrumentId
export const ETH = "simulator:PF_ETHUSD" as InstrumentId
export const ACCOUNT = "acct-1" as AccountId

/** A book view with one level a side. */
export const book = (instrument: InstrumentId, bid: string | number, ask: string | number, ts = 0): BookView =>
  bookViewFromLevels({ instrumentId: instrument, ts, bestBid: { price: dec(String(bid)), qty: dec(1) }, bestAsk: { price: dec(String(ask)), qty: dec(1) } })

/** Records every intent; approves unless `deny` says otherwise. */
export class FakeGateway implements IntentGateway {
  readonly intents: OrderIntent[] = []
  deny: (intent: OrderIntent) => Decision | undefined = () => undefined
  readonly submit = (intent: OrderIntent): Promise<Decision> => {
    this.intents.push(intent)
    return Promise.resolve(this.deny(intent) ?? { _tag: "Approved" })
  }
  of<T extends OrderIntent["_tag"]>(tag: T): Array<Extract<OrderIntent, { _tag: T }>> {
    return this.intents.filter((i): i is Extract<OrderIntent, { _tag: T }> => i._tag === tag)
  }
  from(strategy: string): OrderIntent[] {
    return this.intents.filter((i) => i.strategy === strategy)
  }
}

/** Books pushed by the test to whoever subscribed to the instrument. */
export class FakeFeed implements StrategyMarketFeed {
  private readonly subs = new Map<InstrumentId, Set<(v: BookView) => void>>()
  readonly subscribeBook = (instrument: InstrumentId, _depth: number, deliver: (view: BookView) => void): (() => void) => {
    const set = this.subs.get(instrument) ?? new Set()
    this.subs.set(instrument, set)
    set.add(deliver)
    return () => set.delete(deliver)
  }
  push(view: BookView): void {
    for (const deliver of [...(this.subs.get(view.instrumentId) ?? [])]) deliver(view)
  }
  subscribers(instrument: InstrumentId): number {
    return this.subs.get(instrument)?.size ?? 0
  }
}

let fillSeq = 0
export const fillOf = (clientOrderId: ClientOrderId, instrument: InstrumentId, side: Side, qty: string, price: string, ts = 0): OrderFilled => ({
  _tag: "OrderFilled",
  id: `fill-event-${++fillSeq}`,
  ts,
  source: "test",
  account: ACCOUNT,
  instrument,
  clientOrderId,
  venueOrderId: `v-${clientOrderId}` as VenueOrderId,
  fillId: `f-${fillSeq}` as FillId,
  side,
  price: dec(price),
  qty: dec(qty),
  fee: dec(0),
  feeCurrency: "USD",
  liquidity: "maker"
})

export interface World {
  readonly clock: SimulatedClock
  readonly gateway: FakeGateway
  readonly feed: FakeFeed
  readonly records: StrategyRecord[]
  readonly logs: string[]
  readonly events: SupervisorEvent[]
  readonly host: StrategyHost
}

/** Runs `body` with a host under a fresh `strategies` supervisor, on simulated time. */
export const withHost = <A, E>(body: (w: World) => Effect.Effect<A, E, Scope.Scope | TroupeClock>, instruments: ReadonlyArray<Instrument> = [instrumentOf(XBT), instrumentOf(ETH, "0.05")]): Promise<A> => {
  const clock = makeSimulatedClock(1_000_000)
  const gateway = new FakeGateway()
  const feed = new FakeFeed()
  const records: StrategyRecord[] = []
  const logs: string[] = []
  const events: SupervisorEvent[] = []
  const byId = new Map(instruments.map((i) => [i.id, i]))
  return Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const supervisor = yield* makeSupervisor({ id: "strategies", strategy: "one_for_one", children: [], observer: (e) => events.push(e) })
        const host = new StrategyHost({
          supervisor,
          account: ACCOUNT,
          run: 1,
          clock,
          gateway,
          feed,
          records: (r) => records.push(r),
          instruments: (id) => byId.get(id),
          log: (level, strategy, message) => logs.push(`${level} ${strategy}: ${message}`)
        })
        return yield* body({ clock, gateway, feed, records, logs, events, host })
      })
    ).pipe(Effect.provide(simulatedClockLayer(clock)))
  )
}

/** Lets decisions resolve and their callbacks run. */
export const settle = (w: World): Effect.Effect<void> => Effect.promise(() => w.host.settled())

export const waitUntil = (cond: () => boolean, what = "condition"): Effect.Effect<void, Error> =>
  Effect.gen(function* () {
    for (let i = 0; i < 2_000; i++) {
      if (cond()) return
      yield* Effect.sleep("1 millis")
    }
    return yield* Effect.fail(new Error(`timed out waiting for ${what}`))
  })
