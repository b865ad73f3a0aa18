import { spawn, type ChildProcess } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { mkdir } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { chromium, type Browser, type Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { freePort } from "../services/free-port.js"
import { TROUPE_BIN } from "../services/build.js"

// The inspector against the REAL daemon: a child process on embedded defaults (in-process
// simulator, three Avellaneda-Stoikov market makers), driven through Debian's chromium.
const CHROMIUM = process.env["TROUPE_CHROMIUM"] ?? "/usr/bin/chromium"
const home = mkdtempSync(join(tmpdir(), "troupe-inspector-"))
let port = 0
let daemon: ChildProcess | undefined
let exit: Promise<number | null> = Promise.resolve(null)
let stderr = ""
let stdout = ""
let browser: Browser | undefined

const WORKING = "order.working.accepted"
const TERMINAL = ["order.filled", "order.canceled", "order.rejected", "order.expired", "order.denied"]

interface OrderRow {
  readonly clientOrderId: string
  readonly instrument: string
  readonly state: string
  readonly open: boolean
  readonly updatedAt: number
}

const token = (): string => readFileSync(join(home, "token"), "utf8").trim()
const api = async <T>(path: string): Promise<T> => {
  const r = await fetch(`http://127.0.0.1:${port}${path}`, { headers: { authorization: `Bearer ${token()}` } })
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`)
  return (await r.json()) as T
}
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

const until = async <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await probe().catch(() => undefined)
    if (v !== undefined) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; daemon stderr:\n${stderr.slice(-3000)}`)
    await sleep(200)
  }
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) return
  port = await freePort()
  const child = spawn(process.execPath, [TROUPE_BIN, "daemon", "--port", String(port)], {
    env: { PATH: process.env["PATH"] ?? "", TROUPE_HOME: home },
    stdio: ["ignore", "pipe", "pipe"]
  })
  daemon = child
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()))
  child.stdout?.on("data", (d: Buffer) => (stdout += d.toString()))
  exit = new Promise((r) => child.once("exit", (code) => r(code)))
  const [launched] = await Promise.all([
    chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-extensions", "--disable-dev-shm-usage", "--no-first-run"]
    }),
    until("/readyz to turn ready", async () => ((await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200 ? true : undefined), 60_000)
  ])
  browser = launched
}, 90_000)

afterAll(async () => {
  await browser?.close()
  if (daemon !== undefined && daemon.exitCode === null && daemon.signalCode === null) daemon.kill("SIGKILL")
  rmSync(home, { recursive: true, force: true })
})

/** The newest working order of the given instrument (the XBT market maker's fill within seconds). */
const newestWorking = async (instrument: string, skip: ReadonlySet<string>): Promise<OrderRow | undefined> => {
  const orders = await api<ReadonlyArray<OrderRow>>("/api/orders?open=true")
  return orders
    .filter((o) => o.instrument === instrument && o.state === "working.accepted" && !skip.has(o.clientOrderId))
    .sort((a, b) => b.updatedAt - a.updatedAt)[0]
}

const highlighted = (page: Page) => page.locator('[data-testid="machine-diagram"] [data-current="true"]')

