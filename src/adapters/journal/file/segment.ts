import { open, readdir, readFile, writeFile, type FileHandle } from "node:fs/promises"
import { join } from "node:path"
import { decodeRecord, FRAME_BYTES, type DecodedRecord } from "./record.js"

/**
 * Segment files and their sparse offset index. A topic directory holds
 * `<base offset, 20 digits>.log` segments; the base offset of a segment is the offset of its
 * first record, so finding the segment of an offset is a binary search on file names. Within a
 * segment a sparse index (one entry per `indexIntervalBytes` of log) bounds a seek to a short
 * scan. Sealed segments get a `.idx` file when they roll; it is derived data (never fsynced,
 * rebuilt by a scan when missing or inconsistent).
 */

export const segmentFile = (base: number): string => `${base.toString().padStart(20, "0")}.log`
export const indexFile = (base: number): string => `${base.toString().padStart(20, "0")}.idx`

export const listSegmentBases = async (dir: string): Promise<number[]> => {
  const names = await readdir(dir)
  return names
    .filter((n) => /^\d{20}\.log$/.test(n))
    .map((n) => Number(n.slice(0, 20)))
    .sort((a, b) => a - b)
}

export interface IndexEntry {
  readonly offset: number
  readonly position: number
}

/** The last entry with `offset <= target`, or the segment start. */
export const floorEntry = (index: ReadonlyArray<IndexEntry>, base: number, target: number): IndexEntry => {
  let lo = 0
  let hi = index.length - 1
  let found: IndexEntry = { offset: base, position: 0 }
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    const e = index[mid] as IndexEntry
    if (e.offset <= target) {
      found = e
      lo = mid + 1
    } else {
      hi = mid - 1
    }
  }
  return found
}

/** Builds the sparse index as records are appended or scanned. */
export class IndexBuilder {
  readonly entries: IndexEntry[] = []
  private lastPosition = Number.NEGATIVE_INFINITY
  constructor(private readonly intervalBytes: number) {}
  add(offset: number, position: number): void {
    if (position - this.lastPosition >= this.intervalBytes) {
      this.entries.push({ offset, position })
      this.lastPosition = position
    }
  }
}

export const writeIndexFile = async (dir: string, base: number, entries: ReadonlyArray<IndexEntry>): Promise<void> => {
  const buf = Buffer.allocUnsafe(entries.length * 16)
  entries.forEach((e, i) => {
    buf.writeBigUInt64BE(BigInt(e.offset), i * 16)
    buf.writeBigUInt64BE(BigInt(e.position), i * 16 + 8)
  })
  await writeFile(join(dir, indexFile(base)), buf)
}

/** The index of a sealed segment, or undefined when the file is missing or not well-formed. */
export const readIndexFile = async (dir: string, base: number): Promise<IndexEntry[] | undefined> => {
  let buf: Buffer
  try {
    buf = await readFile(join(dir, indexFile(base)))
  } catch {
    return undefined
  }
  if (buf.length % 16 !== 0) return undefined
  const entries: IndexEntry[] = []
  for (let i = 0; i < buf.length; i += 16) {
    const e = { offset: Number(buf.readBigUInt64BE(i)), position: Number(buf.readBigUInt64BE(i + 8)) }
    const prev = entries[entries.length - 1]
    if (e.offset < base || (prev !== undefined && (e.offset <= prev.offset || e.position <= prev.position))) return undefined
    entries.push(e)
  }
  return entries
}

const CHUNK_BYTES = 64 * 1024

export type CursorStep =
  | { readonly kind: "record"; readonly record: DecodedRecord; readonly position: number; readonly size: number }
  | { readonly kind: "end" }
  /** Bytes at `position` that are not a whole valid record: a torn tail or corruption. */
  | { readonly kind: "bad"; readonly position: number; readonly reason: string }

/** Sequential buffered reader of the records of one segment file from a byte position. */
export class RecordCursor {
  private buf: Buffer = Buffer.alloc(0)
  private bufStart = 0
  constructor(
    private readonly fh: FileHandle,
    private position: number
  ) {
    this.bufStart = position
  }

  get at(): number {
    return this.position
  }

  /** The next record if it is already in the read buffer (no await), else undefined: call `next()`. */
  nextBuffered(): CursorStep | undefined {
    const d = decodeRecord(this.buf, this.position - this.bufStart)
    if (d.kind !== "record") return undefined
    const position = this.position
    this.position += d.size
    return { kind: "record", record: d.record, position, size: d.size }
  }

  async next(): Promise<CursorStep> {
    for (;;) {
      const d = decodeRecord(this.buf, this.position - this.bufStart)
      if (d.kind === "record") {
        const position = this.position
        this.position += d.size
        return { kind: "record", record: d.record, position, size: d.size }
      }
      if (d.kind === "invalid") return { kind: "bad", position: this.position, reason: d.reason }
      const have = this.bufStart + this.buf.length - this.position
      const want = Math.max(CHUNK_BYTES, d.needed ?? FRAME_BYTES)
      const fresh = Buffer.allocUnsafe(want)
      const { bytesRead } = await this.fh.read(fresh, 0, want, this.position)
      if (bytesRead <= have) {
        // Nothing new on disk: a clean end, or a record cut short.
        return have === 0 ? { kind: "end" } : { kind: "bad", position: this.position, reason: `truncated record (${have} bytes)` }
      }
      this.buf = fresh.subarray(0, bytesRead)
      this.bufStart = this.position
    }
  }
}

export interface SegmentScan {
  /** Bytes of whole, valid, contiguous records from the start. */
  readonly validBytes: number
  readonly records: number
  readonly lastTs: number | undefined
  readonly index: IndexEntry[]
  /** Why the scan stopped before the end of the file, if it did. */
  readonly stop: { readonly position: number; readonly reason: string } | undefined
}

/** Scans a whole segment, checking checksums and that offsets run on from `base`. */
export const scanSegment = async (fh: FileHandle, base: number, indexIntervalBytes: number): Promise<SegmentScan> => {
  const cursor = new RecordCursor(fh, 0)
  const index = new IndexBuilder(indexIntervalBytes)
  let records = 0
  let lastTs: number | undefined
  for (;;) {
    const step = await cursor.next()
    if (step.kind === "end") return { validBytes: cursor.at, records, lastTs, index: index.entries, stop: undefined }
    if (step.kind === "bad") return { validBytes: step.position, records, lastTs, index: index.entries, stop: { position: step.position, reason: step.reason } }
    if (step.record.offset !== base + records) {
      return {
        validBytes: step.position,
        records,
        lastTs,
        index: index.entries,
        stop: { position: step.position, reason: `offset ${step.record.offset} where ${base + records} was expected` }
      }
    }
    index.add(step.record.offset, step.position)
    records++
    lastTs = step.record.ts
  }
}

export const openSegment = (dir: string, base: number, flags: "r" | "r+" | "a+" | "wx+"): Promise<FileHandle> => open(join(dir, segmentFile(base)), flags)
