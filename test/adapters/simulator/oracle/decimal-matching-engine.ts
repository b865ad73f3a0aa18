// The Decimal matching engine as it was before the integer engine (commit a4d028c), kept
// unchanged as the oracle of test/adapters/simulator/integer-engine.oracle.test.ts: the
// integer engine must produce the same statuses, events, effects, book and orders on every flow.
// Do not "fix" it here without fixing the engine the same way (and saying so in the commit).
// Changed since: take-profit orders (`isTrigger`), added to both engines with the simulator's fidelity work.
import { Decimal, ZERO } from "../../../../src/domain/decimal.js"
import {
  isTrigger, type CancelStatus, type EditCommand, type EditStatus, type EngineEffect, type FillView, type Liquidity, type OrderEvent, type OrderRef, type OrderState,
  type OrderType, type OrderView, type Outcome, type PositionView, type SendCommand, type SendStatus
} from "../../../../src/adapters/venues/simulator/engine-types.js"
import { lotSize, type SimInstrument } from "../../../../src/adapters/venues/simulator/instruments.js"
import { BookSide, levelTotal, type Resting, type Side } from "./decimal-order-book.js"
import { seededRandom, type Random } from "../../../../src/adapters/venues/simulator/random.js"



type LiveOrder = { -readonly [K in keyof OrderView]: OrderView[K] }

interface PositionState {
  balance: Decimal
  entryPrice: Decimal
  realizedPnl: Decimal
  feesPaid: Decimal
  lastFillTime: number
}

/** Whole multiples of `step`; `dp` and `powerOfTen` decide most values without a division. */
interface Grid {
  readonly step: Decimal
  readonly dp: number
  /** 1, 0.1, 0.01, ...: every value with at most `dp` decimals is on the grid. */
  readonly powerOfTen: boolean
}

const gridOf = (step: Decimal): Grid => {
  const dp = step.decimalPlaces()
  return { step, dp, powerOfTen: step.eq(new Decimal(10).pow(-dp)) }
}

/** A multiple of the step has at most the step's decimals; only other steps (0.5) need the division. */
const onGrid = (value: Decimal, grid: Grid): boolean =>
  value.decimalPlaces() <= grid.dp && (grid.powerOfTen || value.mod(grid.step).isZero())

interface Book {
  readonly instrument: SimInstrument
  readonly lots: Grid
  readonly ticks: Grid
  readonly bids: BookSide
  readonly asks: BookSide
  /** Untriggered stop orders in arrival order. */
  readonly stops: LiveOrder[]
  lastPrice: Decimal | undefined
  suspended: boolean
}

/** Collects what one command caused; book level changes are coalesced to their final size. */
class Tx {
  readonly events: OrderEvent[] = []
  readonly effects: EngineEffect[] = []
  /** Levels in first-touch order; a command touches a handful, so a scan beats building keys. */
  readonly touched: Array<{ readonly symbol: string; readonly side: Side; readonly price: Decimal }> = []
  touch(symbol: string, side: Side, price: Decimal): void {
    for (const t of this.touched) if (t.side === side && t.symbol === symbol && (t.price === price || t.price.eq(price))) return
    this.touched.push({ symbol, side, price })
  }
}

const ORDER_TYPES: ReadonlySet<string> = new Set<OrderType>(["lmt", "post", "ioc", "mkt", "fok", "stp", "take_profit"])
const MAX_CLI_ORD_ID = 100
/**
 * Memory bounds of a long-running simulator (see docs/architecture.md, "Bounded memory and
 * disk"). A venue keeps history for a time, not forever: Kraken's `fills` endpoint pages back
 * 100 at a time and its client-order-id check covers open orders. Kept here: every open order,
 * the newest RETAINED_ORDERS finished ones (and their client order ids, so a resend of a recent
 * one is still `clientOrderIdAlreadyExist`), and the newest RETAINED_FILLS fills per account.
 */
const RETAINED_ORDERS = 5_000
const RETAINED_FILLS = 5_000

const view = (o: LiveOrder): OrderView => ({ ...o })
const remaining = (o: LiveOrder): Decimal => o.size.minus(o.filled)

