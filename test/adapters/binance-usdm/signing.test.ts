import { describe, expect, it } from "vitest"
import {
  checkTimestamp, hmacSha256Hex, sameHexSignature, signedParams, signTotalParams, signWsApiParams, splitSignature, wsApiPayload
} from "../../../src/adapters/venues/binance-usdm/signing.js"

// The venue's documented vector ("SIGNED Endpoint Examples for POST /fapi/v1/order – HMAC Keys").
const SECRET = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9"
const QUERY = "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC&recvWindow=5000&timestamp=1591702613943"
const EXPECTED = "3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9"

describe("Binance USD-M signing", () => {
  it("reproduces the reference's HMAC test vector (query string and body give the same signature)", () => {
    expect(hmacSha256Hex(SECRET, QUERY)).toBe(EXPECTED)
    expect(signTotalParams(SECRET, QUERY)).toBe(EXPECTED)
    expect(signTotalParams(SECRET, "", QUERY)).toBe(EXPECTED)
  })

  it("reproduces the mixed query-and-body example (concatenated with no separator, the docs' literal space kept)", () => {
    const query = "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC"
    const body = "quantity=1&price=9000&recvWindow=5000&timestamp= 1591702613943"
    expect(signTotalParams(SECRET, query, body)).toBe("f9d0ae5e813ef6ccf15c2b5a434047a0181cb5a342b903b367ca6d27a66e36f2")
  })

  it("signedParams builds the vector's exact string with recvWindow and timestamp last and the signature after them", () => {
    const params: Array<[string, string]> = [["symbol", "BTCUSDT"], ["side", "BUY"], ["type", "LIMIT"], ["quantity", "1"], ["price", "9000"], ["timeInForce", "GTC"]]
    expect(signedParams(SECRET, params, { timestamp: 1591702613943, recvWindow: 5000 })).toBe(`${QUERY}&signature=${EXPECTED}`)
    expect(signedParams(SECRET, params, { timestamp: 1591702613943 })).not.toContain("recvWindow")
  })

  it("splitSignature recovers the signed payload from the raw request and the signature verifies case-insensitively", () => {
    const { payload, signature } = splitSignature("", `${QUERY}&signature=${EXPECTED.toUpperCase()}`)
    expect(payload).toBe(QUERY)
    expect(signature).toBe(EXPECTED.toUpperCase())
    expect(sameHexSignature(signTotalParams(SECRET, payload), signature ?? "")).toBe(true)
    expect(sameHexSignature(EXPECTED, EXPECTED.replace(/^3/, "4"))).toBe(false)
    expect(sameHexSignature(EXPECTED, EXPECTED.slice(1))).toBe(false)
  })

  it("the timestamp rule: within recvWindow, stale beyond it, refused 1000 ms or more ahead", () => {
    expect(checkTimestamp(10_000, 5000, 15_000)).toBe("ok")
    expect(checkTimestamp(10_000, 5000, 15_001)).toBe("outsideRecvWindow")
    expect(checkTimestamp(10_999, 5000, 10_000)).toBe("ok")
    expect(checkTimestamp(11_000, 5000, 10_000)).toBe("ahead")
  })

  it("the WebSocket API signs its parameters sorted by name, signature excluded", () => {
    const params = { symbol: "BTCUSDT", apiKey: "k", timestamp: 5, side: "BUY", signature: "x" }
    expect(wsApiPayload(params)).toBe("apiKey=k&side=BUY&symbol=BTCUSDT&timestamp=5")
    expect(signWsApiParams(SECRET, params)).toBe(hmacSha256Hex(SECRET, "apiKey=k&side=BUY&symbol=BTCUSDT&timestamp=5"))
  })
})
