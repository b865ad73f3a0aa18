import { Data, Either, Option, ParseResult, Schema, SchemaAST as AST } from "effect"
import { Packr } from "msgpackr"
import { compileWriter, packWith, UnsupportedShape, type Writer } from "./codec-pack.js"
import { compileEventReader, FAIL as READ_FAIL, readEvent, UnsupportedReadShape } from "./codec-read.js"
import { isDecimal, parseDecimal, plainDecimal } from "./decimal.js"
import { DecimalFromString, decimalToWire, describeParseError } from "./schema.js"
import { eventSchemas, eventTags, type CanonicalEvent, type CanonicalEventEncoded, type EventTag } from "./events/index.js"

/**
 * The journal codec: canonical event <-> msgpack bytes. Decimals travel as decimal text and
 * timestamps as integers, so no float ever carries money. Decoding validates with the event's
 * Schema; every failure is an `EventDecodeError` value, never a throw.
 *
 * `useRecords: false`: each message is a self-describing msgpack map. Records with shared
 * structures were measured (bench/codec.bench.ts): a third fewer bytes (114 vs 174 on the
 * mix), no measurable speed gain, since validation and Decimal parsing dominate. But a record
 * message depends on structure definitions held by the writer's Packr, and a journal is read
 * by other processes, after restarts, from arbitrary offsets. Self-describing wins; if bytes
 * ever matter, compress the Kafka batch instead.
 */
const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false, bundleStrings: false })

export class EventDecodeError extends Data.TaggedError("EventDecodeError")<{
  /** Event `_tag` when it could be read. */
  readonly tag: string | undefined
  /** Where the problem is, e.g. `price` or `bids[2][0]`; empty for the message as a whole. */
  readonly path: string
  /** What was expected and what was found. */
  readonly reason: string
}> {
  override get message(): string {
    const where = [this.tag, this.path].filter((s) => s !== undefined && s.length > 0).join(".")
    return `event decode error${where.length > 0 ? ` at ${where}` : ""}: ${this.reason}`
  }
}

/** Encoding fails only for an event built around the types (e.g. a NaN Decimal): a bug. */
export class EventEncodeError extends Data.TaggedError("EventEncodeError")<{
  readonly tag: string
  readonly path: string
  readonly reason: string
}> {
  override get message(): string {
    return `event encode error at ${this.tag}${this.path.length > 0 ? "." + this.path : ""}: ${this.reason}`
  }
}

// ---------------------------------------------------------------------------------------------
// Compiled codecs. Effect's generic parser costs tens of µs per event; the journal hot path has a
// budget of a few. So each member schema's AST is compiled once into a plain function that
// checks the same things (every refinement's own filter is called). The compiled function only
// answers "valid, here is the value" or "not valid": on "not valid" the Schema parser runs and
// produces the error, so errors read the same; the property tests in test/domain/codec.test.ts
// check that both accept and reject the same inputs.
// ---------------------------------------------------------------------------------------------

const FAIL: unique symbol = Symbol("FAIL")
type Compiled = (u: unknown) => unknown
class Unsupported extends Error {}

const hasOwn = Object.prototype.hasOwnProperty
const noOptions: AST.ParseOptions = {}

