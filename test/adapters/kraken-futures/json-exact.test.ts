import { Either } from "effect"
import { describe, expect, it } from "vitest"
import { parseExactJson, quoteNumbers } from "../../../src/adapters/venues/kraken-futures/json-exact.js"
import { PublicFeedSession } from "../../../src/adapters/venues/kraken-futures/market-data.js"
import type { MarketEvent } from "../../../src/domain/events/market.js"

describe("exact JSON numbers", () => {
  it("keeps every numeric literal as its source text and leaves strings alone", () => {
    expect(quoteNumbers('{"a":0.1,"b":"x\\"1,2","c":[1e-8,-34981.5,true,null]}')).toBe('{"a":"0.1","b":"x\\"1,2","c":["1e-8","-34981.5",true,null]}')
  })

  it("text that is not a JSON number is not quoted, so malformed JSON stays malformed", () => {
    for (const bad of ['{"a":-}', '{"a":1.}', '{"a":01}', '{"a":.5}', '{"a":1e}']) {
      expect(Either.isLeft(parseExactJson(bad, "t"))).toBe(true)
    }
  })

  it("parses 0.1, 34981.5, 1e-8 and a 25-digit size exactly", () => {
    const r = parseExactJson('{"p":[0.1,34981.5,1e-8,1234567890123456789012345]}', "t")
    expect(Either.getOrThrow(r)).toEqual({ p: ["0.1", "34981.5", "1e-8", "1234567890123456789012345"] })
  })

  it("a book snapshot's prices reach the canonical event as exact decimals", () => {
    const events: Array<MarketEvent> = []
    const session = new PublicFeedSession(["book"], ["PF_XBTUSD"], { onEvent: (e) => events.push(e) }, () => {})
    session.handle('{"feed":"book_snapshot","product_id":"PF_XBTUSD","timestamp":1612269825817,"seq":5,"tickSize":null,"bids":[{"price":0.1,"qty":1e-8}],"asks":[{"price":34981.5,"qty":0.30000000000000004}]}')
    session.handle('{"feed":"book","product_id":"PF_XBTUSD","side":"sell","seq":6,"price":0.3,"qty":12345678901234567.25,"timestamp":1612269953629}')
    const [snap, delta] = events
    expect(snap?._tag).toBe("BookSnapshot")
    if (snap?._tag !== "BookSnapshot" || delta?._tag !== "BookDelta") throw new Error("unexpected events")
    expect(snap.bids[0]?.[0].toString()).toBe("0.1")
    expect(snap.bids[0]?.[1].toFixed()).toBe("0.00000001")
    expect(snap.asks[0]?.[0].toString()).toBe("34981.5")
    expect(snap.asks[0]?.[1].toString()).toBe("0.30000000000000004")
    expect(snap.bids[0]![0].plus(delta.asks[0]![0]).toString()).toBe("0.4")
    expect(delta.asks[0]?.[1].toFixed()).toBe("12345678901234567.25")
  })
})
