import { resolve } from "node:path"
import { didYouMean } from "../domain/did-you-mean.js"
import type { StrategyView } from "../daemon/control.js"
import { parseCommand, printJson, type Io } from "./args.js"
import { call, resolveTarget, segment, usageError } from "./daemon-client.js"
import { renderTable } from "./table.js"
import { whoAmI } from "./who.js"

export const STRATEGY_USAGE = `usage: troupe strategy list
       troupe strategy start|stop|restart <id>
       troupe strategy reconfigure <id> --params '{"spread":"0.001"}'
       troupe strategy add <file> [--id ID] [--params '{json}']
  (each also takes --reason "..." for the audit trail, --port N and --json)`

const parseParams = (text: string | undefined): Record<string, unknown> | undefined => {
  if (text === undefined) return undefined
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (e) {
    throw usageError(`troupe strategy: --params is not JSON: ${e instanceof Error ? e.message : String(e)}`)
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw usageError("troupe strategy: --params must be a JSON object")
  return parsed as Record<string, unknown>
}

const table = (strategies: ReadonlyArray<StrategyView>): string =>
  strategies.length === 0
    ? "no strategies\n"
    : renderTable(
        ["ID", "KIND", "STATE", "INSTRUMENTS", "RESTARTS"],
        strategies.map((s) => [s.id, s.kind, s.state, s.instruments.join(","), String(s.restarts)])
      )

/** `troupe strategy ...`: list strategies and start, stop, restart, reconfigure or add one without stopping the daemon. */
export const runStrategy = async (argv: ReadonlyArray<string>, io: Io): Promise<number> => {
  const { values, positionals } = parseCommand("strategy", argv, { params: { type: "string" }, id: { type: "string" }, reason: { type: "string" } }, STRATEGY_USAGE)
  const [action, arg, ...extra] = positionals
  if (extra.length > 0) throw usageError(`troupe strategy: unexpected argument '${extra[0]}'\n${STRATEGY_USAGE}`)
  const target = resolveTarget(values.port)
  const params = parseParams(values.params)
  const reason = values.reason?.trim()
  // Who and why go to the audit trail with the command.
  const audit = { who: whoAmI(), ...(reason === undefined || reason === "" ? {} : { why: reason }) }
  const show = (result: StrategyView | ReadonlyArray<StrategyView>): number => {
    if (values.json) printJson(io, result)
    else io.out(table(Array.isArray(result) ? (result as ReadonlyArray<StrategyView>) : [result as StrategyView]))
    return 0
  }
  switch (action) {
    case "list":
    case undefined:
      if (arg !== undefined) throw usageError(`troupe strategy list: unexpected argument '${arg}'\n${STRATEGY_USAGE}`)
      return show(await call(target, "strategy list", (c) => c.strategies.list()))
    case "start":
    case "stop":
    case "restart":
    case "reconfigure": {
      if (arg === undefined) throw usageError(`troupe strategy ${action}: which strategy? give its id\n${STRATEGY_USAGE}`)
      if (action === "reconfigure" && params === undefined) throw usageError(`troupe strategy reconfigure: --params '{json}' is required\n${STRATEGY_USAGE}`)
      if (action !== "reconfigure" && params !== undefined) throw usageError(`troupe strategy ${action}: --params only goes with reconfigure or add\n${STRATEGY_USAGE}`)
      const payload = { ...audit, ...(params === undefined ? {} : { params }) }
      return show(await call(target, `strategy ${action}`, (c) => c.strategies.action({ path: { id: segment(arg), action }, payload })))
    }
    case "add": {
      if (arg === undefined) throw usageError(`troupe strategy add: which file?\n${STRATEGY_USAGE}`)
      // The daemon may run elsewhere in the file system: send an absolute path.
      const payload = { ...audit, file: resolve(arg), ...(values.id === undefined ? {} : { id: values.id }), ...(params === undefined ? {} : { params }) }
      return show(await call(target, "strategy add", (c) => c.strategies.add({ payload })))
    }
    default:
      throw usageError(`troupe strategy: unknown action '${action}'${didYouMean(action, ["list", "start", "stop", "restart", "reconfigure", "add"])}\n${STRATEGY_USAGE}`)
  }
}
