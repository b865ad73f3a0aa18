import { Either } from "effect"
import { decodeEventObject, encodeEventObject } from "../../domain/codec.js"
import type { BookLevel } from "../../domain/book.js"
import { Decimal } from "../../domain/decimal.js"
import type { CanonicalEventEncoded } from "../../domain/events/index.js"
import type { Trade } from "../../domain/events/market.js"
import type { OrderEvent } from "../../domain/events/orders.js"
import type { InstrumentId } from "../../domain/ids.js"
import type { Instrument, InstrumentKind } from "../../domain/instrument.js"
import type { BookView, Denial } from "../../strategies/ports.js"

/**
 * The inputs of one strategy, as its runtime took them: what a live run records for parity
 * (`troupe replay --parity`, docs/architecture.md "Parity"). Everything a strategy's decisions
 * depend on passes one of the runtime's entry points — a book view, a trade, an order event of its
 * own, a denial, a timer, a change of params or of its lifecycle flags, init, stop — so the same
 * entry points called with the same inputs at the same clock times give the same intents. Each
 * record is JSON-safe (Decimals as text) and carries the clock time of the input (`t`) and the
 * envelope ids of the intents the strategy sent while handling it (`o`).
 */

type Level = readonly [price: string, qty: string]

/** An instrument's reference data as text (`makeInstrument` reads it back). */
export interface InstrumentText {
  readonly id: string
  readonly kind: InstrumentKind
  readonly base: string
  readonly quote: string
  readonly tickSize: string
  readonly lotSize: string
  readonly minQty: string
  readonly maxQty: string
  readonly contractSize: string
  readonly tradable: boolean
}

export const instrumentText = (i: Instrument): InstrumentText => ({
  id: i.id,
  kind: i.kind,
  base: i.base,
  quote: i.quote,
  tickSize: i.tickSize.toString(),
  lotSize: i.lotSize.toString(),
  minQty: i.minQty.toString(),
  maxQty: i.maxQty.toString(),
  contractSize: i.contractSize.toString(),
  tradable: i.tradable
})

export type StrategyInput =
  | { readonly k: "begin" }
  | { readonly k: "start" }
  | { readonly k: "end" }
  | { readonly k: "book"; readonly i: string; readonly ts: number; readonly b: Level | null; readonly a: Level | null; readonly db: ReadonlyArray<Level>; readonly da: ReadonlyArray<Level> }
  | { readonly k: "trade"; readonly e: CanonicalEventEncoded }
  | { readonly k: "order"; readonly e: CanonicalEventEncoded }
  | { readonly k: "denied"; readonly d: Denial }
  | { readonly k: "timer"; readonly n: number }
  | { readonly k: "params"; readonly p: unknown }
  /** The first record of a runtime: what a replay needs to build the same one. */
  | { readonly k: "strategy"; readonly def: string; readonly account: string; readonly run: number; readonly p: unknown; readonly ins: ReadonlyArray<InstrumentText> }
  | { readonly k: "stop" }
  | { readonly k: "cancelAll" }
  | { readonly k: "flatten" }
  | { readonly k: "flags"; readonly active: boolean; readonly reduceOnly: boolean }

/** One recorded input of one strategy: the input, its clock time and the intents it produced. */
export type StrategyInputRecord = StrategyInput & { readonly s: string; readonly t: number; readonly o: ReadonlyArray<string> }

/** Where a runtime reports its inputs (the daemon's parity recorder). Must not throw. */
export type StrategyInputSink = (record: StrategyInputRecord) => void

const levelText = (l: BookLevel | undefined): Level | null => (l === undefined ? null : [l.price.toString(), l.qty.toString()])
const levelOf = (l: Level): BookLevel => ({ price: new Decimal(l[0]), qty: new Decimal(l[1]) })

export const bookInput = (view: BookView): StrategyInput => ({
  k: "book",
  i: view.instrumentId,
  ts: view.ts,
  b: levelText(view.bestBid),
  a: levelText(view.bestAsk),
  db: view.depth.bids.map((l) => levelText(l) as Level),
  da: view.depth.asks.map((l) => levelText(l) as Level)
})

/** The view the strategy saw, rebuilt as the trading node builds it (`bookViewFromLevels` in strategies/book-view.ts). */
export const viewOfInput = (input: Extract<StrategyInput, { k: "book" }>): BookView => {
  const bestBid = input.b === null ? undefined : levelOf(input.b)
  const bestAsk = input.a === null ? undefined : levelOf(input.a)
  return {
    instrumentId: input.i as InstrumentId,
    ts: input.ts,
    bestBid,
    bestAsk,
    // As strategies/book-view.ts computes it (actors/ may not import strategies/).
    mid: bestBid !== undefined && bestAsk !== undefined ? bestBid.price.plus(bestAsk.price).dividedBy(2) : undefined,
    depth: { bids: input.db.map(levelOf), asks: input.da.map(levelOf) }
  }
}

export const eventInput = (k: "trade" | "order", e: Trade | OrderEvent): StrategyInput => (k === "trade" ? { k, e: encodeEventObject(e) } : { k, e: encodeEventObject(e) })

export class StrategyInputInvalid extends Error {
  override readonly name = "StrategyInputInvalid"
}

/** The canonical event of a `trade` or `order` input; a record that does not decode is an error naming it. */
export const eventOfInput = (input: Extract<StrategyInput, { k: "trade" | "order" }>): Trade | OrderEvent => {
  const decoded = decodeEventObject(input.e)
  if (Either.isLeft(decoded)) throw new StrategyInputInvalid(`a recorded ${input.k} input does not decode: ${decoded.left.message}`)
  return decoded.right as Trade | OrderEvent
}
