import { afterAll, beforeAll, describe, expect, it } from "vitest"
import WebSocket from "ws"
import { signedParams, signWsApiParams } from "../../../src/adapters/venues/binance-usdm/signing.js"
import { dec } from "../../../src/domain/decimal.js"
import { startSimulator, type Simulator } from "../../../src/adapters/venues/simulator/server.js"

/**
 * The simulator's Binance USD-M face over loopback: signed REST with the venue's error codes,
 * weights and order counts in headers, 429 then 418, orders on the shared engine, diff depth
 * with U/u/pu, the user data stream and the WebSocket API.
 */
const me = { name: "me", apiKey: "binance-key-1", apiSecret: "binance-secret-1" }

interface Reply {
  status: number
  headers: Headers
  body: Record<string, unknown> & { code?: number; msg?: string }
}

class Client {
  constructor(readonly base: string, readonly creds = me, readonly skewMs = 0) {}
  async signed(method: string, path: string, params: Record<string, string> = {}, opts: { recvWindow?: number; timestamp?: number; secret?: string; apiKey?: string | null } = {}): Promise<Reply> {
    const text = signedParams(opts.secret ?? this.creds.apiSecret, Object.entries(params), { timestamp: opts.timestamp ?? Date.now() + this.skewMs, recvWindow: opts.recvWindow })
    const headers: Record<string, string> = opts.apiKey === null ? {} : { "X-MBX-APIKEY": opts.apiKey ?? this.creds.apiKey }
    const res = method === "GET" || method === "DELETE"
      ? await fetch(`${this.base}${path}?${text}`, { method, headers })
      : await fetch(`${this.base}${path}`, { method, headers: { ...headers, "content-type": "application/x-www-form-urlencoded" }, body: text })
    return { status: res.status, headers: res.headers, body: (await res.json()) as Reply["body"] }
  }
  async get(path: string): Promise<Reply> {
    const res = await fetch(`${this.base}${path}`)
    return { status: res.status, headers: res.headers, body: (await res.json()) as Reply["body"] }
  }
}

