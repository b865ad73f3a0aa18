import { randomBytes } from "node:crypto"
import { Either } from "effect"
import { parseDecimal, ZERO, type Decimal } from "../../../../domain/decimal.js"
import type { EngineEffect, OrderView, SendStatus } from "../engine-types.js"
import type { Exchange } from "../exchange.js"
import { binanceMarket, checkFilters, type BinanceMarket } from "./markets.js"

/**
 * Binance USD-M orders over the shared engine: numeric order and algo ids, the venue's order
 * types and time in force mapped onto the engine's, its statuses and error codes, and the order
 * object it returns. One instance per face; it observes every engine effect so that orders made
 * through the other face (or the admin API) show here too.
 */

export type Params = (name: string) => string | undefined

export type Answer =
  | { readonly ok: true; readonly body: unknown }
  | { readonly ok: false; readonly status: number; readonly code: number; readonly msg: string }

export const fail = (code: number, msg: string, status = 400): Answer => ({ ok: false, status, code, msg })
export const done = (body: unknown): Answer => ({ ok: true, body })
export const missing = (name: string): Answer => fail(-1102, `Mandatory parameter '${name}' was not sent, was empty/null, or malformed.`)

const CLIENT_ID = /^[.A-Z:/a-z0-9_-]{1,36}$/
const CONDITIONAL = new Set(["STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET", "TRAILING_STOP_MARKET"])
const RETAINED = 20_000

interface Meta {
  /** Binance `type` / `origType`. */
  readonly type: string
  readonly timeInForce: string
  readonly workingType: string
  readonly algoId: number | undefined
  readonly clientAlgoId: string | undefined
  cumQuote: Decimal
  expired: boolean
  /** Whether the user stream has said NEW for it. */
  announced: boolean
  triggerTime: number
}

const decimalOf = (raw: string | undefined): Decimal | undefined | "invalid" => {
  if (raw === undefined || raw === "") return undefined
  const parsed = parseDecimal(raw)
  return Either.isRight(parsed) ? parsed.right : "invalid"
}

const newClientId = (): string => `sim-${randomBytes(11).toString("hex")}`

const engineType = (type: string, tif: string): string | undefined => {
  switch (type) {
    case "LIMIT":
      return tif === "GTC" ? "lmt" : tif === "GTX" ? "post" : tif === "IOC" ? "ioc" : tif === "FOK" ? "fok" : undefined
    case "MARKET":
      return "mkt"
    case "STOP":
    case "STOP_MARKET":
      return "stp"
    case "TAKE_PROFIT":
    case "TAKE_PROFIT_MARKET":
      return "take_profit"
    default:
      return undefined
  }
}

/** The Binance type of an engine order placed by someone else (the other face, the admin API). */
const inferred = (o: OrderView): { type: string; timeInForce: string } => {
  switch (o.type) {
    case "post":
      return { type: "LIMIT", timeInForce: "GTX" }
    case "ioc":
      return { type: "LIMIT", timeInForce: "IOC" }
    case "fok":
      return { type: "LIMIT", timeInForce: "FOK" }
    case "mkt":
      return { type: "MARKET", timeInForce: "GTC" }
    case "stp":
      return { type: o.limitPrice === undefined ? "STOP_MARKET" : "STOP", timeInForce: "GTC" }
    case "take_profit":
      return { type: o.limitPrice === undefined ? "TAKE_PROFIT_MARKET" : "TAKE_PROFIT", timeInForce: "GTC" }
    default:
      return { type: "LIMIT", timeInForce: "GTC" }
  }
}

