import { describe, expect, it } from "vitest"
import {
  CANCEL_STATUSES,
  EDIT_STATUSES,
  ERROR_VALUES,
  SEND_STATUSES,
  cancelStatusTable,
  editStatusTable,
  errorFromVenue,
  errorTable,
  sendStatusTable
} from "../../../src/adapters/venues/kraken-futures/status.js"

// The documented vocabulary, copied from docs (shared/venues/kraken-futures.md), not from the code.
const DOC_SEND = "placed, edited, cancelled, invalidOrderType, invalidSide, invalidSize, invalidPrice, insufficientAvailableFunds, selfFill, tooManySmallOrders, marketSuspended, marketInactive, clientOrderIdAlreadyExist, clientOrderIdTooLong, outsidePriceCollar, postWouldExecute, iocWouldNotExecute, maxPositionViolation, wouldNotReducePosition"
const DOC_EDIT = "edited, invalidSize, invalidPrice, insufficientAvailableFunds, selfFill, outsidePriceCollar, postWouldExecute, wouldNotReducePosition, orderForEditNotFound"
const DOC_ERRORS = "accountInactive, apiLimitExceeded, authenticationError, insufficientFunds, invalidArgument, marketUnavailable, nonceBelowThreshold, nonceDuplicate, notFound, requiredArgumentMissing, Server Error, Unavailable, unknownError"
const split = (s: string) => s.split(", ")

describe("kraken-futures status and error tables", () => {
  it("every documented sendStatus has a row", () => {
    expect([...SEND_STATUSES].sort()).toEqual(split(DOC_SEND).sort())
  })

  it("every documented editStatus and cancelStatus has a row", () => {
    for (const s of split(DOC_EDIT)) expect(EDIT_STATUSES).toContain(s)
    expect([...CANCEL_STATUSES].sort()).toEqual(["cancelled", "filled", "notFound"])
  })

  it("every documented error value has a row", () => {
    expect([...ERROR_VALUES].sort()).toEqual(split(DOC_ERRORS).sort())
  })

  it("send statuses map to accepted, modified, canceled, a rejection with the status as reason, or a duplicate", () => {
    const got = Object.fromEntries(SEND_STATUSES.map((s) => [s, sendStatusTable[s].kind]))
    expect(got).toEqual({
      placed: "accepted",
      edited: "modified",
      cancelled: "canceled",
      invalidOrderType: "rejected",
      invalidSide: "rejected",
      invalidSize: "rejected",
      invalidPrice: "rejected",
      insufficientAvailableFunds: "rejected",
      selfFill: "rejected",
      tooManySmallOrders: "rejected",
      marketSuspended: "rejected",
      marketInactive: "rejected",
      clientOrderIdAlreadyExist: "duplicate",
      clientOrderIdTooLong: "rejected",
      outsidePriceCollar: "rejected",
      postWouldExecute: "rejected",
      iocWouldNotExecute: "rejected",
      maxPositionViolation: "rejected",
      wouldNotReducePosition: "rejected"
    })
    for (const s of SEND_STATUSES) {
      const o = sendStatusTable[s]
      if (o.kind === "rejected") expect(o.reason).toBe(s)
    }
  })

  it("edit statuses other than edited are modify rejections carrying the status", () => {
    for (const s of EDIT_STATUSES) {
      const o = editStatusTable[s]
      if (s === "edited") expect(o.kind).toBe("modified")
      else expect(o).toEqual({ kind: "modifyRejected", reason: s })
    }
  })

  it("a cancel that lost the race to a fill is a cancel rejection, not a fill", () => {
    expect(cancelStatusTable.cancelled).toEqual({ kind: "canceled" })
    expect(cancelStatusTable.filled).toEqual({ kind: "cancelRejected", reason: "filled" })
    expect(cancelStatusTable.notFound).toEqual({ kind: "cancelRejected", reason: "notFound" })
  })

  it("every error value becomes the expected typed error", () => {
    const got = Object.fromEntries(ERROR_VALUES.map((e) => [e, errorTable[e]("sendorder", e)._tag]))
    expect(got).toEqual({
      accountInactive: "AccountInactive",
      apiLimitExceeded: "RateLimited",
      authenticationError: "AuthenticationFailed",
      insufficientFunds: "InsufficientFunds",
      invalidArgument: "InvalidArgument",
      marketUnavailable: "MarketUnavailable",
      nonceBelowThreshold: "NonceRejected",
      nonceDuplicate: "NonceRejected",
      notFound: "NotFound",
      requiredArgumentMissing: "InvalidArgument",
      "Server Error": "VenueUnavailable",
      Unavailable: "VenueUnavailable",
      unknownError: "UnknownVenueError"
    })
  })

  it("an undocumented error value is an UnknownVenueError, including prototype keys", () => {
    expect(errorFromVenue("x", "somethingNew")._tag).toBe("UnknownVenueError")
    expect(errorFromVenue("x", "toString")._tag).toBe("UnknownVenueError")
  })
})
