import { startSimulator, type SimulatorConfig } from "./server.js"
import type { RecordedMarketStats } from "./recorded-market.js"
import { selfSignedCertificate } from "./tls.js"
import { defaultInstrument } from "./instruments.js"

/** `+8s`, `+500ms`, epoch ms or an ISO time → epoch ms. */
const parseWhen = (when: string, now: number): number | undefined => {
  const rel = /^\+(\d+)(ms|s)$/.exec(when)
  if (rel !== null) return now + Number(rel[1]) * (rel[2] === "s" ? 1000 : 1)
  if (/^\d+$/.test(when)) return Number(when)
  const t = Date.parse(when)
  return Number.isFinite(t) ? t : undefined
}

/** The line `troupe simulator --replay` prints when the recording is exhausted (the books stay served). */
export const replaySummary = (file: string, s: RecordedMarketStats): string =>
  `replay of ${file} done: ${s.replayed} frames, ${s.skipped} skipped (undecodable, unknown product or not market data), ${s.offTickLevels} off-tick levels refused; the last books stay served`

const usage = `usage: troupe simulator [--port N] [--api-key K --api-secret S] [--instruments PF_XBTUSD,PF_ETHUSD]
                        [--seed N] [--rate msgs/s] [--replay FILE] [--admin-token T] [--tls]
                        [--venue kraken-futures|binance-usdm|both] [--binance-port N]
                        [--last-trading-time SYMBOL=WHEN]... [--settlement-window-ms N]

--last-trading-time gives a dated future (FI_, FF_, in --instruments) another last trading
time than its name's: WHEN is +N s / +N ms from now ("+8s"), epoch ms, or an ISO time. It
stops trading then and settles at the time-weighted mark of the last --settlement-window-ms
(default 900000, 15 min; the simulator's model).

--venue binance-usdm also serves the Binance USD-M face (docs/binance.md) on its own port over
the same engine (default instruments BTCUSDT,ETHUSDT); --venue both serves it beside the Kraken
face with the Kraken instruments (PF_XBTUSD shows there as BTCUSDT).

--tls serves https/wss with a fresh self-signed certificate (made with openssl) and prints
its SHA-256 fingerprint.

The admin API (/__admin/: ground truth, faults, orders for any account) answers loopback
clients only; with --admin-token it also wants "Authorization: Bearer T".
`

/**
 * `troupe simulator`: runs the local exchange until SIGINT/SIGTERM and prints where it is and
 * the credentials to use. Returns the process exit code.
 */