export interface EngineSnapshot {
  readonly rngState: number
  /** Open and untriggered orders, each book level's queue in time priority. */
  readonly orders: ReadonlyArray<OrderView>
  readonly positions: ReadonlyArray<PositionView>
  readonly fills: ReadonlyArray<{ readonly account: string; readonly seq: number; readonly fills: ReadonlyArray<FillView> }>
}

export interface MatchingEngineConfig {
  readonly instruments: ReadonlyArray<SimInstrument>
  readonly seed: number
}

/**
 * Price-time-priority matching for a set of instruments, with accounts, fills, fees and
 * positions. Pure and deterministic: no clock (every command carries `now`), no I/O, ids from
 * a seeded PRNG. Each command returns Kraken's status, the reply's order events and the list
 * of effects (book levels, trades, order updates, fills, positions) for the feeds.
 */
export class DecimalMatchingEngine {
  private readonly books = new Map<string, Book>()
  private readonly orders = new Map<string, LiveOrder>()
  /** Orders that may still be open (pruned lazily by `openOrders`). */
  private readonly live = new Map<string, LiveOrder>()
  /** Client order ids are unique per account for the engine's lifetime (a resend is recognized). */
  private readonly cliOrdIds = new Map<string, Map<string, string>>()
  /** Per account, its newest fills (at most 2 × RETAINED_FILLS) and the sequence of its last fill. */
  private readonly fillLog = new Map<string, { fills: FillView[]; seq: number }>()
  /** Finished orders (booked accounts), oldest first: the newest RETAINED_ORDERS are kept for queries. */
  private readonly finished: string[] = []
  private finishedHead = 0
  private readonly positionBook = new Map<string, Map<string, PositionState>>()
  /** Accounts whose fills are matched and reported but not booked (see `skipBooking`). */
  private readonly unbooked = new Set<string>()
  private readonly unbookedFillSeq = new Map<string, number>()
  private random: Random

  constructor(config: MatchingEngineConfig) {
    this.random = seededRandom(config.seed)
    for (const instrument of config.instruments) {
      this.books.set(instrument.symbol, {
        instrument, lots: gridOf(lotSize(instrument)), ticks: gridOf(instrument.tickSize), bids: new BookSide("buy"), asks: new BookSide("sell"), stops: [], lastPrice: undefined, suspended: false
      })
    }
  }

  // ---- queries ------------------------------------------------------------------------------

  instruments(): ReadonlyArray<SimInstrument> {
    return [...this.books.values()].map((b) => b.instrument)
  }

  instrument(symbol: string): SimInstrument | undefined {
    return this.books.get(symbol)?.instrument
  }

  /** Aggregated L2 levels, best first. */
  depth(symbol: string): { bids: Array<[Decimal, Decimal]>; asks: Array<[Decimal, Decimal]> } {
    const book = this.books.get(symbol)
    if (book === undefined) return { bids: [], asks: [] }
    const side = (s: BookSide): Array<[Decimal, Decimal]> => s.levels.map((l) => [l.price, levelTotal(l)])
    return { bids: side(book.bids), asks: side(book.asks) }
  }

  /** Every level with its queue in time priority: ground truth for the admin API. */
  queues(symbol: string): { bids: Array<{ price: Decimal; queue: Resting[] }>; asks: Array<{ price: Decimal; queue: Resting[] }> } {
    const book = this.books.get(symbol)
    if (book === undefined) return { bids: [], asks: [] }
    const side = (s: BookSide) => s.levels.map((l) => ({ price: l.price, queue: l.queue.map((r) => ({ ...r })) }))
    return { bids: side(book.bids), asks: side(book.asks) }
  }

  bestBid(symbol: string): Decimal | undefined {
    return this.books.get(symbol)?.bids.best()?.price
  }

  bestAsk(symbol: string): Decimal | undefined {
    return this.books.get(symbol)?.asks.best()?.price
  }

  lastPrice(symbol: string): Decimal | undefined {
    return this.books.get(symbol)?.lastPrice
  }

  isSuspended(symbol: string): boolean {
    return this.books.get(symbol)?.suspended ?? false
  }

  setSuspended(symbol: string, suspended: boolean): void {
    const book = this.books.get(symbol)
    if (book !== undefined) book.suspended = suspended
  }

  order(orderId: string): OrderView | undefined {
    const o = this.orders.get(orderId)
    return o === undefined ? undefined : view(o)
  }

