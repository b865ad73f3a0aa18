import { createHash, timingSafeEqual } from "node:crypto"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { Cause, Data, Effect, Either, Exit, Option, type Schema, type Scope } from "effect"
import { MetricsRegistry } from "../../actors/metrics.js"
import { allStateNodes, exportMachine, findMachine, machines, toGraphJson } from "../../machines/index.js"
import { ControlError, type DaemonControl, type OperatorCommand, type StrategyAction } from "../control.js"
import { AddStrategyBody, decodeBody, OperatorBody, StrategyActionBody, type BodyError } from "./bodies.js"
import { defaultInspectorDir, INSPECTOR_CSP, readInspectorFile } from "./static.js"
import { hostAllowed } from "./host-check.js"
import { makeStreamHub } from "./stream.js"
import { parseOrderQuery, searchOrders, strategyPage } from "./order-search.js"

/**
 * The control API: HTTP JSON and the WebSocket stream, on loopback by default. Everything under
 * `/api` needs `Authorization: Bearer <token>`; `/healthz`, `/readyz`, `/metrics` and the
 * inspector's files do not. Routing, auth, body limits and error mapping live here; every
 * answer comes from `DaemonControl`. Every error answer is counted
 * (`troupe_control_api_errors_total{status}`). Every request, open routes and the WebSocket
 * upgrade included, must carry a `Host` this API answers to (see `host-check.ts`), else 421.
 */

export const MAX_BODY_BYTES = 64 * 1024

export interface ControlApiOptions {
  /** 0 picks a free port (tests). */
  readonly port: number
  readonly host?: string
  readonly token: string
  readonly control: DaemonControl
  /**
   * Host names, besides loopback (`localhost`, 127.0.0.0/8, `::1`) and the bound address, that
   * requests may carry in `Host` (a proxy's or tunnel's name). Anything else is refused.
   */
  readonly allowedHosts?: ReadonlyArray<string>
  /** Folder of the inspector page; default `src/inspector`. */
  readonly staticDir?: string
  /**
   * Where to count requests and errors. When given, `/metrics` is `control.metricsText()` alone
   * (which is expected to render this registry); otherwise the API keeps its own registry and
   * appends it to `/metrics`.
   */
  readonly metrics?: MetricsRegistry
}

export interface ControlApi {
  readonly port: number
  /** `http://host:port`. */
  readonly url: string
  /** Error answers so far by HTTP status, for tests and the daemon's logs. */
  readonly errorCount: (status?: number) => number
  readonly close: () => Promise<void>
}

export class ControlApiError extends Data.TaggedError("ControlApiError")<{ readonly message: string }> {}

class HttpError extends Data.TaggedError("HttpError")<{
  readonly status: number
  readonly message: string
  readonly field?: string
  readonly headers?: Readonly<Record<string, string>>
}> {}

type Reply = { readonly status: number; readonly json: unknown } | { readonly status: number; readonly text: string; readonly contentType: string }
type Handler = (req: Request) => Effect.Effect<Reply, HttpError | ControlError>

interface Request {
  readonly url: URL
  readonly params: ReadonlyArray<string>
  readonly body: () => Effect.Effect<string, HttpError>
  /** Which client asked, for the audit trail: its User-Agent and address. */
  readonly client: string
}

/** `troupe-cli/0.1.0 127.0.0.1`: the User-Agent (control characters dropped, bounded) and the peer address. */
export const clientOf = (req: IncomingMessage): string => {
  const agent = (req.headers["user-agent"] ?? "unknown").replace(/[^\x20-\x7e]/g, "").slice(0, 200) || "unknown"
  return `${agent} ${req.socket.remoteAddress ?? "?"}`
}

interface Route {
  readonly method: "GET" | "POST"
  readonly pattern: RegExp
  readonly handler: Handler
}

const ok = (json: unknown): Reply => ({ status: 200, json })

const CONTROL_STATUS: Readonly<Record<ControlError["code"], number>> = { NotFound: 404, Conflict: 409, Invalid: 422, Unavailable: 503 }

const digest = (s: string): Buffer => createHash("sha256").update(s).digest()

/** Compares digests, so neither the content nor the length of the token leaks through timing. */
export const tokenMatches = (expected: string) => {
  const want = digest(expected)
  return (candidate: string): boolean => timingSafeEqual(want, digest(candidate))
}

