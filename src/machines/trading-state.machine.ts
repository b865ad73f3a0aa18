import { assign, setup } from "xstate"
import type { AccountId } from "../domain/ids.js"

/**
 * The risk actor's trading state for one account, kept as its CAUSES: one parallel region per
 * cause, each raised and lifted on its own. The effective state is the most restrictive active
 * cause: `active` trades normally; `reducing` only lets through what reduces exposure; `halted`
 * denies submits and modifies. Cancels always pass.
 *
 * - `operator`: the operator's halt or reduce-only. Only an operator lifts it (RESUME); nothing
 *   automatic has an edge out of it.
 * - `journal` (append failed), `audit` (projection lagging), `dailyLoss`, `reconciliation`
 *   (a position the venue's fills cannot explain), `venueBan` (the venue banned the address the
 *   account trades from: an HTTP 418), `portfolioVar`, `portfolioStress` and `lossBreaker` (the
 *   portfolio risk monitor): each lifted by its own recovery event, or explicitly by an operator
 *   (LIFT naming the cause — audited).
 *
 * Every cause carries who raised it, why and since when; operator events without who or why are
 * refused (counted).
 */
export const TRADING_STATE_MACHINE_VERSION = "trading-state@3"

export type TradingStatus = "active" | "reducing" | "halted"
export type IntentKind = "submit" | "submitReduceOnly" | "modify" | "cancel"

/** The causes, in the order they are shown. */
export const TRADING_CAUSES = ["operator", "journal", "audit", "dailyLoss", "reconciliation", "venueBan", "portfolioVar", "portfolioStress", "lossBreaker"] as const
export type TradingCause = (typeof TRADING_CAUSES)[number]
/** Causes an operator may lift explicitly with LIFT (the operator's own is lifted by RESUME). */
export type AutomaticCause = Exclude<TradingCause, "operator">

/** What each automatic cause restricts to. The operator's level is the one they chose. */
export const CAUSE_LEVEL: Readonly<Record<AutomaticCause, Exclude<TradingStatus, "active">>> = {
  journal: "halted",
  audit: "halted",
  dailyLoss: "halted",
  reconciliation: "reducing",
  venueBan: "halted",
  portfolioVar: "reducing",
  portfolioStress: "reducing",
  lossBreaker: "halted"
}

/** What the risk actor may approve in each state. */
export const permits = (status: TradingStatus, intent: IntentKind): boolean => {
  if (intent === "cancel") return true
  if (status === "active") return true
  if (status === "reducing") return intent === "submitReduceOnly"
  return false
}

export interface ActiveCause {
  readonly cause: TradingCause
  readonly level: Exclude<TradingStatus, "active">
  /** `operator:<name>` or the part of the node that raised it (`risk:daily-loss`, `node:journal`, ...). */
  readonly who: string
  readonly why: string
  /** Epoch ms when it was raised (kept across restarts for the operator's cause). */
  readonly since: number
}

const RANK: Readonly<Record<TradingStatus, number>> = { active: 0, reducing: 1, halted: 2 }

/** The most restrictive of the active causes. */
export const effectiveStatus = (causes: Readonly<Partial<Record<TradingCause, ActiveCause>>>): TradingStatus => {
  let s: TradingStatus = "active"
  for (const c of Object.values(causes)) if (c !== undefined && RANK[c.level] > RANK[s]) s = c.level
  return s
}

export interface TradingStateInput {
  readonly account: AccountId
}

export interface CauseChange {
  readonly cause: TradingCause
  readonly change: "raised" | "lifted"
  readonly level: TradingStatus
  readonly from: TradingStatus
  readonly to: TradingStatus
  readonly who: string
  readonly why: string
  readonly since: number
}

export interface TradingStateContext {
  readonly account: AccountId
  readonly causes: Readonly<Partial<Record<TradingCause, ActiveCause>>>
  readonly lastChange: CauseChange | null
  /** Operator events without who or why, refused. */
  readonly refused: number
}

