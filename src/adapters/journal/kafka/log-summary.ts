import { logLevel as kafkaLogLevel, type logCreator as LogCreator } from "kafkajs"

/**
 * kafkajs logs every connection attempt and every retry as its own JSON line (a dozen for one
 * unreachable broker). The operator needs one line per kind of trouble: the first occurrence of
 * each (level, message without counters) is written, repeats are counted, and `summary()` says
 * how many were folded. Stacks are never written (kafkajs attaches them to connection errors).
 */
export interface KafkaLogSummary {
  readonly logCreator: LogCreator
  /** `kafka: 12 more retry messages like the above` for every message seen more than once; empty if none. */
  readonly summary: () => ReadonlyArray<string>
}

const LEVEL: Readonly<Record<number, string>> = {
  [kafkaLogLevel.ERROR]: "error",
  [kafkaLogLevel.WARN]: "warn",
  [kafkaLogLevel.INFO]: "info",
  [kafkaLogLevel.DEBUG]: "debug"
}

/** The message with the parts that change between retries (counts, times) taken out. */
const shapeOf = (message: string): string => message.replace(/\d+/g, "#")

export const kafkaLogSummary = (write: (line: string) => void): KafkaLogSummary => {
  const seen = new Map<string, { count: number; line: string }>()
  const logCreator: LogCreator = () => (entry) => {
    const { message, broker } = entry.log as { message?: unknown; broker?: unknown }
    const body = typeof message === "string" ? message : "?"
    const text = `${body}${typeof broker === "string" ? ` (broker ${broker})` : ""}`
    // "Failed to connect to seed broker ...: Connection error: X" is the same trouble as "Connection error: X".
    const key = `${entry.level} ${shapeOf(/Connection error: .*/.exec(body)?.[0] ?? body)}`
    const prior = seen.get(key)
    if (prior !== undefined) {
      prior.count++
      return
    }
    const line = `kafka ${LEVEL[entry.level] ?? "log"}: ${text}; repeats of this message are counted, not logged`
    seen.set(key, { count: 1, line })
    write(line)
  }
  return {
    logCreator,
    summary: () => [...seen.values()].filter((s) => s.count > 1).map((s) => `${s.line.replace(/; repeats.*$/, "")} — ${s.count} times in all`)
  }
}
