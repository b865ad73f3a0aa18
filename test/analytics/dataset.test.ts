import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { DatasetError, loadDataset, openAnalyticsDb, toUnits, unitsToText } from "../../src/analytics/dataset.js"
import { generateFixture } from "../../src/analytics/fixture.js"

describe("the analytics dataset loader", () => {
  it("scales decimal text to 10^-9 units exactly", () => {
    expect(toUnits("1", "t", "f")).toBe(1_000_000_000n)
    expect(toUnits("-0.000000001", "t", "f")).toBe(-1n)
    expect(toUnits("60000.123456789000", "t", "f")).toBe(60_000_123_456_789n)
    expect(unitsToText(-1_500_000_000n, 9)).toBe("-1.5")
  })

  it("reads any decimal text back to the units it was written from", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 18n) + 1n, max: 10n ** 18n - 1n }), fc.integer({ min: 0, max: 3 }), (units, zeros) => {
        const text = unitsToText(units, 9)
        // trailing zeros past the ninth decimal are still exact
        const padded = zeros > 0 ? (text.includes(".") ? text : text + ".") + "0".repeat(9 + zeros) : text
        expect(toUnits(text, "t", "f")).toBe(units)
        expect(toUnits(padded, "t", "f")).toBe(units)
      }),
      { numRuns: 500 }
    )
  })

  it("refuses text it cannot hold exactly rather than rounding it", () => {
    expect(() => toUnits("0.0000000001", "fills", "qty")).toThrow(DatasetError)
    expect(() => toUnits("1e3", "fills", "price")).toThrow(/not plain decimal text/)
    expect(() => toUnits("1000000000", "fills", "price")).toThrow(/1e9 or more/)
  })

  it("loads generated rows through the appender, every stream", async () => {
    const db = await openAnalyticsDb()
    try {
      const fx = generateFixture({ fills: 5000, days: 3, seed: 7 })
      const counts = await loadDataset(db.conn, fx.source)
      expect(counts.fills).toBe(5000)
      expect(counts.marks).toBe(fx.counts.marks)
      const r = await db.conn.runAndReadAll("SELECT count(*)::INTEGER, count(DISTINCT fill_id)::INTEGER, count(arrival_mid)::INTEGER FROM fills")
      expect(r.getRowsJS()).toEqual([[5000, 5000, 5000]])
      const o = await db.conn.runAndReadAll("SELECT count(*)::INTEGER FROM orders o WHERE NOT EXISTS (SELECT 1 FROM fills f WHERE f.client_order_id = o.client_order_id) AND final_state = 'filled'")
      expect(o.getRowsJS()).toEqual([[0]])
    } finally {
      db.close()
    }
  })

  it("fails a load with a typed error naming the table, field and input", async () => {
    const db = await openAnalyticsDb()
    try {
      const bad = [{ instrument: "X", ts: 0, price: "1.2.3" }]
      await expect(loadDataset(db.conn, { marks: bad })).rejects.toMatchObject({ _tag: "DatasetError", table: "marks", field: "price", input: "1.2.3" })
    } finally {
      db.close()
    }
  })
})
