/* global ELK, document */
// Draws one lifecycle machine as SVG, readable at a glance: ELK's layered layout of the states
// (compound states hold their children), ONE edge per pair of states carrying every event that
// moves between them, and the events that keep a state (self-transitions, targetless handlers)
// listed inside that state instead of drawn as loops. `highlight(value)` marks the states a
// machine state value is in; the view fits the viewport, zooms (wheel, buttons) and pans (drag),
// and brings the highlighted state into view. Pure browser code: no build step, ELK comes from
// `vendor/elk.bundled.js`.

const SVG = "http://www.w3.org/2000/svg"
const CHAR_WIDTH = 7.2
const LABEL_CHAR = 6.1
/** More events than this on one edge or state are shown as the first ones and "+n". */
const MAX_LABEL_LINES = 4

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

/** Event names as label lines: at most MAX_LABEL_LINES, the rest counted. */
const labelLines = (events) => {
  const list = [...events]
  if (list.length <= MAX_LABEL_LINES) return list
  return [...list.slice(0, MAX_LABEL_LINES - 1), `+${list.length - MAX_LABEL_LINES + 1} more`]
}

/**
 * The machine's transitions folded for drawing: `edges` (source → target, events between them,
 * one entry per pair), `kept` (state → events that keep it: self-transitions, targetless
 * handlers, transitions to its own descendants or ancestors), `anywhere` (the machine root's own
 * handlers, which apply in every state).
 */
export const foldTransitions = (machine) => {
  const types = new Map((machine.states ?? []).map((s) => [s.id, s.type]))
  const visible = (id) => types.get(id) !== "history"
  // A history pseudo-state is drawn as its parent (re-entering the parent restores the child).
  const shown = (id) => (visible(id) ? id : id.slice(0, id.lastIndexOf(".")))
  const edges = new Map()
  const kept = new Map()
  const anywhere = new Set()
  const keep = (state, event) => {
    if (!kept.has(state)) kept.set(state, new Set())
    kept.get(state).add(event)
  }
  for (const row of machine.transitions) {
    if (row.source === machine.id) {
      anywhere.add(row.event)
      continue
    }
    if (row.targets.length === 0) keep(row.source, row.event)
    for (const rawTarget of row.targets) {
      const target = shown(rawTarget)
      if (target === row.source || isAncestor(row.source, target) || isAncestor(target, row.source)) {
        keep(row.source, row.event)
        continue
      }
      const key = `${row.source}|${target}`
      if (!edges.has(key)) edges.set(key, { source: row.source, target, events: new Set() })
      edges.get(key).events.add(row.event)
    }
  }
  // An event that takes EVERY child of a compound state to the same outside target is drawn
  // once, from the compound state (as XState lets one write it, and as the docs draw it).
  const childrenOf = new Map()
  for (const s of machine.states ?? []) {
    if (!visible(s.id)) continue
    const parent = s.id.slice(0, s.id.lastIndexOf("."))
    if (!childrenOf.has(parent)) childrenOf.set(parent, [])
    childrenOf.get(parent).push(s.id)
  }
  for (const [parent, children] of childrenOf) {
    if (parent === machine.id || children.length < 2) continue
    const outside = [...edges.values()].filter((e) => children.includes(e.source) && !isAncestor(parent, e.target) && e.target !== parent)
    const targets = new Set(outside.map((e) => e.target))
    for (const target of targets) {
      const from = children.map((c) => edges.get(`${c}|${target}`))
      if (from.some((e) => e === undefined)) continue
      const common = [...from[0].events].filter((ev) => from.every((e) => e.events.has(ev)))
      if (common.length === 0) continue
      const key = `${parent}|${target}`
      if (!edges.has(key)) edges.set(key, { source: parent, target, events: new Set() })
      for (const ev of common) {
        edges.get(key).events.add(ev)
        for (const e of from) e.events.delete(ev)
      }
      for (const c of children) if (edges.get(`${c}|${target}`)?.events.size === 0) edges.delete(`${c}|${target}`)
    }
  }
  // An event that takes every OTHER child of a compound state into one child (CANCEL into
  // pendingCancel from any working state) is written on that child, not drawn n-1 times.
  const entered = new Map()
  for (const [parent, children] of childrenOf) {
    if (parent === machine.id || children.length < 3) continue
    for (const target of children) {
      const others = children.filter((c) => c !== target)
      const from = others.map((c) => edges.get(`${c}|${target}`))
      if (from.some((e) => e === undefined)) continue
      const common = [...from[0].events].filter((ev) => from.every((e) => e.events.has(ev)))
      for (const ev of common) {
        if (!entered.has(target)) entered.set(target, new Set())
        entered.get(target).add(ev)
        for (const e of from) e.events.delete(ev)
      }
      for (const c of others) if (edges.get(`${c}|${target}`)?.events.size === 0) edges.delete(`${c}|${target}`)
    }
  }
  // A child's edge that its parent already draws (same target, same events; the child only
  // refines it with a guard) is not drawn again.
  for (const [key, e] of edges) {
    for (let p = e.source.slice(0, e.source.lastIndexOf(".")); p.includes("."); p = p.slice(0, p.lastIndexOf("."))) {
      const parentEdge = edges.get(`${p}|${e.target}`)
      if (parentEdge === undefined) continue
      for (const ev of [...e.events]) if (parentEdge.events.has(ev)) e.events.delete(ev)
    }
    if (e.events.size === 0) edges.delete(key)
  }
  return { edges: [...edges.values()], kept, entered, anywhere: [...anywhere], visible }
}

