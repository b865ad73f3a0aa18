import { Arbitrary, Either, FastCheck as fc, Schema } from "effect"
import { describe, expect, it } from "vitest"
import { dec } from "../../src/domain/decimal.js"
import { CanonicalEvent, eventSchemas, eventTags, OrderFilled, RiskDenied, topicOf, type EventTag } from "../../src/domain/events/index.js"
import { DecimalFromString, InstrumentId, OrderType } from "../../src/domain/schema.js"

const decodeDecimal = Schema.decodeUnknownEither(DecimalFromString)
const encodeDecimal = Schema.encodeEither(DecimalFromString)

describe("DecimalFromString", () => {
  it("decodes decimal text exactly and encodes it back to text with the same value", () => {
    for (const text of ["0.00000001", "123456789012345678.123456789", "-42.5", "1e-35", "9.99e+45", "-0"]) {
      const d = Either.getOrThrow(decodeDecimal(text))
      expect(d.eq(dec(text))).toBe(true)
      const back = Either.getOrThrow(encodeDecimal(d))
      expect(back).toBe(text)
    }
  })

  it("keeps every digit of a long fraction that a float would round", () => {
    const d = Either.getOrThrow(decodeDecimal("0.1000000000000000055511151231257827"))
    expect(Either.getOrThrow(encodeDecimal(d))).toBe("0.1000000000000000055511151231257827")
  })

  it("keeps the sign of a negative zero", () => {
    const d = Either.getOrThrow(decodeDecimal("-0"))
    expect(d.isNeg()).toBe(true)
    expect(Either.getOrThrow(encodeDecimal(d))).toBe("-0")
  })

  it("rejects text that is not plain decimal, and numbers, with a message saying what was expected", () => {
    for (const bad of ["12.5x", "NaN", "Infinity", "0x10", "", " 1"]) {
      const r = decodeDecimal(bad)
      expect(Either.isLeft(r)).toBe(true)
      if (Either.isLeft(r)) expect(r.left.message).toContain("expected a decimal string")
    }
    const n = decodeDecimal(12.5)
    expect(Either.isLeft(n) && n.left.message.includes("expected a decimal string, got the number 12.5")).toBe(true)
  })

  it("refuses to encode a NaN or infinite Decimal", () => {
    expect(Either.isLeft(encodeDecimal(dec(1).div(0)))).toBe(true)
  })

  it("round-trips any decimal text of up to 38 digits through decode and encode with the same value", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^-?(0|[1-9]\d{0,19})(\.\d{1,18})?$/), (text) => {
        const d = Either.getOrThrow(decodeDecimal(text))
        const again = Either.getOrThrow(decodeDecimal(Either.getOrThrow(encodeDecimal(d))))
        expect(again.eq(d) && again.isNeg() === d.isNeg()).toBe(true)
        expect(again.toFixed()).toBe(d.toFixed())
      })
    )
  })
})

describe("ids and literals", () => {
  it("accepts an instrument id of the form venue:symbol and rejects one without a venue", () => {
    expect(Either.isRight(Schema.decodeUnknownEither(InstrumentId)("kraken-futures:PF_XBTUSD"))).toBe(true)
    const bad = Schema.decodeUnknownEither(InstrumentId)("PF_XBTUSD")
    expect(Either.isLeft(bad) && bad.left.message.includes("expected venue:symbol")).toBe(true)
  })

  it("knows exactly the seven order types", () => {
    expect([...OrderType.literals].sort()).toEqual(["fok", "ioc", "limit", "market", "postOnly", "stop", "takeProfit"])
  })
})

describe("canonical events", () => {
  it("has one schema and one journal topic for each of the 32 event types (AlertRaised is the 32nd)", () => {
    expect(eventTags).toHaveLength(32)
    expect(Object.keys(topicOf).sort()).toEqual([...eventTags].sort())
    expect(CanonicalEvent.members).toHaveLength(32)
  })

  it("carries the envelope id, ts and source on every event type", () => {
    for (const tag of eventTags) {
      const fields = (eventSchemas[tag] as unknown as { fields: Record<string, unknown> }).fields
      expect(Object.keys(fields), tag).toEqual(expect.arrayContaining(["_tag", "id", "ts", "source"]))
    }
  })

  it("generated events of every type are valid against the union schema", () => {
    for (const tag of eventTags) {
      const arb = Arbitrary.make(eventSchemas[tag] as unknown as Schema.Schema<CanonicalEvent>)
      fc.assert(
        fc.property(arb, (event) => {
          expect(event._tag).toBe(tag as EventTag)
          expect(Schema.is(CanonicalEvent)(event)).toBe(true)
        }),
        { numRuns: 20 }
      )
    }
  })

  it("a risk denial carries its reason code and the compared numbers as decimal text on the wire", () => {
    const wire = Schema.encodeSync(RiskDenied)(
      RiskDenied.make({
        id: "e-1",
        ts: 1_700_000_000_000,
        source: "risk/acct-1",
        account: "acct-1" as never,
        intentId: "e-0",
        intent: "SubmitOrder",
        clientOrderId: "s1-1-1" as never,
        reason: "MAX_ORDER_QTY",
        limit: dec("10"),
        actual: dec("12.00000001"),
        detail: "qty above maxOrderQty"
      })
    )
    expect(wire).toMatchObject({ _tag: "RiskDenied", reason: "MAX_ORDER_QTY", limit: "10", actual: "12.00000001" })
  })

  it("rejects a risk denial with a reason code that is not in the list", () => {
    const r = Schema.decodeUnknownEither(RiskDenied)({
      _tag: "RiskDenied",
      id: "e-1",
      ts: 1,
      source: "risk",
      account: "acct-1",
      intentId: "e-0",
      intent: "SubmitOrder",
      reason: "FEELS_RISKY",
      detail: ""
    })
    expect(Either.isLeft(r)).toBe(true)
  })

  it("an order fill requires a fee and a liquidity flag", () => {
    const base = {
      _tag: "OrderFilled",
      id: "e",
      ts: 1,
      source: "kf",
      account: "a",
      instrument: "simulator:PF_XBTUSD",
      clientOrderId: "c",
      venueOrderId: "v",
      fillId: "f",
      side: "sell",
      price: "100.5",
      qty: "1",
      feeCurrency: "USD",
      liquidity: "taker"
    }
    expect(Either.isLeft(Schema.decodeUnknownEither(OrderFilled)(base))).toBe(true)
    expect(Either.isRight(Schema.decodeUnknownEither(OrderFilled)({ ...base, fee: "0.0025" }))).toBe(true)
    expect(Either.isLeft(Schema.decodeUnknownEither(OrderFilled)({ ...base, fee: "0.0025", liquidity: "both" }))).toBe(true)
  })
})
