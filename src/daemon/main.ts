import { NodeRuntime } from "@effect/platform-node"
import { Cause, Effect, Either } from "effect"
import { loadConfig, redactConfig, type Config } from "./config.js"
import { describeDemoDefaults, isDemo, withDemoDefaults } from "./demo-defaults.js"
import { runDaemonProgram } from "./daemon.js"
import { formatLine, log, setLogFormat, type LogFormat } from "./log.js"
import { describeStartFailure } from "./startup-errors.js"

const usage = `usage: troupe daemon [--config FILE] [--port N] [--home DIR] [--keep-orders] [--skip-undecodable-journal-records] [--verbose] [--log-format text|json]

Runs the trading daemon. With no config it runs on embedded defaults: the exchange simulator
in-process on loopback, an example market maker on three instruments, the file journal and
PGlite under $TROUPE_HOME (default ./.troupe). DATABASE_URL and KAFKA_BROKERS switch to
Postgres and Kafka. SIGTERM/SIGINT drain and exit 0; a second signal forces exit.

A journal record that does not decode at recovery stops trading for the account (the message
names topic/partition@offset); --skip-undecodable-journal-records (config
recovery.skipUndecodableJournalRecords) skips each such record instead, logged and counted.

A start that fails prints one line naming the setting to check; --verbose adds the full cause.
--log-format json writes the log as one JSON object a line (ts, level, logger, msg).
`

interface Flags {
  readonly config?: string
  readonly port?: string
  readonly home?: string
  readonly keepOrders: boolean
  readonly skipUndecodable: boolean
  readonly verbose: boolean
  readonly logFormat: LogFormat
}

const parseFlags = (argv: ReadonlyArray<string>): Either.Either<Flags, string> => {
  const flags: { config?: string; port?: string; home?: string; keepOrders: boolean; skipUndecodable: boolean; verbose: boolean; logFormat: LogFormat } = { keepOrders: false, skipUndecodable: false, verbose: false, logFormat: "text" }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string
    const value = (): string | undefined => argv[++i]
    if (a === "--keep-orders") flags.keepOrders = true
    else if (a === "--skip-undecodable-journal-records") flags.skipUndecodable = true
    else if (a === "--verbose") flags.verbose = true
    else if (a === "--log-format") {
      const v = value()
      if (v !== "text" && v !== "json") return Either.left(`--log-format must be text or json, got ${JSON.stringify(v ?? "")}`)
      flags.logFormat = v
    }
    else if (a === "--config" || a === "--port" || a === "--home") {
      const v = value()
      if (v === undefined) return Either.left(`${a} needs a value`)
      flags[a.slice(2) as "config" | "port" | "home"] = v
    } else if (a === "--help" || a === "-h") return Either.left("")
    else return Either.left(`unknown option ${a}`)
  }
  return Either.right(flags)
}

/** `troupe daemon`: returns only on a usage or config error; otherwise the runtime owns the process. */
export const runDaemon = async (argv: ReadonlyArray<string>): Promise<number> => {
  const flags = parseFlags(argv)
  if (Either.isLeft(flags)) {
    process.stderr.write(flags.left === "" ? usage : `troupe daemon: ${flags.left}\n\n${usage}`)
    return flags.left === "" ? 0 : 2
  }
  setLogFormat(flags.right.logFormat)
  const env = { ...process.env }
  if (flags.right.port !== undefined) env.TROUPE_PORT = flags.right.port
  if (flags.right.home !== undefined) env.TROUPE_HOME = flags.right.home
  const loaded = await Effect.runPromise(Effect.either(loadConfig({ ...(flags.right.config === undefined ? {} : { path: flags.right.config }), env })))
  if (Either.isLeft(loaded)) {
    process.stderr.write(flags.right.logFormat === "json" ? formatLine(`daemon: ${loaded.left.message}`, "error") : `troupe daemon: ${loaded.left.message}\n`)
    return 2
  }
  const demo = isDemo(loaded.right)
  const config: Config = withDemoDefaults(flags.right.skipUndecodable ? { ...loaded.right, recovery: { ...loaded.right.recovery, skipUndecodableJournalRecords: true } } : loaded.right)
  process.stderr.write(flags.right.logFormat === "json" ? formatLine(`config ${JSON.stringify(redactConfig(config))}`, "info") : `troupe: config ${JSON.stringify(redactConfig(config))}\n`)
  if (demo) for (const line of describeDemoDefaults(config)) log(line, "info")

  // A second signal while draining forces the exit.
  let signals = 0
  const force = (): void => {
    if (++signals >= 2) {
      process.stderr.write("troupe: second signal, forcing exit\n")
      process.exit(130)
    }
  }
  process.on("SIGINT", force)
  process.on("SIGTERM", force)

  const program = Effect.scoped(runDaemonProgram({ config, cancelOrdersOnStop: !flags.right.keepOrders })).pipe(
    Effect.tapErrorCause((cause) =>
      Cause.isInterruptedOnly(cause) ? Effect.void : Effect.sync(() => {
              const text = describeStartFailure(cause, config, flags.right.verbose)
              process.stderr.write(flags.right.logFormat === "json" ? formatLine(text.trimEnd().replace(/^troupe: /, ""), "error") : text)
            })
    )
  )
  NodeRuntime.runMain(program)
  return await new Promise<number>(() => undefined)
}