const compile = (ast: AST.AST, mode: "decode" | "encode"): Compiled => {
  switch (ast._tag) {
    case "StringKeyword":
      return (u) => (typeof u === "string" ? u : FAIL)
    case "NumberKeyword":
      return (u) => (typeof u === "number" ? u : FAIL)
    case "BooleanKeyword":
      return (u) => (typeof u === "boolean" ? u : FAIL)
    case "Literal": {
      const literal = ast.literal
      return (u) => (u === literal ? u : FAIL)
    }
    case "Refinement": {
      const from = compile(ast.from, mode)
      const ok = (v: unknown) => Option.isNone(ast.filter(v, noOptions, ast))
      return mode === "decode"
        ? (u) => {
            const v = from(u)
            return v !== FAIL && ok(v) ? v : FAIL
          }
        : (u) => (ok(u) ? from(u) : FAIL)
    }
    case "Transformation": {
      if (ast !== DecimalFromString.ast) throw new Unsupported(String(ast))
      return mode === "decode"
        ? (u) => {
            if (typeof u !== "string") return FAIL
            if (u.length <= 80) {
              const plain = plainDecimal(u)
              if (plain !== undefined) return plain
            }
            const d = parseDecimal(u)
            return Either.isRight(d) ? d.right : FAIL
          }
        : (u) => (isDecimal(u) ? (decimalToWire(u) ?? FAIL) : FAIL)
    }
    case "Union": {
      const members = ast.types.map((t) => compile(t, mode))
      return (u) => {
        for (const m of members) {
          const v = m(u)
          if (v !== FAIL) return v
        }
        return FAIL
      }
    }
    case "TupleType": {
      if (ast.elements.some((e) => e.isOptional) || ast.rest.length > 1) throw new Unsupported(String(ast))
      const elements = ast.elements.map((e) => compile(e.type, mode))
      const restAst = ast.rest[0]
      const rest = restAst === undefined ? undefined : compile(restAst.type, mode)
      return (u) => {
        if (!Array.isArray(u)) return FAIL
        if (rest === undefined ? u.length !== elements.length : u.length < elements.length) return FAIL
        const out: Array<unknown> = new Array(u.length)
        for (let i = 0; i < u.length; i++) {
          const v = (i < elements.length ? (elements[i] as Compiled) : (rest as Compiled))(u[i])
          if (v === FAIL) return FAIL
          out[i] = v
        }
        return out
      }
    }
    case "TypeLiteral": {
      const props = ast.propertySignatures.map((p) => {
        if (typeof p.name !== "string") throw new Unsupported(String(ast))
        return { name: p.name, optional: p.isOptional, run: compile(p.type, mode) }
      })
      const index = ast.indexSignatures[0]
      const stringKey = (k: AST.AST): boolean => k._tag === "StringKeyword" || (k._tag === "Refinement" && stringKey(k.from))
      if (ast.indexSignatures.length > 1 || (index !== undefined && (props.length > 0 || !stringKey(index.parameter)))) {
        throw new Unsupported(String(ast))
      }
      if (index !== undefined) {
        const value = compile(index.type, mode)
        const keyOk = index.parameter._tag === "StringKeyword" ? undefined : compile(index.parameter, mode)
        return (u) => {
          if (typeof u !== "object" || u === null || Array.isArray(u)) return FAIL
          const out: Record<string, unknown> = {}
          for (const key of Object.keys(u)) {
            // Left to the Schema parser, so the fast path never decides a case it might get wrong.
            if (key === "__proto__") return FAIL
            if (keyOk !== undefined && keyOk(key) === FAIL) return FAIL
            const v = value((u as Record<string, unknown>)[key])
            if (v === FAIL) return FAIL
            out[key] = v
          }
          return out
        }
      }
      return (u) => {
        if (typeof u !== "object" || u === null || Array.isArray(u)) return FAIL
        const input = u as Record<string, unknown>
        const out: Record<string, unknown> = {}
        for (const p of props) {
          if (!hasOwn.call(input, p.name)) {
            if (p.optional) continue
            return FAIL
          }
          const v = p.run(input[p.name])
          if (v === FAIL) return FAIL
          out[p.name] = v
        }
        return out
      }
    }
    default:
      throw new Unsupported(String(ast))
  }
}

/** A compiled function, or undefined when the schema uses something the compiler does not know. */
const tryCompile = (ast: AST.AST, mode: "decode" | "encode"): Compiled | undefined => {
  try {
    return compile(ast, mode)
  } catch (e) {
    if (e instanceof Unsupported) return undefined
    throw e
  }
}

const tryCompileWriter = (ast: AST.AST): Writer | undefined => {
  try {
    return compileWriter(ast)
  } catch (e) {
    if (e instanceof UnsupportedShape) return undefined
    throw e
  }
}

/** Per tag, the one-pass reader of the bytes `compileWriter` writes (see codec-read.ts). */
const readers = new Map<string, (entries: number) => unknown>()

type Decoder = (u: unknown) => Either.Either<CanonicalEvent, ParseResult.ParseError>
type Encoder = (e: CanonicalEvent) => Either.Either<CanonicalEventEncoded, ParseResult.ParseError>
const parseOptions = { errors: "first", onExcessProperty: "ignore" } as const
interface MemberCodec {
  readonly decode: Decoder
  readonly encode: Encoder
  readonly fastDecode: Compiled | undefined
  readonly fastEncode: Compiled | undefined
  readonly fastPack: Writer | undefined
}
const members = new Map<string, MemberCodec>()
for (const tag of eventTags) {
  const schema = eventSchemas[tag] as unknown as Schema.Schema<CanonicalEvent, CanonicalEventEncoded>
  members.set(tag, {
    decode: Schema.decodeUnknownEither(schema, parseOptions),
    encode: Schema.encodeEither(schema, parseOptions),
    fastDecode: tryCompile(schema.ast, "decode"),
    fastEncode: tryCompile(schema.ast, "encode"),
    fastPack: tryCompileWriter(schema.ast)
  })
  try {
    readers.set(tag, compileEventReader(schema.ast, tag))
  } catch (e) {
    if (!(e instanceof UnsupportedReadShape)) throw e
  }
}

/** Tags whose codec runs compiled (all of them, unless a schema grows an unsupported shape). */
export const compiledTags = (): ReadonlyArray<string> =>
  [...members].filter(([t, m]) => m.fastDecode && m.fastEncode && m.fastPack && readers.has(t)).map(([t]) => t)

/** The Schema parser alone, without the compiled fast path (for tests and the benchmark). */
export const decodeEventObjectWithSchema = (u: unknown): Either.Either<CanonicalEvent, EventDecodeError> => decodeObject(u, false)

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/** Validates a wire-form value (from msgpack or JSON) as a canonical event. */
export const decodeEventObject = (u: unknown): Either.Either<CanonicalEvent, EventDecodeError> => decodeObject(u, true)