/** The ELK graph of a machine from `/api/machines/:name?format=json`. */
const elkGraph = (machine) => {
  const { edges, kept, entered, visible } = foldTransitions(machine)
  const keyOf = (id) => id.slice(id.lastIndexOf(".") + 1)
  const toNode = (n) => {
    const children = n.children.filter((c) => visible(c.id))
    const own = labelLines(kept.get(n.id) ?? [])
    const into = [...(entered.get(n.id) ?? [])]
    // "↺ events that keep the state" and "⇐ events that enter it from every sibling".
    const keptText = [own.length > 0 ? `↺ ${own.join(", ")}` : "", into.length > 0 ? `⇐ ${into.join(", ")} from any` : ""].filter(Boolean).join("  ")
    if (children.length === 0) {
      const width = Math.max(80, keyOf(n.id).length * CHAR_WIDTH + 24, keptText.length * LABEL_CHAR + 16)
      return { id: n.id, width, height: keptText ? 42 : 30, labels: [{ text: keyOf(n.id) }], kept: keptText }
    }
    return {
      id: n.id,
      labels: [{ text: keyOf(n.id) }],
      kept: keptText,
      layoutOptions: { "elk.padding": `[top=${keptText ? 42 : 28},left=14,bottom=14,right=14]` },
      children: children.map(toNode)
    }
  }
  return {
    id: "root",
    layoutOptions: {
      "elk.algorithm": "layered",
      "elk.direction": "RIGHT",
      "elk.hierarchyHandling": "INCLUDE_CHILDREN",
      "elk.layered.crossingMinimization.strategy": "LAYER_SWEEP",
      "elk.layered.nodePlacement.strategy": "NETWORK_SIMPLEX",
      "elk.layered.considerModelOrder.strategy": "NODES_AND_EDGES",
      "elk.layered.spacing.nodeNodeBetweenLayers": "46",
      "elk.layered.spacing.edgeNodeBetweenLayers": "16",
      "elk.spacing.nodeNode": "30",
      "elk.spacing.edgeEdge": "12",
      "elk.spacing.edgeLabel": "4",
      "elk.edgeLabels.placement": "CENTER",
      "elk.edgeRouting": "ORTHOGONAL"
    },
    children: machine.graph.children.filter((c) => visible(c.id)).map(toNode),
    edges: edges.map((e, i) => {
      const lines = labelLines(e.events)
      return {
        id: `e${i}`,
        sources: [e.source],
        targets: [e.target],
        events: [...e.events],
        labels: [{ text: lines.join("\n"), width: Math.max(...lines.map((l) => l.length)) * LABEL_CHAR + 6, height: lines.length * 12 + 2 }]
      }
    })
  }
}

/** Without ELK (or if it fails): a plain grid of the states, no edges, so the highlight still works. */
const gridLayout = (graph) => {
  const leaf = (n, x, y) => ({ ...n, x, y, width: 150, height: 30, children: undefined })
  const children = graph.children.map((n, i) => {
    const x = 10 + (i % 4) * 180
    const y = 10 + Math.floor(i / 4) * 240
    if (!n.children) return leaf(n, x, y)
    return { ...n, x, y, width: 174, height: 40 + n.children.length * 36, children: n.children.map((c, j) => leaf(c, 12, 28 + j * 36)) }
  })
  return { ...graph, children, edges: [], width: 730, height: 10 + Math.ceil(children.length / 4) * 240 }
}

