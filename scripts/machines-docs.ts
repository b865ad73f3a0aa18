import { mkdir, writeFile } from "node:fs/promises"
import { fileURLToPath } from "node:url"
import { machines, renderMachineDoc } from "../src/machines/index.js"

// Writes docs/machines/<name>.md (diagram + transition table) for every machine.
// test/machines/docs.test.ts fails when the committed pages differ from what this writes.
const dir = fileURLToPath(new URL("../docs/machines/", import.meta.url))
await mkdir(dir, { recursive: true })
for (const entry of machines) {
  await writeFile(new URL(`${entry.name}.md`, `file://${dir}`), renderMachineDoc(entry))
  process.stdout.write(`docs/machines/${entry.name}.md\n`)
}
