import { createHmac, timingSafeEqual } from "node:crypto"

/**
 * Binance USD-M HMAC-SHA256 signing, shared by the adapter (which signs) and the simulator's
 * Binance face (which verifies). The venue signs `totalParams`, the query string concatenated
 * with the body (no separator), and wants the hex signature as the last parameter.
 */

/** The venue's default `recvWindow` when a request sends none. */
export const DEFAULT_RECV_WINDOW_MS = 5000
/** A timestamp more than this far ahead of the server's clock is refused whatever the window. */
export const MAX_AHEAD_MS = 1000

/** hex(HMAC_SHA256(secret, payload)); the secret is used as its UTF-8 bytes, as the venue does. */
export const hmacSha256Hex = (secret: string, payload: string): string => createHmac("sha256", secret).update(payload, "utf8").digest("hex")

/** The signature of a REST request: over the raw query string followed by the raw body. */
export const signTotalParams = (secret: string, query: string, body = ""): string => hmacSha256Hex(secret, query + body)

/** Percent-encodes a parameter the way `URLSearchParams` does (what the venue decodes). */
const encode = (params: ReadonlyArray<readonly [string, string]>): string => new URLSearchParams(params.map(([k, v]): [string, string] => [k, v])).toString()

export interface SignOptions {
  readonly timestamp: number
  /** Omitted: the venue's default (5000 ms) applies and nothing is sent. */
  readonly recvWindow?: number | undefined
}

/**
 * A signed parameter string, ready as a query string (GET/DELETE) or an
 * `application/x-www-form-urlencoded` body (POST/PUT): the parameters in the given order, then
 * `recvWindow` and `timestamp`, then `signature` last.
 */
export const signedParams = (secret: string, params: ReadonlyArray<readonly [string, string]>, options: SignOptions): string => {
  const all: Array<readonly [string, string]> = [...params]
  if (options.recvWindow !== undefined) all.push(["recvWindow", String(options.recvWindow)])
  all.push(["timestamp", String(options.timestamp)])
  const text = encode(all)
  return `${text}&signature=${hmacSha256Hex(secret, text)}`
}

/**
 * The WebSocket API's signature: every parameter except `signature`, sorted by name, joined as
 * `k=v&…` (values as sent, not percent-encoded), then HMAC-SHA256 hex.
 */
export const wsApiPayload = (params: Readonly<Record<string, unknown>>): string =>
  Object.keys(params)
    .filter((k) => k !== "signature")
    .sort()
    .map((k) => `${k}=${String(params[k])}`)
    .join("&")

export const signWsApiParams = (secret: string, params: Readonly<Record<string, unknown>>): string => hmacSha256Hex(secret, wsApiPayload(params))

/** Compares hex signatures in constant time; the venue treats them case-insensitively. */
export const sameHexSignature = (expected: string, given: string): boolean => {
  const a = Buffer.from(expected.toLowerCase(), "utf8")
  const b = Buffer.from(given.toLowerCase(), "utf8")
  return a.length === b.length && timingSafeEqual(a, b)
}

export type TimestampCheck = "ok" | "outsideRecvWindow" | "ahead"

/**
 * The venue's rule: process if `timestamp < serverTime + 1000 && serverTime - timestamp <= recvWindow`.
 * Both refusals are `-1021` with different messages.
 */
export const checkTimestamp = (timestamp: number, recvWindow: number, serverTime: number): TimestampCheck => {
  if (timestamp >= serverTime + MAX_AHEAD_MS) return "ahead"
  if (serverTime - timestamp > recvWindow) return "outsideRecvWindow"
  return "ok"
}

/**
 * The raw `totalParams` a request was signed over, and the signature it carries: the query
 * string and body as received, with `&signature=…` taken out (never re-serialized, so any
 * parameter order or encoding the client chose verifies).
 */
export const splitSignature = (query: string, body: string): { readonly payload: string; readonly signature: string | undefined } => {
  let signature: string | undefined
  const strip = (text: string): string => {
    if (text === "") return text
    const parts = text.split("&")
    const kept: string[] = []
    for (const part of parts) {
      if (part.startsWith("signature=")) signature = decodeURIComponent(part.slice("signature=".length))
      else kept.push(part)
    }
    return kept.join("&")
  }
  return { payload: strip(query) + strip(body), signature }
}
