import { readFileSync } from "node:fs"
import { gunzipSync } from "node:zlib"

/**
 * One line of a recording: a JSON frame, or a raw WebSocket capture line `<unix time>: <frame>`
 * (seconds with an optional fraction, or milliseconds when the integer part has 13 digits),
 * optionally marked `->` (from the venue) or `<-` (from the client: not market data, ignored).
 */
export type RecordingLine = { readonly kind: "frame"; readonly json: string; readonly captureMs: number | undefined } | { readonly kind: "client" }

const CAPTURE = /^(\d{1,16})(?:\.(\d+))?:\s*(<-|->)?\s*(.*)$/

export const recordingLine = (line: string): RecordingLine => {
  const m = CAPTURE.exec(line)
  if (m === null) return { kind: "frame", json: line, captureMs: undefined }
  if (m[3] === "<-") return { kind: "client" }
  const whole = m[1] as string
  // Exact integer arithmetic on the text: no float between the capture and the clock.
  const captureMs = whole.length >= 13 ? Number(whole) : Number(whole) * 1000 + Number(((m[2] ?? "") + "000").slice(0, 3))
  return { kind: "frame", json: m[4] as string, captureMs: Number.isSafeInteger(captureMs) ? captureMs : undefined }
}

/**
 * The text of a recording file: gzip (by magic bytes, whatever the name) is inflated; a
 * truncated or corrupt gzip is an error naming the file, never a partial replay.
 */
export const readRecordingText = (path: string): string => {
  const bytes = readFileSync(path)
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      return gunzipSync(bytes).toString("utf8")
    } catch (e) {
      throw new Error(`${path}: not a complete gzip file (${e instanceof Error ? e.message : String(e)})`)
    }
  }
  return bytes.toString("utf8")
}

