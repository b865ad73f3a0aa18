import { Data, Either } from "effect"
import type { BookCode, OrderBook } from "./book.js"
import { asciiBytes, hexValue, integerValue, isVerbatim, isWs, literalBytes, matches, plainIntegerBytes, scanNumber, scanNumberBytes } from "./json-lex.js"

/**
 * A scanner for one known message shape, Kraken Futures' book delta:
 *   {"feed":"book","product_id":"PI_XBTUSD","side":"sell","seq":326094134,"price":34981.5,"qty":0,"timestamp":1612269953629}
 *
 * Why not JSON.parse: it turns 34981.5 into a float, and the book must see the exact text; it
 * also allocates an object per message on the hottest path we have. The scanner reads the text
 * once, keeps price and qty as offsets into it, and accepts any JSON spelling of this object
 * (key order, whitespace, escapes, unknown keys are skipped). Anything else — other feeds,
 * missing or mistyped fields, malformed JSON — is a typed failure, never a throw.
 *
 * Two paths: Kraken's exact layout in ASCII is checked over a byte copy of the message
 * (TextEncoder.encodeInto into a reused buffer, then Uint8Array reads, about three times
 * cheaper per character than String#charCodeAt); everything else goes through the general
 * scanner over the string. A property test holds them to the same answers.
 */
export type DeltaSide = "buy" | "sell"

export interface BookDeltaText {
  readonly productId: string
  readonly side: DeltaSide
  readonly seq: number
  /** The JSON number text as sent, e.g. "34981.5" or "5e-4". */
  readonly price: string
  readonly qty: string
  readonly timestamp: number
}

export class BookDeltaTextError extends Data.TaggedError("BookDeltaTextError")<{
  /** The start of the message, for logs and metrics. */
  readonly input: string
  /** Character offset where scanning stopped. */
  readonly position: number
  readonly reason: string
}> {
  override get message(): string {
    return `not a book delta at ${this.position}: ${this.reason} in ${JSON.stringify(this.input)}`
  }
}

const FEED = 1
const PRODUCT = 2
const SIDE = 4
const SEQ = 8
const PRICE = 16
const QTY = 32
const TIMESTAMP = 64
const REQUIRED = FEED | PRODUCT | SIDE | SEQ | PRICE | QTY | TIMESTAMP
const FIELD_NAMES: ReadonlyArray<readonly [number, string]> = [
  [FEED, "feed"],
  [PRODUCT, "product_id"],
  [SIDE, "side"],
  [SEQ, "seq"],
  [PRICE, "price"],
  [QTY, "qty"],
  [TIMESTAMP, "timestamp"]
]
const MAX_NESTING = 32

/**
 * Reusable: one per connection, so scanning allocates nothing while the product stays the
 * same. After `scan` returns true the fields describe the message; after false,
 * `errorPosition` and `errorReason` say why. Price and qty are offsets into `text` (and into
 * `bytes` when `ascii`); applyScannedDelta hands them to the book.
 */
export class BookDeltaScanner {
  text = ""
  productId = ""
  side: DeltaSide = "buy"
  seq = 0
  timestamp = 0
  priceStart = 0
  priceEnd = 0
  qtyStart = 0
  qtyEnd = 0
  errorPosition = -1
  errorReason = ""
  /**
   * After a successful scan: true when the message was ASCII and is copied into `bytes`, so
   * the price and qty offsets index `bytes` as well as `text` (see applyScannedDelta).
   */
  ascii = false
  /** Scratch for the fast path; messages longer than this take the general path. */
  readonly bytes = new Uint8Array(2048)
  // True when productId needs no escaping in JSON, so equal raw text means an equal string.
  private productIdVerbatim = true
  // productId as bytes when it is ASCII and verbatim, for the fast path's same-product check.
  private productIdBytes: Uint8Array | null = new Uint8Array(0)
  // Set by readString: end offset after the closing quote, decoded value when it had escapes.
  private stringValue = ""

  get price(): string {
    return this.text.slice(this.priceStart, this.priceEnd)
  }

  get qty(): string {
    return this.text.slice(this.qtyStart, this.qtyEnd)
  }

  /** Scans one message; false means it is not a valid book delta (see errorReason). */
  scan(text: string): boolean {
    return this.scanCanonical(text) || this.scanGeneral(text)
  }

