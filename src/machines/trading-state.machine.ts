import { assign, setup } from "xstate"
import type { AccountId } from "../domain/ids.js"

/**
 * The risk actor's trading state for one account: the kill switch. `active` trades normally;
 * `reducing` only lets through what reduces exposure; `halted` denies submits and modifies.
 * Cancels always pass. Operator events carry who and why; limits and the audit trail move the
 * state on their own — and never back up: only an operator resumes.
 */
export const TRADING_STATE_MACHINE_VERSION = "trading-state@1"

export type TradingStatus = "active" | "reducing" | "halted"
export type IntentKind = "submit" | "submitReduceOnly" | "modify" | "cancel"

/** What the risk actor may approve in each state. */
export const permits = (status: TradingStatus, intent: IntentKind): boolean => {
  if (intent === "cancel") return true
  if (status === "active") return true
  if (status === "reducing") return intent === "submitReduceOnly"
  return false
}

export interface TradingStateInput {
  readonly account: AccountId
}

export interface StateChange {
  readonly from: TradingStatus
  readonly to: TradingStatus
  readonly who: string
  readonly why: string
}

export interface TradingStateContext {
  readonly account: AccountId
  readonly lastChange: StateChange | null
  /** Operator events without who or why, refused. */
  readonly refused: number
}

type Operator = { readonly who: string; readonly why: string }
export type TradingStateEvent =
  | ({ readonly type: "REDUCE" } & Operator)
  | ({ readonly type: "HALT" } & Operator)
  | ({ readonly type: "RESUME" } & Operator)
  | { readonly type: "DAILY_LOSS_BREACHED"; readonly loss: string; readonly limit: string }
  | { readonly type: "AUDIT_WRITE_FAILED"; readonly error: string }

const describe = (e: TradingStateEvent): Operator => {
  switch (e.type) {
    case "DAILY_LOSS_BREACHED":
      return { who: "risk:daily-loss", why: `daily loss ${e.loss} breached limit ${e.limit}` }
    case "AUDIT_WRITE_FAILED":
      return { who: "risk:audit", why: `audit write failed: ${e.error}` }
    default:
      return { who: e.who, why: e.why }
  }
}

const to = (from: TradingStatus, target: TradingStatus) =>
  [
    { guard: "isAccountable", target, actions: [{ type: "recordChange", params: { from, to: target } }, "announce"] },
    { actions: "refuse" }
  ] as const

const auto = (from: TradingStatus, target: TradingStatus) =>
  ({ target, actions: [{ type: "recordChange", params: { from, to: target } }, "announce"] }) as const

export const tradingStateMachine = setup({
  types: { context: {} as TradingStateContext, events: {} as TradingStateEvent, input: {} as TradingStateInput },
  actions: {
    /** Side effect: journal the change (control topic) and tell the operator. */
    announce: () => {},
    recordChange: assign(({ event }, params: { from: TradingStatus; to: TradingStatus }) => ({ lastChange: { ...params, ...describe(event) } })),
    refuse: assign({ refused: ({ context }) => context.refused + 1 })
  },
  guards: {
    /** An operator must say who they are and why; automatic events always do. */
    isAccountable: ({ event }) => {
      const d = describe(event)
      return d.who.trim().length > 0 && d.why.trim().length > 0
    }
  }
}).createMachine({
  id: "tradingState",
  initial: "active",
  context: ({ input }) => ({ account: input.account, lastChange: null, refused: 0 }),
  states: {
    active: {
      on: {
        REDUCE: to("active", "reducing"),
        HALT: to("active", "halted"),
        DAILY_LOSS_BREACHED: auto("active", "halted"),
        AUDIT_WRITE_FAILED: auto("active", "reducing")
      }
    },
    reducing: {
      on: {
        RESUME: to("reducing", "active"),
        HALT: to("reducing", "halted"),
        DAILY_LOSS_BREACHED: auto("reducing", "halted"),
        // Still no audit: no risk at all.
        AUDIT_WRITE_FAILED: auto("reducing", "halted")
      }
    },
    halted: {
      on: {
        RESUME: to("halted", "active"),
        REDUCE: to("halted", "reducing")
      }
    }
  }
})
