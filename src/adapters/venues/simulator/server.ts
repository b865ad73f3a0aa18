import { randomBytes } from "node:crypto"
import { renameSync } from "node:fs"
import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from "node:http"
import { createServer as createTlsServer } from "node:https"
import type { AddressInfo } from "node:net"
import { WebSocketServer, type WebSocket } from "ws"
import { Decimal } from "../../../domain/decimal.js"
import { adminAccess, SimulatorAdmin } from "./admin-api.js"
import { startBinanceFace, type BinanceFace, type BinanceFaceConfig } from "./binance/server.js"
import { defaultModel, Exchange, systemClock, type SimAccount, type SimClock, type SimModel } from "./exchange.js"
import { defaultFaults, updateFaults, type Faults } from "./faults.js"
import { DEFAULT_SYMBOLS, defaultInstrument, type SimInstrument } from "./instruments.js"
import { isPrivateFeed } from "./private-feed.js"
import { toJson } from "./protocol.js"
import { isPublicFeed, type FeedConnection } from "./public-feed.js"
import { CostBudget } from "./rate-limit.js"
import { RecordedMarket, type RecordedMarketStats } from "./recorded-market.js"
import { RestApi } from "./rest-api.js"
import { CRASH_SKIP_DRAWS, encodeState, readStateFile, skipAhead, writeStateFile, writeStateFileSync } from "./state-file.js"
import { driveMarket, SyntheticMarket, type MarketSource, type MarketVenue } from "./synthetic-market.js"
import type { TlsMaterial } from "./tls.js"

export type MarketConfig =
  | { readonly kind: "synthetic"; readonly rate?: number; readonly levels?: number; readonly takerShare?: number; readonly walkShare?: number; readonly reversion?: number; readonly fairValueShare?: number; readonly informedShare?: number; readonly jumpShare?: number; readonly maxJumpTicks?: number }
  | { readonly kind: "replay"; readonly file: string; readonly rate?: number; readonly onDone?: (stats: RecordedMarketStats) => void }
  | { readonly kind: "none" }

export interface SimulatorConfig {
  /** 0 (default) picks a free port. */
  readonly port?: number
  readonly host?: string
  /** Symbols (with built-in parameters) or full instrument definitions. Default PF_XBTUSD, PF_ETHUSD. */
  readonly instruments?: ReadonlyArray<string | SimInstrument>
  /** If none, one `demo` account with a random key and secret is created. */
  readonly accounts?: ReadonlyArray<{ readonly name?: string; readonly apiKey: string; readonly apiSecret: string; readonly collateralUsd?: string }>
  readonly seed?: number
  /** Default: synthetic at 20 messages/s. */
  readonly market?: MarketConfig
  readonly faults?: Partial<Faults>
  /** The simulator's margin, funding, collar and liquidation models (see `SimModel`). */
  readonly model?: Partial<SimModel>
  readonly clock?: SimClock
  readonly heartbeatMs?: number
  readonly tickerMs?: number
  readonly rateLimit?: { readonly limit: number; readonly windowMs: number }
  /** Serve `https`/`wss` with this certificate (see `selfSignedCertificate`). */
  readonly tls?: TlsMaterial
  /** When set, `/__admin/` also wants `Authorization: Bearer <adminToken>` (it is loopback-only either way). */
  readonly adminToken?: string
  /**
   * When set, the accounts' open orders, positions, fills and the id generator are saved here
   * (every `stateSaveMs`, default 2000, and on stop) and restored from it on start. The market's
   * other participants are re-seeded, not restored. An unreadable file is moved aside to
   * `<file>.corrupt-<time>`, reported through `onStateError`, and the simulator starts fresh.
   */
  readonly stateFile?: string
  readonly stateSaveMs?: number
  /** Default: a line on stderr. */
  readonly onStateError?: (message: string) => void
  /**
   * Also serve the Binance USD-M face (docs/binance.md) on its own port, over the same engine,
   * accounts and faults. Off unless given.
   */
  readonly binance?: BinanceFaceConfig
}

