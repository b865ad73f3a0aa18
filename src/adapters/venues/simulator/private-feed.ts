import { randomUUID } from "node:crypto"
import type { Decimal } from "../../../domain/decimal.js"
import { sameSignature, signChallenge } from "./auth.js"
import type { EngineEffect, FillView, OrderView, PositionView } from "./engine-types.js"
import type { AccountLogRow } from "./history.js"
import type { MarginState } from "./margin.js"
import { isoTime, wsFill, wsOrder, wsPosition } from "./protocol.js"
import type { FeedConnection } from "./public-feed.js"

export interface FeedAccount {
  readonly name: string
  readonly apiKey: string
  readonly apiSecret: string
}

/** What the private feed reads from the exchange. */
export interface PrivateFeedSource {
  readonly now: () => number
  readonly accountByKey: (apiKey: string) => FeedAccount | undefined
  readonly openOrders: (account: string) => ReadonlyArray<OrderView>
  readonly fills: (account: string) => ReadonlyArray<FillView>
  readonly positions: (account: string) => ReadonlyArray<PositionView>
  readonly markPrice: (symbol: string) => Decimal | undefined
  readonly collateral: (account: string) => Decimal
  /** The margin model's figures for the `balances` feed. */
  readonly margin?: (account: string) => MarginState
  /** Orders the venue's liquidation engine sent: their fills are `fill_type: "liquidation"`. */
  readonly isLiquidation?: (orderId: string) => boolean
  /** The account log, oldest first (the `account_log` snapshot). */
  readonly accountLog?: (account: string) => ReadonlyArray<AccountLogRow>
  /** Private `fills` messages go through here so the delay and duplicate faults apply. */
  readonly deliverFill: (deliver: () => void) => void
}

const PRIVATE_FEEDS: ReadonlySet<string> = new Set(["open_orders", "open_orders_verbose", "fills", "open_positions", "balances", "account_log", "notifications_auth"])
const FILLS_SNAPSHOT_SIZE = 100
const ACCOUNT_LOG_SNAPSHOT_SIZE = 100

/** An account-log row as the feed sends it (the REST history's fields, `date` as ISO text). */
const logEntry = (r: AccountLogRow): Record<string, unknown> => ({ id: r.id, date: isoTime(r.date), info: r.info, ...r.row })

export const isPrivateFeed = (feed: string): boolean => PRIVATE_FEEDS.has(feed)

/**
 * The authenticated feeds. A connection asks for a challenge, signs it with its secret and
 * sends the signature with every private subscribe; the challenge must have been issued on
 * the same connection for the same key.
 */
export class PrivateFeed {
  private readonly challenges = new Map<FeedConnection, Map<string, string>>()
  private readonly subscriptions = new Map<FeedConnection, { account: string; feeds: Set<string> }>()
  private balanceSeq = 0

  constructor(private readonly source: PrivateFeedSource) {}

  disconnect(conn: FeedConnection): void {
    this.challenges.delete(conn)
    this.subscriptions.delete(conn)
  }

  challenge(conn: FeedConnection, apiKey: unknown): void {
    if (typeof apiKey !== "string" || this.source.accountByKey(apiKey) === undefined) {
      conn.send({ event: "error", message: "Invalid API key" })
      return
    }
    const message = randomUUID()
    const issued = this.challenges.get(conn) ?? new Map<string, string>()
    issued.set(message, apiKey)
    this.challenges.set(conn, issued)
    conn.send({ event: "challenge", message })
  }

  subscribe(conn: FeedConnection, msg: Record<string, unknown>, subscribing: boolean): void {
    const feed = String(msg.feed)
    const apiKey = msg.api_key
    const original = msg.original_challenge
    const signed = msg.signed_challenge
    const account = typeof apiKey === "string" ? this.source.accountByKey(apiKey) : undefined
    const issuedFor = typeof original === "string" ? this.challenges.get(conn)?.get(original) : undefined
    const valid = account !== undefined && typeof original === "string" && typeof signed === "string" && issuedFor === apiKey &&
      sameSignature(signChallenge(account.apiSecret, original), signed)
    const ack = { feed, api_key: apiKey, original_challenge: original, signed_challenge: signed }
    if (!valid || account === undefined) {
      conn.send({ event: subscribing ? "subscribed_failed" : "unsubscribed_failed", ...ack, message: "Invalid challenge" })
      return
    }
    const current = this.subscriptions.get(conn)
    const entry = current !== undefined && current.account === account.name ? current : { account: account.name, feeds: new Set<string>() }
    this.subscriptions.set(conn, entry)
    if (!subscribing) {
      entry.feeds.delete(feed)
      conn.send({ event: "unsubscribed", ...ack })
      return
    }
    entry.feeds.add(feed)
    conn.send({ event: "subscribed", ...ack })
    const name = account.name
    switch (feed) {
      case "open_orders":
      case "open_orders_verbose":
        conn.send({ feed: `${feed}_snapshot`, account: name, orders: this.source.openOrders(name).map(wsOrder) })
        break
      case "fills":
        conn.send({ feed: "fills_snapshot", account: name, fills: this.source.fills(name).slice(-FILLS_SNAPSHOT_SIZE).reverse().map((f) => this.fill(f)) })
        break
      case "open_positions":
        conn.send(this.positionsMessage(name))
        break
      case "balances":
        conn.send(this.balancesMessage(name, "balances_snapshot"))
        break
      case "account_log":
        // The newest entries, newest first, as the venue's snapshot.
        conn.send({ feed: "account_log_snapshot", logs: (this.source.accountLog?.(name) ?? []).slice(-ACCOUNT_LOG_SNAPSHOT_SIZE).reverse().map(logEntry) })
        break
      default:
        break
    }
  }

