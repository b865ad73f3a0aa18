import { createActor, type AnyEventObject, type AnyStateMachine, type AnyTransitionDefinition, type EventObject, type SnapshotFrom, type StateValue } from "xstate"
import { getAdjacencyMap, getShortestPaths } from "xstate/graph"
import { allStateNodes, leafStates, nodeTransitions } from "../../src/machines/graph.js"

/**
 * Model-based exploration shared by the machine tests: `xstate/graph` generates the paths
 * (shortest path to every state, then every event from every state), each path is replayed
 * on a live actor, the transitions the actor really takes are collected from its inspection
 * stream, and an invariant is checked on every reached snapshot.
 */

type Snapshot = SnapshotFrom<AnyStateMachine>

export interface ModelSpec {
  readonly name: string
  readonly machine: AnyStateMachine
  /** One traversal per input; context-dependent guards may need several. */
  readonly inputs: ReadonlyArray<unknown>
  readonly events: ReadonlyArray<AnyEventObject>
  /** Abstraction of a snapshot for the traversal; defaults to value + context. */
  readonly serialize?: (snapshot: Snapshot) => string
  /** Throws (e.g. with `expect`) when the snapshot breaks an invariant. */
  readonly invariant: (next: Snapshot, prev: Snapshot | undefined, event: EventObject | undefined) => void
  readonly limit?: number
  /** Called before each path's last event is sent (after its prefix was replayed). */
  readonly beforeLast?: () => void
  /** Called with each whole path and the snapshot it ends in: lets another implementation be checked on the same paths. */
  readonly afterLast?: (input: unknown, path: ReadonlyArray<EventObject>, next: Snapshot) => void
}

export interface Coverage {
  readonly name: string
  readonly statesReached: number
  readonly statesTotal: number
  readonly transitionsReached: number
  readonly transitionsTotal: number
  readonly missingStates: ReadonlyArray<string>
  readonly missingTransitions: ReadonlyArray<string>
  readonly snapshotsChecked: number
  readonly paths: number
}

export const leafIdsOf = (prefix: string, value: StateValue): ReadonlyArray<string> =>
  typeof value === "string"
    ? [`${prefix}.${value}`]
    : Object.entries(value).flatMap(([k, v]) => (v === undefined ? [`${prefix}.${k}`] : leafIdsOf(`${prefix}.${k}`, v)))

/**
 * Every (leaf state, transition definition) pair that can fire: the leaf's own transitions and
 * those inherited from its ancestors, minus those shadowed by an unguarded transition for the
 * same event lower down or earlier in the same list.
 */
export const definedTransitions = (machine: AnyStateMachine): Map<string, string> => {
  const defId = new Map<AnyTransitionDefinition, string>()
  for (const node of allStateNodes(machine)) {
    const counters = new Map<string, number>()
    for (const t of nodeTransitions(node)) {
      const i = counters.get(t.eventType) ?? 0
      counters.set(t.eventType, i + 1)
      const targets = (t.target ?? []).map((n) => n.id).join(",") || "(stays)"
      defId.set(t, `${node.id} ${t.eventType}#${i} -> ${targets}`)
    }
  }
  const out = new Map<string, string>()
  for (const leaf of leafStates(machine)) {
    const shadowed = new Set<string>()
    for (let node: typeof leaf | undefined = leaf; node; node = node.parent) {
      const closed = new Set<string>()
      for (const t of nodeTransitions(node)) {
        if (shadowed.has(t.eventType) || closed.has(t.eventType)) continue
        out.set(`${leaf.id} | ${defId.get(t)}`, leaf.id)
        if (t.guard === undefined) closed.add(t.eventType)
      }
      for (const e of closed) shadowed.add(e)
    }
  }
  // The key of a taken transition is built the same way from the leaf it left.
  transitionKeyOf.set(machine, (leafId, t) => `${leafId} | ${defId.get(t)}`)
  return out
}

const transitionKeyOf = new WeakMap<AnyStateMachine, (leafId: string, t: AnyTransitionDefinition) => string>()

