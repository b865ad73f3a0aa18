import { didYouMean } from "../domain/did-you-mean.js"
import { exportMachine, findMachine, machines } from "../machines/index.js"
import { parseCommand, type Io } from "./args.js"
import { usageError } from "./daemon-client.js"
import { renderTable } from "./table.js"

export const MACHINES_USAGE = `usage: troupe machines list
       troupe machines export <name> [--format mermaid|json]   (mermaid by default; --json: json)`

/** `troupe machines ...`: straight from the machine registry; needs no daemon. */
export const runMachines = async (argv: ReadonlyArray<string>, io: Io): Promise<number> => {
  const { values, positionals } = parseCommand("machines", argv, { format: { type: "string" } }, MACHINES_USAGE)
  const [action, name, ...extra] = positionals
  if (extra.length > 0) throw usageError(`troupe machines: unexpected argument '${extra[0]}'\n${MACHINES_USAGE}`)
  if (action === undefined || action === "list") {
    if (values.json) io.out(JSON.stringify(machines.map((m) => ({ name: m.name, version: m.version, description: m.description })), null, 2) + "\n")
    else io.out(renderTable(["NAME", "VERSION", "DESCRIPTION"], machines.map((m) => [m.name, m.version, m.description])))
    return 0
  }
  if (action !== "export") throw usageError(`troupe machines: unknown action '${action}'${didYouMean(action, ["list", "export"])}\n${MACHINES_USAGE}`)
  if (name === undefined) throw usageError(`troupe machines export: which machine? (${machines.map((m) => m.name).join(", ")})\n${MACHINES_USAGE}`)
  const entry = findMachine(name)
  if (entry === undefined) throw usageError(`troupe machines export: no machine '${name}'${didYouMean(name, machines.map((m) => m.name))} (machines: ${machines.map((m) => m.name).join(", ")})`)
  const format = values.format ?? (values.json ? "json" : "mermaid")
  if (format !== "mermaid" && format !== "json") throw usageError(`troupe machines export: --format must be mermaid or json, got ${JSON.stringify(format)}\n${MACHINES_USAGE}`)
  io.out(exportMachine(entry, format))
  return 0
}