const SEND_ERRORS: Partial<Record<SendStatus, Answer>> = {
  postWouldExecute: fail(-5022, "Due to the order could not be executed as maker, the Post Only order will be rejected."),
  wouldNotReducePosition: fail(-2022, "ReduceOnly Order is rejected."),
  insufficientAvailableFunds: fail(-2019, "Margin is insufficient."),
  clientOrderIdAlreadyExist: fail(-4116, "ClientOrderId is duplicated."),
  clientOrderIdTooLong: fail(-4015, "Client order id length should not be more than 36 chars"),
  selfFill: fail(-2010, "Order would trade against the account's own order (the simulator refuses self-trades)."),
  marketSuspended: fail(-4140, "Invalid symbol status for opening position."),
  marketInactive: fail(-1121, "Invalid symbol."),
  invalidSize: fail(-1111, "Precision is over the maximum defined for this asset."),
  invalidPrice: fail(-4014, "Price not increased by tick size."),
  invalidOrderType: fail(-1116, "Invalid orderType."),
  invalidSide: fail(-1117, "Invalid side.")
}

export class BinanceOrders {
  private nextOrderId = 8_000_000_001
  private nextAlgoId = 3_000_000_001
  private nextTradeId = 500_000_001
  private readonly toNumeric = new Map<string, number>()
  private readonly toEngine = new Map<number, string>()
  private readonly algoToEngine = new Map<number, string>()
  private readonly clientAlgoIds = new Map<string, number>()
  private readonly tradeIds = new Map<string, number>()
  private readonly meta = new Map<string, Meta>()
  /** IOC and market orders the engine refused for want of liquidity: the venue reports them EXPIRED. */
  private readonly expiredOffBook = new Map<string, OrderView>()
  private readonly finished: string[] = []
  private marketsCache: ReadonlyArray<BinanceMarket> | undefined

  /** Told of an order the venue expired without it reaching the book (the user stream reports it). */
  onExpiredOffBook: ((order: OrderView) => void) | undefined

  constructor(readonly exchange: Exchange) {}

  markets(): ReadonlyArray<BinanceMarket> {
    const instruments = this.exchange.engine.instruments()
    if (this.marketsCache?.length !== instruments.length) this.marketsCache = instruments.map(binanceMarket)
    return this.marketsCache
  }

  market(symbol: string | undefined): BinanceMarket | undefined {
    if (symbol === undefined) return undefined
    const upper = symbol.toUpperCase()
    return this.markets().find((m) => m.symbol === upper)
  }

  marketOfEngine(engineSymbol: string): BinanceMarket | undefined {
    return this.markets().find((m) => m.engineSymbol === engineSymbol)
  }

  orderId(engineId: string): number {
    let id = this.toNumeric.get(engineId)
    if (id === undefined) {
      id = this.nextOrderId++
      this.toNumeric.set(engineId, id)
      this.toEngine.set(id, engineId)
    }
    return id
  }

  tradeId(fillId: string): number {
    let id = this.tradeIds.get(fillId)
    if (id === undefined) {
      id = this.nextTradeId++
      this.tradeIds.set(fillId, id)
      // Bounded like the engine's fill log: the oldest ids go first (Map keeps insertion order).
      if (this.tradeIds.size > 2 * RETAINED) for (const old of [...this.tradeIds.keys()].slice(0, RETAINED)) this.tradeIds.delete(old)
    }
    return id
  }

  private bookedNames: ReadonlySet<string> | undefined

  /** The configured accounts (not the market's other participants). */
  booked(account: string): boolean {
    this.bookedNames ??= new Set(this.exchange.accounts().map((a) => a.name))
    return this.bookedNames.has(account)
  }

  metaOf(engineId: string): Meta | undefined {
    return this.meta.get(engineId)
  }

  isAlgo(engineId: string): boolean {
    return this.meta.get(engineId)?.algoId !== undefined
  }

  /** Per account and symbol, the realized PnL the engine last reported (seeded at start). */
  private readonly realized = new Map<string, Decimal>()
  /** Realized PnL of each recent fill of a configured account (`rp`, `realizedPnl`). */
  private readonly fillRealized = new Map<string, Decimal>()

