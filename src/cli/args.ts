import { parseArgs, type ParseArgsConfig } from "node:util"
import { usageError } from "./daemon-client.js"

/** Options every daemon command takes. */
export const COMMON_OPTIONS = {
  port: { type: "string" },
  json: { type: "boolean", default: false }
} as const satisfies ParseArgsConfig["options"]

/** `parseArgs` in strict mode; an unknown flag or a missing value is a usage error (exit 2) naming it. */
export const parseCommand = <O extends NonNullable<ParseArgsConfig["options"]>>(command: string, argv: ReadonlyArray<string>, options: O, usage: string) => {
  try {
    return parseArgs({ args: [...argv], options: { ...COMMON_OPTIONS, ...options }, strict: true, allowPositionals: true })
  } catch (e) {
    throw usageError(`troupe ${command}: ${e instanceof Error ? e.message : String(e)}\n${usage}`)
  }
}

export interface Io {
  readonly out: (text: string) => void
  readonly err: (text: string) => void
}

export const processIo: Io = {
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t)
}

export const printJson = (io: Io, value: unknown): void => io.out(JSON.stringify(value, null, 2) + "\n")
