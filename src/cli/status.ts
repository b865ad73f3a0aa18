import type { NodeStatus } from "../daemon/control.js"
import { parseCommand, printJson, type Io } from "./args.js"
import { request, resolveTarget } from "./daemon-client.js"
import { formatDuration, renderPairs } from "./table.js"

export const STATUS_USAGE = "usage: troupe status [--port N] [--json]"

/** `troupe status`: the node's lifecycle state, trading state per account, uptime and counts. */
export const runStatus = async (argv: ReadonlyArray<string>, io: Io): Promise<number> => {
  const { values } = parseCommand("status", argv, {}, STATUS_USAGE)
  const status = (await request(resolveTarget(values.port), "GET", "/api/status")) as NodeStatus
  if (values.json) {
    printJson(io, status)
    return 0
  }
  const trading = Object.entries(status.trading)
  const rows: Array<[string, string]> = [
    ["node", status.node],
    ["version", status.version],
    ["uptime", formatDuration(status.uptimeMs)],
    ...trading.map(([account, state]): [string, string] => [`trading ${account}`, state]),
    ["actors", String(status.counts.actors)],
    ["restarts", String(status.counts.restarts)],
    ["strategies", String(status.counts.strategies)],
    ["open orders", String(status.counts.openOrders)],
    ["positions", String(status.counts.positions)]
  ]
  io.out(renderPairs(rows))
  return 0
}
