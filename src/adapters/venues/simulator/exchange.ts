import { randomUUID } from "node:crypto"
import { Decimal, ZERO } from "../../../domain/decimal.js"
import type { CancelStatus, EditCommand, EditStatus, EngineEffect, FillView, OrderEvent, OrderRef, OrderView, Outcome, PositionView, SendCommand, SendStatus } from "./engine-types.js"
import { defaultFaults, type Faults } from "./faults.js"
import { venuePrecision, VenueHistory } from "./history.js"
import { accountLogAsset, isInverseSim, settlementAsset, type SimInstrument } from "./instruments.js"
import { marginState, orderMargin, type MarginState } from "./margin.js"
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

/**
 * The simulator's models beyond matching (named in docs/architecture.md, "Simulator fidelity"),
 * each configurable.
 */
export interface SimModel {
  /** Market orders become `ioc` limited to mark × (1 ± collar), rounded to the tick toward the mark. Default 0.01. */
  readonly marketCollar: Decimal
  /** Reject orders of the configured accounts beyond available margin (`insufficientAvailableFunds`). Default on. */
  readonly marginChecks: boolean
  /** Liquidate a configured account whose equity falls below maintenance margin. Default on. */
  readonly liquidation: boolean
  /** Funding of perpetuals (PF_, PI_): every `intervalMs` (default 1 h; 0 = never) at `relativeRate` of the mark (default 0.00001). */
  readonly fundingIntervalMs: number
  readonly fundingRelativeRate: Decimal
  /**
   * Dated futures settle at the time-weighted average mark over the last `settlementWindowMs`
   * before their last trading time (default 15 min), rounded half-even to the tick.
   */
  readonly settlementWindowMs: number
}

export const defaultModel = (): SimModel => ({
  marketCollar: new Decimal("0.01"), marginChecks: true, liquidation: true, fundingIntervalMs: 3_600_000, fundingRelativeRate: new Decimal("0.00001"),
  settlementWindowMs: 900_000
})

