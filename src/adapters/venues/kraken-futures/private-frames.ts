import { Either, ParseResult, Schema } from "effect"
import { shapeOf, VenueDecodeError } from "./errors.js"
import { DecimalText, IntFromText, NonNegIntFromText, parseExactJson } from "./json-exact.js"

/** Private WS frames, decoded from exact JSON (numbers as text). Never throws. */

const opt = <S extends Schema.Schema.Any>(s: S) => Schema.optionalWith(Schema.NullOr(s), { exact: true })

export const VenueOrderFrame = Schema.Struct({
  instrument: Schema.String,
  order_id: Schema.String,
  cli_ord_id: opt(Schema.String),
  time: opt(NonNegIntFromText),
  last_update_time: opt(NonNegIntFromText),
  qty: DecimalText,
  filled: opt(DecimalText),
  limit_price: opt(DecimalText),
  stop_price: opt(DecimalText),
  type: Schema.String,
  direction: IntFromText.pipe(Schema.filter((d) => d === 0 || d === 1 || "direction must be 0 (buy) or 1 (sell)")),
  reduce_only: opt(Schema.Boolean)
})
export type VenueOrderFrame = typeof VenueOrderFrame.Type

export const FillFrame = Schema.Struct({
  instrument: Schema.String,
  time: opt(NonNegIntFromText),
  price: DecimalText,
  seq: opt(NonNegIntFromText),
  buy: Schema.Boolean,
  qty: DecimalText,
  order_id: Schema.String,
  cli_ord_id: opt(Schema.String),
  fill_id: Schema.String,
  fill_type: Schema.String,
  fee_paid: opt(DecimalText),
  fee_currency: opt(Schema.String)
})
export type FillFrame = typeof FillFrame.Type

export const PositionFrame = Schema.Struct({
  instrument: Schema.String,
  balance: DecimalText,
  pnl: opt(DecimalText),
  entry_price: opt(DecimalText),
  mark_price: opt(DecimalText)
})
export type PositionFrame = typeof PositionFrame.Type

const OpenOrdersSnapshot = Schema.Struct({ feed: Schema.Literal("open_orders_snapshot"), account: opt(Schema.String), orders: Schema.Array(VenueOrderFrame) })
const OpenOrdersUpdate = Schema.Struct({
  feed: Schema.Literal("open_orders"),
  order: opt(VenueOrderFrame),
  order_id: opt(Schema.String),
  is_cancel: Schema.Boolean,
  reason: opt(Schema.String)
})
// Fills are decoded one by one (see `decodeFill`): one odd entry must not hide the others.
const Fills = Schema.Struct({ feed: Schema.Literal("fills_snapshot", "fills"), account: opt(Schema.String), fills: Schema.Array(Schema.Unknown) })
const Positions = Schema.Struct({ feed: Schema.Literal("open_positions"), account: opt(Schema.String), positions: Schema.Array(PositionFrame) })
const Heartbeat = Schema.Struct({ feed: Schema.Literal("heartbeat") })

/** The flex (multi-collateral) account of a `balances` frame: the margin figures risk uses. */
export const FlexBalances = Schema.Struct({
  available_margin: DecimalText,
  initial_margin: opt(DecimalText),
  maintenance_margin: opt(DecimalText),
  margin_equity: opt(DecimalText)
})
export type FlexBalances = typeof FlexBalances.Type
// The flex part is decoded on its own (see `decodeFlex`): an account without one is not an error.
const Balances = Schema.Struct({ feed: Schema.Literal("balances", "balances_snapshot"), flex_futures: opt(Schema.Unknown) })

/** One account-log entry (`account_log` feed); only what funding bookkeeping reads. */
export const AccountLogEntry = Schema.Struct({
  info: Schema.String,
  booking_uid: opt(Schema.String),
  date: opt(Schema.String),
  contract: opt(Schema.String),
  realized_funding: opt(DecimalText),
  funding_rate: opt(DecimalText)
})
export type AccountLogEntry = typeof AccountLogEntry.Type
// Entries decoded one by one, like fills.
const AccountLogSnapshot = Schema.Struct({ feed: Schema.Literal("account_log_snapshot"), logs: Schema.Array(Schema.Unknown) })
const AccountLogUpdate = Schema.Struct({ feed: Schema.Literal("account_log"), new_entry: Schema.Record({ key: Schema.String, value: Schema.Unknown }) })
const Event = Schema.Struct({
  event: Schema.Literal("info", "challenge", "subscribed", "subscribed_failed", "unsubscribed", "unsubscribed_failed", "error", "alert"),
  message: opt(Schema.String),
  feed: opt(Schema.String)
})

// Event first: a `subscribed` ack names its feed, and would otherwise pass for that feed's frame.
export const PrivateFrame = Schema.Union(Event, OpenOrdersSnapshot, OpenOrdersUpdate, Fills, Positions, Heartbeat, Balances, AccountLogSnapshot, AccountLogUpdate)
export type PrivateFrame = typeof PrivateFrame.Type

const decode = Schema.decodeUnknownEither(PrivateFrame, { onExcessProperty: "ignore" })
const SOURCE = "ws/private"

export const decodePrivateFrame = (text: string): Either.Either<PrivateFrame, VenueDecodeError> =>
  Either.flatMap(parseExactJson(text, SOURCE), (json) =>
    Either.mapLeft(decode(json), (e) => new VenueDecodeError({ source: SOURCE, reason: ParseResult.TreeFormatter.formatErrorSync(e).slice(0, 300), shape: shapeOf(json) }))
  )

const decodeFillEntry = Schema.decodeUnknownEither(FillFrame, { onExcessProperty: "ignore" })

export const decodeFill = (u: unknown): Either.Either<FillFrame, VenueDecodeError> =>
  Either.mapLeft(decodeFillEntry(u), (e) => new VenueDecodeError({ source: SOURCE, reason: `fill: ${ParseResult.TreeFormatter.formatErrorSync(e).slice(0, 300)}`, shape: shapeOf(u) }))

const decodeFlexEntry = Schema.decodeUnknownEither(FlexBalances, { onExcessProperty: "ignore" })

export const decodeFlex = (u: unknown): Either.Either<FlexBalances, VenueDecodeError> =>
  Either.mapLeft(decodeFlexEntry(u), (e) => new VenueDecodeError({ source: SOURCE, reason: `balances.flex_futures: ${ParseResult.TreeFormatter.formatErrorSync(e).slice(0, 300)}`, shape: shapeOf(u) }))

const decodeLogEntry = Schema.decodeUnknownEither(AccountLogEntry, { onExcessProperty: "ignore" })

export const decodeAccountLogEntry = (u: unknown): Either.Either<AccountLogEntry, VenueDecodeError> =>
  Either.mapLeft(decodeLogEntry(u), (e) => new VenueDecodeError({ source: SOURCE, reason: `account_log entry: ${ParseResult.TreeFormatter.formatErrorSync(e).slice(0, 300)}`, shape: shapeOf(u) }))
