import { Server, Agent, request as httpRequest, type IncomingMessage } from "node:http"
import { performance } from "node:perf_hooks"
import { Effect, Either, Exit, Layer, Option, Schema, Scope } from "effect"
import WebSocket from "ws"
import { wallClock, WallClockLive } from "../src/actors/clock.js"
import { InspectionStream } from "../src/actors/inspection.js"
import { makeInstrumentActor } from "../src/actors/instrument/instrument.actor.js"
import { MetricsRegistry } from "../src/actors/metrics.js"
import { OrderManager } from "../src/actors/orders/index.js"
import { marketDataLayer } from "../src/actors/ports/market-data.js"
import { Snapshots, type SnapshotsService } from "../src/actors/ports/snapshots.js"
import { RiskActor } from "../src/actors/risk/index.js"
import { KRAKEN_FUTURES_COSTS } from "../src/actors/risk/rate-limiter.js"
import { StrategyHost } from "../src/actors/strategy/strategy-host.js"
import { makeSupervisor, supervisorChild } from "../src/actors/supervisor/index.js"
import { makeKrakenMarketDataPort, makeKrakenRestClient, makeKrakenVenueGateway, mapInstruments } from "../src/adapters/venues/kraken-futures/index.js"
import { startSimulator } from "../src/adapters/venues/simulator/server.js"
import { sharedKeepAliveFetch } from "../src/adapters/venues/kraken-futures/http-fetch.js"
import { dec, Decimal } from "../src/domain/decimal.js"
import type { OrderIntent } from "../src/domain/events/intents.js"
import type { AccountId, InstrumentId } from "../src/domain/ids.js"
import { accountLimitsOf, instrumentLimitsOf } from "../src/daemon/trading-node.js"
import { bookViewFromLevels } from "../src/strategies/book-view.js"
import { defineStrategy, order } from "../src/strategies/sdk.js"
import { percentile, round, type Bench, type Figure } from "./harness.js"

/**
 * tick_to_order: a book update leaves the simulator's public WebSocket feed → our market-data
 * client → instrument actor (book) → strategy (SDK) → risk → order actor → Kraken REST client →
 * the simulator's HTTP server sees the request. Everything runs in ONE process (simulator, stack,
 * driver, baseline client), so the figures include sharing one event loop with the simulator.
 * Not in the path: the daemon's write-ahead journal (file journal with fsync, group commit) —
 * the journal is a no-op here, so this is the in-memory decision path plus transport.
 *
 * Baseline (the transport floor): a bare `ws` client + `http.request` (keep-alive) connected to
 * the same feed, which sends the same sendorder request on the same updates. Stack and floor run
 * in alternating phases; both sockets receive every frame in every phase.
 */

const RATE = 5_000
const EVERY = 100
const PHASE_MS = Number(process.env["TICK_BENCH_PHASE_MS"] ?? 6_000)
const PHASES = 4 // stack, floor, stack, floor
const WARMUP_MS = 3_000
const SYMBOL = "PF_XBTUSD"
const INSTRUMENT = `kraken-futures:${SYMBOL}` as InstrumentId
const ACCOUNT = "bench" as AccountId

interface Sample {
  readonly seq: number
  sent: number
  recv: number
  decided: number
  routed: number
  written: number
  arrived: number
}

const noSnapshots: SnapshotsService = { save: () => Effect.void, load: () => Effect.succeed(Option.none()) }

