/* global CSS, document, window, location, history, sessionStorage, fetch, WebSocket, setTimeout, setInterval, clearInterval, requestAnimationFrame, performance, URLSearchParams */
// The inspector page. Left: the supervision tree with the LIVE orders (kept in place: a keyed
// DOM updated from the WebSocket stream, reconciled with `/api/actors` every few seconds, never
// rebuilt), and the finished orders behind a paged search (`/api/orders/search`). Right: the
// selected actor's machine (one edge per pair of states, zoom and pan) with its current state
// highlighted, the time-travel slider over its recorded transitions, its events, its context
// (pretty-printed, folded), and for a strategy its page (params, positions, open orders, PnL).
// The token comes from the URL fragment (`#token=...`, which the daemon prints and which never
// reaches a server log), or from the form; it is kept in sessionStorage for this tab only.
import { layoutMachine, preloadElk, renderDiagram } from "./diagram.js"

const $ = (id) => document.getElementById(id)
/** The tree is reconciled with the API this often; between polls the stream updates it. */
const TREE_POLL_MS = 5000
const MAX_EVENTS = 500
const PAGE = 100
const STRATEGY_POLL_MS = 2000
const MAX_PNL_SAMPLES = 900
const FINAL = new Set(["filled", "canceled", "rejected", "expired", "denied"])

const state = {
  token: null,
  selected: null, // { id, machine, transitions: [{ts, event, from, to}], live }
  diagram: null,
  machines: new Map(), // name -> Promise<{ machine, layout }>
  at: null, // slider position; null = live
  nodes: new Map(), // actor id -> tree entry
  search: { params: null, next: null },
  stats: { streamMessages: 0, flushes: 0, lastFlushMs: 0, treeSyncs: 0 },
  pnl: new Map() // strategy id -> [{ts, net}]
}

// ---- token ----------------------------------------------------------------------------------

const takeToken = () => {
  const m = /(?:^#|&)token=([^&]+)/.exec(location.hash)
  if (m) {
    sessionStorage.setItem("troupe-token", decodeURIComponent(m[1]))
    history.replaceState(null, "", location.pathname + location.search)
  }
  return sessionStorage.getItem("troupe-token")
}

const askToken = (why) => {
  $("token-form").hidden = false
  if (why) $("node-status").textContent = why
}

$("token-form").addEventListener("submit", (ev) => {
  ev.preventDefault()
  const value = $("token-input").value.trim()
  if (!value) return
  sessionStorage.setItem("troupe-token", value)
  state.token = value
  $("token-form").hidden = true
  start()
})

// ---- API ------------------------------------------------------------------------------------

class Unauthorized extends Error {}

const api = async (path) => {
  const res = await fetch(path, { headers: { authorization: `Bearer ${state.token}` } })
  if (res.status === 401) throw new Unauthorized("the daemon refused the token")
  const body = await res.json()
  if (!res.ok) throw new Error(body?.error?.message ?? `${path}: HTTP ${res.status}`)
  return body
}

const stateText = (v) =>
  v === null || v === undefined ? "" : typeof v === "string" ? v : Object.entries(v).map(([k, inner]) => (stateText(inner) ? `${k}.${stateText(inner)}` : k)).join(",")

const leafOf = (text) => text.slice(text.lastIndexOf(".") + 1)

const h = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v
    else if (k.startsWith("data-")) node.setAttribute(k, v)
    else node[k] = v
  }
  for (const c of children) if (c !== null && c !== undefined) node.append(c)
  return node
}

// ---- tree (keyed, incremental) ----------------------------------------------------------------

const metaText = (d) => {
  const machineState = stateText(d.machineState)
  if (d.machine === "order") return machineState || d.state
  return [d.machine ?? d.kind, machineState || d.state, d.restarts > 0 ? `↻${d.restarts}` : ""].filter(Boolean).join(" · ")
}

