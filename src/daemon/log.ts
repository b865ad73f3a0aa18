/**
 * The daemon's log on stderr: `2026-01-01T00:00:00.000Z troupe: message` for people, or with
 * `--log-format json` one JSON object a line (`ts`, `level`, `msg`) for a log pipeline. The level
 * is given, or read from the message: what is lost or stopped is an error, what is retried,
 * skipped or held back a warning, the rest info.
 */
export type LogLevel = "debug" | "info" | "warn" | "error"
export type LogFormat = "text" | "json"

let format: LogFormat = "text"

export const setLogFormat = (f: LogFormat): void => {
  format = f
}

export const levelOf = (msg: string): LogLevel => {
  const tagged = /\b(debug|info|warn|error):/.exec(msg)
  if (tagged !== null) return tagged[1] as LogLevel
  if (/\bLOST\b|fatal|TRADING STOPPED|UNHEALTHY|cannot /.test(msg)) return "error"
  if (/retrying|SKIPPED|still open|HALTED|REDUCING|failed/.test(msg)) return "warn"
  return "info"
}

export const formatLine = (msg: string, level: LogLevel = levelOf(msg), now: Date = new Date()): string =>
  format === "json" ? `${JSON.stringify({ ts: now.toISOString(), level, logger: "troupe", msg })}\n` : `${now.toISOString()} troupe: ${msg}\n`

export const log = (msg: string, level?: LogLevel): void => {
  process.stderr.write(formatLine(msg, level))
}