const run = async (): Promise<ReadonlyArray<Figure>> => {
  // ---- request-arrival hook: the simulator's http server 'request' event ----------------------
  let onArrive: (req: IncomingMessage) => void = () => undefined
  const serverEmit = Server.prototype.emit
  Server.prototype.emit = function (this: Server, event: string | symbol, ...args: unknown[]): boolean {
    if (event === "request") onArrive(args[0] as IncomingMessage)
    return serverEmit.apply(this, [event, ...args] as Parameters<typeof serverEmit>)
  }
  // ---- frame-received hook: our (the stack's) WebSocket client sockets ------------------------
  let baselineWs: WebSocket | undefined
  let needle: Buffer | undefined
  let current: Sample | undefined
  let stackActive = false
  const wsEmit = WebSocket.prototype.emit
  WebSocket.prototype.emit = function (this: WebSocket, event: string | symbol, ...args: unknown[]): boolean {
    if (event === "message" && needle !== undefined && stackActive && this !== baselineWs && current !== undefined && current.recv === 0) {
      const data = args[0]
      if (Buffer.isBuffer(data) && data.includes(needle)) current.recv = performance.now()
    }
    return wsEmit.apply(this, [event, ...args] as Parameters<typeof wsEmit>)
  }

  const apiKey = "bench-key"
  const apiSecret = Buffer.from("bench-secret-bench-secret-bench-secret-bench-secret").toString("base64")
  const sim = await startSimulator({
    port: 0,
    instruments: [SYMBOL],
    accounts: [{ name: "bench", apiKey, apiSecret, collateralUsd: "100000000" }],
    market: { kind: "none" },
    rateLimit: { limit: 1_000_000_000, windowMs: 10_000 },
    heartbeatMs: 60_000,
    tickerMs: 60_000
  })
  const exchange = sim.admin.exchange
  const scope = Effect.runSync(Scope.make())
  const stops: Array<() => Promise<unknown>> = []
  try {
    // ---- the trading stack (as TradingNode composes it, without journal and portfolio) --------
    let captured: { path: string; headers: Record<string, string>; body: string } | undefined
    // The REST client's own default transport (keep-alive node:http), timed at the request.
    const transport = sharedKeepAliveFetch()
    const timedFetch: typeof fetch = (input, init) => {
      const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url
      if (stackActive && current !== undefined && current.written === 0 && url.includes("sendorder")) current.written = performance.now()
      return transport(input, init)
    }
    const rest = makeKrakenRestClient({ baseUrl: `${sim.url}/derivatives`, credentials: { apiKey, secret: apiSecret }, fetch: timedFetch })
    const loaded = mapInstruments(await Effect.runPromise(rest.instruments()))
    const instrument = loaded.instruments.map((k) => k.instrument).find((i) => i.id === INSTRUMENT)
    if (instrument === undefined) throw new Error(`the simulator does not list ${INSTRUMENT}`)
    // The bench sends no reads (no unknown outcomes on loopback); a read would be billed to the risk actor below.
    const gateway = makeKrakenVenueGateway({ account: ACCOUNT, rest, budget: { reserve: (call) => risk.requestBudget.reserve(call) }, privateFeed: { url: sim.wsUrl, apiKey, secret: apiSecret }, clock: wallClock })
    const marketData = makeKrakenMarketDataPort({ url: sim.wsUrl })
    gateway.start()
    marketData.start()
    stops.push(() => Promise.allSettled([gateway.stop(), marketData.stop()]))
    const limits = { strategyOrdersPerSecond: 10_000 }
    const risk = new RiskActor(
      {
        account: ACCOUNT,
        limits: accountLimitsOf(limits),
        strategyRate: { maxActions: 10_000, windowMs: 1000 },
        // 50 orders/s is far beyond Kraken's budget (500 per 10 s): lift it so risk measures, not denies.
        venueRate: { budget: 1_000_000_000, windowMs: 10_000, reserve: 100, costs: KRAKEN_FUTURES_COSTS }
      },
      { clock: wallClock, emit: () => undefined }
    )
    const registered = risk.registerInstrument(instrument, instrumentLimitsOf(limits, instrument))
    if (Either.isLeft(registered)) throw registered.left
    const timedGateway: typeof gateway = Object.assign(Object.create(gateway) as typeof gateway, {
      send: (action: Parameters<typeof gateway.send>[0]) => {
        if (stackActive && current !== undefined && current.routed === 0) current.routed = performance.now()
        gateway.send(action)
      }
    })
    const orders = new OrderManager({ account: ACCOUNT, clock: wallClock, risk, gateway: timedGateway, emit: () => undefined, onFill: () => undefined })
    stops.push(async () => {
      orders.stop()
      risk.stop()
    })
    const metrics = new MetricsRegistry()
    const actor = makeInstrumentActor({ instrumentId: INSTRUMENT, priceDecimals: instrument.priceDecimals, qtyDecimals: instrument.qtyDecimals, metrics, inspection: new InspectionStream(64) })
    actor.subscribe((view) => risk.onBook(view.instrumentId, view.bestBid?.price, view.bestAsk?.price))
    const denials: string[] = []
    const layer = Layer.mergeAll(marketDataLayer(marketData), Layer.succeed(Snapshots, noSnapshots), WallClockLive)
    let host: StrategyHost | undefined
    await Effect.runPromise(
      Scope.extend(
        makeSupervisor({
          id: "root",
          strategy: "one_for_one",
          children: [
            supervisorChild({ id: "instruments", strategy: "one_for_one", children: [actor.host.child] }),
            supervisorChild(
              { id: "strategies", strategy: "one_for_one", children: [] },
              {
                onStarted: (sup) => {
                  host = new StrategyHost({
                    supervisor: sup,
                    account: ACCOUNT,
                    run: 1,
                    clock: wallClock,
                    gateway: { submit: (intent: OrderIntent) => Promise.resolve(orders.handle(intent)) },
                    feed: { subscribeBook: (_i, depth, deliver) => actor.subscribe((view) => deliver(bookViewFromLevels(view)), { depth }) },
                    records: () => undefined,
                    instruments: (id) => (id === INSTRUMENT ? instrument : undefined)
                  })
                }
              }
            )
          ]
        }).pipe(Effect.provide(layer)),
        scope
      )
    )
    if (host === undefined) throw new Error("the strategies supervisor did not start")
    // The strategy: a taker that buys IOC at the touch whenever the best bid's size changes.
    // The driver changes it on every 100th update only (the other 99 move deeper levels).
    const taker = defineStrategy({
      id: "bench-taker",
      instruments: [INSTRUMENT],
      params: Schema.Struct({}),
      init: () => ({ lastTopQty: undefined as Decimal | undefined }),
      onBook: (ctx, book) => {
        const top = book.bestBid
        if (top === undefined) return
        const prev = ctx.state.lastTopQty
        ctx.state.lastTopQty = top.qty
        if (prev === undefined || prev.eq(top.qty) || !stackActive) return
        if (current !== undefined && current.decided === 0) current.decided = performance.now()
        ctx.submit({ instrument: INSTRUMENT, side: "buy", qty: dec("0.001"), type: order.ioc(top.price) })
      },
      onDenied: (_ctx, d) => {
        denials.push(d.reason)
      }
    })
    await Effect.runPromise(host.add({ definition: taker, params: {}, id: "bench-taker" }))

    // ---- the bare client: ws + http.request, no logic beyond "is this the 100th update" --------
    const agent = new Agent({ keepAlive: true, maxSockets: 4 })
    stops.push(async () => agent.destroy())
    const simUrl = new URL(sim.url)
    const bare = new WebSocket(sim.wsUrl)
    baselineWs = bare
    stops.push(async () => bare.terminate())
    await new Promise<void>((resolve, reject) => {
      bare.once("open", () => resolve())
      bare.once("error", reject)
    })
    bare.send(JSON.stringify({ event: "subscribe", feed: "book", product_ids: [SYMBOL] }))
    let floorActive = false
    bare.on("message", (data: Buffer) => {
      if (!floorActive || current === undefined || current.recv !== 0) return
      const msg = JSON.parse(data.toString("utf8")) as { feed?: string; seq?: number }
      if (msg.feed !== "book" || msg.seq !== current.seq || captured === undefined) return
      current.recv = performance.now()
      const req = httpRequest({ host: simUrl.hostname, port: simUrl.port, method: "POST", path: captured.path, headers: captured.headers, agent }, (res) => res.resume())
      req.on("error", () => undefined)
      req.end(captured.body)
      current.written = performance.now()
    })

    onArrive = (req) => {
      if (!(req.url ?? "").includes("sendorder")) return
      const at = performance.now()
      if (current !== undefined && current.arrived === 0 && (stackActive || floorActive)) current.arrived = at
      if (captured === undefined) {
        const chunks: Buffer[] = []
        req.on("data", (c: Buffer) => chunks.push(c))
        req.on("end", () => {
          const headers: Record<string, string> = {}
          for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string" && k !== "host" && k !== "connection") headers[k] = v
          captured = { path: req.url ?? "/", headers, body: Buffer.concat(chunks).toString("utf8") }
        })
      }
    }

    // ---- the feed: 5,000 book updates/s on one product ------------------------------------
    const effect = (side: "buy" | "sell", price: string, qty: string) => ({ kind: "book" as const, symbol: SYMBOL, side, price: new Decimal(price), qty: new Decimal(qty) })
    // A stable book: best bid 60000, best ask 60001, ten levels each side.
    for (let i = 0; i < 10; i++) exchange.publish([effect("buy", String(60_000 - i), "1"), effect("sell", String(60_001 + i), "1")])
    // The 99 ordinary updates change sizes of deeper levels; the 100th changes the best bid's size.
    const ordinary = Array.from({ length: 64 }, (_, i) => [effect(i % 2 === 0 ? "buy" : "sell", String(i % 2 === 0 ? 59_999 - (i % 9) : 60_002 + (i % 9)), String(1 + (i % 7)))])
    const tops = Array.from({ length: 5 }, (_, i) => [effect("buy", "60000", String(2 + i))])
    await new Promise((r) => setTimeout(r, 500)) // subscriptions and snapshots
    const samples: { stack: Sample[]; floor: Sample[] } = { stack: [], floor: [] }
    let missed = 0
    const drive = (ms: number, mode: "warmup" | "stack" | "floor"): Promise<void> =>
      new Promise((resolve) => {
        stackActive = mode !== "floor"
        floorActive = mode === "floor"
        const start = performance.now()
        let n = 0
        const tick = (): void => {
          const now = performance.now()
          const due = Math.min(Math.floor(((now - start) * RATE) / 1000), n + 5)
          while (n < due) {
            n++
            const nextSeq = exchange.publicFeed.seq(SYMBOL) + 1
            if (nextSeq % EVERY === 0) {
              // Settle the previous trigger (20 ms ago) before arming the next.
              if (current !== undefined && mode !== "warmup") {
                if (current.recv > 0 && current.written > 0 && current.arrived > 0) samples[mode].push(current)
                else missed++
              }
              needle = Buffer.from(`"seq":${nextSeq},`)
              current = { seq: nextSeq, sent: performance.now(), recv: 0, decided: 0, routed: 0, written: 0, arrived: 0 }
              exchange.publish(tops[(nextSeq / EVERY) % tops.length] as never)
            } else {
              exchange.publish(ordinary[nextSeq % ordinary.length] as never)
            }
          }
          if (now - start < ms) setImmediate(tick)
          else {
            current = undefined
            setTimeout(resolve, 50)
          }
        }
        setImmediate(tick)
      })
    await drive(WARMUP_MS, "warmup")
    if (captured === undefined) throw new Error(`the stack sent no order in the warm-up (denials: ${denials.slice(0, 3).join(", ")})`)
    for (let p = 0; p < PHASES; p++) await drive(PHASE_MS, p % 2 === 0 ? "stack" : "floor")
    stackActive = false
    floorActive = false

    const us = (xs: number[]) => {
      const s = Float64Array.from(xs).sort()
      return { p50: round(percentile(s, 50) * 1000, 1), p99: round(percentile(s, 99) * 1000, 1) }
    }
    const e2e = us(samples.stack.map((s) => s.arrived - s.sent))
    const floor = us(samples.floor.map((s) => s.arrived - s.sent))
    const internal = us(samples.stack.map((s) => s.written - s.recv))
    const floorInternal = us(samples.floor.map((s) => s.written - s.recv))
    return [
      {
        name: "tick_to_order",
        value: e2e.p50,
        unit: "us",
        baseline: "bare ws + http.request client (transport floor)",
        baseline_value: floor.p50,
        ratio: round(e2e.p50 / floor.p50, 3),
        p50_us: e2e.p50,
        p99_us: e2e.p99,
        floor_p50_us: floor.p50,
        floor_p99_us: floor.p99,
        ratio_p99: round(e2e.p99 / floor.p99, 3),
        internal_p50_us: internal.p50,
        internal_p99_us: internal.p99,
        recv_to_decision_p50_us: us(samples.stack.map((s) => s.decided - s.recv)).p50,
        recv_to_decision_p99_us: us(samples.stack.map((s) => s.decided - s.recv)).p99,
        decision_to_gateway_p50_us: us(samples.stack.map((s) => s.routed - s.decided)).p50,
        decision_to_gateway_p99_us: us(samples.stack.map((s) => s.routed - s.decided)).p99,
        gateway_to_request_p50_us: us(samples.stack.map((s) => s.written - s.routed)).p50,
        gateway_to_request_p99_us: us(samples.stack.map((s) => s.written - s.routed)).p99,
        floor_internal_p50_us: floorInternal.p50,
        floor_internal_p99_us: floorInternal.p99,
        samples: samples.stack.length,
        floor_samples: samples.floor.length,
        missed,
        denials: denials.length,
        rate_msg_s: RATE,
        order_every: EVERY,
        mode: "one process: simulator + stack (no journal) + baseline"
      }
    ]
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined)
    await Effect.runPromise(Scope.close(scope, Exit.void))
    await sim.stop()
    Server.prototype.emit = serverEmit
    WebSocket.prototype.emit = wsEmit
  }
}

export const benches: ReadonlyArray<Bench> = [{ name: "tick_to_order", run }]
