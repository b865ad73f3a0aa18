import { isDeepStrictEqual } from "node:util"
import { expect } from "vitest"
import type { EventObject } from "xstate"
import type { Cell, StepHost } from "../../src/machines/compile.js"
import type { OrderContext, OrderEvent, OrderInput, OrderMachine } from "../../src/machines/order.machine.js"
import { ORDER_EFFECTS, orderContextOf, type CompiledOrderMachine } from "../../src/machines/order.step.js"
import type { OrderSnapshot } from "./order.fixtures.js"

/**
 * Checking the compiled order step against XState: the host actions XState runs are spied
 * (with the context each one saw), the compiled step is run on the same events, and state,
 * context, history and host actions are compared.
 */

/** What a host action sees: enough of its context to tell a stale one from the current one. */
export const seen = (name: string, c: OrderContext): string =>
  `${name} ${c.filledQty}/${c.leavesQty} ${c.expiring ? "expiring" : ""} ${c.venueOrderId ?? "-"} ${c.pendingChange === null ? "" : "pending"}`

/** The machine with its host actions recording into `spy.calls` (reset it as needed). */
export const spyHostActions = (machine: OrderMachine): { readonly machine: OrderMachine; calls: string[] } => {
  const spy = { machine: machine, calls: [] as string[] }
  spy.machine = machine.provide({
    actions: Object.fromEntries(
      ORDER_EFFECTS.map((n) => [
        n,
        ({ context }: { context: OrderContext }) => {
          spy.calls.push(seen(n, context))
        }
      ])
    )
  })
  return spy
}

export interface CompiledRun {
  readonly cell: Cell<OrderContext>
  calls: string[]
  readonly timers: string[]
  readonly step: (e: OrderEvent) => boolean
}

export const compiledRun = (compiled: CompiledOrderMachine, input: OrderInput): CompiledRun => {
  const host: StepHost<OrderContext, OrderEvent> = {
    effect: (name, c) => {
      run.calls.push(seen(name, c))
    },
    schedule: (t) => {
      run.timers.push(`arm ${t}`)
    },
    cancel: (t) => {
      run.timers.push(`disarm ${t}`)
    }
  }
  const run: CompiledRun = { cell: undefined as unknown as Cell<OrderContext>, calls: [], timers: [], step: (e) => compiled.step(run.cell, e, host) }
  ;(run as { cell: Cell<OrderContext> }).cell = compiled.start(orderContextOf(input), host)
  return run
}

export const compiledHistory = (cell: Cell<OrderContext>): Record<string, ReadonlyArray<{ id: string }>> =>
  Object.fromEntries(Object.entries(cell.history ?? {}).map(([k, v]) => [k, [{ id: v }]]))

/** XState's history value as its persisted snapshot writes it. */
export const xstateHistory = (s: OrderSnapshot): Record<string, ReadonlyArray<{ id: string }>> =>
  Object.fromEntries(Object.entries(s.historyValue as Record<string, ReadonlyArray<{ id: string }>>).map(([k, v]) => [k, v.map((n) => ({ id: n.id }))]))

/** Same value, context, history and host actions; the messages are built only on a difference. */
export const expectCompiledEqual = (compiled: CompiledOrderMachine, c: CompiledRun, snap: OrderSnapshot, calls: ReadonlyArray<string>, where: () => string): void => {
  const value = compiled.leaves[c.cell.leaf]?.value
  const history = compiledHistory(c.cell)
  const xHistory = xstateHistory(snap)
  if (isDeepStrictEqual(value, snap.value) && isDeepStrictEqual(c.cell.context, snap.context) && isDeepStrictEqual(history, xHistory) && isDeepStrictEqual(c.calls, calls)) return
  expect(value, `value ${where()}`).toEqual(snap.value)
  expect(c.cell.context, `context ${where()}`).toEqual(snap.context)
  expect(history, `history ${where()}`).toEqual(xHistory)
  expect(c.calls, `host actions ${where()}`).toEqual(calls)
}

/** The compiled step on a whole path; `calls` keeps only the host actions of its last event. */
export const compiledOnPath = (compiled: CompiledOrderMachine, input: OrderInput, path: ReadonlyArray<EventObject>): CompiledRun => {
  const c = compiledRun(compiled, input)
  path.forEach((e, k) => {
    if (k === path.length - 1) c.calls = []
    c.step(e as OrderEvent)
  })
  return c
}
