import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { WebSocketServer, type WebSocket } from "ws"
import type { Exchange } from "../exchange.js"
import { toJson } from "../protocol.js"
import { MarketStreams, type StreamConnection } from "./market-streams.js"
import { BinanceOrders } from "./orders.js"
import { BinanceRateLimiter, defaultLimits, type BinanceLimits } from "./rate-limit.js"
import { BinanceRestApi, type BinanceFaults } from "./rest-api.js"
import { UserStreams, type UserConnection } from "./user-stream.js"
import { BinanceWsApi } from "./ws-api.js"

export interface BinanceFaceConfig {
  /** 0 (default) picks a free port. */
  readonly port?: number
  readonly host?: string
  readonly limits?: Partial<BinanceLimits>
  /** How long a listenKey lives without a keep-alive (the venue: 60 minutes). */
  readonly listenKeyValidityMs?: number
  /** Mark price, ticker and listenKey-expiry timer period (default 1000 ms). */
  readonly tickMs?: number
}

export interface BinanceFace {
  /** `http://host:port`; REST under `/fapi/v1|v2|v3/`. */
  readonly url: string
  /** What ccxt's `urls.api.ws.future` wants: `ws://host:port/ws` (it rewrites to `/public/ws`, `/market/ws`, `/private/ws`). */
  readonly wsBase: string
  /** The WebSocket API: `ws://host:port/ws-fapi/v1`. */
  readonly wsApiUrl: string
  readonly port: number
  readonly orders: BinanceOrders
  readonly streams: MarketStreams
  readonly users: UserStreams
  readonly limiter: BinanceRateLimiter
  /** The face's own faults (`unknownOutcomes`); also `POST /__admin/faults` on the face's port. */
  readonly faults: BinanceFaults
  /** Closes every WebSocket of the face (a venue disconnect fault). */
  readonly dropConnections: () => number
  readonly stop: () => Promise<void>
}

const readBody = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on("data", (c: Buffer) => chunks.push(c))
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")))
    req.on("error", reject)
  })

const send = (res: ServerResponse, status: number, headers: Readonly<Record<string, string>>, body: unknown): void => {
  const text = toJson(body)
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers })
  res.end(text)
}

/** Stream names in a raw path (`/public/ws/btcusdt@depth/btcusdt@aggTrade`); ccxt's numeric `/ws/<n>` names none. */
const pathStreams = (rest: string): string[] => rest.split("/").filter((s) => s.includes("@") || s.startsWith("!"))

/**
 * The simulator's Binance USD-M face: its own HTTP port over the same `Exchange` (engine,
 * accounts, faults, admin ground truth) as the Kraken face. REST `/fapi/*`, market streams on
 * `/public`, `/market` (and the legacy unrouted `/ws`, `/stream`, public streams only), the user
 * data stream on `/private/ws?listenKey=` or `/private/ws/<listenKey>`, the WebSocket API on
 * `/ws-fapi/v1`, and `POST /__admin/depth-break {"symbol"}` (loopback) to break `pu` continuity.
 */
