import http from "node:http"
import https from "node:https"
import { Hop, hopTrace } from "../../../actors/trace/hop-trace.js"

/**
 * A `fetch` for the REST client on node:http(s) with keep-alive agents: the venue order path.
 * Global `fetch` (undici) spends a few hundred microseconds of synchronous work per request on
 * this machine (request/response objects, header guards, streams); an order must not wait for
 * that. Only what the REST client uses is implemented: method, headers, a string body, an
 * AbortSignal, and a response with the status and the body text.
 *
 * Errors mirror undici's, which the REST client classifies: a network failure rejects with
 * `TypeError("fetch failed", { cause })` whose cause carries the socket error `code`; an abort
 * rejects with the signal's reason (a `TimeoutError` for `AbortSignal.timeout`).
 */
export interface KeepAliveFetch {
  readonly fetch: typeof fetch
  /** Closes idle sockets (idle sockets do not keep the process alive either way). */
  readonly close: () => void
}

/**
 * What the REST client reads of a Response — status, ok, text(), json() — without building an
 * undici Response per request (part of the cost this module avoids). Other members are absent.
 */
const minimalResponse = (status: number, text: string): Response =>
  ({
    status,
    ok: status >= 200 && status < 300,
    text: () => Promise.resolve(text),
    json: () => Promise.resolve(JSON.parse(text) as unknown)
  }) as unknown as Response

export const makeKeepAliveFetch = (options: { readonly maxSockets?: number } = {}): KeepAliveFetch => {
  // `timeout` closes a socket idle that long, and (only when set) lets Node honour the server's
  // `Keep-Alive: timeout=N` hint, closing idle sockets a second before the server would: fewer
  // requests written on a socket the server is closing (see `doFetch` for the rest).
  const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 32, scheduling: "lifo" as const, timeout: 30_000 }
  const httpAgent = new http.Agent(agentOptions)
  const httpsAgent = new https.Agent(agentOptions)
  /**
   * A read (GET) that failed on a reused keep-alive socket before any reply is sent again on
   * another socket, at most twice: the server closed that idle socket (its keep-alive timeout)
   * while the request was being written — a FIN the event loop had not yet seen. The request was
   * never read, so it cost nothing at the venue. Writes are never resent here: a reset on a write
   * is an unknown outcome that the REST client reports as possibly reached (reconciled by client
   * order id, never resent).
   */
  const doFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const idempotent = (init?.method ?? "GET") === "GET"
    for (let attempt = 0; ; attempt++) {
      try {
        return await once(input, init)
      } catch (e) {
        if (!(idempotent && attempt < 2 && e instanceof StaleSocket)) throw e instanceof StaleSocket ? e.error : e
      }
    }
  }
  const once = (input: string | URL | Request, init?: RequestInit): Promise<Response> =>
    new Promise<Response>((resolve, reject) => {
      const url = typeof input === "string" ? new URL(input) : input instanceof URL ? input : new URL(input.url)
      if (hopTrace.on) hopTrace.markRequest(url, Hop.fetch)
      const signal = init?.signal ?? undefined
      if (signal?.aborted === true) {
        reject(signal.reason)
        return
      }
      const secure = url.protocol === "https:"
      const headers = (init?.headers ?? {}) as Record<string, string>
      const body = typeof init?.body === "string" ? init.body : undefined
      let settled = false
      const onAbort = (): void => {
        if (settled) return
        settled = true
        req.destroy()
        reject(signal?.reason)
      }
      let replied = false
      const fail = (cause: unknown): void => {
        if (settled) return
        settled = true
        signal?.removeEventListener("abort", onAbort)
        const error = new TypeError("fetch failed", { cause })
        const code = (cause as { code?: string } | null)?.code
        const stale = req.reusedSocket && !replied && (code === "ECONNRESET" || code === "EPIPE")
        reject(stale ? new StaleSocket(error) : error)
      }
      const req = (secure ? https : http).request(
        url,
        { method: init?.method ?? "GET", headers: body === undefined ? headers : { ...headers, "Content-Length": String(Buffer.byteLength(body)) }, agent: secure ? httpsAgent : httpAgent },
        (res) => {
          replied = true
          const chunks: Buffer[] = []
          res.on("data", (c: Buffer) => chunks.push(c))
          res.on("error", fail)
          res.on("end", () => {
            if (settled) return
            settled = true
            signal?.removeEventListener("abort", onAbort)
            resolve(minimalResponse(res.statusCode ?? 0, Buffer.concat(chunks).toString("utf8")))
          })
        }
      )
      req.on("error", fail)
      signal?.addEventListener("abort", onAbort, { once: true })
      req.end(body)
      if (hopTrace.on) hopTrace.markRequest(url, Hop.written)
    })
  return {
    fetch: doFetch as typeof fetch,
    close: () => {
      httpAgent.destroy()
      httpsAgent.destroy()
    }
  }
}

/** A request that failed on a reused idle socket the server had already closed (see `doFetch`). */
class StaleSocket extends Error {
  constructor(readonly error: TypeError) {
    super("stale keep-alive socket")
  }
}

/** The process-wide instance the REST client uses unless given a `fetch` of its own. */
let shared: KeepAliveFetch | undefined
export const sharedKeepAliveFetch = (): typeof fetch => (shared ??= makeKeepAliveFetch()).fetch
