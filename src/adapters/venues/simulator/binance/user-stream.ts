import { randomBytes } from "node:crypto"
import type { Decimal } from "../../../../domain/decimal.js"
import type { EngineEffect, FillView, OrderView } from "../engine-types.js"
import type { Exchange } from "../exchange.js"
import { unrealized } from "../margin.js"
import { QUOTE } from "./markets.js"
import type { BinanceOrders } from "./orders.js"

/** A user data stream connection; `close` ends the socket (an unknown listenKey). */
export interface UserConnection {
  readonly send: (message: unknown) => void
  readonly close: (code: number, reason: string) => void
}

interface Key {
  readonly account: string
  expiresAt: number
}

/** Engine close reasons that Binance reports as EXPIRED rather than CANCELED. */
const EXPIRING = new Set(["ioc_order_failed_because_it_would_not_be_executed"])

/**
 * listenKeys (create, keep-alive, close, expiry after `validityMs`) and the user data stream:
 * `ORDER_TRADE_UPDATE` per order change and per trade, `ALGO_UPDATE` for conditional orders,
 * `ACCOUNT_UPDATE` after a command changed positions, `listenKeyExpired` when a key runs out
 * (the connection stays open and receives nothing more, as at the venue).
 */
export class UserStreams {
  private readonly keys = new Map<string, Key>()
  private readonly connections = new Map<UserConnection, string>()
  /** Orders the stream has said NEW for (so a taker that fills on arrival gets NEW before TRADE). */
  private readonly announced = new Set<string>()

  constructor(private readonly exchange: Exchange, private readonly orders: BinanceOrders, readonly validityMs = 3_600_000) {}

  create(account: string): string {
    const now = this.exchange.now()
    for (const [key, k] of this.keys) {
      if (k.account === account && k.expiresAt > now) {
        k.expiresAt = now + this.validityMs
        return key
      }
    }
    const key = randomBytes(32).toString("hex")
    this.keys.set(key, { account, expiresAt: now + this.validityMs })
    return key
  }

  keepAlive(account: string, key: string | undefined): string | undefined {
    const now = this.exchange.now()
    const entry = [...this.keys].find(([k, v]) => v.account === account && v.expiresAt > now && (key === undefined || k === key))
    if (entry === undefined) return undefined
    entry[1].expiresAt = now + this.validityMs
    return entry[0]
  }

  close(account: string, key: string | undefined): void {
    for (const [k, v] of [...this.keys]) if (v.account === account && (key === undefined || k === key)) this.keys.delete(k)
  }

  /** Ground truth for tests: the account a live key belongs to. */
  accountOf(key: string): string | undefined {
    const k = this.keys.get(key)
    return k !== undefined && k.expiresAt > this.exchange.now() ? k.account : undefined
  }

  attach(conn: UserConnection, key: string): boolean {
    if (this.accountOf(key) === undefined) {
      conn.close(1008, "Invalid listenKey")
      return false
    }
    this.connections.set(conn, key)
    return true
  }

  detach(conn: UserConnection): void {
    this.connections.delete(conn)
  }

  /** Runs on a timer: expired keys say `listenKeyExpired` to their connections and are forgotten. */
  expire(): void {
    const now = this.exchange.now()
    for (const [key, k] of [...this.keys]) {
      if (k.expiresAt > now) continue
      this.keys.delete(key)
      for (const [conn, connKey] of this.connections) if (connKey === key) conn.send({ e: "listenKeyExpired", E: now, listenKey: key })
    }
  }

  /** Ends every user connection of the account's keys (an admin fault: the venue dropped them). */
  dropConnections(): number {
    const n = this.connections.size
    for (const conn of [...this.connections.keys()]) conn.close(1006, "dropped")
    this.connections.clear()
    return n
  }

  onEffects(effects: ReadonlyArray<EngineEffect>): void {
    const now = this.exchange.now()
    const positions = new Map<string, Map<string, { symbol: string; balance: Decimal; entry: Decimal; realized: Decimal }>>()
    // Only accounts with a live stream are rendered: the market's other participants trade all the time.
    const listening = new Set<string>()
    for (const key of this.connections.values()) {
      const account = this.accountOf(key)
      if (account !== undefined) listening.add(account)
    }
    if (listening.size === 0) return
    for (const e of effects) {
      if (!listening.has(e.kind === "fill" ? e.fill.account : e.kind === "order" || e.kind === "position" ? e.account : "")) continue
      if (e.kind === "fill") {
        const order = this.exchange.engine.order(e.fill.orderId)
        if (order === undefined) continue
        this.announce(order, now)
        this.send(e.fill.account, { e: "ORDER_TRADE_UPDATE", E: now, T: e.fill.time, o: { ...this.orderUpdate(order, "TRADE", e.fill), rp: this.orders.realizedOf(e.fill.fillId).toDecimalPlaces(8).toFixed() } })
        if (e.fill.remainingOrderQty.isZero()) this.finishAlgo(order, now)
      } else if (e.kind === "order") {
        this.onOrder(e.order, e.isCancel, e.reason, now)
      } else if (e.kind === "position") {
        const byAccount = positions.get(e.account) ?? new Map()
        positions.set(e.account, byAccount)
        byAccount.set(e.position.symbol, { symbol: e.position.symbol, balance: e.position.balance, entry: e.position.entryPrice, realized: e.position.realizedPnl })
      }
    }
    for (const [account, changed] of positions) {
      const wallet = this.exchange.collateral(account).toDecimalPlaces(8).toFixed()
      this.send(account, {
        e: "ACCOUNT_UPDATE", E: now, T: now,
        a: {
          m: "ORDER", B: [{ a: QUOTE, wb: wallet, cw: wallet, bc: "0" }],
          P: [...changed.values()].map((p) => {
            const market = this.orders.marketOfEngine(p.symbol)
            const mark = this.exchange.markPrice(p.symbol) ?? p.entry
            const up = market === undefined ? "0" : unrealized({ account, symbol: p.symbol, balance: p.balance, entryPrice: p.entry, realizedPnl: p.realized, feesPaid: p.realized, lastFillTime: now }, market.instrument, mark).toDecimalPlaces(8).toFixed()
            return { s: market?.symbol ?? p.symbol, pa: p.balance.toFixed(), ep: p.entry.toFixed(), bep: p.entry.toFixed(), cr: p.realized.toDecimalPlaces(8).toFixed(), up, mt: "cross", iw: "0", ps: "BOTH" }
          })
        }
      })
    }
  }

