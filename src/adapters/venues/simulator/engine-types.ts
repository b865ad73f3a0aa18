import type { Decimal } from "../../../domain/decimal.js"
import type { Side } from "./order-book.js"

/** Order types the engine executes (Kraken's `trailing_stop` is not simulated). */
export type OrderType = "lmt" | "post" | "ioc" | "mkt" | "fok" | "stp" | "take_profit"

/** Trigger orders: a stop triggers when the last price moves against the side, a take-profit when it moves with it. */
export const isTrigger = (type: OrderType): boolean => type === "stp" || type === "take_profit"
export type OrderState = "untriggered" | "open" | "filled" | "cancelled"
export type Liquidity = "maker" | "taker"

/** A point-in-time copy of an order; the engine never hands out its live objects. */
export interface OrderView {
  readonly orderId: string
  readonly account: string
  readonly cliOrdId: string | undefined
  readonly symbol: string
  readonly side: Side
  readonly type: OrderType
  /** Total order quantity, including what has been filled. */
  readonly size: Decimal
  readonly filled: Decimal
  readonly limitPrice: Decimal | undefined
  readonly stopPrice: Decimal | undefined
  readonly reduceOnly: boolean
  readonly receivedTime: number
  readonly lastUpdateTime: number
  readonly state: OrderState
  /** A stop order that has triggered now works as a limit (or market) order. */
  readonly triggered: boolean
}

export interface FillView {
  readonly fillId: string
  readonly orderId: string
  readonly cliOrdId: string | undefined
  readonly account: string
  readonly symbol: string
  readonly side: Side
  readonly price: Decimal
  readonly qty: Decimal
  readonly liquidity: Liquidity
  readonly fee: Decimal
  readonly feeCurrency: string
  readonly time: number
  /** Per-account fill sequence number, 1-based. */
  readonly seq: number
  readonly orderType: OrderType
  readonly remainingOrderQty: Decimal
}

export interface PositionView {
  readonly account: string
  readonly symbol: string
  /** Signed: positive is long. */
  readonly balance: Decimal
  readonly entryPrice: Decimal
  readonly realizedPnl: Decimal
  readonly feesPaid: Decimal
  readonly lastFillTime: number
}

/** Kraken's `orderEvents` of a reply, in engine terms (the protocol module renders them). */
export type OrderEvent =
  | { readonly type: "PLACE"; readonly order: OrderView }
  | { readonly type: "EXECUTION"; readonly executionId: string; readonly price: Decimal; readonly amount: Decimal; readonly orderPriorExecution: OrderView; readonly takerReducedQuantity: Decimal | undefined }
  | { readonly type: "REJECT"; readonly order: OrderView; readonly reason: string }
  | { readonly type: "CANCEL"; readonly order: OrderView }
  | { readonly type: "EDIT"; readonly old: OrderView; readonly new: OrderView }

/** Everything observable that a command caused, in order; the server turns these into feeds. */
export type EngineEffect =
  | { readonly kind: "book"; readonly symbol: string; readonly side: Side; readonly price: Decimal; readonly qty: Decimal }
  | { readonly kind: "trade"; readonly symbol: string; readonly tradeId: string; readonly price: Decimal; readonly qty: Decimal; readonly takerSide: Side; readonly time: number }
  | { readonly kind: "order"; readonly account: string; readonly order: OrderView; readonly isCancel: boolean; readonly reason: string }
  | { readonly kind: "fill"; readonly account: string; readonly fill: FillView }
  | { readonly kind: "position"; readonly account: string; readonly position: PositionView }

export type SendStatus =
  | "placed"
  | "invalidOrderType"
  | "invalidSide"
  | "invalidSize"
  | "invalidPrice"
  | "marketSuspended"
  | "marketInactive"
  | "clientOrderIdAlreadyExist"
  | "clientOrderIdTooLong"
  | "postWouldExecute"
  | "iocWouldNotExecute"
  | "wouldNotReducePosition"
  | "selfFill"
  | "insufficientAvailableFunds"

export type EditStatus =
  | "edited"
  | "invalidSize"
  | "invalidPrice"
  | "postWouldExecute"
  | "wouldNotReducePosition"
  | "selfFill"
  | "orderForEditNotFound"
  | "marketSuspended"

export type CancelStatus = "cancelled" | "filled" | "notFound"

export interface Outcome<S extends string> {
  readonly status: S
  readonly order: OrderView | undefined
  readonly events: ReadonlyArray<OrderEvent>
  readonly effects: ReadonlyArray<EngineEffect>
}

export interface SendCommand {
  readonly account: string
  readonly symbol: string
  /** Raw text so that an unknown type or side maps to Kraken's status, not a decode error. */
  readonly orderType: string
  readonly side: string
  readonly size: Decimal | undefined
  readonly limitPrice?: Decimal | undefined
  readonly stopPrice?: Decimal | undefined
  readonly cliOrdId?: string | undefined
  readonly reduceOnly?: boolean | undefined
}

export interface OrderRef {
  readonly account: string
  readonly orderId?: string | undefined
  readonly cliOrdId?: string | undefined
}

export interface EditCommand extends OrderRef {
  readonly size?: Decimal | undefined
  readonly limitPrice?: Decimal | undefined
  readonly stopPrice?: Decimal | undefined
}