const isPerpetual = (symbol: string): boolean => /^P[FI]_/i.test(symbol) || /USDT$/.test(symbol)

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
  readonly history = new VenueHistory(() => randomUUID())
  /** Per configured account: collateral (USD) and funding realized, and the position before each effect. */
  private readonly cash = new Map<string, Decimal>()
  private readonly fundingPaid = new Map<string, Decimal>()
  private readonly lastPositions = new Map<string, PositionView>()
  /** Orders the venue sent to liquidate an account: their fills are `liquidation` fills. */
  private readonly liquidationOrders = new Set<string>()
  private liquidating = false
  /** Configured accounts holding a position: the only ones the liquidation check looks at. */
  private readonly positioned = new Set<string>()
  private fundingTimer: unknown
  /** Further faces (the Binance face) that see every effect after the Kraken feeds. */
  private readonly listeners = new Set<(effects: ReadonlyArray<EngineEffect>) => void>()
  private readonly expiryTimers = new Map<string, unknown>()
  private readonly settlements = new Map<string, { price: Decimal; time: number }>()

  constructor(
    instruments: ReadonlyArray<SimInstrument>,
    seed: number,
    accounts: ReadonlyArray<SimAccount>,
    readonly clock: SimClock,
    faults: Faults = defaultFaults(),
    readonly model: SimModel = defaultModel()
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
      margin: (a) => this.margin(a),
      accountLog: (a) => this.history.accountLog(a),
      isLiquidation: (orderId) => this.liquidationOrders.has(orderId),
      deliverFill: (deliver) => this.deliverFill(deliver)
    })
    this.history.onLogEntry = (account, row) => this.privateFeed.onAccountLog(account, row)
    this.resync()
  }

  now(): number {
    return this.clock.now()
  }

  /** Re-reads collateral and positions from the engine (after a restore). */
  resync(): void {
    this.lastPositions.clear()
    for (const a of this.accountsByName.values()) {
      let cash = a.collateralUsd.plus(this.fundingPaid.get(a.name) ?? ZERO)
      for (const p of this.engine.positions(a.name)) {
        if (!p.balance.isZero()) this.positioned.add(a.name)
        if (!this.inverse(p.symbol)) cash = cash.plus(p.realizedPnl).minus(p.feesPaid)
        this.lastPositions.set(`${a.name}|${p.symbol}`, p)
      }
      this.cash.set(a.name, cash)
    }
  }

  /** Starts the funding clock (the simulator's funding model). */
  startFunding(): void {
    const ms = this.model.fundingIntervalMs
    if (ms <= 0 || this.fundingTimer !== undefined) return
    const loop = (): void => {
      this.fund()
      this.fundingTimer = this.clock.setTimeout(loop, ms)
    }
    this.fundingTimer = this.clock.setTimeout(loop, ms)
  }

  /** One funding payment on every perpetual: longs pay shorts `relativeRate × mark` per contract (negative rate: the reverse). */
  fund(): void {
    const now = this.now()
    const rate = this.model.fundingRelativeRate
    const paid = new Set<string>()
    for (const i of this.engine.instruments()) {
      if (!isPerpetual(i.symbol)) continue
      const mark = this.markPrice(i.symbol)
      if (mark === undefined) continue
      const absolute = venuePrecision(rate.times(mark))
      this.history.onFundingRate(i.symbol, now, absolute, rate)
      for (const a of this.accountsByName.values()) {
        const p = this.engine.position(a.name, i.symbol)
        if (p === undefined || p.balance.isZero()) continue
        const payment = venuePrecision(p.balance.times(i.contractSize).times(absolute).neg())
        const old = this.collateral(a.name)
        this.cash.set(a.name, old.plus(payment))
        this.fundingPaid.set(a.name, (this.fundingPaid.get(a.name) ?? ZERO).plus(payment))
        paid.add(a.name)
        this.history.onAccountLog(a.name, now, "funding rate change", {
          asset: "usd", contract: i.symbol.toLowerCase(), booking_uid: randomUUID(), collateral: null, execution: null, fee: 0, funding_rate: absolute,
          margin_account: "flex", mark_price: mark, new_average_entry_price: null, new_balance: old.plus(payment), old_average_entry_price: null,
          old_balance: old, realized_funding: payment, realized_pnl: null, trade_price: null, conversion_spread_percentage: null, liquidation_fee: null, position_uid: null
        })
      }
    }
    for (const a of paid) this.privateFeed.onBalanceChanged(a)
    this.checkLiquidations()
  }

  /** Funding realized by an account so far (negative: paid). */
  funding(account: string): Decimal {
    return this.fundingPaid.get(account) ?? ZERO
  }

  isLiquidation(orderId: string): boolean {
    return this.liquidationOrders.has(orderId)
  }

  margin(account: string): MarginState {
    return marginState({
      collateral: this.collateral(account), positions: this.engine.positions(account), orders: this.engine.openOrders(account),
      instrument: (s) => this.engine.instrument(s), mark: (s) => this.markPrice(s)
    })
  }

  /** The venue's market order: `ioc` limited by the collar around the mark (rounded toward the mark). */
  private collared(cmd: SendCommand): SendCommand {
    if (cmd.orderType !== "mkt") return cmd
    const instrument = this.engine.instrument(cmd.symbol)
    const mark = this.markPrice(cmd.symbol)
    if (instrument === undefined || mark === undefined) return cmd
    const tick = instrument.tickSize
    const buy = cmd.side === "buy"
    const raw = mark.times(buy ? this.model.marketCollar.plus(1) : new Decimal(1).minus(this.model.marketCollar))
    const steps = raw.div(tick)
    const limitPrice = (buy ? steps.floor() : steps.ceil()).times(tick)
    if (limitPrice.lte(0)) return cmd
    return { ...cmd, orderType: "ioc", limitPrice }
  }

  accountByKey(apiKey: string): SimAccount | undefined {
    return this.accountsByKey.get(apiKey)
  }

  accounts(): ReadonlyArray<SimAccount> {
    return [...this.accountsByName.values()]
  }

  send(cmd: SendCommand): Outcome<SendStatus> {
    const now = this.now()
    const order = this.collared(cmd)
    if (this.model.marginChecks && !this.liquidating && this.accountsByName.has(order.account) && order.reduceOnly !== true) {
      const instrument = this.engine.instrument(order.symbol)
      const price = order.limitPrice ?? this.markPrice(order.symbol)
      if (instrument !== undefined && price !== undefined && order.size !== undefined && order.size.gt(0)) {
        const need = orderMargin(order.size, price, instrument)
        if (this.margin(order.account).available.lt(need)) return { status: "insufficientAvailableFunds", order: undefined, events: [], effects: [] }
      }
    }
    const out = this.engine.send(order, now)
    for (const e of out.events) if (e.type === "REJECT" && this.accountsByName.has(e.order.account)) this.history.onReject(e.order.account, e.order, e.reason, now)
    return this.dispatch(out)
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
    this.record(effects)
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
    for (const listener of this.listeners) listener(effects)
    this.checkLiquidations()
  }

  /** Adds a face that sees every command's effects; returns its removal. */
  listen(listener: (effects: ReadonlyArray<EngineEffect>) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** History, account log and collateral from one command's effects (configured accounts only). */
  private record(effects: ReadonlyArray<EngineEffect>): void {
    const now = this.now()
    const booked = (a: string) => this.accountsByName.has(a)
    let maker: FillView | undefined
    let lastFill: FillView | undefined
    const symbols = new Set<string>()
    for (const e of effects) {
      switch (e.kind) {
        case "order":
          if (booked(e.account)) this.history.onOrder(e.account, e.order, e.isCancel, e.reason, now)
          break
        case "fill":
          lastFill = e.fill
          if (e.fill.liquidity === "maker") maker = e.fill
          else if (maker !== undefined) {
            const mark = this.markPrice(e.fill.symbol) ?? e.fill.price
            this.history.onExecution({ fill: maker, order: this.engine.order(maker.orderId) }, { fill: e.fill, order: this.engine.order(e.fill.orderId) }, mark, booked)
            maker = undefined
          }
          break
        case "position": {
          if (!booked(e.account) || lastFill === undefined) break
          const key = `${e.account}|${e.position.symbol}`
          if (!e.position.balance.isZero()) this.positioned.add(e.account)
          const before = this.lastPositions.get(key)
          this.lastPositions.set(key, e.position)
          const realized = e.position.realizedPnl.minus(before?.realizedPnl ?? ZERO)
          const fee = e.position.feesPaid.minus(before?.feesPaid ?? ZERO)
          const instrument = this.engine.instrument(e.position.symbol)
          const inverse = instrument !== undefined && isInverseSim(instrument)
          const asset = instrument === undefined ? "usd" : accountLogAsset(instrument)
          const old = inverse ? this.baseBalance(e.account, asset).minus(realized).plus(fee) : this.collateral(e.account)
          const next = old.plus(realized).minus(fee)
          if (!inverse) this.cash.set(e.account, next)
          const liquidation = this.liquidationOrders.has(lastFill.orderId)
          const oldSize = before?.balance ?? ZERO
          const newSize = e.position.balance
          const common = {
            contract: e.position.symbol.toLowerCase(), booking_uid: randomUUID(), collateral: null, execution: lastFill.fillId, funding_rate: null,
            margin_account: "flex", mark_price: this.markPrice(e.position.symbol) ?? lastFill.price, realized_funding: null, trade_price: lastFill.price,
            old_average_entry_price: venuePrecision(before?.entryPrice ?? ZERO), new_average_entry_price: venuePrecision(e.position.entryPrice),
            conversion_spread_percentage: null, liquidation_fee: null, position_uid: null
          }
          const info = liquidation ? "futures liquidation" : "futures trade"
          this.history.onAccountLog(e.account, now, info, { ...common, asset, fee, old_balance: old, new_balance: next, realized_pnl: realized })
          this.history.onAccountLog(e.account, now, info, { ...common, asset: e.position.symbol.toLowerCase(), fee: 0, old_balance: oldSize, new_balance: newSize, realized_pnl: null })
          const change = oldSize.isZero() ? "open" : newSize.isZero() ? "close" : oldSize.isNeg() !== newSize.isNeg() ? "reverse" : newSize.abs().gt(oldSize.abs()) ? "increase" : "decrease"
          this.history.onPositionUpdate(e.account, now, {
            tradeable: e.position.symbol, oldPosition: oldSize.toFixed(), oldAverageEntryPrice: venuePrecision(before?.entryPrice ?? ZERO).toFixed(),
            newPosition: newSize.toFixed(), newAverageEntryPrice: venuePrecision(e.position.entryPrice).toFixed(), fillTime: lastFill.time,
            fee: fee.toFixed(), feeCurrency: instrument === undefined ? "USD" : settlementAsset(instrument), realizedPnL: realized.toFixed(), positionChange: change, executionUid: lastFill.fillId,
            executionPrice: lastFill.price.toFixed(), executionSize: lastFill.qty.toFixed(), tradeType: liquidation ? "liquidation" : "userExecution",
            fundingRealizationTime: null, realizedFunding: null, updateReason: "trade"
          })
          break
        }
        case "book":
        case "trade":
          symbols.add(e.symbol)
          break
      }
    }
    for (const symbol of symbols) {
      const mark = this.markPrice(symbol)
      if (mark !== undefined) this.history.onMark(symbol, now, mark)
    }
  }

  /** The simulator's liquidation model: below maintenance, cancel the account's orders and close its positions at market. */
  private checkLiquidations(): void {
    if (!this.model.liquidation || this.liquidating) return
    this.liquidating = true
    try {
      for (const name of [...this.positioned]) {
        const a = { name }
        const positions = this.engine.positions(a.name).filter((p) => !p.balance.isZero())
        if (positions.length === 0) {
          this.positioned.delete(name)
          continue
        }
        // Maintenance needs positions only (open orders add initial margin, not maintenance).
        const m = marginState({ collateral: this.collateral(name), positions, orders: [], instrument: (s) => this.engine.instrument(s), mark: (s) => this.markPrice(s) })
        if (!m.equity.lt(m.maintenanceMargin)) continue
        this.cancelAll(a.name, undefined, "liquidation")
        for (const p of positions) {
          const instrument = this.engine.instrument(p.symbol)
          const mark = this.markPrice(p.symbol)
          if (instrument === undefined || mark === undefined) continue
          // Liquidation takes whatever the book offers: a wide collar (50%), not the user's 1%.
          const side = p.balance.isPos() ? "sell" : "buy"
          const steps = mark.times(side === "buy" ? "1.5" : "0.5").div(instrument.tickSize)
          const limitPrice = (side === "buy" ? steps.floor() : steps.ceil()).times(instrument.tickSize)
          const out = this.engine.send({ account: a.name, symbol: p.symbol, orderType: "ioc", side, size: p.balance.abs(), limitPrice, reduceOnly: true }, this.now())
          if (out.order !== undefined) this.liquidationOrders.add(out.order.orderId)
          this.publish(out.effects)
        }
      }
    } finally {
      this.liquidating = false
    }
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
    const known = this.cash.get(account)
    if (known !== undefined) return known
    const start = this.accountsByName.get(account)?.collateralUsd ?? ZERO
    return this.engine.positions(account).reduce((sum, p) => (this.inverse(p.symbol) ? sum : sum.plus(p.realizedPnl).minus(p.feesPaid)), start)
  }

  private inverse(symbol: string): boolean {
    const i = this.engine.instrument(symbol)
    return i !== undefined && isInverseSim(i)
  }

  /**
   * The account's balance in an inverse contract's base currency (`xbt`): realized PnL minus fees
   * of its inverse positions in that currency. The simulator keeps inverse PnL there (the venue's
   * single-collateral account), apart from the USD collateral.
   */
  baseBalance(account: string, asset: string): Decimal {
    let sum = ZERO
    for (const p of this.engine.positions(account)) {
      const i = this.engine.instrument(p.symbol)
      if (i !== undefined && isInverseSim(i) && accountLogAsset(i) === asset) sum = sum.plus(p.realizedPnl).minus(p.feesPaid)
    }
    return sum
  }

  /** Arms a timer per dated contract that expires it at its last trading time (at once if past). */
  startExpiries(): void {
    for (const i of this.engine.instruments()) {
      if (i.lastTradingTime === undefined || this.engine.isExpired(i.symbol) || this.expiryTimers.has(i.symbol)) continue
      const symbol = i.symbol
      this.expiryTimers.set(symbol, this.clock.setTimeout(() => {
        this.expiryTimers.delete(symbol)
        this.expire(symbol)
      }, Math.max(0, i.lastTradingTime - this.now())))
    }
  }

  /** The simulator's settlement price: the time-weighted mark over the window before the last trading time, on the tick. */
  settlementPrice(symbol: string): Decimal | undefined {
    const i = this.engine.instrument(symbol)
    if (i === undefined) return undefined
    const end = Math.min(i.lastTradingTime ?? this.now(), this.now())
    const twap = this.history.markTwap(symbol, end - this.model.settlementWindowMs, end) ?? this.markPrice(symbol)
    return twap?.dividedBy(i.tickSize).toDecimalPlaces(0, Decimal.ROUND_HALF_EVEN).times(i.tickSize)
  }

  /**
   * A dated contract's expiry: orders refused from now on and open ones cancelled; each position
   * closed at the settlement price, written to the account log (`settlement`, with
   * `trade_price` and `realized_pnl`) and the position history (`updateReason: "settlement"`),
   * and reported on `open_positions`.
   */
  expire(symbol: string): void {
    const i = this.engine.instrument(symbol)
    const price = this.settlementPrice(symbol)
    if (i === undefined || price === undefined || this.engine.isExpired(symbol)) return
    const now = this.now()
    const out = this.engine.expire(symbol, price, now)
    this.settlements.set(symbol, { price, time: now })
    for (const { account, before, after } of out.settled) {
      if (!this.accountsByName.has(account)) continue
      this.lastPositions.set(`${account}|${symbol}`, after)
      const realized = after.realizedPnl.minus(before.realizedPnl)
      const inverse = isInverseSim(i)
      const asset = accountLogAsset(i)
      const old = inverse ? this.baseBalance(account, asset).minus(realized) : this.collateral(account)
      const next = old.plus(realized)
      if (!inverse) this.cash.set(account, next)
      const common = {
        contract: symbol.toLowerCase(), collateral: null, execution: null, funding_rate: null, margin_account: inverse ? asset === "xbt" ? "fi_xbtusd" : `fi_${asset}usd` : "flex",
        mark_price: price, realized_funding: null, trade_price: price, old_average_entry_price: venuePrecision(before.entryPrice), new_average_entry_price: 0,
        conversion_spread_percentage: null, liquidation_fee: null, position_uid: null
      }
      this.history.onAccountLog(account, now, "settlement", { ...common, booking_uid: randomUUID(), asset, fee: 0, old_balance: venuePrecision(old), new_balance: venuePrecision(next), realized_pnl: venuePrecision(realized) })
      this.history.onAccountLog(account, now, "settlement", { ...common, booking_uid: randomUUID(), asset: symbol.toLowerCase(), fee: 0, old_balance: before.balance, new_balance: 0, realized_pnl: null })
      this.history.onPositionUpdate(account, now, {
        tradeable: symbol, oldPosition: before.balance.toFixed(), oldAverageEntryPrice: venuePrecision(before.entryPrice).toFixed(), newPosition: "0",
        newAverageEntryPrice: "0", fillTime: now, fee: "0", feeCurrency: settlementAsset(i), realizedPnL: venuePrecision(realized).toFixed(), positionChange: "close",
        executionUid: null, executionPrice: price.toFixed(), executionSize: before.balance.abs().toFixed(), tradeType: "settlement",
        fundingRealizationTime: null, realizedFunding: null, updateReason: "settlement"
      })
    }
    // the cancellations go where every command's effects go (feeds, history, other faces, the replay's router)
    this.publish(out.effects)
  }

  /** Settled dated contracts: price and time. */
  settlement(symbol: string): { readonly price: Decimal; readonly time: number } | undefined {
    return this.settlements.get(symbol)
  }

  stop(): void {
    if (this.fundingTimer !== undefined) this.clock.clearTimeout(this.fundingTimer)
    this.fundingTimer = undefined
    for (const t of this.expiryTimers.values()) this.clock.clearTimeout(t)
    this.expiryTimers.clear()
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
