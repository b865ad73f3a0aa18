import { Cause } from "effect"
import type { Config } from "./config.js"

/**
 * A daemon that cannot start says so once, in a sentence that names the setting to look at
 * (`DATABASE_URL`, `KAFKA_BROKERS`, `TROUPE_PORT`, the config key) and what to do. The stack is
 * for `--verbose`: the operator's question is "what do I change", not "which line threw".
 */

/** A URL with its password replaced, so an error line never leaks it. */
export const redactUrl = (url: string): string => {
  try {
    const u = new URL(url)
    if (u.password !== "") u.password = "***"
    return u.toString()
  } catch {
    return "(unparsable URL)"
  }
}

interface Tagged {
  readonly _tag?: unknown
  readonly message?: unknown
  readonly code?: unknown
}

const innermost = (e: unknown): string => {
  // The root cause's message: `connect ECONNREFUSED 127.0.0.1:1`, `password authentication failed`.
  let cur: unknown = e
  for (let i = 0; i < 5; i++) {
    const next = (cur as { cause?: unknown } | null)?.cause
    if (next === undefined || next === null || typeof next !== "object") break
    cur = next
  }
  const m = (cur as { message?: unknown } | null)?.message
  return typeof m === "string" && m !== "" ? m : String(cur)
}

/** The lines to print for a start that failed; `verbose` adds Effect's full cause (with stacks). */
export const describeStartFailure = (cause: Cause.Cause<unknown>, config: Config, verbose: boolean): string => {
  const error = Cause.squash(cause) as Tagged
  const tag = typeof error?._tag === "string" ? error._tag : undefined
  const message = typeof error?.message === "string" ? error.message : String(error)
  const why = innermost(error)
  let line: string
  if (tag === "StoreError") {
    line =
      config.databaseUrl !== undefined
        ? `troupe: cannot use the Postgres store at DATABASE_URL=${redactUrl(config.databaseUrl)}: ${why}. ` +
          `Check that Postgres runs there and accepts this login (the daemon migrates as DATABASE_URL's user and runs as ${config.appDatabaseUrl === undefined ? "troupe_app" : `TROUPE_APP_DATABASE_URL=${redactUrl(config.appDatabaseUrl)}`}), or unset DATABASE_URL to use the embedded PGlite store in ${config.home}/pglite.`
        : `troupe: cannot open the embedded PGlite store in ${config.home}/pglite: ${why}. Is another daemon running on this TROUPE_HOME (PGlite allows one process)? Otherwise move the folder aside or point TROUPE_HOME (--home) elsewhere.`
  } else if (tag === "JournalIoError") {
    line =
      config.journal.kind === "kafka"
        ? `troupe: cannot use the Kafka journal at KAFKA_BROKERS=${config.kafkaBrokers.join(",")}: ${why}. Check that the brokers run and are reachable from here, or unset KAFKA_BROKERS to use the embedded file journal in ${config.home}/journal.`
        : `troupe: cannot open the file journal in ${config.home}/journal: ${why}. Check the folder's permissions and free disk space, or point TROUPE_HOME (--home) elsewhere.`
  } else if (tag === "ControlApiError") {
    line = `troupe: ${message}. Another process holds port ${config.port}: stop it, or choose another port with --port N or TROUPE_PORT (config key port).`
  } else {
    line = `troupe: fatal: ${message}${why !== message ? ` (${why})` : ""}`
  }
  return verbose ? `${line}\n${Cause.pretty(cause)}\n` : `${line}\n(run with --verbose for the full cause)\n`
}
