import { Decimal } from "../../../domain/decimal.js"
import type { CancelStatus, EditCommand, EditStatus, OrderRef, Outcome, SendCommand, SendStatus } from "./engine-types.js"
import type { SimInstrument } from "./instruments.js"
import type { MatchingEngine } from "./matching-engine.js"
import { seededRandom, type Random } from "./random.js"

/** How a market of other participants acts on the venue (the exchange, or an engine in tests). */
export interface MarketVenue {
  readonly engine: MatchingEngine
  readonly send: (cmd: SendCommand) => Outcome<SendStatus>
  readonly cancel: (ref: OrderRef) => Outcome<CancelStatus>
  readonly edit: (cmd: EditCommand) => Outcome<EditStatus>
}

/** Anything that moves the market one message at a time: synthetic or a recording. */
export interface MarketSource {
  /** One market message (order, cancel, trade); returns false when the source is exhausted. */
  readonly tick: () => boolean
}

export interface SyntheticMarketConfig {
  readonly seed: number
  /** Price levels each side that the makers keep populated. */
  readonly levels?: number
  /** Share of messages that are aggressive (crossing) orders. */
  readonly takerShare?: number
  /** Share of messages that move the mid by one tick. */
  readonly walkShare?: number
  /**
   * Pull of the mid towards a slowly wandering fair value, per tick of distance (0 = a pure random
   * walk, the default). With 0.05 a mid 5 ticks above fair value steps down with probability 0.75:
   * noise around a fair value, as a liquid market looks at the scale of seconds, so resting quotes
   * earn the spread more often than they are run over. The fair value itself takes a one-tick step
   * on `fairValueShare` of the walk messages (default 0.2), which gives trends at the scale of minutes.
   */
  readonly reversion?: number
  readonly fairValueShare?: number
  /**
   * Share of the takers that are informed (default 0): they trade towards the fair value (buy when
   * it is above the mid, sell when below) instead of on a coin flip. They are the adverse selection
   * a market maker pays for: the quote they fill is the one the mid is about to run over.
   */
  readonly informedShare?: number
  /**
   * Share of the fair value's moves that are jumps (news) rather than one tick (default 0): a jump
   * is 3 to `maxJumpTicks` ticks (default 15) at once, and the mid follows it within seconds.
   */
  readonly jumpShare?: number
  readonly maxJumpTicks?: number
}

export const MAKER_ACCOUNT = "sim-maker"
export const TAKER_ACCOUNT = "sim-taker"

/**
 * A seeded market of other participants: a random-walk mid, makers posting and cancelling
 * post-only orders on the levels around it, takers crossing with IOC orders. Our orders
 * rest in the same queues, so they get partial fills and wait their turn like anyone's.
 */
export class SyntheticMarket implements MarketSource {
  private readonly random: Random
  private readonly mids = new Map<string, Decimal>()
  private readonly levels: number
  private readonly takerShare: number
  private readonly walkShare: number
  private readonly reversion: number
  private readonly fairValueShare: number
  private readonly informedShare: number
  private readonly jumpShare: number
  private readonly maxJumpTicks: number
  private readonly fairValues = new Map<string, Decimal>()

  constructor(private readonly venue: MarketVenue, config: SyntheticMarketConfig) {
    this.random = seededRandom(config.seed)
    this.levels = config.levels ?? 10
    this.takerShare = config.takerShare ?? 0.1
    this.walkShare = config.walkShare ?? 0.1
    this.reversion = config.reversion ?? 0
    this.fairValueShare = config.fairValueShare ?? 0.2
    this.informedShare = config.informedShare ?? 0
    this.jumpShare = config.jumpShare ?? 0
    this.maxJumpTicks = Math.max(3, config.maxJumpTicks ?? 15)
    for (const i of venue.engine.instruments()) {
      this.mids.set(i.symbol, i.initialMid)
      this.fairValues.set(i.symbol, i.initialMid)
    }
  }

  mid(symbol: string): Decimal | undefined {
    return this.mids.get(symbol)
  }

  /** Fills every level on both sides once, so the book is deep from the first message. */
  populate(): void {
    for (const instrument of this.venue.engine.instruments()) {
      for (let k = 1; k <= this.levels; k++) {
        this.post(instrument, "buy", k)
        this.post(instrument, "sell", k)
      }
    }
  }

  tick(): boolean {
    const instruments = this.venue.engine.instruments()
    const instrument = instruments[this.random.int(0, instruments.length - 1)]
    if (instrument === undefined) return false
    const r = this.random.next()
    if (r < this.walkShare) this.walk(instrument)
    else if (r < this.walkShare + this.takerShare) this.take(instrument)
    else this.make(instrument)
    return true
  }

  private unit(instrument: SimInstrument): Decimal {
    return new Decimal(10).pow(-Math.min(instrument.contractValueTradePrecision, 2))
  }

