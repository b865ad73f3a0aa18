import { statSync } from "node:fs"
import { Effect, Either, Stream } from "effect"
import { JournalIoError, journalOffset } from "../actors/ports/journal.js"
import { openFileJournal } from "../adapters/journal/file/file-journal.js"
import { readRecordingText, recordingLine } from "../adapters/venues/simulator/recording-file.js"
import { decodeEvent } from "../domain/codec.js"
import { parseDecimal, type Decimal } from "../domain/decimal.js"
import type { BookLevel } from "../domain/events/market.js"
import { symbolOf } from "../domain/ids.js"

/**
 * The recorded market a replay runs on, read into memory once: Kraken's public feed as JSON
 * lines (`book_snapshot`, `book`, `trade` — the simulator's RecordedMarket format), or the `md`
 * topic of a file journal (canonical BookSnapshot / BookDelta / Trade events). Both become the
 * same messages, each stamped with the time the replay's simulated clock is set to.
 *
 * Time: a line's `timestamp` (book) or `time` (trade), a journal event's `venueTs` or `ts`. A
 * message without one is 1 ms after the previous message (the first at `DEFAULT_START_MS`); a
 * time earlier than the previous message's is taken as the previous one (time never goes back).
 *
 * Numbers: decimal text is parsed exactly; a JSON number is accepted only when its shortest text
 * form is plain decimal with at most 15 significant digits — exactly the numbers a double
 * round-trips — anything else is skipped and counted, never rounded.
 */

export type Side = "buy" | "sell"

export interface Level {
  readonly price: Decimal
  readonly qty: Decimal
}

export type MarketMessage =
  | { readonly kind: "snapshot"; readonly ts: number; readonly symbol: string; readonly bids: ReadonlyArray<Level>; readonly asks: ReadonlyArray<Level> }
  | { readonly kind: "level"; readonly ts: number; readonly symbol: string; readonly side: Side; readonly price: Decimal; readonly qty: Decimal }
  | { readonly kind: "trade"; readonly ts: number; readonly symbol: string; readonly side: Side; readonly price: Decimal; readonly qty: Decimal }

/**
 * Contract specs a recording may carry (`{"feed":"instrument","product_id":..,"tickSize":"0.5",
 * "contractValueTradePrecision":4}`; a dated future's `"lastTradingTime":"2026-12-25T16:00:00.000Z"`
 * as the venue's instruments reply gives it, or epoch ms).
 */
export interface InstrumentSpecLine {
  readonly symbol: string
  readonly tickSize?: Decimal
  readonly contractValueTradePrecision?: number
  /** A dated future's last trading time (epoch ms): the replay stops trading and settles it then. */
  readonly lastTradingTime?: number
}

export interface MarketInput {
  readonly source: string
  readonly kind: "recording" | "journal"
  readonly messages: ReadonlyArray<MarketMessage>
  /** Every symbol the input mentions, in first-seen order. */
  readonly symbols: ReadonlyArray<string>
  readonly specs: ReadonlyMap<string, InstrumentSpecLine>
  /** Lines or events that were not market data we can replay (counted, never fatal). */
  readonly skipped: number
}

/** 2023-11-14T22:13:20Z: where time starts for inputs that carry none (a fixed point: replays stay deterministic). */
export const DEFAULT_START_MS = 1_700_000_000_000

const MAX_EXACT_DIGITS = 15

/** Decimal from recording text or a JSON number that is exact as a double; undefined otherwise. */
export const decimalOfJson = (raw: unknown): Decimal | undefined => {
  let text: string
  if (typeof raw === "string") text = raw
  else if (typeof raw === "number" && Number.isFinite(raw)) {
    text = String(raw)
    if (text.includes("e") || text.replace(/^-|\./g, "").replace(/^0+/, "").length > MAX_EXACT_DIGITS) return undefined
  } else return undefined
  const parsed = parseDecimal(text)
  return Either.isRight(parsed) ? parsed.right : undefined
}

const timeOf = (raw: unknown): number | undefined => (typeof raw === "number" && Number.isSafeInteger(raw) && raw >= 0 ? raw : undefined)

/** Stamps messages with monotone times (see the module note). */
class Timeline {
  private last: number | undefined
  at(ts: number | undefined): number {
    const t = ts === undefined ? (this.last === undefined ? DEFAULT_START_MS : this.last + 1) : this.last === undefined ? ts : Math.max(ts, this.last)
    this.last = t
    return t
  }
}

const levelsOf = (raw: unknown): Level[] | undefined => {
  if (!Array.isArray(raw)) return undefined
  const out: Level[] = []
  for (const l of raw as unknown[]) {
    const entry = (typeof l === "object" && l !== null ? l : {}) as Record<string, unknown>
    const price = decimalOfJson(entry.price)
    const qty = decimalOfJson(entry.qty)
    if (price === undefined || qty === undefined) return undefined
    out.push({ price, qty })
  }
  return out
}

