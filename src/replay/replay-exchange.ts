import type { ClockService } from "../actors/clock.js"
import type { EngineEffect } from "../adapters/venues/simulator/engine-types.js"
import { Exchange, type SimClock } from "../adapters/venues/simulator/exchange.js"
import type { SimInstrument } from "../adapters/venues/simulator/instruments.js"
import type { Decimal } from "../domain/decimal.js"

/**
 * The simulator's exchange with its feeds replaced by one in-process router: the engine's
 * effects (book levels, trades, order updates, fills) go straight to the replay's market data
 * port, venue gateway and recorded liquidity, in the order the engine produced them — no
 * sockets, no JSON on the way out, nothing asynchronous inside the venue.
 */
export type EffectRouter = (effects: ReadonlyArray<EngineEffect>) => void

/** The simulator's clock port on a Troupe clock (the dead man's switch timer runs on simulated time). */
export const simClockOf = (clock: ClockService): SimClock => ({
  now: clock.now,
  setTimeout: (fn, ms) => clock.setTimer(ms, fn),
  clearTimeout: (timer) => (timer as () => void)()
})

/** A dated contract the venue settled (as the simulator: at its last trading time, at the window's mark). */
export type SettlementRouter = (symbol: string, price: Decimal, time: number) => void

export class ReplayExchange extends Exchange {
  private route: EffectRouter = () => undefined
  private settled: SettlementRouter = () => undefined

  constructor(instruments: ReadonlyArray<SimInstrument>, seed: number, clock: ClockService) {
    super(instruments, seed, [], simClockOf(clock))
  }

  /** Where effects go; set once the parts that consume them exist. */
  routeTo(route: EffectRouter): void {
    this.route = route
  }

  /** Where settlements go (the daemon reads them from the account log; a replay hands them over). */
  onSettlement(route: SettlementRouter): void {
    this.settled = route
  }

  override publish(effects: ReadonlyArray<EngineEffect>): void {
    if (effects.length > 0) this.route(effects)
  }

  override expire(symbol: string): void {
    const already = this.engine.isExpired(symbol)
    super.expire(symbol)
    const s = this.settlement(symbol)
    if (!already && s !== undefined) this.settled(symbol, s.price, s.time)
  }
}
