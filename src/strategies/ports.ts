import { Data, Either, ParseResult, Schema } from "effect"
import type { BookDepth, BookLevel } from "../domain/book.js"
import type { Decimal } from "../domain/decimal.js"
import type { IntentKind } from "../domain/events/intents.js"
import type { Trade } from "../domain/events/market.js"
import type { OrderEvent, OrderFilled } from "../domain/events/orders.js"
import type { RiskReason } from "../domain/events/risk.js"
import type { ClientOrderId, InstrumentId, StrategyId } from "../domain/ids.js"
import type { Instrument } from "../domain/instrument.js"
import type { OrderType, Side } from "../domain/order.js"
import type { Position } from "../domain/position.js"
import { describeParseError } from "../domain/schema.js"

/**
 * The contract between a strategy and the host that runs it: the definition a strategy author
 * writes, the context the host implements, the book view, and how params are validated. It is a
 * port in the sense of ARCHITECTURE.md: strategies/ owns it, actors/strategy implements it, and
 * it imports only the domain. Authors import it through `sdk.ts`.
 */

/**
 * What a strategy sees of a book: immutable data, built once per delivery by the instrument
 * actor (coalesced: a slow strategy skips versions, it never gets a backlog).
 */
export interface BookView {
  readonly instrumentId: InstrumentId
  /** Clock time when the view was built. */
  readonly ts: number
  readonly bestBid: BookLevel | undefined
  readonly bestAsk: BookLevel | undefined
  /** (bestBid + bestAsk) / 2, undefined unless both sides have a level. */
  readonly mid: Decimal | undefined
  /** The top levels per side, best first (empty when the feed sends top of book only). */
  readonly depth: BookDepth
}

/** A new order. Prices live in `type` (build it with `order.*`); `qty` is positive, on the lot grid. */
export interface OrderRequest {
  readonly instrument: InstrumentId
  readonly side: Side
  readonly qty: Decimal
  readonly type: OrderType
  readonly reduceOnly?: boolean
}

/** A change to a live order; absent fields stay as they are. */
export interface OrderChange {
  readonly price?: Decimal
  readonly qty?: Decimal
  readonly triggerPrice?: Decimal
}

/**
 * `pendingNew`: sent, not yet accepted by the venue. `pendingModify`/`pendingCancel`: a modify or
 * cancel is in flight; `price`/`qty` already show the requested values (a refused modify
 * restores the old ones).
 */
export type OpenOrderStatus = "pendingNew" | "open" | "pendingModify" | "pendingCancel"

export interface OpenOrder {
  readonly clientOrderId: ClientOrderId
  readonly instrument: InstrumentId
  readonly side: Side
  readonly type: OrderType
  /** The limit price (stops: their limit price), if the order has one. */
  readonly price: Decimal | undefined
  readonly qty: Decimal
  readonly filledQty: Decimal
  readonly reduceOnly: boolean
  readonly status: OpenOrderStatus
}

/** An intent the risk actor refused (or that could not reach it: `GATEWAY_FAILED`). */
export interface Denial {
  readonly intent: IntentKind
  readonly clientOrderId?: ClientOrderId
  readonly instrument?: InstrumentId
  readonly reason: RiskReason | "GATEWAY_FAILED"
  readonly detail: string
}

// ---------------------------------------------------------------------------------------------
// Context
// ---------------------------------------------------------------------------------------------

export interface StrategyLog {
  readonly debug: (message: string, fields?: Readonly<Record<string, unknown>>) => void
  readonly info: (message: string, fields?: Readonly<Record<string, unknown>>) => void
  readonly warn: (message: string, fields?: Readonly<Record<string, unknown>>) => void
  readonly error: (message: string, fields?: Readonly<Record<string, unknown>>) => void
}

/** The shape of XState's `clock` option, on the injected clock, for machine strategies. */
export interface StrategyClock {
  setTimeout(fn: (...args: unknown[]) => void, timeout: number): unknown
  clearTimeout(id: unknown): void
}

