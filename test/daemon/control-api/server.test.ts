import { request as httpRequest } from "node:http"
import { connect } from "node:net"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import WebSocket from "ws"
import { MAX_BODY_BYTES, startControlApi, type ControlApi } from "../../../src/daemon/control-api/server.js"
import { makeFakeControl, ORDER_ACTOR, type FakeControl } from "./fake-control.js"

const TOKEN = "s3cret-token"
let api: ControlApi
let control: FakeControl

beforeAll(async () => {
  control = makeFakeControl()
  api = await startControlApi({ port: 0, token: TOKEN, control })
})
afterAll(() => api.close())

const call = async (method: string, path: string, options: { token?: string | null; body?: string } = {}) => {
  const token = options.token === undefined ? TOKEN : options.token
  const res = await fetch(api.url + path, {
    method,
    headers: { ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...(options.body === undefined ? {} : { "content-type": "application/json" }) },
    ...(options.body === undefined ? {} : { body: options.body })
  })
  const text = await res.text()
  return { status: res.status, text, json: (res.headers.get("content-type") ?? "").startsWith("application/json") ? (JSON.parse(text) as unknown) : undefined }
}

const errorOf = (json: unknown) => (json as { error: { message: string; field?: string } }).error

describe("control API over HTTP", () => {
  it("refuses /api without a token or with a wrong one, and answers with the right one", async () => {
    const none = await call("GET", "/api/status", { token: null })
    expect(none.status).toBe(401)
    expect(errorOf(none.json).message).toMatch(/unauthorized/)
    expect((await call("GET", "/api/status", { token: "s3cret-tokeN" })).status).toBe(401)
    expect((await call("GET", "/api/status", { token: "s3cret-token-and-more" })).status).toBe(401)
    const ok = await call("GET", "/api/status")
    expect(ok.status).toBe(200)
    expect(ok.json).toMatchObject({ node: "running", trading: { default: "active" } })
    expect(api.errorCount(401)).toBeGreaterThanOrEqual(3)
  })

  it("serves /healthz always and /readyz only when the node is running", async () => {
    expect((await call("GET", "/healthz", { token: null })).status).toBe(200)
    control.node = "recovering"
    const notReady = await call("GET", "/readyz", { token: null })
    expect(notReady.status).toBe(503)
    expect(errorOf(notReady.json).message).toContain("recovering")
    control.node = "running"
    expect((await call("GET", "/readyz", { token: null })).status).toBe(200)
  })

  it("serves /metrics as Prometheus text with the API's own error counters", async () => {
    const res = await call("GET", "/metrics", { token: null })
    expect(res.status).toBe(200)
    expect(res.text).toContain("troupe_fake_up 1")
    expect(res.text).toMatch(/troupe_control_api_errors_total\{status="401"\} [1-9]/)
  })

  it("answers the read routes from the control", async () => {
    const actor = await call("GET", `/api/actors/${ORDER_ACTOR}`)
    expect(actor.json).toMatchObject({ machine: "order", machineState: { working: "accepted" } })
    expect((await call("GET", "/api/actors/nobody")).status).toBe(404)
    const open = (await call("GET", "/api/orders?open=1")).json as ReadonlyArray<{ clientOrderId: string }>
    expect(open.map((o) => o.clientOrderId)).toEqual(["c1"])
    expect(((await call("GET", "/api/orders")).json as unknown[]).length).toBe(2)
    const badOpen = await call("GET", "/api/orders?open=maybe")
    expect([badOpen.status, errorOf(badOpen.json).field]).toEqual([400, "open"])
    // The inspector's routes: finished orders behind a paged search, a page per strategy.
    const finished = (await call("GET", "/api/orders/search?open=false&limit=1")).json as { total: number; items: Array<{ clientOrderId: string }>; next?: string }
    expect([finished.total, finished.items.map((o) => o.clientOrderId), finished.next]).toEqual([1, ["c0"], undefined])
    const badLimit = await call("GET", "/api/orders/search?limit=9999")
    expect([badLimit.status, errorOf(badLimit.json).field]).toEqual([400, "limit"])
    const page = (await call("GET", "/api/strategies/mm/page")).json as { strategy: { id: string }; openOrders: Array<{ clientOrderId: string }>; pnl: { realizedNet: string } }
    expect([page.strategy.id, page.openOrders.map((o) => o.clientOrderId), page.pnl.realizedNet]).toEqual(["mm", ["c1"], "1.25"])
    expect((await call("GET", "/api/strategies/nope/page")).status).toBe(404)
    expect((await call("POST", "/api/orders/search")).status).toBe(405)
    const mermaid = await call("GET", "/api/machines/order?format=mermaid")
    expect(mermaid.text.startsWith("stateDiagram-v2")).toBe(true)
    const graph = (await call("GET", "/api/machines/order")).json as { id: string; states: Array<{ id: string; type: string }> }
    expect(graph.id).toBe("order")
    expect(graph.states.some((s) => s.type === "history")).toBe(true)
    const badFormat = await call("GET", "/api/machines/order?format=png")
    expect([badFormat.status, errorOf(badFormat.json).field]).toEqual([400, "format"])
  })

  it("passes halt with who, why and cancelAll to the control", async () => {
    const res = await call("POST", "/api/halt", { body: JSON.stringify({ who: "alice", why: "venue outage", cancelAll: true }) })
    expect(res.status).toBe(200)
    expect(res.json).toEqual({ trading: { default: "halted" }, canceled: 1 })
    expect(control.operatorCalls.at(-1)).toMatchObject({ command: "halt", who: "alice", why: "venue outage", cancelAll: true })
    expect(control.operatorCalls.at(-1)?.cause).toBeUndefined()
    await call("POST", "/api/resume", { body: JSON.stringify({ why: "venue back" }) })
    expect(control.operatorCalls.at(-1)).toMatchObject({ command: "resume", who: "api", why: "venue back" })
  })

  it("records the client an operator action came from and routes cancel-all, reconcile accept and lifting a cause", async () => {
    await call("POST", "/api/resume", { body: JSON.stringify({ who: "bob", why: "loss reviewed", cause: "dailyLoss" }) })
    const lift = control.operatorCalls.at(-1)
    expect(lift).toMatchObject({ command: "resume", who: "bob", cause: "dailyLoss" })
    // `User-Agent address`: which client asked, as the audit trail records it.
    expect(lift?.client).toMatch(/ (::ffff:)?127\.0\.0\.1$/)
    const cancel = await call("POST", "/api/cancel-all", { body: JSON.stringify({ why: "flatten" }) })
    expect([cancel.status, control.operatorCalls.at(-1)?.command]).toEqual([200, "cancel-all"])
    const accept = await call("POST", "/api/reconcile/accept", { body: JSON.stringify({ who: "carol", why: "venue is right" }) })
    expect(accept.status).toBe(200)
    expect(accept.json).toMatchObject({ adopted: [{ instrument: "kf:PF_XBTUSD", to: "-0.010" }] })
    const wrongCause = await call("POST", "/api/halt", { body: JSON.stringify({ why: "x", cause: "journal" }) })
    expect([wrongCause.status, errorOf(wrongCause.json).field]).toEqual([400, "cause"])
    const unknownCause = await call("POST", "/api/resume", { body: JSON.stringify({ why: "x", cause: "weather" }) })
    expect([unknownCause.status, errorOf(unknownCause.json).field]).toEqual([400, "cause"])
  })

  it("refuses a malformed body with 400 naming the field", async () => {
    const before = control.operatorCalls.length
    const missing = await call("POST", "/api/halt", { body: JSON.stringify({ who: "alice" }) })
    expect(missing.status).toBe(400)
    expect(errorOf(missing.json)).toMatchObject({ field: "why" })
    expect(errorOf(missing.json).message).toContain("why")
    const wrongType = await call("POST", "/api/reduce", { body: JSON.stringify({ why: "x", cancelAll: "yes" }) })
    expect(errorOf(wrongType.json).field).toBe("cancelAll")
    const unknownKey = await call("POST", "/api/halt", { body: JSON.stringify({ why: "x", cancel_all: true }) })
    expect([unknownKey.status, errorOf(unknownKey.json).field]).toEqual([400, "cancel_all"])
    const notJson = await call("POST", "/api/halt", { body: "{why:" })
    expect(notJson.status).toBe(400)
    expect(errorOf(notJson.json).message).toMatch(/not JSON/)
    const reconfigure = await call("POST", "/api/strategies/mm/reconfigure", { body: "{}" })
    expect([reconfigure.status, errorOf(reconfigure.json).field]).toEqual([400, "params"])
    expect(control.operatorCalls.length).toBe(before)
  })

  it("refuses a body over 64 KiB with 413", async () => {
    const res = await call("POST", "/api/halt", { body: JSON.stringify({ why: "x".repeat(MAX_BODY_BYTES) }) })
    expect(res.status).toBe(413)
  })

  it("answers 404 for unknown routes and 405 for a wrong method", async () => {
    expect((await call("GET", "/api/nothing")).status).toBe(404)
    expect((await call("GET", "/nothing", { token: null })).status).toBe(404)
    const wrong = await call("GET", "/api/halt")
    expect(wrong.status).toBe(405)
    expect((await call("DELETE", "/api/status")).status).toBe(405)
    expect((await call("POST", "/api/strategies/mm/explode", { body: "{}" })).status).toBe(404)
  })

  it("maps control refusals to HTTP statuses and passes strategy commands through", async () => {
    const conflict = await call("POST", "/api/strategies/mm/start", { body: "" })
    expect([conflict.status, errorOf(conflict.json).message]).toEqual([409, "strategy mm is already running"])
    const reconf = await call("POST", "/api/strategies/mm/reconfigure", { body: JSON.stringify({ params: { spread: "0.002" } }) })
    expect(reconf.status).toBe(200)
    // Who asked ("api" when the body does not say), why if given, and from which client (User-Agent and address) go to the audit trail.
    expect(control.strategyCalls.at(-1)).toEqual({ id: "mm", action: "reconfigure", params: { spread: "0.002" }, who: "api", client: expect.stringMatching(/ 127\.0\.0\.1$/) })
    const add = await call("POST", "/api/strategies", { body: JSON.stringify({ file: "/tmp/s.ts", id: "s2", who: "alice", why: "more liquidity" }) })
    expect(add.status).toBe(200)
    expect(control.strategyCalls.at(-1)).toEqual({ action: "add", file: "/tmp/s.ts", id: "s2", who: "alice", why: "more liquidity", client: expect.stringMatching(/ 127\.0\.0\.1$/) })
  })

  it("serves the inspector page without a token", async () => {
    const page = await call("GET", "/inspector/", { token: null })
    expect(page.status).toBe(200)
    expect(page.text).toContain("Troupe inspector")
    expect((await call("GET", "/inspector/vendor/elk.bundled.js", { token: null })).status).toBe(200)
    expect((await call("GET", "/inspector/..%2Fdaemon%2Fconfig.ts", { token: null })).status).toBe(404)
  })
})

