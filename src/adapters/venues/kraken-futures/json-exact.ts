import { Either, ParseResult, Schema } from "effect"
import { scanNumber } from "../../../domain/json-lex.js"
import { DecimalFromString } from "../../../domain/schema.js"
import { shapeOf, VenueDecodeError } from "./errors.js"

/**
 * Exact JSON for venue replies.
 *
 * Kraken sends prices and sizes as JSON numbers, and `JSON.parse` turns `0.1` or a 20-digit
 * size into a float before anyone can look at the text (Node 20 has no reviver source access).
 * So before `JSON.parse` we run one linear pass that rewrites EVERY numeric literal outside a
 * string into a string literal holding its exact text: `{"price":34981.5}` becomes
 * `{"price":"34981.5"}`. Quoting all numbers (rather than a list of price/qty keys) means a new
 * or renamed price field can never silently become a float; the Schemas then decode money with
 * `DecimalFromString` and counters/timestamps with `IntFromText`. The pass copies strings
 * verbatim (escapes included), so only true numbers change.
 */
export const quoteNumbers = (text: string): string => {
  let out = ""
  let start = 0
  const n = text.length
  let i = 0
  while (i < n) {
    const c = text.charCodeAt(i)
    if (c === 34 /* " */) {
      i++
      while (i < n) {
        const d = text.charCodeAt(i)
        if (d === 92 /* \ */) i += 2
        else if (d === 34) break
        else i++
      }
      i++
    } else if (c === 45 /* - */ || (c >= 48 && c <= 57)) {
      // Only a well-formed JSON number is quoted; anything else is left for JSON.parse to refuse.
      const end = scanNumber(text, i, n)
      if (end < 0) {
        i++
        continue
      }
      out += text.slice(start, i) + '"' + text.slice(i, end) + '"'
      start = end
      i = end
    } else {
      i++
    }
  }
  return start === 0 ? text : out + text.slice(start)
}

/** `JSON.parse` with every number kept as its source text. Never throws. */
export const parseExactJson = (text: string, source: string): Either.Either<unknown, VenueDecodeError> => {
  try {
    return Either.right(JSON.parse(quoteNumbers(text)) as unknown)
  } catch (e) {
    return Either.left(new VenueDecodeError({ source, reason: `invalid JSON: ${e instanceof Error ? e.message.slice(0, 80) : "?"}`, shape: shapeOf(text) }))
  }
}

/** Decode exact JSON text straight into a Schema's type; failures carry a bounded shape. */
export const decodeExact = <A, I>(schema: Schema.Schema<A, I>, source: string) => {
  const decode = Schema.decodeUnknownEither(schema, { onExcessProperty: "ignore" })
  return (text: string): Either.Either<A, VenueDecodeError> =>
    Either.flatMap(parseExactJson(text, source), (json) =>
      Either.mapLeft(decode(json), (e) => new VenueDecodeError({ source, reason: ParseResult.TreeFormatter.formatErrorSync(e).slice(0, 300), shape: shapeOf(json) }))
    )
}

/** Money and sizes: the number's source text, decoded into an exact `Decimal`. */
export const DecimalText = DecimalFromString

/** Integers (seq, ms timestamps, direction) from their text; only safe integers pass. */
export const IntFromText: Schema.Schema<number, string> = Schema.transformOrFail(Schema.String, Schema.Number, {
  strict: true,
  decode: (s, _o, ast) => {
    if (!/^-?\d{1,16}$/.test(s)) return ParseResult.fail(new ParseResult.Type(ast, s, `expected an integer, got ${JSON.stringify(s.slice(0, 32))}`))
    const n = Number(s)
    return Number.isSafeInteger(n) ? ParseResult.succeed(n) : ParseResult.fail(new ParseResult.Type(ast, s, "integer beyond 2^53"))
  },
  encode: (n) => ParseResult.succeed(String(n))
}).annotations({ identifier: "IntFromText" })

/** A non-negative integer (seq, timestamps). */
export const NonNegIntFromText = IntFromText.pipe(Schema.filter((n) => n >= 0 || "expected a non-negative integer"))
