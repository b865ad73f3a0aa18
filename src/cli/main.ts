import { didYouMean } from "../domain/did-you-mean.js"
import { runSimulatorCli } from "../adapters/venues/simulator/cli.js"
import { runActors } from "./actors.js"
import { processIo, type Io } from "./args.js"
import { CliFailure, EXIT } from "./daemon-client.js"
import { runMachines } from "./machines.js"
import { runOperator } from "./operator.js"
import { runReconcile } from "./reconcile.js"
import { runReport } from "./report.js"
import { runStatus } from "./status.js"
import { runStrategy } from "./strategy.js"
import { runOrders, runPositions } from "./trading.js"
import { runRisk } from "./risk.js"

// The `troupe` command line. Each command prints a table for people and JSON with --json, and
// exits with one clear line on error. Exit codes: 0 ok, 1 the daemon refused or failed,
// 2 usage error, 3 no daemon answers, 4 unauthorized.
const VERSION = "0.1.0"

const usage = `troupe ${VERSION} — an actor-model trading daemon

usage: troupe <command> [options]

commands:
  daemon                         run the trading daemon (embedded defaults: see README)
  status                         node state, trading state, uptime, counts
  actors                         the supervision tree with states and restarts
  orders [--open]                orders
  positions                      positions and PnL
  risk                           portfolio risk: VaR, stress, day loss vs limits, headroom; alerts
  halt|reduce|resume --reason R [--cancel-all]
                                 the kill switch (recorded with your user name)
  resume --cause C --reason R    lift one automatic cause: journal, audit, dailyLoss, reconciliation, venueBan, portfolioVar, portfolioStress, lossBreaker
  cancel-all --reason R          cancel every open order (trading state unchanged)
  reconcile accept --reason R    take the venue's side of a position mismatch (lifts reduce-only)
  strategy list|start|stop|restart|reconfigure|add ...
                                 manage strategies while the daemon runs
  machines list|export <name> [--format mermaid|json]
                                 the lifecycle machines (no daemon needed)
  simulator [...]                run the local exchange simulator
  report [--home DIR] [--since ISO] [--strategy S] [--json] [--html F] [--parquet DIR]
                                 post-trade report from the store (daemon stopped)
  replay --from F --strategy S [--params J] [--speed max|N] [--out DIR]
                                 backtest a strategy on recorded market data (simulated time)
  sim --seeds N [--from S] [--faults safety|liveness|none] [--minutes M] [--trace DIR]
                                 deterministic whole-system simulation with faults and invariants
  version                        print the version
  help                           this text

daemon commands take --port N (default TROUPE_PORT or 7400) and --json; the token comes from
TROUPE_TOKEN or $TROUPE_HOME/token.
`

const COMMANDS = ["daemon", "status", "actors", "orders", "positions", "risk", "halt", "reduce", "resume", "cancel-all", "reconcile", "strategy", "machines", "simulator", "report", "replay", "version", "help"]

const run = async (argv: ReadonlyArray<string>, io: Io): Promise<number> => {
  const [command, ...rest] = argv
  switch (command) {
    case undefined:
    case "help":
    case "--help":
    case "-h":
      io.out(usage)
      return EXIT.ok
    case "version":
    case "--version":
      io.out(`${VERSION}\n`)
      return EXIT.ok
    case "daemon":
      // Loaded on demand: the daemon pulls in the whole system, the other commands stay light.
      return (await import("../cluster/main.js")).runDaemonWithRole(rest)
    case "status":
      return runStatus(rest, io)
    case "actors":
      return runActors(rest, io)
    case "orders":
      return runOrders(rest, io)
    case "positions":
      return runPositions(rest, io)
    case "risk":
      return runRisk(rest, io)
    case "halt":
    case "reduce":
    case "resume":
    case "cancel-all":
      return runOperator(command, rest, io)
    case "reconcile":
      return runReconcile(rest, io)
    case "strategy":
    case "strategies":
      return runStrategy(rest, io)
    case "machines":
      return runMachines(rest, io)
    case "simulator":
      return runSimulatorCli(rest)
    case "report":
      return runReport(rest, io)
    case "replay":
      // Loaded on demand, like the daemon: it pulls in the whole trading stack.
      return (await import("./replay.js")).runReplayCli(rest, io)
    case "sim":
      return (await import("../simulation/main.js")).runSimCli(rest, io)
    default:
      io.err(`troupe: unknown command '${command}'${didYouMean(command, COMMANDS)}\n\n${usage}`)
      return EXIT.usage
  }
}

const main = async (argv: ReadonlyArray<string>, io: Io): Promise<number> => {
  try {
    return await run(argv, io)
  } catch (e) {
    if (e instanceof CliFailure) {
      io.err(e.message.endsWith("\n") ? e.message : `${e.message}\n`)
      return e.exitCode
    }
    throw e
  }
}

process.exitCode = await main(process.argv.slice(2), processIo)