  /** The realized PnL a fill made (0 for a fill that opened or increased, or one from before the face started). */
  realizedOf(fillId: string): Decimal {
    return this.fillRealized.get(fillId) ?? ZERO
  }

  /** Keeps cumulative quote and expiry per order, and assigns ids in the order things happened. */
  observe(effects: ReadonlyArray<EngineEffect>): void {
    if (this.realized.size === 0) {
      for (const a of this.exchange.accounts()) for (const p of this.exchange.engine.positions(a.name)) this.realized.set(`${a.name}|${p.symbol}`, p.realizedPnl)
    }
    let lastFill: string | undefined
    for (const e of effects) {
      if (e.kind === "fill") lastFill = e.fill.fillId
      if (e.kind === "position" && this.booked(e.account) && lastFill !== undefined) {
        // The engine reports a fill's position right after it.
        const key = `${e.account}|${e.position.symbol}`
        this.fillRealized.set(lastFill, e.position.realizedPnl.minus(this.realized.get(key) ?? ZERO))
        this.realized.set(key, e.position.realizedPnl)
        if (this.fillRealized.size > 2 * RETAINED) for (const old of [...this.fillRealized.keys()].slice(0, RETAINED)) this.fillRealized.delete(old)
      }
      if (e.kind === "fill") this.adopt(e.fill.orderId, e.fill.account, e.fill.cliOrdId)
      else if (e.kind === "order") this.adopt(e.order.orderId, e.order.account, e.order.cliOrdId)
      if (e.kind === "fill" && this.booked(e.fill.account)) {
        this.tradeId(e.fill.fillId)
        const m = this.meta.get(e.fill.orderId)
        if (m !== undefined) m.cumQuote = m.cumQuote.plus(e.fill.price.times(e.fill.qty))
      } else if (e.kind === "order" && e.isCancel) {
        const m = this.meta.get(e.order.orderId)
        if (m !== undefined && e.reason === "ioc_order_failed_because_it_would_not_be_executed") m.expired = true
        if (m !== undefined) this.retire(e.order.orderId)
      } else if (e.kind === "order" && e.reason === "stop_order_triggered") {
        const m = this.meta.get(e.order.orderId)
        if (m !== undefined) m.triggerTime = this.exchange.now()
      }
    }
  }

  private retire(engineId: string): void {
    this.finished.push(engineId)
    if (this.finished.length <= RETAINED) return
    for (const old of this.finished.splice(0, this.finished.length - RETAINED)) {
      const m = this.meta.get(old)
      if (m?.algoId !== undefined) this.algoToEngine.delete(m.algoId)
      if (m?.clientAlgoId !== undefined) this.clientAlgoIds.delete(m.clientAlgoId)
      this.meta.delete(old)
      const n = this.toNumeric.get(old)
      this.toNumeric.delete(old)
      if (n !== undefined) this.toEngine.delete(n)
    }
  }

  /** The engine order a request names by `orderId` or `origClientOrderId` (the first wins). */
  find(account: string, p: Params): OrderView | undefined {
    const raw = p("orderId")
    if (raw !== undefined && raw !== "") {
      const engineId = this.toEngine.get(Number(raw))
      const o = engineId === undefined ? undefined : this.exchange.engine.order(engineId) ?? this.expiredOffBook.get(engineId)
      return o?.account === account ? o : undefined
    }
    const cli = p("origClientOrderId") ?? p("origclientorderid")
    if (cli === undefined) return undefined
    return this.exchange.engine.allOrders(account).find((o) => o.cliOrdId === cli) ?? [...this.expiredOffBook.values()].find((o) => o.account === account && o.cliOrdId === cli)
  }

  findAlgo(account: string, p: Params): OrderView | undefined {
    const raw = p("algoId")
    const byClient = p("clientAlgoId")
    const algoId = raw !== undefined && raw !== "" ? Number(raw) : byClient === undefined ? undefined : this.clientAlgoIds.get(byClient)
    const engineId = algoId === undefined ? undefined : this.algoToEngine.get(algoId)
    const o = engineId === undefined ? undefined : this.exchange.engine.order(engineId)
    return o?.account === account ? o : undefined
  }

