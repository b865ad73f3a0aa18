// Prints the per-hop table of a hop-trace file (TROUPE_HOP_TRACE=<file>): node bench/tick/hop-table.mjs <file> [skipRows]
import { readFileSync } from "node:fs"
const [file, skip = "0"] = process.argv.slice(2)
const { hops, rows } = JSON.parse(readFileSync(file, "utf8"))
const per = hops.map(() => [])
const total = []
for (const r of rows.slice(Number(skip))) {
  let prev, first
  r.forEach((t, h) => {
    if (t === null) return
    if (prev !== undefined) per[h].push((t - prev) * 1000)
    first ??= t
    prev = t
  })
  if (first !== undefined) total.push((prev - first) * 1000)
}
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]
}
console.log(`${"hop".padEnd(14)}${"p50 µs".padStart(10)}${"p99 µs".padStart(10)}${"n".padStart(6)}`)
for (const [h, xs] of [...hops.slice(1).map((h, i) => [h, per[i + 1]]), ["total", total]]) console.log(`${h.padEnd(14)}${pct(xs, 50).toFixed(1).padStart(10)}${pct(xs, 99).toFixed(1).padStart(10)}${String(xs.length).padStart(6)}`)
