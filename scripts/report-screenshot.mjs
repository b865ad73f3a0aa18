// Screenshot of an HTML report (`troupe report --html FILE`) in Debian's Chromium through
// playwright-core, as the browser tests do; prints the points of the equity and drawdown charts.
//   node scripts/report-screenshot.mjs report.html test-artifacts/demo-report-10min.png
import { existsSync } from "node:fs"
import { resolve } from "node:path"
import { pathToFileURL } from "node:url"
import { chromium } from "playwright-core"

const [html, png] = process.argv.slice(2)
if (html === undefined || png === undefined) {
  process.stderr.write("usage: node scripts/report-screenshot.mjs REPORT.html OUT.png\n")
  process.exit(2)
}
const executablePath = process.env.TROUPE_CHROMIUM ?? "/usr/bin/chromium"
if (!existsSync(executablePath)) {
  process.stderr.write(`no Chromium at ${executablePath} (apt-get install chromium, or set TROUPE_CHROMIUM)\n`)
  process.exit(1)
}
const browser = await chromium.launch({ executablePath, headless: true, args: ["--no-sandbox"] })
try {
  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } })
  await page.goto(pathToFileURL(resolve(html)).href)
  const charts = await page.evaluate(() =>
    // eslint-disable-next-line no-undef -- runs in the page
    Array.from(document.querySelectorAll('svg.chart[data-chart="equity"], svg.chart[data-chart="drawdown"]')).map((svg) => ({
      kind: svg.getAttribute("data-chart"),
      points: Array.from(svg.querySelectorAll("path.series")).map((p) => Number(p.getAttribute("data-points")))
    }))
  )
  await page.screenshot({ path: png, fullPage: true })
  process.stdout.write(`${JSON.stringify(charts)}\n${png}\n`)
} finally {
  await browser.close()
}
