import { SchemaAST as AST, Option } from "effect"
import { isDecimal, type Decimal } from "./decimal.js"
import { decimalToWire, DecimalFromString } from "./schema.js"

/**
 * Event -> msgpack bytes in one pass, compiled per event schema from its AST: no wire object
 * in between and no generic `pack` dispatch per value. The bytes are exactly the ones msgpackr
 * (`useRecords: false`) writes for the wire object (`encodeEventObject`), key order, integer
 * widths and the 16-bit map header included, so journals written before and after read the same
 * and `test/domain/codec.test.ts` can compare the two byte for byte. A writer answers false when
 * the value does not fit its schema (a Decimal that is NaN, a missing field): the caller then
 * takes the checked path, which names the problem.
 */

export type Writer = (u: unknown) => boolean
export class UnsupportedShape extends Error {}

// Small, like msgpackr's own buffer: a message kept long (an in-memory journal) keeps its slab alive.
const SLAB = 16 * 1024
let buf: Buffer = Buffer.allocUnsafeSlow(SLAB)
let pos = 0
let start = 0
const f64 = new DataView(new ArrayBuffer(8))

/** Room for `n` more bytes of the message being written; a new slab keeps earlier messages intact. */
const ensure = (n: number): void => {
  if (pos + n <= buf.length) return
  const written = pos - start
  const next = Buffer.allocUnsafeSlow(Math.max(SLAB, (written + n) * 2))
  buf.copy(next, 0, start, pos)
  buf = next
  start = 0
  pos = written
}

const writeString = (s: string): void => {
  const n = s.length
  ensure(n * 3 + 5)
  // Short ASCII, the common case (ids, tags, decimal text): header and bytes in place.
  if (n < 0x20) {
    let p = pos + 1
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i)
      if (c >= 0x80) {
        p = -1
        break
      }
      buf[p++] = c
    }
    if (p >= 0) {
      buf[pos] = 0xa0 | n
      pos = p
      return
    }
  }
  const length = Buffer.byteLength(s, "utf8")
  if (length < 0x20) buf[pos++] = 0xa0 | length
  else if (length < 0x100) {
    buf[pos++] = 0xd9
    buf[pos++] = length
  } else if (length < 0x10000) {
    buf[pos++] = 0xda
    buf[pos++] = length >> 8
    buf[pos++] = length & 0xff
  } else {
    buf[pos++] = 0xdb
    buf.writeUInt32BE(length, pos)
    pos += 4
  }
  pos += buf.write(s, pos, length, "utf8")
}

const writeNumber = (v: number): void => {
  ensure(9)
  if (v >>> 0 === v) {
    if (v < 0x80) buf[pos++] = v
    else if (v < 0x100) {
      buf[pos++] = 0xcc
      buf[pos++] = v
    } else if (v < 0x10000) {
      buf[pos++] = 0xcd
      buf[pos++] = v >> 8
      buf[pos++] = v & 0xff
    } else {
      buf[pos++] = 0xce
      buf[pos++] = v >>> 24
      buf[pos++] = (v >> 16) & 0xff
      buf[pos++] = (v >> 8) & 0xff
      buf[pos++] = v & 0xff
    }
  } else if (v >> 0 === v) {
    if (v >= -0x20) buf[pos++] = 0x100 + v
    else if (v >= -0x80) {
      buf[pos++] = 0xd0
      buf[pos++] = v + 0x100
    } else if (v >= -0x8000) {
      buf[pos++] = 0xd1
      buf[pos++] = (v >> 8) & 0xff
      buf[pos++] = v & 0xff
    } else {
      buf[pos++] = 0xd2
      buf[pos++] = (v >>> 24) & 0xff
      buf[pos++] = (v >> 16) & 0xff
      buf[pos++] = (v >> 8) & 0xff
      buf[pos++] = v & 0xff
    }
  } else {
    f64.setFloat64(0, v)
    buf[pos++] = 0xcb
    for (let i = 0; i < 8; i++) buf[pos++] = f64.getUint8(i)
  }
}

const digits = new Uint8Array(96)

/**
 * The text `decimalToWire` gives for a Decimal that prints without an exponent (decimal.js's
 * `toString` does for -30 < e < 40 with Troupe's settings), written from its base-1e7 limbs
 * straight into the buffer; false (nothing written) for anything else, which takes the text path.
 */