const bearer = (req: IncomingMessage): string | undefined => {
  const h = req.headers.authorization
  const m = h === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(h)
  return m?.[1]
}

const readBody = (req: IncomingMessage): Effect.Effect<string, HttpError> =>
  Effect.async<string, HttpError>((resume) => {
    const declared = Number(req.headers["content-length"] ?? "0")
    if (declared > MAX_BODY_BYTES) {
      resume(Effect.fail(new HttpError({ status: 413, message: `the body is larger than ${MAX_BODY_BYTES} bytes`, headers: { connection: "close" } })))
      return
    }
    const chunks: Buffer[] = []
    let size = 0
    let done = false
    req.on("data", (chunk: Buffer) => {
      if (done) return
      size += chunk.length
      if (size > MAX_BODY_BYTES) {
        done = true
        resume(Effect.fail(new HttpError({ status: 413, message: `the body is larger than ${MAX_BODY_BYTES} bytes`, headers: { connection: "close" } })))
        return
      }
      chunks.push(chunk)
    })
    req.on("end", () => {
      if (done) return
      done = true
      resume(Effect.succeed(Buffer.concat(chunks).toString("utf8")))
    })
    req.on("error", (e) => {
      if (done) return
      done = true
      resume(Effect.fail(new HttpError({ status: 400, message: `the body could not be read: ${e.message}` })))
    })
  })

const decoded = <A, I>(schema: Schema.Schema<A, I>, req: Request): Effect.Effect<A, HttpError> =>
  Effect.flatMap(req.body(), (text) =>
    Either.match(decodeBody(schema, text), {
      onLeft: (e: BodyError) => Effect.fail(new HttpError({ status: 400, message: e.message, field: e.field })),
      onRight: Effect.succeed
    })
  )

const operatorRoute =
  (control: DaemonControl, command: "halt" | "reduce" | "resume" | "cancelAll" | "reconcileAccept"): Handler =>
  (req) =>
    Effect.gen(function* () {
      const body = yield* decoded(OperatorBody, req)
      if (body.cause !== undefined && command !== "resume") return yield* Effect.fail(new HttpError({ status: 400, message: "field cause: only resume lifts a cause", field: "cause" }))
      if (body.cancelAll !== undefined && command !== "halt" && command !== "reduce") return yield* Effect.fail(new HttpError({ status: 400, message: "field cancelAll: only halt and reduce take it", field: "cancelAll" }))
      const cmd: OperatorCommand = {
        who: body.who ?? "api",
        why: body.why,
        ...(body.cancelAll === undefined ? {} : { cancelAll: body.cancelAll }),
        ...(body.cause === undefined ? {} : { cause: body.cause }),
        client: req.client
      }
      return ok(yield* control[command](cmd))
    })

const STRATEGY_ACTIONS: ReadonlyArray<StrategyAction> = ["start", "stop", "restart", "reconfigure"]

