import type { AnyStateMachine, AnyStateNode, AnyTransitionDefinition, EventObject, StateValue } from "xstate"

/**
 * A machine definition compiled into a transition table, so a host can step thousands of
 * instances without an XState actor each. The table is built once from the same `setup(...)`
 * definition the inspector draws: states, transitions in XState's selection order (the leaf's
 * own, then each ancestor's, first passing guard wins), exit and entry sets worked out per
 * (leaf, transition) at compile time, and actions and guards looked up by name in the
 * implementations the caller gives. What XState does at run time (exit set, history, entry
 * order, raised events as further microsteps) is done here at compile time, so a step is a
 * Map lookup, the guards, and a flat list of operations.
 *
 * The subset it accepts is the one Troupe's machines use: compound and atomic states, one
 * target per transition, shallow history entered by a transition that leaves its parent,
 * named guards (and `and`/`or`/`not` of them), named actions with params, `raise` of a fixed
 * event, and `after` with named delays. Anything else throws at compile time: a machine edit
 * the compiler does not understand fails at start, never silently at run time. The equality
 * tests (test/machines/order.step.test.ts) check the table against XState on every path.
 */

export type Guard<C, E> = (context: C, event: E) => boolean
/** A context update: returns the next context (the same object when nothing changes). */
export type Update<C, E> = (context: C, event: E, params: unknown) => C

export interface Implementations<C, E> {
  readonly guards: Readonly<Record<string, Guard<C, E>>>
  readonly updates: Readonly<Record<string, Update<C, E>>>
  /** Actions the host performs (side effects); the step calls `host.effect` for them, in order. */
  readonly effects: ReadonlyArray<string>
  /** Named delays of `after` transitions; the host turns them into milliseconds when it arms the timer. */
  readonly delays: ReadonlyArray<string>
}

/** What a step asks of its host: side effects, and the timers of `after` transitions. */
export interface StepHost<C, E> {
  effect(name: string, context: C, event: E): void
  /** A state with `after` was entered: arm `eventType` after the named delay. */
  schedule(eventType: string, delay: string, context: C): void
  /** That state was left: disarm `eventType`. */
  cancel(eventType: string): void
}

/** One instance's state: which leaf it is in and its context (replaced, never mutated). */
export interface Cell<C> {
  leaf: number
  context: C
  /** Shallow history recorded on exit (history node id → child id), XState's `historyValue`. */
  history: Record<string, string> | undefined
}

export interface Leaf {
  /** The state node's key (`accepted`), what a host shows as status. */
  readonly key: string
  /** The full node id (`order.working.accepted`). */
  readonly id: string
  /** XState's `snapshot.value` for this leaf (shared, frozen). */
  readonly value: StateValue
  readonly tags: ReadonlySet<string>
}

const UPDATE = 0
const EFFECT = 1
const RAISE = 2
const SCHEDULE = 3
const CANCEL = 4
const HISTORY = 5

type Op<C, E> =
  | { readonly k: typeof UPDATE; readonly fn: Update<C, E>; readonly params: unknown }
  | { readonly k: typeof EFFECT; readonly name: string }
  | { readonly k: typeof RAISE; readonly event: E }
  | { readonly k: typeof SCHEDULE; readonly eventType: string; readonly delay: string }
  | { readonly k: typeof CANCEL; readonly eventType: string }
  | { readonly k: typeof HISTORY; readonly node: string; readonly child: string }

interface Candidate<C, E> {
  readonly guard: Guard<C, E> | undefined
  readonly ops: ReadonlyArray<Op<C, E>>
  /** The leaf after the transition; -1 when it stays. */
  readonly to: number
}

export interface CompiledMachine<C, E extends EventObject> {
  readonly id: string
  readonly leaves: ReadonlyArray<Leaf>
  /** Event types that have at least one transition somewhere. */
  readonly eventTypes: ReadonlyArray<string>
  /** The initial cell: the initial leaf, with the initial state's entry operations run. */
  start(context: C, host: StepHost<C, E>): Cell<C>
  /** Processes one event (and any event it raises) in place. True when a transition was taken. */
  step(cell: Cell<C>, event: E, host: StepHost<C, E>): boolean
  /** The leaf index for a snapshot value (restoring a persisted snapshot); -1 when unknown. */
  leafOf(value: StateValue): number
}

