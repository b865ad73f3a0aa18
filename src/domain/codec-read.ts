import { SchemaAST as AST, Either, Option } from "effect"
import { parseDecimal, plainDecimalAscii, type Decimal } from "./decimal.js"
import { DecimalFromString } from "./schema.js"

/**
 * Msgpack bytes -> validated event in one pass, compiled per event schema from its AST, for the
 * bytes `codec-pack.ts` writes: keys in the schema's order, ASCII text, integers and float64s.
 * Nothing is built that the event does not keep — no intermediate object, no key strings, no
 * Decimal text (Decimals are read from their digits in the buffer) — and every check of the
 * Schema runs (each refinement's own filter). Anything else (keys out of order or repeated,
 * extra keys, non-ASCII text, float32 or 64-bit integers, trailing bytes, a value the schema
 * refuses) answers FAIL, and the caller decodes the same bytes with msgpackr and the checked path,
 * which accepts what it accepts and names what is wrong. So this reader decides only cases it
 * cannot get wrong; test/domain/codec.test.ts checks it against the Schema parser on mutated events.
 */

export const FAIL: unique symbol = Symbol("FAIL")
export type Reader = () => unknown
export class UnsupportedReadShape extends Error {}

let src: Buffer = Buffer.alloc(0)
let at = 0
let end = 0

const f64 = new DataView(new ArrayBuffer(8))

/** Length of the string at `at` (header consumed), or -1 when the next value is no string. */
const stringLength = (): number => {
  const b = src[at] as number
  if (b >= 0xa0 && b <= 0xbf) {
    at++
    return b & 0x1f
  }
  if (b === 0xd9) {
    const n = src[at + 1] as number
    at += 2
    return n
  }
  if (b === 0xda) {
    const n = ((src[at + 1] as number) << 8) | (src[at + 2] as number)
    at += 3
    return n
  }
  return -1
}

const latin1 = (b: Buffer, start: number, stop: number): string =>
  (b as unknown as { latin1Slice(start: number, stop: number): string }).latin1Slice(start, stop)

// Instruments, accounts, sources and strategy ids repeat in every event: a small direct-mapped
// table of recent short strings answers them without a native call or a new string. A slot is
// only a reference; a hit is checked byte for byte, a miss replaces the slot.
const INTERN_SLOTS = 512
const interned: Array<string | undefined> = new Array(INTERN_SLOTS).fill(undefined)

/** ASCII text of `n` bytes at `at`, or undefined (nothing consumed) for anything else. */
const asciiString = (n: number): string | undefined => {
  const stop = at + n
  if (stop > end) return undefined
  for (let i = at; i < stop; i++) if ((src[i] as number) >= 0x80) return undefined
  if (n === 0 || n > 32) {
    const s = latin1(src, at, stop)
    at = stop
    return s
  }
  const slot = (n * 31 + (src[at] as number) * 7 + (src[stop - 1] as number) * 131 + (src[at + (n >> 1)] as number) * 17) & (INTERN_SLOTS - 1)
  const known = interned[slot]
  if (known !== undefined && known.length === n) {
    let same = true
    for (let i = 0; i < n; i++) {
      if (known.charCodeAt(i) !== src[at + i]) {
        same = false
        break
      }
    }
    if (same) {
      at = stop
      return known
    }
  }
  const s = latin1(src, at, stop)
  interned[slot] = s
  at = stop
  return s
}

const readString = (): unknown => {
  const start = at
  const n = stringLength()
  if (n < 0) return FAIL
  const s = asciiString(n)
  if (s === undefined) {
    at = start
    return FAIL
  }
  return s
}

const readNumber = (): unknown => {
  if (at >= end) return FAIL
  const b = src[at] as number
  if (b < 0x80) {
    at++
    return b
  }
  if (b >= 0xe0) {
    at++
    return b - 0x100
  }
  switch (b) {
    case 0xcc:
      at += 2
      return src[at - 1]
    case 0xcd:
      at += 3
      return ((src[at - 2] as number) << 8) | (src[at - 1] as number)
    case 0xce:
      at += 5
      return src.readUInt32BE(at - 4)
    case 0xd0:
      at += 2
      return src.readInt8(at - 1)
    case 0xd1:
      at += 3
      return src.readInt16BE(at - 2)
    case 0xd2:
      at += 5
      return src.readInt32BE(at - 4)
    case 0xcb: {
      for (let i = 0; i < 8; i++) f64.setUint8(i, src[at + 1 + i] as number)
      at += 9
      return f64.getFloat64(0)
    }
    default:
      return FAIL
  }
}

