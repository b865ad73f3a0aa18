import { createHash, createHmac, timingSafeEqual } from "node:crypto"

/**
 * Kraken Futures request and challenge signatures. Both are
 * base64(HMAC-SHA512(key = base64decode(secret), msg = SHA256(text))).
 */
const sign = (secretBase64: string, text: string): string =>
  createHmac("sha512", Buffer.from(secretBase64, "base64")).update(createHash("sha256").update(text, "utf8").digest()).digest("base64")

/** `Authent` for a REST call; `endpointPath` is without the `/derivatives` prefix. */
export const signRequest = (secretBase64: string, postData: string, nonce: string, endpointPath: string): string =>
  sign(secretBase64, postData + nonce + endpointPath)

/** `signed_challenge` for the private WebSocket feeds. */
export const signChallenge = (secretBase64: string, challenge: string): string => sign(secretBase64, challenge)

export const sameSignature = (expected: string, given: string): boolean => {
  const a = Buffer.from(expected, "utf8")
  const b = Buffer.from(given, "utf8")
  return a.length === b.length && timingSafeEqual(a, b)
}