export const runSimulatorCli = async (argv: ReadonlyArray<string>): Promise<number> => {
  const opts = new Map<string, string>()
  const expiries: string[] = []
  let tls = false
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] ?? ""
    if (flag === "--tls") {
      tls = true
      continue
    }
    const value = argv[i + 1]
    if (flag === "--last-trading-time" && value !== undefined) {
      expiries.push(value)
      i++
      continue
    }
    if (flag === "--help" || flag === "-h") {
      process.stdout.write(usage)
      return 0
    }
    if (!flag.startsWith("--") || value === undefined) {
      process.stderr.write(`troupe simulator: bad argument '${flag}'\n${usage}`)
      return 64
    }
    opts.set(flag.slice(2), value)
    i++
  }
  const num = (name: string): number | undefined => {
    const raw = opts.get(name)
    return raw === undefined ? undefined : Number(raw)
  }
  for (const name of ["port", "seed", "rate", "binance-port", "settlement-window-ms"]) {
    const v = num(name)
    if (v !== undefined && (!Number.isFinite(v) || v < 0)) {
      process.stderr.write(`troupe simulator: --${name} must be a non-negative number\n`)
      return 64
    }
  }
  const key = opts.get("api-key")
  const secret = opts.get("api-secret")
  if ((key === undefined) !== (secret === undefined)) {
    process.stderr.write("troupe simulator: --api-key and --api-secret go together\n")
    return 64
  }
  const adminToken = opts.get("admin-token")
  if (adminToken !== undefined && adminToken.trim().length < 16) {
    process.stderr.write("troupe simulator: --admin-token must have at least 16 characters\n")
    return 64
  }
  const known = new Set(["port", "seed", "rate", "api-key", "api-secret", "instruments", "replay", "admin-token", "venue", "binance-port", "settlement-window-ms"])
  for (const name of opts.keys()) {
    if (!known.has(name)) {
      process.stderr.write(`troupe simulator: unknown option --${name}\n${usage}`)
      return 64
    }
  }
  const venue = opts.get("venue") ?? "kraken-futures"
  if (!["kraken-futures", "binance-usdm", "both"].includes(venue)) {
    process.stderr.write(`troupe simulator: --venue must be kraken-futures, binance-usdm or both\n`)
    return 64
  }
  const binance = venue !== "kraken-futures"
  const instrumentNames = opts.has("instruments") ? (opts.get("instruments") ?? "").split(",").filter((s) => s !== "") : undefined
  const lastTradingTimes = new Map<string, number>()
  for (const e of expiries) {
    const [symbol = "", when = ""] = e.split("=", 2)
    const at = parseWhen(when, Date.now())
    if (instrumentNames?.some((n) => n.toUpperCase() === symbol.toUpperCase()) !== true || at === undefined || !/^F[IF]_/i.test(symbol)) {
      process.stderr.write(`troupe simulator: --last-trading-time wants DATED_SYMBOL=WHEN for a dated future (FI_, FF_) given in --instruments, got '${e}'\n`)
      return 64
    }
    lastTradingTimes.set(symbol.toUpperCase(), at)
  }
  const replay = opts.get("replay")
  const rate = num("rate") ?? 20
  const config: SimulatorConfig = {
    port: num("port") ?? 0,
    seed: num("seed") ?? 1,
    market: replay === undefined ? { kind: "synthetic", rate } : { kind: "replay", file: replay, rate, onDone: (s) => void process.stdout.write(`${replaySummary(replay, s)}\n`) },
    ...(instrumentNames !== undefined
      ? { instruments: instrumentNames.map((n) => { const at = lastTradingTimes.get(n.toUpperCase()); return at === undefined ? n : { ...defaultInstrument(n), lastTradingTime: at } }) }
      : venue === "binance-usdm" ? { instruments: ["BTCUSDT", "ETHUSDT"] } : {}),
    ...(opts.has("settlement-window-ms") ? { model: { settlementWindowMs: num("settlement-window-ms") ?? 0 } } : {}),
    ...(binance ? { binance: { port: num("binance-port") ?? 0 } } : {}),
    ...(key !== undefined && secret !== undefined ? { accounts: [{ name: "default", apiKey: key, apiSecret: secret }] } : {}),
    ...(adminToken !== undefined ? { adminToken: adminToken.trim() } : {})
  }
  let material: ReturnType<typeof selfSignedCertificate> | undefined
  if (tls) {
    try {
      material = selfSignedCertificate()
    } catch (e) {
      process.stderr.write(`troupe simulator: --tls needs the openssl command to make a certificate (${e instanceof Error ? e.message.split("\n")[0] : String(e)})\n`)
      return 2
    }
  }
  const sim = await startSimulator({ ...config, ...(material === undefined ? {} : { tls: material }) })
  const account = sim.accounts[0]
  process.stdout.write(
    `simulator (Kraken Futures protocol) listening\n  api base: ${sim.apiBase}   (REST v3 under ${sim.apiBase}v3/; give clients such as ccxt this base)\n` +
      `  charts:   ${sim.url}/api/charts/\n  history:  ${sim.url}/api/history/\n  ws:       ${sim.wsUrl}\n` +
      (sim.fingerprint === undefined ? "" : `  tls:      self-signed, SHA-256 fingerprint ${sim.fingerprint}\n`) +
      `  admin:    ${sim.url}/__admin/ (loopback only${adminToken !== undefined ? ", Bearer token" : ""})\n` +
      (sim.binance === undefined ? "" : `simulator (Binance USD-M protocol, same engine) listening\n  rest:     ${sim.binance.url}/fapi/v1/   (v2, v3 beside it)\n` +
        `  streams:  ${sim.binance.url.replace("http", "ws")}/public/ws, /market/ws, /private/ws?listenKey=…   (ccxt urls.api.ws.future: ${sim.binance.wsBase})\n` +
        `  ws api:   ${sim.binance.wsApiUrl}\n`) +
      `  api key:    ${account?.apiKey ?? ""}\n  api secret: ${account?.apiSecret ?? ""}\n`
  )
  await new Promise<void>((resolve) => {
    const done = () => resolve()
    process.once("SIGINT", done)
    process.once("SIGTERM", done)
  })
  await sim.stop()
  return 0
}