  onEffects(effects: ReadonlyArray<EngineEffect>): void {
    const positionsChanged = new Set<string>()
    for (const e of effects) {
      if (e.kind === "order") {
        // A cancel frame carries only `order_id`, as the real venue's do: a client must map the
        // venue order id itself (from the sendorder reply or an earlier frame) to attribute it.
        const message = e.isCancel
          ? { feed: "open_orders", order_id: e.order.orderId, is_cancel: true, reason: e.reason }
          : { feed: "open_orders", order: wsOrder(e.order), is_cancel: false, reason: e.reason }
        this.broadcast(e.account, "open_orders", message)
        this.broadcast(e.account, "open_orders_verbose", { ...message, feed: "open_orders_verbose" })
      } else if (e.kind === "fill") {
        const message = { feed: "fills", username: e.account, fills: [this.fill(e.fill)] }
        const targets = this.targets(e.account, "fills")
        if (targets.length > 0) this.source.deliverFill(() => targets.forEach((c) => c.send(message)))
      } else if (e.kind === "position") {
        positionsChanged.add(e.account)
      }
    }
    for (const account of positionsChanged) {
      this.broadcast(account, "open_positions", this.positionsMessage(account))
      this.broadcast(account, "balances", this.balancesMessage(account, "balances"))
    }
  }

  private fill(f: FillView): Record<string, unknown> {
    const w = wsFill(f) as Record<string, unknown>
    return this.source.isLiquidation?.(f.orderId) === true ? { ...w, fill_type: "liquidation" } : w
  }

  /** A new account-log row (a trade, a liquidation, a funding payment). */
  onAccountLog(account: string, row: AccountLogRow): void {
    this.broadcast(account, "account_log", { feed: "account_log", new_entry: logEntry(row) })
  }

  /** The account's collateral changed without a position change (funding): a fresh `balances`. */
  onBalanceChanged(account: string): void {
    this.broadcast(account, "balances", this.balancesMessage(account, "balances"))
  }

  private positionsMessage(account: string): Record<string, unknown> {
    const positions = this.source.positions(account).filter((p) => !p.balance.isZero())
    return { feed: "open_positions", account, positions: positions.map((p) => wsPosition(p, this.source.markPrice(p.symbol))), seq: ++this.balanceSeq, timestamp: this.source.now() }
  }

  /** The flex account: USD collateral and the margin model's figures (10 decimals at most). */
  private balancesMessage(account: string, feed: string): Record<string, unknown> {
    const usd = this.source.collateral(account)
    const m = this.source.margin?.(account)
    const r = (d: Decimal | undefined, fallback: Decimal | number): Decimal | number => (d === undefined ? fallback : d.toDecimalPlaces(10))
    return {
      feed, account, holding: {}, futures: {},
      flex_futures: {
        currencies: { USD: { quantity: usd, value: usd, collateral_value: usd, available: r(m?.available, usd), haircut: 0, conversion_spread: 0 } },
        balance_value: usd, portfolio_value: r(m?.equity, usd), collateral_value: usd, initial_margin: r(m?.initialMarginWithOrders, 0),
        initial_margin_without_orders: r(m?.initialMargin, 0), maintenance_margin: r(m?.maintenanceMargin, 0), pnl: r(m?.unrealizedPnl, 0), unrealized_funding: 0,
        total_unrealized: r(m?.unrealizedPnl, 0), total_unrealized_as_margin: r(m?.unrealizedPnl, 0), margin_equity: r(m?.equity, usd), available_margin: r(m?.available, usd)
      },
      timestamp: this.source.now(), seq: ++this.balanceSeq
    }
  }

  private targets(account: string, feed: string): FeedConnection[] {
    const out: FeedConnection[] = []
    for (const [conn, sub] of this.subscriptions) if (sub.account === account && sub.feeds.has(feed)) out.push(conn)
    return out
  }

  private broadcast(account: string, feed: string, message: unknown): void {
    for (const conn of this.targets(account, feed)) conn.send(message)
  }
}
