import { spawn } from "node:child_process"

/** The metric names a Grafana dashboard's PromQL expressions use (`_bucket` kept: it must be served as such). */
export const dashboardMetrics = (json: string): ReadonlyArray<string> => {
  const dashboard = JSON.parse(json) as { panels: Array<{ targets?: Array<{ expr: string }> }> }
  const names = new Set<string>()
  const functions = new Set(["sum", "rate", "by", "le", "histogram_quantile", "irate", "increase", "avg", "max", "min", "without", "kind", "reason", "strategy", "instrument"])
  for (const p of dashboard.panels) {
    for (const t of p.targets ?? []) {
      // Drop label matchers and durations, then every identifier that is not a PromQL word is a metric.
      const bare = t.expr.replace(/\{[^}]*\}/g, "").replace(/\[[^\]]*\]/g, "")
      for (const m of bare.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) if (!functions.has(m[0])) names.add(m[0])
    }
  }
  return [...names].sort()
}

/** `promtool check metrics` over the text; `undefined` when promtool is not installed. */
export const promtoolCheck = (text: string): Promise<{ code: number | null; output: string } | undefined> =>
  new Promise((resolve) => {
    const child = spawn("promtool", ["check", "metrics"], { stdio: ["pipe", "pipe", "pipe"] })
    let output = ""
    child.stdout.on("data", (b: Buffer) => (output += b.toString()))
    child.stderr.on("data", (b: Buffer) => (output += b.toString()))
    child.once("error", () => resolve(undefined))
    child.once("exit", (code) => resolve({ code, output: output.trim() }))
    child.stdin.end(text)
  })