  /**
   * The fast path: Kraken's exact layout (key order as sent, no whitespace, no escapes),
   * checked char by char in one straight pass. Anything else returns false without a verdict,
   * and scanGeneral decides. Only accepts what scanGeneral accepts, with the same result.
   */
  scanCanonical(t: string): boolean {
    const n = t.length
    const b = this.bytes
    this.ascii = false
    if (n >= b.length) return false
    const encoded = encoder.encodeInto(t, b)
    if (encoded.read !== n || encoded.written !== n) return false // non-ASCII: offsets would differ
    b[n] = 0 // the sentinel json-lex's byte primitives rely on
    let i = literalBytes(b, 0, HEAD)
    if (i < 0) return false
    let j = i
    let c = 0
    while ((c = b[j] as number) !== 34) {
      if (c < 32 || c === 92) return false
      j++
    }
    // Same product as the last message (the usual case): keep the string we already have.
    const known = this.productIdBytes
    let same = known !== null && j - i === known.length
    for (let k = 0; same && k < j - i; k++) same = b[i + k] === (known as Uint8Array)[k]
    if (!same) {
      this.productId = t.slice(i, j)
      this.productIdBytes = b.slice(i, j)
      this.productIdVerbatim = true
    }
    i = literalBytes(b, j, SIDE_KEY)
    if (i < 0) return false
    if (b[i] === 115 /* s */) {
      i = literalBytes(b, i, SELL)
      this.side = "sell"
    } else {
      i = literalBytes(b, i, BUY)
      this.side = "buy"
    }
    if (i < 0) return false
    i = literalBytes(b, i, SEQ_KEY)
    if (i < 0) return false
    j = plainIntegerBytes(b, i)
    if (j < 0) return false
    this.seq = integerValue
    i = literalBytes(b, j, PRICE_KEY)
    if (i < 0) return false
    j = scanNumberBytes(b, i)
    if (j < 0) return false
    this.priceStart = i
    this.priceEnd = j
    i = literalBytes(b, j, QTY_KEY)
    if (i < 0) return false
    j = scanNumberBytes(b, i)
    if (j < 0) return false
    this.qtyStart = i
    this.qtyEnd = j
    i = literalBytes(b, j, TIMESTAMP_KEY)
    if (i < 0) return false
    j = plainIntegerBytes(b, i)
    if (j < 0 || j !== n - 1 || b[j] !== 125 /* } */) return false
    this.timestamp = integerValue
    this.text = t
    this.ascii = true
    this.errorPosition = -1
    this.errorReason = ""
    return true
  }

