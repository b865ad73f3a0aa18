import { Schema } from "effect"
import { Decimal, DecimalFromString, defineStrategy, order, priceFromFloat, type ClientOrderId, type InstrumentId, type StrategyContext } from "../sdk.js"
import { Rolling } from "./rolling.js"

/**
 * Example, not advice. Avellaneda–Stoikov (2008) market maker with inventory skew:
 *   reservation price  r = s − q·γ·σ²·(T−t)
 *   total spread       δ = γ·σ²·(T−t) + (2/γ)·ln(1 + γ/k)
 * quoting bid r − δ/2 and ask r + δ/2, post-only. s is the mid, q the position in contracts,
 * σ the standard deviation of mid changes per book update (price units), T−t the fraction of
 * the current quoting horizon still to run (the horizon restarts every `horizonMs`: perpetuals
 * have no expiry). A quote moves (modify) only when its target moved by `requoteTicks` or more,
 * and a quote is touched (placed or moved) at most once per `minRequoteMs`: intents go out when the
 * decision changes, not on every book update, so the venue's rate budget is not spent on noise.
 * The quote's inputs (σ, reservation, spread, inventory) are recorded when a quote is placed or
 * moved, or the inventory changed: a record per decision, not per book update.
 */
const Params = Schema.Struct({
  instrument: Schema.String,
  /** Risk aversion, per price unit. */
  gamma: Schema.Number.pipe(Schema.positive()),
  /** Order arrival intensity decay (k in the paper). */
  k: Schema.Number.pipe(Schema.positive()),
  horizonMs: Schema.Int.pipe(Schema.positive()),
  /** Mid changes in the σ estimate. */
  sigmaWindow: Schema.Int.pipe(Schema.greaterThanOrEqualTo(2)),
  orderQty: DecimalFromString,
  /** No new bid at or above +maxInventory, no new ask at or below −maxInventory. */
  maxInventory: DecimalFromString,
  requoteTicks: Schema.Int.pipe(Schema.positive()),
  /** Least time between two intents on the same quote (ms); default 0 = no floor. */
  minRequoteMs: Schema.optionalWith(Schema.Int.pipe(Schema.nonNegative()), { exact: true, default: () => 0 })
})
export type AvellanedaStoikovParams = typeof Params.Type

interface State {
  readonly instrument: InstrumentId
  readonly changes: Rolling
  lastMid: number | undefined
  horizonStart: number
  bid: ClientOrderId | undefined
  ask: ClientOrderId | undefined
  /** When an intent last went out for each quote. */
  bidTouchedAt: number
  askTouchedAt: number
  recordedInventory: string | undefined
}

/** The quote prices (on the tick grid, bid rounded down and ask up) for mid `s`, inventory `q`. */
export const asQuotes = (p: { gamma: number; k: number }, s: number, q: number, sigma: number, tau: number): { reservation: number; spread: number } => {
  const risk = p.gamma * sigma * sigma * tau
  return { reservation: s - q * risk, spread: risk + (2 / p.gamma) * Math.log(1 + p.gamma / p.k) }
}

type Ctx = StrategyContext<AvellanedaStoikovParams, State>

/** Places, moves or pulls one quote; true when an intent went out. */
const quote = (ctx: Ctx, side: "buy" | "sell", target: Decimal | undefined, allowed: boolean): boolean => {
  const key = side === "buy" ? "bid" : "ask"
  const touched = side === "buy" ? "bidTouchedAt" : "askTouchedAt"
  const id = ctx.state[key]
  const live = id === undefined ? undefined : ctx.openOrders(ctx.state.instrument).find((o) => o.clientOrderId === id)
  if (target === undefined || !allowed) {
    // Pulling a quote is never held back: it takes risk away.
    if (live !== undefined && live.status !== "pendingCancel") {
      ctx.cancel(live.clientOrderId)
      return true
    }
    if (live === undefined) ctx.state[key] = undefined
    return false
  }
  if (ctx.now() - ctx.state[touched] < ctx.params.minRequoteMs) return false
  if (live === undefined) {
    ctx.state[key] = ctx.submit({ instrument: ctx.state.instrument, side, qty: ctx.params.orderQty, type: order.postOnly(target) })
    ctx.state[touched] = ctx.now()
    return true
  }
  if (live.status !== "open" || live.price === undefined) return false
  const tick = ctx.instrument(ctx.state.instrument).tickSize
  if (live.price.minus(target).abs().lessThan(tick.times(ctx.params.requoteTicks))) return false
  ctx.modify(live.clientOrderId, { price: target })
  ctx.state[touched] = ctx.now()
  return true
}

export default defineStrategy({
  id: "avellaneda-stoikov",
  description: "Avellaneda-Stoikov market maker with inventory skew (example)",
  instruments: (p) => [p.instrument],
  params: Params,
  init: (ctx): State => ({
    instrument: ctx.params.instrument as InstrumentId,
    changes: new Rolling(ctx.params.sigmaWindow),
    lastMid: undefined,
    horizonStart: ctx.now(),
    bid: undefined,
    ask: undefined,
    bidTouchedAt: Number.NEGATIVE_INFINITY,
    askTouchedAt: Number.NEGATIVE_INFINITY,
    recordedInventory: undefined
  }),
  onBook: (ctx, book) => {
    const st = ctx.state
    if (book.mid === undefined || book.bestBid === undefined || book.bestAsk === undefined) return
    const s = book.mid.toNumber()
    if (st.lastMid !== undefined) st.changes.push(s - st.lastMid)
    st.lastMid = s
    if (!st.changes.full) return

    const p = ctx.params
    const instrument = ctx.instrument(st.instrument)
    const q = ctx.position(st.instrument).quantity
    const elapsed = (ctx.now() - st.horizonStart) % p.horizonMs
    const tau = (p.horizonMs - elapsed) / p.horizonMs
    const sigma = st.changes.std()
    const { reservation, spread } = asQuotes(p, s, q.toNumber(), sigma, tau)
    // Never cross: a post-only order that would take is canceled by the venue.
    const tick = instrument.tickSize
    const bidCap = book.bestAsk.price.minus(tick)
    const askFloor = book.bestBid.price.plus(tick)
    const rawBid = priceFromFloat(instrument, reservation - spread / 2, "down")
    const rawAsk = priceFromFloat(instrument, reservation + spread / 2, "up")
    const bid = rawBid === undefined ? undefined : Decimal.min(rawBid, bidCap)
    const ask = rawAsk === undefined ? undefined : Decimal.max(rawAsk, askFloor)

    const bidSent = quote(ctx, "buy", bid, q.lessThan(p.maxInventory))
    const askSent = quote(ctx, "sell", ask, q.greaterThan(p.maxInventory.negated()))
    if (bidSent || askSent || st.recordedInventory !== q.toString()) {
      st.recordedInventory = q.toString()
      ctx.record("sigma", sigma, st.instrument)
      ctx.record("reservation", priceFromFloat(instrument, reservation) ?? Number.NaN, st.instrument)
      ctx.record("spread", spread, st.instrument)
      ctx.record("inventory", q, st.instrument)
    }
  },
  onReconfigure: (ctx, previous) => {
    if (previous.sigmaWindow !== ctx.params.sigmaWindow) {
      // Keep what was measured; the window only changes length.
      const old = ctx.state.changes
      const changes = new Rolling(ctx.params.sigmaWindow)
      for (const v of old.toArray()) changes.push(v)
      ctx.state = { ...ctx.state, changes }
    }
  },
  onStop: (ctx) => ctx.log.info("stopping; the host cancels the quotes")
})
