import { createHash, timingSafeEqual } from "node:crypto"
import { Either } from "effect"
import { parseDecimal } from "../../../domain/decimal.js"
import type { Exchange } from "./exchange.js"
import { updateFaults, type Faults } from "./faults.js"
import type { CostBudget } from "./rate-limit.js"
import type { MarketSource } from "./synthetic-market.js"

/** Run-time control of the market driver (the server owns the timers). */
export interface MarketControl {
  readonly source: MarketSource | undefined
  readonly pause: () => void
  readonly resume: () => void
  readonly running: () => boolean
}

export interface AdminReply {
  readonly status: number
  readonly body: unknown
}

const LOOPBACK_ADDRESS = /^(?:127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3})$/
const LOOPBACK_HOST = /^(?:localhost|127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\])\.?(?::\d{1,5})?$/i
const digest = (s: string): Buffer => createHash("sha256").update(s).digest()

export interface AdminRequest {
  /** The TCP peer (`socket.remoteAddress`). */
  readonly remoteAddress: string | undefined
  readonly host: string | undefined
  readonly authorization: string | undefined
}

/**
 * Who may use `/__admin/`: it places orders for any account and injects faults, so only a
 * process on this machine (the peer is a loopback address, whatever address the simulator is
 * bound to), through a loopback name in `Host` (a web page that rebinds its DNS name to
 * 127.0.0.1 still sends that name), and with `Authorization: Bearer <token>` when a token is set.
 * Returns the refusal, or `undefined` to go ahead.
 */
export const adminAccess = (token: string | undefined): ((req: AdminRequest) => AdminReply | undefined) => {
  const want = token === undefined ? undefined : digest(token)
  return (req) => {
    if (req.remoteAddress === undefined || !LOOPBACK_ADDRESS.test(req.remoteAddress)) return { status: 403, body: { error: "forbidden", reason: "the admin API answers loopback clients only" } }
    if (req.host === undefined || !LOOPBACK_HOST.test(req.host.trim())) return { status: 403, body: { error: "forbidden", reason: "the admin API answers requests to a loopback host name only" } }
    if (want === undefined) return undefined
    const m = req.authorization === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(req.authorization)
    if (m === null || !timingSafeEqual(want, digest(m[1] as string))) return { status: 401, body: { error: "unauthorized", reason: "send Authorization: Bearer <admin token>" } }
    return undefined
  }
}

/**
 * Ground truth and control for tests and operators, under `/__admin/` (never part of the
 * Kraken surface). The same operations are offered in-process on `Simulator.admin`.
 */
export class SimulatorAdmin {
  constructor(
    readonly exchange: Exchange,
    private readonly budget: CostBudget,
    private readonly market: MarketControl,
    private readonly dropAll: () => number
  ) {}

  faults(): Faults {
    return { ...this.exchange.faults, staleProducts: [...this.exchange.faults.staleProducts] }
  }

  setFaults(patch: Partial<Faults>): Faults {
    this.exchange.faults = updateFaults(this.exchange.faults, patch as Record<string, unknown>)
    return this.faults()
  }

  /** Terminates every WebSocket connection; returns how many there were. */
  dropConnections(): number {
    return this.dropAll()
  }

  /** The next book delta of `symbol` (or of any product with `"*"`) skips a `seq`. */
  injectGap(symbol = "*"): void {
    this.exchange.publicFeed.injectGap(symbol)
  }

  account(name: string): Record<string, unknown> {
    const engine = this.exchange.engine
    const now = this.exchange.now()
    return {
      account: name,
      openOrders: engine.openOrders(name),
      orders: engine.allOrders(name),
      fills: engine.fills(name),
      positions: engine.positions(name),
      collateralUsd: this.exchange.collateral(name),
      deadManTriggerTime: this.exchange.deadManTrigger(name) ?? null,
      rateLimitUsed: this.budget.used(name, now),
      apiLimitExceeded: this.budget.refused(name),
      rateLimitRefused: this.budget.stats(name).refused,
      rateLimitPeak: this.budget.stats(name).peak
    }
  }