export const startBinanceFace = async (exchange: Exchange, config: BinanceFaceConfig = {}): Promise<BinanceFace> => {
  const clock = exchange.clock
  const orders = new BinanceOrders(exchange)
  const limiter = new BinanceRateLimiter({ ...defaultLimits(), ...config.limits })
  const streams = new MarketStreams(exchange, orders)
  const users = new UserStreams(exchange, orders, config.listenKeyValidityMs)
  orders.onExpiredOffBook = (o) => users.expiredOffBook(o)
  const rest = new BinanceRestApi(exchange, orders, limiter, users, streams)
  const wsApi = new BinanceWsApi(exchange, orders, limiter, rest, users)
  const unlisten = exchange.listen((effects) => {
    orders.observe(effects)
    streams.onEffects(effects)
    users.onEffects(effects)
  })

  const later = (fn: () => void): void => {
    if (exchange.faults.latencyMs > 0) clock.setTimeout(fn, exchange.faults.latencyMs)
    else fn()
  }

  const server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req)
      const url = new URL(req.url ?? "/", "http://localhost")
      const ip = req.socket.remoteAddress ?? "unknown"
      if (url.pathname === "/__admin/depth-break" && req.method === "POST") {
        if (!/^(::ffff:)?127\.|^::1$/.test(ip)) return send(res, 403, {}, { error: "loopback only" })
        const symbol = (JSON.parse(body === "" ? "{}" : body) as { symbol?: string }).symbol ?? "*"
        const engineSymbol = symbol === "*" ? "*" : orders.market(symbol)?.engineSymbol
        if (engineSymbol === undefined) return send(res, 400, {}, { error: `unknown symbol ${symbol}` })
        streams.injectBreak(engineSymbol)
        return send(res, 200, {}, { ok: true })
      }
      if (url.pathname === "/__admin/faults" && req.method === "POST") {
        if (!/^(::ffff:)?127\.|^::1$/.test(ip)) return send(res, 403, {}, { error: "loopback only" })
        const patch = JSON.parse(body === "" ? "{}" : body) as { unknownOutcomes?: unknown }
        if (typeof patch.unknownOutcomes === "number" && Number.isInteger(patch.unknownOutcomes) && patch.unknownOutcomes >= 0) rest.faults.unknownOutcomes = patch.unknownOutcomes
        return send(res, 200, {}, { ...rest.faults })
      }
      later(() => {
        const out = rest.handle({
          method: req.method ?? "GET", path: url.pathname, query: url.search.replace(/^\?/, ""), body, ip,
          header: (name) => {
            const v = req.headers[name.toLowerCase()]
            return Array.isArray(v) ? v[0] : v
          }
        })
        send(res, out.status, out.headers, out.body)
      })
    })().catch((e: unknown) => send(res, 500, {}, { code: -1000, msg: `An unknown error occured while processing the request. ${String(e)}` }))
  })

  const sockets = new Set<WebSocket>()
  const wss = new WebSocketServer({ noServer: true })
  let nextId = 1
  const writer = (ws: WebSocket) => (message: unknown): void => {
    const text = toJson(message)
    later(() => {
      if (ws.readyState === ws.OPEN) ws.send(text)
    })
  }

  const marketSocket = (ws: WebSocket, category: StreamConnection["category"], combined: boolean, initial: string[]): void => {
    const conn: StreamConnection = { id: nextId++, category, combined, send: writer(ws) }
    const valid = initial.filter((s) => streams.refusal(conn, s) === undefined)
    streams.subscribe(conn, valid)
    ws.on("close", () => streams.disconnect(conn))
    ws.on("message", (data: Buffer) => {
      let msg: { method?: unknown; params?: unknown; id?: unknown }
      try {
        msg = JSON.parse(data.toString("utf8")) as typeof msg
      } catch (e) {
        conn.send({ error: { code: 3, msg: `Invalid JSON: ${String(e)}` } })
        return
      }
      const id = msg.id ?? null
      const params = Array.isArray(msg.params) ? msg.params.filter((s): s is string => typeof s === "string") : []
      switch (msg.method) {
        case "SUBSCRIBE": {
          const refused = params.map((s) => streams.refusal(conn, s)).find((r) => r !== undefined)
          if (refused !== undefined) {
            conn.send({ error: { code: 2, msg: refused }, id })
            return
          }
          streams.subscribe(conn, params)
          conn.send({ result: null, id })
          return
        }
        case "UNSUBSCRIBE":
          streams.unsubscribe(conn, params)
          conn.send({ result: null, id })
          return
        case "LIST_SUBSCRIPTIONS":
          conn.send({ result: streams.list(conn), id })
          return
        case "SET_PROPERTY":
        case "GET_PROPERTY":
          conn.send({ result: msg.method === "GET_PROPERTY" ? combined : null, id })
          return
        default:
          conn.send({ error: { code: 2, msg: `Invalid request: unknown method '${String(msg.method)}'` }, id })
      }
    })
  }

  const userSocket = (ws: WebSocket, listenKey: string): void => {
    const conn: UserConnection = { send: writer(ws), close: (code, reason) => ws.close(code, reason) }
    if (!users.attach(conn, listenKey)) return
    ws.on("close", () => users.detach(conn))
  }

  const apiSocket = (ws: WebSocket, ip: string): void => {
    const out = writer(ws)
    ws.on("message", (data: Buffer) => later(() => out(wsApi.handle(ip, data.toString("utf8")))))
  }

  server.on("upgrade", (req, socket, head) => {
    const url = new URL(req.url ?? "/", "http://localhost")
    const path = url.pathname
    const ip = req.socket.remoteAddress ?? "unknown"
    const route = /^\/(public|market|private)?\/?(ws|stream)(\/.*)?$/.exec(path)
    const accept = (then: (ws: WebSocket) => void): void => {
      wss.handleUpgrade(req, socket, head, (ws) => {
        sockets.add(ws)
        ws.on("close", () => sockets.delete(ws))
        ws.on("error", () => ws.terminate())
        then(ws)
      })
    }
    if (path === "/ws-fapi/v1") return accept((ws) => apiSocket(ws, ip))
    if (route === null) {
      socket.destroy()
      return
    }
    const category = route[1] as "public" | "market" | "private" | undefined
    const combined = route[2] === "stream"
    const rest = route[3] ?? ""
    if (category === "private") {
      const key = url.searchParams.get("listenKey") ?? rest.replace(/^\//, "")
      return accept((ws) => userSocket(ws, key))
    }
    const initial = combined ? (url.searchParams.get("streams") ?? "").split("/").filter((s) => s !== "") : pathStreams(rest)
    // An unrouted path is the legacy URL: `/public` streams only; a listenKey there is a user stream.
    if (category === undefined && !combined && rest !== "" && users.accountOf(rest.slice(1)) !== undefined) return accept((ws) => userSocket(ws, rest.slice(1)))
    accept((ws) => marketSocket(ws, category ?? "legacy", combined, initial))
  })

  let running = true
  let timer: unknown
  const tickMs = config.tickMs ?? 1000
  const loop = (): void => {
    if (!running) return
    streams.tick()
    users.expire()
    timer = clock.setTimeout(loop, tickMs)
  }
  timer = clock.setTimeout(loop, tickMs)

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(config.port ?? 0, config.host ?? "127.0.0.1", () => resolve())
  })
  const port = (server.address() as AddressInfo).port
  const host = config.host ?? "127.0.0.1"
  const dropConnections = (): number => {
    const n = sockets.size
    for (const ws of sockets) ws.terminate()
    return n
  }
  const stop = async (): Promise<void> => {
    running = false
    clock.clearTimeout(timer)
    unlisten()
    rest.stop()
    dropConnections()
    await new Promise<void>((resolve) => wss.close(() => resolve()))
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
  const url = `http://${host}:${port}`
  return { url, wsBase: `ws://${host}:${port}/ws`, wsApiUrl: `ws://${host}:${port}/ws-fapi/v1`, port, orders, streams, users, limiter, faults: rest.faults, dropConnections, stop }
}
