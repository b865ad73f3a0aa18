/* global document, window, location, history, sessionStorage, fetch, WebSocket, setTimeout, setInterval */
// The inspector page: the supervision tree on the left (polled), the selected actor's machine
// drawn with its current state highlighted (live from the WebSocket stream), its recent events,
// and a slider that travels back through its recorded transitions.
// The token comes from the URL fragment (`#token=...`, which the daemon prints and which never
// reaches a server log), or from the form; it is kept in sessionStorage for this tab only.
import { layoutMachine, renderDiagram } from "./diagram.js"

const $ = (id) => document.getElementById(id)
const TREE_POLL_MS = 2000
const MAX_EVENTS = 500

const state = {
  token: null,
  selected: null, // { id, machine, transitions: [{ts, event, from, to}], initial, live }
  diagram: null,
  machines: new Map(), // name -> Promise<{ machine, layout }>
  at: null // slider position; null = live
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
  const form = $("token-form")
  form.hidden = false
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

// ---- tree -----------------------------------------------------------------------------------

const renderTree = (root) => {
  const build = (node) => {
    const li = document.createElement("li")
    const button = document.createElement("button")
    button.type = "button"
    button.className = "actor" + (state.selected?.id === node.id ? " selected" : "")
    button.dataset.testid = `actor-${node.id}`
    button.dataset.actorId = node.id
    button.dataset.kind = node.machine ?? node.kind
    button.dataset.state = node.state
    const name = document.createElement("span")
    name.textContent = node.id
    const meta = document.createElement("span")
    meta.className = `meta state-${node.state}`
    const machineState = stateText(node.machineState)
    meta.textContent = [node.machine ?? node.kind, machineState || node.state, node.restarts > 0 ? `↻${node.restarts}` : ""].filter(Boolean).join(" · ")
    button.append(name, meta)
    button.addEventListener("click", () => void selectActor(node.id))
    li.append(button)
    if (node.children.length > 0) {
      const ul = document.createElement("ul")
      ul.append(...node.children.map(build))
      li.append(ul)
    }
    return li
  }
  $("tree").replaceChildren(build(root))
}

// Every cause that holds an account back (the state is the most restrictive), and the position
// mismatches behind a "reconciliation" cause: ours, the venue's and the venue fills seen.
const renderCauses = (status) => {
  const items = []
  for (const [account, causes] of Object.entries(status.causes ?? {})) {
    for (const c of causes) {
      const li = document.createElement("li")
      li.dataset.cause = c.cause
      li.textContent = `${account}: ${c.cause} → ${c.level} · ${c.who} · since ${new Date(c.since).toISOString()} · ${c.why}`
      items.push(li)
    }
  }
  for (const [account, list] of Object.entries(status.positionMismatches ?? {})) {
    for (const m of list) {
      const li = document.createElement("li")
      li.dataset.mismatch = m.instrument
      const fills = m.fills.map((f) => `${f.fillId} ${f.side} ${f.qty}@${f.price} (${f.status})`).join(", ")
      li.textContent = `${account}: ${m.instrument} ours ${m.ours}, venue ${m.venue} (difference ${m.difference})${fills ? ` · fills: ${fills}` : " · no venue fill explains it"} · troupe reconcile accept`
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
    $("node-status").textContent = `node ${status.node} · ${Object.entries(status.trading).map(([a, s]) => `${a} ${s}`).join(", ")}`
    renderCauses(status)
    renderTree(tree)
  } catch (e) {
    if (e instanceof Unauthorized) return askToken(e.message)
    $("node-status").textContent = `daemon unreachable: ${e.message}`
  }
}

// ---- selected actor ------------------------------------------------------------------------

const machineLayout = (name) => {
  if (!state.machines.has(name)) {
    state.machines.set(
      name,
      api(`/api/machines/${encodeURIComponent(name)}?format=json`).then(async (machine) => ({ machine, layout: await layoutMachine(machine) }))
    )
  }
  return state.machines.get(name)
}

/** The state value at slider position `i`: 0 = before the first recorded transition. */
const valueAt = (sel, i) => (i === 0 ? (sel.transitions[0]?.from ?? sel.live) : sel.transitions[i - 1].to)

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
  const items = $("events").children
  for (let k = 0; k < items.length; k++) items[k].classList.toggle("at", state.at !== null && k === i - 1)
}

const eventItem = (t) => {
  const li = document.createElement("li")
  const { type, ...payload } = t.event ?? {}
  const time = document.createElement("time")
  time.textContent = new Date(t.ts).toISOString().slice(11, 23) + " "
  const name = document.createElement("span")
  name.className = "type"
  name.textContent = type ?? "?"
  const arrow = document.createTextNode(` → ${stateText(t.to)} `)
  const body = document.createElement("span")
  body.className = "payload"
  body.textContent = Object.keys(payload).length > 0 ? JSON.stringify(payload) : ""
  li.append(time, name, arrow, body)
  li.dataset.event = type ?? ""
  return li
}

const selectActor = async (id) => {
  try {
    const detail = await api(`/api/actors/${encodeURIComponent(id)}`)
    state.selected = { id, machine: detail.machine, transitions: [...detail.transitions], live: detail.machineState }
    state.at = null
    for (const b of document.querySelectorAll(".actor")) b.classList.toggle("selected", b.dataset.actorId === id)
    $("detail-title").textContent = id
    $("detail-meta").textContent = `${detail.kind} · ${detail.state}${detail.machine ? ` · machine ${detail.machine}` : ""} · context ${JSON.stringify(detail.context)}`
    $("events").replaceChildren(...state.selected.transitions.map(eventItem))
    state.diagram = null
    $("diagram").replaceChildren()
    $("timeline").hidden = !detail.machine
    if (detail.machine) {
      const { machine, layout } = await machineLayout(detail.machine)
      if (state.selected?.id !== id) return
      state.diagram = renderDiagram($("diagram"), layout, machine.id)
    }
    renderMoment()
  } catch (e) {
    if (e instanceof Unauthorized) return askToken(e.message)
    $("detail-meta").innerHTML = ""
    const p = document.createElement("p")
    p.className = "error"
    p.textContent = e.message
    $("detail-meta").append(p)
  }
}

$("time-slider").addEventListener("input", (ev) => {
  const sel = state.selected
  if (!sel) return
  const i = Number(ev.target.value)
  state.at = i >= sel.transitions.length ? null : i
  renderMoment()
})

// ---- live stream -------------------------------------------------------------------------------

const onStreamMessage = (msg) => {
  if (msg.type !== "inspection" || msg.inspection !== "transition") return
  const sel = state.selected
  if (!sel || msg.actorId !== sel.id) return
  const record = { ts: msg.ts, event: msg.event, from: sel.live, to: msg.state }
  sel.transitions.push(record)
  if (sel.transitions.length > MAX_EVENTS) {
    sel.transitions.shift()
    $("events").firstElementChild?.remove()
    if (state.at !== null) state.at = Math.max(0, state.at - 1)
  }
  sel.live = msg.state
  $("events").append(eventItem(record))
  renderMoment()
}

let reconnectDelay = 500
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
      return
    }
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
  void refresh()
  setInterval(() => void refresh(), TREE_POLL_MS)
}

state.token = takeToken()
if (state.token) start()
else askToken("no token: paste the control API token")
window.troupeInspector = state
