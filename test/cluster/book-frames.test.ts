import { Either } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { parseBookSnapshotText } from "../../src/actors/instrument/book-snapshot-text.js"
import { deltaFrame, deltaOfScan, snapshotFrame, snapshotOfBook } from "../../src/cluster/book-frames.js"
import { OrderBook } from "../../src/domain/book.js"
import { applyScannedDelta, BookDeltaScanner } from "../../src/domain/book-delta-text.js"
import { decodeEvent, encodeEvent } from "../../src/domain/codec.js"
import type { BookDelta, BookSnapshot } from "../../src/domain/events/market.js"
import type { InstrumentId } from "../../src/domain/ids.js"

// The md hop (docs/cluster.md): venue text → the md node's book → canonical events → msgpack →
// the trading node renders venue text again → an instrument actor's book. Both ends must hold
// the same book at the same seq, for any sequence of deltas.

const ID = "kraken-futures:PF_XBTUSD" as InstrumentId
const env = () => ({ id: `t-${Math.random()}`, ts: 1_700_000_000_000, source: "test" })
const newBook = () => Either.getOrThrow(OrderBook.make({ instrumentId: ID, priceDecimals: 1, qtyDecimals: 4 }))
const hop = <E extends BookSnapshot | BookDelta>(e: E): E => Either.getOrThrow(decodeEvent(encodeEvent(e))) as E

describe("canonical book events through the md topic", () => {
  it("a book rebuilt from the rendered snapshot and deltas equals the md node's book, at the same seq", () => {
    const level = fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 400 }), fc.integer({ min: 0, max: 3_000_000 }))
    fc.assert(
      fc.property(fc.array(level, { minLength: 1, maxLength: 40 }), fc.array(level, { maxLength: 60 }), (initial, updates) => {
        const source = newBook()
        const scanner = new BookDeltaScanner()
        let seq = 100
        // Bids at 1000.0 - k, asks at 1000.0 + k: never crossed.
        const frame = (buy: boolean, k: number, lots: number) =>
          `{"feed":"book","product_id":"PF_XBTUSD","side":"${buy ? "buy" : "sell"}","seq":${++seq},"price":${buy ? 1000 - k / 10 : 1000 + k / 10},"qty":${(lots / 10_000).toFixed(4)},"timestamp":1}`
        for (const [buy, k, lots] of initial) {
          expect(scanner.scan(frame(buy, k, lots))).toBe(true)
          applyScannedDelta(source, scanner)
        }
        const snapshot = hop(snapshotOfBook(source, env()))
        const target = newBook()
        const parsed = Either.getOrThrow(parseBookSnapshotText(snapshotFrame(snapshot)))
        target.applySnapshotText(parsed)
        for (const [buy, k, lots] of updates) {
          expect(scanner.scan(frame(buy, k, lots))).toBe(true)
          applyScannedDelta(source, scanner)
          const text = deltaFrame(hop(deltaOfScan(scanner, ID, env())))
          expect(text).toBeDefined()
          const s2 = new BookDeltaScanner()
          expect(s2.scan(text as string)).toBe(true)
          expect(s2.seq).toBe(target.sequence + 1)
          applyScannedDelta(target, s2)
        }
        expect(target.sequence).toBe(source.sequence)
        expect(target.toSnapshotText()).toEqual(source.toSnapshotText())
      }),
      { numRuns: 200 }
    )
  })

  it("a delta of more than one level has no venue frame (the consumer treats it as a gap)", () => {
    const d: BookDelta = { _tag: "BookDelta", ...env(), instrument: ID, seq: 5, bids: [], asks: [] }
    expect(deltaFrame(d)).toBeUndefined()
  })
})
