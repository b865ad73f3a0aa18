import type { Schema } from "effect"
import { createActor, type AnyActorRef, type AnyStateMachine } from "xstate"
import type { Trade } from "../domain/events/market.js"
import type { OrderEvent, OrderFilled } from "../domain/events/orders.js"
import type { BaseContext, BookView, Denial, StrategyDefinition } from "./ports.js"

/**
 * For authors who think of their strategy as a state machine: the machine gets the strategy
 * context as input (`input.ctx`, call `submit`, `record`... from its actions) and every callback
 * as an event. Its `after` delays run on the injected clock. XState costs microseconds per event,
 * so keep per-tick arithmetic in plain functions the actions call (ARCHITECTURE.md, hot path).
 */
export interface MachineStrategyInput<P> {
  readonly ctx: BaseContext<P>
}

export type MachineStrategyEvent<P = unknown> =
  | { readonly type: "book"; readonly book: BookView }
  | { readonly type: "trade"; readonly trade: Trade }
  | { readonly type: "fill"; readonly fill: OrderFilled }
  | { readonly type: "order"; readonly event: OrderEvent }
  | { readonly type: "denied"; readonly denial: Denial }
  | { readonly type: "timer"; readonly name: string }
  | { readonly type: "reconfigured"; readonly previous: P }
  | { readonly type: "stop" }

export interface MachineStrategyOptions<P, I> {
  readonly id: string
  readonly description?: string
  readonly instruments: ReadonlyArray<string> | ((params: P) => ReadonlyArray<string>)
  readonly params: Schema.Schema<P, I>
  readonly depth?: number
  /** Takes `MachineStrategyInput<P>` as input and accepts `MachineStrategyEvent<P>`. */
  readonly machine: AnyStateMachine
}

/** A machine that fails (an action threw) is a throw of the callback: the host faults the strategy. */
const sendChecked = (actor: AnyActorRef, event: MachineStrategyEvent<unknown>): void => {
  actor.send(event)
  const snapshot = actor.getSnapshot() as { status: string; error?: unknown }
  if (snapshot.status === "error") throw snapshot.error instanceof Error ? snapshot.error : new Error(String(snapshot.error))
}

export const defineMachineStrategy = <P, I>(options: MachineStrategyOptions<P, I>): StrategyDefinition<P, I, AnyActorRef> => ({
  id: options.id,
  ...(options.description === undefined ? {} : { description: options.description }),
  instruments: options.instruments,
  params: options.params,
  ...(options.depth === undefined ? {} : { depth: options.depth }),
  init: (ctx) => {
    const actor = createActor(options.machine, { input: { ctx } satisfies MachineStrategyInput<P>, clock: ctx.clock })
    // Observed before start, so a throwing action surfaces here and not as an unhandled error.
    actor.subscribe({ error: () => {} })
    actor.start()
    const snapshot = actor.getSnapshot() as { status: string; error?: unknown }
    if (snapshot.status === "error") throw snapshot.error instanceof Error ? snapshot.error : new Error(String(snapshot.error))
    return actor
  },
  onBook: (ctx, book) => sendChecked(ctx.state, { type: "book", book }),
  onTrade: (ctx, trade) => sendChecked(ctx.state, { type: "trade", trade }),
  onFill: (ctx, fill) => sendChecked(ctx.state, { type: "fill", fill }),
  onOrder: (ctx, event) => {
    if (event._tag !== "OrderFilled") sendChecked(ctx.state, { type: "order", event })
  },
  onDenied: (ctx, denial) => sendChecked(ctx.state, { type: "denied", denial }),
  onTimer: (ctx, name) => sendChecked(ctx.state, { type: "timer", name }),
  onReconfigure: (ctx, previous) => sendChecked(ctx.state, { type: "reconfigured", previous }),
  onStop: (ctx) => {
    sendChecked(ctx.state, { type: "stop" })
    ctx.state.stop()
  }
})
