import { writeFile } from "node:fs/promises"
import { parseArgs } from "node:util"
import { DatasetError, loadDataset, openAnalyticsDb, type AnalyticsSource } from "./dataset.js"
import { computeReport, type ReportOptions } from "./metrics.js"
import { exportParquet, renderHtml, renderJson, renderText } from "./report.js"

/**
 * `troupe report [--since ISO] [--strategy S] [--capital C] [--json] [--html file] [--parquet dir/]`
 * The lead wires the source (store / journal) and the `troupe` command; this only needs rows.
 * Prints the text tables (or JSON with --json) on stdout; returns the exit code.
 */

export const REPORT_USAGE = `usage: troupe report [--since ISO] [--strategy S] [--capital C] [--json] [--html report.html] [--parquet dir/]
  --since ISO     only activity at or after this time (positions still net over all history)
  --strategy S    only this strategy
  --capital C     capital (decimal) for daily returns; Sharpe etc. do not need it
  --json          print the report as JSON instead of tables
  --html FILE     also write a self-contained HTML page with charts
  --parquet DIR   also write every report table as DIR/<table>.parquet
`

export interface CliIo {
  readonly out: (text: string) => void
  readonly err: (text: string) => void
}

const processIo: CliIo = {
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t)
}

export interface ReportArgs {
  readonly options: ReportOptions
  readonly json: boolean
  readonly html?: string | undefined
  readonly parquet?: string | undefined
}

export const parseReportArgs = (argv: ReadonlyArray<string>): ReportArgs | { readonly error: string } => {
  try {
    const { values } = parseArgs({
      args: [...argv],
      options: {
        since: { type: "string" },
        strategy: { type: "string" },
        capital: { type: "string" },
        json: { type: "boolean", default: false },
        html: { type: "string" },
        parquet: { type: "string" }
      },
      strict: true,
      allowPositionals: false
    })
    let since: number | undefined
    if (values.since !== undefined) {
      since = Date.parse(values.since)
      if (!Number.isFinite(since)) return { error: `--since: not an ISO time: ${values.since}` }
    }
    if (values.capital !== undefined && !/^\d+(\.\d+)?$/.test(values.capital)) return { error: `--capital: not a positive decimal: ${values.capital}` }
    return {
      options: { since, strategy: values.strategy, capital: values.capital },
      json: values.json === true,
      html: values.html,
      parquet: values.parquet
    }
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) }
  }
}

export const runReportCli = async (argv: ReadonlyArray<string>, source: AnalyticsSource, io: CliIo = processIo): Promise<number> => {
  const args = parseReportArgs(argv)
  if ("error" in args) {
    io.err(`${args.error}\n${REPORT_USAGE}`)
    return 2
  }
  const db = await openAnalyticsDb()
  try {
    await loadDataset(db.conn, source)
    const report = await computeReport(db, args.options)
    io.out(args.json ? renderJson(report) : renderText(report))
    if (args.html !== undefined) {
      await writeFile(args.html, renderHtml(report))
      io.err(`wrote ${args.html}\n`)
    }
    if (args.parquet !== undefined) {
      const files = await exportParquet(db.conn, args.parquet)
      io.err(`wrote ${files.length} parquet files to ${args.parquet}\n`)
    }
    return 0
  } catch (e) {
    if (e instanceof DatasetError) {
      io.err(`report: ${e.message}\n`)
      return 1
    }
    throw e
  } finally {
    db.close()
  }
}
