import { describe, it, expect } from "vitest"
import fc from "fast-check"
import { dec, Decimal } from "../../src/domain/decimal.js"
import type { Fill } from "../../src/domain/fill.js"
import type { ClientOrderId, FillId, InstrumentId, VenueOrderId } from "../../src/domain/ids.js"
import type { Side } from "../../src/domain/order.js"
import { applyFill, COST_DECIMALS, flatPosition, settlePosition, unrealizedPnl, type Position } from "../../src/domain/position.js"

/**
 * Inverse PnL (PI_XBTUSD: contract value 1 USD, PnL in XBT) against a reference model in exact
 * rational arithmetic (BigInt numerator/denominator). The domain rounds every base-currency value
 * (qty × contractValue / price) and every partial cost removal once, half-even, to COST_DECIMALS;
 * the stated bound is 1e-18 per rounding (half a unit plus decimal.js's 40-digit intermediate).
 */

// ---- exact rationals ----
const gcd = (a: bigint, b: bigint): bigint => {
  a = a < 0n ? -a : a
  b = b < 0n ? -b : b
  while (b !== 0n) [a, b] = [b, a % b]
  return a
}
class Q {
  readonly n: bigint
  readonly d: bigint
  constructor(n: bigint, d: bigint = 1n) {
    if (d < 0n) [n, d] = [-n, -d]
    const g = gcd(n, d) || 1n
    this.n = n / g
    this.d = d / g
  }
  static of(x: Decimal): Q {
    const [int, frac = ""] = x.toFixed().replace("-", "").split(".")
    const n = BigInt(int + frac) * (x.isNegative() ? -1n : 1n)
    return new Q(n, 10n ** BigInt(frac.length))
  }
  plus(o: Q): Q {
    return new Q(this.n * o.d + o.n * this.d, this.d * o.d)
  }
  minus(o: Q): Q {
    return new Q(this.n * o.d - o.n * this.d, this.d * o.d)
  }
  times(o: Q): Q {
    return new Q(this.n * o.n, this.d * o.d)
  }
  div(o: Q): Q {
    return new Q(this.n * o.d, this.d * o.n)
  }
  abs(): Q {
    return new Q(this.n < 0n ? -this.n : this.n, this.d)
  }
  isZero(): boolean {
    return this.n === 0n
  }
  sign(): number {
    return this.n === 0n ? 0 : this.n < 0n ? -1 : 1
  }
  /** |this| ≤ bound */
  within(bound: Q): boolean {
    return this.abs().n * bound.d <= bound.n * this.abs().d
  }
}
const ZQ = new Q(0n)

/** The same average-cost netting, exactly: entry cost Σ qty × cv / price, realized on reduce. */
interface RefPosition {
  q: Q
  cost: Q
  realized: Q
}
const refApply = (p: RefPosition, s: Q, price: Q, cv: Q, fee: Q): RefPosition => {
  let { q, cost, realized } = p
  realized = realized.minus(fee)
  let opening = s
  if (!q.isZero() && q.sign() !== s.sign()) {
    const closesAll = !s.abs().minus(q.abs()).isZero() ? s.abs().minus(q.abs()).sign() > 0 : true
    const closed = closesAll ? q : new Q(-s.n, s.d)
    const removed = closesAll ? cost : cost.times(closed).div(q)
    realized = realized.plus(removed.minus(closed.times(cv).div(price)))
    q = q.minus(closed)
    cost = cost.minus(removed)
    opening = s.plus(closed)
  }
  if (!opening.isZero()) {
    q = q.plus(opening)
    cost = cost.plus(opening.times(cv).div(price))
  }
  return { q, cost, realized }
}

const ID = "kraken-futures:PI_XBTUSD" as InstrumentId
let n = 0
const fillOf = (side: Side, qty: Decimal, price: Decimal, fee: Decimal): Fill => ({
  fillId: `f${++n}` as FillId,
  clientOrderId: "c" as ClientOrderId,
  venueOrderId: "v" as VenueOrderId,
  instrumentId: ID,
  side,
  price,
  quantity: qty,
  fee,
  feeCurrency: "XBT",
  liquidity: "taker",
  ts: 1_700_000_000_000
})

