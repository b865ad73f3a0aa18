import { createHash, timingSafeEqual } from "node:crypto"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { Cause, Data, Effect, Exit, Option, type Scope } from "effect"
import { MetricsRegistry } from "../../actors/metrics.js"
import type { ControlError, DaemonControl } from "../control.js"
import { defaultInspectorDir } from "./static.js"
import { hostAllowed } from "./host-check.js"
import { makeStreamHub } from "./stream.js"
import { makeHandlers } from "./handlers.js"
import { makePnlHistory } from "./pnl-history.js"
import { HttpError, routeTable, type Route } from "./router.js"

/**
 * The control API: HTTP JSON and the WebSocket stream, on loopback by default. Everything under
 * `/api` needs `Authorization: Bearer <token>`; `/healthz`, `/readyz`, `/metrics` and the
 * inspector's files do not. The routes are those of the definition in `api.ts` (see
 * `router.ts`), their handlers in `handlers.ts`; auth, body limits and error mapping live here;
 * every answer comes from `DaemonControl`. Every error answer is counted
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
  /** How often the strategies' PnL is sampled for their pages (default 5 s). */
  readonly pnlSampleMs?: number
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

/** `troupe-cli/0.1.0 127.0.0.1`: the User-Agent (control characters dropped, bounded) and the peer address. */
export const clientOf = (req: IncomingMessage): string => {
  const agent = (req.headers["user-agent"] ?? "unknown").replace(/[^\x20-\x7e]/g, "").slice(0, 200) || "unknown"
  return `${agent} ${req.socket.remoteAddress ?? "?"}`
}

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
  const metricsText = (): Effect.Effect<string> =>
    Effect.map(control.metricsText(), (text) => (ownMetrics ? `${text.trimEnd()}\n${registry.render().trimEnd()}\n` : text))
  const pnl = makePnlHistory(control, options.pnlSampleMs === undefined ? {} : { intervalMs: options.pnlSampleMs })
  const table: ReadonlyArray<Route> = routeTable(makeHandlers({ control, metricsText, staticDir, pnlHistory: pnl.of }))
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

    // Everything under /api needs the token, a route that does not exist included (it tells nothing then).
    const tokenOk = (): boolean => {
      const token = bearer(req)
      return token !== undefined && checkToken(token)
    }
    const unauthorized = (): void => fail(res, 401, "unauthorized: send Authorization: Bearer <token>", undefined, { "www-authenticate": "Bearer" })
    if (path.startsWith("/api/") && !tokenOk()) return unauthorized()

    const matching = table.flatMap((r) => {
      const m = r.pattern.exec(path)
      return m === null ? [] : [{ route: r, values: m.slice(1).map(decodeSegment) }]
    })
    if (matching.length === 0) return fail(res, 404, `no route ${path}`)
    if (matching.some((m) => m.values.some((p) => p === undefined))) return fail(res, 400, `path ${path}: expected valid percent-escapes (%XX of UTF-8), got a malformed one`)
    const hit = matching.find((m) => m.route.method === method)
    if (hit === undefined) {
      const allow = [...new Set(matching.map((m) => m.route.method))].join(", ")
      return fail(res, 405, `${method} is not allowed on ${path} (allowed: ${allow})`, undefined, { allow })
    }
    if (hit.route.authenticated && !tokenOk()) return unauthorized()
    const params = Object.fromEntries(hit.route.paramNames.map((name, i) => [name, hit.values[i] as string]))
    const exit = await Effect.runPromiseExit(hit.route.handler({ url, params, body: () => readBody(req), client: clientOf(req) }))
    if (Exit.isSuccess(exit)) {
      const reply = exit.value
      if ("json" in reply) return sendJson(res, reply.status, reply.json)
      if ("text" in reply) return send(res, reply.status, reply.text, reply.contentType, reply.headers)
      return send(res, reply.status, "", "text/plain", reply.headers)
    }
    const failure = Cause.failureOption(exit.cause)
    if (Option.isSome(failure)) {
      const e: HttpError | ControlError = failure.value
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
        pnl.stop()
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
