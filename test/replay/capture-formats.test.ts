import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { gzipSync } from "node:zlib"
import { Effect, Either } from "effect"
import { describe, expect, it } from "vitest"
import { readRecordingText, recordingLine } from "../../src/adapters/venues/simulator/recording-file.js"
import { loadMarketInput, parseRecording } from "../../src/replay/market-input.js"
import { runReplay } from "../../src/replay/replay.js"
import avellanedaStoikov from "../../src/strategies/examples/avellaneda-stoikov.js"
import type { AnyStrategyDefinition } from "../../src/strategies/ports.js"
import { journalHash, recording, tempDir, XBT } from "./helpers.js"

const AS = avellanedaStoikov as unknown as AnyStrategyDefinition
const params = { instrument: XBT, gamma: 0.1, k: 1.5, horizonMs: 60_000, sigmaWindow: 20, orderQty: "0.001", maxInventory: "0.005", requoteTicks: 2 }

/** The JSON-lines recording as a raw WebSocket capture: `<unix seconds.ms>: -> <frame>`, with the client's own lines (`<-`). */
const asCapture = (jsonl: string): string => {
  const out: string[] = []
  let last = 1_700_000_000_000
  for (const line of jsonl.split("\n")) {
    if (line.trim() === "") continue
    const frame = JSON.parse(line) as Record<string, unknown>
    const t = typeof frame.timestamp === "number" ? frame.timestamp : typeof frame.time === "number" ? frame.time : last
    last = t
    if (out.length === 0) out.push(`${Math.floor(t / 1000)}.${String(t % 1000).padStart(3, "0")}: <- {"event":"subscribe","feed":"book","product_ids":["PF_XBTUSD"]}`)
    out.push(`${Math.floor(t / 1000)}.${String(t % 1000).padStart(3, "0")}: -> ${line}`)
  }
  return `${out.join("\n")}\n`
}

describe("recorded markets in the formats people have", () => {
  it("reads capture lines: seconds with a fraction or milliseconds, venue frames, client lines ignored", () => {
    expect(recordingLine('1712345678.25: -> {"feed":"heartbeat"}')).toEqual({ kind: "frame", json: '{"feed":"heartbeat"}', captureMs: 1712345678250 })
    expect(recordingLine('1712345678123: {"a":1}')).toEqual({ kind: "frame", json: '{"a":1}', captureMs: 1712345678123 })
    expect(recordingLine('1712345678: <- {"event":"subscribe"}')).toEqual({ kind: "client" })
    expect(recordingLine('{"feed":"book"}')).toEqual({ kind: "frame", json: '{"feed":"book"}', captureMs: undefined })
  })

  it("a gzip raw capture gives the same books and the same replay output hash as the equivalent JSON lines", async () => {
    const dir = tempDir("capture")
    const { text, input } = recording()
    const file = join(dir, "capture.log.gz")
    writeFileSync(file, gzipSync(asCapture(text)))
    const loaded = await Effect.runPromise(loadMarketInput(file))
    expect(loaded.messages).toEqual(input.messages)
    expect(loaded.symbols).toEqual(input.symbols)
    expect((loaded as { clientLines?: number }).clientLines).toBe(1)
    const fromJsonl = await runReplay({ input, outDir: join(dir, "a"), store: false, strategy: AS, params })
    const fromCapture = await runReplay({ input: loaded, outDir: join(dir, "b"), store: false, strategy: AS, params })
    expect(fromJsonl.fills).toBeGreaterThan(0)
    expect(journalHash(fromCapture.journalDir)).toBe(journalHash(fromJsonl.journalDir))
  })

  it("a truncated gzip, a missing file and garbage lines: a clear error or counts, never a crash", async () => {
    const dir = tempDir("capture-bad")
    const whole = gzipSync(asCapture(recording().text))
    const truncated = join(dir, "cut.gz")
    writeFileSync(truncated, whole.subarray(0, Math.floor(whole.length / 2)))
    expect(() => readRecordingText(truncated)).toThrow(/cut\.gz: not a complete gzip file/)
    const failed = await Effect.runPromise(Effect.either(loadMarketInput(truncated)))
    expect(Either.isLeft(failed)).toBe(true)
    expect(Either.isLeft(await Effect.runPromise(Effect.either(loadMarketInput(join(dir, "nope.jsonl")))))).toBe(true)
    const garbage = parseRecording('not json\n1700000000.000: -> {"feed":"book","product_id":"PF_XBTUSD","side":"buy","price":"1","qty":"2","timestamp":1700000000000}\n1700000000.001: -> {oops\n1700000000.002: <- {"event":"x"}\n')
    expect(garbage.messages).toHaveLength(1)
    expect(garbage.skipped).toBe(2)
    expect(garbage.clientLines).toBe(1)
  })
})
