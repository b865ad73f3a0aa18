import { describe, it, expect } from "vitest"
import fc from "fast-check"
import { Either } from "effect"
import { BookDeltaScanner, scanBookDelta } from "../../src/domain/book-delta-text.js"

const KRAKEN = `{"feed":"book","product_id":"PI_XBTUSD","side":"sell","seq":326094134,"price":34981.5,"qty":0,"timestamp":1612269953629}`

const ok = (text: string) => {
  const r = scanBookDelta(text)
  if (Either.isLeft(r)) throw new Error(`expected a delta, got ${r.left.message}`)
  return r.right
}
const failure = (text: string) => {
  const r = scanBookDelta(text)
  if (Either.isRight(r)) throw new Error(`expected a failure for ${text}`)
  return r.left
}

describe("Kraken Futures book delta scanner", () => {
  it("extracts the fields of a Kraken book delta, price and qty as their exact text", () => {
    expect(ok(KRAKEN)).toEqual({ productId: "PI_XBTUSD", side: "sell", seq: 326094134, price: "34981.5", qty: "0", timestamp: 1612269953629 })
  })

  it("keeps the venue's spelling of whole numbers, as a Java serializer writes them", () => {
    const d = ok(`{"feed":"book","product_id":"PI_XBTUSD","side":"buy","seq":5,"price":34981.0,"qty":0.0,"timestamp":1612269953629}`)
    expect([d.price, d.qty]).toEqual(["34981.0", "0.0"])
  })

  it("keeps digits a float would lose", () => {
    const d = ok(`{"feed":"book","product_id":"PF_XBTUSD","side":"buy","seq":1,"price":34981.50000000000000001,"qty":1E-8,"timestamp":1}`)
    expect(d.price).toBe("34981.50000000000000001")
    expect(d.qty).toBe("1E-8")
  })

  it("accepts other key orders, whitespace, escaped keys and unknown keys of any type", () => {
    const d = ok(` { "qty" : 12 ,\n"price":1.5, "extra":{"a":[1,{"b":null}],"c":"x\\"y"}, "s\\u0065q":7,"timestamp":9,"side":"buy","product_id":"PF_\\u0045THUSD","feed":"book","flag":true } `)
    expect(d).toEqual({ productId: "PF_ETHUSD", side: "buy", seq: 7, price: "1.5", qty: "12", timestamp: 9 })
  })

  it("a reused scanner reports each message's own product id", () => {
    const scanner = new BookDeltaScanner()
    expect(scanner.scan(KRAKEN)).toBe(true)
    expect(scanner.productId).toBe("PI_XBTUSD")
    expect(scanner.scan(KRAKEN.replace("PI_XBTUSD", "PI_XBTUSDX"))).toBe(true)
    expect(scanner.productId).toBe("PI_XBTUSDX")
    expect(scanner.scan(KRAKEN.replace("PI_XBTUSD", "PI_XBT"))).toBe(true)
    expect(scanner.productId).toBe("PI_XBT")
    expect(scanner.scan(KRAKEN.replace("PI_XBTUSD", "a\\\\b"))).toBe(true)
    expect(scanner.productId).toBe("a\\b")
    expect(scanner.scan(KRAKEN.replace("PI_XBTUSD", "a\\\\b"))).toBe(true)
    expect(scanner.productId).toBe("a\\b")
    expect(scanner.scan(KRAKEN.replace("PI_XBTUSD", "a\\\\bc"))).toBe(true)
    expect(scanner.productId).toBe("a\\bc")
  })

  it("does not mistake a non-ASCII product id for an ASCII one that shares its low bytes", () => {
    const scanner = new BookDeltaScanner()
    expect(scanner.scan(KRAKEN.replace("PI_XBTUSD", "\u0141"))).toBe(true)
    expect(scanner.productId).toBe("\u0141")
    expect(scanner.scan(KRAKEN.replace("PI_XBTUSD", "A"))).toBe(true)
    expect(scanner.productId).toBe("A")
    expect(scanner.scan(KRAKEN.replace("PI_XBTUSD", "Ł"))).toBe(true)
    expect(scanner.ascii).toBe(false)
    expect(scanner.scan(KRAKEN.replace("PI_XBTUSD", "A"))).toBe(true)
    expect(scanner.productId).toBe("A")
  })

  it("flags other feeds, bad sides, missing fields and non-integer sequence numbers with a reason", () => {
    expect(failure(KRAKEN.replace(`"book"`, `"book_snapshot"`)).reason).toMatch(/feed/)
    expect(failure(KRAKEN.replace(`"sell"`, `"ask"`)).reason).toMatch(/side/)
    expect(failure(KRAKEN.replace(`"qty":0,`, "")).reason).toBe("missing fields: qty")
    expect(failure(KRAKEN.replace("326094134", "3.5")).reason).toMatch(/seq/)
    expect(failure(KRAKEN.replace("326094134", "-1")).reason).toMatch(/seq/)
    expect(failure(KRAKEN.replace("34981.5", `"34981.5"`)).reason).toMatch(/price/)
    expect(failure(KRAKEN.replace("1612269953629", "99999999999999999")).reason).toMatch(/2\^53/)
    expect(failure("{}").reason).toMatch(/missing fields: feed, product_id/)
  })

  it("flags malformed JSON with the position where it went wrong", () => {
    expect(failure(KRAKEN.slice(0, 40)).position).toBeGreaterThan(0)
    expect(failure(KRAKEN + "x").reason).toBe("text after the object")
    expect(failure(KRAKEN.replace("34981.5", "34981.")).reason).toMatch(/price/)
    expect(failure(KRAKEN.replace("34981.5", "034981.5")).position).toBeGreaterThan(0)
    expect(failure(KRAKEN.replace(`"PI_XBTUSD"`, `"PI\nXBTUSD"`)).reason).toMatch(/control/)
    expect(failure("").reason).toBe("expected '{'")
    expect(failure("[" + KRAKEN + "]").reason).toBe("expected '{'")
    expect(failure(`{"x":${"[".repeat(100)}${"]".repeat(100)},${KRAKEN.slice(1)}`).reason).toMatch(/nesting/)
  })

  it("never throws, and accepts nothing that JSON.parse rejects", () => {
    const jsonish = fc.stringMatching(/^[{}[\]":,0-9a-z_.eE+\- \\]*$/)
    const mutated = fc.tuple(fc.nat(KRAKEN.length), fc.nat(KRAKEN.length), fc.string({ maxLength: 4 })).map(([a, b, s]) => KRAKEN.slice(0, Math.min(a, b)) + s + KRAKEN.slice(Math.max(a, b)))
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: "binary" }), jsonish, mutated), (text) => {
        const result = scanBookDelta(text)
        if (Either.isRight(result)) expect(() => JSON.parse(text)).not.toThrow()
      }),
      { numRuns: 5000 }
    )
  })

  it("the fast path for Kraken's exact layout agrees with the general scanner on every input", () => {
    const canonical = fc
      .record({ p: fc.oneof(fc.string({ maxLength: 12 }), fc.string({ unit: "binary", maxLength: 12 })), side: fc.constantFrom("buy", "sell"), seq: fc.maxSafeNat(), price: fc.double({ noNaN: true, noDefaultInfinity: true }), qty: fc.double({ noNaN: true, noDefaultInfinity: true }), ts: fc.maxSafeNat() })
      .map(({ p, side, seq, price, qty, ts }) => JSON.stringify({ feed: "book", product_id: p, side, seq, price, qty, timestamp: ts }))
    const mutate = fc.tuple(canonical, fc.nat(200), fc.nat(3), fc.string({ maxLength: 3 })).map(([t, at, del, ins]) => t.slice(0, at % (t.length + 1)) + ins + t.slice((at % (t.length + 1)) + del))
    const fast = new BookDeltaScanner()
    const general = new BookDeltaScanner()
    const fields = (s: BookDeltaScanner) => [s.productId, s.side, s.seq, s.price, s.qty, s.timestamp]
    // The byte path's offsets must index the same characters in its byte copy.
    const bytesAgree = (s: BookDeltaScanner) => String.fromCharCode(...s.bytes.subarray(s.priceStart, s.priceEnd)) === s.price && String.fromCharCode(...s.bytes.subarray(s.qtyStart, s.qtyEnd)) === s.qty
    let fastHits = 0
    fc.assert(
      fc.property(fc.oneof(canonical, mutate), (text) => {
        const generalOk = general.scanGeneral(text)
        if (fast.scanCanonical(text)) {
          fastHits++
          expect(generalOk).toBe(true)
          expect(fields(fast)).toEqual(fields(general))
          expect(fast.ascii && bytesAgree(fast)).toBe(true)
        }
        expect(fast.scan(text)).toBe(generalOk)
        if (generalOk) expect(fields(fast)).toEqual(fields(general))
      }),
      { numRuns: 5000 }
    )
    expect(fastHits).toBeGreaterThan(800)
  })

  it("reads what JSON.stringify produces exactly as JSON.parse does", () => {
    const finite = fc.double({ noNaN: true, noDefaultInfinity: true })
    const delta = fc.record({
      feed: fc.constant("book"),
      product_id: fc.string({ unit: "binary" }),
      side: fc.constantFrom("buy", "sell"),
      seq: fc.maxSafeNat(),
      price: finite,
      qty: finite,
      timestamp: fc.maxSafeNat()
    })
    const withExtras = fc.tuple(delta, fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 3 }), fc.boolean(), fc.boolean()).map(([d, extra, shuffle, pretty]) => {
      const entries = [...Object.entries(extra).filter(([k]) => !(k in d)), ...Object.entries(d)]
      if (shuffle) entries.reverse()
      return JSON.stringify(Object.fromEntries(entries), null, pretty ? 2 : undefined)
    })
    const scanner = new BookDeltaScanner()
    fc.assert(
      fc.property(withExtras, (text) => {
        const expected = JSON.parse(text) as { product_id: string; side: string; seq: number; price: number; qty: number; timestamp: number }
        const got = scanBookDelta(text, scanner)
        if (Either.isLeft(got)) throw new Error(got.left.message)
        expect(got.right.productId).toBe(expected.product_id)
        expect(got.right.side).toBe(expected.side)
        expect(got.right.seq).toBe(expected.seq)
        expect(got.right.timestamp).toBe(expected.timestamp)
        expect(Number(got.right.price)).toBe(expected.price)
        expect(Number(got.right.qty)).toBe(expected.qty)
        // The text is the literal JSON number, not a re-rendering of a float.
        expect(text).toContain(got.right.price)
      }),
      { numRuns: 3000 }
    )
  })
})
