import { Arbitrary, Either, FastCheck as fc, Schema } from "effect"
import { Packr } from "msgpackr"
import { describe, expect, it } from "vitest"
import {
  compiledTags,
  decodeEvent,
  decodeEventJson,
  decodeEventObject,
  decodeEventObjectWithSchema,
  encodeEvent,
  encodeEventEither,
  encodeEventJson,
  encodeEventObject,
  EventDecodeError
} from "../../src/domain/codec.js"
import { dec } from "../../src/domain/decimal.js"
import { eventSchemas, eventTags, type CanonicalEvent, type OrderFilled } from "../../src/domain/events/index.js"

const fill: OrderFilled = {
  _tag: "OrderFilled",
  id: "node1-7-42",
  ts: 1_700_000_000_123,
  source: "kraken-futures/private",
  account: "acct-1" as OrderFilled["account"],
  instrument: "kraken-futures:PF_XBTUSD" as OrderFilled["instrument"],
  clientOrderId: "mm-1-2a" as OrderFilled["clientOrderId"],
  venueOrderId: "9f1c-77" as OrderFilled["venueOrderId"],
  fillId: "fill-1" as OrderFilled["fillId"],
  side: "buy",
  price: dec("123456789012345678.123456789"),
  qty: dec("0.00000001"),
  fee: dec("-0.000000000000000001"),
  feeCurrency: "USD",
  liquidity: "maker"
}

const wireOf = (e: CanonicalEvent): Record<string, unknown> => ({ ...(encodeEventObject(e) as unknown as Record<string, unknown>) })
const raw = new Packr({ useRecords: false })

const expectDecodeError = (r: Either.Either<CanonicalEvent, EventDecodeError>): EventDecodeError => {
  if (Either.isRight(r)) throw new Error(`expected a decode error, got ${JSON.stringify(encodeEventObject(r.right))}`)
  expect(r.left).toBeInstanceOf(EventDecodeError)
  expect(r.left._tag).toBe("EventDecodeError")
  return r.left
}

