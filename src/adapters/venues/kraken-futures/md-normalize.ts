import { Either } from "effect"
import type { Decimal } from "../../../domain/decimal.js"
import type { BookDelta, BookSnapshot, Ticker, Trade } from "../../../domain/events/market.js"
import { instrumentId, type InstrumentId } from "../../../domain/ids.js"
import { VenueDecodeError } from "./errors.js"
import type { BookDeltaFrame, BookSnapshotFrame, TickerFrame, TradeFrame } from "./public-frames.js"

/**
 * Decoded public frames → canonical market events. Prices and sizes are already exact
 * Decimals; this only renames, orders and stamps the envelope.
 */

export const VENUE_ID = "kraken-futures"

export interface EnvelopeSource {
  /** Unique event id. */
  readonly nextId: () => string
  /** Integer ms from the injected clock. */
  readonly now: () => number
  /** e.g. `kraken-futures/md`. */
  readonly source: string
}

/**
 * Counter-based ids: `<source>-r<run>-<start>-<n>`: the daemon's run number (read at each call:
 * it is final only after recovery) makes them unique across restarts; the start time and a random
 * part keep two clients of one run apart. Without a run (tests, tools), run 0.
 */
export const envelopeSource = (source: string, now: () => number = Date.now, run: () => number = () => 0): EnvelopeSource => {
  const start = `${now().toString(36)}-${Math.floor(Math.random() * 36 ** 4).toString(36)}`
  let n = 0
  // One concatenation per id: the prefix changes only when the run does (once, after recovery).
  let prefixRun = run()
  let prefix = `${source}-r${prefixRun}-${start}-`
  return {
    source,
    now,
    nextId: () => {
      const r = run()
      if (r !== prefixRun) {
        prefixRun = r
        prefix = `${source}-r${r}-${start}-`
      }
      return prefix + (n++).toString(36)
    }
  }
}

const instrumentCache = new Map<string, InstrumentId>()

/** `PF_XBTUSD` → `kraken-futures:PF_XBTUSD`; a product id outside our id alphabet is a decode error. */
export const instrumentOf = (product: string): Either.Either<InstrumentId, VenueDecodeError> => {
  const hit = instrumentCache.get(product)
  if (hit !== undefined) return Either.right(hit)
  return Either.match(instrumentId(VENUE_ID, product), {
    onLeft: (e) => Either.left(new VenueDecodeError({ source: "ws/public", reason: e.message, shape: `product_id ${JSON.stringify(product.slice(0, 40))}` })),
    onRight: (id) => {
      if (instrumentCache.size < 10_000) instrumentCache.set(product, id)
      return Either.right(id)
    }
  })
}

const head = (env: EnvelopeSource) => ({ id: env.nextId(), ts: env.now(), source: env.source })
const ts = (t: number | null | undefined) => (t === undefined || t === null ? {} : { venueTs: t })
const opt = <K extends string>(key: K, v: Decimal | null | undefined): { [P in K]?: Decimal } => (v === undefined || v === null ? {} : ({ [key]: v } as { [P in K]: Decimal }))

export const toBookSnapshot = (env: EnvelopeSource, f: typeof BookSnapshotFrame.Type, instrument: InstrumentId): BookSnapshot => ({
  _tag: "BookSnapshot",
  ...head(env),
  instrument,
  seq: f.seq,
  bids: f.bids.map((l) => [l.price, l.qty] as const).sort((a, b) => b[0].comparedTo(a[0])),
  asks: f.asks.map((l) => [l.price, l.qty] as const).sort((a, b) => a[0].comparedTo(b[0])),
  ...ts(f.timestamp)
})

const NO_LEVELS: ReadonlyArray<readonly [Decimal, Decimal]> = Object.freeze([])

/** The hot path (one per book update): one literal, no spreads, a shared empty side. */
export const toBookDelta = (env: EnvelopeSource, f: BookDeltaFrame, instrument: InstrumentId): BookDelta => {
  const level = [[f.price, f.qty] as const]
  const bids = f.side === "buy" ? level : NO_LEVELS
  const asks = f.side === "sell" ? level : NO_LEVELS
  const id = env.nextId()
  const now = env.now()
  return f.timestamp === undefined || f.timestamp === null
    ? { _tag: "BookDelta", id, ts: now, source: env.source, instrument, seq: f.seq, bids, asks }
    : { _tag: "BookDelta", id, ts: now, source: env.source, instrument, seq: f.seq, bids, asks, venueTs: f.timestamp }
}

export const toTrade = (env: EnvelopeSource, f: typeof TradeFrame.Type, instrument: InstrumentId): Trade => ({
  _tag: "Trade",
  ...head(env),
  instrument,
  price: f.price,
  qty: f.qty,
  // Kraken's `side` on a trade is the taker's side.
  aggressor: f.side,
  ...(f.uid === undefined || f.uid === null ? {} : { tradeId: f.uid }),
  ...ts(f.time)
})

export const toTicker = (env: EnvelopeSource, f: typeof TickerFrame.Type, instrument: InstrumentId): Ticker => ({
  _tag: "Ticker",
  ...head(env),
  instrument,
  ...opt("bid", f.bid),
  ...opt("bidQty", f.bid_size),
  ...opt("ask", f.ask),
  ...opt("askQty", f.ask_size),
  ...opt("last", f.last),
  ...opt("markPrice", f.markPrice),
  ...opt("indexPrice", f.index),
  ...opt("fundingRate", f.funding_rate),
  ...ts(f.time)
})
