import { readFile } from "node:fs/promises"
import { describe, expect, it } from "vitest"
import { exportMachine, findMachine, machines, renderMachineDoc, toGraphJson, toMermaid, transitionTable } from "../../src/machines/index.js"

describe("machine docs and exports", () => {
  it("the committed docs/machines pages are what `npm run machines:docs` writes", async () => {
    for (const entry of machines) {
      const committed = await readFile(new URL(`../../docs/machines/${entry.name}.md`, import.meta.url), "utf8").catch(() => "(missing)")
      expect(committed, `docs/machines/${entry.name}.md is out of date: run npm run machines:docs`).toBe(renderMachineDoc(entry))
    }
  })

  it("every machine exports a mermaid stateDiagram-v2 and a JSON graph that name each of its transitions", () => {
    for (const entry of machines) {
      const mermaid = toMermaid(entry.machine)
      expect(mermaid.startsWith("stateDiagram-v2\n")).toBe(true)
      const json = JSON.parse(exportMachine(entry, "json")) as ReturnType<typeof toGraphJson>
      expect(json.version).toBe(entry.version)
      expect(json.transitions).toEqual(transitionTable(entry.machine))
      for (const row of transitionTable(entry.machine)) expect(row.source.startsWith(entry.machine.id)).toBe(true)
    }
  })

  it("the registry finds machines by name and versions are unique", () => {
    expect(findMachine("order")?.version).toBe("order@1")
    expect(findMachine("nope")).toBeUndefined()
    expect(new Set(machines.map((m) => m.version)).size).toBe(machines.length)
  })
})
