import { Either, ParseResult, Schema } from "effect"
import { Decimal } from "../../../domain/decimal.js"
import { BookDeltaScanner } from "../../../domain/book-delta-text.js"
import { shapeOf, VenueDecodeError } from "./errors.js"
import { DecimalText, IntFromText, NonNegIntFromText, parseExactJson } from "./json-exact.js"

/**
 * Public WS frames of Kraken Futures, decoded from exact JSON (numbers as text, see
 * json-exact.ts). `book` deltas — the hot path — go through the domain's `BookDeltaScanner`
 * instead of JSON.parse + Schema; everything else through Schema. Decoding never throws.
 */

const opt = <S extends Schema.Schema.Any>(s: S) => Schema.optionalWith(Schema.NullOr(s), { exact: true })
const Level = Schema.Struct({ price: DecimalText, qty: DecimalText })

export const BookSnapshotFrame = Schema.Struct({
  feed: Schema.Literal("book_snapshot"),
  product_id: Schema.String,
  seq: NonNegIntFromText,
  timestamp: opt(NonNegIntFromText),
  bids: Schema.Array(Level),
  asks: Schema.Array(Level)
})

const BookFrameSchema = Schema.Struct({
  feed: Schema.Literal("book"),
  product_id: Schema.String,
  side: Schema.Literal("buy", "sell"),
  seq: NonNegIntFromText,
  price: DecimalText,
  qty: DecimalText,
  timestamp: opt(NonNegIntFromText)
})

export const TradeFrame = Schema.Struct({
  feed: Schema.Literal("trade"),
  product_id: Schema.String,
  uid: opt(Schema.String),
  side: Schema.Literal("buy", "sell"),
  seq: opt(NonNegIntFromText),
  time: opt(NonNegIntFromText),
  qty: DecimalText,
  price: DecimalText
})

export const TradeSnapshotFrame = Schema.Struct({
  feed: Schema.Literal("trade_snapshot"),
  product_id: Schema.String,
  trades: Schema.Array(Schema.Unknown)
})

export const TickerFrame = Schema.Struct({
  feed: Schema.Literal("ticker", "ticker_lite"),
  product_id: Schema.String,
  time: opt(NonNegIntFromText),
  bid: opt(DecimalText),
  ask: opt(DecimalText),
  bid_size: opt(DecimalText),
  ask_size: opt(DecimalText),
  last: opt(DecimalText),
  markPrice: opt(DecimalText),
  index: opt(DecimalText),
  funding_rate: opt(DecimalText)
})

export const HeartbeatFrame = Schema.Struct({ feed: Schema.Literal("heartbeat"), time: opt(IntFromText) })

export const EventFrame = Schema.Struct({
  event: Schema.Literal("info", "subscribed", "subscribed_failed", "unsubscribed", "unsubscribed_failed", "error", "alert", "challenge"),
  feed: opt(Schema.String),
  product_ids: opt(Schema.Array(Schema.String)),
  message: opt(Schema.String),
  version: opt(IntFromText)
})

/** A book delta, already exact: price/qty as Decimals made from the venue's text. */
export interface BookDeltaFrame {
  readonly feed: "book"
  readonly product_id: string
  readonly side: "buy" | "sell"
  readonly seq: number
  readonly price: Decimal
  readonly qty: Decimal
  readonly timestamp?: number
}

export type PublicFrame =
  | typeof BookSnapshotFrame.Type
  | BookDeltaFrame
  | typeof TradeFrame.Type
  | typeof TradeSnapshotFrame.Type
  | typeof TickerFrame.Type
  | typeof HeartbeatFrame.Type
  | typeof EventFrame.Type

const schemaByFeed: Record<string, Schema.Schema<PublicFrame, unknown>> = {
  book_snapshot: BookSnapshotFrame as unknown as Schema.Schema<PublicFrame, unknown>,
  book: BookFrameSchema as unknown as Schema.Schema<PublicFrame, unknown>,
  trade: TradeFrame as unknown as Schema.Schema<PublicFrame, unknown>,
  trade_snapshot: TradeSnapshotFrame as unknown as Schema.Schema<PublicFrame, unknown>,
  ticker: TickerFrame as unknown as Schema.Schema<PublicFrame, unknown>,
  ticker_lite: TickerFrame as unknown as Schema.Schema<PublicFrame, unknown>,
  heartbeat: HeartbeatFrame as unknown as Schema.Schema<PublicFrame, unknown>
}
const decoders = new Map(Object.entries(schemaByFeed).map(([k, s]) => [k, Schema.decodeUnknownEither(s, { onExcessProperty: "ignore" })]))
const decodeEvent = Schema.decodeUnknownEither(EventFrame, { onExcessProperty: "ignore" })

const SOURCE = "ws/public"
const DELTA_MARK = '"feed":"book"'
// Plain decimal text: JSON's number grammar is a subset, so the scanner's text always passes.
const DECIMAL_TEXT = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/

/**
 * Decoder with state for the fast path (one reusable scanner per connection). Not shared
 * between connections.
 */
export class PublicFrameDecoder {
  private readonly scanner = new BookDeltaScanner()

  decode(text: string): Either.Either<PublicFrame, VenueDecodeError> {
    if (text.includes(DELTA_MARK) && this.scanner.scan(text)) {
      const s = this.scanner
      const price = s.price
      const qty = s.qty
      if (DECIMAL_TEXT.test(price) && DECIMAL_TEXT.test(qty)) {
        return Either.right({ feed: "book", product_id: s.productId, side: s.side, seq: s.seq, price: new Decimal(price), qty: new Decimal(qty), timestamp: s.timestamp })
      }
    }
    return decodeGeneral(text)
  }
}

/** The general path: exact JSON, dispatch on `event` / `feed`, Schema-decode. */
export const decodeGeneral = (text: string): Either.Either<PublicFrame, VenueDecodeError> => {
  const parsed = parseExactJson(text, SOURCE)
  if (Either.isLeft(parsed)) return Either.left(parsed.left)
  const json = parsed.right
  const fail = (reason: string) => Either.left(new VenueDecodeError({ source: SOURCE, reason, shape: shapeOf(json) }))
  if (typeof json !== "object" || json === null || Array.isArray(json)) return fail("frame is not a JSON object")
  const tree = (e: ParseResult.ParseError) => ParseResult.TreeFormatter.formatErrorSync(e).slice(0, 300)
  if ("event" in json) return Either.mapLeft(decodeEvent(json), (e) => new VenueDecodeError({ source: SOURCE, reason: tree(e), shape: shapeOf(json) }))
  const feed = "feed" in json ? json.feed : undefined
  const decoder = typeof feed === "string" ? decoders.get(feed) : undefined
  if (decoder === undefined) return fail(`unknown feed: ${typeof feed === "string" ? feed.slice(0, 40) : typeof feed}`)
  return Either.mapLeft(decoder(json), (e) => new VenueDecodeError({ source: SOURCE, reason: tree(e), shape: shapeOf(json) }))
}
