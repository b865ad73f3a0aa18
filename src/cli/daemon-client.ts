import { readFileSync } from "node:fs"
import { request as httpRequest } from "node:http"
import { join } from "node:path"
import { DEFAULT_HOME, DEFAULT_PORT } from "../daemon/config.js"

/**
 * The CLI's side of the control API: where the daemon is, the token, one request function,
 * and the exit codes every command shares. A failure is a `CliFailure` carrying its exit code
 * and the one line to print; commands never print stack traces.
 */

export const EXIT = { ok: 0, daemonError: 1, usage: 2, noDaemon: 3, unauthorized: 4 } as const

export class CliFailure extends Error {
  constructor(
    readonly exitCode: number,
    message: string
  ) {
    super(message)
  }
}

export const usageError = (message: string): CliFailure => new CliFailure(EXIT.usage, message)

export interface Target {
  readonly host: string
  readonly port: number
  readonly token: string | undefined
}

type Env = Readonly<Record<string, string | undefined>>

/** `--port` wins over `TROUPE_PORT`; the token is `TROUPE_TOKEN` or the file `$TROUPE_HOME/token`. */
export const resolveTarget = (portFlag: string | undefined, env: Env = process.env): Target => {
  const portText = portFlag ?? env["TROUPE_PORT"]
  let port = DEFAULT_PORT
  if (portText !== undefined && portText.trim() !== "") {
    port = /^\d{1,5}$/.test(portText.trim()) ? Number(portText.trim()) : Number.NaN
    if (!(port >= 1 && port <= 65535)) throw usageError(`--port: expected a port number 1..65535, got ${JSON.stringify(portText)}`)
  }
  let token = env["TROUPE_TOKEN"]?.trim()
  if (token === undefined || token === "") {
    try {
      token = readFileSync(join(env["TROUPE_HOME"] ?? DEFAULT_HOME, "token"), "utf8").trim()
    } catch {
      token = undefined
    }
  }
  return { host: "127.0.0.1", port, token: token === "" ? undefined : token }
}

const where = (t: Target): string => `${t.host}:${t.port}`

const errorMessage = (json: unknown, fallback: string): string => {
  const e = (json as { error?: { message?: unknown } } | null)?.error
  return typeof e?.message === "string" ? e.message : fallback
}

interface RawResponse {
  readonly status: number
  readonly contentType: string
  readonly text: string
}

// node:http rather than fetch: fetch refuses the "bad ports" of the Fetch standard (1, 6000, 6667, ...).
const send = (target: Target, method: string, path: string, body: string | undefined): Promise<RawResponse> =>
  new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: target.host,
        port: target.port,
        method,
        path,
        timeout: 15_000,
        headers: {
          authorization: `Bearer ${target.token ?? ""}`,
          // The daemon records the client with every operator action (audit trail).
          "user-agent": `troupe-cli (pid ${process.pid})`,
          ...(body === undefined ? {} : { "content-type": "application/json", "content-length": Buffer.byteLength(body) })
        }
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on("data", (c: Buffer) => chunks.push(c))
        res.on("end", () => resolve({ status: res.statusCode ?? 0, contentType: res.headers["content-type"] ?? "", text: Buffer.concat(chunks).toString("utf8") }))
        res.on("error", reject)
      }
    )
    req.on("timeout", () => req.destroy(Object.assign(new Error("timed out"), { code: "ETIMEDOUT" })))
    req.on("error", reject)
    req.end(body)
  })

/** One request; returns the decoded JSON (or text for non-JSON answers) of a 2xx answer. */
export const request = async (target: Target, method: "GET" | "POST", path: string, body?: unknown): Promise<unknown> => {
  if (target.token === undefined) {
    throw new CliFailure(EXIT.unauthorized, "troupe: no token: set TROUPE_TOKEN or write it to $TROUPE_HOME/token (the daemon prints it at start)")
  }
  let res: RawResponse
  try {
    res = await send(target, method, path, body === undefined ? undefined : JSON.stringify(body))
  } catch (e) {
    const code = (e as { code?: unknown }).code
    if (code === "ECONNREFUSED") throw new CliFailure(EXIT.noDaemon, `troupe: no daemon answers on ${where(target)} (start it with \`npm start\`)`)
    const reason = `${e instanceof Error ? e.message : String(e)}${typeof code === "string" ? ` (${code})` : ""}`
    throw new CliFailure(EXIT.noDaemon, `troupe: the daemon on ${where(target)} did not answer: ${reason}`)
  }
  let parsed: unknown = res.text
  if (res.contentType.startsWith("application/json")) {
    try {
      parsed = JSON.parse(res.text)
    } catch {
      throw new CliFailure(EXIT.daemonError, `troupe: the daemon sent malformed JSON for ${method} ${path}`)
    }
  }
  if (res.status === 401) throw new CliFailure(EXIT.unauthorized, `troupe: the daemon on ${where(target)} refused the token (check TROUPE_TOKEN or $TROUPE_HOME/token)`)
  if (res.status < 200 || res.status >= 300) throw new CliFailure(EXIT.daemonError, `troupe: ${errorMessage(parsed, `${method} ${path} failed`)} (HTTP ${res.status})`)
  return parsed
}