describe("msgpack event codec", () => {
  for (const tag of eventTags) {
    it(`round-trips every ${tag} exactly, Decimals included`, () => {
      const arb = Arbitrary.make(eventSchemas[tag] as unknown as Schema.Schema<CanonicalEvent>)
      fc.assert(
        fc.property(arb, (event) => {
          const bytes = encodeEvent(event)
          const back = Either.getOrThrow(decodeEvent(bytes))
          expect(back).toEqual(event)
          // Same value, same text: re-encoding gives identical bytes.
          expect(Buffer.from(encodeEvent(back)).equals(Buffer.from(bytes))).toBe(true)
        }),
        { numRuns: 60 }
      )
    })
  }

  it("keeps many-digit Decimals exact and puts them on the wire as text, not floats", () => {
    const bytes = encodeEvent(fill)
    const wire = raw.unpack(bytes) as Record<string, unknown>
    expect(wire["price"]).toBe("123456789012345678.123456789")
    expect(wire["qty"]).toBe("0.00000001")
    expect(wire["fee"]).toBe("-0.000000000000000001")
    const back = Either.getOrThrow(decodeEvent(bytes)) as OrderFilled
    expect(back.price.toFixed()).toBe("123456789012345678.123456789")
    expect(back.qty.eq(dec("0.00000001"))).toBe(true)
    expect(back.fee.eq(dec("-0.000000000000000001"))).toBe(true)
  })

  it("names the field and the expectation when a field has the wrong type", () => {
    const err = expectDecodeError(decodeEvent(raw.pack({ ...wireOf(fill), price: 100.5 })))
    expect(err.tag).toBe("OrderFilled")
    expect(err.path).toBe("price")
    expect(err.message).toBe("event decode error at OrderFilled.price: expected a decimal string, got the number 100.5 (write it as text so it stays exact)")
  })

  it("names a missing field", () => {
    const { fillId: _drop, ...rest } = wireOf(fill)
    const err = expectDecodeError(decodeEvent(raw.pack(rest)))
    expect(err.path).toBe("fillId")
    expect(err.message).toContain("OrderFilled.fillId")
    expect(err.reason).toContain("missing")
  })

  it("names a field with bad decimal text and quotes the text", () => {
    const err = expectDecodeError(decodeEvent(raw.pack({ ...wireOf(fill), qty: "1.2.3" })))
    expect(err.path).toBe("qty")
    expect(err.reason).toContain('expected a decimal string, got "1.2.3"')
  })

  it("names the level and column of a bad price inside a book snapshot", () => {
    const snapshot = {
      _tag: "BookSnapshot",
      id: "md-1",
      ts: 1,
      source: "kraken-futures/md",
      instrument: "kraken-futures:PF_XBTUSD",
      seq: 10,
      bids: [["100", "1"], ["99.5", "2"]],
      asks: [["101", "1"], ["NaN", "3"]]
    }
    expect(Either.isRight(decodeEvent(raw.pack({ ...snapshot, asks: [["101", "1"]] })))).toBe(true)
    const err = expectDecodeError(decodeEvent(raw.pack(snapshot)))
    expect(err.path).toBe("asks[1][0]")
    expect(err.message).toContain("BookSnapshot.asks[1][0]")
  })

  it("rejects a non-integer or negative timestamp", () => {
    expect(expectDecodeError(decodeEvent(raw.pack({ ...wireOf(fill), ts: 1.5 }))).path).toBe("ts")
    expect(expectDecodeError(decodeEvent(raw.pack({ ...wireOf(fill), ts: -1 }))).path).toBe("ts")
  })

  it("rejects an unknown event tag and a message that is not an object", () => {
    const unknown = expectDecodeError(decodeEvent(raw.pack({ ...wireOf(fill), _tag: "OrderTeleported" })))
    expect(unknown.path).toBe("_tag")
    expect(unknown.reason).toContain('"OrderTeleported"')
    expect(expectDecodeError(decodeEvent(raw.pack([1, 2, 3]))).reason).toContain("expected an event object")
    expect(expectDecodeError(decodeEvent(raw.pack("hello"))).reason).toContain("expected an event object")
  })

  it("turns garbage, truncated and trailing bytes into a decode error instead of throwing", () => {
    const good = encodeEvent(fill)
    const cases = [new Uint8Array([]), new Uint8Array([0xc1]), good.subarray(0, good.length - 3), Buffer.concat([Buffer.from(good), Buffer.from([1])])]
    for (const bytes of cases) expect(() => decodeEvent(bytes)).not.toThrow()
    for (const bytes of cases) expectDecodeError(decodeEvent(bytes))
    expect(expectDecodeError(decodeEvent(new Uint8Array([]))).reason).toContain("invalid msgpack")
  })

  it("never throws on random bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const r = decodeEvent(bytes)
        expect(Either.isLeft(r)).toBe(true)
      }),
      { numRuns: 500 }
    )
  })

  it("ignores fields it does not know, so producers can add fields before consumers learn them", () => {
    const back = Either.getOrThrow(decodeEvent(raw.pack({ ...wireOf(fill), futureField: 1 })))
    expect(back).toEqual(fill)
    expect("futureField" in back).toBe(false)
  })

  it("refuses to encode an event with a NaN Decimal, as a typed error", () => {
    const r = encodeEventEither({ ...fill, price: dec(0).div(0) })
    expect(Either.isLeft(r) && r.left._tag === "EventEncodeError" && r.left.path === "price").toBe(true)
  })

  it("refuses to encode a Decimal whose text would be too long to decode again", () => {
    const r = encodeEventEither({ ...fill, qty: dec("1." + "1".repeat(90)) })
    expect(Either.isLeft(r) && r.left.path === "qty").toBe(true)
    expect(() => encodeEvent({ ...fill, qty: dec("1." + "1".repeat(90)) })).toThrow(/event encode error at OrderFilled\.qty/)
  })
})