  /** Resting and untriggered orders of an account (all instruments, or one). */
  openOrders(account: string, symbol?: string): OrderView[] {
    const out: OrderView[] = []
    // Only orders that may still be open: finished ones are dropped from `live` as met, so the
    // scan does not grow with every order the exchange has ever held.
    for (const [id, o] of this.live) {
      if (o.state !== "open" && o.state !== "untriggered") {
        this.live.delete(id)
        continue
      }
      if (o.account === account && (symbol === undefined || o.symbol === symbol)) out.push(view(o))
    }
    return out
  }

  allOrders(account: string): OrderView[] {
    return [...this.orders.values()].filter((o) => o.account === account).map(view)
  }

  fills(account: string): ReadonlyArray<FillView> {
    const log = this.fillLog.get(account)
    if (log === undefined) return []
    if (log.fills.length > RETAINED_FILLS) log.fills.splice(0, log.fills.length - RETAINED_FILLS)
    return log.fills
  }

  positions(account: string): PositionView[] {
    const byAccount = this.positionBook.get(account)
    if (byAccount === undefined) return []
    return [...byAccount.entries()].map(([symbol, p]) => ({ account, symbol, ...p }))
  }

  position(account: string, symbol: string): PositionView | undefined {
    const p = this.positionBook.get(account)?.get(symbol)
    return p === undefined ? undefined : { account, symbol, ...p }
  }

  accounts(): string[] {
    const names = new Set<string>()
    for (const o of this.orders.values()) names.add(o.account)
    for (const a of this.positionBook.keys()) names.add(a)
    return [...names]
  }

  /**
   * From now on the account's fills are matched and reported (effects, events) but not booked:
   * no fill log, no position, no fee; its orders are forgotten once filled or cancelled (a later
   * cancel of one is `notFound`; client order ids stay taken). For an account that only stands
   * in for other participants — a replay's recorded liquidity — whose history nobody reads and
   * would only grow.
   */
  skipBooking(account: string): void {
    this.unbooked.add(account)
  }

  // ---- persistence ------------------------------------------------------------------------

  /**
   * What a client of these accounts can observe (open and untriggered orders in time priority,
   * positions, retained fills and their sequence) plus the id generator's state, for a state file.
   */
  snapshot(accounts: ReadonlyArray<string>): EngineSnapshot {
    const wanted = new Set(accounts)
    const orders: OrderView[] = []
    for (const book of this.books.values()) {
      for (const side of [book.bids, book.asks]) {
        for (const level of side.levels) {
          for (const r of level.queue) {
            const o = this.orders.get(r.orderId)
            if (o !== undefined && wanted.has(o.account)) orders.push(view(o))
          }
        }
      }
      for (const o of book.stops) if (wanted.has(o.account)) orders.push(view(o))
    }
    const positions = accounts.flatMap((a) => this.positions(a))
    const fills = accounts.flatMap((a) => {
      const log = this.fillLog.get(a)
      return log === undefined ? [] : [{ account: a, seq: log.seq, fills: [...this.fills(a)] }]
    })
    return { rngState: this.random.state(), orders, positions, fills }
  }

  /** Puts a snapshot's orders back in the book (at the back of their levels), its positions and fills; before any traffic. */
  restore(snapshot: EngineSnapshot): void {
    this.random = seededRandom(snapshot.rngState)
    for (const o of snapshot.orders) {
      const book = this.books.get(o.symbol)
      if (book === undefined || this.orders.has(o.orderId)) continue
      const order: LiveOrder = { ...o }
      if (order.state === "untriggered") {
        this.register(order)
        book.stops.push(order)
      } else if (order.state === "open" && order.limitPrice !== undefined && remaining(order).gt(0)) {
        this.register(order)
        ;(order.side === "buy" ? book.bids : book.asks).add(order.limitPrice, { orderId: order.orderId, account: order.account, remaining: remaining(order) })
      }
    }
    for (const p of snapshot.positions) {
      if (!this.books.has(p.symbol)) continue
      const byAccount = this.positionBook.get(p.account) ?? new Map<string, PositionState>()
      byAccount.set(p.symbol, { balance: p.balance, entryPrice: p.entryPrice, realizedPnl: p.realizedPnl, feesPaid: p.feesPaid, lastFillTime: p.lastFillTime })
      this.positionBook.set(p.account, byAccount)
    }
    for (const f of snapshot.fills) this.fillLog.set(f.account, { fills: [...f.fills], seq: f.seq })
  }