describe("control API stream", () => {
  const open = (path: string, headers: Record<string, string> = {}) =>
    new Promise<{ ws: WebSocket; messages: Array<{ type: string; [k: string]: unknown }> }>((resolve, reject) => {
      const ws = new WebSocket(api.url.replace("http", "ws") + path, { headers })
      const messages: Array<{ type: string }> = []
      ws.on("message", (d) => messages.push(JSON.parse(d.toString()) as { type: string }))
      ws.once("open", () => resolve({ ws, messages }))
      ws.once("error", reject)
    })
  const until = async (check: () => boolean) => {
    for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 10))
    expect(check()).toBe(true)
  }

  it("delivers events only after the client sent the token", async () => {
    const { ws, messages } = await open("/api/stream")
    control.orderTransition({ type: "CANCEL" }, { working: "pendingCancel" })
    await new Promise((r) => setTimeout(r, 50))
    expect(messages).toEqual([])
    ws.send(JSON.stringify({ type: "auth", token: TOKEN }))
    await until(() => messages.some((m) => m.type === "ready"))
    control.orderTransition({ type: "CANCELED" }, "canceled")
    await until(() => messages.some((m) => m.type === "inspection"))
    expect(messages.find((m) => m.type === "inspection")).toMatchObject({ actorId: ORDER_ACTOR, inspection: "transition", state: "canceled", event: { type: "CANCELED" } })
    ws.close()
  })

  it("closes a client that sends a wrong token, and refuses a wrong token on the upgrade", async () => {
    const { ws } = await open("/api/stream")
    const closed = new Promise<number>((r) => ws.once("close", (code) => r(code)))
    ws.send(JSON.stringify({ type: "auth", token: "nope" }))
    expect(await closed).toBe(4401)
    await expect(open("/api/stream?token=nope")).rejects.toThrow(/401/)
    const header = await open("/api/stream", { authorization: `Bearer ${TOKEN}` })
    await until(() => header.messages.some((m) => m.type === "ready"))
    header.ws.close()
  })
})

