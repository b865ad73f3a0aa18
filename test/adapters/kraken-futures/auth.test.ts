import { describe, expect, it } from "vitest"
import { monotonicNonce, signChallenge, signRest } from "../../../src/adapters/venues/kraken-futures/auth.js"

describe("kraken-futures signing", () => {
  it("signs a REST call as in the documented vector", () => {
    expect(
      signRest({
        secret: "c2VjcmV0",
        postData: "orderType=lmt&symbol=PF_XBTUSD&side=buy&size=1&limitPrice=100",
        nonce: "",
        endpointPath: "/api/v3/sendorder"
      })
    ).toBe("m9u8/TZdsqdu3I6xjvbn+dd00otCMh53YZphPgytiUJjFhnPPgamwmV2BFH/LtBXfuV85q1o9/PGAKz4pydOoA==")
  })

  it("signs a WS challenge as in Kraken's official vector", () => {
    expect(
      signChallenge({
        secret: "7zxMEF5p/Z8l2p2U7Ghv6x14Af+Fx+92tPgUdVQ748FOIrEoT9bgT+bTRfXc5pz8na+hL/QdrCVG7bh9KpT0eMTm",
        challenge: "c100b894-1729-464d-ace1-52dbce11db42"
      })
    ).toBe("4JEpF3ix66GA2B+ooK128Ift4XQVtc137N9yeg4Kqsn9PI0Kpzbysl9M1IeCEdjg0zl00wkVqcsnG4bmnlMb3A==")
  })

  it("a nonce changes the REST signature", () => {
    const base = { secret: "c2VjcmV0", postData: "a=1", endpointPath: "/api/v3/openorders" }
    expect(signRest({ ...base, nonce: "1" })).not.toBe(signRest({ ...base, nonce: "" }))
  })

  it("nonces keep increasing when the clock stands still or steps back", () => {
    const times = [1000, 1000, 999, 1001]
    const next = monotonicNonce(() => times.shift() ?? 0)
    const nonces = [next(), next(), next(), next()].map(BigInt)
    for (let i = 1; i < nonces.length; i++) expect(nonces[i]! > nonces[i - 1]!).toBe(true)
  })
})