  // ---- commands -----------------------------------------------------------------------------

  send(cmd: SendCommand, now: number): Outcome<SendStatus> {
    const tx = new Tx()
    const reject = (status: SendStatus): Outcome<SendStatus> => ({ status, order: undefined, events: [], effects: [] })
    const book = this.books.get(cmd.symbol)
    if (book === undefined) return reject("marketInactive")
    if (book.suspended) return reject("marketSuspended")
    if (!ORDER_TYPES.has(cmd.orderType)) return reject("invalidOrderType")
    if (cmd.side !== "buy" && cmd.side !== "sell") return reject("invalidSide")
    const type = cmd.orderType as OrderType
    const side: Side = cmd.side
    if (cmd.size === undefined || cmd.size.lte(0) || !onGrid(cmd.size, book.lots)) return reject("invalidSize")
    const priceOk = (p: Decimal | undefined): boolean => p !== undefined && p.gt(0) && onGrid(p, book.ticks)
    const needsLimit = type === "lmt" || type === "post" || type === "ioc" || type === "fok"
    if (needsLimit && !priceOk(cmd.limitPrice)) return reject("invalidPrice")
    if (isTrigger(type) && (!priceOk(cmd.stopPrice) || (cmd.limitPrice !== undefined && !priceOk(cmd.limitPrice)))) return reject("invalidPrice")
    if (cmd.cliOrdId !== undefined) {
      if (cmd.cliOrdId.length > MAX_CLI_ORD_ID) return reject("clientOrderIdTooLong")
      if (this.cliOrdIds.get(cmd.account)?.has(cmd.cliOrdId) === true) return reject("clientOrderIdAlreadyExist")
    }
    let size = cmd.size
    if (cmd.reduceOnly === true) {
      const reducible = this.reducible(cmd.account, cmd.symbol, side)
      if (reducible.isZero()) return reject("wouldNotReducePosition")
      size = Decimal.min(size, reducible)
    }
    const order: LiveOrder = {
      orderId: this.random.uuid(), account: cmd.account, cliOrdId: cmd.cliOrdId, symbol: cmd.symbol, side, type, size,
      filled: ZERO, limitPrice: type === "mkt" ? undefined : cmd.limitPrice, stopPrice: isTrigger(type) ? cmd.stopPrice : undefined,
      reduceOnly: cmd.reduceOnly === true, receivedTime: now, lastUpdateTime: now,
      state: isTrigger(type) ? "untriggered" : "open", triggered: false
    }
    const refuse = (status: SendStatus, reason: string): Outcome<SendStatus> =>
      ({ status, order: view(order), events: [{ type: "REJECT", order: view(order), reason }], effects: [] })
    if (!isTrigger(type)) {
      const probe = this.probe(book, order)
      if (type === "post" && probe.crosses) return refuse("postWouldExecute", "POST_WOULD_EXECUTE")
      if (probe.selfTrade) return refuse("selfFill", "SELF_FILL")
      if ((type === "ioc" || type === "mkt") && probe.available.isZero()) return refuse("iocWouldNotExecute", "IOC_WOULD_NOT_EXECUTE")
      if (type === "fok" && probe.available.lt(size)) return refuse("iocWouldNotExecute", "FOK_WOULD_NOT_EXECUTE")
    }
    this.register(order)
    tx.events.push({ type: "PLACE", order: view(order) })
    if (isTrigger(type)) {
      book.stops.push(order)
      tx.effects.push({ kind: "order", account: order.account, order: view(order), isCancel: false, reason: "new_placed_order_by_user" })
    } else {
      this.work(book, order, now, tx, "new_placed_order_by_user")
    }
    this.triggerStops(book, now, tx)
    return this.finish("placed" as SendStatus, order, tx)
  }

