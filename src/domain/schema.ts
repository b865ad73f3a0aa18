import { Either, ParseResult, Schema } from "effect"
import type { FastCheck } from "effect"
import { Decimal, isDecimal, parseDecimal } from "./decimal.js"
import {
  parseAccountId,
  parseClientOrderId,
  parseFillId,
  parseInstrumentId,
  parseStrategyId,
  parseVenueOrderId,
  VenueId as parseVenueId,
  type InvalidId
} from "./ids.js"
import type * as Ids from "./ids.js"

/**
 * Schemas shared by the canonical events, the codec and the config. Wire forms are chosen so
 * that msgpack and JSON carry them without loss: money is decimal text, never a float.
 */

// ---------------------------------------------------------------------------------------------
// Decimal
// ---------------------------------------------------------------------------------------------

/** Decimal text for arbitraries: signs, long fractions, long integers, exponents. */
const decimalTextArbitrary = (fc: typeof FastCheck) =>
  fc.oneof(
    fc.constantFrom("0", "-0", "1", "0.00000001", "123456789012345678.123456789", "-42.5", "1e-35", "9.99e45"),
    fc
      .tuple(fc.boolean(), fc.stringMatching(/^(0|[1-9]\d{0,19})$/), fc.stringMatching(/^\d{0,18}$/))
      .map(([neg, int, frac]) => `${neg ? "-" : ""}${int}${frac.length > 0 ? "." + frac : ""}`)
  )

/** A `Decimal` value in memory (the type side of `DecimalFromString`). */
export const DecimalFromSelf: Schema.Schema<Decimal> = Schema.declare((u: unknown): u is Decimal => isDecimal(u) && u.isFinite(), {
  identifier: "Decimal",
  description: "a finite Decimal",
  arbitrary: () => (fc) => decimalTextArbitrary(fc).map((s) => new Decimal(s)),
  equivalence: () => (a, b) => a.eq(b) && a.isNeg() === b.isNeg(),
  pretty: () => (d) => `Decimal(${decimalToText(d)})`
})

/**
 * Exact text for a Decimal: `toString()` keeps every digit (exponent form only outside
 * 1e-30..1e40, which `parseDecimal` accepts) and the sign of a negative zero, so
 * `parseDecimal(decimalToText(d))` gives back exactly `d`.
 */
export const decimalToText = (d: Decimal): string => (d.isZero() && d.isNeg() ? "-0" : d.toString())

/**
 * The wire text of a Decimal, or undefined when it could not be read back: NaN, infinite, or
 * longer than `parseDecimal` accepts (only a Decimal built from over-long text can be).
 */
export const decimalToWire = (d: Decimal): string | undefined => {
  if (!d.isFinite()) return undefined
  const text = decimalToText(d)
  return text.length <= 80 ? text : undefined
}

const formatActual = (u: unknown): string =>
  typeof u === "number" ? `the number ${u} (write it as text so it stays exact)` : typeof u === "string" ? JSON.stringify(u.slice(0, 64)) : u === undefined ? "nothing" : u === null ? "null" : typeof u

/** Decimal carried as decimal text (`"0.00000001"`); decoding never goes through a JS float. */
export const DecimalFromString: Schema.Schema<Decimal, string> = Schema.transformOrFail(
  Schema.String.annotations({
    description: "a decimal string",
    message: (issue) => `expected a decimal string, got ${formatActual(issue.actual)}`
  }),
  DecimalFromSelf,
  {
    strict: true,
    decode: (text, _options, ast) =>
      Either.match(parseDecimal(text), {
        onLeft: (e) => ParseResult.fail(new ParseResult.Type(ast, text, `expected a decimal string, got ${JSON.stringify(text.slice(0, 64))} (${e.reason})`)),
        onRight: (d) => ParseResult.succeed(d)
      }),
    encode: (d, _options, ast) => {
      const text = decimalToWire(d)
      return text !== undefined
        ? ParseResult.succeed(text)
        : ParseResult.fail(new ParseResult.Type(ast, d, `expected a finite Decimal of at most 80 characters, got ${d.toString().slice(0, 90)}`))
    }
  }
).annotations({ identifier: "DecimalFromString", description: "a decimal string" })

// ---------------------------------------------------------------------------------------------
// Ids: the parsers in ids.ts are the one definition of what a valid id is.
// ---------------------------------------------------------------------------------------------

const idSchema = <B extends string>(brand: B, parse: (s: string) => Either.Either<unknown, InvalidId>, arbitrary: RegExp) => {
  // The same instrument, account and strategy ids come in every event: the last one found valid
  // is answered by an equality check (the same text is the same verdict) instead of the regexes.
  let lastValid: string | undefined
  return Schema.String.pipe(
    Schema.filter((s) => {
      if (s === lastValid) return true
      const r = parse(s)
      if (Either.isRight(r)) {
        lastValid = s
        return true
      }
      return r.left.message
    }, {
      arbitrary: () => (fc) => fc.stringMatching(arbitrary)
    }),
    Schema.brand(brand),
    Schema.annotations({ identifier: brand, description: `a ${brand}` })
  )
}

