import { Schema } from "effect"
import { DecimalFromString, defineStrategy, order, type BookView, type InstrumentId, type StrategyContext } from "../sdk.js"
import { Rolling } from "./rolling.js"

/**
 * Example, not advice. Pairs trade on the rolling z-score of x = ln(midA / midB): above
 * +entryZ it sells the spread (sell A, buy B), below −entryZ it buys it, and once |z| falls
 * below exitZ it closes both legs with reduce-only orders. Legs are IOCs at the touch.
 */
const Params = Schema.Struct({
  legA: Schema.String,
  legB: Schema.String,
  window: Schema.Int.pipe(Schema.greaterThanOrEqualTo(3)),
  entryZ: Schema.Number.pipe(Schema.positive()),
  exitZ: Schema.Number.pipe(Schema.nonNegative()),
  qtyA: DecimalFromString,
  qtyB: DecimalFromString
}).pipe(Schema.filter((p) => p.exitZ < p.entryZ || { path: ["exitZ"], message: "exitZ must be below entryZ" }))
export type PairsZScoreParams = typeof Params.Type

interface State {
  readonly a: InstrumentId
  readonly b: InstrumentId
  readonly ratios: Rolling
}

type Ctx = StrategyContext<PairsZScoreParams, State>

const take = (ctx: Ctx, instrument: InstrumentId, side: "buy" | "sell", qty: PairsZScoreParams["qtyA"], reduceOnly: boolean): void => {
  const book = ctx.book(instrument) as BookView
  const touch = side === "buy" ? book.bestAsk : book.bestBid
  if (touch === undefined) return
  ctx.submit({ instrument, side, qty, type: order.ioc(touch.price), reduceOnly })
}

export default defineStrategy({
  id: "pairs-zscore",
  description: "Pairs trade on the z-score of the log price ratio of two instruments (example)",
  instruments: (p) => [p.legA, p.legB],
  params: Params,
  init: (ctx): State => ({ a: ctx.params.legA as InstrumentId, b: ctx.params.legB as InstrumentId, ratios: new Rolling(ctx.params.window) }),
  onBook: (ctx, book) => {
    const st = ctx.state
    const midA = ctx.book(st.a)?.mid
    const midB = ctx.book(st.b)?.mid
    if (midA === undefined || midB === undefined) return
    const x = Math.log(midA.toNumber() / midB.toNumber())
    // One observation per update of leg A keeps the window in units of A's updates.
    const ready = st.ratios.full
    const mean = st.ratios.mean()
    const std = st.ratios.std()
    if (book.instrumentId === st.a) st.ratios.push(x)
    if (!ready || !(std > 0)) return
    const z = (x - mean) / std
    ctx.record("z", z)
    if (ctx.openOrders().length > 0) return

    const p = ctx.params
    const posA = ctx.position(st.a).quantity
    const posB = ctx.position(st.b).quantity
    if (posA.isZero() && posB.isZero()) {
      if (z > p.entryZ) {
        take(ctx, st.a, "sell", p.qtyA, false)
        take(ctx, st.b, "buy", p.qtyB, false)
      } else if (z < -p.entryZ) {
        take(ctx, st.a, "buy", p.qtyA, false)
        take(ctx, st.b, "sell", p.qtyB, false)
      }
    } else if (Math.abs(z) < p.exitZ) {
      if (!posA.isZero()) take(ctx, st.a, posA.isPositive() ? "sell" : "buy", posA.abs(), true)
      if (!posB.isZero()) take(ctx, st.b, posB.isPositive() ? "sell" : "buy", posB.abs(), true)
    }
  }
})
