import { Decimal } from "../domain/decimal.js"
import { roundToLot, roundToTick, type Instrument, type Rounding } from "../domain/instrument.js"
import type { OrderType, TimeInForce, TriggerSignal } from "../domain/order.js"
import type { StrategyDefinition } from "./ports.js"

/**
 * The strategy SDK: everything a strategy author writes against. A strategy is a plain object of
 * callbacks over a context (`defineStrategy`), or an XState machine (`defineMachineStrategy`);
 * the strategy host (src/actors/strategy) runs it under supervision, sends every order action
 * through the account's risk actor, and journals its records. It imports only the domain.
 */

export type * from "./ports.js"
export { decodeParams, instrumentsOf, StrategyParamsInvalid } from "./ports.js"
export { bookViewFromLevels, bookViewOf } from "./book-view.js"
export { Decimal, dec, ZERO } from "../domain/decimal.js"
export { roundToLot, roundToTick } from "../domain/instrument.js"
// Params are declared with Effect's Schema: re-exported so that a strategy outside this repository
// needs only `troupe/sdk` (`import { defineStrategy, Schema } from "troupe/sdk"`).
export { Schema } from "effect"

export const GTC: TimeInForce = { _tag: "gtc" }

/** Order type builders: `ctx.submit({ instrument, side, qty, type: order.postOnly(price) })`. */
export const order = {
  market: (): OrderType => ({ _tag: "market" }),
  limit: (price: Decimal, timeInForce: TimeInForce = GTC): OrderType => ({ _tag: "limit", price, timeInForce }),
  /** Rests or is canceled; never takes liquidity. */
  postOnly: (price: Decimal, timeInForce: TimeInForce = GTC): OrderType => ({ _tag: "postOnly", price, timeInForce }),
  ioc: (price: Decimal): OrderType => ({ _tag: "ioc", price }),
  fok: (price: Decimal): OrderType => ({ _tag: "fok", price }),
  stop: (triggerPrice: Decimal, options: { readonly trigger?: TriggerSignal; readonly limitPrice?: Decimal } = {}): OrderType => ({
    _tag: "stop",
    triggerPrice,
    trigger: options.trigger ?? "mark",
    ...(options.limitPrice === undefined ? {} : { limitPrice: options.limitPrice })
  }),
  takeProfit: (triggerPrice: Decimal, options: { readonly trigger?: TriggerSignal; readonly limitPrice?: Decimal } = {}): OrderType => ({
    _tag: "takeProfit",
    triggerPrice,
    trigger: options.trigger ?? "mark",
    ...(options.limitPrice === undefined ? {} : { limitPrice: options.limitPrice })
  })
} as const

/**
 * The one door from float statistics to an order: a float (a reservation price, a z-score
 * threshold times a price) becomes a Decimal through its shortest text and is rounded onto the
 * instrument's tick grid. Undefined for NaN and infinities, so a bad estimate cannot reach an order.
 */
export const priceFromFloat = (instrument: Instrument, x: number, rounding: Rounding = "nearest"): Decimal | undefined =>
  Number.isFinite(x) && x > 0 ? roundToTick(instrument, new Decimal(String(x)), rounding) : undefined

/** A quantity from a float, rounded down onto the lot grid (never trade more than asked). */
export const qtyFromFloat = (instrument: Instrument, x: number): Decimal | undefined =>
  Number.isFinite(x) && x >= 0 ? roundToLot(instrument, new Decimal(String(x)), "down") : undefined

/** Identity at run time; at compile time it infers `P` from the Schema and `S` from `init`. */
export const defineStrategy = <P, I, S>(definition: StrategyDefinition<P, I, S>): StrategyDefinition<P, I, S> => definition

/** Schema of a Decimal written as text in params (`"0.001"`); a JSON number is refused, as in all config. */
export { DecimalFromString } from "../domain/schema.js"
export { defineMachineStrategy, type MachineStrategyEvent, type MachineStrategyInput, type MachineStrategyOptions } from "./machine-strategy.js"
export type { ClientOrderId, InstrumentId, StrategyId } from "../domain/ids.js"
export type { Instrument } from "../domain/instrument.js"
export type { OrderType, Side, TimeInForce } from "../domain/order.js"
export type { Position } from "../domain/position.js"
export type { OrderEvent, OrderFilled } from "../domain/events/orders.js"
export type { Trade } from "../domain/events/market.js"