export const VenueId = idSchema("VenueId", parseVenueId, /^[a-z][a-z0-9-]{0,31}$/)
export const InstrumentId = idSchema("InstrumentId", parseInstrumentId, /^[a-z][a-z0-9-]{0,12}:[A-Za-z0-9_.\-/]{1,24}$/)
export const ClientOrderId = idSchema("ClientOrderId", parseClientOrderId, /^[A-Za-z0-9_.:-]{1,40}$/)
export const VenueOrderId = idSchema("VenueOrderId", parseVenueOrderId, /^[A-Za-z0-9_.:-]{1,40}$/)
export const AccountId = idSchema("AccountId", parseAccountId, /^[A-Za-z0-9_.:-]{1,24}$/)
export const StrategyId = idSchema("StrategyId", parseStrategyId, /^[A-Za-z0-9_.:-]{1,24}$/)
export const FillId = idSchema("FillId", parseFillId, /^[A-Za-z0-9_.:-]{1,40}$/)
// The same branded types as in ids.ts (Schema.brand uses effect's Brand).
export type VenueId = typeof VenueId.Type
export type InstrumentId = typeof InstrumentId.Type
export type ClientOrderId = typeof ClientOrderId.Type
export type VenueOrderId = typeof VenueOrderId.Type
export type AccountId = typeof AccountId.Type
export type StrategyId = typeof StrategyId.Type
export type FillId = typeof FillId.Type

// ---------------------------------------------------------------------------------------------
// Trading vocabulary
// ---------------------------------------------------------------------------------------------

export const Side = Schema.Literal("buy", "sell")
export type Side = typeof Side.Type

export const OrderType = Schema.Literal("limit", "market", "postOnly", "ioc", "fok", "stop", "takeProfit")
export type OrderType = typeof OrderType.Type

export const Liquidity = Schema.Literal("maker", "taker")
export type Liquidity = typeof Liquidity.Type

/**
 * Time is integer milliseconds since the Unix epoch, read from the injected `Clock` (so replay
 * and tests are deterministic). Milliseconds fit a JS number exactly for the next 285,000 years
 * and travel as a msgpack integer; venues stamp in ms too, so ns would be false precision.
 */
export const Timestamp = Schema.Int.pipe(Schema.nonNegative()).annotations({
  identifier: "TimestampMs",
  description: "integer milliseconds since the epoch",
  arbitrary: () => (fc) => fc.integer({ min: 0, max: 4_102_444_800_000 })
})
export type Timestamp = typeof Timestamp.Type

/** An exchange sequence number (book updates); a gap means the book must resync. */
export const Seq = Schema.Int.pipe(Schema.nonNegative()).annotations({ identifier: "Seq", description: "a non-negative integer sequence number" })

/**
 * A plain finite number for figures that are not money (strategy metrics, control parameters).
 * msgpack writes `-0` as the integer 0, so `-0` comes back as `0`; arbitraries leave it out.
 */
export const FiniteNumber = Schema.Finite.annotations({
  identifier: "FiniteNumber",
  description: "a finite number",
  arbitrary: () => (fc) => fc.double({ noNaN: true, noDefaultInfinity: true }).filter((x) => !Object.is(x, -0))
})

/** Free text (reasons, details, names); bounded so one bad producer cannot bloat the journal. */
export const Text = Schema.String.pipe(Schema.maxLength(4096)).annotations({ identifier: "Text", description: "text of at most 4096 characters" })

// ---------------------------------------------------------------------------------------------
// Decode errors, readable
// ---------------------------------------------------------------------------------------------

const formatPath = (path: ReadonlyArray<PropertyKey>): string =>
  path.map((k, i) => (typeof k === "number" ? `[${k}]` : i === 0 ? String(k) : `.${String(k)}`)).join("")

/**
 * The first issue of a parse error as a path (`risk.maxOrderQty`, `bids[2][0]`) and a reason
 * that reads "expected ..., got ...". Codec and config errors are built from this.
 */
export const describeParseError = (error: ParseResult.ParseError): { readonly path: string; readonly reason: string } => {
  const issues = ParseResult.ArrayFormatter.formatErrorSync(error)
  const first = issues[0]
  if (first === undefined) return { path: "", reason: error.message }
  const path = formatPath(first.path)
  if (first._tag === "Missing") return { path, reason: "expected a value, got nothing (missing)" }
  if (first._tag === "Unexpected") return { path, reason: "expected a known key, got an unknown key" }
  // A union (e.g. of literals) fails once per member at the same path: list all alternatives.
  const alternatives = issues.filter((i) => formatPath(i.path) === path).map((i) => EXPECTED.exec(i.message))
  const matched = alternatives.filter((m): m is RegExpExecArray => m !== null)
  if (matched.length > 0 && matched.length === alternatives.length && matched.every((m) => m[2] === matched[0]?.[2])) {
    return { path, reason: `expected ${matched.map((m) => m[1]).join(" | ")}, got ${matched[0]?.[2] ?? ""}` }
  }
  return { path, reason: first.message }
}

// Effect's default messages read "Expected string, actual 5"; ours read "expected ..., got ...".
const EXPECTED = /^Expected ([\s\S]*), actual ([\s\S]*)$/


// Compile-time check that the schema brands are the ids.ts types, so values flow both ways.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never
const _sameIds: [
  Same<InstrumentId, Ids.InstrumentId>,
  Same<ClientOrderId, Ids.ClientOrderId>,
  Same<VenueOrderId, Ids.VenueOrderId>,
  Same<AccountId, Ids.AccountId>,
  Same<StrategyId, Ids.StrategyId>,
  Same<FillId, Ids.FillId>,
  Same<VenueId, Ids.VenueId>
] = [true, true, true, true, true, true, true]
