import { Agent, request } from "node:http"
import WebSocket from "ws"
import { monotonicNonce, signRest } from "../../src/adapters/venues/kraken-futures/auth.js"
import { account, BENCH_SYMBOL } from "./protocol.js"

/**
 * The transport floor of tick_to_order: a bare `ws` client and a keep-alive `http.request`, in its
 * own process like the daemon. Its whole decision: a `book` delta on the buy side at the best bid
 * (60000) is a change of the best bid's size → a signed IOC buy 1000 below it, as the daemon's
 * and the ccxt bot's strategies decide it. argv: <rest base url (…/derivatives)> <ws url>.
 */
const [baseUrl, wsUrl] = process.argv.slice(2) as [string, string]
const { apiKey, apiSecret } = account("floor")
const url = new URL(baseUrl)
const agent = new Agent({ keepAlive: true, maxSockets: 4 })
const nonce = monotonicNonce()
const endpointPath = "/api/v3/sendorder"

const ws = new WebSocket(wsUrl)
ws.on("open", () => ws.send(JSON.stringify({ event: "subscribe", feed: "book", product_ids: [BENCH_SYMBOL] })))
let ready = false
ws.on("message", (data: Buffer) => {
  if (!ready) {
    ready = true
    process.stderr.write("ready\n")
  }
  const msg = JSON.parse(data.toString("utf8")) as { feed?: string; side?: string; price?: number }
  if (msg.feed !== "book" || msg.side !== "buy" || msg.price !== 60_000) return
  const query = `orderType=ioc&symbol=${BENCH_SYMBOL}&side=buy&size=0.001&limitPrice=${msg.price - 1000}`
  const n = nonce()
  const req = request(
    {
      host: url.hostname,
      port: url.port,
      method: "POST",
      path: `${url.pathname}${endpointPath}?${query}`,
      agent,
      headers: { Accept: "application/json", APIKey: apiKey, Nonce: n, Authent: signRest({ secret: apiSecret, postData: query, nonce: n, endpointPath }), "Content-Length": 0 }
    },
    (res) => res.resume()
  )
  req.on("error", () => undefined)
  req.end()
})
const stop = (): void => {
  ws.terminate()
  agent.destroy()
}
process.on("SIGTERM", stop)
process.on("disconnect", stop)
