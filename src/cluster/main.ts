import { NodeRuntime } from "@effect/platform-node"
import { Cause, Effect, Either } from "effect"
import { makeKrakenRestClient, mapInstruments } from "../adapters/venues/kraken-futures/index.js"
import { loadConfig, type Config } from "../daemon/config.js"
import { runDaemon } from "../daemon/main.js"
import { log, setLogFormat } from "../daemon/log.js"
import { EMBEDDED_SYMBOLS } from "../daemon/venue.js"
import { loadClusterFile } from "./cluster-config.js"
import { startMdNode } from "./md-node.js"
import { runTradingRole } from "./trading-role.js"

const usage = `usage: troupe daemon [--role all|md|trading] [--node-id ID] [--cluster FILE] [daemon options]

--role all (the default) is the single-node daemon (see \`troupe daemon --help\` without --role).
--role md and --role trading run a node of a cluster (docs/cluster.md); both need KAFKA_BROKERS,
DATABASE_URL, a venue (venue.baseUrl / venue.wsUrl in --config), --node-id, and --cluster FILE
(the accounts, the session timeout, the md settings). Other options: --config FILE, --home DIR,
--log-format text|json.
`

type Role = "all" | "md" | "trading"

/**
 * \`troupe daemon\` with roles: \`--role all\` (or none) hands every other argument to the
 * single-node daemon unchanged; \`md\` and \`trading\` run a cluster node.
 */
export const runDaemonWithRole = async (argv: ReadonlyArray<string>): Promise<number> => {
  let role: Role = "all"
  let nodeId: string | undefined
  let clusterPath: string | undefined
  let configPath: string | undefined
  let home: string | undefined
  const rest: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string
    if (a === "--role") {
      const v = argv[++i]
      if (v !== "all" && v !== "md" && v !== "trading") {
        process.stderr.write(`troupe daemon: --role must be all, md or trading, got ${JSON.stringify(v ?? "")}\n\n${usage}`)
        return 2
      }
      role = v
    } else if (a === "--node-id") nodeId = argv[++i]
    else if (a === "--cluster") clusterPath = argv[++i]
    else {
      if (a === "--config") configPath = argv[i + 1]
      if (a === "--home") home = argv[i + 1]
      if (a === "--log-format") setLogFormat(argv[i + 1] === "json" ? "json" : "text")
      rest.push(a)
    }
  }
  if (role === "all") {
    if (nodeId !== undefined || clusterPath !== undefined) {
      process.stderr.write(`troupe daemon: --node-id and --cluster belong to --role md|trading\n\n${usage}`)
      return 2
    }
    return runDaemon(rest)
  }
  if (nodeId === undefined || !/^[A-Za-z0-9_.-]{1,64}$/.test(nodeId) || clusterPath === undefined) {
    process.stderr.write(`troupe daemon: --role ${role} needs --node-id ID (letters, digits, _ . -) and --cluster FILE\n\n${usage}`)
    return 2
  }
  const cluster = loadClusterFile(clusterPath)
  if (Either.isLeft(cluster)) {
    process.stderr.write(`troupe daemon: ${cluster.left}\n`)
    return 2
  }
  const env = { ...process.env, ...(home === undefined ? {} : { TROUPE_HOME: home }) }
  const loaded = await Effect.runPromise(Effect.either(loadConfig({ ...(configPath === undefined ? {} : { path: configPath }), env })))
  if (Either.isLeft(loaded)) {
    process.stderr.write(`troupe daemon: ${loaded.left.message}\n`)
    return 2
  }
  const config: Config = { ...loaded.right, home: `${loaded.right.home}/${nodeId}` }
  if (config.kafkaBrokers.length === 0 || config.databaseUrl === undefined || config.venue.baseUrl === undefined || config.venue.wsUrl === undefined) {
    process.stderr.write(`troupe daemon: --role ${role} needs KAFKA_BROKERS, DATABASE_URL and venue.baseUrl / venue.wsUrl\n`)
    return 2
  }
  const program =
    role === "trading"
      ? Effect.scoped(runTradingRole({ config, cluster: cluster.right, nodeId }))
      : Effect.scoped(
          Effect.gen(function* () {
            const symbols = cluster.right.md.instruments ?? (config.strategies.length > 0 ? [...new Set(config.strategies.flatMap((s) => s.instruments.map((i) => i.slice(i.indexOf(":") + 1))))] : [...EMBEDDED_SYMBOLS])
            const rest = makeKrakenRestClient({ baseUrl: config.venue.baseUrl as string })
            const instruments = mapInstruments(yield* rest.instruments()).instruments.map((k) => k.instrument).filter((i) => symbols.includes(i.symbol))
            const node = yield* Effect.acquireRelease(
              Effect.promise(() =>
                startMdNode({
                  brokers: config.kafkaBrokers,
                  topicPrefix: config.journal.topicPrefix,
                  nodeId,
                  wsUrl: config.venue.wsUrl as string,
                  instruments,
                  productsPerConnection: cluster.right.md.productsPerConnection,
                  snapshotEveryMs: cluster.right.md.snapshotEveryMs,
                  ...(cluster.right.md.shares === undefined
                    ? {}
                    : { shares: { partitions: cluster.right.md.shares, sessionTimeoutMs: cluster.right.sessionTimeoutMs, ...(cluster.right.md.handoverOverlapMs === undefined ? {} : { handoverOverlapMs: cluster.right.md.handoverOverlapMs }) } }),
                  log: (m) => log(`node ${nodeId}: ${m}`)
                })
              ),
              (n) => Effect.promise(() => n.stop())
            )
            void node
            return yield* Effect.never
          })
        )
  NodeRuntime.runMain(
    program.pipe(
      Effect.tapErrorCause((cause) => (Cause.isInterruptedOnly(cause) ? Effect.void : Effect.sync(() => log(`node ${nodeId} failed: ${Cause.pretty(cause).split("\n").slice(0, 6).join(" | ")}`))))
    )
  )
  return await new Promise<number>(() => undefined)
}
