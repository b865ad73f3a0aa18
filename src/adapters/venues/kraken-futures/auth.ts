import { createHash, createHmac, createSecretKey, type KeyObject } from "node:crypto"

/**
 * Kraken Futures request signing. Both schemes hash the message with SHA-256 first and then
 * HMAC-SHA512 the binary digest with the base64-decoded API secret; the result is base64.
 */

/** The last secret's decoded key: one account signs every request with the same one. */
let lastSecret: string | undefined
let lastKey: KeyObject | undefined

const keyOf = (secret: string): KeyObject => {
  if (secret !== lastSecret || lastKey === undefined) {
    lastKey = createSecretKey(Buffer.from(secret, "base64"))
    lastSecret = secret
  }
  return lastKey
}

const sign = (secret: string, message: string): string => {
  const digest = createHash("sha256").update(message, "utf8").digest()
  return createHmac("sha512", keyOf(secret)).update(digest).digest("base64")
}

export interface RestSignInput {
  readonly secret: string
  /** The URL-encoded parameter string exactly as sent (query string, or `json=...` body). */
  readonly postData: string
  /** The `Nonce` header value; empty string when no nonce header is sent. */
  readonly nonce: string
  /** Path WITHOUT the `/derivatives` prefix, e.g. `/api/v3/sendorder`. */
  readonly endpointPath: string
}

/** `Authent` header: base64(HMAC-SHA512(base64decode(secret), SHA256(postData + nonce + endpointPath))). */
export const signRest = ({ secret, postData, nonce, endpointPath }: RestSignInput): string =>
  sign(secret, postData + nonce + endpointPath)

/** Signed WS challenge: base64(HMAC-SHA512(base64decode(secret), SHA256(challenge))). */
export const signChallenge = ({ secret, challenge }: { readonly secret: string; readonly challenge: string }): string =>
  sign(secret, challenge)

/**
 * Nonces must increase per API key. Milliseconds times 1000 plus a counter stays increasing
 * within one process even when many requests share a millisecond or the clock steps back.
 */
export const monotonicNonce = (now: () => number = Date.now): (() => string) => {
  let last = 0n
  return () => {
    const candidate = BigInt(Math.trunc(now())) * 1000n
    last = candidate > last ? candidate : last + 1n
    return last.toString()
  }
}
