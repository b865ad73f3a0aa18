import { userInfo } from "node:os"
import { parseCommand, printJson, type Io } from "./args.js"
import { call, resolveTarget, usageError } from "./daemon-client.js"

export const OPERATOR_USAGE = 'usage: troupe halt|reduce|resume|cancel-all --reason "..." [--cancel-all] [--cause journal|audit|dailyLoss|reconciliation|venueBan|portfolioVar|portfolioStress|lossBreaker] [--port N] [--json]'

const CAUSES = ["journal", "audit", "dailyLoss", "reconciliation", "venueBan", "portfolioVar", "portfolioStress", "lossBreaker"] as const

/** The OS user, recorded as who acted; `USER` when the account has no passwd entry (containers). */
export const whoAmI = (): string => {
  try {
    return userInfo().username
  } catch {
    return process.env["USER"] ?? "unknown"
  }
}

/**
 * `troupe halt|reduce|resume|cancel-all --reason "..."`: the operator's kill switch, on every
 * account. `resume` lifts the operator's own halt or reduce-only; `resume --cause C` lifts one
 * automatic cause instead (audited). Every action is journaled and audited with your user name.
 */
export const runOperator = async (command: "halt" | "reduce" | "resume" | "cancel-all", argv: ReadonlyArray<string>, io: Io): Promise<number> => {
  const { values, positionals } = parseCommand(command, argv, { reason: { type: "string" }, "cancel-all": { type: "boolean", default: false }, cause: { type: "string" } }, OPERATOR_USAGE)
  if (positionals.length > 0) throw usageError(`troupe ${command}: unexpected argument '${positionals[0]}'\n${OPERATOR_USAGE}`)
  const reason = values.reason?.trim()
  if (reason === undefined || reason === "") throw usageError(`troupe ${command}: --reason is required (it goes to the audit trail)\n${OPERATOR_USAGE}`)
  if ((command === "resume" || command === "cancel-all") && values["cancel-all"] === true) throw usageError(`troupe ${command}: --cancel-all only goes with halt or reduce\n${OPERATOR_USAGE}`)
  if (values.cause !== undefined && command !== "resume") throw usageError(`troupe ${command}: --cause only goes with resume\n${OPERATOR_USAGE}`)
  if (values.cause !== undefined && !CAUSES.some((c) => c === values.cause)) throw usageError(`troupe resume: --cause must be one of ${CAUSES.join(", ")}\n${OPERATOR_USAGE}`)
  const cause = CAUSES.find((c) => c === values.cause)
  const payload = { who: whoAmI(), why: reason, ...(values["cancel-all"] === true ? { cancelAll: true } : {}), ...(cause === undefined ? {} : { cause }) }
  const endpoint = command === "cancel-all" ? "cancelAll" : command
  const result = await call(resolveTarget(values.port), command, (c) => c.operator[endpoint]({ payload }))
  if (values.json) {
    printJson(io, result)
    return 0
  }
  for (const [account, state] of Object.entries(result.trading)) io.out(`${account}: ${state}\n`)
  if (values["cancel-all"] === true || command === "cancel-all") io.out(`cancel sent for ${result.canceled} open order${result.canceled === 1 ? "" : "s"}\n`)
  return 0
}