const writePlainDecimal = (x: Decimal): boolean => {
  const limbs = x.d as ReadonlyArray<number> | null
  const e = x.e
  if (limbs === null || limbs.length === 0 || !(e > -30 && e < 40) || limbs.length > 12) return false
  const neg = x.s < 0
  let nd = 0
  const first = limbs[0] as number
  if (limbs.length === 1 && first === 0) {
    ensure(3)
    if (neg) {
      buf[pos++] = 0xa2
      buf[pos++] = 45
    } else buf[pos++] = 0xa1
    buf[pos++] = 48
    return true
  }
  // Digits of the first limb as they are, then seven per limb, then no trailing zeros.
  let v = first
  let width = 1
  while (v >= POW10[width]!) width++
  for (let i = width - 1; i >= 0; i--) {
    digits[i] = 48 + (v % 10)
    v = Math.floor(v / 10)
  }
  nd = width
  for (let k = 1; k < limbs.length; k++) {
    v = limbs[k] as number
    for (let i = 6; i >= 0; i--) {
      digits[nd + i] = 48 + (v % 10)
      v = Math.floor(v / 10)
    }
    nd += 7
  }
  while (nd > 1 && digits[nd - 1] === 48) nd--
  // Layout: 0.000ddd | ddd000 | dd.ddd
  const length = (neg ? 1 : 0) + (e < 0 ? 1 - e + nd : e + 1 >= nd ? e + 1 : nd + 1)
  if (length > 80) return false
  ensure(length + 2)
  if (length < 0x20) buf[pos++] = 0xa0 | length
  else {
    buf[pos++] = 0xd9
    buf[pos++] = length
  }
  if (neg) buf[pos++] = 45
  if (e < 0) {
    buf[pos++] = 48
    buf[pos++] = 46
    for (let i = -1; i > e; i--) buf[pos++] = 48
    for (let i = 0; i < nd; i++) buf[pos++] = digits[i] as number
  } else if (e + 1 >= nd) {
    for (let i = 0; i < nd; i++) buf[pos++] = digits[i] as number
    for (let i = nd; i <= e; i++) buf[pos++] = 48
  } else {
    for (let i = 0; i <= e; i++) buf[pos++] = digits[i] as number
    buf[pos++] = 46
    for (let i = e + 1; i < nd; i++) buf[pos++] = digits[i] as number
  }
  return true
}

const POW10 = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000]

const writeLength = (n: number, small: number, b16: number, b32: number, smallMax: number): void => {
  ensure(5)
  if (n < smallMax) buf[pos++] = small | n
  else if (n < 0x10000) {
    buf[pos++] = b16
    buf[pos++] = n >> 8
    buf[pos++] = n & 0xff
  } else {
    buf[pos++] = b32
    buf.writeUInt32BE(n, pos)
    pos += 4
  }
}

const writeLiteral = (v: AST.LiteralValue): void => {
  if (typeof v === "string") writeString(v)
  else if (typeof v === "number") writeNumber(v)
  else if (typeof v === "boolean") {
    ensure(1)
    buf[pos++] = v ? 0xc3 : 0xc2
  } else if (v === null) {
    ensure(1)
    buf[pos++] = 0xc0
  } else throw new UnsupportedShape("bigint literal")
}

/** The msgpack bytes of one key string, ready to copy. */
const keyBytes = (key: string): Uint8Array => {
  const body = Buffer.from(key, "utf8")
  if (body.length >= 0x20) throw new UnsupportedShape(`long key ${key}`)
  return Uint8Array.from([0xa0 | body.length, ...body])
}

const noOptions: AST.ParseOptions = {}

