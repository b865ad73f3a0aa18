import { existsSync } from "node:fs"
import { resolve } from "node:path"
import { Effect, Either } from "effect"
import { StrategyCatalog } from "../daemon/strategy-catalog.js"
import { loadMarketInput } from "../replay/market-input.js"
import { clearReplayOutput, runReplay, ReplayOutputExists } from "../replay/replay.js"
import { parseCommand, printJson, type Io } from "./args.js"
import { CliFailure, EXIT, usageError } from "./daemon-client.js"
import { progressSink } from "./progress.js"
import { PARITY_USAGE, runParityCli } from "./replay-parity.js"

export const REPLAY_USAGE = `usage: troupe replay --from <recording.jsonl | journal dir> --strategy <file | kind> [--params '{json}']
                     [--speed max|<multiplier>] [--out DIR] [--id ID] [--force] [--no-store] [--json]
  --from      a recording of Kraken's public feed (JSON lines: book_snapshot, book, trade) or a file
              journal directory (its md topic: BookSnapshot, BookDelta, Trade)
  --strategy  a strategy file (default export from defineStrategy) or a built-in kind:
              avellaneda-stoikov, momentum-breakout, pairs-zscore
  --speed     max (default): as fast as possible; N: N simulated seconds per wall second
  --out       output directory (default ./replay-out): journal/ (every event of the run), pglite/
              (the store: TROUPE_HOME=DIR troupe report, or troupe report --home DIR), summary.json
  --force     replace a previous run in --out;  --no-store: journal only (no PGlite store)
${PARITY_USAGE}`

const parseSpeed = (text: string | undefined): number | undefined => {
  if (text === undefined || text === "max") return undefined
  const n = Number(text)
  if (!/^\d+(\.\d+)?$/.test(text) || !(n > 0)) throw usageError(`troupe replay: --speed expects max or a positive multiplier, got ${JSON.stringify(text)}\n${REPLAY_USAGE}`)
  return n
}

const parseParams = (text: string | undefined): unknown => {
  if (text === undefined) return {}
  try {
    return JSON.parse(text) as unknown
  } catch (e) {
    throw usageError(`troupe replay: --params is not JSON: ${e instanceof Error ? e.message : String(e)}`)
  }
}

/** `troupe replay`: the strategy on recorded market data, on simulated time, through the daemon's own stack. */
export const runReplayCli = async (argv: ReadonlyArray<string>, io: Io, stderrIsTty = process.stderr.isTTY === true): Promise<number> => {
  if (argv.includes("--help") || argv.includes("-h")) {
    io.out(`${REPLAY_USAGE}\n`)
    return EXIT.ok
  }
  const { values, positionals } = parseCommand(
    "replay",
    argv,
    {
      from: { type: "string" },
      strategy: { type: "string" },
      params: { type: "string" },
      speed: { type: "string" },
      out: { type: "string" },
      id: { type: "string" },
      force: { type: "boolean", default: false },
      "no-store": { type: "boolean", default: false },
      quiet: { type: "boolean", default: false },
      parity: { type: "boolean", default: false }
    },
    REPLAY_USAGE
  )
  // `troupe replay --parity DIR` (or `--from DIR --parity`): a live run's recorded strategies, re-run.
  if (values.parity) return runParityCli(values.from ?? positionals[0], { id: values.id, params: values.params, json: values.json }, io)
  if (positionals.length > 0) throw usageError(`troupe replay: unexpected argument '${positionals[0]}'\n${REPLAY_USAGE}`)
  if (values.from === undefined) throw usageError(`troupe replay: --from is required\n${REPLAY_USAGE}`)
  if (values.strategy === undefined) throw usageError(`troupe replay: --strategy is required\n${REPLAY_USAGE}`)
  if (!existsSync(values.from)) throw new CliFailure(EXIT.usage, `troupe replay: --from ${values.from}: no such file or directory`)
  const speed = parseSpeed(values.speed)
  const params = parseParams(values.params)
  const outDir = resolve(values.out ?? "replay-out")
  if (values.force) clearReplayOutput(outDir)

  const definition = await Effect.runPromise(Effect.either(new StrategyCatalog().load(values.strategy)))
  if (Either.isLeft(definition)) throw new CliFailure(EXIT.daemonError, `troupe replay: ${definition.left.message}`)
  const input = await Effect.runPromise(Effect.either(loadMarketInput(values.from)))
  // A missing, unreadable or truncated input is one line and exit code 2 (the input is at fault, not the run).
  if (Either.isLeft(input)) {
    const cause = input.left.cause
    throw new CliFailure(EXIT.usage, `troupe replay: cannot read ${values.from}: ${cause instanceof Error ? cause.message : String(cause)}`)
  }
  if (input.right.messages.length === 0) throw new CliFailure(EXIT.daemonError, `troupe replay: ${values.from} holds no market data (${input.right.skipped} lines skipped)`)

  const progress = values.quiet ? undefined : progressSink(io.err, stderrIsTty, "replay")
  try {
    const result = await runReplay({
      input: input.right,
      strategy: definition.right,
      params,
      ...(values.id === undefined ? {} : { strategyId: values.id }),
      outDir,
      ...(speed === undefined ? {} : { speed }),
      store: !values["no-store"],
      ...(progress === undefined ? {} : { onProgress: (p) => progress.update(p.done, p.total, p.rate, p.etaMs) }),
      log: (level, message) => {
        if (level === "warn" || level === "error") io.err(`${level}: ${message}\n`)
      }
    })
    progress?.finish(result.messages, result.messages, result.wallMs > 0 ? (result.messages / result.wallMs) * 1000 : 0)
    if (values.json) {
      printJson(io, result)
      return EXIT.ok
    }
    const pos = result.positions.map((p) => `  ${p.instrument}: qty ${p.quantity} avg ${p.avgEntryPrice} realized ${p.realizedPnl} fees ${p.fees}`).join("\n")
    io.out(
      `replayed ${result.messages} market events from ${result.source} (${result.skipped} skipped${result.offTickLevels > 0 ? `, ${result.offTickLevels} off-tick levels refused` : ""}) with ${result.strategy}: ` +
        `${result.orders} orders, ${result.fills} fills, strategy ${result.strategyState}${result.lastError === null ? "" : ` (${result.lastError})`}\n` +
        (pos === "" ? "  no positions\n" : `${pos}\n`) +
        `journal: ${result.journalDir}\n` +
        (result.storeDir === undefined ? "" : `report:  troupe report --home ${outDir}\n`)
    )
    return EXIT.ok
  } catch (e) {
    if (e instanceof ReplayOutputExists) throw new CliFailure(EXIT.usage, `troupe replay: ${e.message}`)
    throw new CliFailure(EXIT.daemonError, `troupe replay: ${e instanceof Error ? e.message : String(e)}`)
  }
}
