import { Effect, Either } from "effect"
import { Decimal } from "../../../domain/decimal.js"
import { ManagedConnection, type ConnectionConfig, type ConnectionSignal } from "../kraken-futures/ws-connection.js"
import { shapeOf, VenueDecodeError, type BinanceRestError } from "./errors.js"
import type { BinanceRestClient } from "./rest.js"

/**
 * The Binance USD-M user data stream: a listenKey (`POST /fapi/v1/listenKey`), kept alive
 * (`PUT`, default every 30 min; the venue expires a key after 60 min without one), and one
 * socket on `<ws>/private/ws/<listenKey>` (the routed path since the stream split), driven by
 * the venue-connection machine (backoff, heartbeat, reconnect).
 *
 * A key can die three ways: the stream says `listenKeyExpired`, the keep-alive answers `-1125`,
 * or the socket closes and reconnects. In each case the session is renewed (a new key and a new
 * socket for the first two, the same key for the third) and, once the new socket is open, the
 * owner hears `Resumed`: events between the old socket's last frame and the new one's first may
 * be lost, so the owner reconciles by REST (open orders and trades, by client order id). The
 * stream itself does not invent events; it decodes the venue's frames into `UserUpdate`s.
 */

/** One `ORDER_TRADE_UPDATE` (`o`), decimals as text. */
export interface OrderUpdate {
  readonly _tag: "OrderUpdate"
  readonly symbol: string
  readonly clientOrderId: string
  readonly side: "buy" | "sell"
  /** Execution type `x`: NEW, TRADE, CANCELED, EXPIRED, AMENDMENT, CALCULATED (liquidation). */
  readonly execution: string
  /** Order status `X`. */
  readonly status: string
  readonly orderId: number
  readonly origQty: string
  readonly price: string
  readonly stopPrice: string
  readonly lastQty: string
  readonly lastPrice: string
  readonly fee: string | undefined
  readonly feeAsset: string | undefined
  readonly tradeId: number
  readonly maker: boolean
  /** `ot`: the original order type (`LIQUIDATION` for the venue's own close). */
  readonly originalType: string
  readonly eventTime: number
  readonly tradeTime: number
}

/** One `ALGO_UPDATE` (`o`): a conditional order's own life (NEW, CANCELED, TRIGGERED, FINISHED, REJECTED, EXPIRED). */
export interface AlgoUpdate {
  readonly _tag: "AlgoUpdate"
  readonly symbol: string
  readonly clientAlgoId: string
  readonly algoId: number
  readonly status: string
  readonly quantity: string
  readonly triggerPrice: string
  readonly price: string
  /** The triggered order's id (`ai`), empty before the trigger. */
  readonly actualOrderId: string
  readonly eventTime: number
}

/** One position of an `ACCOUNT_UPDATE` (`a.P[]`): the venue's figure, for reconciliation. */
export interface PositionUpdate {
  readonly symbol: string
  readonly amount: Decimal
  readonly entryPrice: Decimal
}

export interface AccountUpdate {
  readonly _tag: "AccountUpdate"
  readonly reason: string
  readonly walletBalance: Decimal | undefined
  readonly positions: ReadonlyArray<PositionUpdate>
  readonly eventTime: number
}

export type UserUpdate = OrderUpdate | AlgoUpdate | AccountUpdate

export type UserStreamSignal =
  | ConnectionSignal
  /** A socket on a live key is open and reading. `resumed`: not the first: events may have been missed. */
  | { readonly _tag: "Listening"; readonly resumed: boolean; readonly renewals: number }
  | { readonly _tag: "ListenKeyExpired"; readonly how: "stream" | "keepAlive" }
  | { readonly _tag: "ListenKeyFailed"; readonly error: BinanceRestError }
  | { readonly _tag: "DecodeFailed"; readonly error: VenueDecodeError }

export interface UserStreamConfig extends Omit<ConnectionConfig, "url"> {
  readonly rest: BinanceRestClient
  /** The stream host, e.g. `wss://fstream.binance.com` (the path `/private/ws/<key>` is added). */
  readonly wsUrl: string
  /** Keep-alive period (default 30 min). */
  readonly keepAliveMs?: number
  /** After a failed key request, the next try (default 2 s). */
  readonly retryMs?: number
  readonly onUpdate: (u: UserUpdate) => void
  readonly onSignal?: (s: UserStreamSignal) => void
}

export interface UserStreamCounters {
  readonly frames: number
  readonly updates: number
  readonly renewals: number
  readonly keepAlives: number
  readonly resumes: number
  readonly badFrames: number
}

