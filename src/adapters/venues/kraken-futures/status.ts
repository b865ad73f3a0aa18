import {
  AccountInactive,
  AuthenticationFailed,
  InsufficientFunds,
  InvalidArgument,
  MarketUnavailable,
  NonceRejected,
  NotFound,
  RateLimited,
  UnknownVenueError,
  VenueUnavailable,
  type KrakenRestError
} from "./errors.js"

/**
 * The venue's status and error vocabulary, as tables a reader can check line by line against
 * the Kraken Futures documentation. Every documented value has a row; the `satisfies Record`
 * makes a missing row a compile error, and the tests walk every row.
 */

/** What a status value means for the order it concerns (canonical order outcome). */
export type StatusOutcome =
  | { readonly kind: "accepted" }
  | { readonly kind: "rejected"; readonly reason: string }
  | { readonly kind: "modified" }
  | { readonly kind: "modifyRejected"; readonly reason: string }
  | { readonly kind: "canceled" }
  | { readonly kind: "cancelRejected"; readonly reason: string }
  /** `clientOrderIdAlreadyExist`: the order exists; a typed error, not a rejection. */
  | { readonly kind: "duplicate" }

const rejected = (reason: string): StatusOutcome => ({ kind: "rejected", reason })
const modifyRejected = (reason: string): StatusOutcome => ({ kind: "modifyRejected", reason })

export const SEND_STATUSES = [
  "placed",
  "edited",
  "cancelled",
  "invalidOrderType",
  "invalidSide",
  "invalidSize",
  "invalidPrice",
  "insufficientAvailableFunds",
  "selfFill",
  "tooManySmallOrders",
  "marketSuspended",
  "marketInactive",
  "clientOrderIdAlreadyExist",
  "clientOrderIdTooLong",
  "outsidePriceCollar",
  "postWouldExecute",
  "iocWouldNotExecute",
  "maxPositionViolation",
  "wouldNotReducePosition"
] as const
export type SendStatus = (typeof SEND_STATUSES)[number]

/** `sendorder` → `sendStatus.status`. */
export const sendStatusTable = {
  placed: { kind: "accepted" },
  // `edited` is only seen inside batches; the order exists with new values.
  edited: { kind: "modified" },
  // Placed and at once canceled by the venue (e.g. an IOC remainder): accepted, then canceled.
  cancelled: { kind: "canceled" },
  invalidOrderType: rejected("invalidOrderType"),
  invalidSide: rejected("invalidSide"),
  invalidSize: rejected("invalidSize"),
  invalidPrice: rejected("invalidPrice"),
  insufficientAvailableFunds: rejected("insufficientAvailableFunds"),
  selfFill: rejected("selfFill"),
  tooManySmallOrders: rejected("tooManySmallOrders"),
  marketSuspended: rejected("marketSuspended"),
  marketInactive: rejected("marketInactive"),
  clientOrderIdAlreadyExist: { kind: "duplicate" },
  clientOrderIdTooLong: rejected("clientOrderIdTooLong"),
  outsidePriceCollar: rejected("outsidePriceCollar"),
  postWouldExecute: rejected("postWouldExecute"),
  iocWouldNotExecute: rejected("iocWouldNotExecute"),
  maxPositionViolation: rejected("maxPositionViolation"),
  wouldNotReducePosition: rejected("wouldNotReducePosition")
} as const satisfies Record<SendStatus, StatusOutcome>

export const EDIT_STATUSES = [
  "edited",
  "invalidSize",
  "invalidPrice",
  "insufficientAvailableFunds",
  "selfFill",
  "outsidePriceCollar",
  "postWouldExecute",
  "wouldNotReducePosition",
  "orderForEditNotFound",
  "orderForEditNotAStop",
  "tooManySmallOrders",
  "marketSuspended",
  "maxPositionViolation"
] as const
export type EditStatus = (typeof EDIT_STATUSES)[number]

