import { Schema } from "effect"
import { DecimalFromString, defineStrategy, order, type InstrumentId } from "../sdk.js"
import { Rolling } from "./rolling.js"

/**
 * Example, not advice. Donchian breakout taker: when the mid breaks above the highest mid of the
 * last `lookback` books it buys, below the lowest it sells, with an IOC at the touch (a taker
 * with bounded slippage), at most `maxPosition` contracts either way, and no new trade within
 * `cooldownMs` of the last one.
 */
const Params = Schema.Struct({
  instrument: Schema.String,
  lookback: Schema.Int.pipe(Schema.greaterThanOrEqualTo(2)),
  orderQty: DecimalFromString,
  maxPosition: DecimalFromString,
  cooldownMs: Schema.Int.pipe(Schema.nonNegative())
})
export type MomentumBreakoutParams = typeof Params.Type

export default defineStrategy({
  id: "momentum-breakout",
  description: "Donchian breakout on mids with a cooldown and a max position (example)",
  instruments: (p) => [p.instrument],
  params: Params,
  init: (ctx) => ({
    instrument: ctx.params.instrument as InstrumentId,
    mids: new Rolling(ctx.params.lookback),
    lastTradeAt: Number.NEGATIVE_INFINITY
  }),
  onBook: (ctx, book) => {
    const st = ctx.state
    if (book.mid === undefined || book.bestBid === undefined || book.bestAsk === undefined) return
    const mid = book.mid.toNumber()
    const ready = st.mids.full
    const high = st.mids.max()
    const low = st.mids.min()
    st.mids.push(mid)
    if (!ready || ctx.now() - st.lastTradeAt < ctx.params.cooldownMs) return
    if (ctx.openOrders(st.instrument).length > 0) return

    const p = ctx.params
    const position = ctx.position(st.instrument).quantity
    if (mid > high && position.plus(p.orderQty).lessThanOrEqualTo(p.maxPosition)) {
      ctx.record("breakout", 1, st.instrument)
      ctx.submit({ instrument: st.instrument, side: "buy", qty: p.orderQty, type: order.ioc(book.bestAsk.price) })
      st.lastTradeAt = ctx.now()
    } else if (mid < low && position.minus(p.orderQty).greaterThanOrEqualTo(p.maxPosition.negated())) {
      ctx.record("breakout", -1, st.instrument)
      ctx.submit({ instrument: st.instrument, side: "sell", qty: p.orderQty, type: order.ioc(book.bestBid.price) })
      st.lastTradeAt = ctx.now()
    }
  }
})
