import { Either, ParseResult, Schema } from "effect"
import { Decimal, plainDecimal } from "../../../domain/decimal.js"
import { BookDeltaScanner } from "../../../domain/book-delta-text.js"
import { scanNumber } from "../../../domain/json-lex.js"
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

const TRADE_MARK = '"feed":"trade"'
const TICKER_MARK = '"feed":"ticker'
const INVALID = false
const NON_NEG_INT = /^\d{1,16}$/
const INTERN_MAX = 8_192

/**
 * Decimals by their text. decimal.js values are immutable, so one instance per text is shared:
 * book prices and sizes repeat all the time (levels near the touch, lot multiples), and
 * parsing decimal text is the most expensive step of the hot path. Bounded: cleared when full.
 */
export class DecimalIntern {
  private readonly map = new Map<string, Decimal>()

  /** The Decimal of plain decimal text, or undefined for anything else. */
  get(text: string): Decimal | undefined {
    const hit = this.map.get(text)
    if (hit !== undefined) return hit
    if (text.length > 80) return undefined
    // One pass over the digits; exponent forms and the like through the regex and decimal.js.
    // (A leading `+` is not JSON: DECIMAL_TEXT refuses it, so the fast path must too.)
    const d = (text.charCodeAt(0) !== 43 ? plainDecimal(text) : undefined) ?? (DECIMAL_TEXT.test(text) ? new Decimal(text) : undefined)
    if (d === undefined) return undefined
    if (this.map.size >= INTERN_MAX) this.map.clear()
    this.map.set(text, d)
    return d
  }
}

const STR = 1
const NUM = 2
const NULL = 3
const BOOL = 4

/** End of a JSON string's content that starts at `i` (the closing quote), or -1 on an escape or control char. */
const stringEnd = (t: string, i: number): number => {
  const n = t.length
  for (; i < n; i++) {
    const c = t.charCodeAt(i)
    if (c === 34) return i
    if (c === 92 || c < 32) return -1
  }
  return -1
}

/**
 * One flat JSON object in its compact spelling (no whitespace, no escapes, no nesting; values
 * strings, numbers, null), read into reusable arrays with numbers kept as their text.
 * Anything else returns false and the frame goes the general way.
 */
class FlatObjectScanner {
  readonly keys: string[] = []
  readonly values: string[] = []
  readonly kinds: number[] = []
  count = 0

  scan(t: string): boolean {
    this.count = 0
    const n = t.length
    if (t.charCodeAt(0) !== 123) return false
    let i = 1
    for (;;) {
      if (t.charCodeAt(i) !== 34) return false
      const keyEnd = stringEnd(t, i + 1)
      if (keyEnd < 0 || t.charCodeAt(keyEnd + 1) !== 58) return false
      const key = t.slice(i + 1, keyEnd)
      i = keyEnd + 2
      const c = t.charCodeAt(i)
      let kind: number
      let value: string
      if (c === 34) {
        const end = stringEnd(t, i + 1)
        if (end < 0) return false
        value = t.slice(i + 1, end)
        kind = STR
        i = end + 1
      } else if (c === 45 || (c >= 48 && c <= 57)) {
        const end = scanNumber(t, i, n)
        if (end < 0) return false
        value = t.slice(i, end)
        kind = NUM
        i = end
      } else if (c === 110 && t.startsWith("null", i)) {
        value = ""
        kind = NULL
        i += 4
      } else if (c === 116 && t.startsWith("true", i)) {
        value = "true"
        kind = BOOL
        i += 4
      } else if (c === 102 && t.startsWith("false", i)) {
        value = "false"
        kind = BOOL
        i += 5
      } else return false
      const k = this.count++
      this.keys[k] = key
      this.values[k] = value
      this.kinds[k] = kind
      const d = t.charCodeAt(i)
      if (d === 44) {
        i++
        continue
      }
      return d === 125 && i + 1 === n
    }
  }

  /** Index of the key's last occurrence (JSON.parse keeps the last), or -1. */
  find(key: string): number {
    for (let k = this.count - 1; k >= 0; k--) if (this.keys[k] === key) return k
    return -1
  }
}

const TICKER_DECIMALS = ["bid", "ask", "bid_size", "ask_size", "last", "markPrice", "index", "funding_rate"] as const

