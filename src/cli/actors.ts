import { parseCommand, printJson, type Io } from "./args.js"
import { call, resolveTarget } from "./daemon-client.js"
import { formatDuration, renderTable, stateText, treeLines } from "./table.js"

export const ACTORS_USAGE = "usage: troupe actors [--port N] [--json]"

/** `troupe actors`: the supervision tree, with each child's state, restarts and uptime. */
export const runActors = async (argv: ReadonlyArray<string>, io: Io): Promise<number> => {
  const { values } = parseCommand("actors", argv, {}, ACTORS_USAGE)
  const tree = await call(resolveTarget(values.port), "actors", (c) => c.node.actors())
  if (values.json) {
    printJson(io, tree)
    return 0
  }
  const rows = treeLines(tree).map(({ node, prefix }) => [
    prefix + node.id,
    node.kind === "supervisor" ? `supervisor${node.strategy === undefined ? "" : ` (${node.strategy})`}` : (node.machine ?? "worker"),
    node.state,
    stateText(node.machineState),
    String(node.restarts),
    node.state === "running" ? formatDuration(node.uptimeMs) : "-"
  ])
  io.out(renderTable(["ACTOR", "KIND", "STATE", "MACHINE STATE", "RESTARTS", "UPTIME"], rows))
  return 0
}
