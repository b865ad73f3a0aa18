import { Decimal, ZERO } from "../../../domain/decimal.js"
import type { CancelStatus, EditCommand, EditStatus, EngineEffect, OrderEvent, OrderRef, OrderView, Outcome, SendCommand, SendStatus } from "./engine-types.js"
import { defaultFaults, type Faults } from "./faults.js"
import type { SimInstrument } from "./instruments.js"
import { MatchingEngine } from "./matching-engine.js"
import { PrivateFeed, type FeedAccount } from "./private-feed.js"
import { PublicFeed, type TickerData } from "./public-feed.js"

/** Time and timers, injected so tests and replays can run the simulator on their own clock. */
export interface SimClock {
  readonly now: () => number
  readonly setTimeout: (fn: () => void, ms: number) => unknown
  readonly clearTimeout: (timer: unknown) => void
}

export const systemClock: SimClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (timer) => clearTimeout(timer as ReturnType<typeof setTimeout>)
}

export interface SimAccount extends FeedAccount {
  /** Starting USD collateral (for the minimal `balances` feed). */
  readonly collateralUsd: Decimal
}

interface Stats {
  last: Decimal | undefined
  lastTime: number | undefined
  lastSize: Decimal | undefined
  open: Decimal | undefined
  volume: Decimal
}

/**
 * The running venue: the matching engine plus accounts, faults, the dead man's switches and
 * the feeds. Every state change goes through here so that the effects reach the feeds in
 * the order the engine produced them.
 */
export class Exchange {
  readonly engine: MatchingEngine
  readonly publicFeed: PublicFeed
  readonly privateFeed: PrivateFeed
  faults: Faults
  private readonly accountsByKey = new Map<string, SimAccount>()
  private readonly accountsByName = new Map<string, SimAccount>()
  private readonly deadMan = new Map<string, { timer: unknown; triggerTime: number }>()
  private readonly stats = new Map<string, Stats>()

  constructor(
    instruments: ReadonlyArray<SimInstrument>,
    seed: number,
    accounts: ReadonlyArray<SimAccount>,
    readonly clock: SimClock,
    faults: Faults = defaultFaults()
  ) {
    this.engine = new MatchingEngine({ instruments, seed })
    this.faults = faults
    for (const a of accounts) {
      this.accountsByKey.set(a.apiKey, a)
      this.accountsByName.set(a.name, a)
    }
    this.publicFeed = new PublicFeed({
      now: () => this.now(),
      symbols: () => this.engine.instruments().map((i) => i.symbol),
      depth: (s) => this.engine.depth(s),
      ticker: (s) => this.ticker(s),
      isStale: (s) => this.faults.staleProducts.includes(s)
    })
    this.privateFeed = new PrivateFeed({
      now: () => this.now(),
      accountByKey: (k) => this.accountsByKey.get(k),
      openOrders: (a) => this.engine.openOrders(a),
      fills: (a) => this.engine.fills(a),
      positions: (a) => this.engine.positions(a),
      markPrice: (s) => this.markPrice(s),
      collateral: (a) => this.collateral(a),
      deliverFill: (deliver) => this.deliverFill(deliver)
    })
  }

  now(): number {
    return this.clock.now()
  }

  accountByKey(apiKey: string): SimAccount | undefined {
    return this.accountsByKey.get(apiKey)
  }

  accounts(): ReadonlyArray<SimAccount> {
    return [...this.accountsByName.values()]
  }

  send(cmd: SendCommand): Outcome<SendStatus> {
    return this.dispatch(this.engine.send(cmd, this.now()))
  }

  edit(cmd: EditCommand): Outcome<EditStatus> {
    return this.dispatch(this.engine.edit(cmd, this.now()))
  }

  cancel(ref: OrderRef): Outcome<CancelStatus> {
    return this.dispatch(this.engine.cancel(ref, this.now()))
  }