  edit(cmd: EditCommand, now: number): Outcome<EditStatus> {
    const tx = new Tx()
    const reject = (status: EditStatus): Outcome<EditStatus> => ({ status, order: undefined, events: [], effects: [] })
    const order = this.find(cmd)
    if (order === undefined || (order.state !== "open" && order.state !== "untriggered")) return reject("orderForEditNotFound")
    const book = this.books.get(order.symbol) as Book
    if (book.suspended) return reject("marketSuspended")
    const size = cmd.size ?? order.size
    if (size.lte(order.filled) || !onGrid(size, book.lots)) return reject("invalidSize")
    const priceOk = (p: Decimal | undefined): boolean => p === undefined || (p.gt(0) && onGrid(p, book.ticks))
    if (!priceOk(cmd.limitPrice) || !priceOk(cmd.stopPrice)) return reject("invalidPrice")
    if (cmd.stopPrice !== undefined && !isTrigger(order.type)) return reject("invalidPrice")
    if (order.reduceOnly && size.minus(order.filled).gt(this.reducible(order.account, order.symbol, order.side))) return reject("wouldNotReducePosition")
    const limitPrice = cmd.limitPrice ?? order.limitPrice
    const old = view(order)
    if (order.state === "untriggered") {
      Object.assign(order, { size, limitPrice, stopPrice: cmd.stopPrice ?? order.stopPrice, lastUpdateTime: now })
      tx.events.push({ type: "EDIT", old, new: view(order) })
      tx.effects.push({ kind: "order", account: order.account, order: view(order), isCancel: false, reason: "edited_by_user" })
      this.triggerStops(book, now, tx)
      return this.finish("edited" as EditStatus, order, tx)
    }
    const price = order.limitPrice as Decimal // resting orders always carry a limit price
    const newPrice = limitPrice as Decimal
    const probe = this.probe(book, { ...order, size, limitPrice: newPrice, filled: order.filled })
    if (order.type === "post" && probe.crosses) return reject("postWouldExecute")
    if (probe.selfTrade) return reject("selfFill")
    const keepsPriority = newPrice.eq(price) && size.lte(order.size)
    const sideBook = order.side === "buy" ? book.bids : book.asks
    if (keepsPriority) {
      const entry = sideBook.level(price)?.queue.find((r) => r.orderId === order.orderId)
      order.size = size
      order.lastUpdateTime = now
      if (entry !== undefined) entry.remaining = remaining(order)
      tx.touch(order.symbol, order.side, price)
      tx.events.push({ type: "EDIT", old, new: view(order) })
      tx.effects.push({ kind: "order", account: order.account, order: view(order), isCancel: false, reason: "edited_by_user" })
    } else {
      sideBook.remove(price, order.orderId)
      tx.touch(order.symbol, order.side, price)
      order.size = size
      order.limitPrice = newPrice
      order.lastUpdateTime = now
      tx.events.push({ type: "EDIT", old, new: view(order) })
      this.work(book, order, now, tx, "edited_by_user")
    }
    this.triggerStops(book, now, tx)
    return this.finish("edited" as EditStatus, order, tx)
  }

  cancel(ref: OrderRef, now: number, reason = "cancelled_by_user"): Outcome<CancelStatus> {
    const order = this.find(ref)
    if (order === undefined || order.state === "cancelled") return { status: "notFound", order: undefined, events: [], effects: [] }
    if (order.state === "filled") return { status: "filled", order: view(order), events: [], effects: [] }
    const tx = new Tx()
    this.close(order, "cancelled", now, tx, reason)
    tx.events.push({ type: "CANCEL", order: view(order) })
    return this.finish("cancelled" as CancelStatus, order, tx)
  }

  /** Cancels every open order of the account (optionally one instrument); the reason is Kraken's. */
  cancelAll(account: string, symbol: string | undefined, now: number, reason = "cancelled_by_user"): { cancelled: OrderView[]; events: OrderEvent[]; effects: EngineEffect[] } {
    const tx = new Tx()
    const cancelled: OrderView[] = []
    for (const o of this.orders.values()) {
      if (o.account !== account || (o.state !== "open" && o.state !== "untriggered")) continue
      if (symbol !== undefined && o.symbol !== symbol) continue
      this.close(o, "cancelled", now, tx, reason)
      cancelled.push(view(o))
      tx.events.push({ type: "CANCEL", order: view(o) })
    }
    const done = this.finish("cancelled", undefined, tx)
    return { cancelled, events: [...done.events], effects: [...done.effects] }
  }

