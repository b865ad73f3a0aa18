import { describe, expect, it } from "vitest"
import { BINANCE_ERROR_CODES, errorFromReply, networkError, outcomeUnknown, retryable } from "../../../src/adapters/venues/binance-usdm/errors.js"

const reply = (status: number, code: number | undefined, msg: string, retryAfter?: string) =>
  errorFromReply({ endpoint: "POST /fapi/v1/order", status, body: code === undefined ? msg : JSON.stringify({ code, msg }), retryAfter, now: 1_000_000 })

describe("Binance USD-M errors", () => {
  it("429 is a backoff error with the Retry-After wait, whatever the code", () => {
    const e = reply(429, -1003, "Too many requests; current limit is 2400 requests per minute.", "17")
    expect(e._tag).toBe("RateLimited")
    expect(e._tag === "RateLimited" && [e.limit, e.retryAfterMs]).toEqual(["weight", 17_000])
    const orders = reply(429, -1015, "Too many new orders; current limit is 300 orders per 10 SECOND.")
    expect(orders._tag === "RateLimited" && [orders.limit, orders.retryAfterMs]).toEqual(["orders", 60_000])
    expect(reply(429, undefined, "<html>slow down</html>")._tag).toBe("RateLimited")
    expect(retryable(e)).toBe(true)
    expect(outcomeUnknown(e)).toBe(false)
  })

  it("418 is Banned, with the time the body names (as the face and the venue word it)", () => {
    const e = reply(418, -1003, "Way too many requests; IP(127.0.0.1) banned until 1000120000. Please use the websocket for live updates to avoid bans.", "120")
    expect(e._tag).toBe("Banned")
    expect(e._tag === "Banned" && [e.untilMs, e.retryAfterMs]).toEqual([1_000_120_000, 120_000])
    const bare = reply(418, undefined, "")
    expect(bare._tag === "Banned" && [bare.untilMs, bare.retryAfterMs]).toEqual([1_120_000, 120_000])
  })

  it("maps every documented code to its typed error", () => {
    const cases: Array<[number, string, string?]> = [
      [-1000, "VenueUnavailable"], [-1001, "VenueUnavailable"], [-1006, "VenueUnavailable"], [-1007, "VenueUnavailable"], [-1008, "Throttled"],
      [-1015, "RateLimited"], [-1021, "TimestampRejected"], [-1022, "AuthenticationFailed"], [-1100, "InvalidArgument", "request"],
      [-1102, "InvalidArgument", "request"], [-1111, "InvalidArgument", "precision"], [-1115, "InvalidArgument", "timeInForce"],
      [-1116, "InvalidArgument", "orderType"], [-1117, "InvalidArgument", "side"], [-1121, "UnknownSymbol"], [-1125, "AuthenticationFailed"],
      [-2010, "OrderRejected", "rejected"], [-2011, "OrderNotFound"], [-2013, "OrderNotFound"], [-2014, "AuthenticationFailed"], [-2015, "AuthenticationFailed"],
      [-2018, "InsufficientFunds"], [-2019, "InsufficientFunds"], [-2021, "OrderRejected", "wouldTrigger"], [-2022, "OrderRejected", "reduceOnly"],
      [-2025, "OrderRejected", "maxOpenOrders"], [-2027, "OrderRejected", "maxPosition"], [-4003, "InvalidArgument", "quantity"], [-4004, "InvalidArgument", "quantity"],
      [-4005, "InvalidArgument", "quantity"], [-4013, "InvalidArgument", "price"], [-4014, "InvalidArgument", "price"], [-4015, "InvalidArgument", "clientOrderId"],
      [-4016, "InvalidArgument", "price"], [-4023, "InvalidArgument", "quantity"], [-4024, "InvalidArgument", "price"], [-4046, "AccountSettingRejected"],
      [-4047, "AccountSettingRejected"], [-4061, "InvalidArgument", "positionSide"], [-4068, "AccountSettingRejected"], [-4116, "DuplicateClientOrderId"],
      [-4118, "OrderRejected", "reduceOnlyMargin"], [-4120, "InvalidArgument", "conditional"], [-4131, "OrderRejected", "percentPrice"],
      [-4164, "OrderRejected", "minNotional"], [-5021, "OrderRejected", "fok"], [-5022, "OrderRejected", "postOnly"], [-5027, "OrderRejected", "sameOrder"],
      [-5028, "OrderRejected", "recvWindow"]
    ]
    for (const [code, tag, sub] of cases) {
      const e = reply(400, code, "m")
      expect([code, e._tag]).toEqual([code, tag])
      if (sub !== undefined) expect([code, e._tag === "InvalidArgument" ? e.field : e._tag === "OrderRejected" ? e.reason : undefined]).toEqual([code, sub])
      expect(e._tag !== "VenueDecodeError" && e.code).toBe(code)
    }
    // The table holds nothing the test does not check.
    const tested = new Set(cases.map(([c]) => c))
    expect(Object.keys(BINANCE_ERROR_CODES).map(Number).filter((c) => !tested.has(c) && c !== -1003 && c !== -1101 && c !== -1131 && c !== -4059)).toEqual([])
  })

  it("tells the 503 variants apart: unknown outcome (reconcile, never resend) vs certain failure", () => {
    const unknown = reply(503, -1000, "Unknown error, please check your request or try again later.")
    expect(unknown._tag === "VenueUnavailable" && unknown.mayHaveReached).toBe(true)
    expect(outcomeUnknown(unknown)).toBe(true)
    expect(retryable(unknown)).toBe(false)
    const down = reply(503, undefined, "Service Unavailable.")
    expect(down._tag === "VenueUnavailable" && down.mayHaveReached).toBe(false)
    expect(retryable(down)).toBe(true)
    const internal = reply(503, -1001, "Internal error; unable to process your request. Please try again.")
    expect(outcomeUnknown(internal)).toBe(false)
    expect(reply(503, -1008, "Request throttled by system-level protection.")._tag).toBe("Throttled")
    expect(outcomeUnknown(reply(502, undefined, "<html>Bad gateway</html>"))).toBe(true)
    expect(outcomeUnknown(networkError("POST /fapi/v1/order", "timeout", "aborted", true))).toBe(true)
    expect(outcomeUnknown(networkError("POST /fapi/v1/order", "network", "ECONNREFUSED", false))).toBe(false)
  })

  it("an undocumented code is UnknownVenueError (outcome unknown); a bare 401 is an auth failure", () => {
    const e = reply(400, -9999, "new thing")
    expect(e._tag).toBe("UnknownVenueError")
    expect(outcomeUnknown(e)).toBe(true)
    expect(reply(401, undefined, "")._tag).toBe("AuthenticationFailed")
  })
})
