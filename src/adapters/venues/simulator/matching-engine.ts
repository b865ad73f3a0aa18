import { Decimal, ZERO } from "../../../domain/decimal.js"
import { StepGrid } from "../../../domain/step-grid.js"
import {
  isTrigger, type CancelStatus, type EditCommand, type EditStatus, type EngineEffect, type FillView, type Liquidity, type OrderEvent, type OrderRef, type OrderState, type OrderType, type OrderView, type Outcome, type PositionView, type SendCommand, type SendStatus
} from "./engine-types.js"
import { inverseValue } from "../../../domain/position.js"
import { isInverseSim, lotSize, settlementAsset, type SimInstrument } from "./instruments.js"
import { BookSide, levelLots, levelQueue, type Resting, type RestingLots, type Side } from "./order-book.js"
import { seededRandom, type Random } from "./random.js"

export type * from "./engine-types.js"

/** No price (a market order's limit, a non-stop order's stop): every real count is >= 1. */
const NONE = -1

/**
 * An order inside the engine. The integer counts (`sizeLots`, `filledLots`, `limitTicks`,
 * `stopTicks`) are what matching reads and writes; the Decimal fields are the same values for
 * views, kept in step with the counts (the client's own Decimal when it gave one, a new one
 * only when a count changes: a fill, an edit).
 */
interface LiveOrder {
  readonly orderId: string
  readonly account: string
  readonly cliOrdId: string | undefined
  readonly symbol: string
  readonly side: Side
  readonly type: OrderType
  size: Decimal
  filled: Decimal
  limitPrice: Decimal | undefined
  stopPrice: Decimal | undefined
  reduceOnly: boolean
  receivedTime: number
  lastUpdateTime: number
  state: OrderState
  triggered: boolean
  sizeLots: number
  filledLots: number
  limitTicks: number
  stopTicks: number
}

interface PositionState {
  balance: Decimal
  entryPrice: Decimal
  realizedPnl: Decimal
  feesPaid: Decimal
  lastFillTime: number
}

interface Book {
  readonly instrument: SimInstrument
  readonly lots: StepGrid
  readonly ticks: StepGrid
  readonly grids: { readonly ticks: StepGrid; readonly lots: StepGrid }
  readonly bids: BookSide
  readonly asks: BookSide
  /** Untriggered stop orders in arrival order. */
  readonly stops: LiveOrder[]
  lastPrice: Decimal | undefined
  lastTicks: number
  suspended: boolean
}

/** Collects what one command caused; book level changes are coalesced to their final size. */
class Tx {
  readonly events: OrderEvent[] = []
  readonly effects: EngineEffect[] = []
  /** Levels in first-touch order; a command touches a handful, so a scan beats building keys. */
  readonly touched: Array<{ readonly book: Book; readonly side: Side; readonly ticks: number; readonly price: Decimal }> = []
  touch(book: Book, side: Side, ticks: number, price: Decimal): void {
    for (const t of this.touched) if (t.ticks === ticks && t.side === side && t.book === book) return
    this.touched.push({ book, side, ticks, price })
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
export const RETAINED_ORDERS = 5_000
export const RETAINED_FILLS = 5_000

/** A point-in-time copy (the key order is the view's, so JSON of a view is stable). */
const view = (o: LiveOrder): OrderView => ({
  orderId: o.orderId, account: o.account, cliOrdId: o.cliOrdId, symbol: o.symbol, side: o.side, type: o.type, size: o.size,
  filled: o.filled, limitPrice: o.limitPrice, stopPrice: o.stopPrice, reduceOnly: o.reduceOnly, receivedTime: o.receivedTime,
  lastUpdateTime: o.lastUpdateTime, state: o.state, triggered: o.triggered
})
const remainingLots = (o: LiveOrder): number => o.sizeLots - o.filledLots

/** A command refused before it made an order (module-level: no closure per command on the hot path). */
const rejected = <S extends string>(status: S): Outcome<S> => ({ status, order: undefined, events: [], effects: [] })

/** An order refused after it was made (it never rests, and Kraken replies with a REJECT event). */
const refused = (order: LiveOrder, status: SendStatus, reason: string): Outcome<SendStatus> =>
  ({ status, order: view(order), events: [{ type: "REJECT", order: view(order), reason }], effects: [] })

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
 *
 * Matching runs on integer counts: prices in ticks of the instrument's tick size, sizes in lots
 * of its lot size (see `StepGrid` and docs/architecture.md "Integer matching engine"). Decimal
 * appears only at the edge — a command's price and size are converted once, exactly (off the
 * grid is `invalidPrice`/`invalidSize`, never rounded), and views, fills and fees are Decimal.
 */
export class MatchingEngine {
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
  /** Each position's signed balance in lots (what reduce-only checks read), beside its Decimal. */
  private readonly balanceLots = new Map<string, Map<string, number>>()
  /** Accounts whose fills are matched and reported but not booked (see `skipBooking`). */
  private readonly unbooked = new Set<string>()
  private readonly unbookedFillSeq = new Map<string, number>()
  /** Dated contracts past their last trading time: no orders, positions settled. */
  private readonly expired = new Set<string>()
  private random: Random