  // ---- internals ----------------------------------------------------------------------------

  private find(ref: OrderRef): LiveOrder | undefined {
    const id = ref.orderId ?? (ref.cliOrdId === undefined ? undefined : this.cliOrdIds.get(ref.account)?.get(ref.cliOrdId))
    const order = id === undefined ? undefined : this.orders.get(id)
    return order !== undefined && order.account === ref.account ? order : undefined
  }

  private register(order: LiveOrder): void {
    this.orders.set(order.orderId, order)
    this.live.set(order.orderId, order)
    if (order.cliOrdId !== undefined) {
      const byAccount = this.cliOrdIds.get(order.account) ?? new Map<string, string>()
      byAccount.set(order.cliOrdId, order.orderId)
      this.cliOrdIds.set(order.account, byAccount)
    }
  }

  private finish<S extends string>(status: S, order: LiveOrder | undefined, tx: Tx): Outcome<S> {
    for (const t of tx.touched) {
      const book = this.books.get(t.symbol) as Book
      const qty = (t.side === "buy" ? book.bids : book.asks).totalAt(t.price)
      tx.effects.push({ kind: "book", symbol: t.symbol, side: t.side, price: t.price, qty })
    }
    return { status, order: order === undefined ? undefined : view(order), events: tx.events, effects: tx.effects }
  }

  private crossesLimit(side: Side, limit: Decimal | undefined, levelPrice: Decimal): boolean {
    if (limit === undefined) return true
    return side === "buy" ? levelPrice.lte(limit) : levelPrice.gte(limit)
  }

  /** What matching would find, without changing anything: for post, ioc, fok and self-fill checks. */
  private probe(book: Book, order: LiveOrder): { crosses: boolean; available: Decimal; selfTrade: boolean } {
    const makers = order.side === "buy" ? book.asks : book.bids
    const want = remaining(order)
    let available = ZERO
    let selfTrade = false
    for (const level of makers.levels) {
      if (!this.crossesLimit(order.side, order.limitPrice, level.price)) break
      for (const r of level.queue) {
        if (available.gte(want)) break
        if (r.account === order.account) selfTrade = true
        available = available.plus(r.remaining)
      }
      if (available.gte(want) || selfTrade) break
    }
    const best = makers.best()
    const crosses = best !== undefined && this.crossesLimit(order.side, order.limitPrice, best.price)
    return { crosses, available: Decimal.min(available, want), selfTrade }
  }

  /** Matches a working order as taker, then rests (lmt, post) or cancels (ioc, mkt, fok) the rest. */
  private work(book: Book, order: LiveOrder, now: number, tx: Tx, placeReason: string): void {
    this.match(book, order, now, tx)
    if (remaining(order).isZero()) return
    const rests = order.limitPrice !== undefined && (order.type === "lmt" || order.type === "post" || (isTrigger(order.type) && order.triggered))
    if (rests) {
      const price = order.limitPrice as Decimal
      ;(order.side === "buy" ? book.bids : book.asks).add(price, { orderId: order.orderId, account: order.account, remaining: remaining(order) })
      tx.touch(order.symbol, order.side, price)
      tx.effects.push({ kind: "order", account: order.account, order: view(order), isCancel: false, reason: placeReason })
    } else {
      this.close(order, "cancelled", now, tx, "ioc_order_failed_because_it_would_not_be_executed")
    }
  }