const ULP = new Q(1n, 10n ** BigInt(COST_DECIMALS))

const fillArb = fc.tuple(
  fc.constantFrom<Side>("buy", "sell"),
  fc.integer({ min: 1, max: 2_000_000 }), // contracts (lot 1)
  fc.integer({ min: 1, max: 400_000 }), // price in ticks of 0.5 (up to 200 000 USD)
  fc.integer({ min: -100, max: 10_000 }) // fee in 1e-8 XBT
)
const cvArb = fc.constantFrom("1", "10", "0.1")

describe("inverse PnL against exact rational arithmetic", () => {
  it("realized and total PnL are within 1e-18 per rounding of the exact values, over any fills", () => {
    fc.assert(
      fc.property(fc.array(fillArb, { minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 400_000 }), cvArb, (fills, markTicks, cvText) => {
        const cv = dec(cvText)
        let p: Position = flatPosition(ID, cv, true)
        let ref: RefPosition = { q: ZQ, cost: ZQ, realized: ZQ }
        let cashBase = ZQ // Σ signed qty × cv / price − fees: what the trades cost in XBT, exactly
        for (const [side, qty, ticks, fee] of fills) {
          const price = dec(ticks).times("0.5")
          const f = fillOf(side, dec(qty), price, dec(fee).times("1e-8"))
          p = applyFill(p, f)
          const s = side === "buy" ? new Q(BigInt(qty)) : new Q(-BigInt(qty))
          ref = refApply(ref, s, Q.of(price), Q.of(cv), Q.of(f.fee))
          cashBase = cashBase.plus(s.times(Q.of(cv)).div(Q.of(price))).minus(Q.of(f.fee))
        }
        const bound = ULP.times(new Q(BigInt(3 * fills.length + 1)))
        expect(Q.of(p.quantity).minus(ref.q).isZero()).toBe(true)
        expect(Q.of(p.realizedPnl).minus(ref.realized).within(bound)).toBe(true)
        // Total PnL at the mark = cash flows in XBT − the open contracts' value at the mark.
        const mark = dec(markTicks).times("0.5")
        const total = Q.of(p.realizedPnl.plus(unrealizedPnl(p, mark)))
        const exactTotal = cashBase.minus(ref.q.times(Q.of(cv)).div(Q.of(mark)))
        expect(total.minus(exactTotal).within(bound)).toBe(true)
        // Settlement closes everything at the price: realized = the exact total at that price.
        const settled = settlePosition(p, mark)
        expect(settled.quantity.isZero()).toBe(true)
        expect(Q.of(settled.realizedPnl).minus(exactTotal).within(bound)).toBe(true)
      }),
      { numRuns: 300 }
    )
  })

  it("a round trip at one price realizes exactly minus the fees; the rounding is half-even at 18 decimals", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000_000 }), fc.integer({ min: 1, max: 400_000 }), (qty, ticks) => {
        const price = dec(ticks).times("0.5")
        const p = [fillOf("buy", dec(qty), price, dec(0)), fillOf("sell", dec(qty), price, dec(0))].reduce(applyFill, flatPosition(ID, dec(1), true))
        expect(p.realizedPnl.isZero()).toBe(true)
      })
    )
    // 1 USD at 3: 1/3 = 0.333…, rounded half-even to 18 decimals.
    const p = applyFill(flatPosition(ID, dec(1), true), fillOf("buy", dec(1), dec(3), dec(0)))
    expect(p.entryCost.toFixed()).toBe("0.333333333333333333")
    const q = applyFill(flatPosition(ID, dec(1), true), fillOf("buy", dec(2), dec(3), dec(0)))
    expect(q.entryCost.toFixed()).toBe("0.666666666666666667")
  })
})
