import { existsSync } from "node:fs"
import { readFile } from "node:fs/promises"
import { createRequire } from "node:module"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

/**
 * The inspector's static files, served without the token (they hold no data; the page asks
 * for the token itself). Only plain file names of known types are served from the inspector
 * folder, so no path can reach outside it; ELK comes straight from `node_modules`.
 */

const TYPES: Readonly<Record<string, string>> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  svg: "image/svg+xml"
}

const FILE = /^[a-z0-9][a-z0-9-]*\.(html|js|css|svg)$/

/** The page may load its own scripts and styles and talk to this origin (HTTP and WebSocket), nothing else. */
export const INSPECTOR_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

/** `src/inspector` seen from this module, in the sources (`src/daemon/control-api`) or the build (`dist/daemon/control-api`). */
export const defaultInspectorDir = (): string => {
  const here = fileURLToPath(new URL(".", import.meta.url))
  const candidates = [join(here, "../../inspector"), join(here, "../../../src/inspector")]
  return candidates.find((d) => existsSync(join(d, "index.html"))) ?? (candidates[0] as string)
}

/**
 * ELK's files the page may load: the API (small, on the page) and the layout engine run in a
 * Web Worker (1.6 MB, off the main thread); the bundle (both, on the main thread) is the
 * fallback where a worker cannot start.
 */
const ELK_FILES: ReadonlySet<string> = new Set(["elk.bundled.js", "elk-api.js", "elk-worker.min.js"])

const elkPath = (file: string): string | undefined => {
  try {
    return createRequire(import.meta.url).resolve(`elkjs/lib/${file}`)
  } catch {
    return undefined
  }
}

export interface StaticFile {
  readonly body: Buffer
  readonly contentType: string
}

/** `rest` is the path after `/inspector/`: "" for the page, `app.js`, `vendor/elk-api.js`. */
export const readInspectorFile = async (dir: string, rest: string): Promise<StaticFile | undefined> => {
  const vendor = rest.startsWith("vendor/") ? rest.slice("vendor/".length) : undefined
  if (vendor !== undefined && ELK_FILES.has(vendor)) {
    const path = elkPath(vendor)
    return path === undefined ? undefined : { body: await readFile(path), contentType: TYPES["js"] as string }
  }
  const name = rest === "" ? "index.html" : rest
  const m = FILE.exec(name)
  if (m === null) return undefined
  try {
    return { body: await readFile(join(dir, name)), contentType: TYPES[m[1] as string] as string }
  } catch {
    return undefined
  }
}