  private match(book: Book, taker: LiveOrder, now: number, tx: Tx): void {
    const makers = taker.side === "buy" ? book.asks : book.bids
    for (;;) {
      let qty = remaining(taker)
      if (qty.isZero()) return
      const level = makers.best()
      if (level === undefined || !this.crossesLimit(taker.side, taker.limitPrice, level.price)) return
      const head = level.queue[0] as Resting
      const maker = this.orders.get(head.orderId) as LiveOrder
      if (maker.account === taker.account || (maker.reduceOnly && this.reducible(maker.account, maker.symbol, maker.side).isZero())) {
        // A resting order that can no longer trade is removed rather than matched.
        this.close(maker, "cancelled", now, tx, maker.account === taker.account ? "would_execute_self" : "would_not_reduce_position")
        continue
      }
      if (taker.reduceOnly) qty = Decimal.min(qty, this.reducible(taker.account, taker.symbol, taker.side))
      if (qty.isZero()) return
      qty = Decimal.min(qty, head.remaining)
      if (maker.reduceOnly) qty = Decimal.min(qty, this.reducible(maker.account, maker.symbol, maker.side))
      const price = level.price
      const prior = view(taker)
      const makerFill = this.fill(maker, price, qty, "maker", now, tx)
      const takerFill = this.fill(taker, price, qty, "taker", now, tx)
      head.remaining = remaining(maker)
      tx.touch(book.instrument.symbol, maker.side, price)
      if (head.remaining.isZero()) {
        level.queue.shift()
        makers.prune(price)
        maker.state = "filled"
        tx.effects.push({ kind: "order", account: maker.account, order: view(maker), isCancel: true, reason: "full_fill" })
        this.retireIfUnbooked(maker)
      } else {
        tx.effects.push({ kind: "order", account: maker.account, order: view(maker), isCancel: false, reason: "partial_fill" })
      }
      book.lastPrice = price
      tx.effects.push({ kind: "trade", symbol: book.instrument.symbol, tradeId: makerFill.fillId, price, qty, takerSide: taker.side, time: now })
      tx.events.push({ type: "EXECUTION", executionId: takerFill.fillId, price, amount: qty, orderPriorExecution: prior, takerReducedQuantity: undefined })
      if (remaining(taker).isZero()) {
        taker.state = "filled"
        tx.effects.push({ kind: "order", account: taker.account, order: view(taker), isCancel: true, reason: "full_fill" })
        this.retireIfUnbooked(taker)
      }
    }
  }

  private fill(order: LiveOrder, price: Decimal, qty: Decimal, liquidity: Liquidity, now: number, tx: Tx): FillView {
    const instrument = (this.books.get(order.symbol) as Book).instrument
    order.filled = order.filled.plus(qty)
    order.lastUpdateTime = now
    if (this.unbooked.has(order.account)) {
      const seq = (this.unbookedFillSeq.get(order.account) ?? 0) + 1
      this.unbookedFillSeq.set(order.account, seq)
      const fill: FillView = {
        fillId: this.random.uuid(), orderId: order.orderId, cliOrdId: order.cliOrdId, account: order.account, symbol: order.symbol,
        side: order.side, price, qty, liquidity, fee: ZERO, feeCurrency: "USD", time: now, seq, orderType: order.type,
        remainingOrderQty: remaining(order)
      }
      tx.effects.push({ kind: "fill", account: order.account, fill })
      return fill
    }
    const fee = price.times(qty).times(instrument.contractSize).times(liquidity === "maker" ? instrument.makerFee : instrument.takerFee)
    let log = this.fillLog.get(order.account)
    if (log === undefined) {
      log = { fills: [], seq: 0 }
      this.fillLog.set(order.account, log)
    }
    const fill: FillView = {
      fillId: this.random.uuid(), orderId: order.orderId, cliOrdId: order.cliOrdId, account: order.account, symbol: order.symbol,
      side: order.side, price, qty, liquidity, fee, feeCurrency: "USD", time: now, seq: ++log.seq, orderType: order.type,
      remainingOrderQty: remaining(order)
    }
    log.fills.push(fill)
    // Trimmed in halves, so the copy is paid once per RETAINED_FILLS fills.
    if (log.fills.length > 2 * RETAINED_FILLS) log.fills.splice(0, log.fills.length - RETAINED_FILLS)
    tx.effects.push({ kind: "fill", account: order.account, fill })
    const position = this.applyToPosition(order.account, order.symbol, order.side, price, qty, fee, now, instrument)
    tx.effects.push({ kind: "position", account: order.account, position })
    return fill
  }

