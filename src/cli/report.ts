import { REPORT_USAGE, runReportCli } from "../analytics/cli.js"
import { generateFixture } from "../analytics/fixture.js"
import type { Io } from "./args.js"
import { usageError } from "./daemon-client.js"

export const REPORT_FIXTURE_USAGE = "usage: troupe report --fixture N [report options]   (N synthetic fills, seeded; see `troupe report --help`)"

/**
 * `troupe report`: post-trade analytics. `--fixture N` reports on a seeded synthetic dataset
 * of N fills. TODO(lead): without `--fixture`, build the `AnalyticsSource` from the store
 * (orders, fills, risk decisions, strategy records, marks of `src/actors/ports/store.ts`) and
 * pass it to `runReportCli`; the row shapes differ from the store's, so it needs a mapping.
 */
export const runReport = async (argv: ReadonlyArray<string>, io: Io): Promise<number> => {
  const rest = [...argv]
  const at = rest.findIndex((a) => a === "--fixture" || a.startsWith("--fixture="))
  if (at < 0) {
    if (rest.includes("--help") || rest.includes("-h")) {
      io.out(`${REPORT_FIXTURE_USAGE}\n${REPORT_USAGE}`)
      return 0
    }
    throw usageError(`troupe report: reading the store is not wired yet; use --fixture N for a synthetic dataset\n${REPORT_FIXTURE_USAGE}`)
  }
  const flag = rest[at] as string
  const text = flag.includes("=") ? flag.slice(flag.indexOf("=") + 1) : rest[at + 1]
  rest.splice(at, flag.includes("=") ? 1 : 2)
  if (text === undefined || !/^\d{1,9}$/.test(text) || Number(text) < 1) throw usageError(`troupe report: --fixture expects a positive number of fills, got ${JSON.stringify(text ?? "")}\n${REPORT_FIXTURE_USAGE}`)
  return runReportCli(rest, generateFixture({ fills: Number(text) }).source, io)
}