const routes = (control: DaemonControl): ReadonlyArray<Route> => [
  { method: "GET", pattern: /^\/api\/status$/, handler: () => Effect.map(control.status(), ok) },
  { method: "GET", pattern: /^\/api\/actors$/, handler: () => Effect.map(control.actors(), ok) },
  { method: "GET", pattern: /^\/api\/actors\/([^/]+)$/, handler: (req) => Effect.map(control.actor(req.params[0] as string), ok) },
  {
    method: "GET",
    pattern: /^\/api\/orders$/,
    handler: (req) => {
      const open = req.url.searchParams.get("open")
      if (open !== null && !["1", "0", "true", "false"].includes(open)) {
        return Effect.fail(new HttpError({ status: 400, message: `query open: expected 1 | 0 | true | false, got ${JSON.stringify(open)}`, field: "open" }))
      }
      return Effect.map(control.orders(open === null ? {} : { open: open === "1" || open === "true" }), ok)
    }
  },
  // Inspector (operator-ui): finished orders behind a paged search, and a page per strategy.
  {
    method: "GET",
    pattern: /^\/api\/orders\/search$/,
    handler: (req) =>
      Either.match(parseOrderQuery(req.url.searchParams), {
        onLeft: (e) => Effect.fail(new HttpError({ status: 400, message: e.message, field: e.field })),
        onRight: (q) => Effect.map(control.orders({}), (all) => ok(searchOrders(all, q)))
      })
  },
  {
    method: "GET",
    pattern: /^\/api\/strategies\/([^/]+)\/page$/,
    handler: (req) =>
      Effect.gen(function* () {
        const id = req.params[0] as string
        const strategy = (yield* control.strategies()).find((s) => s.id === id)
        if (strategy === undefined) return yield* Effect.fail(new ControlError({ code: "NotFound", message: `no strategy ${JSON.stringify(id)}` }))
        return ok(strategyPage(strategy, yield* control.positions(), yield* control.orders({})))
      })
  },
  { method: "GET", pattern: /^\/api\/positions$/, handler: () => Effect.map(control.positions(), ok) },
  { method: "GET", pattern: /^\/api\/strategies$/, handler: () => Effect.map(control.strategies(), ok) },
  {
    method: "POST",
    pattern: /^\/api\/strategies$/,
    handler: (req) =>
      Effect.gen(function* () {
        const body = yield* decoded(AddStrategyBody, req)
        return ok(
          yield* control.strategyCommand({
            action: "add",
            file: body.file,
            ...(body.id === undefined ? {} : { id: body.id }),
            ...(body.params === undefined ? {} : { params: body.params }),
            who: body.who ?? "api",
            ...(body.why === undefined ? {} : { why: body.why }),
            client: req.client
          })
        )
      })
  },
  {
    method: "POST",
    pattern: /^\/api\/strategies\/([^/]+)\/([^/]+)$/,
    handler: (req) =>
      Effect.gen(function* () {
        const [id, action] = req.params as [string, string]
        const known = STRATEGY_ACTIONS.find((a) => a === action)
        if (known === undefined) return yield* new HttpError({ status: 404, message: `no strategy action ${JSON.stringify(action)} (${STRATEGY_ACTIONS.join(", ")})` })
        const body = yield* decoded(StrategyActionBody, req)
        if (known === "reconfigure" && body.params === undefined) return yield* new HttpError({ status: 400, message: "field params: expected an object, got nothing (missing)", field: "params" })
        return ok(
          yield* control.strategyCommand({
            id,
            action: known,
            ...(body.params === undefined ? {} : { params: body.params }),
            who: body.who ?? "api",
            ...(body.why === undefined ? {} : { why: body.why }),
            client: req.client
          })
        )
      })
  },
  { method: "POST", pattern: /^\/api\/halt$/, handler: operatorRoute(control, "halt") },
  { method: "POST", pattern: /^\/api\/reduce$/, handler: operatorRoute(control, "reduce") },
  { method: "POST", pattern: /^\/api\/resume$/, handler: operatorRoute(control, "resume") },
  { method: "POST", pattern: /^\/api\/cancel-all$/, handler: operatorRoute(control, "cancelAll") },
  { method: "POST", pattern: /^\/api\/reconcile\/accept$/, handler: operatorRoute(control, "reconcileAccept") },
  {
    method: "GET",
    pattern: /^\/api\/report\/source$/,
    handler: () =>
      control.reportSource === undefined ? Effect.fail(new HttpError({ status: 404, message: "this daemon does not serve the report's source" })) : Effect.map(control.reportSource(), ok)
  },
  {
    method: "GET",
    pattern: /^\/api\/report\/source$/,
    handler: () =>
      control.reportSource === undefined ? Effect.fail(new HttpError({ status: 404, message: "this daemon does not serve the report's source" })) : Effect.map(control.reportSource(), ok)
  },
  { method: "GET", pattern: /^\/api\/machines$/, handler: () => Effect.succeed(ok(machines.map((m) => ({ name: m.name, version: m.version, description: m.description })))) },
  {
    method: "GET",
    pattern: /^\/api\/machines\/([^/]+)$/,
    handler: (req) => {
      const entry = findMachine(req.params[0] as string)
      if (entry === undefined) return Effect.fail(new HttpError({ status: 404, message: `no machine ${JSON.stringify(req.params[0])} (${machines.map((m) => m.name).join(", ")})` }))
      const format = req.url.searchParams.get("format") ?? "json"
      // The inspector also needs each state's type (history pseudo-states are drawn as their parent).
      if (format === "json") {
        const states = allStateNodes(entry.machine).map((n) => ({ id: n.id, type: n.type }))
        return Effect.succeed(ok({ ...toGraphJson(entry.machine, entry.version), states }))
      }
      if (format === "mermaid") return Effect.succeed({ status: 200, text: exportMachine(entry, "mermaid"), contentType: "text/plain; charset=utf-8" })
      return Effect.fail(new HttpError({ status: 400, message: `query format: expected json | mermaid, got ${JSON.stringify(format)}`, field: "format" }))
    }
  }
]

