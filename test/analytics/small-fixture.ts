import type { AnalyticsSource, FillRow, OrderRow } from "../../src/analytics/dataset.js"

/**
 * A dataset small enough to compute every metric by hand (the derivations are in
 * metrics.test.ts). Day n is 2026-01-01 + n days (UTC).
 *
 * alpha on X:                                   position  basis   realized
 *   f1 d0 01:00 buy  2   @ 100  fee 0.20 mid 99.9     2      200      0
 *   f2 d0 02:00 buy  1   @ 103  fee 0.10 mid 103.1    3      303      0    (avg 101)
 *   f3 d0 03:00 sell 1.5 @ 104  fee 0.15 mid 104.2  1.5    151.5    4.5    (1.5×104 − 303×1.5/3)
 *   f4 d1 01:00 sell 3.5 @ 98   fee 0.35 mid 97.9    −2     −196   −4.5    (flip: 1.5×98 − 151.5; −2 opens at 98)
 *   f5 d3 01:00 buy  2   @ 95   fee 0.20 mid 95.1     0        0      6    (−2×95 + 196)
 *   marks X (23:00): d0 102, d1 97, d2 99, d3 96
 * beta on Y:
 *   g1 d1 02:00 sell 10  @ 5    fee 0.05 mid 5.01   −10      −50      0
 *   g2 d2 02:00 buy  4   @ 4.5  fee 0.02 mid 4.49    −6      −30      2    (−4×4.5 + 50×4/10)
 *   marks Y (23:00): d1 5.2, d2 4.6 (none on d3: the d2 mark carries)
 */
export const D0 = Date.UTC(2026, 0, 1)
const H = 3_600_000
const DAY = 86_400_000

interface Spec {
  readonly id: string
  readonly strategy: string
  readonly instrument: string
  readonly side: "buy" | "sell"
  readonly qty: string
  readonly price: string
  readonly fee: string
  readonly mid: string
  readonly ts: number
  /** intent → ack, ack → first fill (ms) */
  readonly ack: number
  readonly toFill: number
}

const FILLED: ReadonlyArray<Spec> = [
  { id: "a1", strategy: "alpha", instrument: "X", side: "buy", qty: "2", price: "100", fee: "0.2", mid: "99.9", ts: D0 + 1 * H, ack: 10, toFill: 5 },
  { id: "a2", strategy: "alpha", instrument: "X", side: "buy", qty: "1", price: "103", fee: "0.1", mid: "103.1", ts: D0 + 2 * H, ack: 20, toFill: 15 },
  { id: "a3", strategy: "alpha", instrument: "X", side: "sell", qty: "1.5", price: "104", fee: "0.15", mid: "104.2", ts: D0 + 3 * H, ack: 30, toFill: 25 },
  { id: "a4", strategy: "alpha", instrument: "X", side: "sell", qty: "3.5", price: "98", fee: "0.35", mid: "97.9", ts: D0 + DAY + 1 * H, ack: 40, toFill: 35 },
  { id: "a5", strategy: "alpha", instrument: "X", side: "buy", qty: "2", price: "95", fee: "0.2", mid: "95.1", ts: D0 + 3 * DAY + 1 * H, ack: 50, toFill: 45 },
  { id: "b1", strategy: "beta", instrument: "Y", side: "sell", qty: "10", price: "5", fee: "0.05", mid: "5.01", ts: D0 + DAY + 2 * H, ack: 80, toFill: 55 },
  { id: "b2", strategy: "beta", instrument: "Y", side: "buy", qty: "4", price: "4.5", fee: "0.02", mid: "4.49", ts: D0 + 2 * DAY + 2 * H, ack: 90, toFill: 500 }
]

const fills: ReadonlyArray<FillRow> = FILLED.map((s) => ({
  fillId: `${s.id}-f`,
  clientOrderId: s.id,
  strategy: s.strategy,
  instrument: s.instrument,
  side: s.side,
  price: s.price,
  qty: s.qty,
  fee: s.fee,
  liquidity: s.side === "buy" ? "maker" : "taker",
  ts: s.ts,
  arrivalMid: s.mid
}))

const orders: ReadonlyArray<OrderRow> = [
  ...FILLED.map(
    (s): OrderRow => ({
      clientOrderId: s.id,
      strategy: s.strategy,
      instrument: s.instrument,
      side: s.side,
      type: "limit",
      qty: s.qty,
      price: s.price,
      submittedTs: s.ts - s.toFill - s.ack,
      acceptedTs: s.ts - s.toFill,
      firstFillTs: s.ts,
      finalTs: s.ts,
      finalState: "filled"
    })
  ),
  // canceled without a fill (ack 60, 70, 100 ms) and one rejected (never acknowledged)
  { clientOrderId: "a6", strategy: "alpha", instrument: "X", side: "buy", type: "limit", qty: "1", price: "90", submittedTs: D0 + 5 * H, acceptedTs: D0 + 5 * H + 60, finalTs: D0 + 6 * H, finalState: "canceled" },
  { clientOrderId: "a7", strategy: "alpha", instrument: "X", side: "sell", type: "limit", qty: "1", price: "110", submittedTs: D0 + 6 * H, acceptedTs: D0 + 6 * H + 70, finalTs: D0 + 7 * H, finalState: "canceled" },
  { clientOrderId: "a8", strategy: "alpha", instrument: "X", side: "buy", type: "market", qty: "1", submittedTs: D0 + 7 * H, finalTs: D0 + 7 * H + 5, finalState: "rejected" },
  { clientOrderId: "b3", strategy: "beta", instrument: "Y", side: "buy", type: "limit", qty: "1", price: "4", submittedTs: D0 + DAY + 5 * H, acceptedTs: D0 + DAY + 5 * H + 100, finalTs: D0 + DAY + 6 * H, finalState: "canceled" }
]

export const smallSource = (): AnalyticsSource => ({
  fills,
  orders,
  marks: [
    { instrument: "X", ts: D0 + 23 * H, price: "102" },
    { instrument: "X", ts: D0 + DAY + 23 * H, price: "97" },
    { instrument: "X", ts: D0 + 2 * DAY + 23 * H, price: "99" },
    { instrument: "X", ts: D0 + 3 * DAY + 23 * H, price: "96" },
    { instrument: "Y", ts: D0 + DAY + 23 * H, price: "5.2" },
    { instrument: "Y", ts: D0 + 2 * DAY + 23 * H, price: "4.6" }
  ],
  riskDecisions: [
    { ts: D0 + 1 * H, strategy: "alpha", approved: true },
    { ts: D0 + 2 * H, strategy: "alpha", approved: true },
    { ts: D0 + 3 * H, strategy: "alpha", approved: true },
    { ts: D0 + 4 * H, strategy: "alpha", approved: false, reason: "MAX_POSITION" },
    { ts: D0 + 5 * H, strategy: "alpha", approved: false, reason: "MAX_POSITION" },
    { ts: D0 + 6 * H, strategy: "alpha", approved: false, reason: "RATE_LIMIT" },
    { ts: D0 + DAY, strategy: "beta", approved: true },
    { ts: D0 + DAY + H, strategy: "beta", approved: false, reason: "RATE_LIMIT" }
  ],
  strategyRecords: [
    { strategy: "alpha", name: "signal", value: "1.5", ts: D0 },
    { strategy: "alpha", name: "signal", value: "2.5", ts: D0 + DAY }
  ]
})