/** An optional non-negative int field: absent stays absent, null stays null; `false` means "not this way". */
const optInt = (f: FlatObjectScanner, key: string): number | null | undefined | false => {
  const k = f.find(key)
  if (k < 0) return undefined
  if (f.kinds[k] === NULL) return null
  const v = f.values[k] as string
  if (!NON_NEG_INT.test(v)) return false
  const n = Number(v)
  return Number.isSafeInteger(n) ? n : false
}

/**
 * Decoder with state for the fast paths (one reusable scanner per connection). Not shared
 * between connections. `book` deltas go through the domain's BookDeltaScanner, `trade` frames
 * through a flat-object scanner; both only accept what the general path would decode to the
 * same value, and send everything else there.
 */
export class PublicFrameDecoder {
  private readonly scanner = new BookDeltaScanner()
  private readonly flat = new FlatObjectScanner()
  private readonly decimals = new DecimalIntern()

  decode(text: string): Either.Either<PublicFrame, VenueDecodeError> {
    if (text.includes(DELTA_MARK) && this.scanner.scan(text)) {
      const s = this.scanner
      const price = this.decimals.get(s.price)
      const qty = this.decimals.get(s.qty)
      if (price !== undefined && qty !== undefined) {
        return Either.right({ feed: "book", product_id: s.productId, side: s.side, seq: s.seq, price, qty, timestamp: s.timestamp })
      }
    }
    if (text.includes(TRADE_MARK)) {
      const trade = this.trade(text)
      if (trade !== undefined) return Either.right(trade)
    } else if (text.includes(TICKER_MARK)) {
      const ticker = this.ticker(text)
      if (ticker !== undefined) return Either.right(ticker)
    }
    return decodeGeneral(text)
  }

  /** An optional decimal field: absent stays absent, null stays null; `false` means "not this way". */
  private optDecimal(key: string): Decimal | null | undefined | typeof INVALID {
    const f = this.flat
    const k = f.find(key)
    if (k < 0) return undefined
    const kind = f.kinds[k]
    if (kind === NULL) return null
    if (kind !== STR && kind !== NUM) return INVALID
    return this.decimals.get(f.values[k] as string) ?? INVALID
  }

  /** A `ticker` / `ticker_lite` frame as TickerFrame decodes it, or undefined to let the general path decide. */
  private ticker(text: string): typeof TickerFrame.Type | undefined {
    const f = this.flat
    if (!f.scan(text)) return undefined
    const fk = f.find("feed")
    const pk = f.find("product_id")
    const feed = fk >= 0 && f.kinds[fk] === STR ? f.values[fk] : undefined
    if ((feed !== "ticker" && feed !== "ticker_lite") || pk < 0 || f.kinds[pk] !== STR) return undefined
    const time = optInt(f, "time")
    if (time === false) return undefined
    const out: { -readonly [K in keyof typeof TickerFrame.Type]: (typeof TickerFrame.Type)[K] } = { feed, product_id: f.values[pk] as string }
    if (time !== undefined) out.time = time
    for (const key of TICKER_DECIMALS) {
      const v = this.optDecimal(key)
      if (v === INVALID) return undefined
      if (v !== undefined) out[key] = v
    }
    return out
  }

  /** A `trade` frame as TradeFrame decodes it, or undefined to let the general path decide. */
  private trade(text: string): typeof TradeFrame.Type | undefined {
    const f = this.flat
    if (!f.scan(text)) return undefined
    const str = (key: string): string | undefined => {
      const k = f.find(key)
      return k >= 0 && f.kinds[k] === STR ? f.values[k] : undefined
    }
    const decimal = (key: string): Decimal | undefined => {
      const k = f.find(key)
      return k < 0 || f.kinds[k] === NULL ? undefined : this.decimals.get(f.values[k] as string)
    }
    const product = str("product_id")
    const side = str("side")
    const qty = decimal("qty")
    const price = decimal("price")
    if (str("feed") !== "trade" || product === undefined || (side !== "buy" && side !== "sell") || qty === undefined || price === undefined) return undefined
    const seq = optInt(f, "seq")
    const time = optInt(f, "time")
    if (seq === false || time === false) return undefined
    const u = f.find("uid")
    // A number decodes as its text (exact JSON), like any other string field.
    const uid = u < 0 ? undefined : f.kinds[u] === NULL ? null : (f.values[u] as string)
    return {
      feed: "trade",
      product_id: product,
      ...(uid === undefined ? {} : { uid }),
      side,
      ...(seq === undefined ? {} : { seq }),
      ...(time === undefined ? {} : { time }),
      qty,
      price
    }
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