/** An actor that records the transitions it takes and checks the invariant after each event. */
const tracker = (
  spec: ModelSpec,
  input: unknown,
  reached: Set<string>,
  defined: Map<string, string>,
  keyOf: (leafId: string, t: AnyTransitionDefinition) => string,
  snapshot?: Snapshot
) => {
  const { machine } = spec
  let current: ReadonlyArray<string> = []
  const actor = createActor(machine, {
    input,
    ...(snapshot === undefined ? {} : { snapshot }),
    inspect: (ev) => {
      if (ev.type !== "@xstate.microstep" || ev.actorRef !== actor) return
      for (const t of ev._transitions) {
        for (const leaf of current) {
          const key = keyOf(leaf, t)
          if (defined.has(key)) reached.add(key)
        }
      }
      // A raised event is the next microstep of the same send: it leaves from where this one went.
      current = leafIdsOf(machine.id, (ev.snapshot as Snapshot).value)
    }
  })
  actor.subscribe({ error: (err) => { throw err } })
  const step = (prev: Snapshot, e: EventObject): Snapshot => {
    current = leafIdsOf(machine.id, prev.value)
    actor.send(e)
    const next = actor.getSnapshot()
    spec.invariant(next, prev, e)
    return next
  }
  return { actor, step }
}

const defaultSerialize = (s: Snapshot): string => JSON.stringify({ v: s.value, c: s.context })

export const explore = (spec: ModelSpec): Coverage => {
  const { machine } = spec
  const defined = definedTransitions(machine)
  const keyOf = transitionKeyOf.get(machine)
  if (!keyOf) throw new Error("definedTransitions did not register the machine")
  const leaves = new Set(leafStates(machine).map((n) => n.id))
  const reachedStates = new Set<string>()
  const reachedTransitions = new Set<string>()
  const serialize = spec.serialize ?? defaultSerialize
  let checked = 0
  let paths = 0

  for (const input of spec.inputs) {
    const options = {
      events: [...spec.events],
      input,
      serializeState: (s: Snapshot) => serialize(s),
      serializeEvent: (e: EventObject) => JSON.stringify(e),
      limit: spec.limit ?? 50_000
    }
    const shortest = new Map<string, ReadonlyArray<EventObject>>()
    for (const p of getShortestPaths(machine, options)) {
      shortest.set(serialize(p.state), p.steps.slice(1).map((s) => s.event))
    }
    const adjacency = getAdjacencyMap(machine, options)
    for (const [stateKey, value] of Object.entries(adjacency)) {
      const prefix = shortest.get(stateKey)
      if (prefix === undefined) throw new Error(`${spec.name}: no path to ${stateKey}`)
      // Replay the path to the state once, then fork one actor per event from its persisted snapshot.
      const track = tracker(spec, input, reachedTransitions, defined, keyOf)
      track.actor.start()
      let prev: Snapshot = track.actor.getSnapshot()
      spec.invariant(prev, undefined, undefined)
      for (const leaf of leafIdsOf(machine.id, prev.value)) reachedStates.add(leaf)
      for (const e of prefix) {
        prev = track.step(prev, e)
        checked++
      }
      const persisted = track.actor.getPersistedSnapshot()
      track.actor.stop()
      for (const { event } of Object.values(value.transitions) as ReadonlyArray<{ event: EventObject }>) {
        paths++
        const fork = tracker(spec, input, reachedTransitions, defined, keyOf, JSON.parse(JSON.stringify(persisted)) as Snapshot)
        fork.actor.start()
        spec.beforeLast?.()
        const next = fork.step(prev, event)
        spec.afterLast?.(input, [...prefix, event], next)
        checked++
        for (const leaf of leafIdsOf(machine.id, next.value)) reachedStates.add(leaf)
        fork.actor.stop()
      }
    }
  }
  return {
    name: spec.name,
    statesReached: [...reachedStates].filter((s) => leaves.has(s)).length,
    statesTotal: leaves.size,
    transitionsReached: reachedTransitions.size,
    transitionsTotal: defined.size,
    missingStates: [...leaves].filter((s) => !reachedStates.has(s)),
    missingTransitions: [...defined.keys()].filter((k) => !reachedTransitions.has(k)),
    snapshotsChecked: checked,
    paths
  }
}

export const formatCoverage = (c: Coverage): string =>
  `${c.name}: states ${c.statesReached}/${c.statesTotal}, transitions ${c.transitionsReached}/${c.transitionsTotal} (${c.paths} paths, ${c.snapshotsChecked} snapshots checked)`