const decodeObject = (u: unknown, fast: boolean): Either.Either<CanonicalEvent, EventDecodeError> => {
  if (!isRecord(u)) {
    return Either.left(new EventDecodeError({ tag: undefined, path: "", reason: `expected an event object, got ${describe(u)}` }))
  }
  const tag = u["_tag"]
  const member = typeof tag === "string" ? members.get(tag) : undefined
  if (member === undefined) {
    return Either.left(new EventDecodeError({ tag: undefined, path: "_tag", reason: `expected a known event tag, got ${describe(tag)}` }))
  }
  if (fast && member.fastDecode !== undefined) {
    const v = member.fastDecode(u)
    if (v !== FAIL) return Either.right(v as CanonicalEvent)
  }
  const result = member.decode(u)
  if (Either.isRight(result)) return Either.right(result.right)
  const { path, reason } = describeParseError(result.left)
  return Either.left(new EventDecodeError({ tag: tag as string, path, reason }))
}

/** The wire form of an event (Decimals as text): JSON-safe, for the control API and logs. */
export const encodeEventObjectEither = (e: CanonicalEvent): Either.Either<CanonicalEventEncoded, EventEncodeError> => {
  const member = members.get(e._tag)
  if (member === undefined) return Either.left(new EventEncodeError({ tag: String(e._tag), path: "_tag", reason: "unknown event tag" }))
  if (member.fastEncode !== undefined) {
    const v = member.fastEncode(e)
    if (v !== FAIL) return Either.right(v as CanonicalEventEncoded)
  }
  return Either.mapLeft(member.encode(e), (err) => new EventEncodeError({ tag: e._tag, ...describeParseError(err) }))
}

/** Like `encodeEventObjectEither`; a failure is a programming error and throws the typed error. */
export const encodeEventObject = (e: CanonicalEvent): CanonicalEventEncoded =>
  Either.getOrThrowWith(encodeEventObjectEither(e), (err) => err)

export const encodeEventEither = (e: CanonicalEvent): Either.Either<Uint8Array, EventEncodeError> => {
  const fast = packFast(e)
  return fast !== undefined ? Either.right(fast) : Either.map(encodeEventObjectEither(e), (wire) => packr.pack(wire))
}

/** The compiled one-pass writer's bytes (the same bytes as `packr.pack` of the wire object). */
const packFast = (e: CanonicalEvent): Uint8Array | undefined => {
  const write = members.get(e._tag)?.fastPack
  return write === undefined ? undefined : packWith(write, e)
}

/**
 * Msgpack bytes of a well-typed event. Only an event built around the types (a NaN or
 * infinite Decimal) can fail; that throws `EventEncodeError` (a defect, not an outcome).
 */
export const encodeEvent = (e: CanonicalEvent): Uint8Array => packFast(e) ?? packr.pack(encodeEventObject(e))

/** Bytes -> validated event. Invalid msgpack, trailing bytes and schema violations are errors. */
export const decodeEvent = (bytes: Uint8Array): Either.Either<CanonicalEvent, EventDecodeError> => {
  const fast = readEvent(bytes, readers)
  if (fast !== READ_FAIL) return Either.right(fast as CanonicalEvent)
  return decodeEventUnpacked(bytes)
}

/** msgpackr, then the compiled check and the Schema parser: any msgpack, and the errors. */
export const decodeEventUnpacked = (bytes: Uint8Array): Either.Either<CanonicalEvent, EventDecodeError> => {
  let wire: unknown
  try {
    wire = packr.unpack(bytes)
  } catch (cause) {
    const detail = cause instanceof Error ? cause.message : String(cause)
    return Either.left(new EventDecodeError({ tag: undefined, path: "", reason: `expected msgpack bytes of one event, got invalid msgpack (${detail})` }))
  }
  return decodeEventObject(wire)
}

/** JSON text of an event (the wire form); the control API and CLI use this. */
export const encodeEventJson = (e: CanonicalEvent): string => JSON.stringify(encodeEventObject(e))

export const decodeEventJson = (text: string): Either.Either<CanonicalEvent, EventDecodeError> => {
  let wire: unknown
  try {
    wire = JSON.parse(text)
  } catch (cause) {
    const detail = cause instanceof Error ? cause.message : String(cause)
    return Either.left(new EventDecodeError({ tag: undefined, path: "", reason: `expected JSON text of one event, got invalid JSON (${detail})` }))
  }
  return decodeEventObject(wire)
}

const describe = (u: unknown): string => {
  if (u === undefined) return "nothing"
  if (u === null) return "null"
  if (Array.isArray(u)) return "an array"
  if (typeof u === "string") return JSON.stringify(u.slice(0, 64))
  if (typeof u === "object") return "an object"
  return `${typeof u} ${String(u)}`
}

export type { EventTag }
