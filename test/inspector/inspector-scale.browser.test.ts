import { existsSync } from "node:fs"
import { mkdir } from "node:fs/promises"
import { chromium, type Browser, type Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startControlApi, type ControlApi } from "../../src/daemon/control-api/server.js"
import { makeFakeControl, ORDER_ACTOR } from "../daemon/control-api/fake-control.js"
import { makeScaleControl, type ScaleControl } from "./scale-control.js"

// The inspector after a day of trading: 1,000 instruments and 10,000 finished orders, served by
// the real control API (in-memory daemon behind it), in Debian's chromium.
//
// Bounds (functional, not a bench): the tree on screen and the first page of finished orders
// within 1 s of navigation start; an order's diagram drawn within 1 s of the click; while 1,350
// stream messages arrive in 3 s, no main-thread stall over 250 ms (a 60 Hz page stalls 16 ms;
// 250 ms is where a click feels stuck) and a click still opens an order within 1 s.
// The test machine is 2 cores shared by many jobs (load averages of 20+ are seen), so each
// bound is relaxed to 3x the same figure measured in the same run on the same browser for a
// 5-actor daemon (the baseline), when that is larger: a page that is slow because of its size
// fails, a page that is slow because the machine is busy does not. Figures and baselines are
// printed, so the margin can be read in the log.
const CHROMIUM = process.env["TROUPE_CHROMIUM"] ?? "/usr/bin/chromium"
const TOKEN = "scale-token"
const BOUND_MS = 1000
const STALL_MS = 250
const SLACK = 3
let api: ControlApi
let small: ControlApi
let control: ScaleControl
let browser: Browser

beforeAll(async () => {
  control = makeScaleControl({ instruments: 1000, finished: 10_000 })
  api = await startControlApi({ port: 0, token: TOKEN, control })
  small = await startControlApi({ port: 0, token: TOKEN, control: makeFakeControl() })
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-extensions", "--disable-dev-shm-usage", "--no-first-run"]
  })
}, 60_000)
afterAll(async () => {
  await browser?.close()
  await api?.close()
  await small?.close()
})

/** `bound`, or SLACK times the same-run baseline when the machine is that much slower. */
const within = (what: string, value: number, bound: number, baseline: number): void => {
  const limit = Math.max(bound, SLACK * baseline)
  process.stderr.write(`inspector-scale: ${what} ${value.toFixed(0)} ms; baseline (5 actors) ${baseline.toFixed(0)} ms; limit ${limit.toFixed(0)} ms\n`)
  expect(value, `${what} (baseline ${baseline.toFixed(0)} ms)`).toBeLessThan(limit)
}

const layoutReady = (page: Page): Promise<unknown> => expect.poll(async () => (await stats(page))["orderLayoutAt"], { timeout: 20_000 }).toBeGreaterThan(0)

/** Longest main-thread stall seen by a 10 ms timer over `ms`. */
const stallProbe = (page: Page): Promise<void> =>
  page.evaluate(() => {
    const w = globalThis as unknown as { stallMax: number; stallStop: boolean }
    w.stallMax = 0
    w.stallStop = false
    let last = performance.now()
    const tick = (): void => {
      const now = performance.now()
      w.stallMax = Math.max(w.stallMax, now - last)
      last = now
      if (!w.stallStop) setTimeout(tick, 10)
    }
    setTimeout(tick, 10)
  })
const stallStop = (page: Page): Promise<number> =>
  page.evaluate(() => {
    const w = globalThis as unknown as { stallMax: number; stallStop: boolean }
    w.stallStop = true
    return w.stallMax
  })

const stats = (page: Page): Promise<Record<string, number>> => page.evaluate(() => ({ ...(globalThis as unknown as { troupeInspector: { stats: Record<string, number> } }).troupeInspector.stats }))

/** The highlighted state and the slider are both inside the viewport. */
const bothVisible = async (page: Page): Promise<{ state: boolean; slider: boolean }> => {
  const viewport = page.viewportSize()!
  const inside = (b: { x: number; y: number; width: number; height: number } | null): boolean =>
    b !== null && b.x >= 0 && b.y >= 0 && b.x + b.width <= viewport.width && b.y + b.height <= viewport.height && b.width > 8
  const state = await page.locator('[data-testid="machine-diagram"] [data-current="true"] > rect').first().boundingBox()
  const slider = await page.getByTestId("time-slider").boundingBox()
  return { state: inside(state), slider: inside(slider) }
}

const open = async (width: number, height: number, server: ControlApi = api): Promise<{ page: Page; problems: string[] }> => {
  const page = await browser.newPage({ viewport: { width, height } })
  const problems: string[] = []
  page.on("pageerror", (e) => problems.push(e.message))
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(m.text())
  })
  await page.goto(`${server.url}/inspector/#token=${TOKEN}`)
  return { page, problems }
}