/** The tree row of an actor, made once and updated in place. */
const entryFor = (d) => {
  let e = state.nodes.get(d.id)
  if (!e) {
    const button = h("button", { type: "button", class: "actor" })
    button.dataset.testid = `actor-${d.id}`
    button.dataset.actorId = d.id
    // Order and instrument rows drop their prefix: they are all under "orders" / "instruments".
    const name = h("span", { class: "name", title: d.id }, d.id.replace(/^(order|instrument):/, ""))
    const meta = h("span", { class: "meta" })
    button.append(name, meta)
    const li = h("li", {}, button)
    e = { id: d.id, li, button, meta, ul: null, key: "", data: d }
    state.nodes.set(d.id, e)
    if (state.selected?.id === d.id) button.classList.add("selected")
  }
  e.data = d
  const text = metaText(d)
  const key = `${d.machine ?? d.kind}|${d.state}|${text}`
  if (key !== e.key) {
    e.key = key
    e.button.dataset.kind = d.machine ?? d.kind
    e.button.dataset.state = d.state
    e.meta.textContent = text
    e.meta.className = `meta state-${d.state}`
    e.li.classList.toggle("finished", d.machine === "order" && FINAL.has(leafOf(stateText(d.machineState))))
  }
  return e
}

const forget = (li) => {
  for (const b of li.querySelectorAll("button.actor")) state.nodes.delete(b.dataset.actorId)
  li.remove()
}

/** Puts `children` under `ul` in this order, moving only rows out of place and dropping the rest. */
const syncChildren = (ul, children) => {
  let i = 0
  for (const c of children) {
    const e = syncNode(c)
    const at = ul.children[i]
    if (at !== e.li) ul.insertBefore(e.li, at ?? null)
    i++
  }
  while (ul.children.length > i) forget(ul.lastElementChild)
}

const syncNode = (d) => {
  const e = entryFor(d)
  if (d.children.length > 0) {
    if (!e.ul) {
      e.ul = h("ul")
      e.li.append(e.ul)
    }
    syncChildren(e.ul, d.children)
  } else if (e.ul) {
    syncChildren(e.ul, [])
  }
  return e
}

const syncTree = (root) => {
  const t0 = performance.now()
  syncChildren($("tree"), [root])
  state.stats.treeSyncs++
  state.stats.lastTreeSyncMs = performance.now() - t0
  // Milliseconds from navigation start to the first tree on screen (the scale test reads it).
  state.stats.firstTreeAt ??= performance.now()
  $("tree-count").textContent = `(${state.nodes.size})`
  applyTreeFilter()
}

const applyTreeFilter = () => {
  const q = $("tree-filter").value.trim().toLowerCase()
  const tree = $("tree")
  tree.classList.toggle("filtering", q !== "")
  if (q === "") return
  for (const e of state.nodes.values()) {
    const hit = e.id.toLowerCase().includes(q) || e.meta.textContent.toLowerCase().includes(q)
    e.li.classList.toggle("hit", hit)
  }
  // A parent of a hit stays visible.
  for (const li of tree.querySelectorAll("li.hit")) for (let p = li.parentElement?.closest("li"); p; p = p.parentElement?.closest("li")) p.classList.add("hit")
}
$("tree-filter").addEventListener("input", () => {
  for (const e of state.nodes.values()) e.li.classList.remove("hit")
  applyTreeFilter()
})

$("tree").addEventListener("click", (ev) => {
  const b = ev.target.closest("button.actor")
  if (b) void selectActor(b.dataset.actorId)
})

// Every cause that holds an account back (the state is the most restrictive), and the position
// mismatches behind a "reconciliation" cause: ours, the venue's and the venue fills seen.
const renderCauses = (status) => {
  const items = []
  for (const [account, causes] of Object.entries(status.causes ?? {})) {
    for (const c of causes) {
      const li = h("li", {}, `${account}: ${c.cause} → ${c.level} · ${c.who} · since ${new Date(c.since).toISOString()} · ${c.why}`)
      li.dataset.cause = c.cause
      items.push(li)
    }
  }
  for (const [account, list] of Object.entries(status.positionMismatches ?? {})) {
    for (const m of list) {
      const fills = m.fills.map((f) => `${f.fillId} ${f.side} ${f.qty}@${f.price} (${f.status})`).join(", ")
      const li = h("li", {}, `${account}: ${m.instrument} ours ${m.ours}, venue ${m.venue} (difference ${m.difference})${fills ? ` · fills: ${fills}` : " · no venue fill explains it"} · troupe reconcile accept`)
      li.dataset.mismatch = m.instrument
      items.push(li)
    }
  }
  const ul = $("trading-causes")
  ul.replaceChildren(...items)
  ul.hidden = items.length === 0
}

const refresh = async () => {
  try {
    const [status, tree] = await Promise.all([api("/api/status"), api("/api/actors")])
    const text = `node ${status.node} · ${Object.entries(status.trading).map(([a, s]) => `${a} ${s}`).join(", ")}`
    if ($("node-status").textContent !== text) $("node-status").textContent = text
    renderCauses(status)
    syncTree(tree)
  } catch (e) {
    if (e instanceof Unauthorized) return askToken(e.message)
    $("node-status").textContent = `daemon unreachable: ${e.message}`
  }
}