  book(symbol: string): Record<string, unknown> | undefined {
    const engine = this.exchange.engine
    if (engine.instrument(symbol) === undefined) return undefined
    const depth = engine.depth(symbol)
    return { symbol, seq: this.exchange.publicFeed.seq(symbol), bids: depth.bids, asks: depth.asks, queues: engine.queues(symbol), lastPrice: engine.lastPrice(symbol) ?? null }
  }

  pauseMarket(): void {
    this.market.pause()
  }

  resumeMarket(): void {
    this.market.resume()
  }

  /** Advances the market by `count` messages by hand (pause it first for exact control). */
  stepMarket(count: number): number {
    let done = 0
    for (; done < count && this.market.source?.tick() === true; done++);
    return done
  }

  handle(method: string, path: string, body: unknown): AdminReply {
    const ok = (b: unknown): AdminReply => ({ status: 200, body: b })
    const notFound: AdminReply = { status: 404, body: { error: "notFound" } }
    const fields = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>
    let parts: string[]
    try {
      parts = path.replace(/^\/__admin\/?/, "").split("/").filter((p) => p !== "").map(decodeURIComponent)
    } catch {
      return { status: 400, body: { error: "badPath", reason: "malformed percent-escape" } }
    }
    const [head, arg, action] = parts
    if (method === "GET") {
      if (head === "accounts" && arg === undefined) return ok({ accounts: this.exchange.accounts().map((a) => ({ name: a.name, apiKey: a.apiKey })) })
      if (head === "accounts" && arg !== undefined) return ok(this.account(arg))
      if (head === "books" && arg === undefined) return ok({ symbols: this.exchange.engine.instruments().map((i) => i.symbol) })
      if (head === "books" && arg !== undefined) return this.book(arg) === undefined ? notFound : ok(this.book(arg))
      if (head === "faults") return ok(this.faults())
      if (head === "time") return ok({ now: this.exchange.now() })
      if (head === "market") return ok({ running: this.market.running() })
      return notFound
    }
    if (method !== "POST") return { status: 405, body: { error: "methodNotAllowed" } }
    if (head === "faults" && arg === undefined) return ok(this.setFaults(fields as Partial<Faults>))
    if (head === "faults" && arg === "drop-connections") return ok({ dropped: this.dropConnections() })
    if (head === "faults" && arg === "gap") {
      this.injectGap(typeof fields.symbol === "string" ? fields.symbol : "*")
      return ok({ gap: fields.symbol ?? "*" })
    }
    if (head === "market" && arg === "pause") {
      this.pauseMarket()
      return ok({ running: false })
    }
    if (head === "market" && arg === "resume") {
      this.resumeMarket()
      return ok({ running: true })
    }
    if (head === "market" && arg === "step") return ok({ stepped: this.stepMarket(typeof fields.count === "number" ? fields.count : 1) })
    if (head === "markets" && arg !== undefined && action === "suspend") {
      this.exchange.engine.setSuspended(arg, fields.suspended !== false)
      return ok({ symbol: arg, suspended: this.exchange.engine.isSuspended(arg) })
    }
    if (head === "orders") return ok(this.placeAs(fields))
    if (head === "funding") {
      // One funding payment now (the funding model's clock runs by itself too).
      this.exchange.fund()
      return ok({ funded: true })
    }
    return notFound
  }

  /** Places an order for any account without authentication: other participants in tests. */
  placeAs(fields: Record<string, unknown>): Record<string, unknown> {
    const dec = (v: unknown) => {
      if (typeof v !== "string" && typeof v !== "number") return undefined
      const parsed = parseDecimal(String(v))
      return Either.isRight(parsed) ? parsed.right : undefined
    }
    const str = (v: unknown) => (typeof v === "string" ? v : undefined)
    const out = this.exchange.send({
      account: str(fields.account) ?? "admin", symbol: str(fields.symbol) ?? "", orderType: str(fields.orderType) ?? "lmt", side: str(fields.side) ?? "",
      size: dec(fields.size), limitPrice: dec(fields.limitPrice), stopPrice: dec(fields.stopPrice), cliOrdId: str(fields.cliOrdId), reduceOnly: fields.reduceOnly === true
    })
    return { status: out.status, order: out.order ?? null }
  }
}
