import { Data, Either } from "effect"
import type { Decimal } from "./decimal.js"
import type { ClientOrderId, FillId, InstrumentId, VenueOrderId } from "./ids.js"
import { sideSign, type Side } from "./order.js"
import type { OrderFilled } from "./events/orders.js"

export type Liquidity = "maker" | "taker"

/** One execution reported by the venue. The fill id is the venue's, and is what dedupes replays. */
export interface Fill {
  readonly fillId: FillId
  readonly clientOrderId: ClientOrderId
  readonly venueOrderId: VenueOrderId
  readonly instrumentId: InstrumentId
  readonly side: Side
  readonly price: Decimal
  /** Always positive; the side gives the direction. */
  readonly quantity: Decimal
  /** Positive is paid, negative is a rebate (maker rebates exist on some venues). */
  readonly fee: Decimal
  readonly feeCurrency: string
  readonly liquidity: Liquidity
  /** Venue execution time, epoch ms. */
  readonly ts: number
}

/** The fill's quantity with the side's sign: + for buy, - for sell. */
export const signedQuantity = (fill: Fill): Decimal => (sideSign(fill.side) === 1 ? fill.quantity : fill.quantity.negated())

export class FillInvalid extends Data.TaggedError("FillInvalid")<{
  readonly fillId: string
  readonly field: "price" | "quantity" | "fee" | "ts"
  readonly input: string
  readonly reason: string
}> {
  override get message(): string {
    return `fill ${this.fillId}: ${this.field} ${JSON.stringify(this.input.slice(0, 64))} ${this.reason}`
  }
}

/** Checks what a position relies on; adapters call it on venue data before it enters the system. */
export const validateFill = (fill: Fill): Either.Either<Fill, FillInvalid> => {
  const invalid = (field: FillInvalid["field"], input: unknown, reason: string) =>
    Either.left(new FillInvalid({ fillId: fill.fillId, field, input: String(input), reason }))
  if (!fill.price.isFinite() || !fill.price.greaterThan(0)) return invalid("price", fill.price, "must be positive")
  if (!fill.quantity.isFinite() || !fill.quantity.greaterThan(0)) return invalid("quantity", fill.quantity, "must be positive")
  if (!fill.fee.isFinite()) return invalid("fee", fill.fee, "must be finite")
  if (!Number.isSafeInteger(fill.ts) || fill.ts < 0) return invalid("ts", fill.ts, "must be epoch milliseconds")
  return Either.right(fill)
}

/** The fill an `OrderFilled` event reports (venue time when the venue gave one). */
export const fillOfEvent = (e: OrderFilled): Fill => ({
  fillId: e.fillId,
  clientOrderId: e.clientOrderId,
  venueOrderId: e.venueOrderId,
  instrumentId: e.instrument,
  side: e.side,
  price: e.price,
  quantity: e.qty,
  fee: e.fee,
  feeCurrency: e.feeCurrency,
  liquidity: e.liquidity,
  ts: e.venueTs ?? e.ts
})