/** A WebSocket that keeps every message so a test can wait for one that matches. */
class Socket {
  readonly messages: Array<Record<string, unknown>> = []
  private waiters: Array<{ pred: (m: Record<string, unknown>) => boolean; resolve: (m: Record<string, unknown>) => void }> = []
  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data: Buffer) => {
      const m = JSON.parse(data.toString("utf8")) as Record<string, unknown>
      this.messages.push(m)
      this.waiters = this.waiters.filter((w) => (w.pred(m) ? (w.resolve(m), false) : true))
    })
  }
  static open(url: string): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url)
      const s = new Socket(ws)
      ws.once("open", () => resolve(s))
      ws.once("error", reject)
    })
  }
  next(pred: (m: Record<string, unknown>) => boolean, ms = 3000): Promise<Record<string, unknown>> {
    const found = this.messages.find(pred)
    if (found !== undefined) return Promise.resolve(found)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching message in ${ms} ms; got ${JSON.stringify(this.messages.slice(-5))}`)), ms)
      this.waiters.push({ pred, resolve: (m) => (clearTimeout(timer), resolve(m)) })
    })
  }
  send(m: unknown): void {
    this.ws.send(JSON.stringify(m))
  }
  close(): void {
    this.ws.close()
  }
}

describe("simulator Binance USD-M face", () => {
  let sim: Simulator
  let api: Client
  let base: string
  beforeAll(async () => {
    sim = await startSimulator({
      accounts: [{ ...me, collateralUsd: "100000" }], market: { kind: "synthetic", rate: 0 }, instruments: ["BTCUSDT", "ETHUSDT"],
      model: { fundingIntervalMs: 0 }, binance: { limits: { weightPerMinute: 100_000 }, listenKeyValidityMs: 60_000, tickMs: 200 }
    })
    base = (sim.binance as NonNullable<Simulator["binance"]>).url
    api = new Client(base)
  })
  afterAll(async () => {
    await sim.stop()
  })

  it("rejects a wrong signature (-1022), a stale timestamp (-1021), a timestamp ahead (-1021), a missing key (-2014) and an unknown key (-2015)", async () => {
    const ok = await api.signed("GET", "/fapi/v3/account")
    expect(ok.status).toBe(200)
    expect(ok.body.availableBalance).toBe("100000")
    const wrong = await api.signed("GET", "/fapi/v3/account", {}, { secret: "not-the-secret" })
    expect([wrong.status, wrong.body]).toEqual([400, { code: -1022, msg: "Signature for this request is not valid." }])
    const stale = await api.signed("GET", "/fapi/v3/account", {}, { timestamp: Date.now() - 6000 })
    expect([stale.status, stale.body.code, stale.body.msg]).toEqual([400, -1021, "Timestamp for this request is outside of the recvWindow."])
    // The same age passes inside a wider recvWindow: the window is the request's own.
    expect((await api.signed("GET", "/fapi/v3/account", {}, { timestamp: Date.now() - 6000, recvWindow: 10_000 })).status).toBe(200)
    const ahead = await api.signed("GET", "/fapi/v3/account", {}, { timestamp: Date.now() + 5000 })
    expect(ahead.body.code).toBe(-1021)
    const noKey = await api.signed("GET", "/fapi/v3/account", {}, { apiKey: null })
    expect([noKey.status, noKey.body.code]).toEqual([401, -2014])
    const badKey = await api.signed("GET", "/fapi/v3/account", {}, { apiKey: "who" })
    expect([badKey.status, badKey.body.code]).toEqual([401, -2015])
    const unsigned = await fetch(`${base}/fapi/v3/account?timestamp=${Date.now()}`, { headers: { "X-MBX-APIKEY": me.apiKey } })
    expect(((await unsigned.json()) as { code: number }).code).toBe(-1102)
  })

  it("exchangeInfo carries the venue's filters; depth has lastUpdateId; time and ping answer; weight is in every reply's header", async () => {
    const info = await api.get("/fapi/v1/exchangeInfo")
    const btc = (info.body.symbols as Array<Record<string, unknown>>).find((s) => s.symbol === "BTCUSDT") as Record<string, unknown>
    const filters = (btc.filters as Array<{ filterType: string }>).map((f) => f.filterType).sort()
    expect(filters).toEqual(["LOT_SIZE", "MARKET_LOT_SIZE", "MAX_NUM_ORDERS", "MIN_NOTIONAL", "PERCENT_PRICE", "PRICE_FILTER"])
    expect(btc).toMatchObject({ contractType: "PERPETUAL", status: "TRADING", quoteAsset: "USDT", marginAsset: "USDT" })
    const depth = await api.get("/fapi/v1/depth?symbol=BTCUSDT&limit=5")
    expect(typeof depth.body.lastUpdateId).toBe("number")
    expect((depth.body.bids as unknown[]).length).toBe(5)
    expect(Number(depth.headers.get("x-mbx-used-weight-1m"))).toBeGreaterThan(0)
    expect((await api.get("/fapi/v1/ping")).body).toEqual({})
    expect(Math.abs(((await api.get("/fapi/v1/time")).body.serverTime as number) - Date.now())).toBeLessThan(2000)
    const premium = await api.get("/fapi/v1/premiumIndex?symbol=BTCUSDT")
    expect(Number(premium.body.markPrice)).toBeGreaterThan(0)
  })

  it("place, query, modify and cancel a limit order; order counts in headers; filters give the venue's codes", async () => {
    const book = await api.get("/fapi/v1/depth?symbol=BTCUSDT&limit=5")
    const bid = Number((book.body.bids as string[][])[0]?.[0])
    const price = (bid - 50).toFixed(1)
    const placed = await api.signed("POST", "/fapi/v1/order", { symbol: "BTCUSDT", side: "BUY", type: "LIMIT", timeInForce: "GTC", quantity: "0.010", price, newClientOrderId: "face-1", newOrderRespType: "RESULT" })
    expect(placed.status).toBe(200)
    expect(placed.body).toMatchObject({ symbol: "BTCUSDT", status: "NEW", clientOrderId: "face-1", origQty: "0.01", price, type: "LIMIT", timeInForce: "GTC" })
    expect(Number(placed.headers.get("x-mbx-order-count-10s"))).toBeGreaterThanOrEqual(1)
    expect(Number(placed.headers.get("x-mbx-order-count-1m"))).toBeGreaterThanOrEqual(1)
    const orderId = String(placed.body.orderId)
    const got = await api.signed("GET", "/fapi/v1/order", { symbol: "BTCUSDT", origClientOrderId: "face-1" })
    expect(got.body.orderId).toBe(placed.body.orderId)
    const moved = await api.signed("PUT", "/fapi/v1/order", { symbol: "BTCUSDT", orderId, side: "BUY", quantity: "0.020", price })
    expect(moved.body).toMatchObject({ status: "NEW", origQty: "0.02" })
    const same = await api.signed("PUT", "/fapi/v1/order", { symbol: "BTCUSDT", orderId, side: "BUY", quantity: "0.020", price })
    expect(same.body.code).toBe(-5027)
    const open = await api.signed("GET", "/fapi/v1/openOrders", { symbol: "BTCUSDT" })
    expect((open.body as unknown as unknown[]).length).toBe(1)
    const cancelled = await api.signed("DELETE", "/fapi/v1/order", { symbol: "BTCUSDT", orderId })
    expect(cancelled.body.status).toBe("CANCELED")
    expect((await api.signed("DELETE", "/fapi/v1/order", { symbol: "BTCUSDT", orderId })).body.code).toBe(-2011)
    expect((await api.signed("GET", "/fapi/v1/order", { symbol: "BTCUSDT", orderId })).body.status).toBe("CANCELED")
    expect((await api.signed("GET", "/fapi/v1/openOrder", { symbol: "BTCUSDT", orderId })).body.code).toBe(-2013)
    const dup = await api.signed("POST", "/fapi/v1/order", { symbol: "BTCUSDT", side: "BUY", type: "LIMIT", timeInForce: "GTC", quantity: "0.010", price, newClientOrderId: "face-1" })
    expect(dup.body.code).toBe(-4116)
    const offTick = await api.signed("POST", "/fapi/v1/order", { symbol: "BTCUSDT", side: "BUY", type: "LIMIT", timeInForce: "GTC", quantity: "0.010", price: `${price}5` })
    expect(offTick.body.code).toBe(-4014)
    const tiny = await api.signed("POST", "/fapi/v1/order", { symbol: "BTCUSDT", side: "BUY", type: "LIMIT", timeInForce: "GTC", quantity: "0.001", price: "1000.0" })
    expect(tiny.body.code).toBe(-4164)
    const far = await api.signed("POST", "/fapi/v1/order", { symbol: "BTCUSDT", side: "BUY", type: "LIMIT", timeInForce: "GTC", quantity: "0.010", price: (bid * 1.2).toFixed(1) })
    expect(far.body.code).toBe(-4016)
    const stop = await api.signed("POST", "/fapi/v1/order", { symbol: "BTCUSDT", side: "SELL", type: "STOP_MARKET", quantity: "0.010", stopPrice: (bid - 500).toFixed(1) })
    expect(stop.body.code).toBe(-4120)
    const cross = await api.signed("POST", "/fapi/v1/order", { symbol: "BTCUSDT", side: "BUY", type: "LIMIT", timeInForce: "GTX", quantity: "0.010", price: (bid + 200).toFixed(1) })
    expect(cross.body.code).toBe(-5022)
  })

  it("market and IOC orders fill on the shared engine; userTrades, positionRisk and account agree", async () => {
    const bought = await api.signed("POST", "/fapi/v1/order", { symbol: "ETHUSDT", side: "BUY", type: "MARKET", quantity: "0.100", newOrderRespType: "RESULT" })
    expect(bought.body).toMatchObject({ status: "FILLED", executedQty: "0.1", type: "MARKET" })
    expect(Number(bought.body.avgPrice)).toBeGreaterThan(0)
    const trades = await api.signed("GET", "/fapi/v1/userTrades", { symbol: "ETHUSDT" })
    const list = trades.body as unknown as Array<Record<string, unknown>>
    expect(list.every((t) => t.orderId === bought.body.orderId)).toBe(true)
    expect(list.reduce((s, t) => s + Number(t.qty), 0)).toBeCloseTo(0.1, 9)
    const risk = await api.signed("GET", "/fapi/v3/positionRisk", { symbol: "ETHUSDT" })
    expect((risk.body as unknown as Array<Record<string, unknown>>)[0]).toMatchObject({ symbol: "ETHUSDT", positionAmt: "0.1" })
    // The same position, seen through the Kraken face's engine: one engine, two faces.
    expect(sim.admin.exchange.engine.position("me", "ETHUSDT")?.balance.toFixed()).toBe("0.1")
    const closed = await api.signed("POST", "/fapi/v1/order", { symbol: "ETHUSDT", side: "SELL", type: "MARKET", quantity: "0.100", reduceOnly: "true", newOrderRespType: "RESULT" })
    expect(closed.body.status).toBe("FILLED")
    // Each trade's realizedPnl adds up to the engine's realized PnL of the position.
    const all = (await api.signed("GET", "/fapi/v1/userTrades", { symbol: "ETHUSDT" })).body as unknown as Array<{ realizedPnl: string }>
    const realized = sim.admin.exchange.engine.position("me", "ETHUSDT")?.realizedPnl
    expect(realized?.isZero()).toBe(false)
    expect(all.reduce((sum, t) => sum.plus(t.realizedPnl), dec("0")).toFixed()).toBe(realized?.toDecimalPlaces(8).toFixed())
    const again = await api.signed("POST", "/fapi/v1/order", { symbol: "ETHUSDT", side: "SELL", type: "MARKET", quantity: "0.100", reduceOnly: "true" })
    expect(again.body.code).toBe(-2022)
  })

  it("diff depth on /public has continuous U/u/pu, a snapshot inside the stream's ids, and an injected break shows as pu != previous u", async () => {
    const ws = await Socket.open(`${sim.binance?.url.replace("http", "ws")}/public/ws`)
    ws.send({ method: "SUBSCRIBE", params: ["btcusdt@depth@100ms", "btcusdt@bookTicker"], id: 7 })
    expect(await ws.next((m) => m.id === 7)).toEqual({ result: null, id: 7 })
    const place = (i: number) => sim.admin.placeAs({ account: "maker", symbol: "BTCUSDT", orderType: "lmt", side: "buy", size: "0.01", limitPrice: (50_000 + i).toFixed(1) })
    for (let i = 0; i < 5; i++) place(i)
    const snapshot = await api.get("/fapi/v1/depth?symbol=BTCUSDT&limit=1000")
    for (let i = 5; i < 10; i++) place(i)
    await fetch(`${sim.binance?.url}/__admin/depth-break`, { method: "POST", body: JSON.stringify({ symbol: "BTCUSDT" }) })
    place(10)
    await ws.next((m) => m.e === "depthUpdate" && (m.b as string[][]).some(([p]) => p === "50010"))
    const events = ws.messages.filter((m) => m.e === "depthUpdate")
    expect(events.length).toBe(11)
    for (let i = 1; i < 10; i++) expect(events[i]?.pu).toBe(events[i - 1]?.u)
    expect(events[10]?.pu).not.toBe(events[9]?.u)
    const last = snapshot.body.lastUpdateId as number
    expect(events.some((e) => (e.U as number) <= last + 1 && (e.u as number) >= last)).toBe(true)
    // More size at the best bid changes the top of book: a bookTicker.
    const best = ((await api.get("/fapi/v1/depth?symbol=BTCUSDT&limit=5")).body.bids as string[][])[0] as string[]
    sim.admin.placeAs({ account: "maker", symbol: "BTCUSDT", orderType: "lmt", side: "buy", size: "0.5", limitPrice: best[0] })
    const top = await ws.next((m) => m.e === "bookTicker" && m.b === best[0])
    expect(Number(top.B)).toBeCloseTo(Number(best[1]) + 0.5, 9)
    // Routed paths: markPrice is a /market stream, not served on /public.
    ws.send({ method: "SUBSCRIBE", params: ["btcusdt@markPrice@1s"], id: 8 })
    expect(((await ws.next((m) => m.id === 8)).error as { code: number }).code).toBe(2)
    ws.close()
    const market = await Socket.open(`${sim.binance?.url.replace("http", "ws")}/market/stream?streams=btcusdt@markPrice@1s`)
    const mark = await market.next((m) => m.stream === "btcusdt@markPrice@1s")
    expect((mark.data as Record<string, unknown>).e).toBe("markPriceUpdate")
    market.close()
  })

  it("the user data stream reports NEW, TRADE and CANCELED, ACCOUNT_UPDATE, and ALGO_UPDATE for a conditional order; a listenKey expires", async () => {
    const key = (await api.signed("POST", "/fapi/v1/listenKey")).body.listenKey as string
    const again = await fetch(`${base}/fapi/v1/listenKey`, { method: "POST", headers: { "X-MBX-APIKEY": me.apiKey } })
    expect(((await again.json()) as { listenKey: string }).listenKey).toBe(key)
    const ws = await Socket.open(`${sim.binance?.url.replace("http", "ws")}/private/ws?listenKey=${key}`)
    const book = await api.get("/fapi/v1/depth?symbol=ETHUSDT&limit=5")
    const bid = Number((book.body.bids as string[][])[0]?.[0])
    const ask = Number((book.body.asks as string[][])[0]?.[0])
    const resting = await api.signed("POST", "/fapi/v1/order", { symbol: "ETHUSDT", side: "BUY", type: "LIMIT", timeInForce: "GTC", quantity: "0.010", price: (bid - 10).toFixed(2) })
    await ws.next((m) => m.e === "ORDER_TRADE_UPDATE" && (m.o as Record<string, unknown>).i === resting.body.orderId && (m.o as Record<string, unknown>).X === "NEW")
    await api.signed("DELETE", "/fapi/v1/order", { symbol: "ETHUSDT", orderId: String(resting.body.orderId) })
    await ws.next((m) => m.e === "ORDER_TRADE_UPDATE" && (m.o as Record<string, unknown>).X === "CANCELED")
    const taker = await api.signed("POST", "/fapi/v1/order", { symbol: "ETHUSDT", side: "BUY", type: "LIMIT", timeInForce: "IOC", quantity: "0.010", price: (ask + 1).toFixed(2) })
    const fill = await ws.next((m) => m.e === "ORDER_TRADE_UPDATE" && (m.o as Record<string, unknown>).i === taker.body.orderId && (m.o as Record<string, unknown>).x === "TRADE")
    expect((fill.o as Record<string, unknown>).X).toBe("FILLED")
    const newFirst = ws.messages.findIndex((m) => m.e === "ORDER_TRADE_UPDATE" && (m.o as Record<string, unknown>).i === taker.body.orderId)
    expect(((ws.messages[newFirst] as Record<string, unknown>).o as Record<string, unknown>).X).toBe("NEW")
    const account = await ws.next((m) => m.e === "ACCOUNT_UPDATE")
    expect(((account.a as Record<string, unknown>).P as Array<Record<string, unknown>>)[0]).toMatchObject({ s: "ETHUSDT", pa: "0.01" })
    const algo = await api.signed("POST", "/fapi/v1/algoOrder", { algoType: "CONDITIONAL", symbol: "ETHUSDT", side: "SELL", type: "STOP_MARKET", quantity: "0.010", triggerPrice: (bid - 300).toFixed(2), reduceOnly: "true", clientAlgoId: "algo-1" })
    expect(algo.body).toMatchObject({ algoStatus: "NEW", clientAlgoId: "algo-1", orderType: "STOP_MARKET" })
    await ws.next((m) => m.e === "ALGO_UPDATE" && (m.o as Record<string, unknown>).X === "NEW")
    const open = await api.signed("GET", "/fapi/v1/openAlgoOrders", { symbol: "ETHUSDT" })
    expect((open.body as unknown as unknown[]).length).toBe(1)
    const cancelled = await api.signed("DELETE", "/fapi/v1/algoOrder", { clientAlgoId: "algo-1" })
    expect(cancelled.body).toMatchObject({ code: "200", msg: "success" })
    await ws.next((m) => m.e === "ALGO_UPDATE" && (m.o as Record<string, unknown>).X === "CANCELED")
    // Expiry: the simulator's clock is real here; a key of 60 s would take too long, so close it and
    // check that keep-alive of a closed key is -1125.
    await fetch(`${base}/fapi/v1/listenKey`, { method: "DELETE", headers: { "X-MBX-APIKEY": me.apiKey } })
    const gone = await fetch(`${base}/fapi/v1/listenKey`, { method: "PUT", headers: { "X-MBX-APIKEY": me.apiKey } })
    expect(((await gone.json()) as { code: number }).code).toBe(-1125)
    ws.close()
  })

  it("a conditional (algo) order triggers on the last price: ALGO_UPDATE TRIGGERED with its order id, the order's TRADE, then FINISHED", async () => {
    const key = (await api.signed("POST", "/fapi/v1/listenKey")).body.listenKey as string
    const ws = await Socket.open(`${sim.binance?.url.replace("http", "ws")}/private/ws/${key}`)
    const book = await api.get("/fapi/v1/depth?symbol=BTCUSDT&limit=5")
    const [bid, bidQty] = (book.body.bids as string[][])[0] as [string, string]
    const algo = await api.signed("POST", "/fapi/v1/algoOrder", { algoType: "CONDITIONAL", symbol: "BTCUSDT", side: "SELL", type: "STOP_MARKET", quantity: "0.010", triggerPrice: bid, clientAlgoId: "stop-1" })
    expect(algo.body.algoStatus).toBe("NEW")
    // Another participant sells through the best bid: the last price reaches the trigger.
    sim.admin.placeAs({ account: "taker", symbol: "BTCUSDT", orderType: "ioc", side: "sell", size: bidQty, limitPrice: bid })
    const triggered = await ws.next((m) => m.e === "ALGO_UPDATE" && (m.o as Record<string, unknown>).X === "TRIGGERED")
    const orderId = Number((triggered.o as Record<string, unknown>).ai)
    expect(orderId).toBeGreaterThan(0)
    const trade = await ws.next((m) => m.e === "ORDER_TRADE_UPDATE" && (m.o as Record<string, unknown>).i === orderId && (m.o as Record<string, unknown>).x === "TRADE")
    expect((trade.o as Record<string, unknown>).X).toBe("FILLED")
    expect((trade.o as Record<string, unknown>).ot).toBe("STOP_MARKET")
    await ws.next((m) => m.e === "ALGO_UPDATE" && (m.o as Record<string, unknown>).X === "FINISHED")
    const after = await api.signed("GET", "/fapi/v1/algoOrder", { clientAlgoId: "stop-1" })
    expect(after.body).toMatchObject({ algoStatus: "FINISHED", actualOrderId: String(orderId) })
    expect((await api.signed("GET", "/fapi/v1/order", { symbol: "BTCUSDT", orderId: String(orderId) })).body).toMatchObject({ status: "FILLED", executedQty: "0.01" })
    await api.signed("POST", "/fapi/v1/order", { symbol: "BTCUSDT", side: "BUY", type: "MARKET", quantity: "0.010" })
    ws.close()
  })

  it("the WebSocket API places, modifies and cancels signed orders and refuses a bad signature", async () => {
    const ws = await Socket.open(sim.binance?.wsApiUrl ?? "")
    const book = await api.get("/fapi/v1/depth?symbol=BTCUSDT&limit=5")
    const price = (Number((book.body.bids as string[][])[0]?.[0]) - 100).toFixed(1)
    const signed = (params: Record<string, unknown>) => {
      const all = { ...params, apiKey: me.apiKey, timestamp: Date.now() }
      return { ...all, signature: signWsApiParams(me.apiSecret, all) }
    }
    ws.send({ id: "p1", method: "order.place", params: signed({ symbol: "BTCUSDT", side: "BUY", type: "LIMIT", timeInForce: "GTC", quantity: "0.010", price }) })
    const placed = await ws.next((m) => m.id === "p1")
    expect(placed.status).toBe(200)
    const order = placed.result as Record<string, unknown>
    expect(order.status).toBe("NEW")
    ws.send({ id: "m1", method: "order.modify", params: signed({ symbol: "BTCUSDT", orderId: order.orderId, side: "BUY", quantity: "0.020", price }) })
    expect(((await ws.next((m) => m.id === "m1")).result as Record<string, unknown>).origQty).toBe("0.02")
    ws.send({ id: "c1", method: "order.cancel", params: signed({ symbol: "BTCUSDT", orderId: order.orderId }) })
    expect(((await ws.next((m) => m.id === "c1")).result as Record<string, unknown>).status).toBe("CANCELED")
    ws.send({ id: "bad", method: "order.place", params: { ...signed({ symbol: "BTCUSDT", side: "BUY", type: "LIMIT", timeInForce: "GTC", quantity: "0.010", price }), signature: "00" } })
    expect(((await ws.next((m) => m.id === "bad")).error as Record<string, unknown>).code).toBe(-1022)
    ws.close()
  })

  it("an unknown-outcome fault executes the order and answers 503; the order is found by its client id", async () => {
    const faults = await fetch(`${base}/__admin/faults`, { method: "POST", body: JSON.stringify({ unknownOutcomes: 1 }) })
    expect(await faults.json()).toEqual({ unknownOutcomes: 1 })
    const book = await api.get("/fapi/v1/depth?symbol=BTCUSDT&limit=5")
    const price = (Number((book.body.bids as string[][])[0]?.[0]) - 150).toFixed(1)
    const lost = await api.signed("POST", "/fapi/v1/order", { symbol: "BTCUSDT", side: "BUY", type: "LIMIT", timeInForce: "GTC", quantity: "0.010", price, newClientOrderId: "unknown-1" })
    expect([lost.status, lost.body.code]).toEqual([503, -1000])
    const found = await api.signed("GET", "/fapi/v1/order", { symbol: "BTCUSDT", origClientOrderId: "unknown-1" })
    expect(found.body).toMatchObject({ status: "NEW", clientOrderId: "unknown-1" })
    expect((await api.signed("DELETE", "/fapi/v1/order", { symbol: "BTCUSDT", origClientOrderId: "unknown-1" })).body.status).toBe("CANCELED")
  })

  it("the admin's drop-connections fault drops the Binance face's sockets too", async () => {
    const ws = await Socket.open(`${sim.binance?.url.replace("http", "ws")}/market/ws`)
    const closed = new Promise((resolve) => ws.ws.once("close", resolve))
    expect(sim.admin.dropConnections()).toBeGreaterThanOrEqual(1)
    await closed
  })

  it("countdownCancelAll cancels the symbol's open orders when it runs out", async () => {
    const book = await api.get("/fapi/v1/depth?symbol=BTCUSDT&limit=5")
    const price = (Number((book.body.bids as string[][])[0]?.[0]) - 100).toFixed(1)
    await api.signed("POST", "/fapi/v1/order", { symbol: "BTCUSDT", side: "BUY", type: "LIMIT", timeInForce: "GTC", quantity: "0.010", price })
    const armed = await api.signed("POST", "/fapi/v1/countdownCancelAll", { symbol: "BTCUSDT", countdownTime: "200" })
    expect(armed.body).toEqual({ symbol: "BTCUSDT", countdownTime: "200" })
    expect((await api.signed("GET", "/fapi/v1/openOrders", { symbol: "BTCUSDT" })).body).toHaveLength(1)
    await new Promise((r) => setTimeout(r, 400))
    expect((await api.signed("GET", "/fapi/v1/openOrders", { symbol: "BTCUSDT" })).body).toHaveLength(0)
  })
})

describe("simulator Binance USD-M face: request weight", () => {
  it("answers 429 with -1003 over the weight limit and 418 (banned) to a client that keeps sending", async () => {
    // The limiter's windows are calendar minutes: a clock that stands still keeps the test inside one.
    const clock = { now: () => 1_800_000_000_000, setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms), clearTimeout: (t: unknown) => clearTimeout(t as ReturnType<typeof setTimeout>) }
    const sim = await startSimulator({ accounts: [me], market: { kind: "none" }, instruments: ["BTCUSDT"], clock, binance: { limits: { weightPerMinute: 30, banMs: 60_000 } } })
    try {
      const api = new Client(sim.binance?.url ?? "")
      const statuses: number[] = []
      let weight = 0
      for (let i = 0; i < 20; i++) {
        const r = await api.get("/fapi/v1/depth?symbol=BTCUSDT&limit=5")
        statuses.push(r.status)
        if (r.status === 200) weight = Number(r.headers.get("x-mbx-used-weight-1m"))
        if (r.status === 429) {
          expect(r.body.code).toBe(-1003)
          expect(Number(r.headers.get("retry-after"))).toBeGreaterThan(0)
        }
        if (r.status === 418) expect(r.body.msg).toContain("banned")
      }
      // Weight 2 per depth call: 15 fit in 30, the 16th is 429, every later one 418.
      expect(weight).toBe(30)
      expect(statuses.slice(0, 15).every((s) => s === 200)).toBe(true)
      expect(statuses[15]).toBe(429)
      expect(statuses.slice(16).every((s) => s === 418)).toBe(true)
      expect(sim.binance?.limiter.refused).toMatchObject({ tooMany: 1, banned: 4 })
    } finally {
      await sim.stop()
    }
  })
})

describe("simulator Binance USD-M face: listenKey expiry", () => {
  it("an expired key says listenKeyExpired on its stream, then delivers nothing; keep-alive is -1125 and a new key works", async () => {
    const sim = await startSimulator({ accounts: [me], market: { kind: "synthetic", rate: 0 }, instruments: ["BTCUSDT"], binance: { listenKeyValidityMs: 1500, tickMs: 50 } })
    try {
      const face = sim.binance as NonNullable<Simulator["binance"]>
      const api = new Client(face.url)
      const key = (await api.signed("POST", "/fapi/v1/listenKey")).body.listenKey as string
      const ws = await Socket.open(`${face.url.replace("http", "ws")}/private/ws/${key}`)
      const expired = await ws.next((m) => m.e === "listenKeyExpired", 5000)
      expect(expired.listenKey).toBe(key)
      const put = await fetch(`${face.url}/fapi/v1/listenKey`, { method: "PUT", headers: { "X-MBX-APIKEY": me.apiKey } })
      expect(((await put.json()) as { code: number }).code).toBe(-1125)
      const price = (Number(((await api.get("/fapi/v1/depth?symbol=BTCUSDT&limit=5")).body.bids as string[][])[0]?.[0]) - 100).toFixed(1)
      await api.signed("POST", "/fapi/v1/order", { symbol: "BTCUSDT", side: "BUY", type: "LIMIT", timeInForce: "GTC", quantity: "0.010", price })
      await new Promise((r) => setTimeout(r, 100))
      expect(ws.messages.filter((m) => m.e === "ORDER_TRADE_UPDATE")).toHaveLength(0)
      const fresh = (await api.signed("POST", "/fapi/v1/listenKey")).body.listenKey as string
      expect(fresh).not.toBe(key)
      const again = await Socket.open(`${face.url.replace("http", "ws")}/private/ws?listenKey=${fresh}`)
      await api.signed("POST", "/fapi/v1/order", { symbol: "BTCUSDT", side: "BUY", type: "LIMIT", timeInForce: "GTC", quantity: "0.010", price })
      expect(((await again.next((m) => m.e === "ORDER_TRADE_UPDATE")).o as Record<string, unknown>).X).toBe("NEW")
      ws.close()
      again.close()
    } finally {
      await sim.stop()
    }
  })
})
