// Summarises a V8 .cpuprofile: self time per function (top N), and per file, as % of samples.
// Usage: node bench/tick/profile-summary.mjs <file.cpuprofile> [N] [--from µs --to µs]
// --from/--to: only samples in that span of the monotonic clock (tick_to_order prints the measured
// span of each client when TICK_BENCH_CPU_PROF is set). Idle samples are counted apart: the
// percentages are of the CPU actually used.
import { readFileSync } from "node:fs"

const args = process.argv.slice(2)
const opt = (name) => {
  const i = args.indexOf(name)
  if (i < 0) return undefined
  const v = Number(args[i + 1])
  args.splice(i, 2)
  return v
}
const from = opt("--from") ?? -Infinity
const to = opt("--to") ?? Infinity
const [file, n = "25"] = args
const profile = JSON.parse(readFileSync(file, "utf8"))
const byId = new Map(profile.nodes.map((node) => [node.id, node]))
const counts = new Map()
let t = profile.startTime
let idle = 0
let inWindow = 0
profile.samples.forEach((id, i) => {
  t += profile.timeDeltas[i] ?? 0
  if (t < from || t > to) return
  inWindow++
  if (byId.get(id).callFrame.functionName === "(idle)") {
    idle++
    return
  }
  counts.set(id, (counts.get(id) ?? 0) + 1)
})
const total = inWindow - idle
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
console.log(`${inWindow} samples in the window, ${idle} idle; percentages of the ${total} busy ones\n-- self time by function --\n${top(perFn).join("\n")}\n-- by file / package --\n${top(perFile).join("\n")}`)
