import { spawnSync } from "node:child_process"
import { existsSync, readdirSync, statSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

const ROOT = fileURLToPath(new URL("../..", import.meta.url))

/** The `troupe` command as users run it: `process.execPath` with these arguments first. */
export const TROUPE_BIN = join(ROOT, "bin", "troupe")

const newest = (dir: string): number => {
  let t = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name)
    t = Math.max(t, entry.isDirectory() ? newest(p) : statSync(p).mtimeMs)
  }
  return t
}

/**
 * The process tests run `bin/troupe`, which runs the compiled `dist/` (built by `npm ci`). When a
 * source file is newer than the build — an edit since — compile again, so that no test runs
 * yesterday's code.
 */
export const ensureBuild = (log: (msg: string) => void): void => {
  const built = join(ROOT, "dist", "cli", "main.js")
  if (existsSync(built) && statSync(built).mtimeMs >= newest(join(ROOT, "src"))) return
  log("src/ is newer than dist/: compiling (npm run build) for the process tests...")
  const r = spawnSync(process.execPath, [join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", join(ROOT, "tsconfig.build.json")], { stdio: "inherit", cwd: ROOT })
  if (r.status !== 0) throw new Error("npm run build failed: the process tests would run stale code")
}