/** Array length at `at` (header consumed), or -1. */
const arrayLength = (): number => {
  const b = src[at] as number
  if (b >= 0x90 && b <= 0x9f) {
    at++
    return b & 0x0f
  }
  if (b === 0xdc) {
    const n = ((src[at + 1] as number) << 8) | (src[at + 2] as number)
    at += 3
    return n
  }
  return -1
}

/** Map size at `at` (header consumed), or -1. */
export const mapSize = (): number => {
  const b = src[at] as number
  if (b >= 0x80 && b <= 0x8f) {
    at++
    return b & 0x0f
  }
  if (b === 0xde) {
    const n = ((src[at + 1] as number) << 8) | (src[at + 2] as number)
    at += 3
    return n
  }
  return -1
}

/** Whether the bytes at `at` are exactly `bytes` (a precomputed key or literal); consumes them if so. */
const matchBytes = (bytes: Uint8Array): boolean => {
  const n = bytes.length
  if (at + n > end) return false
  for (let i = 0; i < n; i++) if (src[at + i] !== bytes[i]) return false
  at += n
  return true
}

const stringBytes = (s: string): Uint8Array => {
  const body = Buffer.from(s, "latin1")
  if (body.length >= 0x20 || /[^\x20-\x7e]/.test(s)) throw new UnsupportedReadShape(`key or literal ${s}`)
  return Uint8Array.from([0xa0 | body.length, ...body])
}

const readDecimal = (): unknown => {
  const start = at
  const n = stringLength()
  if (n < 1 || n > 80 || at + n > end) {
    at = start
    return FAIL
  }
  const plain = plainDecimalAscii(src, at, at + n)
  if (plain !== undefined) {
    at += n
    return plain
  }
  // Exponent form and the like: the text parser decides (non-ASCII is left to the checked path).
  const text = asciiString(n)
  if (text === undefined) {
    at = start
    return FAIL
  }
  const d: Either.Either<Decimal, unknown> = parseDecimal(text)
  return Either.isRight(d) ? d.right : FAIL
}

const noOptions: AST.ParseOptions = {}

export const compileReader = (ast: AST.AST): Reader => {
  switch (ast._tag) {
    case "StringKeyword":
      return readString
    case "NumberKeyword":
      return readNumber
    case "BooleanKeyword":
      return () => {
        const b = src[at]
        if (b === 0xc2 || b === 0xc3) {
          at++
          return b === 0xc3
        }
        return FAIL
      }
    case "Literal": {
      const literal = ast.literal
      if (typeof literal === "string") {
        const bytes = stringBytes(literal)
        return () => (matchBytes(bytes) ? literal : FAIL)
      }
      if (typeof literal === "number") {
        return () => {
          const start = at
          if (readNumber() === literal) return literal
          at = start
          return FAIL
        }
      }
      if (typeof literal === "boolean") {
        const byte = literal ? 0xc3 : 0xc2
        return () => (src[at] === byte ? (at++, literal) : FAIL)
      }
      throw new UnsupportedReadShape(String(ast))
    }
    case "Refinement": {
      const from = compileReader(ast.from)
      return () => {
        const v = from()
        return v !== FAIL && Option.isNone(ast.filter(v, noOptions, ast)) ? v : FAIL
      }
    }
    case "Transformation": {
      if (ast !== DecimalFromString.ast) throw new UnsupportedReadShape(String(ast))
      return readDecimal
    }
    case "Union": {
      const members = ast.types.map(compileReader)
      return () => {
        const start = at
        for (const m of members) {
          const v = m()
          if (v !== FAIL) return v
          at = start
        }
        return FAIL
      }
    }
    case "TupleType": {
      if (ast.elements.some((e) => e.isOptional) || ast.rest.length > 1) throw new UnsupportedReadShape(String(ast))
      const elements = ast.elements.map((e) => compileReader(e.type))
      const restAst = ast.rest[0]
      const rest = restAst === undefined ? undefined : compileReader(restAst.type)
      const fixed = elements.length
      return () => {
        if (at >= end) return FAIL
        const n = arrayLength()
        if (n < 0 || (rest === undefined ? n !== fixed : n < fixed)) return FAIL
        const out: Array<unknown> = new Array(n)
        for (let i = 0; i < n; i++) {
          const v = (i < fixed ? (elements[i] as Reader) : (rest as Reader))()
          if (v === FAIL) return FAIL
          out[i] = v
        }
        return out
      }
    }
    case "TypeLiteral": {
      const index = ast.indexSignatures[0]
      if (index !== undefined) {
        if (ast.indexSignatures.length > 1 || ast.propertySignatures.length > 0) throw new UnsupportedReadShape(String(ast))
        const key = compileReader(index.parameter)
        const value = compileReader(index.type)
        return () => {
          if (at >= end) return FAIL
          const n = mapSize()
          if (n < 0) return FAIL
          const out: Record<string, unknown> = {}
          for (let i = 0; i < n; i++) {
            const k = key()
            // Left to the checked path, so the fast path never decides a case it might get wrong.
            if (k === FAIL || k === "__proto__" || typeof k !== "string") return FAIL
            const v = value()
            if (v === FAIL) return FAIL
            out[k] = v
          }
          return out
        }
      }
      const props = ast.propertySignatures.map((p) => {
        if (typeof p.name !== "string") throw new UnsupportedReadShape(String(ast))
        return { name: p.name, key: stringBytes(p.name), optional: p.isOptional, read: compileReader(p.type) }
      })
      return () => {
        if (at >= end) return FAIL
        const n = mapSize()
        return n < 0 ? FAIL : readProps(props, n, {})
      }
    }
    default:
      throw new UnsupportedReadShape(String(ast))
  }
}