// ---- finished orders: paged search --------------------------------------------------------------

const searchParams = () => {
  const form = new window.FormData($("order-search"))
  const p = new URLSearchParams({ open: "false", limit: String(PAGE) })
  for (const k of ["id", "instrument", "strategy", "state"]) {
    const v = String(form.get(k) ?? "").trim()
    if (v) p.set(k, v)
  }
  for (const k of ["from", "to"]) {
    const v = String(form.get(k) ?? "")
    if (v) p.set(k, String(new Date(v).getTime()))
  }
  return p
}

const orderRow = (o) => {
  const b = h(
    "button",
    { type: "button", class: "actor" },
    h("span", { class: "name" }, o.clientOrderId),
    h("span", { class: "meta" }, `${o.instrument} · ${o.strategy ?? "-"} · ${leafOf(o.state)} · ${new Date(o.updatedAt).toISOString().slice(11, 19)}`)
  )
  b.dataset.testid = `finished-order:${o.clientOrderId}`
  b.dataset.actorId = `order:${o.clientOrderId}`
  b.addEventListener("click", () => void selectActor(`order:${o.clientOrderId}`))
  return h("li", {}, b)
}

const search = async (more) => {
  const t0 = performance.now()
  if (!more) state.search = { params: searchParams(), next: null }
  const p = new URLSearchParams(state.search.params)
  if (more && state.search.next) p.set("cursor", state.search.next)
  try {
    const page = await api(`/api/orders/search?${p}`)
    const rows = page.items.map(orderRow)
    if (more) $("finished").append(...rows)
    else $("finished").replaceChildren(...rows)
    state.search.next = page.next ?? null
    $("finished-more").hidden = !page.next
    $("finished-total").textContent = `(${page.total})`
    $("finished-total").dataset.total = String(page.total)
    state.stats.lastSearchMs = performance.now() - t0
    state.stats.firstSearchAt ??= performance.now()
  } catch (e) {
    if (e instanceof Unauthorized) return askToken(e.message)
    $("finished").replaceChildren(h("li", { class: "error" }, e.message))
  }
}
/** Suggestions for the instrument and strategy fields, fetched when one is first focused. */
const loadFacets = async () => {
  if (state.facetsLoaded) return
  state.facetsLoaded = true
  try {
    const page = await api("/api/orders/search?limit=1&facets=1")
    $("instrument-options").replaceChildren(...page.facets.instruments.map((v) => h("option", { value: v })))
    $("strategy-options").replaceChildren(...page.facets.strategies.map((v) => h("option", { value: v })))
  } catch {
    state.facetsLoaded = false
  }
}
for (const name of ["instrument", "strategy"]) $("order-search").elements[name].addEventListener("focus", () => void loadFacets(), { once: true })

$("order-search").addEventListener("submit", (ev) => {
  ev.preventDefault()
  void search(false)
})
$("finished-more").addEventListener("click", () => void search(true))

// ---- selected actor ------------------------------------------------------------------------

const machineLayout = (name) => {
  if (!state.machines.has(name)) {
    state.machines.set(
      name,
      api(`/api/machines/${encodeURIComponent(name)}?format=json`)
        .then(async (machine) => ({ machine, layout: await layoutMachine(machine) }))
        .catch((e) => {
          state.machines.delete(name)
          throw e
        })
    )
  }
  return state.machines.get(name)
}

/** The state value at slider position `i`: 0 = before the first recorded transition. */
const valueAt = (sel, i) => (i === 0 ? (sel.transitions[0]?.from ?? sel.live) : sel.transitions[i - 1].to)

let markedAt = null
const renderMoment = () => {
  const sel = state.selected
  if (!sel) return
  const n = sel.transitions.length
  const slider = $("time-slider")
  slider.max = String(n)
  const i = state.at ?? n
  slider.value = String(i)
  const value = state.at === null ? sel.live : valueAt(sel, i)
  $("time-label").textContent =
    state.at === null ? `live · ${stateText(value)}` : `${i}/${n} · ${stateText(value)}${i > 0 ? ` · ${new Date(sel.transitions[i - 1].ts).toISOString()}` : ""}`
  state.diagram?.highlight(value)
  markedAt?.classList.remove("at")
  markedAt = state.at !== null && i > 0 ? $("events").children[i - 1] : null
  markedAt?.classList.add("at")
}

