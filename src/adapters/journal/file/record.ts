import { crc32 } from "node:zlib"

/**
 * On-disk record format of the file journal (big-endian):
 *
 *   u32 bodyLength | u32 crc32(bodyLength bytes ++ body) | body
 *   body = u64 offset | f64 ts (ms) | u32 keyLength | key (utf-8) | payload
 *
 * The checksum covers the length field too, so a torn or flipped length is caught rather than
 * sending the scanner off to a wrong record boundary. CRC32 (zlib polynomial, `node:zlib`'s
 * native `crc32`, Node >= 20.15) is enough to detect torn writes; it is not an integrity MAC.
 */

export const FRAME_BYTES = 8
export const HEADER_BYTES = 20
/** A body above this is treated as garbage: a torn length field must not make us allocate GiBs. */
export const MAX_BODY_BYTES = 64 * 1024 * 1024

export interface DecodedRecord {
  readonly offset: number
  readonly ts: number
  readonly key: string
  readonly payload: Uint8Array
}

export type Decoded =
  | { readonly kind: "record"; readonly record: DecodedRecord; readonly size: number }
  /** Not enough bytes in the buffer; `needed` is the full record size when the frame is known. */
  | { readonly kind: "incomplete"; readonly needed: number | undefined }
  | { readonly kind: "invalid"; readonly reason: string }

export const recordSize = (keyBytes: number, payloadBytes: number): number => FRAME_BYTES + HEADER_BYTES + keyBytes + payloadBytes

export const encodeRecord = (offset: number, ts: number, key: string, payload: Uint8Array): Buffer => {
  const keyBytes = Buffer.from(key, "utf8")
  const bodyLength = HEADER_BYTES + keyBytes.length + payload.length
  if (bodyLength > MAX_BODY_BYTES) throw new RangeError(`journal record of ${bodyLength} bytes exceeds ${MAX_BODY_BYTES}`)
  const buf = Buffer.allocUnsafe(FRAME_BYTES + bodyLength)
  buf.writeUInt32BE(bodyLength, 0)
  buf.writeBigUInt64BE(BigInt(offset), 8)
  buf.writeDoubleBE(ts, 16)
  buf.writeUInt32BE(keyBytes.length, 24)
  keyBytes.copy(buf, 28)
  buf.set(payload, 28 + keyBytes.length)
  buf.writeUInt32BE(checksum(buf, 0, bodyLength), 4)
  return buf
}

const checksum = (buf: Buffer, at: number, bodyLength: number): number =>
  crc32(buf.subarray(at + FRAME_BYTES, at + FRAME_BYTES + bodyLength), crc32(buf.subarray(at, at + 4)))

/** Decodes the record starting at `at`. The payload is copied: the buffer is reused by readers. */
export const decodeRecord = (buf: Buffer, at: number): Decoded => {
  if (buf.length - at < FRAME_BYTES) return { kind: "incomplete", needed: undefined }
  const bodyLength = buf.readUInt32BE(at)
  if (bodyLength < HEADER_BYTES || bodyLength > MAX_BODY_BYTES) return { kind: "invalid", reason: `implausible length ${bodyLength}` }
  const size = FRAME_BYTES + bodyLength
  if (buf.length - at < size) return { kind: "incomplete", needed: size }
  if (checksum(buf, at, bodyLength) !== buf.readUInt32BE(at + 4)) return { kind: "invalid", reason: "checksum mismatch" }
  const offset = buf.readBigUInt64BE(at + 8)
  const ts = buf.readDoubleBE(at + 16)
  const keyLength = buf.readUInt32BE(at + 24)
  if (keyLength > bodyLength - HEADER_BYTES) return { kind: "invalid", reason: `key length ${keyLength} exceeds body` }
  const keyStart = at + FRAME_BYTES + HEADER_BYTES
  const key = buf.toString("utf8", keyStart, keyStart + keyLength)
  const payload = new Uint8Array(buf.subarray(keyStart + keyLength, at + size))
  return { kind: "record", record: { offset: Number(offset), ts, key, payload }, size }
}
