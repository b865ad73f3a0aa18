import { readFileSync } from "node:fs"
import { join } from "node:path"
// Subpath imports: the packages' indexes load every module, which costs the CLI's start.
import * as HttpApiClient from "@effect/platform/HttpApiClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { Cause, Duration, Effect, Exit, Option } from "effect"
import { DEFAULT_HOME, DEFAULT_PORT } from "../daemon/config.js"
import { controlApiSpec, type ErrorBody } from "../daemon/control-api/api.js"

/** What the daemon records as the client of a command (audit trail). */
export const CLI_USER_AGENT = "troupe-cli/0.1.0"

/**
 * The CLI's side of the control API: where the daemon is, the token, the typed client derived
 * from the API's definition, and the exit codes every command shares. A failure is a `CliFailure` carrying its exit code
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

const makeClient = (target: Target, token: string) =>
  HttpApiClient.make(controlApiSpec, {
    baseUrl: `http://${target.host}:${target.port}`,
    transformClient: HttpClient.mapRequest((req) => req.pipe(HttpClientRequest.bearerToken(token), HttpClientRequest.setHeader("user-agent", CLI_USER_AGENT)))
  })

/** The typed client of the control API, derived from its definition (`src/daemon/control-api/api.ts`). */
export type DaemonClient = Effect.Effect.Success<ReturnType<typeof makeClient>>

const REQUEST_TIMEOUT = Duration.seconds(15)

const isErrorBody = (e: unknown): e is ErrorBody =>
  typeof e === "object" && e !== null && "error" in e && typeof (e as { error?: { message?: unknown } }).error?.message === "string"

/** The one line to print for a failure, with its exit code. The daemon's own message is a sentence; no HTTP status is appended to it. */
const failureOf = (target: Target, what: string, cause: Cause.Cause<unknown>): CliFailure => {
  const failure = Cause.failureOption(cause)
  if (Option.isNone(failure)) return new CliFailure(EXIT.daemonError, `troupe: ${what} failed: ${Cause.pretty(cause).split("\n")[0] ?? "unknown error"}`)
  const e = failure.value
  if (isErrorBody(e)) {
    if (e.error.status === 401) return new CliFailure(EXIT.unauthorized, `troupe: the daemon on ${where(target)} refused the token (check TROUPE_TOKEN or $TROUPE_HOME/token)`)
    return new CliFailure(EXIT.daemonError, `troupe: ${e.error.message}`)
  }
  if (Cause.isTimeoutException(e)) return new CliFailure(EXIT.noDaemon, `troupe: the daemon on ${where(target)} did not answer: timed out (ETIMEDOUT)`)
  const tagged = e as { _tag?: string; reason?: string; cause?: unknown; response?: { status: number } }
  if (tagged._tag === "RequestError" && tagged.reason === "Transport") {
    const code = (tagged.cause as { code?: unknown } | undefined)?.code
    if (code === "ECONNREFUSED") return new CliFailure(EXIT.noDaemon, `troupe: no daemon answers on ${where(target)} (start it with \`npm start\`)`)
    const message = tagged.cause instanceof Error ? tagged.cause.message : String(tagged.cause)
    return new CliFailure(EXIT.noDaemon, `troupe: the daemon on ${where(target)} did not answer: ${message}${typeof code === "string" ? ` (${code})` : ""}`)
  }
  if (tagged._tag === "ResponseError") return new CliFailure(EXIT.daemonError, `troupe: ${what}: the daemon answered HTTP ${tagged.response?.status ?? "?"} with a body this CLI does not understand (a daemon of another version?)`)
  if (tagged._tag === "ParseError") return new CliFailure(EXIT.daemonError, `troupe: ${what}: the daemon's answer does not match this CLI's API definition (a daemon of another version?): ${String((e as Error).message).split("\n")[0]}`)
  return new CliFailure(EXIT.daemonError, `troupe: ${what} failed: ${e instanceof Error ? e.message : String(e)}`)
}

/**
 * One call through the typed client: `await call(target, "status", (c) => c.node.status())`.
 * Requests carry the token and the CLI's User-Agent (the audit trail records it); answers are
 * decoded with the definition's schemas; every failure becomes a `CliFailure` with its exit code.
 */
export const call = async <A>(target: Target, what: string, use: (client: DaemonClient) => Effect.Effect<A, unknown>): Promise<A> => {
  const token = target.token
  if (token === undefined) {
    throw new CliFailure(EXIT.unauthorized, "troupe: no token: set TROUPE_TOKEN or write it to $TROUPE_HOME/token (the daemon prints it at start)")
  }
  const program = Effect.flatMap(makeClient(target, token), use).pipe(
    Effect.timeout(REQUEST_TIMEOUT),
    // node:http rather than fetch: fetch refuses the "bad ports" of the Fetch standard (1, 6000, 6667, ...).
    Effect.provide(NodeHttpClient.layer)
  )
  const exit = await Effect.runPromiseExit(program)
  if (Exit.isSuccess(exit)) return exit.value
  throw failureOf(target, what, exit.cause)
}

/** A path parameter as the server expects it: one percent-encoded segment. */
export const segment = (value: string): string => encodeURIComponent(value)
