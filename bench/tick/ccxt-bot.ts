import ccxt from "ccxt"
import { account, BENCH_SYMBOL } from "./protocol.js"

/**
 * The peer of tick_to_order.vs_ccxt: what a developer writes instead of Troupe — a ccxt.pro
 * `krakenfutures` bot (`watchOrderBook` → `createOrder`), pointed at the bench's simulator, with
 * the same decision as the daemon's strategy (the best bid's size changed → buy 0.001 IOC 1000
 * below the best bid). ccxt's client-side throttle (600 ms between requests) is off: the venue's budget is
 * the bench's to respect, as for the daemon. argv: <rest base url (…/derivatives)> <ws url>.
 */
const [baseUrl, wsUrl] = process.argv.slice(2) as [string, string]
const { apiKey, apiSecret } = account("ccxt")
const api = `${baseUrl}/api/`
const ex = new ccxt.pro.krakenfutures({ apiKey, secret: apiSecret, enableRateLimit: false })
const urls = ex.urls as { api: Record<string, string> }
urls.api = { ...urls.api, public: api, private: api, charts: api, history: api, ws: wsUrl }

let running = true
const stop = (): void => {
  running = false
  void ex.close()
}
process.on("SIGTERM", stop)
process.on("disconnect", stop)

// ccxt asks for this before it opens a plain ws:// socket (the simulator speaks no TLS).
await ex.loadHttpProxyAgent()
await ex.loadMarkets()
const symbol = (ex.markets_by_id as Record<string, Array<{ symbol: string }>>)[BENCH_SYMBOL]?.[0]?.symbol
if (symbol === undefined) throw new Error(`ccxt does not list ${BENCH_SYMBOL}`)
// Markets loaded; the book arrives with the feed's next update (the bench's warm-up drives it).
process.stderr.write("ready\n")
let last: number | undefined
while (running) {
  const book = await ex.watchOrderBook(symbol).catch((e: unknown) => {
    if (running) process.stderr.write(`ccxt watchOrderBook: ${String(e)}\n`)
    return undefined
  })
  const top = book?.bids[0]
  if (top === undefined) continue
  const [price, size] = top as [number, number]
  const changed = last !== undefined && size !== last
  last = size
  if (changed) {
    void ex.createOrder(symbol, "limit", "buy", 0.001, price - 1000, { timeInForce: "ioc" }).catch(() => undefined) // iocWouldNotExecute: the expected answer
  }
}
