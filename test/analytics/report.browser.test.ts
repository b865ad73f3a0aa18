import { existsSync } from "node:fs"
import { mkdir, writeFile } from "node:fs/promises"
import { createRequire } from "node:module"
import { join, resolve } from "node:path"
import { pathToFileURL } from "node:url"
import { describe, expect, it } from "vitest"
import { loadDataset, openAnalyticsDb } from "../../src/analytics/dataset.js"
import { generateFixture } from "../../src/analytics/fixture.js"
import { computeReport } from "../../src/analytics/metrics.js"
import { renderHtml } from "../../src/analytics/report.js"

// Opens the HTML report in headless Chromium and keeps a screenshot under test-artifacts/.
// Needs playwright-core (a dev dependency) and Debian's chromium at /usr/bin/chromium; when
// either is missing the test fails and says which, rather than skipping quietly.
const CHROMIUM = process.env.TROUPE_CHROMIUM ?? "/usr/bin/chromium"
const ARTIFACTS = resolve("test-artifacts")

interface Page {
  goto(url: string): Promise<unknown>
  screenshot(opts: { path: string; fullPage: boolean }): Promise<unknown>
  evaluate<T>(fn: () => T): Promise<T>
}
interface Browser {
  newPage(opts: { viewport: { width: number; height: number } }): Promise<Page>
  close(): Promise<void>
}
// The DOM as the page sees it (tsconfig has no DOM lib: this runs in the browser, serialized).
interface ElementLike {
  getBoundingClientRect(): { width: number; height: number }
  getAttribute(name: string): string | null
  querySelectorAll(selector: string): { length: number }
}
interface DocumentLike {
  querySelectorAll(selector: string): ArrayLike<ElementLike>
}
interface Playwright {
  chromium: { launch(opts: { executablePath: string; headless: boolean; args: string[] }): Promise<Browser> }
}

const loadPlaywright = async (): Promise<Playwright> => {
  const missing: string[] = []
  if (!existsSync(CHROMIUM)) missing.push(`no Chromium at ${CHROMIUM} (apt-get install chromium, or set TROUPE_CHROMIUM)`)
  let path: string | undefined
  try {
    path = createRequire(import.meta.url).resolve("playwright-core")
  } catch {
    missing.push("playwright-core does not resolve (npm install -D playwright-core)")
  }
  if (missing.length > 0 || path === undefined) throw new Error(`the HTML report browser test needs: ${missing.join("; ")}`)
  return (await import(pathToFileURL(path).href)) as Playwright
}

describe("the HTML report in a browser", () => {
  it("shows its four charts in headless Chromium, screenshot kept under test-artifacts", async () => {
    const playwright = await loadPlaywright()
    const db = await openAnalyticsDb()
    let html: string
    try {
      await loadDataset(db.conn, generateFixture({ fills: 5000, days: 20, seed: 3 }).source)
      html = renderHtml(await computeReport(db))
    } finally {
      db.close()
    }
    await mkdir(ARTIFACTS, { recursive: true })
    const file = join(ARTIFACTS, "analytics-report.html")
    await writeFile(file, html)
    const browser = await playwright.chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] })
    try {
      const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } })
      await page.goto(pathToFileURL(file).href)
      const charts = await page.evaluate(() =>
        Array.from((globalThis as unknown as { document: DocumentLike }).document.querySelectorAll("svg.chart")).map((svg) => {
          const box = svg.getBoundingClientRect()
          return { kind: svg.getAttribute("data-chart"), width: box.width, height: box.height, marks: svg.querySelectorAll("path.series, rect.bar").length }
        })
      )
      expect(charts.map((c) => c.kind)).toEqual(["equity", "drawdown", "pnl-by-strategy", "latency-histogram"])
      for (const c of charts) {
        expect(c.width).toBeGreaterThan(300)
        expect(c.height).toBeGreaterThan(100)
        expect(c.marks).toBeGreaterThan(0)
      }
      await page.screenshot({ path: join(ARTIFACTS, "analytics-report.png"), fullPage: true })
      expect(existsSync(join(ARTIFACTS, "analytics-report.png"))).toBe(true)

      // A run of ten minutes: the equity and drawdown charts draw one point per bucket on a
      // time axis that fits the run, across the page width, every point inside the axes.
      const short = await openAnalyticsDb()
      let shortHtml: string
      try {
        // (the fixture's hourly marks would stretch the run to an hour: marked at the fill prices instead)
        const { marks: _hourly, ...fills } = generateFixture({ fills: 2000, days: 10 / 1440, seed: 11, start: Date.UTC(2026, 11, 3, 14, 0) }).source
        await loadDataset(short.conn, fills)
        shortHtml = renderHtml(await computeReport(short))
      } finally {
        short.close()
      }
      const shortFile = join(ARTIFACTS, "report-short-run.html")
      await writeFile(shortFile, shortHtml)
      await page.goto(pathToFileURL(shortFile).href)
      const lines = await page.evaluate(() =>
        Array.from((globalThis as unknown as { document: DocumentLike }).document.querySelectorAll('svg.chart[data-chart="equity"], svg.chart[data-chart="drawdown"]')).map((svg) => {
          const box = svg.getBoundingClientRect()
          const view = (svg.getAttribute("viewBox") ?? "").split(" ").map(Number)
          const series = Array.from((svg as unknown as DocumentLike).querySelectorAll("path.series")).map((p) => {
            const nums = (p.getAttribute("d") ?? "").match(/-?[\d.]+/g)?.map(Number) ?? []
            const ys = nums.filter((_, i) => i % 2 === 1)
            const xs = nums.filter((_, i) => i % 2 === 0)
            return { points: Number(p.getAttribute("data-points")), minX: Math.min(...xs), maxX: Math.max(...xs), minY: Math.min(...ys), maxY: Math.max(...ys) }
          })
          const labels = Array.from((svg as unknown as { querySelectorAll(s: string): ArrayLike<{ textContent: string | null }> }).querySelectorAll("text")).map((t) => t.textContent ?? "")
          return { kind: svg.getAttribute("data-chart"), width: box.width, viewW: view[2] ?? 0, viewH: view[3] ?? 0, series, labels }
        })
      )
      expect(lines.map((l) => l.kind)).toEqual(["equity", "drawdown"])
      for (const l of lines) {
        expect(l.width).toBeGreaterThan(1400) // the page is 1600 wide, minus margins
        for (const s of l.series) {
          expect(s.points).toBeGreaterThan(100)
          expect(s.minX).toBeGreaterThanOrEqual(0)
          expect(s.maxX).toBeLessThanOrEqual(l.viewW)
          expect(s.minY).toBeGreaterThanOrEqual(30 - 0.1) // inside the plot frame (top 30, bottom 40)
          expect(s.maxY).toBeLessThanOrEqual(l.viewH - 40 + 0.1)
        }
        // minutes on the time axis, not one date
        expect(l.labels.filter((t) => /^14:0\d(:\d\d)?$/.test(t)).length).toBeGreaterThan(2)
      }
      await page.screenshot({ path: join(ARTIFACTS, "report-short-run.png"), fullPage: false })
    } finally {
      await browser.close()
    }
  })
})