describe("compiled fast path", () => {
  it("is compiled for every event type", () => {
    expect([...compiledTags()].sort()).toEqual([...eventTags].sort())
  })

  const msgpackr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false, bundleStrings: false })
  for (const tag of eventTags) {
    it(`writes a ${tag} as the same bytes msgpackr writes for its wire object`, () => {
      const arb = Arbitrary.make(eventSchemas[tag] as unknown as Schema.Schema<CanonicalEvent>)
      fc.assert(
        fc.property(arb, (event) => {
          expect(Buffer.from(encodeEvent(event)).toString("hex")).toBe(Buffer.from(msgpackr.pack(encodeEventObject(event))).toString("hex"))
        }),
        { numRuns: 40 }
      )
    })
  }

  it("writes every Decimal as the text decimalToWire gives, near and beyond the exponent-form limits", () => {
    const text = fc
      .tuple(fc.constantFrom("", "-"), fc.stringMatching(/^[0-9]{1,30}$/), fc.stringMatching(/^[0-9]{0,30}$/), fc.integer({ min: -45, max: 45 }))
      .map(([sign, int, frac, exp]) => `${sign}${int}${frac.length > 0 ? "." + frac : ""}e${exp}`)
    fc.assert(
      fc.property(text, (t) => {
        const trade: CanonicalEvent = { _tag: "Trade", id: "n-1-1", ts: 1, source: "md", instrument: fill.instrument, price: dec(t), qty: dec("-0"), aggressor: "buy" }
        const bytes = encodeEvent(trade)
        expect(Buffer.from(bytes).toString("hex")).toBe(Buffer.from(msgpackr.pack(encodeEventObject(trade))).toString("hex"))
        expect(Either.getOrThrow(decodeEvent(bytes))).toEqual(trade)
      }),
      { numRuns: 1500 }
    )
  })

  it("keeps earlier messages intact when the writer moves to a new buffer", () => {
    const levels = Array.from({ length: 4000 }, (_, i) => [dec(`${60000 + i}.25`), dec(`0.${1000 + i}`)] as const)
    const big: CanonicalEvent = { _tag: "BookSnapshot", id: "n-1-1", ts: 1, source: "md", instrument: fill.instrument, seq: 7, bids: levels, asks: levels }
    const kept = Array.from({ length: 6 }, (_, i) => (i % 2 === 0 ? encodeEvent(big) : encodeEvent(fill)))
    const copies = kept.map((b) => Buffer.from(b).toString("hex"))
    for (let i = 0; i < 50; i++) encodeEvent(i % 3 === 0 ? big : fill)
    expect(kept.map((b) => Buffer.from(b).toString("hex"))).toEqual(copies)
    expect(Either.getOrThrow(decodeEvent(kept[4] as Uint8Array))).toEqual(big)
  })

  // A wire value near a valid one: one field replaced by something plausible-but-maybe-wrong, or removed.
  const mutant = (wire: Record<string, unknown>) =>
    fc.tuple(
      fc.constantFrom(...Object.keys(wire).filter((k) => k !== "_tag")),
      fc.option(
        fc.oneof(
          fc.constantFrom("1", "-0.5", "1e-9", "1.2.3", "", "NaN", "buy", "maker", "simulator:PF_XBTUSD", "no-colon", 0, -1, 1.5, 1e300, true, null, [], {}),
          fc.array(fc.tuple(fc.constantFrom("1", "x", 2), fc.constantFrom("0.1", "y")), { maxLength: 3 }),
          fc.string({ maxLength: 8 }),
          fc.integer()
        ),
        { nil: undefined }
      )
    ).map(([key, value]) => {
      const copy: Record<string, unknown> = { ...wire }
      if (value === undefined) delete copy[key]
      else copy[key] = value
      return copy
    })

  for (const tag of eventTags) {
    it(`accepts and rejects exactly what the Schema parser does for ${tag}`, () => {
      const arb = Arbitrary.make(eventSchemas[tag] as unknown as Schema.Schema<CanonicalEvent>)
      fc.assert(
        fc.property(
          arb.chain((e) => mutant(wireOf(e))),
          (wire) => {
            const fast = decodeEventObject(wire)
            const slow = decodeEventObjectWithSchema(wire)
            expect(Either.isRight(fast)).toBe(Either.isRight(slow))
            if (Either.isRight(fast) && Either.isRight(slow)) expect(fast.right).toEqual(slow.right)
            if (Either.isLeft(fast) && Either.isLeft(slow)) expect(fast.left.message).toBe(slow.left.message)
          }
        ),
        { numRuns: 80 }
      )
    })
  }

  for (const tag of eventTags) {
    it(`decodes msgpack bytes of a ${tag} to exactly what the Schema parser gives, mutated fields included`, () => {
      const arb = Arbitrary.make(eventSchemas[tag] as unknown as Schema.Schema<CanonicalEvent>)
      fc.assert(
        fc.property(
          arb.chain((e) => mutant(wireOf(e))),
          (wire) => {
            const fast = decodeEvent(raw.pack(wire))
            const slow = decodeEventObjectWithSchema(wire)
            expect(Either.isRight(fast)).toBe(Either.isRight(slow))
            if (Either.isRight(fast) && Either.isRight(slow)) expect(fast.right).toEqual(slow.right)
            if (Either.isLeft(fast) && Either.isLeft(slow)) expect(fast.left.message).toBe(slow.left.message)
          }
        ),
        { numRuns: 80 }
      )
    })
  }

  it("reads a truncated or padded message as an error, never as an event", () => {
    const bytes = encodeEvent(fill)
    for (let cut = 0; cut < bytes.length; cut++) expect(Either.isLeft(decodeEvent(bytes.subarray(0, cut)))).toBe(true)
    expect(Either.isLeft(decodeEvent(Buffer.concat([bytes, Buffer.from([0xc0])])))).toBe(true)
  })

  it("encodes to exactly the wire form the Schema encoder gives", () => {
    for (const tag of eventTags) {
      const schema = eventSchemas[tag] as unknown as Schema.Schema<CanonicalEvent, unknown>
      fc.assert(
        fc.property(Arbitrary.make(schema), (e) => {
          expect(encodeEventObject(e)).toEqual(Schema.encodeSync(schema)(e))
        }),
        { numRuns: 30 }
      )
    }
  })
})