type Operator = { readonly who: string; readonly why: string; readonly at: number }
type Automatic = { readonly why: string; readonly at: number }
export type TradingStateEvent =
  | ({ readonly type: "HALT" } & Operator)
  | ({ readonly type: "REDUCE" } & Operator)
  | ({ readonly type: "RESUME" } & Operator)
  | ({ readonly type: "LIFT"; readonly cause: AutomaticCause } & Operator)
  | ({ readonly type: "JOURNAL_FAILED" } & Automatic)
  | ({ readonly type: "JOURNAL_RECOVERED" } & Automatic)
  | ({ readonly type: "AUDIT_LAGGING" } & Automatic)
  | ({ readonly type: "AUDIT_CAUGHT_UP" } & Automatic)
  | ({ readonly type: "DAILY_LOSS_BREACHED" } & Automatic)
  | ({ readonly type: "DAILY_LOSS_RECOVERED" } & Automatic)
  | ({ readonly type: "RECONCILIATION_MISMATCH" } & Automatic)
  | ({ readonly type: "VENUE_BANNED" } & Automatic)
  | ({ readonly type: "VENUE_BAN_ENDED" } & Automatic)
  | ({ readonly type: "VAR_BREACHED" } & Automatic)
  | ({ readonly type: "VAR_RECOVERED" } & Automatic)
  | ({ readonly type: "STRESS_BREACHED" } & Automatic)
  | ({ readonly type: "STRESS_RECOVERED" } & Automatic)
  | ({ readonly type: "LOSS_BREAKER_TRIPPED" } & Automatic)
  | ({ readonly type: "LOSS_BREAKER_RECOVERED" } & Automatic)

/** The events that raise and lift each automatic cause reported from outside risk (no recovery: only an operator's LIFT). */
export const AUTOMATIC_EVENTS = {
  journal: ["JOURNAL_FAILED", "JOURNAL_RECOVERED"],
  audit: ["AUDIT_LAGGING", "AUDIT_CAUGHT_UP"],
  reconciliation: ["RECONCILIATION_MISMATCH", undefined],
  venueBan: ["VENUE_BANNED", "VENUE_BAN_ENDED"],
  portfolioVar: ["VAR_BREACHED", "VAR_RECOVERED"],
  portfolioStress: ["STRESS_BREACHED", "STRESS_RECOVERED"],
  lossBreaker: ["LOSS_BREAKER_TRIPPED", "LOSS_BREAKER_RECOVERED"]
} as const satisfies Record<Exclude<AutomaticCause, "dailyLoss">, readonly [TradingStateEvent["type"], TradingStateEvent["type"] | undefined]>

const AUTO_WHO: Readonly<Record<AutomaticCause, string>> = { journal: "node:journal", audit: "node:audit", dailyLoss: "risk:daily-loss", reconciliation: "node:reconcile", venueBan: "risk:venue-rate", portfolioVar: "risk:portfolio-var", portfolioStress: "risk:portfolio-stress", lossBreaker: "risk:loss-breaker" }

type Step = { readonly cause: TradingCause; readonly level: TradingStatus; readonly change: "raised" | "lifted" }

const apply = (context: TradingStateContext, event: TradingStateEvent, step: Step): Partial<TradingStateContext> => {
  const from = effectiveStatus(context.causes)
  const causes: Partial<Record<TradingCause, ActiveCause>> = { ...context.causes }
  const isOperator = event.type === "HALT" || event.type === "REDUCE" || event.type === "RESUME" || event.type === "LIFT"
  const who = isOperator ? event.who : AUTO_WHO[step.cause as AutomaticCause]
  if (step.change === "raised") causes[step.cause] = { cause: step.cause, level: step.level as ActiveCause["level"], who, why: event.why, since: event.at }
  else delete causes[step.cause]
  const to = effectiveStatus(causes)
  return { causes, lastChange: { cause: step.cause, change: step.change, level: step.level, from, to, who, why: event.why, since: event.at } }
}

/** An operator transition: accountable (who and why) or refused. */
const byOperator = (target: string, step: Step) =>
  [
    { guard: "isAccountable", target, actions: [{ type: "record", params: step }, "announce"] },
    { actions: "refuse" }
  ] as const

const automatic = (target: string, step: Step) => ({ target, actions: [{ type: "record", params: step }, "announce"] }) as const