/**
 * ELK is loaded when the page is idle, not with it: the tree and the search do not wait for
 * it. Its layout engine (1.6 MB) runs in a Web Worker, so a layout never stalls the page while
 * the stream is flowing; where a worker cannot start, the bundle runs it on the page instead.
 */
let elkLoading = null
const loadScript = (src) =>
  new Promise((resolve, reject) => {
    const script = document.createElement("script")
    script.src = src
    script.onload = () => resolve()
    script.onerror = () => reject(new Error(`could not load ${src}`))
    document.head.append(script)
  })
export const preloadElk = () => {
  if (elkLoading === null) {
    elkLoading = loadScript("vendor/elk-api.js").then(() => {
      try {
        return new ELK({ workerUrl: "vendor/elk-worker.min.js" })
      } catch (e) {
        console.warn("ELK worker unavailable; laying out on the page", e)
        return loadScript("vendor/elk.bundled.js").then(() => new ELK())
      }
    })
  }
  return elkLoading
}

export const layoutMachine = async (machine) => {
  const graph = elkGraph(machine)
  const anywhere = foldTransitions(machine).anywhere
  try {
    const elk = await preloadElk()
    return { ...(await elk.layout(graph)), anywhere }
  } catch (e) {
    console.warn("ELK layout failed; drawing a grid", e)
    return { ...gridLayout(graph), anywhere }
  }
}

const multiline = (x, y, text, attrs = {}) => {
  const t = el("text", { x, y, ...attrs })
  text.split("\n").forEach((line, i) => t.append(el("tspan", { x, dy: i === 0 ? 0 : 12 }, line)))
  return t
}

/**
 * Renders the laid-out machine into `container` (which the page sizes); returns
 * `{ highlight(value), fit(), zoom(factor), view() }`.
 */