describe.skipIf(!existsSync(CHROMIUM))("the inspector on the real daemon", () => {
  it("shows the supervision tree, an order's live state, and the highlight moving when it fills", async () => {
    const page = await browser!.newPage({ viewport: { width: 1400, height: 1000 } })
    const problems: string[] = []
    page.on("pageerror", (e) => problems.push(e.message))
    page.on("console", (m) => {
      if (m.type() === "error") problems.push(m.text())
    })

    // The URL the daemon prints on start, as a user would open it.
    const printed = /Inspector: (\S+)/.exec(stdout)?.[1]
    expect(printed).toBe(`http://127.0.0.1:${port}/#token=${token()}`)
    await page.goto(printed!)
    expect(new URL(page.url()).hash).toBe("")
    await page.locator('[data-testid="connection"][data-live="true"]').waitFor({ timeout: 15_000 })

    // The supervision tree: the instruments, the strategies, and the order actors.
    for (const id of ["root", "instruments", "strategies", "orders", "instrument:kraken-futures:PF_XBTUSD", "instrument:kraken-futures:PF_ETHUSD", "instrument:kraken-futures:PF_SOLUSD", "mm-xbt", "mm-eth", "mm-sol"]) {
      await page.getByTestId(`actor-${id}`).waitFor({ timeout: 15_000 })
    }
    await expect.poll(() => page.locator('[data-testid^="actor-order:"]').count(), { timeout: 20_000 }).toBeGreaterThan(0)
    expect(await page.getByTestId("actor-instrument:kraken-futures:PF_XBTUSD").getAttribute("data-kind")).toBe("book-sync")
    expect(await page.getByTestId("actor-mm-xbt").getAttribute("data-kind")).toBe("strategy")

    // Open a working order and watch it until it fills; a requote may cancel it first, so
    // then take the next one. Canceled orders still prove the highlight moves.
    const current = highlighted(page)
    const deadline = Date.now() + 60_000
    const tried = new Set<string>()
    const outcomes: string[] = []
    let finalState: string | undefined
    while (Date.now() < deadline && finalState !== "order.filled") {
      const order = await until("a working XBT order", () => newestWorking("kraken-futures:PF_XBTUSD", tried), Math.max(1_000, deadline - Date.now()))
      tried.add(order.clientOrderId)
      const actorId = `order:${order.clientOrderId}`
      const button = page.getByTestId(`actor-${actorId}`)
      // The tree lists live orders only: one that finished before the tree caught up (a requote
      // or a fill within a second) leaves it again. Only a still-live order missing is a failure.
      const shown = await button.waitFor({ timeout: 5_000 }).then(() => true, () => false)
      if (!shown) {
        const now = (await api<ReadonlyArray<OrderRow>>("/api/orders")).find((o) => o.clientOrderId === order.clientOrderId)
        expect(now?.open, `${actorId} is live but not in the tree`).toBe(false)
        outcomes.push(`${order.clientOrderId}: ended (${now?.state}) before the tree showed it`)
        continue
      }
      expect(await button.getAttribute("data-kind")).toBe("order")
      await button.click()
      const diagram = page.getByTestId("machine-diagram")
      await diagram.waitFor()
      expect(await diagram.getAttribute("data-machine")).toBe("order")
      expect(await page.locator("#detail-title").textContent()).toBe(actorId)
      const first = await current.getAttribute("data-state")
      if (first !== WORKING) {
        // It finished between the API poll and the click: nothing to watch, take another.
        outcomes.push(`${order.clientOrderId}: already ${first}`)
        continue
      }
      expect(await current.count()).toBe(1)
      if (outcomes.length === 0) {
        await mkdir("test-artifacts", { recursive: true })
        await page.screenshot({ path: "test-artifacts/daemon-inspector-working.png", fullPage: true })
      }
      const seen = await until(
        `${actorId} to leave ${WORKING}`,
        async () => {
          const s = await current.first().getAttribute("data-state", { timeout: 1_000 })
          return s !== null && TERMINAL.includes(s) ? s : undefined
        },
        Math.max(1_000, deadline - Date.now())
      ).catch(() => undefined)
      outcomes.push(`${order.clientOrderId}: ${seen ?? "still working"}`)
      if (seen === undefined) break
      expect(await current.count()).toBe(1)
      finalState = seen
      if (seen === "order.filled") {
        // The event list shows the fill that moved it, received live over the stream.
        await expect.poll(() => page.getByTestId("event-list").locator('li[data-event="FILL"][data-journal="OrderFilled"]').count()).toBeGreaterThan(0)
        expect(await page.getByTestId("time-label").textContent()).toMatch(/^live · filled/)
      }
    }
    expect(finalState, `orders watched: ${outcomes.join("; ")}`).toBeDefined()
    expect(TERMINAL).toContain(finalState)
    // Filled is what we aim for; a canceled/requoted order is accepted only if no fill came in time.
    if (finalState !== "order.filled") process.stderr.write(`daemon-inspector: no fill within 60 s; watched ${outcomes.join("; ")}\n`)

    await mkdir("test-artifacts", { recursive: true })
    await page.screenshot({ path: "test-artifacts/daemon-inspector.png", fullPage: true })
    expect(problems).toEqual([])
    await page.close()

    daemon!.kill("SIGTERM")
    const code = await Promise.race([exit, sleep(20_000).then(() => "timeout" as const)])
    expect(code).toBe(0)
  }, 100_000)
})