interface Prop {
  readonly name: string
  readonly key: Uint8Array
  readonly optional: boolean
  readonly read: Reader
}

/** The map's `n` entries as `props` in order (optional ones may be absent), added to `out`. */
const readProps = (props: ReadonlyArray<Prop>, n: number, out: Record<string, unknown>): unknown => {
  let left = n
  for (let i = 0; i < props.length; i++) {
    const p = props[i] as Prop
    if (left === 0 || !matchBytes(p.key)) {
      if (p.optional) continue
      return FAIL
    }
    const v = p.read()
    if (v === FAIL) return FAIL
    out[p.name] = v
    left--
  }
  return left === 0 ? out : FAIL
}

/**
 * An event's fields after its `_tag` (the map header and the tag already read): `props` are the
 * schema's properties without `_tag`, and `out` is given the tag first, as the checked path does.
 */
export const compileEventReader = (ast: AST.AST, tag: string): ((entries: number) => unknown) => {
  if (ast._tag !== "TypeLiteral" || ast.indexSignatures.length > 0) throw new UnsupportedReadShape(String(ast))
  const first = ast.propertySignatures[0]
  if (first === undefined || first.name !== "_tag") throw new UnsupportedReadShape("_tag is not the first property")
  const props: Array<Prop> = ast.propertySignatures.slice(1).map((p) => {
    if (typeof p.name !== "string") throw new UnsupportedReadShape(String(ast))
    return { name: p.name, key: stringBytes(p.name), optional: p.isOptional, read: compileReader(p.type) }
  })
  return (entries) => readProps(props, entries - 1, { _tag: tag })
}

const TAG_KEY = stringBytes("_tag")

/**
 * Reads one event from `bytes` with the reader its tag selects: the event, or FAIL. The whole
 * buffer must be that one map.
 */
export const readEvent = (bytes: Uint8Array, readers: ReadonlyMap<string, (entries: number) => unknown>): unknown => {
  src = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  at = 0
  end = bytes.length
  if (end === 0) return FAIL
  try {
    const n = mapSize()
    if (n < 1 || !matchBytes(TAG_KEY)) return FAIL
    const tag = readString()
    if (tag === FAIL) return FAIL
    const read = readers.get(tag as string)
    if (read === undefined) return FAIL
    const v = read(n)
    return v !== FAIL && at === end ? v : FAIL
  } catch {
    // A length running past the end (a truncated message): the checked path reports it.
    return FAIL
  }
}