  status(o: OrderView): string {
    const m = this.meta.get(o.orderId)
    if (this.expiredOffBook.has(o.orderId)) return "EXPIRED"
    switch (o.state) {
      case "untriggered":
        return "NEW"
      case "open":
        return o.filled.isZero() ? "NEW" : "PARTIALLY_FILLED"
      case "filled":
        return "FILLED"
      default:
        return m?.expired === true ? "EXPIRED" : "CANCELED"
    }
  }

  /** The order object of REST replies (`time` and `updateTime` included). */
  render(o: OrderView): Record<string, unknown> {
    const m = this.meta.get(o.orderId)
    const kind = m ?? inferred(o)
    const market = this.marketOfEngine(o.symbol)
    const cumQuote = m?.cumQuote ?? ZERO
    const isMarket = kind.type === "MARKET" || kind.type.endsWith("_MARKET")
    return {
      orderId: this.orderId(o.orderId), symbol: market?.symbol ?? o.symbol, status: this.status(o), clientOrderId: o.cliOrdId ?? "",
      price: isMarket || o.limitPrice === undefined ? "0" : o.limitPrice.toFixed(), avgPrice: o.filled.isZero() ? "0" : cumQuote.div(o.filled).toFixed(),
      origQty: o.size.toFixed(), executedQty: o.filled.toFixed(), cumQty: o.filled.toFixed(), cumQuote: cumQuote.toFixed(),
      timeInForce: kind.timeInForce, type: kind.type, reduceOnly: o.reduceOnly, closePosition: false, side: o.side === "buy" ? "BUY" : "SELL",
      positionSide: "BOTH", stopPrice: o.stopPrice?.toFixed() ?? "0", workingType: m?.workingType ?? "CONTRACT_PRICE", priceProtect: false,
      origType: kind.type, priceMatch: "NONE", selfTradePreventionMode: "NONE", goodTillDate: 0, time: o.receivedTime, updateTime: o.lastUpdateTime
    }
  }

  algoStatus(o: OrderView): string {
    if (o.state === "untriggered") return "NEW"
    if (!o.triggered) return "CANCELED"
    return o.state === "open" ? "TRIGGERED" : "FINISHED"
  }

  renderAlgo(o: OrderView): Record<string, unknown> {
    const m = this.meta.get(o.orderId)
    const kind = m ?? inferred(o)
    return {
      algoId: m?.algoId ?? 0, clientAlgoId: m?.clientAlgoId ?? o.cliOrdId ?? "", algoType: "CONDITIONAL", orderType: kind.type,
      symbol: this.marketOfEngine(o.symbol)?.symbol ?? o.symbol, side: o.side === "buy" ? "BUY" : "SELL", positionSide: "BOTH", timeInForce: kind.timeInForce,
      quantity: o.size.toFixed(), algoStatus: this.algoStatus(o), triggerPrice: o.stopPrice?.toFixed() ?? "0", price: o.limitPrice?.toFixed() ?? "0",
      icebergQuantity: null, selfTradePreventionMode: "NONE", workingType: m?.workingType ?? "CONTRACT_PRICE", priceMatch: "NONE", closePosition: false,
      priceProtect: false, reduceOnly: o.reduceOnly, activatePrice: "", callbackRate: "", createTime: o.receivedTime, updateTime: o.lastUpdateTime,
      triggerTime: m?.triggerTime ?? 0, goodTillDate: 0, ...(o.triggered ? { actualOrderId: String(this.orderId(o.orderId)) } : {})
    }
  }

