// Summarises a V8 .cpuprofile: self time per function (top N), and per file, as % of samples.
// Usage: node bench/tick/profile-summary.mjs <file.cpuprofile> [N]
import { readFileSync } from "node:fs"

const [file, n = "25"] = process.argv.slice(2)
const profile = JSON.parse(readFileSync(file, "utf8"))
const byId = new Map(profile.nodes.map((node) => [node.id, node]))
const counts = new Map()
for (const id of profile.samples) counts.set(id, (counts.get(id) ?? 0) + 1)
const total = profile.samples.length
const perFn = new Map()
const perFile = new Map()
for (const [id, c] of counts) {
  const f = byId.get(id).callFrame
  const where = f.url.replace(/^.*\/(node_modules\/[^/]+|src|bench)\//, "$1/") || "(native)"
  const key = `${f.functionName || "(anonymous)"} ${where}:${f.lineNumber + 1}`
  perFn.set(key, (perFn.get(key) ?? 0) + c)
  const fileKey = where.replace(/^(node_modules\/[^/]+)\/.*$/, "$1")
  perFile.set(fileKey, (perFile.get(fileKey) ?? 0) + c)
}
const top = (m) => [...m].sort((a, b) => b[1] - a[1]).slice(0, Number(n)).map(([k, c]) => `${((100 * c) / total).toFixed(1).padStart(5)}%  ${k}`)
console.log(`${total} samples\n-- self time by function --\n${top(perFn).join("\n")}\n-- by file / package --\n${top(perFile).join("\n")}`)
