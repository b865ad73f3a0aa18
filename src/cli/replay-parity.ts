import { existsSync } from "node:fs"
import { Effect } from "effect"
import { StrategyCatalog } from "../daemon/strategy-catalog.js"
import { ParityInputError, runParity, type IntentText } from "../replay/parity.js"
import { printJson, type Io } from "./args.js"
import { CliFailure, EXIT, usageError } from "./daemon-client.js"

export const PARITY_USAGE = `usage: troupe replay --parity <journal dir | TROUPE_HOME> [--id STRATEGY] [--params '{json}'] [--json]
  Re-runs the strategies a daemon recorded (journal.recordMarketData: true) on what they received
  and compares their intents with the journal's, input by input. Exit 0: the same decisions;
  exit 1: the first divergence (which input, which strategy, expected vs got).
  --params    params merged over the recorded ones (of --id, or of every strategy without it)`

const text = (i: IntentText | null): string => (i === null ? "nothing" : JSON.stringify(i))

/** `troupe replay --parity DIR`. */
export const runParityCli = async (dir: string | undefined, values: { readonly id?: string | undefined; readonly params?: string | undefined; readonly json?: boolean | undefined }, io: Io): Promise<number> => {
  if (dir === undefined) throw usageError(`troupe replay: --parity needs a journal directory\n${PARITY_USAGE}`)
  if (!existsSync(dir)) throw new CliFailure(EXIT.usage, `troupe replay: ${dir}: no such directory`)
  let override: { strategy?: string; params: Record<string, unknown> } | undefined
  if (values.params !== undefined) {
    let parsed: unknown
    try {
      parsed = JSON.parse(values.params)
    } catch (e) {
      throw usageError(`troupe replay: --params is not JSON: ${e instanceof Error ? e.message : String(e)}`)
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw usageError(`troupe replay: --params must be a JSON object`)
    override = { params: parsed as Record<string, unknown>, ...(values.id === undefined ? {} : { strategy: values.id }) }
  }
  const catalog = new StrategyCatalog()
  try {
    const result = await runParity({ dir, loadDefinition: (id) => Effect.runPromise(catalog.load(id)), ...(override === undefined ? {} : { override }) })
    const same = result.divergences === 0 && result.unattributed === 0
    if (values.json === true) printJson(io, result)
    else {
      io.out(
        `parity: ${result.inputs} recorded inputs of ${result.strategies.length} strateg${result.strategies.length === 1 ? "y" : "ies"} (${result.strategies.join(", ")}) in run${result.runs.length === 1 ? "" : "s"} ${result.runs.join(", ")}: ` +
          `${result.matched} intents the same, ${result.divergences} divergence${result.divergences === 1 ? "" : "s"}` +
          (result.unattributed > 0 ? `, ${result.unattributed} journaled intents no recorded input produced` : "") +
          "\n"
      )
      const f = result.first
      if (f !== undefined) {
        io.out(
          `first divergence: strategy ${f.strategy}, run ${f.run}, input ${f.line} (${f.input}) at ${new Date(f.t).toISOString()}, intent ${f.position + 1}: ${f.why}\n` +
            `  expected (journal): ${text(f.expected)}\n` +
            `  got (replay):       ${text(f.got)}\n`
        )
      }
    }
    return same ? EXIT.ok : EXIT.daemonError
  } catch (e) {
    if (e instanceof ParityInputError) throw new CliFailure(EXIT.usage, `troupe replay --parity: ${e.message}`)
    throw new CliFailure(EXIT.daemonError, `troupe replay --parity: ${e instanceof Error ? e.message : String(e)}`)
  }
}
