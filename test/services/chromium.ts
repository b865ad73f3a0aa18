import { spawnSync } from "node:child_process"
import { existsSync } from "node:fs"
import { userInfo } from "node:os"

export const CHROMIUM_PATH = process.env.TROUPE_CHROMIUM ?? "/usr/bin/chromium"

const log = (msg: string): void => {
  process.stderr.write(`[services] ${msg}\n`)
}

/**
 * The browser tests drive Debian's chromium through playwright-core (a test tool's own browser
 * download cannot work offline). When it is missing and we may install packages, install it.
 */
export const ensureChromium = (): void => {
  if (existsSync(CHROMIUM_PATH)) return
  if (userInfo().uid !== 0 || spawnSync("apt-get", ["--version"], { stdio: "ignore" }).status !== 0) {
    log(`chromium is not at ${CHROMIUM_PATH} and cannot be installed here: install Debian's chromium (apt-get install chromium) or set TROUPE_CHROMIUM`)
    return
  }
  log("installing Debian's chromium for the browser tests (first run only)...")
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" }
  spawnSync("apt-get", ["update", "-qq"], { stdio: "ignore", env })
  const r = spawnSync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", "chromium"], { stdio: ["ignore", "ignore", "inherit"], env })
  if (r.status !== 0 || !existsSync(CHROMIUM_PATH)) log("installing chromium failed; the browser tests will say so")
}