  /** `POST /fapi/v1/order` (and batch items, `order.place`); `algo` for `POST /fapi/v1/algoOrder`. */
  place(account: string, p: Params, algo: boolean): Answer {
    const market = this.market(p("symbol"))
    if (p("symbol") === undefined) return missing("symbol")
    if (market === undefined) return fail(-1121, "Invalid symbol.")
    const side = p("side")
    if (side === undefined) return missing("side")
    if (side !== "BUY" && side !== "SELL") return fail(-1117, "Invalid side.")
    const type = p("type")
    if (type === undefined) return missing("type")
    if (!algo && CONDITIONAL.has(type)) return fail(-4120, "Order type not supported for this endpoint. Please use the Algo Order API endpoints instead.")
    if (algo && p("algoType") !== "CONDITIONAL") return p("algoType") === undefined ? missing("algoType") : fail(-1116, "Invalid algoType.")
    if (algo && !CONDITIONAL.has(type)) return fail(-1116, "Invalid orderType.")
    const positionSide = p("positionSide")
    if (positionSide !== undefined && positionSide !== "BOTH") return fail(-4061, "Order's position side does not match user's setting.")
    if (p("closePosition") === "true") return fail(-1116, "closePosition is not simulated.")
    if ((p("priceMatch") ?? "NONE") !== "NONE") return fail(-1116, "priceMatch is not simulated.")
    const timeInForce = type === "LIMIT" || type === "STOP" || type === "TAKE_PROFIT" ? p("timeInForce") ?? (algo ? "GTC" : undefined) : "GTC"
    if (timeInForce === undefined) return missing("timeInForce")
    const engine = engineType(type, type === "LIMIT" ? timeInForce : "GTC")
    if (engine === undefined) return type === "LIMIT" ? fail(-1115, "Invalid timeInForce.") : fail(-1116, "Invalid orderType.")
    const quantity = decimalOf(p("quantity"))
    if (quantity === undefined || quantity === "invalid") return missing("quantity")
    const needsPrice = type === "LIMIT" || type === "STOP" || type === "TAKE_PROFIT"
    const price = needsPrice ? decimalOf(p("price")) : undefined
    if (needsPrice && (price === undefined || price === "invalid")) return missing("price")
    const triggerName = algo ? "triggerPrice" : "stopPrice"
    const stop = algo ? decimalOf(p(triggerName)) : undefined
    if (algo && (stop === undefined || stop === "invalid")) return missing(triggerName)
    const reduceOnly = p("reduceOnly") === "true"
    const clientId = (algo ? p("clientAlgoId") : p("newClientOrderId")) ?? newClientId()
    if (!CLIENT_ID.test(clientId)) return fail(-4015, "Client order id is not valid.")
    const workingType = p("workingType") ?? "CONTRACT_PRICE"
    if (workingType !== "CONTRACT_PRICE" && workingType !== "MARK_PRICE") return fail(-1116, "Invalid workingType.")
    const limit = price === "invalid" ? undefined : price
    const trigger = stop === "invalid" ? undefined : stop
    const mark = this.exchange.markPrice(market.engineSymbol)
    const filter = checkFilters(market, { quantity, price: limit, stopPrice: trigger, side, market: type === "MARKET", reduceOnly }, mark)
    if (filter !== undefined) return fail(filter.code, filter.msg)
    const open = this.exchange.engine.openOrders(account, market.engineSymbol).length
    if (open >= market.maxNumOrders) return fail(-2025, "Reach max open order limit.")
    if (trigger !== undefined) {
      const reference = workingType === "MARK_PRICE" ? mark : this.exchange.engine.lastPrice(market.engineSymbol) ?? mark
      const stopLike = type === "STOP" || type === "STOP_MARKET"
      const immediate = reference !== undefined && ((side === "BUY") === stopLike ? reference.gte(trigger) : reference.lte(trigger))
      if (immediate) return fail(-2021, "Order would immediately trigger.")
    }
    const pendingKey = `${account}|${clientId}`
    this.pending.set(pendingKey, { type, timeInForce, workingType, algo })
    const out = this.exchange.send({
      account, symbol: market.engineSymbol, orderType: engine, side: side === "BUY" ? "buy" : "sell", size: quantity, limitPrice: limit, stopPrice: trigger, cliOrdId: clientId, reduceOnly
    })
    if (out.status === "placed" && out.order !== undefined) this.adopt(out.order.orderId, account, clientId)
    this.pending.delete(pendingKey)
    if (out.status === "iocWouldNotExecute" && out.order !== undefined && engine !== "fok") {
      // The venue accepts an IOC or market order and expires it when nothing is there to take.
      this.remember(out.order.orderId, type, timeInForce, workingType, undefined, undefined)
      this.expiredOffBook.set(out.order.orderId, out.order)
      if (this.expiredOffBook.size > 1000) this.expiredOffBook.delete(this.expiredOffBook.keys().next().value as string)
      this.onExpiredOffBook?.(out.order)
      return done(this.render(out.order))
    }
    if (out.status === "iocWouldNotExecute") return fail(-5021, "Due to the order could not be filled immediately, the FOK order has been rejected.")
    if (out.status !== "placed" || out.order === undefined) return SEND_ERRORS[out.status] ?? fail(-1000, "An unknown error occured while processing the request.")
    return done(algo ? this.renderAlgo(this.exchange.engine.order(out.order.orderId) ?? out.order) : this.render(this.exchange.engine.order(out.order.orderId) ?? out.order))
  }

