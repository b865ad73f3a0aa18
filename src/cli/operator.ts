import { userInfo } from "node:os"
import type { OperatorResult } from "../daemon/control.js"
import { parseCommand, printJson, type Io } from "./args.js"
import { request, resolveTarget, usageError } from "./daemon-client.js"

export const OPERATOR_USAGE = 'usage: troupe halt|reduce|resume --reason "..." [--cancel-all] [--port N] [--json]'

/** The OS user, recorded as who acted; `USER` when the account has no passwd entry (containers). */
const whoAmI = (): string => {
  try {
    return userInfo().username
  } catch {
    return process.env["USER"] ?? "unknown"
  }
}

/** `troupe halt|reduce|resume --reason "..."`: the operator's kill switch, on every account. */
export const runOperator = async (command: "halt" | "reduce" | "resume", argv: ReadonlyArray<string>, io: Io): Promise<number> => {
  const { values, positionals } = parseCommand(command, argv, { reason: { type: "string" }, "cancel-all": { type: "boolean", default: false } }, OPERATOR_USAGE)
  if (positionals.length > 0) throw usageError(`troupe ${command}: unexpected argument '${positionals[0]}'\n${OPERATOR_USAGE}`)
  const reason = values.reason?.trim()
  if (reason === undefined || reason === "") throw usageError(`troupe ${command}: --reason is required (it goes to the audit trail)\n${OPERATOR_USAGE}`)
  if (command === "resume" && values["cancel-all"] === true) throw usageError(`troupe resume: --cancel-all only goes with halt or reduce\n${OPERATOR_USAGE}`)
  const body = { who: whoAmI(), why: reason, ...(values["cancel-all"] === true ? { cancelAll: true } : {}) }
  const result = (await request(resolveTarget(values.port), "POST", `/api/${command}`, body)) as OperatorResult
  if (values.json) {
    printJson(io, result)
    return 0
  }
  for (const [account, state] of Object.entries(result.trading)) io.out(`${account}: ${state}\n`)
  if (values["cancel-all"] === true) io.out(`cancel sent for ${result.canceled} open order${result.canceled === 1 ? "" : "s"}\n`)
  return 0
}