  constructor(config: MatchingEngineConfig) {
    this.random = seededRandom(config.seed)
    for (const instrument of config.instruments) {
      const grids = { ticks: new StepGrid(instrument.tickSize), lots: new StepGrid(lotSize(instrument)) }
      this.books.set(instrument.symbol, {
        instrument, ...grids, grids, bids: new BookSide("buy"), asks: new BookSide("sell"),
        stops: [], lastPrice: undefined, lastTicks: NONE, suspended: false
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

  /** The instrument's price grid (ticks) and size grid (lots): the engine's integer units. */
  grids(symbol: string): { readonly ticks: StepGrid; readonly lots: StepGrid } | undefined {
    return this.books.get(symbol)?.grids
  }

  /** Aggregated L2 levels, best first. */
  depth(symbol: string): { bids: Array<[Decimal, Decimal]>; asks: Array<[Decimal, Decimal]> } {
    const book = this.books.get(symbol)
    if (book === undefined) return { bids: [], asks: [] }
    const side = (s: BookSide): Array<[Decimal, Decimal]> => s.levels.map((l) => [l.price, book.lots.decimal(levelLots(l))])
    return { bids: side(book.bids), asks: side(book.asks) }
  }

  /** Aggregated L2 levels as [ticks, lots], best first (no Decimal). */
  depthSteps(symbol: string): { bids: Array<[number, number]>; asks: Array<[number, number]> } {
    const book = this.books.get(symbol)
    if (book === undefined) return { bids: [], asks: [] }
    const side = (s: BookSide): Array<[number, number]> => s.levels.map((l) => [l.ticks, levelLots(l)])
    return { bids: side(book.bids), asks: side(book.asks) }
  }

  /** Every level with its queue in time priority: ground truth for the admin API. */
  queues(symbol: string): { bids: Array<{ price: Decimal; queue: Resting[] }>; asks: Array<{ price: Decimal; queue: Resting[] }> } {
    const book = this.books.get(symbol)
    if (book === undefined) return { bids: [], asks: [] }
    const side = (s: BookSide) =>
      s.levels.map((l) => ({ price: l.price, queue: levelQueue(l).map((r): Resting => ({ orderId: r.orderId, account: r.account, remaining: book.lots.decimal(r.lots) })) }))
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

  isExpired(symbol: string): boolean {
    return this.expired.has(symbol)
  }

  /**
   * A dated contract's expiry: from now on orders are refused (`marketInactive`), every open
   * order on it is cancelled (reason `contract_expired`), and every booked position is closed at
   * the settlement `price`, without a fee. The position effects carry the settled positions.
   */
  expire(symbol: string, price: Decimal, now: number): { readonly effects: EngineEffect[]; readonly settled: ReadonlyArray<{ readonly account: string; readonly before: PositionView; readonly after: PositionView }> } {
    const book = this.books.get(symbol)
    if (book === undefined || this.expired.has(symbol)) return { effects: [], settled: [] }
    this.expired.add(symbol)
    const effects: EngineEffect[] = []
    const settled: Array<{ account: string; before: PositionView; after: PositionView }> = []
    for (const account of this.accounts()) effects.push(...this.cancelAll(account, symbol, now, "contract_expired").effects)
    for (const account of this.accounts()) {
      const lots = this.balanceOf(account, symbol)
      const before = this.position(account, symbol)
      if (lots === 0 || before === undefined) continue
      this.setBalanceLots(account, symbol, 0)
      const after = this.applyToPosition(account, symbol, lots > 0 ? "sell" : "buy", price, before.balance.abs(), ZERO, now, book.instrument)
      effects.push({ kind: "position", account, position: after })
      settled.push({ account, before, after })
    }
    return { effects, settled }
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
          for (const r of levelQueue(level)) {
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

  /**
   * Puts a snapshot's orders back in the book (at the back of their levels), its positions and
   * fills; before any traffic. Returns how many orders and positions were left out because a
   * price or size is not on the instrument's grid (this engine never produces one: a state file
   * from another configuration). Orders and positions of unknown instruments are left out too.
   */
  restore(snapshot: EngineSnapshot): { readonly offGrid: number } {
    let offGrid = 0
    this.random = seededRandom(snapshot.rngState)
    for (const o of snapshot.orders) {
      const book = this.books.get(o.symbol)
      if (book === undefined || this.orders.has(o.orderId)) continue
      const sizeLots = book.lots.steps(o.size)
      const filledLots = book.lots.steps(o.filled)
      const limitTicks = o.limitPrice === undefined ? NONE : book.ticks.steps(o.limitPrice)
      const stopTicks = o.stopPrice === undefined ? NONE : book.ticks.steps(o.stopPrice)
      if (sizeLots < 0 || filledLots < 0 || (o.limitPrice !== undefined && limitTicks < 0) || (o.stopPrice !== undefined && stopTicks < 0)) {
        offGrid++
        continue
      }
      const order: LiveOrder = { ...o, sizeLots, filledLots, limitTicks, stopTicks }
      if (order.state === "untriggered") {
        this.register(order)
        book.stops.push(order)
      } else if (order.state === "open" && order.limitPrice !== undefined && remainingLots(order) > 0) {
        this.register(order)
        ;(order.side === "buy" ? book.bids : book.asks).add(limitTicks, order.limitPrice, { orderId: order.orderId, account: order.account, lots: remainingLots(order) })
      }
    }
    for (const p of snapshot.positions) {
      const book = this.books.get(p.symbol)
      if (book === undefined) continue
      const lots = book.lots.steps(p.balance.abs())
      if (lots < 0) {
        offGrid++
        continue
      }
      const byAccount = this.positionBook.get(p.account) ?? new Map<string, PositionState>()
      byAccount.set(p.symbol, { balance: p.balance, entryPrice: p.entryPrice, realizedPnl: p.realizedPnl, feesPaid: p.feesPaid, lastFillTime: p.lastFillTime })
      this.positionBook.set(p.account, byAccount)
      this.setBalanceLots(p.account, p.symbol, p.balance.isNeg() ? -lots : lots)
    }
    for (const f of snapshot.fills) this.fillLog.set(f.account, { fills: [...f.fills], seq: f.seq })
    return { offGrid }
  }

  // ---- commands -----------------------------------------------------------------------------

  send(cmd: SendCommand, now: number): Outcome<SendStatus> {
    const reject = rejected<SendStatus>
    const book = this.books.get(cmd.symbol)
    if (book === undefined || this.expired.has(cmd.symbol)) return reject("marketInactive")
    if (book.suspended) return reject("marketSuspended")
    if (!ORDER_TYPES.has(cmd.orderType)) return reject("invalidOrderType")
    if (cmd.side !== "buy" && cmd.side !== "sell") return reject("invalidSide")
    const type = cmd.orderType as OrderType
    const side: Side = cmd.side
    // The edge: decimal in, exact counts out; off the grid (or <= 0) is refused, never rounded.
    let sizeLots = cmd.size === undefined ? NONE : book.lots.steps(cmd.size)
    if (sizeLots <= 0) return reject("invalidSize")
    const needsLimit = type === "lmt" || type === "post" || type === "ioc" || type === "fok"
    const limitTicks = (needsLimit || isTrigger(type)) && cmd.limitPrice !== undefined ? book.ticks.steps(cmd.limitPrice) : NONE
    if (needsLimit && !(limitTicks > 0)) return reject("invalidPrice")
    const stopTicks = isTrigger(type) && cmd.stopPrice !== undefined ? book.ticks.steps(cmd.stopPrice) : NONE
    if (isTrigger(type) && (!(stopTicks > 0) || (cmd.limitPrice !== undefined && !(limitTicks > 0)))) return reject("invalidPrice")
    if (cmd.cliOrdId !== undefined) {
      if (cmd.cliOrdId.length > MAX_CLI_ORD_ID) return reject("clientOrderIdTooLong")
      if (this.cliOrdIds.get(cmd.account)?.has(cmd.cliOrdId) === true) return reject("clientOrderIdAlreadyExist")
    }
    let size = cmd.size as Decimal
    if (cmd.reduceOnly === true) {
      const reducible = this.reducible(cmd.account, cmd.symbol, side)
      if (reducible === 0) return reject("wouldNotReducePosition")
      if (reducible < sizeLots) {
        sizeLots = reducible
        size = book.lots.decimal(reducible)
      }
    }
    const order: LiveOrder = {
      orderId: this.random.uuid(), account: cmd.account, cliOrdId: cmd.cliOrdId, symbol: cmd.symbol, side, type, size,
      filled: ZERO, limitPrice: type === "mkt" ? undefined : cmd.limitPrice, stopPrice: isTrigger(type) ? cmd.stopPrice : undefined,
      reduceOnly: cmd.reduceOnly === true, receivedTime: now, lastUpdateTime: now,
      state: isTrigger(type) ? "untriggered" : "open", triggered: false,
      sizeLots, filledLots: 0, limitTicks: type === "mkt" ? NONE : limitTicks, stopTicks
    }
    if (!isTrigger(type)) {
      const probe = this.probe(book, side, order.limitTicks, sizeLots, cmd.account)
      if (type === "post" && probe.crosses) return refused(order, "postWouldExecute", "POST_WOULD_EXECUTE")
      if (probe.selfTrade) return refused(order, "selfFill", "SELF_FILL")
      if ((type === "ioc" || type === "mkt") && probe.available === 0) return refused(order, "iocWouldNotExecute", "IOC_WOULD_NOT_EXECUTE")
      if (type === "fok" && probe.available < sizeLots) return refused(order, "iocWouldNotExecute", "FOK_WOULD_NOT_EXECUTE")
    }
    const tx = new Tx()
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
    const reject = rejected<EditStatus>
    const order = this.find(cmd)
    if (order === undefined || (order.state !== "open" && order.state !== "untriggered")) return reject("orderForEditNotFound")
    const book = this.books.get(order.symbol) as Book
    if (this.expired.has(order.symbol)) return reject("orderForEditNotFound")
    if (book.suspended) return reject("marketSuspended")
    const sizeLots = cmd.size === undefined ? order.sizeLots : book.lots.steps(cmd.size)
    if (sizeLots < 0 || sizeLots <= order.filledLots) return reject("invalidSize")
    const newLimit = cmd.limitPrice === undefined ? order.limitTicks : book.ticks.steps(cmd.limitPrice)
    const newStop = cmd.stopPrice === undefined ? order.stopTicks : book.ticks.steps(cmd.stopPrice)
    if ((cmd.limitPrice !== undefined && !(newLimit > 0)) || (cmd.stopPrice !== undefined && !(newStop > 0))) return reject("invalidPrice")
    if (cmd.stopPrice !== undefined && !isTrigger(order.type)) return reject("invalidPrice")
    if (order.reduceOnly && sizeLots - order.filledLots > this.reducible(order.account, order.symbol, order.side)) return reject("wouldNotReducePosition")
    const size = cmd.size ?? order.size
    const limitPrice = cmd.limitPrice ?? order.limitPrice
    const tx = new Tx()
    const old = view(order)
    if (order.state === "untriggered") {
      order.size = size
      order.sizeLots = sizeLots
      order.limitPrice = limitPrice
      order.limitTicks = newLimit
      order.stopPrice = cmd.stopPrice ?? order.stopPrice
      order.stopTicks = newStop
      order.lastUpdateTime = now
      tx.events.push({ type: "EDIT", old, new: view(order) })
      tx.effects.push({ kind: "order", account: order.account, order: view(order), isCancel: false, reason: "edited_by_user" })
      this.triggerStops(book, now, tx)
      return this.finish("edited" as EditStatus, order, tx)
    }
    // Resting orders always carry a limit price.
    const price = order.limitPrice as Decimal
    const ticks = order.limitTicks
    const probe = this.probe(book, order.side, newLimit, sizeLots - order.filledLots, order.account)
    if (order.type === "post" && probe.crosses) return reject("postWouldExecute")
    if (probe.selfTrade) return reject("selfFill")
    const keepsPriority = newLimit === ticks && sizeLots <= order.sizeLots
    const sideBook = order.side === "buy" ? book.bids : book.asks
    if (keepsPriority) {
      const level = sideBook.level(ticks)
      const entry = level === undefined ? undefined : levelQueue(level).find((r) => r.orderId === order.orderId)
      order.size = size
      order.sizeLots = sizeLots
      order.lastUpdateTime = now
      if (level !== undefined && entry !== undefined) sideBook.resize(level, entry, remainingLots(order))
      tx.touch(book, order.side, ticks, price)
      tx.events.push({ type: "EDIT", old, new: view(order) })
      tx.effects.push({ kind: "order", account: order.account, order: view(order), isCancel: false, reason: "edited_by_user" })
    } else {
      sideBook.remove(ticks, order.orderId)
      tx.touch(book, order.side, ticks, price)
      order.size = size
      order.sizeLots = sizeLots
      order.limitPrice = limitPrice
      order.limitTicks = newLimit
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
      const lots = (t.side === "buy" ? t.book.bids : t.book.asks).totalAt(t.ticks)
      tx.effects.push({ kind: "book", symbol: t.book.instrument.symbol, side: t.side, price: t.price, qty: t.book.lots.decimal(lots) })
    }
    return { status, order: order === undefined ? undefined : view(order), events: tx.events, effects: tx.effects }
  }

  /** Whether a level at `ticks` is within the limit of an order on `side` (no limit: always). */
  private crossesLimit(side: Side, limitTicks: number, ticks: number): boolean {
    if (limitTicks === NONE) return true
    return side === "buy" ? ticks <= limitTicks : ticks >= limitTicks
  }

  /** What matching would find, without changing anything: for post, ioc, fok and self-fill checks. */
  private probe(book: Book, side: Side, limitTicks: number, want: number, account: string): { crosses: boolean; available: number; selfTrade: boolean } {
    const makers = side === "buy" ? book.asks : book.bids
    let available = 0
    let selfTrade = false
    for (const level of makers.levels) {
      if (!this.crossesLimit(side, limitTicks, level.ticks)) break
      const q = level.queue
      for (let i = level.head; i < q.length; i++) {
        if (available >= want) break
        const r = q[i] as RestingLots
        if (r.account === account) selfTrade = true
        available += r.lots
      }
      if (available >= want || selfTrade) break
    }
    const best = makers.best()
    const crosses = best !== undefined && this.crossesLimit(side, limitTicks, best.ticks)
    return { crosses, available: Math.min(available, want), selfTrade }
  }

  /** Matches a working order as taker, then rests (lmt, post) or cancels (ioc, mkt, fok) the rest. */
  private work(book: Book, order: LiveOrder, now: number, tx: Tx, placeReason: string): void {
    this.match(book, order, now, tx)
    if (remainingLots(order) === 0) return
    const rests = order.limitPrice !== undefined && (order.type === "lmt" || order.type === "post" || (isTrigger(order.type) && order.triggered))
    if (rests) {
      const price = order.limitPrice as Decimal
      ;(order.side === "buy" ? book.bids : book.asks).add(order.limitTicks, price, { orderId: order.orderId, account: order.account, lots: remainingLots(order) })
      tx.touch(book, order.side, order.limitTicks, price)
      tx.effects.push({ kind: "order", account: order.account, order: view(order), isCancel: false, reason: placeReason })
    } else {
      this.close(order, "cancelled", now, tx, "ioc_order_failed_because_it_would_not_be_executed")
    }
  }

  private match(book: Book, taker: LiveOrder, now: number, tx: Tx): void {
    const makers = taker.side === "buy" ? book.asks : book.bids
    for (;;) {
      let qty = remainingLots(taker)
      if (qty === 0) return
      const level = makers.best()
      if (level === undefined || !this.crossesLimit(taker.side, taker.limitTicks, level.ticks)) return
      const head = level.queue[level.head] as RestingLots
      const maker = this.orders.get(head.orderId) as LiveOrder
      if (maker.account === taker.account || (maker.reduceOnly && this.reducible(maker.account, maker.symbol, maker.side) === 0)) {
        // A resting order that can no longer trade is removed rather than matched.
        this.close(maker, "cancelled", now, tx, maker.account === taker.account ? "would_execute_self" : "would_not_reduce_position")
        continue
      }
      if (taker.reduceOnly) qty = Math.min(qty, this.reducible(taker.account, taker.symbol, taker.side))
      if (qty === 0) return
      qty = Math.min(qty, head.lots)
      if (maker.reduceOnly) qty = Math.min(qty, this.reducible(maker.account, maker.symbol, maker.side))
      const price = level.price
      const qtyDecimal = book.lots.decimal(qty)
      const prior = view(taker)
      const makerFill = this.fill(book, maker, price, qty, qtyDecimal, "maker", now, tx)
      const takerFill = this.fill(book, taker, price, qty, qtyDecimal, "taker", now, tx)
      makers.resize(level, head, remainingLots(maker))
      tx.touch(book, maker.side, level.ticks, price)
      book.lastTicks = level.ticks
      if (head.lots === 0) {
        makers.shift(level)
        maker.state = "filled"
        tx.effects.push({ kind: "order", account: maker.account, order: view(maker), isCancel: true, reason: "full_fill" })
        this.retireIfUnbooked(maker)
      } else {
        tx.effects.push({ kind: "order", account: maker.account, order: view(maker), isCancel: false, reason: "partial_fill" })
      }
      book.lastPrice = price
      tx.effects.push({ kind: "trade", symbol: book.instrument.symbol, tradeId: makerFill.fillId, price, qty: qtyDecimal, takerSide: taker.side, time: now })
      tx.events.push({ type: "EXECUTION", executionId: takerFill.fillId, price, amount: qtyDecimal, orderPriorExecution: prior, takerReducedQuantity: undefined })
      if (remainingLots(taker) === 0) {
        taker.state = "filled"
        tx.effects.push({ kind: "order", account: taker.account, order: view(taker), isCancel: true, reason: "full_fill" })
        this.retireIfUnbooked(taker)
      }
    }
  }

  private fill(book: Book, order: LiveOrder, price: Decimal, lots: number, qty: Decimal, liquidity: Liquidity, now: number, tx: Tx): FillView {
    const instrument = book.instrument
    order.filledLots += lots
    order.filled = order.filledLots === lots ? qty : book.lots.decimal(order.filledLots)
    order.lastUpdateTime = now
    const left = remainingLots(order)
    const remainingOrderQty = left === 0 ? ZERO : left === order.sizeLots ? order.size : book.lots.decimal(left)
    if (this.unbooked.has(order.account)) {
      const seq = (this.unbookedFillSeq.get(order.account) ?? 0) + 1
      this.unbookedFillSeq.set(order.account, seq)
      const fill: FillView = {
        fillId: this.random.uuid(), orderId: order.orderId, cliOrdId: order.cliOrdId, account: order.account, symbol: order.symbol,
        side: order.side, price, qty, liquidity, fee: ZERO, feeCurrency: "USD", time: now, seq, orderType: order.type,
        remainingOrderQty
      }
      tx.effects.push({ kind: "fill", account: order.account, fill })
      return fill
    }
    const rate = liquidity === "maker" ? instrument.makerFee : instrument.takerFee
    // Inverse: the fee is a share of the value in the base currency (qty × contract value / price).
    const fee = isInverseSim(instrument) ? inverseValue(qty, instrument.contractSize, price).times(rate) : price.times(qty).times(instrument.contractSize).times(rate)
    let log = this.fillLog.get(order.account)
    if (log === undefined) {
      log = { fills: [], seq: 0 }
      this.fillLog.set(order.account, log)
    }
    const fill: FillView = {
      fillId: this.random.uuid(), orderId: order.orderId, cliOrdId: order.cliOrdId, account: order.account, symbol: order.symbol,
      side: order.side, price, qty, liquidity, fee, feeCurrency: settlementAsset(instrument), time: now, seq: ++log.seq, orderType: order.type,
      remainingOrderQty
    }
    log.fills.push(fill)
    // Trimmed in halves, so the copy is paid once per RETAINED_FILLS fills.
    if (log.fills.length > 2 * RETAINED_FILLS) log.fills.splice(0, log.fills.length - RETAINED_FILLS)
    tx.effects.push({ kind: "fill", account: order.account, fill })
    const balance = this.balanceOf(order.account, order.symbol)
    this.setBalanceLots(order.account, order.symbol, order.side === "buy" ? balance + lots : balance - lots)
    const position = this.applyToPosition(order.account, order.symbol, order.side, price, qty, fee, now, instrument)
    tx.effects.push({ kind: "position", account: order.account, position })
    return fill
  }

  /** Position accounting stays Decimal: entry prices are averages, PnL and fees are products. */
  private applyToPosition(account: string, symbol: string, side: Side, price: Decimal, qty: Decimal, fee: Decimal, now: number, instrument: SimInstrument): PositionView {
    const byAccount = this.positionBook.get(account) ?? new Map<string, PositionState>()
    this.positionBook.set(account, byAccount)
    const p = byAccount.get(symbol) ?? { balance: ZERO, entryPrice: ZERO, realizedPnl: ZERO, feesPaid: ZERO, lastFillTime: now }
    const signed = side === "buy" ? qty : qty.neg()
    const size = p.balance.abs()
    const inverse = isInverseSim(instrument)
    if (p.balance.isZero() || p.balance.isNeg() === signed.isNeg()) {
      // Inverse: the harmonic average, (size + qty) / (size/entry + qty/price).
      p.entryPrice = inverse
        ? size.isZero()
          ? price
          : size.plus(qty).div(size.div(p.entryPrice).plus(qty.div(price)))
        : p.entryPrice.times(size).plus(price.times(qty)).div(size.plus(qty))
    } else {
      const closing = Decimal.min(size, qty)
      const direction = p.balance.isPos() ? 1 : -1
      // Inverse PnL in the base currency: closing × contract value × (1/entry − 1/price), each 1/price rounded as the domain does.
      const pnl = inverse
        ? inverseValue(closing, instrument.contractSize, p.entryPrice).minus(inverseValue(closing, instrument.contractSize, price)).times(direction)
        : price.minus(p.entryPrice).times(closing).times(direction).times(instrument.contractSize)
      p.realizedPnl = p.realizedPnl.plus(pnl)
      if (qty.gt(size)) p.entryPrice = price
      else if (qty.eq(size)) p.entryPrice = ZERO
    }
    p.balance = p.balance.plus(signed)
    p.feesPaid = p.feesPaid.plus(fee)
    p.lastFillTime = now
    byAccount.set(symbol, p)
    return { account, symbol, ...p }
  }

  private balanceOf(account: string, symbol: string): number {
    return this.balanceLots.get(account)?.get(symbol) ?? 0
  }

  private setBalanceLots(account: string, symbol: string, lots: number): void {
    let byAccount = this.balanceLots.get(account)
    if (byAccount === undefined) this.balanceLots.set(account, (byAccount = new Map()))
    byAccount.set(symbol, lots)
  }

  /** How many lots an order on `side` may trade and still only reduce the account's position. */
  private reducible(account: string, symbol: string, side: Side): number {
    const balance = this.balanceOf(account, symbol)
    if (side === "buy") return balance < 0 ? -balance : 0
    return balance > 0 ? balance : 0
  }

  private close(order: LiveOrder, state: OrderState, now: number, tx: Tx, reason: string): void {
    const book = this.books.get(order.symbol) as Book
    if (order.state === "untriggered") {
      const i = book.stops.indexOf(order)
      if (i >= 0) book.stops.splice(i, 1)
    } else if (order.state === "open" && order.limitPrice !== undefined) {
      if ((order.side === "buy" ? book.bids : book.asks).remove(order.limitTicks, order.orderId) !== undefined) {
        tx.touch(book, order.side, order.limitTicks, order.limitPrice)
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
    if (book.stops.length === 0) return
    for (let round = 0; round < 1000; round++) {
      const last = book.lastTicks
      if (last === NONE) return
      // A stop triggers when the last price moves against its side, a take-profit when it moves with it.
      const due = book.stops.find((s) => ((s.side === "buy") === (s.type === "stp") ? last >= s.stopTicks : last <= s.stopTicks))
      if (due === undefined) return
      book.stops.splice(book.stops.indexOf(due), 1)
      due.state = "open"
      due.triggered = true
      due.lastUpdateTime = now
      tx.effects.push({ kind: "order", account: due.account, order: view(due), isCancel: false, reason: "stop_order_triggered" })
      if (due.reduceOnly && this.reducible(due.account, due.symbol, due.side) === 0) {
        this.close(due, "cancelled", now, tx, "would_not_reduce_position")
        continue
      }
      this.work(book, due, now, tx, "limit_order_from_stop")
    }
  }
}