  /** Any JSON spelling of the object. */
  scanGeneral(text: string): boolean {
    this.text = text
    this.ascii = false
    const n = text.length
    let i = 0
    while (i < n && isWs(text.charCodeAt(i))) i++
    if (text.charCodeAt(i) !== 123 /* { */) return this.fail(i, "expected '{'")
    i++
    while (i < n && isWs(text.charCodeAt(i))) i++
    let seen = 0
    if (text.charCodeAt(i) === 125 /* } */) return this.fail(i, "missing fields: " + missing(seen))
    for (;;) {
      if (text.charCodeAt(i) !== 34 /* " */) return this.fail(i, "expected a key")
      // Keys without escapes (all of them, in practice) are matched in place, without a substring.
      let field: number
      let j = i + 1
      let kc = 0
      while (j < n && (kc = text.charCodeAt(j)) !== 34 && kc !== 92 && kc >= 32) j++
      if (kc === 34 && j < n) {
        field = fieldAt(text, i + 1, j)
        i = j + 1
      } else {
        const end = this.readString(text, i)
        if (end < 0) return false
        field = fieldNamed(this.stringValue)
        i = end
      }
      while (i < n && isWs(text.charCodeAt(i))) i++
      if (text.charCodeAt(i) !== 58 /* : */) return this.fail(i, "expected ':'")
      i++
      while (i < n && isWs(text.charCodeAt(i))) i++
      switch (field) {
        case FEED: {
          if (matches(text, i, '"book"')) i += 6
          else {
            const end = this.readString(text, i)
            if (end < 0) return false
            if (this.stringValue !== "book") return this.fail(i, 'feed is not "book"')
            i = end
          }
          break
        }
        case PRODUCT: {
          // Same product as the last message (the usual case): keep the string we already have.
          const known = this.productId
          if (text.charCodeAt(i) === 34 && this.productIdVerbatim && text.charCodeAt(i + 1 + known.length) === 34 && matches(text, i + 1, known)) {
            i += known.length + 2
          } else {
            const end = this.readString(text, i)
            if (end < 0) return false
            this.productId = this.stringValue
            this.productIdVerbatim = isVerbatim(this.stringValue)
            this.productIdBytes = this.productIdVerbatim && isAscii(this.stringValue) ? asciiBytes(this.stringValue) : null
            i = end
          }
          break
        }
        case SIDE: {
          if (matches(text, i, '"sell"')) {
            this.side = "sell"
            i += 6
          } else if (matches(text, i, '"buy"')) {
            this.side = "buy"
            i += 5
          } else {
            const end = this.readString(text, i)
            if (end < 0) return false
            const side = this.stringValue
            if (side === "buy") this.side = "buy"
            else if (side === "sell") this.side = "sell"
            else return this.fail(i, 'side is not "buy" or "sell"')
            i = end
          }
          break
        }
        case SEQ:
        case TIMESTAMP: {
          const end = scanNumber(text, i, n)
          if (end < 0) return this.fail(i, "expected a number")
          let value = 0
          for (let k = i; k < end; k++) {
            const c = text.charCodeAt(k)
            if (c < 48 || c > 57) return this.fail(k, `${field === SEQ ? "seq" : "timestamp"} is not a non-negative integer`)
            value = value * 10 + (c - 48)
          }
          if (value > Number.MAX_SAFE_INTEGER) return this.fail(i, "integer beyond 2^53")
          if (field === SEQ) this.seq = value
          else this.timestamp = value
          i = end
          break
        }
        case PRICE:
        case QTY: {
          const end = scanNumber(text, i, n)
          if (end < 0) return this.fail(i, `${field === PRICE ? "price" : "qty"} is not a JSON number`)
          if (field === PRICE) {
            this.priceStart = i
            this.priceEnd = end
          } else {
            this.qtyStart = i
            this.qtyEnd = end
          }
          i = end
          break
        }
        default: {
          const end = this.skipValue(text, i, 0)
          if (end < 0) return false
          i = end
        }
      }
      seen |= field
      while (i < n && isWs(text.charCodeAt(i))) i++
      const c = text.charCodeAt(i)
      if (c === 44 /* , */) {
        i++
        while (i < n && isWs(text.charCodeAt(i))) i++
        continue
      }
      if (c === 125 /* } */) {
        i++
        break
      }
      return this.fail(i, "expected ',' or '}'")
    }
    while (i < n && isWs(text.charCodeAt(i))) i++
    if (i !== n) return this.fail(i, "text after the object")
    if ((seen & REQUIRED) !== REQUIRED) return this.fail(i, "missing fields: " + missing(seen))
    this.errorPosition = -1
    this.errorReason = ""
    return true
  }

  /** Reads the JSON string starting at the quote at `i`; returns the offset after it, or -1 (failure recorded). */
  private readString(text: string, i: number): number {
    const n = text.length
    if (text.charCodeAt(i) !== 34) return this.failCode(i, "expected a string")
    const start = i + 1
    let j = start
    let c = 0
    while (j < n && (c = text.charCodeAt(j)) !== 34 && c !== 92 && c >= 32) j++
    if (j < n && c === 34) {
      this.stringValue = text.slice(start, j)
      return j + 1
    }
    // Slow path: escapes (or an error).
    let out = text.slice(start, j)
    for (;;) {
      if (j >= n) return this.failCode(j, "unterminated string")
      c = text.charCodeAt(j)
      if (c === 34) break
      if (c < 32) return this.failCode(j, "control character in string")
      if (c !== 92) {
        out += text[j]
        j++
        continue
      }
      const e = text.charCodeAt(j + 1)
      switch (e) {
        case 34: out += "\""; break
        case 92: out += "\\"; break
        case 47: out += "/"; break
        case 98: out += "\b"; break
        case 102: out += "\f"; break
        case 110: out += "\n"; break
        case 114: out += "\r"; break
        case 116: out += "\t"; break
        case 117: {
          let code = 0
          for (let k = j + 2; k < j + 6; k++) {
            const h = hexValue(text.charCodeAt(k))
            if (h < 0) return this.failCode(k, "bad \\u escape")
            code = code * 16 + h
          }
          out += String.fromCharCode(code)
          j += 4
          break
        }
        default:
          return this.failCode(j, "bad escape")
      }
      j += 2
    }
    this.stringValue = out
    return j + 1
  }