export const renderDiagram = (container, layout, machineId) => {
  const width = Math.ceil((layout.width ?? 400) + 20)
  const height = Math.ceil((layout.height ?? 200) + 20)
  const svg = el("svg", { width: "100%", height: "100%", viewBox: `-10 -10 ${width} ${height}`, "data-testid": "machine-diagram", "data-machine": machineId, role: "img", "aria-label": `${machineId} state machine` })
  const defs = el("defs")
  const marker = el("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" })
  marker.append(el("path", { d: "M 0 0 L 10 5 L 0 10 z", class: "arrow" }))
  defs.append(marker)
  svg.append(defs)
  const scene = el("g", { class: "scene" })
  svg.append(scene)

  const origin = new Map([["root", { x: 0, y: 0 }]])
  const boxes = new Map()
  // Compound states go below the edges (their fill would hide the edges inside them), leaves above.
  const containers = el("g", { class: "containers" })
  const nodes = el("g", { class: "states" })
  const byId = new Map()
  const drawNode = (n, ox, oy) => {
    const x = ox + (n.x ?? 0)
    const y = oy + (n.y ?? 0)
    origin.set(n.id, { x, y })
    boxes.set(n.id, { x, y, width: n.width, height: n.height })
    const compound = Array.isArray(n.children) && n.children.length > 0
    const g = el("g", { class: compound ? "state compound" : "state", "data-state": n.id, "data-testid": `state-${n.id}`, "data-current": "false" })
    g.append(el("rect", { x, y, width: n.width, height: n.height, rx: compound ? 8 : 14 }))
    const label = n.labels?.[0]?.text ?? n.id
    if (compound) {
      g.append(el("text", { x: x + 10, y: y + 17, class: "name" }, label))
      if (n.kept) g.append(el("text", { x: x + 10, y: y + 31, class: "kept" }, n.kept))
    } else if (n.kept) {
      g.append(el("text", { x: x + n.width / 2, y: y + 17, "text-anchor": "middle", class: "name" }, label))
      g.append(el("text", { x: x + n.width / 2, y: y + 33, "text-anchor": "middle", class: "kept" }, n.kept))
    } else {
      g.append(el("text", { x: x + n.width / 2, y: y + n.height / 2 + 4, "text-anchor": "middle", class: "name" }, label))
    }
    if (n.kept) g.dataset.kept = n.kept
    ;(compound ? containers : nodes).append(g)
    byId.set(n.id, g)
    if (compound) for (const c of n.children) drawNode(c, x, y)
  }
  for (const n of layout.children ?? []) drawNode(n, 0, 0)

  const edges = el("g", { class: "edges" })
  for (const e of layout.edges ?? []) {
    const off = origin.get(e.container ?? "root") ?? { x: 0, y: 0 }
    const g = el("g", { class: "edge", "data-events": (e.events ?? []).join(" "), "data-source": e.sources[0], "data-target": e.targets[0] })
    for (const s of e.sections ?? []) {
      const pts = [s.startPoint, ...(s.bendPoints ?? []), s.endPoint].map((p) => `${p.x + off.x},${p.y + off.y}`)
      g.append(el("path", { d: `M ${pts.join(" L ")}`, "marker-end": "url(#arrow)" }))
    }
    for (const l of e.labels ?? []) {
      if (l.x === undefined) continue
      g.append(el("rect", { x: l.x + off.x - 2, y: l.y + off.y - 1, width: l.width, height: l.height, class: "label-bg" }))
      g.append(multiline(l.x + off.x, l.y + off.y + 10, l.text))
    }
    edges.append(g)
  }
  scene.append(containers, edges, nodes)
  container.replaceChildren(svg)

  // ---- view: fit, zoom, pan ----
  const full = { x: -10, y: -10, w: width, h: height }
  let view = { ...full }
  const apply = () => svg.setAttribute("viewBox", `${view.x} ${view.y} ${view.w} ${view.h}`)
  const fit = () => {
    view = { ...full }
    apply()
  }
  /**
   * The first view: the whole machine when it fits at a readable size (12 px text at 1:1 or
   * larger), else 1:1 (the highlight then pans into view); "fit" shows the whole.
   */
  const initial = () => {
    const r = container.getBoundingClientRect()
    if (r.width === 0 || r.height === 0 || (full.w <= r.width * 1.25 && full.h <= r.height * 1.25)) return fit()
    const k = Math.max(full.w / r.width, full.h / r.height)
    const scale = Math.min(k, 1.15)
    view = { x: full.x, y: full.y, w: r.width * scale, h: r.height * scale }
    apply()
  }
  const zoom = (factor, cx = view.x + view.w / 2, cy = view.y + view.h / 2) => {
    const w = Math.min(full.w * 4, Math.max(60, view.w * factor))
    const h = (view.h * w) / view.w
    view = { x: cx - ((cx - view.x) * w) / view.w, y: cy - ((cy - view.y) * h) / view.h, w, h }
    apply()
  }
  /** Diagram units per screen pixel (the viewBox is letterboxed: the larger ratio wins). */
  const unitsPerPx = () => {
    const r = svg.getBoundingClientRect()
    return r.width > 0 && r.height > 0 ? Math.max(view.w / r.width, view.h / r.height) : 1
  }
  svg.addEventListener(
    "wheel",
    (ev) => {
      ev.preventDefault()
      const r = svg.getBoundingClientRect()
      const k = unitsPerPx()
      const cx = view.x + view.w / 2 + (ev.clientX - r.left - r.width / 2) * k
      const cy = view.y + view.h / 2 + (ev.clientY - r.top - r.height / 2) * k
      zoom(ev.deltaY > 0 ? 1.15 : 1 / 1.15, cx, cy)
    },
    { passive: false }
  )
  let drag = null
  svg.addEventListener("pointerdown", (ev) => {
    drag = { x: ev.clientX, y: ev.clientY, view: { ...view }, k: unitsPerPx() }
    svg.setPointerCapture(ev.pointerId)
    svg.classList.add("panning")
  })
  svg.addEventListener("pointermove", (ev) => {
    if (!drag) return
    view = { ...drag.view, x: drag.view.x - (ev.clientX - drag.x) * drag.k, y: drag.view.y - (ev.clientY - drag.y) * drag.k }
    apply()
  })
  const endDrag = () => {
    drag = null
    svg.classList.remove("panning")
  }
  svg.addEventListener("pointerup", endDrag)
  svg.addEventListener("pointercancel", endDrag)

  /** Pans (never zooms) so the box of `id` is inside the view. */
  const reveal = (id) => {
    const b = boxes.get(id)
    if (!b) return
    const inside = b.x >= view.x && b.y >= view.y && b.x + b.width <= view.x + view.w && b.y + b.height <= view.y + view.h
    if (inside) return
    view = { ...view, x: b.x + b.width / 2 - view.w / 2, y: b.y + b.height / 2 - view.h / 2 }
    apply()
  }

  initial()
  return {
    fit,
    zoom,
    view: () => ({ ...view }),
    highlight: (value) => {
      const { leaves, parents } = activeStates(value, machineId)
      for (const [id, g] of byId) {
        g.setAttribute("data-current", leaves.includes(id) ? "true" : "false")
        g.classList.toggle("active-parent", parents.includes(id))
      }
      svg.setAttribute("data-highlight", leaves.join(" "))
      if (leaves[0] !== undefined) reveal(leaves[0])
    }
  }
}