/** `editorder` → `editStatus.status`. */
export const editStatusTable = {
  edited: { kind: "modified" },
  invalidSize: modifyRejected("invalidSize"),
  invalidPrice: modifyRejected("invalidPrice"),
  insufficientAvailableFunds: modifyRejected("insufficientAvailableFunds"),
  selfFill: modifyRejected("selfFill"),
  outsidePriceCollar: modifyRejected("outsidePriceCollar"),
  postWouldExecute: modifyRejected("postWouldExecute"),
  wouldNotReducePosition: modifyRejected("wouldNotReducePosition"),
  orderForEditNotFound: modifyRejected("orderForEditNotFound"),
  orderForEditNotAStop: modifyRejected("orderForEditNotAStop"),
  tooManySmallOrders: modifyRejected("tooManySmallOrders"),
  marketSuspended: modifyRejected("marketSuspended"),
  maxPositionViolation: modifyRejected("maxPositionViolation")
} as const satisfies Record<EditStatus, StatusOutcome>

export const CANCEL_STATUSES = ["cancelled", "filled", "notFound"] as const
export type CancelStatus = (typeof CANCEL_STATUSES)[number]

/**
 * `cancelorder` → `cancelStatus.status`. `filled`: the cancel lost the race; the fill itself
 * arrives on the fills feed (with fee and liquidity), so here it is only a cancel rejection.
 */
export const cancelStatusTable = {
  cancelled: { kind: "canceled" },
  filled: { kind: "cancelRejected", reason: "filled" },
  notFound: { kind: "cancelRejected", reason: "notFound" }
} as const satisfies Record<CancelStatus, StatusOutcome>

export const CANCEL_ALL_STATUSES = ["cancelled", "noOrdersToCancel"] as const
export type CancelAllStatus = (typeof CANCEL_ALL_STATUSES)[number]

export const ERROR_VALUES = [
  "accountInactive",
  "apiLimitExceeded",
  "authenticationError",
  "insufficientFunds",
  "invalidArgument",
  "marketUnavailable",
  "nonceBelowThreshold",
  "nonceDuplicate",
  "notFound",
  "requiredArgumentMissing",
  "Server Error",
  "Unavailable",
  "unknownError"
] as const
export type ErrorValue = (typeof ERROR_VALUES)[number]

type ErrorFactory = (endpoint: string, error: string) => KrakenRestError

/** `{"result":"error","error":...}` → typed error. */
export const errorTable = {
  accountInactive: (endpoint, detail) => new AccountInactive({ endpoint, detail }),
  apiLimitExceeded: (endpoint, detail) => new RateLimited({ endpoint, detail }),
  authenticationError: (endpoint, detail) => new AuthenticationFailed({ endpoint, detail }),
  insufficientFunds: (endpoint, detail) => new InsufficientFunds({ endpoint, detail }),
  invalidArgument: (endpoint, detail) => new InvalidArgument({ endpoint, detail }),
  marketUnavailable: (endpoint, detail) => new MarketUnavailable({ endpoint, detail }),
  nonceBelowThreshold: (endpoint, detail) => new NonceRejected({ endpoint, detail }),
  nonceDuplicate: (endpoint, detail) => new NonceRejected({ endpoint, detail }),
  notFound: (endpoint, detail) => new NotFound({ endpoint, detail }),
  requiredArgumentMissing: (endpoint, detail) => new InvalidArgument({ endpoint, detail }),
  // The venue answered, so the request reached it; whether it acted is unknown.
  "Server Error": (endpoint, detail) => new VenueUnavailable({ endpoint, cause: "venue", detail, mayHaveReached: true }),
  Unavailable: (endpoint, detail) => new VenueUnavailable({ endpoint, cause: "venue", detail, mayHaveReached: false }),
  unknownError: (endpoint, error) => new UnknownVenueError({ endpoint, error })
} as const satisfies Record<ErrorValue, ErrorFactory>

const has = <T extends object>(table: T, key: string): key is Extract<keyof T, string> => Object.prototype.hasOwnProperty.call(table, key)

export const lookupSendStatus = (s: string): StatusOutcome | undefined => (has(sendStatusTable, s) ? sendStatusTable[s] : undefined)
export const lookupEditStatus = (s: string): StatusOutcome | undefined => (has(editStatusTable, s) ? editStatusTable[s] : undefined)
export const lookupCancelStatus = (s: string): StatusOutcome | undefined => (has(cancelStatusTable, s) ? cancelStatusTable[s] : undefined)

/** Any `error` value, documented or not, becomes a typed error; unknown text is `UnknownVenueError`. */
export const errorFromVenue = (endpoint: string, error: string): KrakenRestError =>
  has(errorTable, error) ? errorTable[error](endpoint, error) : new UnknownVenueError({ endpoint, error })