  private applyToPosition(account: string, symbol: string, side: Side, price: Decimal, qty: Decimal, fee: Decimal, now: number, instrument: SimInstrument): PositionView {
    const byAccount = this.positionBook.get(account) ?? new Map<string, PositionState>()
    this.positionBook.set(account, byAccount)
    const p = byAccount.get(symbol) ?? { balance: ZERO, entryPrice: ZERO, realizedPnl: ZERO, feesPaid: ZERO, lastFillTime: now }
    const signed = side === "buy" ? qty : qty.neg()
    const size = p.balance.abs()
    if (p.balance.isZero() || p.balance.isNeg() === signed.isNeg()) {
      p.entryPrice = p.entryPrice.times(size).plus(price.times(qty)).div(size.plus(qty))
    } else {
      const closing = Decimal.min(size, qty)
      const direction = p.balance.isPos() ? 1 : -1
      p.realizedPnl = p.realizedPnl.plus(price.minus(p.entryPrice).times(closing).times(direction).times(instrument.contractSize))
      if (qty.gt(size)) p.entryPrice = price
      else if (qty.eq(size)) p.entryPrice = ZERO
    }
    p.balance = p.balance.plus(signed)
    p.feesPaid = p.feesPaid.plus(fee)
    p.lastFillTime = now
    byAccount.set(symbol, p)
    return { account, symbol, ...p }
  }

  /** How much an order on `side` may trade and still only reduce the account's position. */
  private reducible(account: string, symbol: string, side: Side): Decimal {
    const balance = this.positionBook.get(account)?.get(symbol)?.balance ?? ZERO
    if (side === "buy") return balance.isNeg() ? balance.neg() : ZERO
    return balance.isPos() ? balance : ZERO
  }

  private close(order: LiveOrder, state: OrderState, now: number, tx: Tx, reason: string): void {
    const book = this.books.get(order.symbol) as Book
    if (order.state === "untriggered") {
      const i = book.stops.indexOf(order)
      if (i >= 0) book.stops.splice(i, 1)
    } else if (order.state === "open" && order.limitPrice !== undefined) {
      if ((order.side === "buy" ? book.bids : book.asks).remove(order.limitPrice, order.orderId) !== undefined) {
        tx.touch(order.symbol, order.side, order.limitPrice)
      }
    }
    order.state = state
    order.lastUpdateTime = now
    tx.effects.push({ kind: "order", account: order.account, order: view(order), isCancel: true, reason })
    this.retireIfUnbooked(order)
  }

  /**
   * A finished order of an unbooked account leaves the engine's memory at once (it is off the
   * book already); a booked account's stays among the newest RETAINED_ORDERS finished orders.
   */
  private retireIfUnbooked(order: LiveOrder): void {
    if (this.unbooked.has(order.account)) {
      this.orders.delete(order.orderId)
      this.live.delete(order.orderId)
      return
    }
    this.finished.push(order.orderId)
    if (this.finished.length - this.finishedHead <= RETAINED_ORDERS) return
    const oldest = this.orders.get(this.finished[this.finishedHead++] as string)
    if (this.finishedHead >= RETAINED_ORDERS) {
      this.finished.splice(0, this.finishedHead)
      this.finishedHead = 0
    }
    if (oldest === undefined || (oldest.state === "open" || oldest.state === "untriggered")) return
    this.orders.delete(oldest.orderId)
    this.live.delete(oldest.orderId)
    if (oldest.cliOrdId === undefined) return
    const byAccount = this.cliOrdIds.get(oldest.account)
    if (byAccount?.get(oldest.cliOrdId) === oldest.orderId) byAccount.delete(oldest.cliOrdId)
  }

  /** Stops trigger on the last trade price; a triggered stop's trades can trigger more (bounded). */
  private triggerStops(book: Book, now: number, tx: Tx): void {
    for (let round = 0; round < 1000; round++) {
      const last = book.lastPrice
      if (last === undefined) return
      const due = book.stops.find((s) => ((s.side === "buy") === (s.type === "stp") ? last.gte(s.stopPrice as Decimal) : last.lte(s.stopPrice as Decimal)))
      if (due === undefined) return
      book.stops.splice(book.stops.indexOf(due), 1)
      due.state = "open"
      due.triggered = true
      due.lastUpdateTime = now
      tx.effects.push({ kind: "order", account: due.account, order: view(due), isCancel: false, reason: "stop_order_triggered" })
      if (due.reduceOnly && this.reducible(due.account, due.symbol, due.side).isZero()) {
        this.close(due, "cancelled", now, tx, "would_not_reduce_position")
        continue
      }
      this.work(book, due, now, tx, "limit_order_from_stop")
    }
  }
}