describe.skipIf(!existsSync(CHROMIUM))("inspector at scale", () => {
  it("renders 1,000 instruments and 10,000 finished orders, opens an order, and stays responsive while orders stream", async () => {
    // The baseline: the same page on a 5-actor daemon, same browser, same moment.
    const base = await open(1600, 1000, small)
    await base.page.locator('[data-testid="finished-total"][data-total="1"]').waitFor()
    await layoutReady(base.page)
    await base.page.getByTestId(`actor-${ORDER_ACTOR}`).click()
    await base.page.locator('[data-testid="machine-diagram"] [data-current="true"]').waitFor()
    await stallProbe(base.page)
    await base.page.waitForTimeout(1500)
    const baseStall = await stallStop(base.page)
    const baseline = await stats(base.page)
    await base.page.close()

    const { page, problems } = await open(1600, 1000)
    const last = control.instrumentIds[control.instrumentIds.length - 1] as string
    await page.getByTestId(`actor-instrument:${last}`).waitFor({ state: "attached" })
    await page.locator('[data-testid="finished-total"][data-total="10000"]').waitFor()
    const first = await stats(page)
    within("tree on screen after navigation start", first["firstTreeAt"]!, BOUND_MS, baseline["firstTreeAt"]!)
    within("first page of finished orders after navigation start", first["firstSearchAt"]!, BOUND_MS, baseline["firstSearchAt"]!)
    // Live orders only in the tree; the finished ones are a page of 100, not 10,000 rows.
    expect(await page.locator('[data-testid^="actor-order:"]').count()).toBe(20)
    expect(await page.locator('[data-testid^="finished-order:"]').count()).toBe(100)

    // Search: by instrument and state, then the next page keeps going where the first stopped.
    const instrument = control.instrumentIds[7] as string
    await page.getByTestId("search-instrument").fill(instrument)
    await page.getByTestId("search-state").selectOption("filled")
    await page.getByTestId("order-search").locator('button[type="submit"]').click()
    // 10,000 orders on instrument (i*7 % 1000): i ≡ 1 mod 1000/gcd → 10 orders; filled is i%6 ∈ {0,3}.
    const expected = control.finishedIds.filter((_, i) => (i * 7) % 1000 === 7 && (i % 6 === 0 || i % 6 === 3)).length
    await page.locator(`[data-testid="finished-total"][data-total="${expected}"]`).waitFor()
    expect(await page.locator('[data-testid^="finished-order:"]').count()).toBe(expected)
    await page.getByTestId("search-instrument").fill("")
    await page.getByTestId("search-state").selectOption("")
    await page.getByTestId("search-id").fill("trend-1-00")
    await page.getByTestId("order-search").locator('button[type="submit"]').click()
    await page.locator(`[data-testid="finished-total"][data-total="${control.finishedIds.filter((id) => id.includes("trend-1-00")).length}"]`).waitFor()
    await page.getByTestId("finished-more").click()
    await expect.poll(() => page.locator('[data-testid^="finished-order:"]').count()).toBe(200)
    const ids = await page.locator('[data-testid^="finished-order:"] .name').allTextContents()
    expect(new Set(ids).size).toBe(200)
    expect([...ids].sort().reverse()).toEqual(ids)

    // An order's diagram, from a click in the finished list (the page lays the order machine out
    // in a worker once it is idle; both pages wait for that before their first click).
    await layoutReady(page)
    const target = ids[150] as string
    await page.getByTestId(`finished-order:${target}`).click()
    const current = page.locator('[data-testid="machine-diagram"] [data-current="true"]')
    await expect.poll(() => current.getAttribute("data-state")).toMatch(/^order\.(filled|canceled|rejected|expired)$/)
    const opened = await stats(page)
    within("click to order diagram", opened["lastSelectMs"]!, BOUND_MS, baseline["lastSelectMs"]!)
    expect(await page.locator("#detail-title").textContent()).toBe(`order:${target}`)

    // Stream: 1,350 messages in 3 s (new orders, their fills and cancels, book resyncs) while
    // the page measures its own main-thread stalls.
    await stallProbe(page)
    const treeBefore = await page.locator('[data-testid^="actor-order:"]').count()
    const started: string[] = []
    const streamDone = (async () => {
      for (let tick = 0; tick < 30; tick++) {
        for (let k = 0; k < 10; k++) {
          const cid = control.newOrder()
          started.push(cid)
          control.step(cid, { type: "FILL", journal: "OrderFilled", fillId: `p${tick}-${k}`, quantity: "0.5", price: "100.5" }, { working: "partiallyFilled" })
          control.bookTick(tick * 10 + k)
        }
        // Half of them finish: they stay in the tree (dimmed) until the next reconcile drops them.
        for (const cid of started.splice(0, 5)) control.step(cid, { type: "CANCELED", journal: "OrderCanceled", reason: "requested" }, "canceled")
        await new Promise((r) => setTimeout(r, 100))
      }
    })()
    // Open a live order mid-stream and watch its partial fill arrive.
    await page.waitForTimeout(800)
    const liveOne = control.newOrder()
    await page.getByTestId(`actor-order:${liveOne}`).click()
    await expect.poll(() => current.getAttribute("data-state")).toBe("order.working.accepted")
    const midStream = await stats(page)
    within("click to order diagram while streaming", midStream["lastSelectMs"]!, BOUND_MS, baseline["lastSelectMs"]!)
    control.step(liveOne, { type: "FILL", journal: "OrderFilled", fillId: "live-1", quantity: "0.5", price: "100.5" }, { working: "partiallyFilled" })
    await expect.poll(() => current.getAttribute("data-state")).toBe("order.working.partiallyFilled")
    await streamDone
    const stall = await stallStop(page)
    const after = await stats(page)
    process.stderr.write(`inspector-scale: ${after["streamMessages"]} stream messages applied in ${after["flushes"]} flushes, last flush ${after["lastFlushMs"]!.toFixed(1)} ms\n`)
    within("longest main-thread stall while streaming", stall, STALL_MS, baseStall)
    expect(after["streamMessages"]).toBeGreaterThanOrEqual(1350)
    // The stream added the new live orders to the tree without a rebuild.
    await expect.poll(() => page.locator('[data-testid^="actor-order:"]').count(), { timeout: 8_000 }).toBeGreaterThan(treeBefore + 100)
    expect(problems).toEqual([])
    await page.close()
  }, 90_000)

  for (const [width, height] of [
    [1600, 1000],
    [1280, 800]
  ] as const) {
    it(`at ${width}x${height} the highlighted state and the time-travel slider are on screen together`, async () => {
      const { page, problems } = await open(width, height)
      const cid = control.finishedIds[0] as string // filled: SUBMIT, ACCEPTED, FILL (partial), FILL
      await page.getByTestId("search-id").fill(cid)
      await page.getByTestId("order-search").locator('button[type="submit"]').click()
      await page.getByTestId(`finished-order:${cid}`).click()
      const current = page.locator('[data-testid="machine-diagram"] [data-current="true"]')
      await expect.poll(() => current.getAttribute("data-state")).toBe("order.filled")
      // Travel back to the partial fill.
      await page.getByTestId("time-slider").fill("3")
      await expect.poll(() => current.getAttribute("data-state")).toBe("order.working.partiallyFilled")
      expect(await page.getByTestId("time-label").textContent()).toMatch(/^3\/4 · working\.partiallyFilled/)
      expect(await bothVisible(page)).toEqual({ state: true, slider: true })
      // Events are numbered past 9 and the context is folded below the first level.
      expect(await page.locator('[data-testid="event-list"] li .n').allTextContents()).toEqual(["1", "2", "3", "4"])
      expect(await page.locator('[data-testid="context"] details').first().getAttribute("open")).not.toBeNull()
      expect(await page.locator('[data-testid="context"] details details[open]').count()).toBe(0)
      await mkdir("test-artifacts", { recursive: true })
      await page.screenshot({ path: `test-artifacts/inspector-${width}x${height}.png` })
      expect(problems).toEqual([])
      await page.close()
    }, 30_000)
  }

  it("hides the timeline until an actor with a machine is selected, and shows a strategy's page", async () => {
    const { page, problems } = await open(1280, 800)
    await page.getByTestId("actor-mm-eth").waitFor()
    expect(await page.getByTestId("timeline").isVisible()).toBe(false)
    await page.getByTestId("actor-mm-eth").click()
    await page.getByTestId("strategy-page").waitFor()
    await page.locator('[data-testid="machine-diagram"] [data-current="true"]').waitFor()
    expect(await page.getByTestId("timeline").isVisible()).toBe(true)
    // Its lifecycle was recorded: time travel to before STARTED.
    await page.getByTestId("time-slider").fill("1")
    await expect.poll(() => page.locator('[data-testid="machine-diagram"] [data-current="true"]').getAttribute("data-state")).toBe("strategy.starting")
    expect(await page.getByTestId("strategy-params").textContent()).toContain('"gamma": "0.1"')
    expect(await page.getByTestId("strategy-page").textContent()).toContain("13.5")
    // PnL over time comes from the daemon's samples (taken before this page opened), not from this page's polls:
    // the first drawing already has the daemon's point(s) plus the current one (a page's own sampling would start at 1).
    await page.getByTestId("strategy-pnl-chart").waitFor()
    expect(Number(await page.getByTestId("strategy-pnl-chart").getAttribute("data-points"))).toBeGreaterThanOrEqual(2)
    expect(await page.getByTestId("strategy-page").textContent()).toContain("sampled by the daemon")
    await page.screenshot({ path: "test-artifacts/inspector-strategy.png", fullPage: true })
    expect(problems).toEqual([])
    await page.close()
  }, 30_000)
})
