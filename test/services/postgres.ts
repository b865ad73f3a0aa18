import { spawnSync } from "node:child_process"
import { randomBytes } from "node:crypto"
import { mkdtempSync, rmSync, chmodSync } from "node:fs"
import { tmpdir, userInfo } from "node:os"
import { join } from "node:path"
import pg from "pg"
import { freePort } from "./free-port.js"

/**
 * Postgres for tests: DATABASE_URL if set, else the local server at 127.0.0.1:5432/test.
 * Every run creates its own database and drops it afterwards. When no server answers, a
 * throwaway cluster is started with the local initdb/pg_ctl if they are installed.
 */
export interface PostgresService {
  /** URL of the throwaway database created for this run. */
  readonly url: string
  readonly stop: () => Promise<void>
}

const DEFAULT_URL = "postgres://127.0.0.1:5432/test"

const log = (msg: string): void => {
  process.stderr.write(`[services] ${msg}\n`)
}

const answers = async (url: string): Promise<boolean> => {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 })
  try {
    await client.connect()
    await client.query("select 1")
    return true
  } catch {
    return false
  } finally {
    await client.end().catch(() => undefined)
  }
}

const withDatabase = (url: string, database: string): string => {
  const u = new URL(url)
  u.pathname = `/${database}`
  return u.toString()
}

const startThrowawayCluster = async (): Promise<{ url: string; stop: () => void }> => {
  const has = (bin: string): boolean => spawnSync(bin, ["--version"], { stdio: "ignore" }).status === 0
  if (!has("initdb") || !has("pg_ctl")) {
    throw new Error("no PostgreSQL server answers at DATABASE_URL or 127.0.0.1:5432 and initdb/pg_ctl are not installed: install PostgreSQL (e.g. apt-get install postgresql) or set DATABASE_URL")
  }
  const dir = mkdtempSync(join(tmpdir(), "troupe-pg-"))
  chmodSync(dir, 0o777)
  const port = await freePort()
  // initdb refuses to run as root: run it as the postgres system user when we are root.
  const asUser = userInfo().uid === 0 ? ["runuser", "-u", "postgres", "--"] : []
  const run = (args: string[]): void => {
    const [cmd, ...rest] = [...asUser, ...args]
    const r = spawnSync(cmd as string, rest, { encoding: "utf8" })
    if (r.status !== 0) throw new Error(`${args[0]} failed: ${r.stderr || r.error?.message}`)
  }
  run(["initdb", "-D", join(dir, "data"), "-A", "trust", "-U", "postgres", "--no-sync"])
  run(["pg_ctl", "-D", join(dir, "data"), "-l", join(dir, "pg.log"), "-w", "-o", `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, "start"])
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop: () => {
      run(["pg_ctl", "-D", join(dir, "data"), "-m", "immediate", "stop"])
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

/** node-postgres needs a user name; without one in the URL it reads $USER, which CI may not set. */
const withUser = (url: string): string => {
  const u = new URL(url)
  if (u.username === "") u.username = process.env.PGUSER ?? process.env.USER ?? userInfo().username
  return u.toString()
}

export const startPostgres = async (): Promise<PostgresService> => {
  let serverUrl = withUser(process.env.DATABASE_URL ?? DEFAULT_URL)
  let stopCluster: (() => void) | undefined
  if (!(await answers(serverUrl))) {
    log(`no PostgreSQL answers at ${serverUrl}; starting a throwaway cluster`)
    const cluster = await startThrowawayCluster()
    serverUrl = cluster.url
    stopCluster = cluster.stop
  }
  const database = `troupe_test_${process.pid}_${randomBytes(4).toString("hex")}`
  const admin = new pg.Client({ connectionString: serverUrl })
  await admin.connect()
  await admin.query(`create database ${database}`)
  await admin.end()
  log(`Postgres database ${database} created`)
  return {
    url: withDatabase(serverUrl, database),
    stop: async () => {
      const client = new pg.Client({ connectionString: serverUrl })
      await client.connect()
      await client.query(`drop database if exists ${database} with (force)`)
      await client.end()
      stopCluster?.()
    }
  }
}
