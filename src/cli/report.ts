import { existsSync } from "node:fs"
import { connect } from "node:net"
import { join, resolve } from "node:path"
import { Effect } from "effect"
import { parseReportArgs, REPORT_USAGE, runReportCli } from "../analytics/cli.js"
import { generateFixture } from "../analytics/fixture.js"
import { loadStoreSource } from "../analytics/store-source.js"
import type { StoreService } from "../actors/ports/store.js"
import { DEFAULT_HOME } from "../daemon/config.js"
import type { SqlSession } from "../persistence/sql-client.js"
import type { Io } from "./args.js"
import { readJournalStrategyRecords } from "./journal-records.js"
import { call, CliFailure, EXIT, resolveTarget, usageError } from "./daemon-client.js"

export const REPORT_STORE_USAGE = `usage: troupe report [--home DIR] [report options] (reads DATABASE_URL if set, else the PGlite store in $TROUPE_HOME/pglite; --home DIR: DIR/pglite)
       troupe report --fixture N [report options]  (N synthetic fills, seeded)`

type Env = Readonly<Record<string, string | undefined>>

/** Is something listening on the daemon's control port? PGlite is single-process: a second opener would corrupt it. */
const daemonListening = (env: Env): Promise<{ readonly port: number } | undefined> => {
  let port: number
  try {
    port = resolveTarget(undefined, env).port
  } catch {
    return Promise.resolve(undefined)
  }
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port })
    const done = (up: boolean): void => {
      socket.destroy()
      resolve(up ? { port } : undefined)
    }
    socket.setTimeout(500, () => done(false))
    socket.once("connect", () => done(true))
    socket.once("error", () => done(false))
  })
}

interface OpenedStore {
  readonly store: StoreService
  readonly sql: SqlSession
  readonly where: string
}

const openStore = async (env: Env, daemonHome: string | undefined): Promise<OpenedStore> => {
  const url = env["DATABASE_URL"]
  if (url !== undefined && url.trim() !== "") {
    const { makePostgresStore } = await import("../persistence/postgres.js")
    const appUrl = env["TROUPE_APP_DATABASE_URL"]?.trim()
    const handle = makePostgresStore({ url, ...(appUrl !== undefined && appUrl !== "" ? { appUrl } : {}) })
    return { store: handle.store, sql: handle.app, where: "the Postgres store (DATABASE_URL)" }
  }
  const dir = join(env["TROUPE_HOME"] ?? DEFAULT_HOME, "pglite")
  if (!existsSync(join(dir, "PG_VERSION"))) throw new CliFailure(EXIT.daemonError, `troupe report: no store at ${dir}: run the daemon first (or set DATABASE_URL)`)
  // The daemon on the control port holds its own home's store; another home (a replay's output) is free to open.
  const daemon = resolve(dir) === resolve(join(daemonHome ?? DEFAULT_HOME, "pglite")) ? await daemonListening(env) : undefined
  if (daemon !== undefined) {
    throw new CliFailure(
      EXIT.daemonError,
      `troupe report: the daemon is running (port ${daemon.port}) and holds the PGlite store at ${dir}; PGlite allows one process: stop the daemon first, or run it on Postgres (DATABASE_URL)`
    )
  }
  const { openPgliteStore } = await import("../persistence/pglite.js")
  try {
    const handle = await openPgliteStore({ dataDir: dir })
    return { store: handle.store, sql: handle.app, where: `the PGlite store at ${dir}` }
  } catch (e) {
    throw new CliFailure(EXIT.daemonError, `troupe report: cannot open the PGlite store at ${dir} (is the daemon running? PGlite allows one process): ${e instanceof Error ? e.message : String(e)}`)
  }
}

/**
 * `troupe report`: post-trade analytics over the store (`DATABASE_URL`, else the PGlite store
 * under `$TROUPE_HOME/pglite`, read through the running daemon when one holds it), or with `--fixture N` over a seeded synthetic dataset of N fills.
 */
