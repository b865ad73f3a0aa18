import { writeFileSync } from "node:fs"
import { ClientRequest } from "node:http"
import { performance } from "node:perf_hooks"
import WebSocket from "ws"
import type { InternalSamples } from "./protocol.js"

/**
 * Preloaded (`node --import`) into a client process of the tick_to_order bench — the daemon, the
 * bare client, the ccxt bot alike — to time frame in → request out inside it, without touching
 * its code: a trigger frame (the best bid's size changed: a `book` delta on the buy side at 60000)
 * is stamped when the `ws` socket emits it; the next `sendorder` request is stamped when its bytes
 * are handed to the socket (`ClientRequest#end`, node:http) or, for clients on global `fetch`
 * (ccxt), when `fetch` is called. Written to $TICK_PROBE_OUT at exit, with the CPU time spent
 * between the first and the last trigger.
 */
const out = process.env["TICK_PROBE_OUT"]
const internalUs: number[] = []
let armed = 0
let firstCpu: NodeJS.CpuUsage | undefined
let firstAt = 0
let lastCpu: NodeJS.CpuUsage | undefined
let lastAt = 0

const isTrigger = (data: unknown): boolean => {
  const s = Buffer.isBuffer(data) ? data.toString("latin1") : typeof data === "string" ? data : ""
  return s.includes('"feed":"book"') && s.includes('"side":"buy"') && /"price":"?60000(\.0+)?"?[,}]/.test(s)
}

const wsEmit = WebSocket.prototype.emit
WebSocket.prototype.emit = function (this: WebSocket, event: string | symbol, ...args: unknown[]): boolean {
  if (event === "message" && isTrigger(args[0])) {
    armed = performance.now()
    lastCpu = process.cpuUsage()
    lastAt = armed
    if (firstCpu === undefined) {
      firstCpu = lastCpu
      firstAt = armed
    }
  }
  return wsEmit.apply(this, [event, ...args] as Parameters<typeof wsEmit>)
}

const sent = (path: string): void => {
  if (armed > 0 && path.includes("sendorder")) {
    internalUs.push((performance.now() - armed) * 1000)
    armed = 0
  }
}
const end = ClientRequest.prototype.end
ClientRequest.prototype.end = function (this: ClientRequest, ...args: unknown[]) {
  sent(this.path)
  return (end as (...a: unknown[]) => ClientRequest).apply(this, args)
} as typeof end
const realFetch = globalThis.fetch
globalThis.fetch = ((input: string | URL | Request, init?: RequestInit) => {
  sent(typeof input === "string" ? input : input instanceof URL ? input.href : input.url)
  return realFetch(input, init)
}) as typeof fetch

if (out !== undefined) {
  process.on("exit", () => {
    const cpu = firstCpu !== undefined && lastCpu !== undefined ? process.cpuUsage(firstCpu) : { user: 0, system: 0 }
    const spanCpu = lastCpu !== undefined && firstCpu !== undefined ? { user: lastCpu.user - firstCpu.user, system: lastCpu.system - firstCpu.system } : cpu
    const samples: InternalSamples = { internalUs, cpuUserUs: spanCpu.user, cpuSystemUs: spanCpu.system, uptimeMs: lastAt - firstAt }
    writeFileSync(out, JSON.stringify(samples))
  })
}
