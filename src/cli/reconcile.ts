import { parseCommand, printJson, type Io } from "./args.js"
import { call, resolveTarget, usageError } from "./daemon-client.js"
import { whoAmI } from "./operator.js"
import { renderTable } from "./table.js"

export const RECONCILE_USAGE = 'usage: troupe reconcile accept --reason "..." [--port N] [--json]'

/**
 * `troupe reconcile accept --reason "..."`: a position that differed from the venue's after a
 * restart holds the account reduce-only; this takes the venue's side (its position, read now) and
 * lifts that cause. Journaled and audited with your user name. `troupe status` shows the difference.
 */
export const runReconcile = async (argv: ReadonlyArray<string>, io: Io): Promise<number> => {
  const { values, positionals } = parseCommand("reconcile", argv, { reason: { type: "string" } }, RECONCILE_USAGE)
  if (positionals[0] !== "accept" || positionals.length > 1) throw usageError(`troupe reconcile: expected 'accept'\n${RECONCILE_USAGE}`)
  const reason = values.reason?.trim()
  if (reason === undefined || reason === "") throw usageError(`troupe reconcile accept: --reason is required (it goes to the audit trail)\n${RECONCILE_USAGE}`)
  const result = await call(resolveTarget(values.port), "reconcile accept", (c) => c.operator.reconcileAccept({ payload: { who: whoAmI(), why: reason } }))
  if (values.json) {
    printJson(io, result)
    return 0
  }
  for (const [account, state] of Object.entries(result.trading)) io.out(`${account}: ${state}\n`)
  io.out(result.adopted.length === 0 ? "positions already equal the venue's\n" : renderTable(["instrument", "was", "now (venue)"], result.adopted.map((a) => [a.instrument, a.from, a.to])))
  return 0
}