const str = (o: Record<string, unknown>, k: string): string | undefined => {
  const v = o[k]
  return typeof v === "string" ? v : undefined
}
const num = (o: Record<string, unknown>, k: string): number | undefined => {
  const v = o[k]
  return typeof v === "number" && Number.isFinite(v) ? v : undefined
}

const decimalOf = (s: string | undefined): Decimal | undefined => {
  if (s === undefined || !/^-?\d+(\.\d+)?$/.test(s)) return undefined
  return new Decimal(s)
}

/**
 * One user data stream frame → its update, `undefined` for frames that carry none (`listenKeyExpired`
 * is handled by the stream; `TRADE_LITE`, `MARGIN_CALL`, …), or a decode error.
 */
export const decodeUserFrame = (text: string): UserUpdate | "listenKeyExpired" | undefined | VenueDecodeError => {
  let msg: unknown
  try {
    msg = JSON.parse(text)
  } catch {
    return new VenueDecodeError({ source: "user stream", reason: "not JSON", shape: shapeOf(text) })
  }
  if (typeof msg !== "object" || msg === null) return new VenueDecodeError({ source: "user stream", reason: "not an object", shape: shapeOf(msg) })
  const m = msg as Record<string, unknown>
  const e = str(m, "e")
  const E = num(m, "E") ?? 0
  const bad = (reason: string) => new VenueDecodeError({ source: `user stream ${e ?? "?"}`, reason, shape: shapeOf(m["o"] ?? m["a"] ?? m) })
  switch (e) {
    case "listenKeyExpired":
      return "listenKeyExpired"
    case "ORDER_TRADE_UPDATE": {
      const o = m["o"]
      if (typeof o !== "object" || o === null) return bad("no o")
      const r = o as Record<string, unknown>
      const s = str(r, "s")
      const c = str(r, "c")
      const S = str(r, "S")
      const x = str(r, "x")
      const X = str(r, "X")
      const i = num(r, "i")
      if (s === undefined || c === undefined || (S !== "BUY" && S !== "SELL") || x === undefined || X === undefined || i === undefined) return bad("missing s/c/S/x/X/i")
      return {
        _tag: "OrderUpdate",
        symbol: s,
        clientOrderId: c,
        side: S === "BUY" ? "buy" : "sell",
        execution: x,
        status: X,
        orderId: i,
        origQty: str(r, "q") ?? "0",
        price: str(r, "p") ?? "0",
        stopPrice: str(r, "sp") ?? "0",
        lastQty: str(r, "l") ?? "0",
        lastPrice: str(r, "L") ?? "0",
        fee: str(r, "n"),
        feeAsset: str(r, "N"),
        tradeId: num(r, "t") ?? 0,
        maker: r["m"] === true,
        originalType: str(r, "ot") ?? str(r, "o") ?? "",
        eventTime: E,
        tradeTime: num(r, "T") ?? num(m, "T") ?? E
      }
    }
    case "ALGO_UPDATE": {
      const o = m["o"]
      if (typeof o !== "object" || o === null) return bad("no o")
      const r = o as Record<string, unknown>
      const caid = str(r, "caid")
      const aid = num(r, "aid")
      const s = str(r, "s")
      const X = str(r, "X")
      if (caid === undefined || aid === undefined || s === undefined || X === undefined) return bad("missing caid/aid/s/X")
      return { _tag: "AlgoUpdate", symbol: s, clientAlgoId: caid, algoId: aid, status: X, quantity: str(r, "q") ?? "0", triggerPrice: str(r, "tp") ?? "0", price: str(r, "p") ?? "0", actualOrderId: str(r, "ai") ?? "", eventTime: E }
    }
    case "ACCOUNT_UPDATE": {
      const a = m["a"]
      if (typeof a !== "object" || a === null) return bad("no a")
      const r = a as Record<string, unknown>
      const balances = Array.isArray(r["B"]) ? (r["B"] as unknown[]) : []
      const usdt = balances.find((b): b is Record<string, unknown> => typeof b === "object" && b !== null && ((b as Record<string, unknown>)["a"] === "USDT" || (b as Record<string, unknown>)["a"] === "USDC"))
      const positions: PositionUpdate[] = []
      for (const p of Array.isArray(r["P"]) ? (r["P"] as unknown[]) : []) {
        if (typeof p !== "object" || p === null) return bad("position not an object")
        const q = p as Record<string, unknown>
        const s = str(q, "s")
        const amount = decimalOf(str(q, "pa"))
        const entry = decimalOf(str(q, "ep"))
        if (s === undefined || amount === undefined || entry === undefined) return bad("position without s/pa/ep")
        positions.push({ symbol: s, amount, entryPrice: entry })
      }
      return { _tag: "AccountUpdate", reason: str(r, "m") ?? "", walletBalance: decimalOf(usdt === undefined ? undefined : str(usdt, "wb")), positions, eventTime: E }
    }
    default:
      return undefined
  }
}

