import type { AnyStateMachine, AnyStateNode, AnyTransitionDefinition } from "xstate"
import { toDirectedGraph } from "xstate/graph"

/**
 * Drawing and tabulating machines, shared by every machine, the docs script, the inspector and
 * the CLI (`troupe machines export <name> --format mermaid|json`). Pure functions of the
 * definition; nothing here runs a machine.
 */

export interface TransitionRow {
  /** State node id the transition is declared on (a compound state's rows apply to its children). */
  readonly source: string
  readonly event: string
  readonly guard: string | null
  /** Target state node ids; empty for a transition that stays (actions only). */
  readonly targets: ReadonlyArray<string>
  readonly reenter: boolean
  readonly actions: ReadonlyArray<string>
}

export interface GraphJson {
  readonly id: string
  readonly version: string
  readonly graph: unknown
  readonly transitions: ReadonlyArray<TransitionRow>
}

/** Every state node of the machine, the root first, in document order. */
export const allStateNodes = (machine: AnyStateMachine): ReadonlyArray<AnyStateNode> => {
  const out: AnyStateNode[] = []
  const walk = (node: AnyStateNode): void => {
    out.push(node)
    for (const child of Object.values(node.states) as AnyStateNode[]) walk(child)
  }
  walk(machine.root)
  return out
}

/** The states a machine can be in: atomic states (history pseudo-states excluded). */
export const leafStates = (machine: AnyStateMachine): ReadonlyArray<AnyStateNode> => allStateNodes(machine).filter((n) => n.type === "atomic" || n.type === "final")

/** Delayed events are `xstate.after.<delay>.<state id>`; shown as `after <delay>`. */
export const eventLabel = (eventType: string): string => {
  const m = /^xstate\.after\.([^.]+)\./.exec(eventType)
  return m ? `after ${m[1]}` : eventType
}

const guardLabel = (guard: unknown): string | null => {
  if (guard === undefined || guard === null) return null
  if (typeof guard === "string") return guard
  if (typeof guard === "function") {
    const g = guard as { guards?: ReadonlyArray<unknown>; stateValue?: unknown; name: string }
    if (g.stateValue !== undefined) return `in ${String(g.stateValue)}`
    if (g.guards) return `${g.name}(${g.guards.map(guardLabel).join(", ")})`
    return g.name || "guard"
  }
  if (typeof guard === "object" && "type" in guard) {
    const g = guard as { type: string; params?: unknown }
    return g.params === undefined ? g.type : `${g.type} ${JSON.stringify(g.params)}`
  }
  return "guard"
}

const actionLabel = (action: unknown): string => {
  if (typeof action === "string") return action
  if (typeof action === "object" && action !== null && "type" in action) return String((action as { type: unknown }).type)
  if (typeof action === "function") return (action as { type?: string; name: string }).type ?? (action.name || "action")
  return "action"
}

/** Transition definitions of one state node, in priority order. */
export const nodeTransitions = (node: AnyStateNode): ReadonlyArray<AnyTransitionDefinition> =>
  [...(node.transitions as Map<string, AnyTransitionDefinition[]>).values()].flat()

export const transitionTable = (machine: AnyStateMachine): ReadonlyArray<TransitionRow> =>
  allStateNodes(machine).flatMap((node) =>
    nodeTransitions(node).map((t) => ({
      source: node.id,
      event: eventLabel(t.eventType),
      guard: guardLabel(t.guard),
      targets: (t.target ?? []).map((n) => n.id),
      reenter: t.reenter,
      actions: t.actions.map(actionLabel)
    }))
  )

export const toGraphJson = (machine: AnyStateMachine, version: string): GraphJson => ({
  id: machine.id,
  version,
  graph: JSON.parse(JSON.stringify(toDirectedGraph(machine))) as unknown,
  transitions: transitionTable(machine)
})

/**
 * Mermaid `stateDiagram-v2`. Transitions without a target (they only record or update the
 * context) are left out of the picture and listed in the table. A history target is drawn as
 * its parent (re-entry restores the last child).
 */
export const toMermaid = (machine: AnyStateMachine): string => {
  const names = new Map<string, string>()
  for (const node of allStateNodes(machine)) if (node !== machine.root) names.set(node.id, node.path.join("_"))
  const nameOf = (node: AnyStateNode): string => {
    const visible = node.type === "history" && node.parent ? node.parent : node
    return visible === machine.root ? "[*]" : (names.get(visible.id) ?? visible.key)
  }
  const lines: string[] = ["stateDiagram-v2"]
  const block = (node: AnyStateNode, indent: string): void => {
    const children = (Object.values(node.states) as AnyStateNode[]).filter((c) => c.type !== "history")
    const initial = node.initial?.target?.[0]
    if (initial) lines.push(`${indent}[*] --> ${nameOf(initial)}`)
    for (const child of children) {
      if (child.type === "compound") {
        lines.push(`${indent}state ${nameOf(child)} {`)
        block(child, indent + "  ")
        lines.push(`${indent}}`)
      } else {
        lines.push(`${indent}${nameOf(child)}: ${child.key}${child.tags.length > 0 ? ` (${[...child.tags].sort().join(", ")})` : ""}`)
      }
    }
  }
  block(machine.root, "  ")
  for (const row of allStateNodes(machine).flatMap((node) => nodeTransitions(node).map((t) => ({ node, t })))) {
    for (const target of row.t.target ?? []) {
      const guard = guardLabel(row.t.guard)
      const label = eventLabel(row.t.eventType) + (guard ? ` if ${guard}` : "")
      lines.push(`  ${nameOf(row.node)} --> ${nameOf(target)}: ${label.replace(/[:;#]/g, " ")}`)
    }
  }
  return lines.join("\n") + "\n"
}

const cell = (s: string): string => s.replace(/\|/g, "\\|")

/** The page `npm run machines:docs` writes to `docs/machines/<name>.md`. */
export const renderMachineDoc = (entry: { readonly name: string; readonly version: string; readonly description: string; readonly machine: AnyStateMachine }): string => {
  const rows = transitionTable(entry.machine)
  const states = leafStates(entry.machine)
  return [
    `# ${entry.name} machine`,
    "",
    `Version \`${entry.version}\`. ${entry.description}`,
    "",
    "Generated by `npm run machines:docs` from `src/machines`; do not edit by hand (a test fails when it is out of date).",
    "",
    "```mermaid",
    toMermaid(entry.machine).trimEnd(),
    "```",
    "",
    `## States (${states.length})`,
    "",
    ...states.map((s) => `- \`${s.path.join(".")}\`${s.tags.length > 0 ? ` — ${[...s.tags].sort().join(", ")}` : ""}`),
    "",
    `## Transitions (${rows.length})`,
    "",
    "A row on a compound state applies to each of its children that does not handle the event itself.",
    "",
    "| from | event | guard | to | actions |",
    "| --- | --- | --- | --- | --- |",
    ...rows.map(
      (r) =>
        `| ${cell(r.source)} | ${cell(r.event)} | ${cell(r.guard ?? "")} | ${cell(r.targets.length === 0 ? "(stays)" : r.targets.join(", ") + (r.reenter ? " (re-enter)" : ""))} | ${cell(r.actions.join(", "))} |`
    ),
    ""
  ].join("\n")
}