  private walk(instrument: SimInstrument): void {
    const mid = this.mids.get(instrument.symbol) as Decimal
    const step = this.random.next() < this.downProbability(instrument, mid) ? instrument.tickSize.neg() : instrument.tickSize
    const next = mid.plus(step)
    if (next.lte(instrument.tickSize.times(this.levels + 1))) return
    this.mids.set(instrument.symbol, next)
    // Makers pull quotes the new mid has run over, as real ones would.
    for (const o of this.venue.engine.openOrders(MAKER_ACCOUNT, instrument.symbol)) {
      const price = o.limitPrice
      if (price === undefined) continue
      if ((o.side === "buy" && price.gte(next)) || (o.side === "sell" && price.lte(next))) this.venue.cancel({ account: MAKER_ACCOUNT, orderId: o.orderId })
    }
  }

  /** 0.5 on a pure random walk; with reversion, more the further the mid is above fair value. */
  private downProbability(instrument: SimInstrument, mid: Decimal): number {
    if (this.reversion === 0) return 0.5
    const fair = this.fairValues.get(instrument.symbol) as Decimal
    if (this.random.next() < this.fairValueShare) {
      const ticks = this.jumpShare > 0 && this.random.next() < this.jumpShare ? this.random.int(3, this.maxJumpTicks) : 1
      const step = instrument.tickSize.times(ticks)
      const next = fair.plus(this.random.next() < 0.5 ? step.neg() : step)
      if (next.gt(instrument.tickSize.times(this.levels + 1))) this.fairValues.set(instrument.symbol, next)
    }
    // Ticks are exact decimals; the distance in ticks is a small integer, so a float is fine here.
    const ticks = mid.minus(this.fairValues.get(instrument.symbol) as Decimal).div(instrument.tickSize).toNumber()
    return Math.min(0.95, Math.max(0.05, 0.5 + this.reversion * ticks))
  }

  private take(instrument: SimInstrument): void {
    const mid = this.mids.get(instrument.symbol) as Decimal
    const side = this.takerSide(instrument, mid)
    const reach = instrument.tickSize.times(this.random.int(1, Math.max(1, Math.floor(this.levels / 2))))
    const limitPrice = side === "buy" ? mid.plus(reach) : mid.minus(reach)
    const size = this.unit(instrument).times(this.random.int(1, 15))
    this.venue.send({ account: TAKER_ACCOUNT, symbol: instrument.symbol, orderType: "ioc", side, size, limitPrice })
  }

  /** A coin flip, or for an informed taker the side towards the fair value. */
  private takerSide(instrument: SimInstrument, mid: Decimal): "buy" | "sell" {
    if (this.informedShare > 0 && this.random.next() < this.informedShare) {
      const fair = this.fairValues.get(instrument.symbol) as Decimal
      if (fair.gt(mid)) return "buy"
      if (fair.lt(mid)) return "sell"
    }
    return this.random.next() < 0.5 ? "buy" : "sell"
  }

  private make(instrument: SimInstrument): void {
    const resting = this.venue.engine.openOrders(MAKER_ACCOUNT, instrument.symbol)
    if (resting.length >= this.levels * 3 || (resting.length > this.levels && this.random.next() < 0.3)) {
      const victim = resting[this.random.int(0, resting.length - 1)]
      if (victim !== undefined) this.venue.cancel({ account: MAKER_ACCOUNT, orderId: victim.orderId })
      return
    }
    this.post(instrument, this.random.next() < 0.5 ? "buy" : "sell", this.random.int(1, this.levels))
  }

  private post(instrument: SimInstrument, side: "buy" | "sell", ticksAway: number): void {
    const mid = this.mids.get(instrument.symbol) as Decimal
    const offset = instrument.tickSize.times(ticksAway)
    const limitPrice = side === "buy" ? mid.minus(offset) : mid.plus(offset)
    const size = this.unit(instrument).times(this.random.int(1, 20))
    this.venue.send({ account: MAKER_ACCOUNT, symbol: instrument.symbol, orderType: "post", side, size, limitPrice })
  }
}

/** Drives a source at `rate` messages per second on the injected clock; returns a stop function. */
export const driveMarket = (
  source: MarketSource,
  rate: number,
  clock: { setTimeout: (fn: () => void, ms: number) => unknown; clearTimeout: (t: unknown) => void }
): (() => void) => {
  if (rate <= 0) return () => undefined
  const intervalMs = Math.max(10, 1000 / rate)
  const perTimer = Math.max(1, Math.round((rate * intervalMs) / 1000))
  let timer: unknown
  let stopped = false
  const run = (): void => {
    if (stopped) return
    for (let i = 0; i < perTimer; i++) {
      if (!source.tick()) return
    }
    timer = clock.setTimeout(run, intervalMs)
  }
  timer = clock.setTimeout(run, intervalMs)
  return () => {
    stopped = true
    clock.clearTimeout(timer)
  }
}
