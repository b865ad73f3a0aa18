import { Schema } from "effect"
import { DecimalFromString, InstrumentId, Seq, Side, Timestamp } from "../schema.js"
import { envelope, optional } from "./envelope.js"

/** Market data, normalized from any venue. Topic `md`, keyed by instrument. */

/** One L2 level: `[price, qty]`, both decimal text on the wire. In a delta, qty 0 removes the level. */
export const BookLevel = Schema.Tuple(DecimalFromString, DecimalFromString)
export type BookLevel = typeof BookLevel.Type

/** The full book at `seq`; bids best (highest) first, asks best (lowest) first. */
export const BookSnapshot = Schema.TaggedStruct("BookSnapshot", {
  ...envelope,
  instrument: InstrumentId,
  seq: Seq,
  bids: Schema.Array(BookLevel),
  asks: Schema.Array(BookLevel),
  venueTs: optional(Timestamp)
})
export type BookSnapshot = typeof BookSnapshot.Type

/** Levels that changed since `seq - 1`; one delta per venue message. */
export const BookDelta = Schema.TaggedStruct("BookDelta", {
  ...envelope,
  instrument: InstrumentId,
  seq: Seq,
  bids: Schema.Array(BookLevel),
  asks: Schema.Array(BookLevel),
  venueTs: optional(Timestamp)
})
export type BookDelta = typeof BookDelta.Type

/** A public trade; `aggressor` is the side of the taker. */
export const Trade = Schema.TaggedStruct("Trade", {
  ...envelope,
  instrument: InstrumentId,
  price: DecimalFromString,
  qty: DecimalFromString,
  aggressor: Side,
  tradeId: optional(Schema.String),
  venueTs: optional(Timestamp)
})
export type Trade = typeof Trade.Type

/** Top of book and reference prices. Fields a venue does not send are absent. */
export const Ticker = Schema.TaggedStruct("Ticker", {
  ...envelope,
  instrument: InstrumentId,
  bid: optional(DecimalFromString),
  bidQty: optional(DecimalFromString),
  ask: optional(DecimalFromString),
  askQty: optional(DecimalFromString),
  last: optional(DecimalFromString),
  markPrice: optional(DecimalFromString),
  indexPrice: optional(DecimalFromString),
  fundingRate: optional(DecimalFromString),
  venueTs: optional(Timestamp)
})
export type Ticker = typeof Ticker.Type

export const MarketEvent = Schema.Union(BookSnapshot, BookDelta, Trade, Ticker)
export type MarketEvent = typeof MarketEvent.Type
