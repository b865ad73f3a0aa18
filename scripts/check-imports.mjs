// Enforces the dependency rules of ARCHITECTURE.md: which part of src/ may import which, and
// no import cycles. A violation is a design bug, so `npm run lint` fails on it.
import { readFileSync, readdirSync, statSync } from "node:fs"
import { dirname, join, relative, resolve } from "node:path"

const root = resolve(new URL("..", import.meta.url).pathname)
const src = join(root, "src")

// part -> parts it may import (besides itself). `ports` files anywhere are allowed by rule below.
const allowed = {
  domain: [],
  machines: ["domain"],
  actors: ["domain", "machines"],
  adapters: ["domain", "machines", "actors"],
  persistence: ["domain", "actors"],
  analytics: ["domain", "persistence"],
  strategies: ["domain", "actors"],
  daemon: ["domain", "machines", "actors", "adapters", "persistence", "analytics", "strategies", "inspector"],
  // replay/ is a second composition root (backtest beside live): it runs the daemon's own trading
  // node wiring (TradingNode, EventJournal, StrategyCatalog) on simulated time, so it may import daemon/.
  replay: ["domain", "machines", "actors", "adapters", "persistence", "strategies", "daemon"],
  // simulation/ is the third composition root: the daemon's trading node, on simulated time, against
  // the simulator's engine, with faults and invariants (deterministic from a seed).
  simulation: ["domain", "machines", "actors", "adapters", "persistence", "strategies", "daemon", "replay"],
  // cluster/ is the fourth composition root: a cluster node (md or trading) runs the daemon's own
  // composition per owned account, so it may import daemon/ (docs/cluster.md).
  cluster: ["domain", "machines", "actors", "adapters", "persistence", "daemon"],
  cli: ["domain", "machines", "daemon", "analytics", "adapters", "strategies", "actors", "persistence", "replay", "simulation", "cluster"],
  inspector: []
}

const files = []
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) {
      if (name !== "vendor") walk(p)
    } else if (/\.(ts|mts)$/.test(name) && !name.endsWith(".d.ts")) files.push(p)
  }
}
walk(src)

const importRe = /(?:^|\n)\s*(?:import|export)\s[^"'`]*?from\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g
const partOf = (file) => relative(src, file).split("/")[0]
const problems = []
const graph = new Map()

for (const file of files) {
  const text = readFileSync(file, "utf8")
  const deps = []
  for (const m of text.matchAll(importRe)) {
    const spec = m[1] ?? m[2]
    if (!spec || !spec.startsWith(".")) continue
    let target = resolve(dirname(file), spec).replace(/\.js$/, ".ts")
    if (!target.endsWith(".ts")) target += ".ts"
    deps.push(target)
    const from = partOf(file)
    const to = partOf(target)
    if (from === to) continue
    // `ports` are the seams between parts: any part may implement a port it does not own.
    const isPort = /(^|\/)ports(\.ts|\/)/.test(relative(src, target))
    if (!(allowed[from] ?? []).includes(to) && !isPort) {
      problems.push(`${relative(root, file)} imports ${relative(root, target)}: ${from}/ may not import ${to}/`)
    }
  }
  graph.set(file, deps)
}

// Cycle detection (Tarjan-free DFS with colours).
const colour = new Map()
const stack = []
const visit = (f) => {
  colour.set(f, 1)
  stack.push(f)
  for (const d of graph.get(f) ?? []) {
    if (!graph.has(d)) continue
    const c = colour.get(d)
    if (c === 1) {
      const cycle = stack.slice(stack.indexOf(d)).concat(d).map((x) => relative(root, x))
      problems.push(`import cycle: ${cycle.join(" -> ")}`)
    } else if (c === undefined) visit(d)
  }
  stack.pop()
  colour.set(f, 2)
}
for (const f of graph.keys()) if (!colour.has(f)) visit(f)

if (problems.length > 0) {
  for (const p of problems) console.error(p)
  process.exit(1)
}
console.log(`imports ok: ${files.length} files, rules of ARCHITECTURE.md hold, no cycles`)
