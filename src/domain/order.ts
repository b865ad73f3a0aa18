import { Data, Either } from "effect"
import type { Decimal } from "./decimal.js"
import type { AccountId, ClientOrderId, InstrumentId, StrategyId } from "./ids.js"
import { isOnLot, isOnTick, type Instrument } from "./instrument.js"

export type Side = "buy" | "sell"

export const oppositeSide = (side: Side): Side => (side === "buy" ? "sell" : "buy")

/** +1 for buy, -1 for sell: the sign a fill of this side adds to a netting position. */
export const sideSign = (side: Side): 1 | -1 => (side === "buy" ? 1 : -1)

/** How long a resting order lives. ioc/fok are order types below, as Kraken Futures models them. */
export type TimeInForce = { readonly _tag: "gtc" } | { readonly _tag: "gtd"; readonly expireAt: number }

/** Which price a stop or take-profit watches. */
export type TriggerSignal = "last" | "mark" | "index"

/**
 * Each type carries exactly the prices it needs, so a market order with a price or a stop
 * without a trigger cannot be built. Names follow Kraken Futures' order types
 * (mkt, lmt, post, ioc, fok, stp, take_profit).
 */
export type OrderType =
  | { readonly _tag: "market" }
  | { readonly _tag: "limit"; readonly price: Decimal; readonly timeInForce: TimeInForce }
  | { readonly _tag: "postOnly"; readonly price: Decimal; readonly timeInForce: TimeInForce }
  | { readonly _tag: "ioc"; readonly price: Decimal }
  | { readonly _tag: "fok"; readonly price: Decimal }
  | { readonly _tag: "stop"; readonly triggerPrice: Decimal; readonly trigger: TriggerSignal; readonly limitPrice?: Decimal }
  | { readonly _tag: "takeProfit"; readonly triggerPrice: Decimal; readonly trigger: TriggerSignal; readonly limitPrice?: Decimal }

export type OrderTypeTag = OrderType["_tag"]

export interface Order {
  readonly clientOrderId: ClientOrderId
  readonly accountId: AccountId
  readonly strategyId: StrategyId
  readonly instrumentId: InstrumentId
  readonly side: Side
  readonly type: OrderType
  /** Always positive; the side gives the direction. */
  readonly quantity: Decimal
  /** Only ever shrinks the position; the venue cancels or trims what would grow it. */
  readonly reduceOnly: boolean
  /** Creation time from the injected clock, epoch ms. */
  readonly createdAt: number
}

/** The price the order rests or executes at, if it has one (stops: their limit price). */
export const limitPriceOf = (type: OrderType): Decimal | undefined => {
  switch (type._tag) {
    case "market":
      return undefined
    case "limit":
    case "postOnly":
    case "ioc":
    case "fok":
      return type.price
    case "stop":
    case "takeProfit":
      return type.limitPrice
  }
}

export const triggerPriceOf = (type: OrderType): Decimal | undefined =>
  type._tag === "stop" || type._tag === "takeProfit" ? type.triggerPrice : undefined

export const timeInForceOf = (type: OrderType): TimeInForce | undefined =>
  type._tag === "limit" || type._tag === "postOnly" ? type.timeInForce : undefined

export const isResting = (type: OrderType): boolean => type._tag === "limit" || type._tag === "postOnly"

export class OrderInvalid extends Data.TaggedError("OrderInvalid")<{
  readonly clientOrderId: string
  readonly field: "instrumentId" | "quantity" | "price" | "limitPrice" | "triggerPrice" | "timeInForce" | "tradable"
  readonly input: string
  readonly reason: string
}> {
  override get message(): string {
    return `order ${this.clientOrderId}: ${this.field} ${JSON.stringify(this.input.slice(0, 64))} ${this.reason}`
  }
}

/**
 * Builds an order checked against its instrument: on the venue's grid and within its limits,
 * so a venue reject for a malformed order means our instrument data is stale, not our code wrong.
 */
export const makeOrder = (fields: Order, instrument: Instrument): Either.Either<Order, OrderInvalid> => {
  const invalid = (field: OrderInvalid["field"], input: unknown, reason: string) =>
    Either.left(new OrderInvalid({ clientOrderId: fields.clientOrderId, field, input: String(input), reason }))
  if (fields.instrumentId !== instrument.id) return invalid("instrumentId", fields.instrumentId, `is not ${instrument.id}`)
  if (!instrument.tradable) return invalid("tradable", instrument.id, "is not tradable")
  const qty = fields.quantity
  if (!qty.isFinite() || !qty.greaterThan(0)) return invalid("quantity", qty, "must be positive")
  if (!isOnLot(instrument, qty)) return invalid("quantity", qty, `is not a multiple of the lot size ${instrument.lotSize.toString()}`)
  if (qty.lessThan(instrument.minQty)) return invalid("quantity", qty, `is below the minimum ${instrument.minQty.toString()}`)
  if (qty.greaterThan(instrument.maxQty)) return invalid("quantity", qty, `is above the maximum ${instrument.maxQty.toString()}`)
  const checkPrice = (field: "price" | "limitPrice" | "triggerPrice", price: Decimal | undefined) => {
    if (price === undefined) return undefined
    if (!price.isFinite() || !price.greaterThan(0)) return invalid(field, price, "must be positive")
    if (!isOnTick(instrument, price)) return invalid(field, price, `is not a multiple of the tick size ${instrument.tickSize.toString()}`)
    return undefined
  }
  const type = fields.type
  const bad =
    type._tag === "stop" || type._tag === "takeProfit"
      ? (checkPrice("triggerPrice", type.triggerPrice) ?? checkPrice("limitPrice", type.limitPrice))
      : checkPrice("price", limitPriceOf(type))
  if (bad !== undefined) return bad
  const tif = timeInForceOf(type)
  if (tif?._tag === "gtd" && !(Number.isSafeInteger(tif.expireAt) && tif.expireAt > fields.createdAt)) {
    return invalid("timeInForce", tif.expireAt, "must expire after the order is created")
  }
  return Either.right(fields)
}
