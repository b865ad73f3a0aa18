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
    } finally {
      await browser.close()
    }
  })
})