const eventItem = (t, n) => {
  const { type, journal, ...payload } = t.event ?? {}
  const li = h(
    "li",
    {},
    h("span", { class: "n" }, String(n)),
    h("time", {}, new Date(t.ts).toISOString().slice(11, 23) + " "),
    h("span", { class: "type", title: journal ? `journal: ${journal}` : "" }, type ?? "?"),
    document.createTextNode(` → ${stateText(t.to)} `),
    h("span", { class: "payload" }, Object.keys(payload).length > 0 ? JSON.stringify(payload) : "")
  )
  li.dataset.event = type ?? ""
  if (journal) li.dataset.journal = journal
  return li
}

/** A JSON value as a folded tree: objects and arrays are <details>, the first level open. */
const jsonTree = (value, name, depth = 0) => {
  if (value === null || typeof value !== "object") {
    const v = h("span", { class: `v ${value === null ? "null" : typeof value}` }, JSON.stringify(value) ?? "undefined")
    return h("div", { class: "kv" }, name === undefined ? "" : h("span", { class: "k" }, `${name}: `), v)
  }
  const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v]) : Object.entries(value)
  const d = h("details", { open: depth === 0 })
  d.append(h("summary", {}, `${name ?? "context"} ${Array.isArray(value) ? `[${entries.length}]` : `{${entries.length}}`}`))
  // Children are made when first opened: a big context costs nothing folded.
  const fill = () => {
    if (d.dataset.filled) return
    d.dataset.filled = "1"
    for (const [k, v] of entries) d.append(jsonTree(v, k, depth + 1))
  }
  if (depth === 0) fill()
  else d.addEventListener("toggle", fill, { once: true })
  return d
}

const selectActor = async (id) => {
  try {
    const t0 = performance.now()
    const detail = await api(`/api/actors/${encodeURIComponent(id)}`)
    state.selected = { id, machine: detail.machine, kind: detail.kind, transitions: [...detail.transitions], live: detail.machineState }
    state.at = null
    markedAt = null
    for (const b of document.querySelectorAll("button.actor.selected")) b.classList.remove("selected")
    for (const b of document.querySelectorAll(`button.actor[data-actor-id="${CSS.escape(id)}"]`)) b.classList.add("selected")
    $("detail-title").textContent = id
    $("detail-meta").textContent = `${detail.kind} · ${detail.state}${detail.machine ? ` · machine ${detail.machine}` : ""}`
    $("context").replaceChildren(jsonTree(detail.context))
    $("events-title").hidden = false
    $("events").replaceChildren(...state.selected.transitions.map((t, k) => eventItem(t, k + 1)))
    state.diagram = null
    $("diagram").replaceChildren()
    $("timeline").hidden = !detail.machine
    $("diagram-box").hidden = !detail.machine
    $("diagram-anywhere").hidden = true
    showStrategyPage(detail.machine === "strategy" ? id.replace(/^strategy:/, "") : null)
    if (detail.machine) {
      const { machine, layout } = await machineLayout(detail.machine)
      if (state.selected?.id !== id) return
      state.diagram = renderDiagram($("diagram"), layout, machine.id)
      if (layout.anywhere?.length > 0) {
        $("diagram-anywhere").textContent = `In every state: ${layout.anywhere.join(", ")}`
        $("diagram-anywhere").hidden = false
      }
    }
    renderMoment()
    state.stats.lastSelectMs = performance.now() - t0
  } catch (e) {
    if (e instanceof Unauthorized) return askToken(e.message)
    $("detail-meta").replaceChildren(h("p", { class: "error" }, e.message))
  }
}

$("time-slider").addEventListener("input", (ev) => {
  const sel = state.selected
  if (!sel) return
  const i = Number(ev.target.value)
  state.at = i >= sel.transitions.length ? null : i
  renderMoment()
})
$("zoom-in").addEventListener("click", () => state.diagram?.zoom(1 / 1.25))
$("zoom-out").addEventListener("click", () => state.diagram?.zoom(1.25))
$("zoom-fit").addEventListener("click", () => state.diagram?.fit())

// ---- strategy page -----------------------------------------------------------------------------

let strategyTimer = null
const table = (headers, rows) =>
  h("table", {}, h("thead", {}, h("tr", {}, ...headers.map((x) => h("th", {}, x)))), h("tbody", {}, ...rows.map((r) => h("tr", {}, ...r.map((c) => h("td", {}, c ?? "-"))))))