  cancelAll(account: string, symbol: string | undefined, reason?: string): { cancelled: OrderView[]; events: OrderEvent[] } {
    const out = this.engine.cancelAll(account, symbol, this.now(), reason)
    this.publish(out.effects)
    return out
  }

  /** Arms (or with 0 disarms) the account's dead man's switch; returns Kraken's status times. */
  cancelAllAfter(account: string, timeoutSeconds: number): { currentTime: number; triggerTime: number | undefined } {
    const existing = this.deadMan.get(account)
    if (existing !== undefined) this.clock.clearTimeout(existing.timer)
    this.deadMan.delete(account)
    const now = this.now()
    if (timeoutSeconds <= 0) return { currentTime: now, triggerTime: undefined }
    const triggerTime = now + timeoutSeconds * 1000
    const timer = this.clock.setTimeout(() => {
      this.deadMan.delete(account)
      this.cancelAll(account, undefined, "dead_man_switch")
    }, timeoutSeconds * 1000)
    this.deadMan.set(account, { timer, triggerTime })
    return { currentTime: now, triggerTime }
  }

  deadManTrigger(account: string): number | undefined {
    return this.deadMan.get(account)?.triggerTime
  }

  /** Hands the engine's effects to the feeds; used by the synthetic market too. */
  publish(effects: ReadonlyArray<EngineEffect>): void {
    for (const e of effects) {
      if (e.kind !== "trade") continue
      const s = this.statsOf(e.symbol)
      s.last = e.price
      s.lastTime = e.time
      s.lastSize = e.qty
      s.open ??= e.price
      s.volume = s.volume.plus(e.qty)
    }
    this.publicFeed.onEffects(effects)
    this.privateFeed.onEffects(effects)
  }

  markPrice(symbol: string): Decimal | undefined {
    const bid = this.engine.bestBid(symbol)
    const ask = this.engine.bestAsk(symbol)
    if (bid !== undefined && ask !== undefined) return bid.plus(ask).div(2)
    return this.engine.lastPrice(symbol) ?? this.engine.instrument(symbol)?.initialMid
  }

  ticker(symbol: string): TickerData {
    const s = this.statsOf(symbol)
    const depth = this.engine.depth(symbol)
    const mark = this.markPrice(symbol) ?? ZERO
    let openInterest = ZERO
    for (const account of this.engine.accounts()) {
      const p = this.engine.position(account, symbol)
      if (p !== undefined && p.balance.isPos()) openInterest = openInterest.plus(p.balance)
    }
    return {
      symbol, bid: depth.bids[0]?.[0], ask: depth.asks[0]?.[0], bidSize: depth.bids[0]?.[1], askSize: depth.asks[0]?.[1],
      last: s.last, lastTime: s.lastTime, lastSize: s.lastSize, markPrice: mark, open24h: s.open ?? mark, vol24h: s.volume,
      openInterest, suspended: this.engine.isSuspended(symbol)
    }
  }

  collateral(account: string): Decimal {
    const start = this.accountsByName.get(account)?.collateralUsd ?? ZERO
    return this.engine.positions(account).reduce((sum, p) => sum.plus(p.realizedPnl).minus(p.feesPaid), start)
  }

  stop(): void {
    for (const d of this.deadMan.values()) this.clock.clearTimeout(d.timer)
    this.deadMan.clear()
  }

  private dispatch<S extends string>(outcome: Outcome<S>): Outcome<S> {
    this.publish(outcome.effects)
    return outcome
  }

  private deliverFill(deliver: () => void): void {
    const copies = this.faults.duplicateFills ? 2 : 1
    for (let i = 0; i < copies; i++) {
      if (this.faults.fillDelayMs > 0) this.clock.setTimeout(deliver, this.faults.fillDelayMs)
      else deliver()
    }
  }

  private statsOf(symbol: string): Stats {
    const existing = this.stats.get(symbol)
    if (existing !== undefined) return existing
    const created: Stats = { last: undefined, lastTime: undefined, lastSize: undefined, open: undefined, volume: new Decimal(0) }
    this.stats.set(symbol, created)
    return created
  }
}