  /** Skips any JSON value (an unknown key's); returns the offset after it, or -1. */
  private skipValue(text: string, i: number, depth: number): number {
    const n = text.length
    const c = text.charCodeAt(i)
    if (c === 34) return this.readString(text, i)
    if (c === 45 || (c >= 48 && c <= 57)) {
      const end = scanNumber(text, i, n)
      return end < 0 ? this.failCode(i, "bad number") : end
    }
    for (const literal of ["true", "false", "null"]) {
      if (text.startsWith(literal, i)) return i + literal.length
    }
    if (c !== 123 && c !== 91) return this.failCode(i, "expected a value")
    if (depth >= MAX_NESTING) return this.failCode(i, "nesting too deep")
    const isObject = c === 123
    const close = isObject ? 125 : 93
    i++
    while (i < n && isWs(text.charCodeAt(i))) i++
    if (text.charCodeAt(i) === close) return i + 1
    for (;;) {
      if (isObject) {
        i = this.readString(text, i)
        if (i < 0) return -1
        while (i < n && isWs(text.charCodeAt(i))) i++
        if (text.charCodeAt(i) !== 58) return this.failCode(i, "expected ':'")
        i++
        while (i < n && isWs(text.charCodeAt(i))) i++
      }
      i = this.skipValue(text, i, depth + 1)
      if (i < 0) return -1
      while (i < n && isWs(text.charCodeAt(i))) i++
      const d = text.charCodeAt(i)
      if (d === close) return i + 1
      if (d !== 44) return this.failCode(i, "expected ',' or a closing bracket")
      i++
      while (i < n && isWs(text.charCodeAt(i))) i++
    }
  }

  private fail(position: number, reason: string): false {
    this.errorPosition = position
    this.errorReason = reason
    return false
  }

  private failCode(position: number, reason: string): -1 {
    this.fail(position, reason)
    return -1
  }
}

const HEAD = asciiBytes('{"feed":"book","product_id":"')
const SIDE_KEY = asciiBytes('","side":"')
const SELL = asciiBytes('sell"')
const BUY = asciiBytes('buy"')
const SEQ_KEY = asciiBytes(',"seq":')
const PRICE_KEY = asciiBytes(',"price":')
const QTY_KEY = asciiBytes(',"qty":')
const TIMESTAMP_KEY = asciiBytes(',"timestamp":')
const encoder = new TextEncoder()
// eslint-disable-next-line no-control-regex
const isAscii = (s: string): boolean => /^[\x00-\x7f]*$/.test(s)

/** The field bit of the unescaped key text[start, end), 0 for an unknown key. */
const fieldAt = (text: string, start: number, end: number): number => {
  switch (end - start) {
    case 3:
      return matches(text, start, "seq") ? SEQ : matches(text, start, "qty") ? QTY : 0
    case 4:
      return matches(text, start, "feed") ? FEED : matches(text, start, "side") ? SIDE : 0
    case 5:
      return matches(text, start, "price") ? PRICE : 0
    case 9:
      return matches(text, start, "timestamp") ? TIMESTAMP : 0
    case 10:
      return matches(text, start, "product_id") ? PRODUCT : 0
    default:
      return 0
  }
}

const fieldNamed = (key: string): number => fieldAt(key, 0, key.length)

const missing = (seen: number): string =>
  FIELD_NAMES.filter(([bit]) => (seen & bit) === 0)
    .map(([, name]) => name)
    .join(", ")

/** The allocating form, for code off the hot path and for tests. */
export const scanBookDelta = (text: string, scanner: BookDeltaScanner = new BookDeltaScanner()): Either.Either<BookDeltaText, BookDeltaTextError> =>
  scanner.scan(text)
    ? Either.right({
        productId: scanner.productId,
        side: scanner.side,
        seq: scanner.seq,
        price: scanner.price,
        qty: scanner.qty,
        timestamp: scanner.timestamp
      })
    : Either.left(new BookDeltaTextError({ input: text.slice(0, 200), position: scanner.errorPosition, reason: scanner.errorReason }))

/**
 * Applies the delta the scanner just read to `book`: from its byte copy when the message was
 * ASCII (the fast path), else from the text. Kraken's "buy" side is the book's bid side.
 */
export const applyScannedDelta = (book: OrderBook, s: BookDeltaScanner): BookCode =>
  s.ascii
    ? book.applyDeltaBytes(s.side === "buy" ? "bid" : "ask", s.bytes, s.priceStart, s.priceEnd, s.qtyStart, s.qtyEnd, s.seq)
    : book.applyDeltaRange(s.side === "buy" ? "bid" : "ask", s.text, s.priceStart, s.priceEnd, s.qtyStart, s.qtyEnd, s.seq)
