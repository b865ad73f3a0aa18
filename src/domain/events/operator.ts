import { Schema } from "effect"
import { AccountId, StrategyId, Text } from "../schema.js"
import { EventId, envelope, optional } from "./envelope.js"

/**
 * An operator's action on the daemon, journaled (topic `control`, durable) BEFORE it takes
 * effect and projected to the audit trail as `operator_action`. One event for every kind of
 * action, told apart by `action`, so the audit trail reads the same for all of them: who asked,
 * why, from which client, the state before and the state asked for.
 *
 * Strategy commands are folded at start (`daemon/strategy-roster.ts`): strategies added at run
 * time come back after a restart, stopped ones stay stopped, reconfigured ones keep their params.
 * The trading-state actions (halt, reduce, resume, cancel-all, reconcile accept) are listed so the
 * one event can carry them too.
 */
export const OperatorActionKind = Schema.Literal(
  "halt",
  "reduce",
  "resume",
  /** Lift one automatic cause of the trading state (`target` names it). */
  "lift",
  "cancelAll",
  "reconcileAccept",
  "strategy.add",
  "strategy.start",
  "strategy.stop",
  "strategy.restart",
  "strategy.reconfigure"
)
export type OperatorActionKind = typeof OperatorActionKind.Type

/** Strategy params as JSON text: any JSON the strategy's own Schema accepts, kept exactly as sent. */
export const ParamsJson = Schema.String.pipe(Schema.maxLength(65_536)).annotations({ identifier: "ParamsJson", description: "strategy params as JSON text (at most 64 KiB)" })

/** What an action is about, before and after: a lifecycle or trading state, params, a count. */
export const ActionState = Schema.Struct({
  /** A strategy's lifecycle state (`running`, `stopped`, ...) or an account's trading state. */
  state: optional(Schema.String.pipe(Schema.maxLength(128))),
  params: optional(ParamsJson),
  /** Live (not terminal) open orders, for actions that cancel them. */
  openOrders: optional(Schema.Int.pipe(Schema.nonNegative())),
  /** The active causes of the trading state (`operator:halted, journal:halted`, or `none`). */
  causes: optional(Text)
})
export type ActionState = typeof ActionState.Type

export const OperatorAction = Schema.TaggedStruct("OperatorAction", {
  ...envelope,
  action: OperatorActionKind,
  /** The authenticated operator (the CLI sends the OS user). */
  who: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(200)),
  why: Text,
  /** Which client asked: its User-Agent and address (`troupe-cli/0.1.0 127.0.0.1`). */
  client: Schema.String.pipe(Schema.maxLength(512)),
  account: optional(AccountId),
  strategy: optional(StrategyId),
  /** What it acts on when that is not the account or a strategy: a cause, the positions accepted. */
  target: optional(Schema.String.pipe(Schema.maxLength(256))),
  /** `strategy.add`: the module path or catalog kind to load, so a restart can rebuild it. */
  file: optional(Schema.String.pipe(Schema.maxLength(4096))),
  before: optional(ActionState),
  after: optional(ActionState),
  /**
   * Set on a second event when the action, journaled first, then failed as it took effect:
   * the first event's id and why. The roster fold ignores the failed action.
   */
  failedAction: optional(EventId),
  failure: optional(Text)
})
export type OperatorAction = typeof OperatorAction.Type