/** Parses a recording (JSON lines, or raw `<ts>: <frame>` capture lines; see `recordingLine`). */
export const parseRecording = (text: string, source = "recording"): MarketInput & { readonly clientLines: number } => {
  const messages: MarketMessage[] = []
  const symbols: string[] = []
  const seen = new Set<string>()
  const specs = new Map<string, InstrumentSpecLine>()
  const timeline = new Timeline()
  let skipped = 0
  let clientLines = 0
  const note = (symbol: string): void => {
    if (seen.has(symbol)) return
    seen.add(symbol)
    symbols.push(symbol)
  }
  let start = 0
  while (start < text.length) {
    let end = text.indexOf("\n", start)
    if (end < 0) end = text.length
    const raw = text.slice(start, end).trim()
    start = end + 1
    if (raw === "") continue
    const framed = recordingLine(raw)
    if (framed.kind === "client") {
      clientLines++
      continue
    }
    const line = framed.json
    // A frame without its own time takes the capture's.
    const own = (t: unknown): number | undefined => timeOf(t) ?? framed.captureMs
    let msg: Record<string, unknown>
    try {
      const parsed: unknown = JSON.parse(line)
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("not an object")
      msg = parsed as Record<string, unknown>
    } catch {
      skipped++
      continue
    }
    const symbol = typeof msg.product_id === "string" && msg.product_id !== "" ? msg.product_id : undefined
    if (symbol === undefined) {
      skipped++
      continue
    }
    switch (msg.feed) {
      case "instrument": {
        const tickSize = decimalOfJson(msg.tickSize)
        const precision = msg.contractValueTradePrecision
        const ltt = msg.lastTradingTime
        const lastTradingTime = typeof ltt === "number" ? ltt : typeof ltt === "string" ? Date.parse(ltt) : NaN
        // a later line adds to (or corrects) an earlier one's fields rather than dropping them
        specs.set(symbol, {
          ...specs.get(symbol),
          symbol,
          ...(tickSize === undefined ? {} : { tickSize }),
          ...(typeof precision === "number" && Number.isInteger(precision) ? { contractValueTradePrecision: precision } : {}),
          ...(Number.isSafeInteger(lastTradingTime) && lastTradingTime > 0 && /^F[IF]_/i.test(symbol) ? { lastTradingTime } : {})
        })
        note(symbol)
        break
      }
      case "book_snapshot": {
        const bids = levelsOf(msg.bids)
        const asks = levelsOf(msg.asks)
        if (bids === undefined || asks === undefined) {
          skipped++
          break
        }
        note(symbol)
        messages.push({ kind: "snapshot", ts: timeline.at(own(msg.timestamp)), symbol, bids, asks })
        break
      }
      case "book":
      case "trade": {
        const price = decimalOfJson(msg.price)
        const qty = decimalOfJson(msg.qty)
        const side = msg.side === "buy" || msg.side === "sell" ? msg.side : undefined
        if (price === undefined || qty === undefined || side === undefined) {
          skipped++
          break
        }
        note(symbol)
        const ts = timeline.at(own(msg.feed === "book" ? msg.timestamp : msg.time))
        messages.push({ kind: msg.feed === "book" ? "level" : "trade", ts, symbol, side, price, qty })
        break
      }
      default:
        skipped++
    }
  }
  return { source, kind: "recording", messages, symbols, specs, skipped, clientLines }
}

const levelOf = ([price, qty]: BookLevel): Level => ({ price, qty })

/**
 * Reads the `md` topic of a file journal directory. Snapshots and deltas become the same
 * messages as a recording's; other events (tickers, order flow) are skipped and counted.
 */
export const readJournalMarketData = (dir: string): Effect.Effect<MarketInput, JournalIoError> =>
  Effect.scoped(
    Effect.gen(function* () {
      const journal = yield* Effect.acquireRelease(openFileJournal({ dir, fsync: { kind: "never" } }), (j) => j.close())
      const messages: MarketMessage[] = []
      const symbols: string[] = []
      const seen = new Set<string>()
      const timeline = new Timeline()
      let skipped = 0
      yield* journal.read(journalOffset("md", 0, 0)).pipe(
        Stream.runForEach((record) =>
          Effect.sync(() => {
            const decoded = decodeEvent(record.payload)
            if (Either.isLeft(decoded)) {
              skipped++
              return
            }
            const e = decoded.right
            if (e._tag !== "BookSnapshot" && e._tag !== "BookDelta" && e._tag !== "Trade") {
              skipped++
              return
            }
            const symbol = symbolOf(e.instrument)
            if (!seen.has(symbol)) {
              seen.add(symbol)
              symbols.push(symbol)
            }
            const ts = timeline.at(e.venueTs ?? e.ts)
            if (e._tag === "Trade") messages.push({ kind: "trade", ts, symbol, side: e.aggressor, price: e.price, qty: e.qty })
            else if (e._tag === "BookSnapshot") messages.push({ kind: "snapshot", ts, symbol, bids: e.bids.map(levelOf), asks: e.asks.map(levelOf) })
            else {
              for (const [price, qty] of e.bids) messages.push({ kind: "level", ts, symbol, side: "buy", price, qty })
              for (const [price, qty] of e.asks) messages.push({ kind: "level", ts, symbol, side: "sell", price, qty })
            }
          })
        ),
        Effect.mapError((cause) => (cause instanceof JournalIoError ? cause : new JournalIoError({ op: "read", topic: "md", cause })))
      )
      return { source: dir, kind: "journal" as const, messages, symbols, specs: new Map(), skipped }
    })
  )

/** `--from`: a directory is a file journal, a file is a recording. */
export const loadMarketInput = (path: string): Effect.Effect<MarketInput, JournalIoError> =>
  Effect.suspend(() => {
    let dir: boolean
    try {
      dir = statSync(path).isDirectory()
    } catch (cause) {
      return Effect.fail(new JournalIoError({ op: "open", topic: undefined, cause }))
    }
    if (dir) return readJournalMarketData(path)
    return Effect.try({ try: () => parseRecording(readRecordingText(path), path), catch: (cause) => new JournalIoError({ op: "read", topic: undefined, cause }) })
  })
