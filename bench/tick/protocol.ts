/** What the tick_to_order bench's processes say to each other (IPC), and the venue's accounts. */

export const BENCH_SYMBOL = "PF_XBTUSD"
export const BENCH_INSTRUMENT = `kraken-futures:${BENCH_SYMBOL}`

const secret = (s: string): string => Buffer.from(`${s}-bench-secret-bench-secret-bench-secret`).toString("base64")

/** One venue account per client under test, so the venue tells their requests apart. */
export const BENCH_ACCOUNTS = [
  { name: "floor", apiKey: "floor-key", apiSecret: secret("floor") },
  { name: "daemon", apiKey: "daemon-key", apiSecret: secret("daemon") },
  { name: "ccxt", apiKey: "ccxt-key", apiSecret: secret("ccxt") }
] as const
export type BenchAccount = (typeof BENCH_ACCOUNTS)[number]
export const account = (name: BenchAccount["name"]): BenchAccount => BENCH_ACCOUNTS.find((a) => a.name === name) as BenchAccount

export type VenueCommand = { readonly cmd: "drive"; readonly id: number; readonly ms: number; readonly apiKey: string | undefined } | { readonly cmd: "stop" }

export type VenueReply =
  | { readonly kind: "ready"; readonly url: string; readonly wsUrl: string; readonly rate: number; readonly every: number }
  | { readonly kind: "driven"; readonly id: number; readonly latenciesUs: number[]; readonly missed: number; readonly orders: number }
  | { readonly kind: "stopped" }

/** The internal samples a client process writes at exit: frame in → request bytes written, µs. */
export interface InternalSamples {
  readonly internalUs: number[]
  readonly cpuUserUs: number
  readonly cpuSystemUs: number
  readonly uptimeMs: number
}
