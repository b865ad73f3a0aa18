/* global ELK, document */
// Draws one lifecycle machine as SVG: ELK's layered layout of the states (compound states hold
// their children) and of the transitions, labelled with their events. `highlight(value)` marks
// the states a machine state value is in; the page calls it for the live state and when it
// time-travels. Pure browser code: no build step, ELK comes from `vendor/elk.bundled.js`.

const SVG = "http://www.w3.org/2000/svg"
const LEAF_HEIGHT = 30
const CHAR_WIDTH = 7.2

const el = (name, attrs = {}, text) => {
  const node = document.createElementNS(SVG, name)
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v))
  if (text !== undefined) node.textContent = text
  return node
}

/** The state ids a state value is in: `{ working: "accepted" }` under `order` → leaves [order.working.accepted], parents [order.working]. */
export const activeStates = (value, prefix) => {
  const leaves = []
  const parents = []
  const walk = (v, p) => {
    if (typeof v === "string") leaves.push(`${p}.${v}`)
    else if (v !== null && typeof v === "object") {
      for (const [k, inner] of Object.entries(v)) {
        parents.push(`${p}.${k}`)
        if (inner === null || inner === undefined || (typeof inner === "object" && Object.keys(inner).length === 0)) leaves.push(`${p}.${k}`)
        else walk(inner, `${p}.${k}`)
      }
    }
  }
  walk(value, prefix)
  return { leaves, parents }
}

const isAncestor = (a, b) => b.startsWith(`${a}.`)

/** The ELK graph of a machine from `/api/machines/:name?format=json`. */
const elkGraph = (machine) => {
  const types = new Map((machine.states ?? []).map((s) => [s.id, s.type]))
  const keyOf = (id) => id.slice(id.lastIndexOf(".") + 1)
  const visible = (id) => types.get(id) !== "history"
  // A history pseudo-state is drawn as its parent (re-entering the parent restores the child).
  const shown = (id) => (visible(id) ? id : id.slice(0, id.lastIndexOf(".")))
  const toNode = (n) => {
    const children = n.children.filter((c) => visible(c.id))
    if (children.length === 0) return { id: n.id, width: Math.max(70, keyOf(n.id).length * CHAR_WIDTH + 24), height: LEAF_HEIGHT, labels: [{ text: keyOf(n.id) }] }
    return {
      id: n.id,
      labels: [{ text: keyOf(n.id) }],
      layoutOptions: { "elk.padding": "[top=28,left=12,bottom=12,right=12]" },
      children: children.map(toNode)
    }
  }
  const seen = new Set()
  const edges = []
  for (const row of machine.transitions) {
    if (row.source === machine.id) continue
    for (const rawTarget of row.targets) {
      const target = shown(rawTarget)
      // Self-transitions and edges between a state and its own descendant are listed, not drawn.
      if (target === row.source || isAncestor(row.source, target) || isAncestor(target, row.source)) continue
      const key = `${row.source}|${target}|${row.event}`
      if (seen.has(key)) continue
      seen.add(key)
      edges.push({ id: `e${edges.length}`, sources: [row.source], targets: [target], labels: [{ text: row.event, width: row.event.length * 6 + 4, height: 12 }] })
    }
  }
  return {
    id: "root",
    layoutOptions: {
      "elk.algorithm": "layered",
      "elk.direction": "DOWN",
      "elk.hierarchyHandling": "INCLUDE_CHILDREN",
      "elk.layered.spacing.nodeNodeBetweenLayers": "44",
      "elk.spacing.nodeNode": "28",
      "elk.spacing.edgeLabel": "4",
      "elk.edgeLabels.placement": "CENTER"
    },
    children: machine.graph.children.filter((c) => visible(c.id)).map(toNode),
    edges
  }
}