/** PnL over time as a small SVG line (the daemon's samples, `pnlHistory`). */
const sparkline = (samples) => {
  const NS = "http://www.w3.org/2000/svg"
  const svg = document.createElementNS(NS, "svg")
  svg.setAttribute("viewBox", "0 0 600 120")
  svg.setAttribute("class", "sparkline")
  svg.dataset.testid = "strategy-pnl-chart"
  svg.dataset.points = String(samples.length)
  if (samples.length < 2) return svg
  const ys = samples.map((s) => s.net)
  const lo = Math.min(0, ...ys)
  const hi = Math.max(0, ...ys)
  const span = hi - lo || 1
  const t0 = samples[0].ts
  const t1 = samples[samples.length - 1].ts
  const x = (t) => 40 + ((t - t0) / (t1 - t0 || 1)) * 550
  const y = (v) => 10 + ((hi - v) / span) * 95
  const line = (attrs) => {
    const el = document.createElementNS(NS, attrs.tag)
    for (const [k, v] of Object.entries(attrs)) if (k !== "tag") el.setAttribute(k, String(v))
    return el
  }
  svg.append(line({ tag: "line", x1: 40, x2: 590, y1: y(0), y2: y(0), stroke: "#999" }))
  svg.append(line({ tag: "path", d: samples.map((s, i) => `${i ? "L" : "M"}${x(s.ts).toFixed(1)},${y(s.net).toFixed(1)}`).join(""), fill: "none", stroke: "#0b6bcb", "stroke-width": 1.5 }))
  const label = (text, yy) => {
    const t = line({ tag: "text", x: 36, y: yy, "text-anchor": "end", "font-size": 10 })
    t.textContent = text
    return t
  }
  svg.append(label(hi.toPrecision(4), 14), label(lo.toPrecision(4), 108))
  return svg
}

const renderStrategyPage = async (id) => {
  try {
    const page = await api(`/api/strategies/${encodeURIComponent(id)}/page`)
    if (state.selected === null || state.selected.id.replace(/^strategy:/, "") !== id) return
    // The daemon's own history (sampled whether or not a page was open), then this answer's point.
    // Numbers for drawing only; the table keeps the decimals.
    const point = (p, ts) => ({ ts, net: Number(p.realizedNet) + Number(p.unrealized) })
    const samples = [...(page.pnlHistory ?? []).map((p) => point(p, p.ts)), point(page.pnl, Date.now())].slice(-MAX_PNL_SAMPLES)
    state.pnl.set(id, samples)
    const s = page.strategy
    $("strategy-page").replaceChildren(
      h("h3", {}, `Strategy ${s.id} (${s.kind}) · ${s.state}${s.restarts ? ` · ↻${s.restarts}` : ""}`),
      h("h4", {}, "Parameters"),
      h("pre", { class: "params", "data-testid": "strategy-params" }, JSON.stringify(s.params, null, 2)),
      h("h4", {}, `Positions (account, on ${s.instruments.join(", ") || "no instrument"})`),
      table(
        ["instrument", "qty", "avg entry", "mark", "unrealized", "realized (net of fees)", "fees"],
        page.positions.map((p) => [p.instrument, p.qty, p.avgEntry, p.markPrice, p.unrealizedPnl, p.realizedPnl, p.fees])
      ),
      h("h4", {}, `Open orders (${page.openOrders.length}; ${page.finishedOrders} finished held)`),
      table(
        ["order", "instrument", "side", "type", "price", "qty", "filled", "state"],
        page.openOrders.slice(0, 100).map((o) => [o.clientOrderId, o.instrument, o.side, o.type, o.price, o.qty, o.filledQty, o.state])
      ),
      h("h4", {}, `PnL over time (realized net + unrealized: ${page.pnl.realizedNet} + ${page.pnl.unrealized}; sampled by the daemon, ${samples.length} points since ${new Date(samples[0].ts).toLocaleTimeString()})`),
      sparkline(samples)
    )
  } catch (e) {
    if (e instanceof Unauthorized) return askToken(e.message)
    $("strategy-page").replaceChildren(h("p", { class: "error" }, e.message))
  }
}

const showStrategyPage = (id) => {
  if (strategyTimer !== null) clearInterval(strategyTimer)
  strategyTimer = null
  $("strategy-page").hidden = id === null
  if (id === null) return $("strategy-page").replaceChildren()
  void renderStrategyPage(id)
  strategyTimer = setInterval(() => void renderStrategyPage(id), STRATEGY_POLL_MS)
}

