import { spawn, type ChildProcess } from "node:child_process"
import { randomBytes } from "node:crypto"
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import pg from "pg"
import { freePort } from "../services/free-port.js"
import { TROUPE_BIN } from "../services/build.js"

/**
 * A daemon child process as a user runs it (`troupe daemon --config`), for the recovery tests:
 * started, probed until it is running, killed (SIGKILL) or stopped (SIGTERM), started again on
 * the same home, journal and store.
 */
export interface DaemonProcess {
  readonly child: ChildProcess
  readonly port: number
  readonly exit: Promise<number | null>
  stderr: string
}

export const until = async <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000, context: () => string = () => ""): Promise<T> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await probe().catch(() => undefined)
    if (v !== undefined) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${context().slice(-4000)}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

export const startDaemon = async (home: string, configFile: string, env: Record<string, string> = {}): Promise<DaemonProcess> => {
  const port = await freePort()
  const child = spawn(process.execPath, [TROUPE_BIN, "daemon", "--config", configFile, "--port", String(port)], {
    env: { PATH: process.env["PATH"] ?? "", TROUPE_HOME: home, ...env },
    stdio: ["ignore", "pipe", "pipe"]
  })
  const d: DaemonProcess = { child, port, exit: new Promise((r) => child.once("exit", (code) => r(code))), stderr: "" }
  child.stderr?.on("data", (b: Buffer) => (d.stderr += b.toString()))
  child.stdout?.resume()
  return d
}

export const token = (home: string): string => readFileSync(join(home, "token"), "utf8").trim()

export const api = async <T>(d: DaemonProcess, home: string, path: string, init: RequestInit = {}): Promise<T> => {
  const r = await fetch(`http://127.0.0.1:${d.port}${path}`, { ...init, headers: { authorization: `Bearer ${token(home)}`, "content-type": "application/json", ...(init.headers ?? {}) } })
  if (r.status >= 400) throw new Error(`${path}: ${r.status} ${await r.text()}`)
  return (await r.json()) as T
}

/** Waits for `/readyz` (node running: recovered and reconciled). */
export const waitReady = (d: DaemonProcess, timeoutMs = 90_000): Promise<true> =>
  until(
    "the daemon to be ready",
    async () => {
      if (d.child.exitCode !== null) throw new Error(`daemon exited ${d.child.exitCode}`)
      const r = await fetch(`http://127.0.0.1:${d.port}/readyz`)
      return r.status === 200 ? (true as const) : undefined
    },
    timeoutMs,
    () => d.stderr
  )

export const writeConfig = (home: string, config: unknown): string => {
  const file = join(home, "config.json")
  writeFileSync(file, JSON.stringify(config, null, 2))
  return file
}

/** A database of its own on the test server (dropped by `drop`). */
export const throwawayDatabase = async (baseUrl: string, prefix: string): Promise<{ readonly url: string; readonly drop: () => Promise<void> }> => {
  const name = `${prefix}_${randomBytes(4).toString("hex")}`
  const admin = new pg.Client({ connectionString: baseUrl })
  await admin.connect()
  await admin.query(`create database ${name}`)
  await admin.end()
  const u = new URL(baseUrl)
  u.pathname = `/${name}`
  return {
    url: u.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: baseUrl })
      await c.connect()
      await c.query(`drop database if exists ${name} with (force)`).catch(() => undefined)
      await c.end()
    }
  }
}