  /** Records the Binance view of an engine order. */
  remember(engineId: string, type: string, timeInForce: string, workingType: string, algoId: number | undefined, clientAlgoId: string | undefined): Meta {
    const existing = this.meta.get(engineId)
    if (existing !== undefined) return existing
    const created: Meta = { type, timeInForce, workingType, algoId, clientAlgoId, cumQuote: ZERO, expired: false, announced: false, triggerTime: 0 }
    this.meta.set(engineId, created)
    return created
  }

  /** Placements in flight: the meta an order takes when its first effect (or the reply) shows it, keyed by account and client id. */
  readonly pending = new Map<string, { type: string; timeInForce: string; workingType: string; algo: boolean }>()

  /** Called by the listener for an order effect of an order it has no meta for yet. */
  adopt(engineId: string, account: string, cliOrdId: string | undefined): Meta | undefined {
    const existing = this.meta.get(engineId)
    if (existing !== undefined) return existing
    const key = `${account}|${cliOrdId ?? ""}`
    const pending = this.pending.get(key)
    if (pending === undefined) return undefined
    this.pending.delete(key)
    const algoId = pending.algo ? this.nextAlgoId++ : undefined
    if (algoId !== undefined) {
      this.algoToEngine.set(algoId, engineId)
      if (cliOrdId !== undefined) this.clientAlgoIds.set(cliOrdId, algoId)
    }
    return this.remember(engineId, pending.type, pending.timeInForce, pending.workingType, algoId, pending.algo ? cliOrdId : undefined)
  }

