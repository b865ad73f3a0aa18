import { parseCommand, printJson, type Io } from "./args.js"
import { call, resolveTarget } from "./daemon-client.js"
import { formatDuration, renderPairs, renderTable } from "./table.js"

export const STATUS_USAGE = "usage: troupe status [--port N] [--json]"

/** `troupe status`: the node's lifecycle state, trading state per account, uptime and counts. */
export const runStatus = async (argv: ReadonlyArray<string>, io: Io): Promise<number> => {
  const { values } = parseCommand("status", argv, {}, STATUS_USAGE)
  const status = await call(resolveTarget(values.port), "status", (c) => c.node.status())
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
  // Every cause that holds an account back, with who, why and since: the state is the most restrictive.
  const causes = Object.entries(status.causes ?? {}).flatMap(([account, list]) => list.map((c) => [account, c.cause, c.level, c.who, new Date(c.since).toISOString(), c.why]))
  if (causes.length > 0) io.out(`\ncauses of the trading state\n${renderTable(["account", "cause", "level", "who", "since", "why"], causes)}`)
  const mismatches = Object.entries(status.positionMismatches ?? {}).flatMap(([account, list]) => list.map((m) => ({ account, ...m })))
  if (mismatches.length > 0) {
    io.out(`\nposition mismatches (reduce-only until 'troupe reconcile accept')\n${renderTable(["account", "instrument", "ours", "venue", "difference", "fills seen"], mismatches.map((m) => [m.account, m.instrument, m.ours, m.venue, m.difference, String(m.fills.length)]))}`)
    const fills = mismatches.flatMap((m) => m.fills.map((f) => [m.instrument, f.fillId, f.side, f.qty, f.price, f.clientOrderId ?? "-", f.status]))
    if (fills.length > 0) io.out(`\nvenue fills seen while reconciling\n${renderTable(["instrument", "fill", "side", "qty", "price", "client order id", "status"], fills)}`)
  }
  return 0
}
