import { readdir } from "node:fs/promises"
import { fileURLToPath } from "node:url"
import { emit, type Bench } from "./harness.js"

// Runs every `bench/*.bench.ts` (or those whose name contains argv[2]) and prints JSON lines.
const dir = fileURLToPath(new URL(".", import.meta.url))
const filter = process.argv[2]
const files = (await readdir(dir)).filter((f) => f.endsWith(".bench.ts")).sort()
for (const file of files) {
  const mod = (await import(new URL(file, import.meta.url).href)) as { benches?: ReadonlyArray<Bench> }
  for (const bench of mod.benches ?? []) {
    if (filter && !bench.name.includes(filter)) continue
    const missing = (bench.needs ?? []).filter((s) => (s === "kafka" ? !process.env.KAFKA_BROKERS : !process.env.DATABASE_URL))
    if (missing.length > 0) {
      process.stderr.write(`skip ${bench.name}: needs ${missing.join(", ")} (run via npm run bench, which starts them)\n`)
      continue
    }
    for (const figure of await bench.run()) emit(figure)
  }
}