  /** `PUT /fapi/v1/order`: LIMIT orders only; loses priority unless only the quantity shrinks (the engine's rule). */
  modify(account: string, p: Params): Answer {
    const market = this.market(p("symbol"))
    if (p("symbol") === undefined) return missing("symbol")
    if (market === undefined) return fail(-1121, "Invalid symbol.")
    if (p("side") === undefined) return missing("side")
    const quantity = decimalOf(p("quantity"))
    if (quantity === undefined || quantity === "invalid") return missing("quantity")
    const price = decimalOf(p("price"))
    if (price === undefined || price === "invalid") return missing("price")
    if (p("orderId") === undefined && p("origClientOrderId") === undefined) return missing("orderId")
    const o = this.find(account, p)
    if (o === undefined || o.symbol !== market.engineSymbol || (o.state !== "open" && o.state !== "untriggered")) return fail(-2013, "Order does not exist.")
    if (o.state === "untriggered" || this.isAlgo(o.orderId)) return fail(-4120, "Modification of untriggered conditional orders is not supported.")
    if ((o.side === "buy" ? "BUY" : "SELL") !== p("side")) return fail(-4061, "Order's side does not match.")
    if (o.size.eq(quantity) && o.limitPrice?.eq(price) === true) return fail(-5027, "No need to modify the order.")
    const filter = checkFilters(market, { quantity, price, stopPrice: undefined, side: o.side === "buy" ? "BUY" : "SELL", market: false, reduceOnly: o.reduceOnly }, this.exchange.markPrice(market.engineSymbol))
    if (filter !== undefined) return fail(filter.code, filter.msg)
    if (quantity.lte(o.filled)) {
      // The venue cancels a partly filled order whose new quantity is not above what has filled.
      this.exchange.cancel({ account, orderId: o.orderId })
      return done(this.render(this.exchange.engine.order(o.orderId) ?? o))
    }
    const out = this.exchange.edit({ account, orderId: o.orderId, size: quantity, limitPrice: price })
    if (out.status === "postWouldExecute") {
      this.exchange.cancel({ account, orderId: o.orderId })
      return done(this.render(this.exchange.engine.order(o.orderId) ?? o))
    }
    if (out.status === "edited") return done({ ...this.render(this.exchange.engine.order(o.orderId) ?? o), pair: market.symbol, cumBase: o.filled.toFixed() })
    if (out.status === "orderForEditNotFound") return fail(-2013, "Order does not exist.")
    if (out.status === "wouldNotReducePosition") return fail(-2022, "ReduceOnly Order is rejected.")
    if (out.status === "selfFill") return fail(-2010, "Order would trade against the account's own order (the simulator refuses self-trades).")
    if (out.status === "marketSuspended") return fail(-4140, "Invalid symbol status for opening position.")
    return fail(-1111, "Precision is over the maximum defined for this asset.")
  }

  /** `DELETE /fapi/v1/order`: a filled or unknown order is `-2011`. */
  cancel(account: string, p: Params): Answer {
    const market = this.market(p("symbol"))
    if (p("symbol") === undefined) return missing("symbol")
    if (market === undefined) return fail(-1121, "Invalid symbol.")
    if (p("orderId") === undefined && p("origClientOrderId") === undefined) return missing("orderId")
    const o = this.find(account, p)
    if (o === undefined || o.symbol !== market.engineSymbol || this.isAlgo(o.orderId) && o.state === "untriggered") return fail(-2011, "Unknown order sent.")
    const out = this.exchange.cancel({ account, orderId: o.orderId })
    if (out.status !== "cancelled") return fail(-2011, "Unknown order sent.")
    return done(this.render(this.exchange.engine.order(o.orderId) ?? out.order ?? o))
  }

  cancelAlgo(account: string, p: Params): Answer {
    if (p("algoId") === undefined && p("clientAlgoId") === undefined) return missing("algoId")
    const o = this.findAlgo(account, p)
    if (o === undefined || o.state !== "untriggered") return fail(-2011, "Unknown order sent.")
    this.exchange.cancel({ account, orderId: o.orderId })
    const m = this.meta.get(o.orderId)
    return done({ algoId: m?.algoId ?? 0, clientAlgoId: m?.clientAlgoId ?? "", code: "200", msg: "success" })
  }

  /** Open algo (untriggered conditional) orders of an account. */
  openAlgo(account: string, engineSymbol: string | undefined): OrderView[] {
    return this.exchange.engine.openOrders(account, engineSymbol).filter((o) => o.state === "untriggered" && this.isAlgo(o.orderId))
  }

  /** Open regular orders (a triggered algo order is one). */
  openRegular(account: string, engineSymbol: string | undefined): OrderView[] {
    return this.exchange.engine.openOrders(account, engineSymbol).filter((o) => o.state === "open")
  }
}