  private onOrder(order: OrderView, isCancel: boolean, reason: string, now: number): void {
    const algo = this.orders.isAlgo(order.orderId)
    if (algo && order.state === "untriggered") {
      this.send(order.account, this.algoUpdate(order, "NEW", now))
      return
    }
    if (algo && !order.triggered && isCancel) {
      this.send(order.account, this.algoUpdate(order, "CANCELED", now))
      return
    }
    if (reason === "stop_order_triggered") {
      if (algo) this.send(order.account, this.algoUpdate(order, "TRIGGERED", now))
      this.announce(order, now)
      return
    }
    // Fills already reported PARTIALLY_FILLED / FILLED through their TRADE updates.
    if (reason === "partial_fill" || reason === "full_fill") return
    if (isCancel) {
      this.announce(order, now)
      const expired = EXPIRING.has(reason)
      this.send(order.account, { e: "ORDER_TRADE_UPDATE", E: now, T: now, o: this.orderUpdate(order, expired ? "EXPIRED" : "CANCELED", undefined, expired ? "EXPIRED" : "CANCELED", expired ? "2" : "0") })
      this.announced.delete(order.orderId)
      this.finishAlgo(order, now)
      return
    }
    if (reason === "edited_by_user") {
      this.send(order.account, { e: "ORDER_TRADE_UPDATE", E: now, T: now, o: this.orderUpdate(order, "AMENDMENT") })
      return
    }
    this.announce(order, now)
  }

  /** An IOC or market order that expired before reaching the book: NEW, then EXPIRED. */
  expiredOffBook(order: OrderView): void {
    const now = this.exchange.now()
    this.announce(order, now)
    this.send(order.account, { e: "ORDER_TRADE_UPDATE", E: now, T: now, o: this.orderUpdate(order, "EXPIRED", undefined, "EXPIRED", "2") })
    this.announced.delete(order.orderId)
  }

  private announce(order: OrderView, now: number): void {
    if (this.announced.has(order.orderId)) return
    this.announced.add(order.orderId)
    this.send(order.account, { e: "ORDER_TRADE_UPDATE", E: now, T: now, o: this.orderUpdate(order, "NEW", undefined, "NEW") })
  }

  private finishAlgo(order: OrderView, now: number): void {
    this.announced.delete(order.orderId)
    if (this.orders.isAlgo(order.orderId) && order.triggered) this.send(order.account, this.algoUpdate(order, "FINISHED", now))
  }

  private orderUpdate(order: OrderView, x: string, fill?: FillView, status?: string, er = "0"): Record<string, unknown> {
    const r = this.orders.render(order)
    const meta = this.orders.metaOf(order.orderId)
    const filled = fill === undefined ? order.filled : order.size.minus(fill.remainingOrderQty)
    const X = status ?? (fill === undefined ? (r.status as string) : fill.remainingOrderQty.isZero() ? "FILLED" : "PARTIALLY_FILLED")
    const type = r.type as string
    const working = type === "STOP" || type === "TAKE_PROFIT" ? "LIMIT" : type.endsWith("_MARKET") ? "MARKET" : type
    return {
      s: r.symbol, c: r.clientOrderId, S: r.side, o: order.triggered ? working : type, f: r.timeInForce, q: r.origQty, p: r.price, ap: r.avgPrice, sp: r.stopPrice,
      x, X, i: r.orderId, l: fill?.qty.toFixed() ?? "0", z: filled.toFixed(), L: fill?.price.toFixed() ?? "0",
      ...(fill === undefined ? {} : { N: QUOTE, n: fill.fee.toFixed() }),
      T: fill?.time ?? order.lastUpdateTime, t: fill === undefined ? 0 : this.orders.tradeId(fill.fillId), b: "0", a: "0", m: fill?.liquidity === "maker", R: order.reduceOnly,
      wt: meta?.workingType ?? "CONTRACT_PRICE", ot: type, ps: "BOTH", cp: false, rp: "0", pP: false, si: 0, ss: 0, V: "NONE", pm: "NONE", gtd: 0, er
    }
  }

  private algoUpdate(order: OrderView, status: string, now: number): Record<string, unknown> {
    const r = this.orders.renderAlgo(order)
    return {
      e: "ALGO_UPDATE", E: now, T: now,
      o: {
        caid: r.clientAlgoId, aid: r.algoId, at: "CONDITIONAL", o: r.orderType, s: r.symbol, S: r.side, ps: "BOTH", f: r.timeInForce, q: r.quantity, X: status,
        ai: order.triggered ? String(this.orders.orderId(order.orderId)) : "", ap: this.orders.render(order).avgPrice, aq: order.filled.toFixed(), act: "0",
        tp: r.triggerPrice, p: r.price, V: "NONE", wt: r.workingType, pm: "NONE", cp: false, pP: false, R: order.reduceOnly, tt: r.triggerTime, gtd: 0, rm: ""
      }
    }
  }

  private send(account: string, message: unknown): void {
    for (const [conn, key] of this.connections) if (this.accountOf(key) === account) conn.send(message)
  }
}