describe("JSON event codec", () => {
  it("lists every allowed literal when a field is none of them", () => {
    const err = expectDecodeError(decodeEventObject({ ...wireOf(fill), liquidity: "both" }))
    expect(err.message).toBe('event decode error at OrderFilled.liquidity: expected "maker" | "taker", got "both"')
  })

  it("round-trips an event through JSON text with Decimals as strings", () => {
    const text = encodeEventJson(fill)
    expect(JSON.parse(text)).toMatchObject({ price: "123456789012345678.123456789", qty: "0.00000001" })
    expect(Either.getOrThrow(decodeEventJson(text))).toEqual(fill)
  })

  it("reports invalid JSON and invalid fields as decode errors", () => {
    expect(expectDecodeError(decodeEventJson("{not json")).reason).toContain("invalid JSON")
    expect(expectDecodeError(decodeEventObject({ ...wireOf(fill), side: "long" })).path).toBe("side")
  })
})

describe("strategy parameter names", () => {
  it("a params key that is not a parameter name (e.g. __proto__) never reaches the decoded event nor any prototype", () => {
    const wire = { _tag: "StrategyCommand", id: "e1", ts: 1, source: "op", strategy: "mm", command: "reconfigure", who: "me", why: "x", params: JSON.parse('{"__proto__": {"polluted": 1}, "9bad": 2, "ok": 3}') as unknown }
    const decoded = decodeEventObject(wire)
    if (Either.isLeft(decoded) || decoded.right._tag !== "StrategyCommand") throw new Error("expected a StrategyCommand")
    // Effect's Record drops keys outside its key schema; the strategy's own params Schema then
    // refuses anything it does not know, so nothing is applied silently.
    expect(decoded.right.params).toEqual({ ok: 3 })
    expect(Object.keys(decoded.right.params ?? {})).toEqual(["ok"])
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined()
  })
})
