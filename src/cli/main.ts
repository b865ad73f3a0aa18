// The `troupe` command line. Subcommands arrive with their issues; each prints a table for
// people and JSON with --json, and exits non-zero with one clear line on error.
const VERSION = "0.1.0"

const usage = `troupe ${VERSION} — an actor-model trading daemon

usage: troupe <command> [options]

commands:
  daemon      run the trading daemon (not there yet: see README)
  version     print the version
  help        this text
`

const main = (argv: ReadonlyArray<string>): number => {
  const [command] = argv
  switch (command) {
    case undefined:
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(usage)
      return 0
    case "version":
    case "--version":
      process.stdout.write(`${VERSION}\n`)
      return 0
    case "daemon":
      process.stderr.write("troupe: the daemon is not there yet (it arrives with the daemon issue); see README.md\n")
      return 2
    default:
      process.stderr.write(`troupe: unknown command '${command}'\n\n${usage}`)
      return 64
  }
}

process.exitCode = main(process.argv.slice(2))
