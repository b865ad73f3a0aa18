import { Schema } from "effect"
import type { Decimal } from "../../src/domain/decimal.js"
import { dec } from "../../src/domain/decimal.js"
import type { InstrumentId } from "../../src/domain/ids.js"
import { defineStrategy, order } from "../../src/strategies/sdk.js"

/**
 * The tick_to_order bench's strategy, loaded by the daemon from this file: whenever the best bid's
 * size changes, buy 0.001 IOC 1000 below the best bid (never marketable: it is canceled unfilled, so
 * the position stays flat, and the venue's book effects of the dead order stay far from the touch
 * every client watches). The bare client and the ccxt bot decide the same way.
 */
export default defineStrategy({
  id: "tick-taker",
  instruments: ["kraken-futures:PF_XBTUSD" as InstrumentId],
  params: Schema.Struct({}),
  init: () => ({ lastTopQty: undefined as Decimal | undefined }),
  onBook: (ctx, book) => {
    const top = book.bestBid
    if (top === undefined) return
    const prev = ctx.state.lastTopQty
    ctx.state.lastTopQty = top.qty
    if (prev === undefined || prev.eq(top.qty)) return
    ctx.submit({ instrument: book.instrumentId, side: "buy", qty: dec("0.001"), type: order.ioc(top.price.minus(1000)) })
  }
})