export const compileWriter = (ast: AST.AST): Writer => {
  switch (ast._tag) {
    case "StringKeyword":
      return (u) => {
        if (typeof u !== "string") return false
        writeString(u)
        return true
      }
    case "NumberKeyword":
      return (u) => {
        if (typeof u !== "number") return false
        writeNumber(u)
        return true
      }
    case "BooleanKeyword":
      return (u) => {
        if (typeof u !== "boolean") return false
        writeLiteral(u)
        return true
      }
    case "Literal": {
      const literal = ast.literal
      return (u) => {
        if (u !== literal) return false
        writeLiteral(literal)
        return true
      }
    }
    case "Refinement": {
      const from = compileWriter(ast.from)
      return (u) => Option.isNone(ast.filter(u, noOptions, ast)) && from(u)
    }
    case "Transformation": {
      if (ast !== DecimalFromString.ast) throw new UnsupportedShape(String(ast))
      return (u) => {
        if (!isDecimal(u)) return false
        if (writePlainDecimal(u)) return true
        const text = decimalToWire(u)
        if (text === undefined) return false
        writeString(text)
        return true
      }
    }
    case "Union": {
      const members = ast.types.map(compileWriter)
      return (u) => {
        const at = pos - start
        for (const m of members) {
          if (m(u)) return true
          pos = start + at
        }
        return false
      }
    }
    case "TupleType": {
      if (ast.elements.some((e) => e.isOptional) || ast.rest.length > 1) throw new UnsupportedShape(String(ast))
      const elements = ast.elements.map((e) => compileWriter(e.type))
      const restAst = ast.rest[0]
      const rest = restAst === undefined ? undefined : compileWriter(restAst.type)
      return (u) => {
        if (!Array.isArray(u)) return false
        if (rest === undefined ? u.length !== elements.length : u.length < elements.length) return false
        writeLength(u.length, 0x90, 0xdc, 0xdd, 0x10)
        for (let i = 0; i < u.length; i++) {
          if (!(i < elements.length ? (elements[i] as Writer) : (rest as Writer))(u[i])) return false
        }
        return true
      }
    }
    case "TypeLiteral": {
      const index = ast.indexSignatures[0]
      const stringKey = (k: AST.AST): boolean => k._tag === "StringKeyword" || (k._tag === "Refinement" && stringKey(k.from))
      if (ast.indexSignatures.length > 1 || (index !== undefined && (ast.propertySignatures.length > 0 || !stringKey(index.parameter)))) {
        throw new UnsupportedShape(String(ast))
      }
      if (index !== undefined) {
        const value = compileWriter(index.type)
        const keyOk = index.parameter._tag === "StringKeyword" ? undefined : index.parameter
        return (u) => {
          if (typeof u !== "object" || u === null || Array.isArray(u)) return false
          const keys = Object.keys(u)
          if (keys.length > 0xffff) return false
          ensure(3)
          buf[pos++] = 0xde
          buf[pos++] = keys.length >> 8
          buf[pos++] = keys.length & 0xff
          for (const key of keys) {
            if (key === "__proto__") return false
            if (keyOk !== undefined && keyOk._tag === "Refinement" && Option.isSome(keyOk.filter(key, noOptions, keyOk))) return false
            writeString(key)
            if (!value((u as Record<string, unknown>)[key])) return false
          }
          return true
        }
      }
      const props = ast.propertySignatures.map((p) => {
        if (typeof p.name !== "string") throw new UnsupportedShape(String(ast))
        return { name: p.name, key: keyBytes(p.name), optional: p.isOptional, write: compileWriter(p.type) }
      })
      const hasOwn = Object.prototype.hasOwnProperty
      return (u) => {
        if (typeof u !== "object" || u === null || Array.isArray(u)) return false
        const input = u as Record<string, unknown>
        ensure(3)
        // Relative to the message: `ensure` may move it to a new slab before the header is filled.
        const header = pos - start
        pos += 3
        let count = 0
        for (const p of props) {
          if (!hasOwn.call(input, p.name)) {
            if (p.optional) continue
            return false
          }
          const key = p.key
          ensure(key.length)
          for (let i = 0; i < key.length; i++) buf[pos++] = key[i] as number
          if (!p.write(input[p.name])) return false
          count++
        }
        buf[start + header] = 0xde
        buf[start + header + 1] = count >> 8
        buf[start + header + 2] = count & 0xff
        return true
      }
    }
    default:
      throw new UnsupportedShape(String(ast))
  }
}

/** Runs a compiled writer as one message: its bytes, or undefined (nothing kept) when it refused. */
export const packWith = (write: Writer, u: unknown): Buffer | undefined => {
  if (pos > buf.length - 256) {
    buf = Buffer.allocUnsafeSlow(SLAB)
    pos = 0
  }
  start = pos
  if (!write(u)) {
    pos = start
    return undefined
  }
  const out = buf.subarray(start, pos)
  start = pos
  return out
}