export class BinanceUserStream {
  private connection: ManagedConnection | undefined
  private listenKey: string | undefined
  private keepAliveTimer: ReturnType<typeof setInterval> | undefined
  private retryTimer: ReturnType<typeof setTimeout> | undefined
  private stopped = true
  /** Sockets opened on any key so far: every one after the first is a resume. */
  private opens = 0
  /** Bumped per session: a late answer for an old session is ignored. */
  private generation = 0
  private c = { frames: 0, updates: 0, renewals: 0, keepAlives: 0, resumes: 0, badFrames: 0 }

  constructor(private readonly config: UserStreamConfig) {}

  counters(): UserStreamCounters {
    return { ...this.c }
  }

  /** The live key (tests, the inspector). */
  currentListenKey(): string | undefined {
    return this.listenKey
  }

  start(): void {
    if (!this.stopped) return
    this.stopped = false
    this.open()
  }

  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    this.generation++
    if (this.keepAliveTimer !== undefined) clearInterval(this.keepAliveTimer)
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer)
    this.keepAliveTimer = undefined
    this.retryTimer = undefined
    const c = this.connection
    this.connection = undefined
    const key = this.listenKey
    this.listenKey = undefined
    await c?.stop()
    if (key !== undefined) await Effect.runPromise(Effect.either(this.config.rest.closeListenKey(key)))
  }

  /** Drop the key and the socket and start a new session (expiry, a refused keep-alive). */
  renew(): void {
    if (this.stopped) return
    this.c.renewals++
    const old = this.connection
    this.connection = undefined
    this.listenKey = undefined
    if (this.keepAliveTimer !== undefined) clearInterval(this.keepAliveTimer)
    this.keepAliveTimer = undefined
    void old?.stop()
    this.open()
  }

  private open(): void {
    const gen = ++this.generation
    void Effect.runPromise(Effect.either(this.config.rest.createListenKey())).then((r) => {
      if (gen !== this.generation || this.stopped) return
      if (Either.isLeft(r)) {
        this.signal({ _tag: "ListenKeyFailed", error: r.left })
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined
          if (gen === this.generation && !this.stopped) this.open()
        }, this.config.retryMs ?? 2000)
        return
      }
      const key = r.right
      this.listenKey = key
      const { rest: _rest, wsUrl, keepAliveMs, retryMs: _retry, onUpdate: _u, onSignal: _s, ...connection } = this.config
      const conn = new ManagedConnection(
        { ...connection, url: `${wsUrl.replace(/\/+$/, "")}/private/ws/${encodeURIComponent(key)}` },
        {
          authenticate: (c) => c.authenticated(),
          subscribe: () => {
            if (this.connection !== conn) return
            const resumed = this.opens++ > 0
            if (resumed) this.c.resumes++
            this.signal({ _tag: "Listening", resumed, renewals: this.c.renewals })
          },
          onText: (t) => {
            if (this.connection === conn) this.onText(t)
          },
          onSignal: (s) => {
            if (this.connection === conn) this.signal(s)
          }
        }
      )
      this.connection = conn
      this.keepAliveTimer = setInterval(() => this.keepAlive(gen, key), keepAliveMs ?? 30 * 60_000)
      this.keepAliveTimer.unref?.()
      conn.start()
    })
  }

  private keepAlive(gen: number, key: string): void {
    void Effect.runPromise(Effect.either(this.config.rest.keepAliveListenKey(key))).then((r) => {
      if (gen !== this.generation || this.stopped) return
      if (Either.isRight(r)) {
        this.c.keepAlives++
        return
      }
      if (r.left._tag === "AuthenticationFailed" && r.left.code === -1125) {
        this.signal({ _tag: "ListenKeyExpired", how: "keepAlive" })
        this.renew()
      } else this.signal({ _tag: "ListenKeyFailed", error: r.left })
    })
  }

  private onText(text: string): void {
    this.c.frames++
    const u = decodeUserFrame(text)
    if (u === undefined) return
    if (u === "listenKeyExpired") {
      this.signal({ _tag: "ListenKeyExpired", how: "stream" })
      this.renew()
      return
    }
    if (u instanceof VenueDecodeError) {
      this.c.badFrames++
      this.signal({ _tag: "DecodeFailed", error: u })
      return
    }
    this.c.updates++
    this.config.onUpdate(u)
  }

  private signal(s: UserStreamSignal): void {
    try {
      this.config.onSignal?.(s)
    } catch {
      // a throwing observer must not take the stream down
    }
  }
}
