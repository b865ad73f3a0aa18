import { existsSync } from "node:fs"
import { mkdir } from "node:fs/promises"
import { chromium, type Browser } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startControlApi, type ControlApi } from "../../src/daemon/control-api/server.js"
import { makeFakeControl, ORDER_ACTOR, type FakeControl } from "../daemon/control-api/fake-control.js"

// Needs Debian's chromium at /usr/bin/chromium (or TROUPE_CHROMIUM); the page is served by the
// real control API with an in-memory daemon behind it.
const CHROMIUM = process.env["TROUPE_CHROMIUM"] ?? "/usr/bin/chromium"
const TOKEN = "inspector-token"
let api: ControlApi
let control: FakeControl
let browser: Browser

beforeAll(async () => {
  control = makeFakeControl()
  api = await startControlApi({ port: 0, token: TOKEN, control })
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-extensions", "--disable-dev-shm-usage", "--no-first-run"]
  })
}, 60_000)
afterAll(async () => {
  await browser?.close()
  await api?.close()
})

describe.skipIf(!existsSync(CHROMIUM))("inspector page", () => {
  it("draws the selected order's machine and moves the highlight when the order fills", async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } })
    const problems: string[] = []
    page.on("pageerror", (e) => problems.push(e.message))
    page.on("console", (m) => {
      if (m.type() === "error") problems.push(m.text())
    })
    await page.goto(`${api.url}/inspector/#token=${TOKEN}`)
    // The token leaves the URL at once (it stays in sessionStorage).
    expect(new URL(page.url()).hash).toBe("")

    await page.getByTestId(`actor-${ORDER_ACTOR}`).click()
    const diagram = page.getByTestId("machine-diagram")
    await diagram.waitFor()
    expect(await diagram.getAttribute("data-machine")).toBe("order")
    const current = page.locator('[data-testid="machine-diagram"] [data-current="true"]')
    await expect.poll(() => current.getAttribute("data-state")).toBe("order.working.accepted")
    expect(await current.count()).toBe(1)
    expect(await page.locator('[data-testid="machine-diagram"] .edge').count()).toBeGreaterThan(5)
    await page.locator('[data-testid="connection"][data-live="true"]').waitFor()

    control.orderTransition({ type: "FILL", fillId: "f-1", qty: "0.010", price: "60000.5" }, "filled")
    await expect.poll(() => current.getAttribute("data-state")).toBe("order.filled")
    await expect.poll(() => page.getByTestId("event-list").locator("li").count()).toBe(3)
    expect(await page.getByTestId("event-list").locator("li").last().textContent()).toContain('"fillId":"f-1"')

    // Time travel: back to before the venue accepted the order.
    await page.getByTestId("time-slider").fill("1")
    await expect.poll(() => current.getAttribute("data-state")).toBe("order.submitted")
    expect(await page.getByTestId("time-label").textContent()).toMatch(/^1\/3 · submitted/)

    await mkdir("test-artifacts", { recursive: true })
    await page.getByTestId("time-slider").fill("3")
    await page.screenshot({ path: "test-artifacts/inspector.png", fullPage: true })
    expect(problems).toEqual([])
  }, 60_000)
})
