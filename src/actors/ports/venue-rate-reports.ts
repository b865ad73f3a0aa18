/**
 * What a venue gateway tells risk about its rate limits after a request: the venue's own counts
 * (response headers, the WebSocket API's `rateLimits`), a 429 and a 418. The account's risk actor
 * is the implementation (`RiskActor.rateReports`). Charging before a send stays where it was: an
 * order action is charged by risk's approval (`ApprovedAction`), a read by `RequestBudget.reserve`.
 */

/** Header values as fetch's `Headers` or node's `IncomingHttpHeaders` give them. */
export type ResponseHeaders = { readonly get: (name: string) => string | null } | Readonly<Record<string, string | ReadonlyArray<string> | undefined>>

export interface WsRateLimit {
  readonly rateLimitType: string
  readonly interval: string
  readonly intervalNum: number
  readonly count: number
}

export interface VenueRateReportsService {
  /** Every response's headers (`X-MBX-USED-WEIGHT-1M`, `X-MBX-ORDER-COUNT-10S`, `-1M`; any case). */
  readonly syncFromHeaders: (headers: ResponseHeaders) => void
  /** A WebSocket API reply's `rateLimits` array. */
  readonly syncFromRateLimits: (limits: ReadonlyArray<WsRateLimit>) => void
  /**
   * HTTP 429 (Binance `-1003` on the address's weight: `budget: "weight1m"`; `-1015` on the
   * account's orders: `"orders10s"` or `"orders1m"` as the message says; unknown: every budget).
   * Backs off until `Retry-After` (from `headers`) or the window has reset. Returns the budgets held.
   */
  readonly tooManyRequests: (r: { readonly budget?: string; readonly headers?: ResponseHeaders; readonly why: string }) => ReadonlyArray<string>
  /**
   * HTTP 418: the address is banned (`untilWall`: epoch ms from the venue's "banned until"
   * message; else `Retry-After`; at least 2 minutes). Every account on that venue from that address
   * halts with the `venueBan` cause until then; other venues trade on.
   */
  readonly banned: (r: { readonly untilWall?: number; readonly headers?: ResponseHeaders; readonly why: string }) => void
}