/** Without ELK (or if it fails): a plain grid of the states, no edges, so the highlight still works. */
const gridLayout = (graph) => {
  const leaf = (n, x, y) => ({ ...n, x, y, width: 150, height: LEAF_HEIGHT, children: undefined })
  const children = graph.children.map((n, i) => {
    const x = 10 + (i % 4) * 180
    const y = 10 + Math.floor(i / 4) * 240
    if (!n.children) return leaf(n, x, y)
    return { ...n, x, y, width: 174, height: 40 + n.children.length * 36, children: n.children.map((c, j) => leaf(c, 12, 28 + j * 36)) }
  })
  return { ...graph, children, edges: [], width: 730, height: 10 + Math.ceil(children.length / 4) * 240 }
}

export const layoutMachine = async (machine) => {
  const graph = elkGraph(machine)
  try {
    return await new ELK().layout(graph)
  } catch (e) {
    console.warn("ELK layout failed; drawing a grid", e)
    return gridLayout(graph)
  }
}

/** Renders the laid-out machine into `container`; returns `{ highlight(value) }`. */
export const renderDiagram = (container, layout, machineId) => {
  const width = Math.ceil((layout.width ?? 400) + 20)
  const height = Math.ceil((layout.height ?? 200) + 20)
  const svg = el("svg", { width, height, viewBox: `-10 -10 ${width} ${height}`, "data-testid": "machine-diagram", "data-machine": machineId, role: "img" })
  const defs = el("defs")
  const marker = el("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" })
  marker.append(el("path", { d: "M 0 0 L 10 5 L 0 10 z", class: "arrow" }))
  defs.append(marker)
  svg.append(defs)

  const origin = new Map([["root", { x: 0, y: 0 }]])
  // Compound states go below the edges (their fill would hide the edges inside them), leaves above.
  const containers = el("g", { class: "containers" })
  const nodes = el("g", { class: "states" })
  const byId = new Map()
  const drawNode = (n, ox, oy) => {
    const x = ox + (n.x ?? 0)
    const y = oy + (n.y ?? 0)
    origin.set(n.id, { x, y })
    const compound = Array.isArray(n.children) && n.children.length > 0
    const g = el("g", { class: compound ? "state compound" : "state", "data-state": n.id, "data-testid": `state-${n.id}`, "data-current": "false" })
    g.append(el("rect", { x, y, width: n.width, height: n.height, rx: compound ? 8 : 14 }))
    const label = n.labels?.[0]?.text ?? n.id
    g.append(compound ? el("text", { x: x + 10, y: y + 17 }, label) : el("text", { x: x + n.width / 2, y: y + n.height / 2 + 4, "text-anchor": "middle" }, label))
    ;(compound ? containers : nodes).append(g)
    byId.set(n.id, g)
    if (compound) for (const c of n.children) drawNode(c, x, y)
  }
  for (const n of layout.children ?? []) drawNode(n, 0, 0)

  const edges = el("g", { class: "edges" })
  for (const e of layout.edges ?? []) {
    const off = origin.get(e.container ?? "root") ?? { x: 0, y: 0 }
    const g = el("g", { class: "edge", "data-event": e.labels?.[0]?.text ?? "" })
    for (const s of e.sections ?? []) {
      const pts = [s.startPoint, ...(s.bendPoints ?? []), s.endPoint].map((p) => `${p.x + off.x},${p.y + off.y}`)
      g.append(el("path", { d: `M ${pts.join(" L ")}`, "marker-end": "url(#arrow)" }))
    }
    for (const l of e.labels ?? []) if (l.x !== undefined) g.append(el("text", { x: l.x + off.x, y: l.y + off.y + 10 }, l.text))
    edges.append(g)
  }
  svg.append(containers, edges, nodes)
  container.replaceChildren(svg)

  return {
    highlight: (value) => {
      const { leaves, parents } = activeStates(value, machineId)
      for (const [id, g] of byId) {
        g.setAttribute("data-current", leaves.includes(id) ? "true" : "false")
        g.classList.toggle("active-parent", parents.includes(id))
      }
      svg.setAttribute("data-highlight", leaves.join(" "))
    }
  }
}
