/**
 * Lexing primitives for scanning JSON text in place: each reads from an offset and returns the
 * offset after what it matched, or -1, so a scanner can keep values as ranges of the message
 * instead of allocating. Used by the hot-path venue message scanners (book-delta-text.ts).
 */

export const isWs = (c: number): boolean => c === 32 || c === 10 || c === 13 || c === 9

export const hexValue = (c: number): number => (c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1)

/** JSON number grammar: -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?; returns the end offset or -1. */
export const scanNumber = (text: string, i: number, n: number): number => {
  let c = text.charCodeAt(i)
  if (c === 45) c = text.charCodeAt(++i)
  if (c === 48) c = text.charCodeAt(++i)
  else if (c >= 49 && c <= 57) {
    do c = text.charCodeAt(++i)
    while (c >= 48 && c <= 57)
  } else return -1
  if (c === 46) {
    c = text.charCodeAt(++i)
    if (!(c >= 48 && c <= 57)) return -1
    do c = text.charCodeAt(++i)
    while (c >= 48 && c <= 57)
  }
  if (c === 101 || c === 69) {
    c = text.charCodeAt(++i)
    if (c === 43 || c === 45) c = text.charCodeAt(++i)
    if (!(c >= 48 && c <= 57)) return -1
    do c = text.charCodeAt(++i)
    while (c >= 48 && c <= 57)
  }
  return i <= n ? i : -1
}

/** The offset after `lit` if text has it at i, else -1. */
export const literal = (text: string, i: number, lit: string): number => {
  for (let k = 0; k < lit.length; k++) if (text.charCodeAt(i + k) !== lit.charCodeAt(k)) return -1
  return i + lit.length
}

// plainInteger's value; a module slot instead of an object return keeps the fast path allocation-free.
export let integerValue = 0

/** A JSON integer >= 0 and <= 2^53 - 1 at i: its end offset, value in integerValue; else -1. */
export const plainInteger = (text: string, i: number): number => {
  let c = text.charCodeAt(i)
  if (c === 48) {
    integerValue = 0
    return i + 1
  }
  let value = 0
  const start = i
  while (c >= 48 && c <= 57) {
    value = value * 10 + (c - 48)
    c = text.charCodeAt(++i)
  }
  if (i === start || value > Number.MAX_SAFE_INTEGER) return -1
  integerValue = value
  return i
}

/** True when `s` needs no escaping inside a JSON string, so its raw text in a message equals it. */
export const isVerbatim = (s: string): boolean => {
  for (let k = 0; k < s.length; k++) {
    const c = s.charCodeAt(k)
    if (c < 32 || c === 34 || c === 92) return false
  }
  return true
}

/** Whether `text` holds `name` at `start` (no bounds needed: past the end charCodeAt is NaN). */
export const matches = (text: string, start: number, name: string): boolean => {
  for (let k = 0; k < name.length; k++) if (text.charCodeAt(start + k) !== name.charCodeAt(k)) return false
  return true
}

// The same primitives over ASCII bytes. Callers put a 0 byte after the text: it matches no
// literal, digit or string character, so every loop stops there without a bounds check.

export const asciiBytes = (text: string): Uint8Array => Uint8Array.from(text, (ch) => ch.charCodeAt(0))

/** The offset after `lit` if bytes have it at i, else -1. */
export const literalBytes = (bytes: Uint8Array, i: number, lit: Uint8Array): number => {
  for (let k = 0; k < lit.length; k++) if (bytes[i + k] !== lit[k]) return -1
  return i + lit.length
}

/** scanNumber over bytes. */
export const scanNumberBytes = (b: Uint8Array, i: number): number => {
  let c = b[i] as number
  if (c === 45) c = b[++i] as number
  if (c === 48) c = b[++i] as number
  else if (c >= 49 && c <= 57) {
    do c = b[++i] as number
    while (c >= 48 && c <= 57)
  } else return -1
  if (c === 46) {
    c = b[++i] as number
    if (!(c >= 48 && c <= 57)) return -1
    do c = b[++i] as number
    while (c >= 48 && c <= 57)
  }
  if (c === 101 || c === 69) {
    c = b[++i] as number
    if (c === 43 || c === 45) c = b[++i] as number
    if (!(c >= 48 && c <= 57)) return -1
    do c = b[++i] as number
    while (c >= 48 && c <= 57)
  }
  return i
}

/** plainInteger over bytes; the value lands in integerValue. */
export const plainIntegerBytes = (b: Uint8Array, i: number): number => {
  let c = b[i] as number
  if (c === 48) {
    integerValue = 0
    return i + 1
  }
  let value = 0
  const start = i
  while (c >= 48 && c <= 57) {
    value = value * 10 + (c - 48)
    c = b[++i] as number
  }
  if (i === start || value > Number.MAX_SAFE_INTEGER) return -1
  integerValue = value
  return i
}