const send = (res: ServerResponse, status: number, body: string | Buffer, contentType: string, headers: Readonly<Record<string, string>> = {}): void => {
  res.writeHead(status, { "content-type": contentType, "cache-control": "no-store", "x-content-type-options": "nosniff", ...headers })
  res.end(body)
}

const sendJson = (res: ServerResponse, status: number, json: unknown, headers?: Readonly<Record<string, string>>): void =>
  send(res, status, JSON.stringify(json) + "\n", "application/json; charset=utf-8", headers)

/** A path segment decoded, or `undefined` for a malformed escape (`%zz`, a lone `%`, bad UTF-8). */
const decodeSegment = (segment: string): string | undefined => {
  try {
    return decodeURIComponent(segment)
  } catch {
    return undefined
  }
}

const errorJson = (status: number, message: string, field?: string): unknown => ({ error: { status, message, ...(field === undefined ? {} : { field }) } })

/** Starts listening; resolves once the port is bound. */
export const startControlApi = async (options: ControlApiOptions): Promise<ControlApi> => {
  const { control } = options
  const host = options.host ?? "127.0.0.1"
  const staticDir = options.staticDir ?? defaultInspectorDir()
  const ownMetrics = options.metrics === undefined
  const registry = options.metrics ?? new MetricsRegistry()
  const requests = registry.counter("control_api_requests_total", "Control API requests answered.")
  const errorsByStatus = new Map<number, { value: number; inc: () => void }>()
  const countError = (status: number): void => {
    let c = errorsByStatus.get(status)
    if (c === undefined) {
      c = registry.counter("control_api_errors_total", "Control API error answers, by HTTP status.", { status: String(status) })
      errorsByStatus.set(status, c)
    }
    c.inc()
  }
  const checkToken = tokenMatches(options.token)
  const hub = makeStreamHub(control, checkToken)
  registry.sampled("control_api_stream_clients", "WebSocket stream clients connected.", "gauge", {}, () => hub.counters.clients)
  registry.sampled("control_api_stream_slow_clients_closed_total", "Stream clients cut off for falling behind.", "counter", {}, () => hub.counters.slowClientsClosed)
  const table = routes(control)
  const hostOk = hostAllowed(host, options.allowedHosts)
  const hostRefusal = (header: string | undefined): string =>
    `host ${JSON.stringify(header ?? "")} is not served here: only loopback names, the bound address and the configured allowedHosts (a guard against DNS rebinding)`

  const fail = (res: ServerResponse, status: number, message: string, field?: string, headers?: Readonly<Record<string, string>>): void => {
    countError(status)
    sendJson(res, status, errorJson(status, message, field), headers)
  }

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    requests.inc()
    if (!hostOk(req.headers.host)) return fail(res, 421, hostRefusal(req.headers.host))
    const url = new URL(req.url ?? "/", "http://localhost")
    const path = url.pathname
    const method = req.method ?? "GET"

    if (path === "/healthz") return method === "GET" ? sendJson(res, 200, { ok: true }) : fail(res, 405, `${method} is not allowed on ${path}`, undefined, { allow: "GET" })
    if (path === "/readyz") {
      if (method !== "GET") return fail(res, 405, `${method} is not allowed on ${path}`, undefined, { allow: "GET" })
      const r = await Effect.runPromise(control.ready())
      return r.ready ? sendJson(res, 200, r) : fail(res, 503, `not ready: the node is ${r.node}`, undefined)
    }
    if (path === "/metrics") {
      if (method !== "GET") return fail(res, 405, `${method} is not allowed on ${path}`, undefined, { allow: "GET" })
      const text = await Effect.runPromise(control.metricsText())
      const body = ownMetrics ? `${text.trimEnd()}\n${registry.render().trimEnd()}\n` : text
      return send(res, 200, body, "text/plain; version=0.0.4; charset=utf-8")
    }
    if (path === "/" || path === "/inspector") return send(res, 302, "", "text/plain", { location: "/inspector/" })
    if (path.startsWith("/inspector/")) {
      if (method !== "GET") return fail(res, 405, `${method} is not allowed on ${path}`, undefined, { allow: "GET" })
      const file = await readInspectorFile(staticDir, path.slice("/inspector/".length))
      if (file === undefined) return fail(res, 404, `no inspector file ${path}`)
      return send(res, 200, file.body, file.contentType, { "content-security-policy": INSPECTOR_CSP, "cache-control": "no-cache" })
    }
    if (!path.startsWith("/api/")) return fail(res, 404, `no route ${path}`)

    const token = bearer(req)
    if (token === undefined || !checkToken(token)) return fail(res, 401, "unauthorized: send Authorization: Bearer <token>", undefined, { "www-authenticate": "Bearer" })

    const matching = table.flatMap((r) => {
      const m = r.pattern.exec(path)
      return m === null ? [] : [{ route: r, params: m.slice(1).map(decodeSegment) }]
    })
    if (matching.length === 0) return fail(res, 404, `no route ${path}`)
    const malformed = matching.find((m) => m.params.some((p) => p === undefined))
    if (malformed !== undefined) return fail(res, 400, `path ${path}: expected valid percent-escapes (%XX of UTF-8), got a malformed one`)
    const hit = matching.find((m) => m.route.method === method)
    if (hit === undefined) {
      const allow = [...new Set(matching.map((m) => m.route.method))].join(", ")
      return fail(res, 405, `${method} is not allowed on ${path} (allowed: ${allow})`, undefined, { allow })
    }
    const exit = await Effect.runPromiseExit(hit.route.handler({ url, params: hit.params as ReadonlyArray<string>, body: () => readBody(req), client: clientOf(req) }))
    if (Exit.isSuccess(exit)) {
      const reply = exit.value
      return "json" in reply ? sendJson(res, reply.status, reply.json) : send(res, reply.status, reply.text, reply.contentType)
    }
    const failure = Cause.failureOption(exit.cause)
    if (Option.isSome(failure)) {
      const e = failure.value
      if (e._tag === "HttpError") return fail(res, e.status, e.message, e.field, e.headers)
      return fail(res, CONTROL_STATUS[e.code], e.message)
    }
    console.error(`control api: ${method} ${path} died: ${Cause.pretty(exit.cause)}`)
    return fail(res, 500, "internal error (see the daemon log)")
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      console.error(`control api: ${req.method} ${req.url} died: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`)
      if (!res.headersSent) fail(res, 500, "internal error (see the daemon log)")
      else res.destroy()
    })
  })
  server.headersTimeout = 10_000
  server.requestTimeout = 30_000

  server.on("upgrade", (req, socket, head) => {
    const url = new URL(req.url ?? "/", "http://localhost")
    const reject = (status: number, text: string): void => {
      countError(status)
      socket.end(`HTTP/1.1 ${status} ${text}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`)
    }
    if (!hostOk(req.headers.host)) return reject(421, "Misdirected Request")
    if (url.pathname !== "/api/stream") return reject(404, "Not Found")
    const token = bearer(req) ?? url.searchParams.get("token") ?? undefined
    if (token !== undefined && !checkToken(token)) return reject(401, "Unauthorized")
    hub.handleUpgrade(req, socket, head, token !== undefined)
  })

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(options.port, host, () => {
      server.off("error", reject)
      resolve()
    })
  })
  const port = (server.address() as AddressInfo).port
  const urlHost = host.includes(":") ? `[${host}]` : host

  return {
    port,
    url: `http://${urlHost}:${port}`,
    errorCount: (status) => (status === undefined ? [...errorsByStatus.values()].reduce((s, c) => s + c.value, 0) : (errorsByStatus.get(status)?.value ?? 0)),
    close: () =>
      new Promise<void>((resolve) => {
        hub.close()
        server.close(() => resolve())
        server.closeAllConnections()
      })
  }
}

/** The control API as a scoped resource: bound on acquire, closed (clients cut off) when the scope closes. */
export const controlApi = (options: ControlApiOptions): Effect.Effect<ControlApi, ControlApiError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.tryPromise({
      try: () => startControlApi(options),
      catch: (e) => new ControlApiError({ message: `control API could not listen on ${options.host ?? "127.0.0.1"}:${options.port}: ${e instanceof Error ? e.message : String(e)}` })
    }),
    (api) => Effect.promise(() => api.close())
  )
