/**
 * Tuning the demo's synthetic market: runs the demo strategies and risk limits (as `troupe daemon`
 * on embedded defaults does) against a simulator with the given market for M minutes, stops the
 * daemon gracefully and prints the report's per-strategy round trips, win rate and net PnL.
 *
 *   node --import tsx scripts/demo-tune.ts --minutes 10 --market '{"informedShare":0.3}'
 *
 * The market JSON is merged over the demo's (src/daemon/demo-defaults.ts DEMO_MARKET). Needs a
 * build (`npm run build`): the daemon runs as bin/troupe.
 */
import { execFile, spawn } from "node:child_process"
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { parseArgs } from "node:util"
import { startSimulator } from "../src/adapters/venues/simulator/server.js"
import { Decimal } from "../src/domain/decimal.js"
import { DEMO_MARKET, DEMO_RISK_LIMITS, demoInstruments, demoStrategies, EMBEDDED_SYMBOLS } from "../src/daemon/demo-defaults.js"

const { values } = parseArgs({ options: { minutes: { type: "string", default: "10" }, market: { type: "string", default: "{}" }, seed: { type: "string", default: "1" }, "maker-fee": { type: "string" } } })
const market = { ...DEMO_MARKET, ...(JSON.parse(values.market ?? "{}") as object) }
const home = mkdtempSync(join(tmpdir(), "troupe-demo-tune-"))
const secret = Buffer.from("demo-tune-secret-demo-tune-secret-0123").toString("base64")
const sim = await startSimulator({ port: 0, instruments: demoInstruments(EMBEDDED_SYMBOLS).map((i) => (values["maker-fee"] === undefined ? i : { ...i, makerFee: new Decimal(values["maker-fee"]) })), accounts: [{ name: "default", apiKey: "tune", apiSecret: secret }], market, seed: Number(values.seed) })
const risk = Object.fromEntries(Object.entries(DEMO_RISK_LIMITS).map(([k, v]) => [k, typeof v === "object" ? String(v) : v]))
const configFile = join(home, "config.json")
writeFileSync(configFile, JSON.stringify({ venue: { account: "default", baseUrl: `${sim.url}/derivatives`, wsUrl: sim.wsUrl, apiKey: "tune", apiSecret: secret }, risk, strategies: demoStrategies() }, null, 2))
const bin = new URL("../bin/troupe", import.meta.url).pathname
const env = { PATH: process.env["PATH"] ?? "", TROUPE_HOME: home }
const daemon = spawn(process.execPath, [bin, "daemon", "--config", configFile, "--port", "0"], { env, stdio: ["ignore", "ignore", "pipe"] })
let stderr = ""
daemon.stderr.on("data", (d: Buffer) => (stderr += d.toString()))
process.stderr.write(`demo-tune: maker fee ${values["maker-fee"] ?? "demo"}, market ${JSON.stringify(market)}, home ${home}, ${values.minutes} min\n`)
await new Promise((r) => setTimeout(r, Number(values.minutes) * 60_000))
daemon.kill("SIGTERM")
await new Promise((r) => daemon.once("exit", r))
await sim.stop()
const out = await new Promise<string>((resolve, reject) =>
  execFile(process.execPath, [bin, "report", "--json"], { env, maxBuffer: 256 * 1024 * 1024 }, (e, stdout) => (e === null ? resolve(stdout) : reject(new Error(`${e.message}\n${stderr.slice(-2000)}`))))
)
writeFileSync(join(home, "report.json"), out)
const report = JSON.parse(out) as { summary: ReadonlyArray<Record<string, unknown>> }
for (const s of report.summary) {
  process.stdout.write(`${JSON.stringify({ scope: s["scope"], strategy: s["strategy"], instrument: s["instrument"], trips: s["trips"], winRate: s["winRate"], netPnl: s["netPnl"] ?? s["net"], fills: s["fills"] })}\n`)
}
process.stdout.write(`report: ${join(home, "report.json")}\n`)
void readFileSync
