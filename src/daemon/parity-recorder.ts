import { appendFileSync, mkdirSync, readdirSync, statSync, unlinkSync } from "node:fs"
import { join } from "node:path"
import type { StrategyInputRecord, StrategyInputSink } from "../actors/strategy/strategy-inputs.js"
import type { MetricsRegistry } from "../actors/metrics.js"

/**
 * `journal.recordMarketData`: the daemon records what its strategies received — book views,
 * trades, their order events, denials, timers, params and lifecycle changes, each with its clock
 * time and the ids of the intents it produced — to a sidecar of the journal,
 * `<journal dir>/parity/run-<run>.jsonl` (one file per daemon run; JSON lines, buffered, written
 * at most every 200 ms and at shutdown). `troupe replay --parity <journal dir>` re-runs the
 * recorded strategies on it and compares their intents with the journal's. Retention: files of
 * runs older than the journal's retention hours are deleted when the daemon starts.
 */

export const PARITY_DIR = "parity"
export const parityFile = (run: number): string => `run-${run}.jsonl`

const FLUSH_BYTES = 256 * 1024

export interface ParityRecorder {
  readonly sink: StrategyInputSink
  readonly file: string
  readonly flush: () => void
  readonly close: () => void
}

export const openParityRecorder = (options: {
  readonly journalDir: string
  readonly run: number
  readonly retentionHours: number
  readonly metrics?: MetricsRegistry
  readonly log?: (message: string) => void
}): ParityRecorder => {
  const dir = join(options.journalDir, PARITY_DIR)
  mkdirSync(dir, { recursive: true })
  const cutoff = Date.now() - options.retentionHours * 3_600_000
  for (const name of readdirSync(dir)) {
    if (!/^run-\d+\.jsonl$/.test(name)) continue
    const path = join(dir, name)
    try {
      if (statSync(path).mtimeMs < cutoff) unlinkSync(path)
    } catch {
      // Gone already, or not ours to delete: retention tries again at the next start.
    }
  }
  const file = join(dir, parityFile(options.run))
  const errors = options.metrics?.counter("parity_record_errors_total", "parity recording writes that failed (the recording has a gap)")
  const records = options.metrics?.counter("parity_inputs_recorded_total", "strategy inputs recorded for parity replay")
  let buffer: string[] = []
  let bytes = 0
  let failed = false
  const flush = (): void => {
    if (buffer.length === 0) return
    const text = buffer.join("")
    buffer = []
    bytes = 0
    try {
      appendFileSync(file, text)
    } catch (e) {
      errors?.inc()
      if (!failed) options.log?.(`parity recording: cannot write ${file}: ${e instanceof Error ? e.message : String(e)} (the recording has a gap from here)`)
      failed = true
    }
  }
  const timer = setInterval(flush, 200)
  timer.unref()
  const sink = (record: StrategyInputRecord): void => {
    const line = JSON.stringify(record) + "\n"
    buffer.push(line)
    bytes += line.length
    records?.inc()
    if (bytes >= FLUSH_BYTES) flush()
  }
  return {
    sink,
    file,
    flush,
    close: () => {
      clearInterval(timer)
      flush()
    }
  }
}
