import { Server, type IncomingMessage } from "node:http"
import { performance } from "node:perf_hooks"
import { startSimulator } from "../../src/adapters/venues/simulator/server.js"
import { Decimal } from "../../src/domain/decimal.js"
import { BENCH_ACCOUNTS, BENCH_SYMBOL, type VenueCommand, type VenueReply } from "./protocol.js"

/**
 * The venue of the tick_to_order benches, in a process of its own (a venue is another machine):
 * the exchange simulator, the feed driver and the clock of every sample. A sample starts when the
 * simulator publishes a top-of-book change (the frame goes out to every subscriber in that call)
 * and ends when the simulator's HTTP server sees a `sendorder` request from the account under test
 * — both on this process's clock, so the figure is frame out → request in, transport included.
 *
 * The feed: RATE book updates/s on one product; every EVERY-th changes the best bid's size (the
 * trigger), the others change sizes of deeper levels. A trigger whose order has not arrived when
 * the next one is due is `missed` (counted, reported, and counted as +∞ in the percentiles).
 */

const RATE = 5_000
// Kraken Futures' budget is 500 per 10 s with sendorder at 10: 40 orders per 10 s once the risk
// actor keeps its cancel reserve (100). One order per 300 ms (3.3/s, 33 per 10 s) stays inside it.
export const EVERY = 1_500

let onArrive: (req: IncomingMessage) => void = () => undefined
const serverEmit = Server.prototype.emit
Server.prototype.emit = function (this: Server, event: string | symbol, ...args: unknown[]): boolean {
  if (event === "request") onArrive(args[0] as IncomingMessage)
  return serverEmit.apply(this, [event, ...args] as Parameters<typeof serverEmit>)
}

const sim = await startSimulator({
  port: 0,
  instruments: [BENCH_SYMBOL],
  accounts: BENCH_ACCOUNTS.map((a) => ({ name: a.name, apiKey: a.apiKey, apiSecret: a.apiSecret, collateralUsd: "100000000" })),
  market: { kind: "none" },
  heartbeatMs: 60_000,
  tickerMs: 60_000
})
const exchange = sim.admin.exchange
const effect = (side: "buy" | "sell", price: string, qty: string) => ({ kind: "book" as const, symbol: BENCH_SYMBOL, side, price: new Decimal(price), qty: new Decimal(qty) })
// A stable book: best bid 60000, best ask 60001, ten levels each side.
for (let i = 0; i < 10; i++) exchange.publish([effect("buy", String(60_000 - i), "1"), effect("sell", String(60_001 + i), "1")])
const ordinary = Array.from({ length: 64 }, (_, i) => [effect(i % 2 === 0 ? "buy" : "sell", String(i % 2 === 0 ? 59_999 - (i % 9) : 60_002 + (i % 9)), String(1 + (i % 7)))])
const tops = Array.from({ length: 5 }, (_, i) => [effect("buy", "60000", String(2 + i))])

interface Trigger {
  readonly sent: number
  arrived: number
}

const drive = (ms: number, apiKey: string | undefined): Promise<{ latenciesUs: number[]; missed: number; orders: number }> =>
  new Promise((resolve) => {
    const latenciesUs: number[] = []
    let missed = 0
    let orders = 0
    let current: Trigger | undefined
    onArrive = (req) => {
      if (apiKey === undefined || req.headers["apikey"] !== apiKey || !(req.url ?? "").includes("sendorder")) return
      orders++
      if (current !== undefined && current.arrived === 0) current.arrived = performance.now()
    }
    const settle = (): void => {
      if (current === undefined) return
      if (current.arrived > 0) latenciesUs.push((current.arrived - current.sent) * 1000)
      else missed++
    }
    const start = performance.now()
    let n = 0
    const tick = (): void => {
      const now = performance.now()
      const due = Math.min(Math.floor(((now - start) * RATE) / 1000), n + 5)
      while (n < due) {
        n++
        if (n % EVERY === 0) {
          settle()
          const seq = n / EVERY
          current = { sent: performance.now(), arrived: 0 }
          exchange.publish(tops[seq % tops.length] as never)
        } else {
          exchange.publish(ordinary[n % ordinary.length] as never)
        }
      }
      if (now - start < ms) setImmediate(tick)
      else {
        // The last trigger gets the same time as every other (one period) before it is settled.
        setTimeout(() => {
          settle()
          onArrive = () => undefined
          resolve({ latenciesUs, missed, orders })
        }, (EVERY * 1000) / RATE)
      }
    }
    setImmediate(tick)
  })

const reply = (r: VenueReply): void => {
  process.send?.(r)
}

process.on("message", (m: VenueCommand) => {
  if (m.cmd === "drive") {
    void drive(m.ms, m.apiKey).then((r) => reply({ kind: "driven", id: m.id, ...r }))
  } else if (m.cmd === "stop") {
    void sim.stop().then(() => {
      reply({ kind: "stopped" })
      process.disconnect()
    })
  }
})
reply({ kind: "ready", url: sim.url, wsUrl: sim.wsUrl, rate: RATE, every: EVERY })