/** What every callback (and `init`) can do. Timers and subscriptions end with the incarnation. */
export interface BaseContext<P> {
  readonly strategyId: StrategyId
  /** The current, decoded params; a reconfigure swaps them between two callbacks. */
  readonly params: P
  /** Injected clock time, epoch ms (simulated in tests and replay). */
  readonly now: () => number
  /** One of this strategy's instruments (tick, lot, limits). Throws for any other. */
  readonly instrument: (id: InstrumentId) => Instrument
  /** The latest book view delivered for the instrument, if any. */
  readonly book: (id: InstrumentId) => BookView | undefined
  /** This strategy's net position from its own fills; flat before any. Survives restarts. */
  readonly position: (id: InstrumentId) => Position
  /** This strategy's live orders, all or on one instrument. */
  readonly openOrders: (instrument?: InstrumentId) => ReadonlyArray<OpenOrder>
  /**
   * Sends a SubmitOrder intent to risk and returns its client order id at once (deterministic:
   * strategy, run, sequence). The order shows in `openOrders` as `pendingNew`; a denial removes
   * it and calls `onDenied`.
   */
  readonly submit: (request: OrderRequest) => ClientOrderId
  /** False when the order is not one of this strategy's live orders (nothing is sent). */
  readonly modify: (clientOrderId: ClientOrderId, change: OrderChange) => boolean
  readonly cancel: (clientOrderId: ClientOrderId) => boolean
  /** One CancelAll intent narrowed to this strategy (and the instrument, when given). */
  readonly cancelAll: (instrument?: InstrumentId) => void
  /** Calls `onTimer(name)` once, `ms` from now; re-arming a name replaces its timer. */
  readonly setTimer: (name: string, ms: number) => void
  /** Calls `onTimer(name)` every `ms`. */
  readonly every: (name: string, ms: number) => void
  readonly cancelTimer: (name: string) => void
  /** A named figure of the strategy's internals, journaled as a StrategyRecord. Non-finite numbers are dropped. */
  readonly record: (name: string, value: number | Decimal, instrument?: InstrumentId) => void
  readonly log: StrategyLog
  /** For `createActor(machine, { clock: ctx.clock })` inside a strategy. */
  readonly clock: StrategyClock
}

export interface StrategyContext<P, S> extends BaseContext<P> {
  /** The strategy's own state: mutate it or assign a new value. Rebuilt by `init` after a crash. */
  state: S
}

// ---------------------------------------------------------------------------------------------
// Definition
// ---------------------------------------------------------------------------------------------

/**
 * A strategy. `P` is inferred from the `params` Schema (its decoded type), `S` from what `init`
 * returns. Callbacks run one at a time, synchronously; a throw faults the strategy and its
 * supervisor restarts it (new `init`, same position and open orders).
 */
export interface StrategyDefinition<P, I, S> {
  /** Default strategy id and the name in logs; several instances may run under other ids. */
  readonly id: string
  readonly description?: string
  /** Instrument ids (`venue:symbol`) whose books this strategy receives; may depend on params. */
  readonly instruments: ReadonlyArray<string> | ((params: P) => ReadonlyArray<string>)
  readonly params: Schema.Schema<P, I>
  /** Book depth per side the strategy wants in its views; 0 (default) is top of book. */
  readonly depth?: number
  readonly init: (ctx: BaseContext<P>) => S
  readonly onBook?: (ctx: StrategyContext<P, S>, book: BookView) => void
  readonly onTrade?: (ctx: StrategyContext<P, S>, trade: Trade) => void
  /** After the position has been updated with the fill. */
  readonly onFill?: (ctx: StrategyContext<P, S>, fill: OrderFilled) => void
  /** Every order event of this strategy's orders (fills included, after `onFill`). */
  readonly onOrder?: (ctx: StrategyContext<P, S>, event: OrderEvent) => void
  readonly onDenied?: (ctx: StrategyContext<P, S>, denial: Denial) => void
  readonly onTimer?: (ctx: StrategyContext<P, S>, name: string) => void
  /** After new params were validated and applied (`ctx.params` is new); state and position are kept. */
  readonly onReconfigure?: (ctx: StrategyContext<P, S>, previous: P) => void
  /** Before the host cancels open orders (and flattens, when asked) on an operator stop. */
  readonly onStop?: (ctx: StrategyContext<P, S>) => void
}

// The host runs strategies of any params and state. Schema is invariant in its types, so no
// `unknown` instantiation can stand for all of them.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyStrategyDefinition = StrategyDefinition<any, any, any>

/** The instrument ids of a definition under given params. */
export const instrumentsOf = <P>(definition: { readonly instruments: ReadonlyArray<string> | ((params: P) => ReadonlyArray<string>) }, params: P): ReadonlyArray<string> =>
  typeof definition.instruments === "function" ? definition.instruments(params) : definition.instruments

/**
 * Strategy parameters arrive as JSON (a config file, the control API, `troupe strategy add`), so
 * they are decoded with the strategy's own Schema at the edge. A bad value is a typed error that
 * names the field; it never reaches the strategy.
 */
export class StrategyParamsInvalid extends Data.TaggedError("StrategyParamsInvalid")<{
  readonly strategy: string
  /** Path of the offending field, e.g. `gamma` or `legs[1]`; empty when the whole value is wrong. */
  readonly field: string
  readonly reason: string
}> {
  override get message(): string {
    return `strategy ${this.strategy}: params${this.field === "" ? "" : `.${this.field}`}: ${this.reason}`
  }
}

/** Decodes raw params; unknown keys are an error, as everywhere in config (a typo must not be ignored). */
export const decodeParams = <P, I>(strategy: string, schema: Schema.Schema<P, I>, raw: unknown): Either.Either<P, StrategyParamsInvalid> =>
  Either.mapLeft(Schema.decodeUnknownEither(schema, { onExcessProperty: "error", errors: "all" })(raw), (error: ParseResult.ParseError) => {
    const { path, reason } = describeParseError(error)
    return new StrategyParamsInvalid({ strategy, field: path, reason })
  })