export interface Simulator {
  /** HTTP base, e.g. `http://127.0.0.1:PORT`; REST is under `${url}/derivatives/api/v3/`. */
  readonly url: string
  /** The base URL a client such as ccxt wants: `${url}/derivatives/api/` (it appends `v3/…` itself). */
  readonly apiBase: string
  /** With TLS: the certificate's SHA-256 fingerprint. */
  readonly fingerprint: string | undefined
  readonly wsUrl: string
  readonly port: number
  readonly accounts: ReadonlyArray<SimAccount>
  readonly admin: SimulatorAdmin
  /** With `market.kind: "replay"`: what the replay did with its input so far. */
  readonly replayStats: (() => RecordedMarketStats) | undefined
  /** With a state file: whether state was restored, and why not if the file was unusable. */
  readonly state: { readonly restored: boolean; readonly error: string | undefined }
  /** The Binance USD-M face, when `config.binance` was given. */
  readonly binance: BinanceFace | undefined
  readonly stop: () => Promise<void>
}

const WS_PATH = "/ws/v1"

const readBody = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on("data", (c: Buffer) => chunks.push(c))
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")))
    req.on("error", reject)
  })

const reply = (res: ServerResponse, status: number, body: unknown): void => {
  const text = toJson(body)
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) })
  res.end(text)
}