export class MachineCompileError extends Error {
  override readonly name = "MachineCompileError"
}

const ancestorsOf = (n: AnyStateNode): AnyStateNode[] => {
  const out: AnyStateNode[] = []
  for (let p = n.parent; p !== undefined; p = p.parent) out.push(p)
  return out
}
const isDescendant = (child: AnyStateNode, parent: AnyStateNode): boolean => {
  for (let p = child.parent; p !== undefined; p = p.parent) if (p === parent) return true
  return false
}
const valueOf = (leaf: AnyStateNode): StateValue => {
  const keys = leaf.path as ReadonlyArray<string>
  let v: StateValue = keys[keys.length - 1] as string
  for (let i = keys.length - 2; i >= 0; i--) v = Object.freeze({ [keys[i] as string]: v })
  return v
}

export const compileMachine = <C, E extends EventObject>(machine: AnyStateMachine, impl: Implementations<C, E>): CompiledMachine<C, E> => {
  const fail = (what: string): never => {
    throw new MachineCompileError(`${machine.id}: ${what} is not supported by the compiled step`)
  }
  const effects = new Set(impl.effects)
  const setupActions = (machine.implementations.actions ?? {}) as Record<string, unknown>

  const nodes: AnyStateNode[] = []
  const walk = (n: AnyStateNode): void => {
    if (n.type === "parallel") fail(`parallel state ${n.id}`)
    if (n.type === "final") fail(`final state ${n.id}`)
    if (n.always !== undefined && n.always.length > 0) fail(`eventless transition on ${n.id}`)
    if (n.invoke.length > 0) fail(`invoke on ${n.id}`)
    nodes.push(n)
    for (const c of Object.values(n.states) as AnyStateNode[]) walk(c)
  }
  walk(machine.root)
  const leafNodes = nodes.filter((n) => n.type === "atomic")
  const leafIndex = new Map(leafNodes.map((n, i) => [n, i]))

  const guardOf = (g: unknown, where: string): Guard<C, E> | undefined => {
    if (g === undefined) return undefined
    if (typeof g === "string") return impl.guards[g] ?? fail(`guard "${g}" without an implementation (${where})`)
    if (typeof g === "object" && g !== null && "type" in g && typeof (g as { type: unknown }).type === "string") return guardOf((g as { type: string }).type, where)
    if (typeof g === "function") {
      const f = g as { name: string; guards?: ReadonlyArray<unknown>; guard?: unknown }
      if (f.name === "and" && f.guards) {
        const gs = f.guards.map((x) => guardOf(x, where) as Guard<C, E>)
        return (c, e) => gs.every((x) => x(c, e))
      }
      if (f.name === "or" && f.guards) {
        const gs = f.guards.map((x) => guardOf(x, where) as Guard<C, E>)
        return (c, e) => gs.some((x) => x(c, e))
      }
      if (f.name === "not" && f.guards?.length === 1) {
        const x = guardOf(f.guards[0], where) as Guard<C, E>
        return (c, e) => !x(c, e)
      }
    }
    return fail(`inline guard (${where})`)
  }

  const actionOps = (actions: ReadonlyArray<unknown>, where: string): Op<C, E>[] => {
    const out: Op<C, E>[] = []
    for (const a of actions) {
      let name: string
      let params: unknown
      if (typeof a === "string") name = a
      else if (typeof a === "object" && a !== null && typeof (a as { type?: unknown }).type === "string") {
        name = (a as { type: string }).type
        params = (a as { params?: unknown }).params
      } else {
        // XState's own built-ins for `after` (delayed raise on entry, cancel on exit) are handled apart.
        const t = (a as { type?: string }).type
        if (t === "xstate.raise" || t === "xstate.cancel") continue
        return fail(`inline action (${where})`)
      }
      const update = impl.updates[name]
      if (update !== undefined) out.push({ k: UPDATE, fn: update, params })
      else if (effects.has(name)) out.push({ k: EFFECT, name })
      else {
        const builtin = setupActions[name] as { type?: string; event?: unknown; params?: { delay?: unknown } } | undefined
        if (builtin?.type === "xstate.raise" && typeof builtin.event === "object" && builtin.params?.delay === undefined) out.push({ k: RAISE, event: builtin.event as E })
        else fail(`action "${name}" without an implementation (${where})`)
      }
    }
    return out
  }

  const delayedTypes = (n: AnyStateNode): string[] => [...new Set((n.after as ReadonlyArray<{ eventType: string }>).map((d) => d.eventType))]
  const entryOps = (n: AnyStateNode): Op<C, E>[] => [
    ...actionOps(n.entry as ReadonlyArray<unknown>, `entry of ${n.id}`),
    ...(n.after as ReadonlyArray<{ eventType: string; delay: unknown }>)
      .filter((d, i, all) => all.findIndex((x) => x.eventType === d.eventType) === i)
      .map((d): Op<C, E> => (typeof d.delay === "string" && impl.delays.includes(d.delay) ? { k: SCHEDULE, eventType: d.eventType, delay: d.delay } : fail(`delay ${String(d.delay)} without an implementation on ${n.id}`)))
  ]
  const exitOps = (leaf: AnyStateNode, n: AnyStateNode): Op<C, E>[] => [
    ...(Object.values(n.states) as AnyStateNode[])
      .filter((h) => h.type === "history")
      .map((h): AnyStateNode => (h.history !== "shallow" ? fail(`deep history ${h.id}`) : h))
      .map((h): Op<C, E> => ({ k: HISTORY, node: h.id, child: ([leaf, ...ancestorsOf(leaf)].find((x) => x.parent === n) as AnyStateNode).id })),
    ...actionOps(n.exit as ReadonlyArray<unknown>, `exit of ${n.id}`),
    ...delayedTypes(n).map((eventType): Op<C, E> => ({ k: CANCEL, eventType }))
  ]
  /** The node and its initial descendants, down to a leaf. */
  const defaultEntry = (n: AnyStateNode): AnyStateNode[] => {
    const out = [n]
    let cur = n
    while (cur.type === "compound") {
      const next = cur.initial?.target?.[0] as AnyStateNode | undefined
      if (next === undefined) return fail(`compound state ${cur.id} without an initial state`)
      out.push(next)
      cur = next
    }
    return out
  }

  const compileCandidate = (leaf: AnyStateNode, t: AnyTransitionDefinition): Candidate<C, E> => {
    const where = `${t.source.id} on ${t.eventType}`
    const guard = guardOf(t.guard, where)
    const actions = actionOps(t.actions as ReadonlyArray<unknown>, where)
    const targets = (t.target ?? []) as ReadonlyArray<AnyStateNode>
    if (targets.length === 0) return { guard, ops: actions, to: -1 }
    if (targets.length > 1) return fail(`several targets (${where})`)
    let target = targets[0] as AnyStateNode
    let historyParent: AnyStateNode | undefined
    if (target.type === "history") {
      if (target.history !== "shallow") fail(`deep history (${where})`)
      historyParent = target.parent as AnyStateNode
      // The history of a parent the transition leaves is the parent's child active now.
      const child = [leaf, ...ancestorsOf(leaf)].find((n) => n.parent === historyParent)
      target = child ?? fail(`history entered from outside its parent (${where})`)
    }
    const source = t.source as AnyStateNode
    let domain: AnyStateNode | undefined
    if (!t.reenter && (target === source || isDescendant(target, source))) domain = source
    else domain = ancestorsOf(target).find((a) => isDescendant(source, a)) ?? (t.reenter ? undefined : machine.root)
    if (domain === undefined) return fail(`re-entering the root (${where})`)
    if (historyParent !== undefined && !isDescendant(historyParent, domain)) fail(`history entered without leaving its parent (${where})`)
    const exits = [leaf, ...ancestorsOf(leaf)].filter((n) => isDescendant(n, domain))
    const path: AnyStateNode[] = []
    for (let n: AnyStateNode | undefined = target; n !== undefined && n !== domain; n = n.parent) path.unshift(n)
    const enters = [...path.slice(0, -1), ...(path.length > 0 ? defaultEntry(target) : target === domain && target.type === "compound" ? defaultEntry(target).slice(1) : [])]
    const to = enters.length === 0 ? leafIndex.get(leaf) : leafIndex.get(enters[enters.length - 1] as AnyStateNode)
    if (to === undefined) return fail(`transition not ending in an atomic state (${where})`)
    return { guard, ops: [...exits.flatMap((n) => exitOps(leaf, n)), ...actions, ...enters.flatMap(entryOps)], to }
  }

  // (event type → per leaf → candidates in XState's selection order)
  const table = new Map<string, Array<ReadonlyArray<Candidate<C, E>> | undefined>>()
  for (const n of nodes) {
    for (const key of n.transitions.keys()) {
      if (key === "*" || key.endsWith(".*")) fail(`wildcard event "${key}" on ${n.id}`)
      if (!table.has(key)) table.set(key, new Array(leafNodes.length).fill(undefined))
    }
  }
  for (const [eventType, row] of table) {
    leafNodes.forEach((leaf, i) => {
      const cands: Candidate<C, E>[] = []
      for (const n of [leaf, ...ancestorsOf(leaf)]) for (const t of n.transitions.get(eventType) ?? []) cands.push(compileCandidate(leaf, t))
      if (cands.length > 0) row[i] = cands
    })
  }

  const leaves: Leaf[] = leafNodes.map((n) => ({ key: n.key, id: n.id, value: valueOf(n), tags: new Set(n.tags as ReadonlyArray<string>) }))
  const initialPath = defaultEntry(machine.root)
  const initialOps = initialPath.flatMap(entryOps)
  const initialLeaf = leafIndex.get(initialPath[initialPath.length - 1] as AnyStateNode) as number
  const byValue = new Map(leaves.map((l, i) => [JSON.stringify(l.value), i]))

  /** Runs the operations in order; returns the events they raised (allocated only if any). */
  const run = (cell: Cell<C>, ops: ReadonlyArray<Op<C, E>>, event: E, host: StepHost<C, E>, raised: E[] | undefined): E[] | undefined => {
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i] as Op<C, E>
      switch (op.k) {
        case UPDATE:
          cell.context = op.fn(cell.context, event, op.params)
          break
        case EFFECT:
          host.effect(op.name, cell.context, event)
          break
        case RAISE:
          ;(raised ??= []).push(op.event)
          break
        case SCHEDULE:
          host.schedule(op.eventType, op.delay, cell.context)
          break
        case CANCEL:
          host.cancel(op.eventType)
          break
        case HISTORY:
          ;(cell.history ??= {})[op.node] = op.child
          break
      }
    }
    return raised
  }

  /** One microstep: the first candidate whose guard passes. `taken` tells whether there was one. */
  let taken = false
  const microstep = (cell: Cell<C>, event: E, host: StepHost<C, E>, raised: E[] | undefined): E[] | undefined => {
    taken = false
    const cands = table.get(event.type)?.[cell.leaf]
    if (cands === undefined) return raised
    for (let i = 0; i < cands.length; i++) {
      const c = cands[i] as Candidate<C, E>
      if (c.guard !== undefined && !c.guard(cell.context, event)) continue
      taken = true
      const out = run(cell, c.ops, event, host, raised)
      if (c.to >= 0) cell.leaf = c.to
      return out
    }
    return raised
  }
  // Raised events are further microsteps of the same step, in order, before the step returns.
  const drain = (cell: Cell<C>, raised: E[] | undefined, host: StepHost<C, E>): void => {
    if (raised === undefined) return
    for (let e = raised.shift(); e !== undefined; e = raised.shift()) microstep(cell, e, host, raised)
  }

  return {
    id: machine.id,
    leaves,
    eventTypes: [...table.keys()],
    start: (context, host) => {
      const cell: Cell<C> = { leaf: initialLeaf, context, history: undefined }
      drain(cell, run(cell, initialOps, { type: "xstate.init" } as E, host, undefined), host)
      return cell
    },
    step: (cell, event, host) => {
      const raised = microstep(cell, event, host, undefined)
      const took = taken
      drain(cell, raised, host)
      return took
    },
    leafOf: (value) => byValue.get(JSON.stringify(value)) ?? -1
  }
}