/** A request with the Host header we choose (fetch would always send the URL's). */
const withHost = (path: string, host: string | null, token: string | null = null) =>
  new Promise<{ status: number; body: string }>((resolve, reject) => {
    const headers: Record<string, string> = token === null ? {} : { authorization: `Bearer ${token}` }
    const req = httpRequest({ host: "127.0.0.1", port: api.port, path, method: "GET", headers, setHost: false }, (res) => {
      let body = ""
      res.on("data", (c: Buffer) => (body += c.toString()))
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }))
    })
    if (host !== null) req.setHeader("host", host)
    req.on("error", reject)
    req.end()
  })

describe("control API Host check (DNS rebinding)", () => {
  it("refuses a foreign Host with 421 on every route, the open ones and the token-checked ones", async () => {
    for (const path of ["/healthz", "/readyz", "/metrics", "/inspector/", "/api/status"]) {
      const res = await withHost(path, "rebind.attacker.example:7400", TOKEN)
      expect([path, res.status]).toEqual([path, 421])
      expect(JSON.parse(res.body)).toEqual({
        error: {
          status: 421,
          message: 'host "rebind.attacker.example:7400" is not served here: only loopback names, the bound address and the configured allowedHosts (a guard against DNS rebinding)'
        }
      })
    }
    expect(api.errorCount(421)).toBeGreaterThanOrEqual(5)
  })

  it("refuses a request without a Host header", async () => {
    // HTTP/1.0 may omit Host; Node insists on it for 1.1 itself, so this reaches our check as 1.0.
    const res = await new Promise<string>((resolve, reject) => {
      const socket = connect(api.port, "127.0.0.1", () => socket.end("GET /healthz HTTP/1.0\r\n\r\n"))
      let text = ""
      socket.on("data", (c: Buffer) => (text += c.toString()))
      socket.on("end", () => resolve(text))
      socket.on("error", reject)
    })
    expect(res.split("\r\n")[0]).toBe("HTTP/1.1 421 Misdirected Request")
  })

  it("answers loopback names with or without a port", async () => {
    for (const host of ["127.0.0.1", `127.0.0.1:${api.port}`, `localhost:${api.port}`, "LOCALHOST.", `[::1]:${api.port}`, "127.8.9.10"]) {
      expect([host, (await withHost("/healthz", host)).status]).toEqual([host, 200])
    }
    expect((await withHost("/api/status", `localhost:${api.port}`, TOKEN)).status).toBe(200)
  })

  it("answers a configured name and still refuses others", async () => {
    const other = await startControlApi({ port: 0, token: TOKEN, control, allowedHosts: ["troupe.internal"] })
    try {
      const get = (host: string) =>
        new Promise<number>((resolve, reject) => {
          const req = httpRequest({ host: "127.0.0.1", port: other.port, path: "/healthz", setHost: false, headers: { host } }, (res) => {
            res.resume()
            resolve(res.statusCode ?? 0)
          })
          req.on("error", reject)
          req.end()
        })
      expect(await get("troupe.internal:8443")).toBe(200)
      expect(await get("troupe.internal.attacker.example")).toBe(421)
      expect(await get("localhost")).toBe(200)
    } finally {
      await other.close()
    }
  })

  it("refuses the WebSocket upgrade with a foreign Host, even with the right token", async () => {
    const ws = new WebSocket(`${api.url.replace("http", "ws")}/api/stream`, { headers: { host: "rebind.attacker.example", authorization: `Bearer ${TOKEN}` } })
    await expect(
      new Promise((resolve, reject) => {
        ws.once("open", resolve)
        ws.once("error", reject)
      })
    ).rejects.toThrow(/Unexpected server response: 421/)
  })
})

describe("control API paths", () => {
  it("answers a malformed percent-escape in a path with 400, not 500", async () => {
    for (const path of ["/api/actors/%E0%A4%A", "/api/actors/%zz", "/api/strategies/mm%/start"]) {
      const method = path.includes("strategies") ? "POST" : "GET"
      const res = await call(method, path, method === "POST" ? { body: "{}" } : {})
      expect([path, res.status, errorOf(res.json).message]).toEqual([path, 400, `path ${path}: expected valid percent-escapes (%XX of UTF-8), got a malformed one`])
    }
    expect(api.errorCount(500)).toBe(0)
    // A well-formed escape still reaches the route with the decoded id.
    expect((await call("GET", `/api/actors/${encodeURIComponent(ORDER_ACTOR)}`)).status).toBe(200)
  })
})