/** Starts a Kraken Futures-speaking exchange on loopback: REST, WebSocket feeds and `/__admin/`. */
export const startSimulator = async (config: SimulatorConfig = {}): Promise<Simulator> => {
  const clock = config.clock ?? systemClock
  const seed = config.seed ?? 1
  const instruments = (config.instruments ?? DEFAULT_SYMBOLS).map((i) => (typeof i === "string" ? defaultInstrument(i) : i))
  const accounts: SimAccount[] = (config.accounts ?? [{ name: "demo", apiKey: randomBytes(16).toString("hex"), apiSecret: randomBytes(64).toString("base64") }]).map(
    (a, i) => ({ name: a.name ?? `account-${i + 1}`, apiKey: a.apiKey, apiSecret: a.apiSecret, collateralUsd: new Decimal(a.collateralUsd ?? "100000") })
  )
  const faults = updateFaults(defaultFaults(), (config.faults ?? {}) as Record<string, unknown>)
  const exchange = new Exchange(instruments, seed, accounts, clock, faults, { ...defaultModel(), ...config.model })
  const budget = new CostBudget(config.rateLimit?.limit ?? 500, config.rateLimit?.windowMs ?? 10_000)
  const rest = new RestApi(exchange, budget)

  // ---- state file: restored before the market is seeded and before anything is served ----
  const stateFile = config.stateFile
  const reportStateError = config.onStateError ?? ((message: string) => process.stderr.write(`troupe simulator: ${message}\n`))
  const state = { restored: false, error: undefined as string | undefined }
  if (stateFile !== undefined) {
    try {
      const saved = readStateFile(stateFile)
      if (saved !== undefined) {
        const names = new Set(accounts.map((a) => a.name))
        const s = saved.snapshot
        exchange.engine.restore({
          rngState: saved.clean ? s.rngState : skipAhead(s.rngState, CRASH_SKIP_DRAWS),
          orders: s.orders.filter((o) => names.has(o.account)),
          positions: s.positions.filter((p) => names.has(p.account)),
          fills: s.fills.filter((f) => names.has(f.account))
        })
        exchange.resync()
        state.restored = true
      }
    } catch (e) {
      state.error = e instanceof Error ? e.message : String(e)
      const aside = `${stateFile}.corrupt-${clock.now()}`
      try {
        renameSync(stateFile, aside)
      } catch {
        // Unreadable and unmovable: the next save overwrites it.
      }
      reportStateError(`state file ${stateFile} is unusable (${state.error}); moved to ${aside}, starting with a fresh venue`)
    }
  }
  const saveState = (clean: boolean): string => encodeState({ clean, snapshot: exchange.engine.snapshot(accounts.map((a) => a.name)) })

  // ---- market of other participants ----
  const venue: MarketVenue = {
    engine: exchange.engine,
    send: (cmd) => exchange.send(cmd),
    cancel: (ref) => exchange.cancel(ref),
    edit: (cmd) => exchange.edit(cmd)
  }
  const marketConfig: MarketConfig = config.market ?? { kind: "synthetic" }
  let source: MarketSource | undefined
  let replay: RecordedMarket | undefined
  if (marketConfig.kind === "synthetic") {
    const synthetic = new SyntheticMarket(venue, { seed: seed + 1, ...(marketConfig.levels === undefined ? {} : { levels: marketConfig.levels }), ...(marketConfig.takerShare === undefined ? {} : { takerShare: marketConfig.takerShare }), ...(marketConfig.walkShare === undefined ? {} : { walkShare: marketConfig.walkShare }), ...(marketConfig.reversion === undefined ? {} : { reversion: marketConfig.reversion }), ...(marketConfig.fairValueShare === undefined ? {} : { fairValueShare: marketConfig.fairValueShare }), ...(marketConfig.informedShare === undefined ? {} : { informedShare: marketConfig.informedShare }), ...(marketConfig.jumpShare === undefined ? {} : { jumpShare: marketConfig.jumpShare }), ...(marketConfig.maxJumpTicks === undefined ? {} : { maxJumpTicks: marketConfig.maxJumpTicks }) })
    synthetic.populate()
    source = synthetic
  } else if (marketConfig.kind === "replay") {
    const recorded = RecordedMarket.fromFile(venue, marketConfig.file)
    replay = recorded
    const onDone = marketConfig.onDone
    let done = false
    source = {
      tick: () => {
        if (recorded.tick()) return true
        if (!done) {
          done = true
          onDone?.(recorded.stats())
        }
        return false
      }
    }
  }
  const rate = marketConfig.kind === "none" ? 0 : marketConfig.rate ?? 20
  let stopMarket: (() => void) | undefined
  const market = {
    source,
    pause: () => {
      stopMarket?.()
      stopMarket = undefined
    },
    resume: () => {
      if (stopMarket === undefined && source !== undefined && rate > 0) stopMarket = driveMarket(source, rate, clock)
    },
    running: () => stopMarket !== undefined
  }
  market.resume()
  exchange.startFunding()
  exchange.startExpiries()

  // ---- WebSocket ----
  const sockets = new Map<WebSocket, FeedConnection>()
  let nextConnection = 1
  const wss = new WebSocketServer({ noServer: true })
  // Set once the Binance face listens; the admin's disconnect fault drops its sockets too.
  const faces: { binance: BinanceFace | undefined } = { binance: undefined }
  const admin = new SimulatorAdmin(exchange, budget, market, () => {
    const n = sockets.size
    for (const ws of sockets.keys()) ws.terminate()
    return n + (faces.binance?.dropConnections() ?? 0)
  })

  wss.on("connection", (ws: WebSocket) => {
    const conn: FeedConnection = {
      id: nextConnection++,
      send: (message) => {
        const text = toJson(message)
        const write = () => {
          if (ws.readyState === ws.OPEN) ws.send(text)
        }
        if (exchange.faults.latencyMs > 0) clock.setTimeout(write, exchange.faults.latencyMs)
        else write()
      }
    }
    sockets.set(ws, conn)
    ws.on("close", () => {
      sockets.delete(ws)
      exchange.publicFeed.disconnect(conn)
      exchange.privateFeed.disconnect(conn)
    })
    ws.on("error", () => ws.terminate())
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      let msg: Record<string, unknown>
      try {
        const parsed: unknown = JSON.parse(isBinary ? "" : data.toString("utf8"))
        if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("not an object")
        msg = parsed as Record<string, unknown>
      } catch {
        conn.send({ event: "error", message: "Json Error" })
        return
      }
      const feed = typeof msg.feed === "string" ? msg.feed : ""
      const products = Array.isArray(msg.product_ids) ? msg.product_ids.filter((p): p is string => typeof p === "string") : []
      switch (msg.event) {
        case "challenge":
          exchange.privateFeed.challenge(conn, msg.api_key)
          return
        case "subscribe":
        case "unsubscribe": {
          const subscribing = msg.event === "subscribe"
          if (isPrivateFeed(feed)) exchange.privateFeed.subscribe(conn, msg, subscribing)
          else if (isPublicFeed(feed) && subscribing) exchange.publicFeed.subscribe(conn, feed, products)
          else if (isPublicFeed(feed)) exchange.publicFeed.unsubscribe(conn, feed, products)
          else conn.send({ event: subscribing ? "subscribed_failed" : "unsubscribed_failed", feed, product_ids: products, message: "Invalid feed" })
          return
        }
        default:
          conn.send({ event: "error", message: "Invalid event" })
      }
    })
    conn.send({ event: "info", version: 1 })
  })

  // ---- HTTP ----
  const adminAllowed = adminAccess(config.adminToken)
  const handler: RequestListener = (req, res) => {
    void (async () => {
      const body = await readBody(req)
      const url = new URL(req.url ?? "/", "http://localhost")
      if (url.pathname.startsWith("/__admin")) {
        const refused = adminAllowed({ remoteAddress: req.socket.remoteAddress, host: req.headers.host, authorization: req.headers.authorization })
        if (refused !== undefined) {
          reply(res, refused.status, refused.body)
          return
        }
        let parsed: unknown = {}
        try {
          parsed = body === "" ? {} : JSON.parse(body)
        } catch {
          reply(res, 400, { error: "Json Error" })
          return
        }
        const out = admin.handle(req.method ?? "GET", url.pathname, parsed)
        reply(res, out.status, out.body)
        return
      }
      const answer = () => {
        const out = rest.handle({
          method: req.method ?? "GET", path: url.pathname, query: url.search.replace(/^\?/, ""), body,
          header: (name) => {
            const v = req.headers[name.toLowerCase()]
            return Array.isArray(v) ? v[0] : v
          }
        })
        reply(res, out.status, out.body)
      }
      if (exchange.faults.latencyMs > 0) clock.setTimeout(answer, exchange.faults.latencyMs)
      else answer()
    })().catch((e: unknown) => reply(res, 500, { result: "error", error: "Server Error", message: String(e) }))
  }
  const server = config.tls === undefined ? createServer(handler) : createTlsServer({ key: config.tls.key, cert: config.tls.cert }, handler)
  server.on("upgrade", (req, socket, head) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname
    if (path !== WS_PATH) {
      socket.destroy()
      return
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit("connection", ws, req))
  })

  // ---- periodic feeds ----
  const timers: { heartbeat: unknown; ticker: unknown } = { heartbeat: undefined, ticker: undefined }
  let running = true
  const every = (key: "heartbeat" | "ticker", ms: number, fn: () => void): void => {
    const loop = (): void => {
      if (!running) return
      fn()
      timers[key] = clock.setTimeout(loop, ms)
    }
    timers[key] = clock.setTimeout(loop, ms)
  }
  every("heartbeat", config.heartbeatMs ?? 5000, () => exchange.publicFeed.heartbeat())
  every("ticker", config.tickerMs ?? 1000, () => exchange.publicFeed.tickers())

  // ---- state saves: marked unclean while running, so a crash's file makes ids skip ahead ----
  let saving: Promise<void> | undefined
  let saveTimer: unknown
  if (stateFile !== undefined) {
    writeStateFileSync(stateFile, saveState(false))
    const saveMs = config.stateSaveMs ?? 2000
    const loop = (): void => {
      if (!running) return
      if (saving === undefined) {
        saving = writeStateFile(stateFile, saveState(false))
          .catch((e: unknown) => reportStateError(`saving state to ${stateFile} failed: ${e instanceof Error ? e.message : String(e)}`))
          .finally(() => {
            saving = undefined
          })
      }
      saveTimer = clock.setTimeout(loop, saveMs)
    }
    saveTimer = clock.setTimeout(loop, saveMs)
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(config.port ?? 0, config.host ?? "127.0.0.1", () => resolve())
  })
  const port = (server.address() as AddressInfo).port
  const host = config.host ?? "127.0.0.1"
  const binance = config.binance === undefined ? undefined : await startBinanceFace(exchange, { host, ...config.binance })
  faces.binance = binance

  const stop = async (): Promise<void> => {
    running = false
    await binance?.stop()
    market.pause()
    clock.clearTimeout(timers.heartbeat)
    clock.clearTimeout(timers.ticker)
    exchange.stop()
    for (const ws of sockets.keys()) ws.terminate()
    await new Promise<void>((resolve) => wss.close(() => resolve()))
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
    // Last, once nothing can change the state any more; marked clean.
    if (stateFile !== undefined) {
      clock.clearTimeout(saveTimer)
      await saving
      try {
        writeStateFileSync(stateFile, saveState(true))
      } catch (e) {
        reportStateError(`saving state to ${stateFile} failed: ${e instanceof Error ? e.message : String(e)}`)
      }
    }
  }

  const secure = config.tls !== undefined
  const url = `${secure ? "https" : "http"}://${host}:${port}`
  return { url, apiBase: `${url}/derivatives/api/`, fingerprint: config.tls?.fingerprint, wsUrl: `${secure ? "wss" : "ws"}://${host}:${port}${WS_PATH}`, port, accounts, admin, state, binance, stop, replayStats: replay === undefined ? undefined : () => (replay as RecordedMarket).stats() }
}