// ---- live stream: queued, applied once per frame ----------------------------------------------

let queue = []
let scheduled = false

const applyTransition = (msg) => {
  const e = state.nodes.get(msg.actorId)
  if (e) entryFor({ ...e.data, machineState: msg.state })
  else if (msg.kind === "order" && !FINAL.has(leafOf(stateText(msg.state)))) {
    // A new live order: appended at the end of the orders node (the API lists them oldest first).
    const orders = state.nodes.get("orders")
    if (orders) {
      const row = entryFor({ id: msg.actorId, kind: "worker", state: "running", restarts: 0, machine: "order", machineState: msg.state, children: [] })
      if (!orders.ul) orders.li.append((orders.ul = h("ul")))
      orders.ul.append(row.li)
    }
  }
  const sel = state.selected
  if (!sel || msg.actorId !== sel.id) return false
  const record = { ts: msg.ts, event: msg.event ?? { type: "?" }, from: sel.live, to: msg.state }
  sel.transitions.push(record)
  if (sel.transitions.length > MAX_EVENTS) {
    sel.transitions.shift()
    $("events").firstElementChild?.remove()
    if (state.at !== null) state.at = Math.max(0, state.at - 1)
    let n = 1
    for (const li of $("events").children) li.firstElementChild.textContent = String(n++)
  }
  sel.live = msg.state
  $("events").append(eventItem(record, sel.transitions.length))
  return true
}

const flush = () => {
  scheduled = false
  const t0 = performance.now()
  const batch = queue
  queue = []
  let selectedMoved = false
  for (const msg of batch) if (applyTransition(msg)) selectedMoved = true
  if (selectedMoved) renderMoment()
  state.stats.flushes++
  state.stats.lastFlushMs = performance.now() - t0
}

const onStreamMessage = (msg) => {
  if (msg.type !== "inspection" || msg.inspection !== "transition") return
  state.stats.streamMessages++
  queue.push(msg)
  if (!scheduled) {
    scheduled = true
    // rAF does not run in a background tab; the timeout keeps the queue bounded there.
    requestAnimationFrame(flush)
    setTimeout(() => scheduled && flush(), 250)
  }
}

// An alert (docs/portfolio-risk.md): the newest one in a banner under the header until dismissed.
const showAlert = (a) => {
  const banner = $("alert-banner")
  banner.textContent = `${new Date(a.ts).toISOString().slice(11, 19)} ${String(a.severity).toUpperCase()} [${a.rule}] ${a.text}`
  banner.dataset.severity = a.severity
  banner.hidden = false
  banner.onclick = () => (banner.hidden = true)
}

let reconnectDelay = 500
let connectedOnce = false
const connect = () => {
  const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/stream`)
  const conn = $("connection")
  ws.addEventListener("open", () => ws.send(JSON.stringify({ type: "auth", token: state.token })))
  ws.addEventListener("message", (ev) => {
    const msg = JSON.parse(ev.data)
    if (msg.type === "ready") {
      reconnectDelay = 500
      conn.textContent = "stream: live"
      conn.className = "up"
      conn.dataset.live = "true"
      // What happened while we were away comes from the API (the first time, start() asks).
      if (connectedOnce) void refresh()
      connectedOnce = true
      return
    }
    if (msg.type === "event" && msg.event?._tag === "AlertRaised") showAlert(msg.event)
    onStreamMessage(msg)
  })
  ws.addEventListener("close", (ev) => {
    conn.textContent = "stream: offline"
    conn.className = "down"
    conn.dataset.live = "false"
    if (ev.code === 4401) return askToken("the daemon refused the token")
    setTimeout(connect, reconnectDelay)
    reconnectDelay = Math.min(reconnectDelay * 2, 10_000)
  })
}

// ---- start -------------------------------------------------------------------------------------

let started = false
const start = () => {
  if (started) return void refresh()
  started = true
  connect()
  // The layout library and the order machine's layout load once the tree and the first page
  // of finished orders are on screen, so they are ready before the first click.
  void Promise.all([refresh(), search(false)]).then(() =>
    setTimeout(
      () =>
        void preloadElk()
          .then(() => machineLayout("order"))
          .then(() => (state.stats.orderLayoutAt = performance.now()))
          .catch(() => undefined),
      50
    )
  )
  setInterval(() => void refresh(), TREE_POLL_MS)
}

state.token = takeToken()
if (state.token) start()
else askToken("no token: paste the control API token")
window.troupeInspector = state