export const runReport = async (argv: ReadonlyArray<string>, io: Io, envIn: Env = process.env): Promise<number> => {
  const rest = [...argv]
  // `--home DIR`: the store of another Troupe home, e.g. a replay's output directory.
  let env = envIn
  const home = rest.findIndex((a) => a === "--home" || a.startsWith("--home="))
  if (home >= 0) {
    const flag = rest[home] as string
    const dir = flag.includes("=") ? flag.slice(flag.indexOf("=") + 1) : rest[home + 1]
    if (dir === undefined || dir === "") throw usageError(`troupe report: --home expects a directory\n${REPORT_STORE_USAGE}`)
    rest.splice(home, flag.includes("=") ? 1 : 2)
    env = { ...envIn, TROUPE_HOME: dir, DATABASE_URL: undefined }
  }
  const at = rest.findIndex((a) => a === "--fixture" || a.startsWith("--fixture="))
  if (at < 0) {
    if (rest.includes("--help") || rest.includes("-h")) {
      io.out(`${REPORT_STORE_USAGE}\n${REPORT_USAGE}`)
      return 0
    }
    const parsed = parseReportArgs(rest)
    if ("error" in parsed) throw usageError(`troupe report: ${parsed.error}\n${REPORT_STORE_USAGE}\n${REPORT_USAGE}`)
    // While the daemon runs on PGlite it alone may open the store: it reads the rows for us.
    const onPglite = env["DATABASE_URL"] === undefined || env["DATABASE_URL"].trim() === ""
    const daemon = home < 0 && onPglite ? await daemonListening(env) : undefined
    if (daemon !== undefined) {
      const source = await call(resolveTarget(undefined, env), "report", (c) => c.node.reportSource())
      io.err(`read ${source.counts.auditRows} audit rows from ${source.where} through the running daemon (port ${daemon.port}): ${source.counts.orders} orders, ${source.counts.riskDecisions} risk decisions (no arrival mid in the store: no slippage)\n`)
      return await runReportCli(rest, source, io)
    }
    const opened = await openStore(env, envIn["TROUPE_HOME"])
    try {
      const migrated = await Effect.runPromise(Effect.either(opened.store.migrate()))
      if (migrated._tag === "Left") throw new CliFailure(EXIT.daemonError, `troupe report: cannot read ${opened.where}: ${migrated.left.message}`)
      let source
      try {
        source = await loadStoreSource({ store: opened.store, sql: opened.sql })
      } catch (e) {
        throw new CliFailure(EXIT.daemonError, `troupe report: reading ${opened.where} failed: ${e instanceof Error ? e.message : String(e)}`)
      }
      io.err(`read ${source.counts.auditRows} audit rows from ${opened.where}: ${source.counts.orders} orders, ${source.counts.riskDecisions} risk decisions (no arrival mid in the store: no slippage)\n`)
      // Strategy records are in the journal, not the store (operator-ui: journal-records.ts).
      const home = env["TROUPE_HOME"] ?? DEFAULT_HOME
      if ((await daemonListening(env)) === undefined) {
        const records = await readJournalStrategyRecords(home).catch((e: unknown) => {
          io.err(`strategy records not read from ${join(home, "journal")}: ${e instanceof Error ? e.message : String(e)}\n`)
          return undefined
        })
        if (records !== undefined) {
          io.err(`read ${records.rows.length} strategy records from the journal at ${join(home, "journal")}${records.skipped > 0 ? ` (${records.skipped} other or unreadable records skipped)` : ""}\n`)
          return await runReportCli(rest, { ...source, strategyRecords: records.rows }, io)
        }
      } else io.err("strategy records not read: the daemon is running and owns the journal\n")
      return await runReportCli(rest, source, io)
    } finally {
      await Effect.runPromise(opened.store.close())
    }
  }
  const flag = rest[at] as string
  const text = flag.includes("=") ? flag.slice(flag.indexOf("=") + 1) : rest[at + 1]
  rest.splice(at, flag.includes("=") ? 1 : 2)
  if (text === undefined || !/^\d{1,9}$/.test(text) || Number(text) < 1) throw usageError(`troupe report: --fixture expects a positive number of fills, got ${JSON.stringify(text ?? "")}\n${REPORT_STORE_USAGE}`)
  return runReportCli(rest, generateFixture({ fills: Number(text) }).source, io)
}