/** An automatic cause: raised by its detector, lifted by its recovery or explicitly by an operator. */
const automaticRegion = (cause: AutomaticCause, raise: TradingStateEvent["type"], recover: TradingStateEvent["type"] | undefined, raisedName: string) => {
  const lift: Step = { cause, level: "active", change: "lifted" }
  return {
    initial: "clear",
    states: {
      clear: { on: { [raise]: automatic(raisedName, { cause, level: CAUSE_LEVEL[cause], change: "raised" }) } },
      [raisedName]: {
        on: {
          ...(recover === undefined ? {} : { [recover]: automatic("clear", lift) }),
          LIFT: [
            { guard: { type: "isAccountableFor", params: { cause } }, target: "clear", actions: [{ type: "record", params: lift }, "announce"] },
            { guard: { type: "isFor", params: { cause } }, actions: "refuse" }
          ]
        }
      }
    }
  } as const
}

export const tradingStateMachine = setup({
  types: { context: {} as TradingStateContext, events: {} as TradingStateEvent, input: {} as TradingStateInput },
  actions: {
    /** Side effect: journal the change (orders topic, so recovery folds it) and tell the operator. */
    announce: () => {},
    record: assign(({ context, event }, step: Step) => apply(context, event, step)),
    refuse: assign({ refused: ({ context }) => context.refused + 1 })
  },
  guards: {
    /** An operator must say who they are and why. */
    isAccountable: ({ event }) => "who" in event && event.who.trim().length > 0 && event.why.trim().length > 0,
    isFor: ({ event }, params: { cause: AutomaticCause }) => event.type === "LIFT" && event.cause === params.cause,
    isAccountableFor: ({ event }, params: { cause: AutomaticCause }) => event.type === "LIFT" && event.cause === params.cause && event.who.trim().length > 0 && event.why.trim().length > 0
  }
}).createMachine({
  id: "tradingState",
  type: "parallel",
  context: ({ input }) => ({ account: input.account, causes: {}, lastChange: null, refused: 0 }),
  states: {
    operator: {
      initial: "none",
      states: {
        none: {
          on: {
            HALT: byOperator("halted", { cause: "operator", level: "halted", change: "raised" }),
            REDUCE: byOperator("reducing", { cause: "operator", level: "reducing", change: "raised" })
          }
        },
        reducing: {
          on: {
            HALT: byOperator("halted", { cause: "operator", level: "halted", change: "raised" }),
            RESUME: byOperator("none", { cause: "operator", level: "active", change: "lifted" })
          }
        },
        halted: {
          on: {
            REDUCE: byOperator("reducing", { cause: "operator", level: "reducing", change: "raised" }),
            RESUME: byOperator("none", { cause: "operator", level: "active", change: "lifted" })
          }
        }
      }
    },
    journal: automaticRegion("journal", "JOURNAL_FAILED", "JOURNAL_RECOVERED", "failed"),
    audit: automaticRegion("audit", "AUDIT_LAGGING", "AUDIT_CAUGHT_UP", "lagging"),
    dailyLoss: automaticRegion("dailyLoss", "DAILY_LOSS_BREACHED", "DAILY_LOSS_RECOVERED", "breached"),
    // No automatic recovery: only an operator's `reconcile accept` (a LIFT) ends a mismatch.
    reconciliation: automaticRegion("reconciliation", "RECONCILIATION_MISMATCH", undefined, "mismatch"),
    // Lifted when the ban's time has passed (risk's timer) or by an operator.
    venueBan: automaticRegion("venueBan", "VENUE_BANNED", "VENUE_BAN_ENDED", "banned"),
    // The portfolio risk monitor's limits (docs/portfolio-risk.md): each lifted by its own recovery
    // (the figure back under the limit less the hysteresis) or explicitly by an operator.
    portfolioVar: automaticRegion("portfolioVar", "VAR_BREACHED", "VAR_RECOVERED", "breached"),
    portfolioStress: automaticRegion("portfolioStress", "STRESS_BREACHED", "STRESS_RECOVERED", "breached"),
    lossBreaker: automaticRegion("lossBreaker", "LOSS_BREAKER_TRIPPED", "LOSS_BREAKER_RECOVERED", "tripped")
  }
})
