import ccxt, { type Exchange as CcxtExchange } from "ccxt"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startSimulator, type Simulator } from "../../../src/adapters/venues/simulator/server.js"
import { getJson, postAdmin } from "./helpers.js"

/**
 * Conformance: ccxt's `krakenfutures` (REST and pro WebSocket, unmodified, only its URLs
 * pointed at the simulator) through every unified method it implements for this venue.
 *
 * Where ccxt is wrong against the venue's documented API the test says so by name (KNOWN_CCXT)
 * and asserts what the venue does, not what ccxt expects.
 */
export const KNOWN_CCXT = {
  batchPriceField:
    "ccxt createOrders sends each batch item's price as `limitPrice` (sendorder's spelling); the venue's batchorder reads `limit_price`/`stop_price`, " +
    "so the venue answers requiredArgumentMissing (ccxt's own sample reply shows exactly that). Passing `limit_price` in params works.",
  timeInForceCase: "ccxt createOrder compares timeInForce with lower-case 'ioc' only: the unified 'IOC' places a plain limit order; 'ioc' works.",
  cancelAllParse: "ccxt cancelAllOrders parses orderEvents[0] for every cancelled order (safeDict(orderEvents, 0)), so it repeats the first order; the venue's reply lists each one.",
  canceledFromHistory: "ccxt fetchCanceledOrders counts every OrderPlaced event with filled '0' as canceled, including orders still open; the venue's history is an event log, not an order list.",
  fetchOrderByClientId: "ccxt fetchOrder always sends orderIds=[id] (undefined for a client id); the venue's orders/status takes cliOrdIds, reachable through fetchOrders(…, { cliOrdIds })."
} as const

/** Unified methods not exercised, each with its reason (outside issue 16). */
export const SKIPPED: Readonly<Record<string, string>> = {
  fetchTradingFees: "fee schedules (feeschedules, feeschedules/volumes) are outside the simulator's scope: one maker/taker fee per instrument",
  fetchLeverage: "leverage preferences are not simulated (cross margin only)",
  fetchLeverages: "leverage preferences are not simulated (cross margin only)",
  setLeverage: "leverage preferences are not simulated (cross margin only)",
  fetchLeverageTiers: "margin tiers: the simulator has one margin level per instrument (see marginLevels)",
  fetchMarketLeverageTiers: "margin tiers: the simulator has one margin level per instrument",
  transfer: "transfers between wallets/subaccounts are not simulated",
  watchBidsAsks: "not part of issue 16's list (ticker feed, same data as watchTicker)"
}

const me = { name: "me", apiKey: "key-ccxt", apiSecret: Buffer.from("ccxt-secret-ccxt-secret").toString("base64") }
const S = "BTC/USD:USD"
const E = "ETH/USD:USD"

const idOf = (o: { id?: string | undefined }): string => {
  if (o.id === undefined) throw new Error("order without id")
  return o.id
}

describe("ccxt krakenfutures against the simulator (conformance)", () => {
  let sim: Simulator
  let rest: CcxtExchange
  let pro: CcxtExchange
  beforeAll(async () => {
    // A populated, still market (rate 0): every book change comes from this test.
    sim = await startSimulator({ accounts: [{ ...me, collateralUsd: "100000" }], market: { kind: "synthetic", rate: 0 }, instruments: ["PF_XBTUSD", "PF_ETHUSD"], model: { fundingIntervalMs: 0 } })
    const urls = { public: `${sim.url}/derivatives/api/`, private: `${sim.url}/derivatives/api/`, charts: `${sim.url}/api/charts/`, history: `${sim.url}/api/history/` }
    rest = new ccxt.krakenfutures({ apiKey: me.apiKey, secret: me.apiSecret, enableRateLimit: false })
    rest.urls.api = urls
    pro = new ccxt.pro.krakenfutures({ apiKey: me.apiKey, secret: me.apiSecret, enableRateLimit: false })
    pro.urls.api = { ...urls, ws: sim.wsUrl }
    // ccxt's own set-up step for plain ws:// URLs (its error message asks for it); wss:// needs none.
    await pro.loadHttpProxyAgent()
  })
  afterAll(async () => {
    await pro.close()
    await sim.stop()
  })

  it("markets, order book, tickers, funding rates", async () => {
    const markets = await rest.loadMarkets()
    expect(markets[S]).toMatchObject({ id: "PF_XBTUSD", type: "swap", linear: true, inverse: false, settle: "USD", contractSize: 1, precision: { amount: 0.0001, price: 0.5 } })
    const book = await rest.fetchOrderBook(S)
    expect(book.bids.length).toBeGreaterThan(0)
    expect(book.asks.length).toBeGreaterThan(0)
    expect(book.bids[0]?.[0] as number).toBeLessThan(book.asks[0]?.[0] as number)
    const ticker = await rest.fetchTicker(S)
    expect(ticker).toMatchObject({ symbol: S, bid: book.bids[0]?.[0], ask: book.asks[0]?.[0] })
    expect(ticker.markPrice).toBeGreaterThan(0)
    const tickers = await rest.fetchTickers()
    expect(Object.keys(tickers).sort()).toEqual([S, E])
    const rates = await rest.fetchFundingRates()
    expect(rates[S]?.fundingRate).toBe(0.00001)
    expect((await rest.fetchFundingRate(S)).fundingRate).toBe(0.00001)
  })

  it("orders of every kind, with unified results", async () => {
    const before = await rest.fetchOrderBook(S)
    const bestAsk = before.asks[0]?.[0] as number
    const bestBid = before.bids[0]?.[0] as number

    // A market order that fills on arrival: closed and filled, its execution as a trade.
    const market = await rest.createOrder(S, "market", "buy", 0.01)
    expect(market).toMatchObject({ status: "closed", filled: 0.01, remaining: 0, side: "buy", type: "market", timeInForce: "ioc" })
    expect(market.trades).toHaveLength(1)
    expect(market.average).toBe(bestAsk)
    // The venue's reply: EXECUTION events only; the order typed `ioc` with its collar as limitPrice.
    const sendStatus = (market.info as { orderEvents: Array<Record<string, unknown>> }).orderEvents
    expect(sendStatus.map((e) => e.type)).toEqual(["EXECUTION"])
    const prior = sendStatus[0]?.orderPriorExecution as Record<string, unknown>
    expect(prior.type).toBe("ioc")
    expect(prior.limitPrice as number).toBeGreaterThan(bestAsk)

    const limit = await rest.createOrder(S, "limit", "buy", 0.01, bestBid - 1000, { clientOrderId: "conf-limit" })
    expect(limit).toMatchObject({ status: "open", filled: 0, remaining: 0.01, clientOrderId: "conf-limit", postOnly: false })
    const post = await rest.createOrder(S, "limit", "buy", 0.01, bestBid - 1000, { postOnly: true })
    expect(post).toMatchObject({ status: "open", postOnly: true })
    await expect(rest.createOrder(S, "limit", "buy", 0.01, bestAsk + 100, { postOnly: true })).rejects.toThrow(ccxt.OrderImmediatelyFillable)
    const reduce = await rest.createOrder(S, "market", "sell", 0.005, undefined, { reduceOnly: true })
    expect(reduce).toMatchObject({ status: "closed", filled: 0.005, reduceOnly: true })
    // KNOWN_CCXT.timeInForceCase: the lower-case spelling reaches the venue as `ioc`.
    const ioc = await rest.createOrder(S, "limit", "buy", 0.01, bestAsk + 100, { timeInForce: "ioc" })
    expect(ioc).toMatchObject({ status: "closed", filled: 0.01, timeInForce: "ioc" })
    await expect(rest.createOrder(S, "limit", "buy", 0.01, bestBid - 2000, { timeInForce: "ioc" })).rejects.toThrow(ccxt.OrderNotFillable)
    const stop = await rest.createOrder(S, "market", "sell", 0.01, undefined, { triggerPrice: bestBid - 5000 })
    expect(stop).toMatchObject({ status: "open", type: "stp", triggerPrice: bestBid - 5000 })
    const stopLimit = await rest.createOrder(S, "limit", "sell", 0.01, bestBid - 5100, { triggerPrice: bestBid - 5000 })
    expect(stopLimit).toMatchObject({ status: "open", triggerPrice: bestBid - 5000 })
    const takeProfit = await rest.createOrder(S, "market", "sell", 0.01, undefined, { takeProfitPrice: bestAsk + 5000 })
    expect(takeProfit).toMatchObject({ status: "open", type: "take_profit", reduceOnly: true, triggerPrice: bestAsk + 5000 })
    const stopLoss = await rest.createOrder(S, "market", "sell", 0.01, undefined, { stopLossPrice: bestBid - 6000 })
    expect(stopLoss).toMatchObject({ status: "open", type: "stp", reduceOnly: true })

    // Batch: KNOWN_CCXT.batchPriceField.
    const naive = await rest.createOrders([{ symbol: S, type: "limit", side: "buy", amount: 0.01, price: bestBid - 1500 }])
    expect(naive[0]).toMatchObject({ status: "rejected", info: { status: "requiredArgumentMissing" } })
    const batch = await rest.createOrders([
      { symbol: S, type: "limit", side: "buy", amount: 0.01, price: bestBid - 1500, params: { limit_price: bestBid - 1500 } },
      { symbol: E, type: "limit", side: "sell", amount: 0.1, price: 9000, params: { limit_price: 9000 } }
    ])
    expect(batch.map((o) => o.status)).toEqual(["open", "open"])

    const edited = await rest.editOrder(idOf(limit), S, "limit", "buy", 0.02, bestBid - 900)
    expect(edited).toMatchObject({ id: limit.id, status: "open", amount: 0.02 })
    const fetched = await rest.fetchOrder(idOf(limit), S)
    expect(fetched).toMatchObject({ id: limit.id, clientOrderId: "conf-limit", status: "open", amount: 0.02, filled: 0 })
    expect((await rest.fetchOrder(idOf(market), S)).status).toBe("closed")
    // KNOWN_CCXT.fetchOrderByClientId
    const byClient = await rest.fetchOrders(undefined, undefined, undefined, { cliOrdIds: "conf-limit" })
    expect(byClient.map((o) => o.id)).toEqual([limit.id])

    const open = await rest.fetchOpenOrders()
    expect(open.map((o) => o.id)).toEqual(expect.arrayContaining([limit.id, post.id, stop.id, takeProfit.id]))
    const canceled = await rest.cancelOrder(idOf(limit), S)
    expect(canceled).toMatchObject({ id: limit.id, status: "canceled" })
    await expect(rest.cancelOrder(idOf(limit), S)).rejects.toThrow(ccxt.OrderNotFound)
    const cancelMany = await rest.cancelOrders([idOf(post)], S)
    expect(cancelMany[0]).toMatchObject({ id: post.id, status: "canceled" })

    const closed = await rest.fetchClosedOrders(S)
    expect(closed.map((o) => o.id)).toEqual(expect.arrayContaining([market.id, reduce.id, ioc.id]))
    expect(closed.every((o) => o.status === "closed")).toBe(true)
    const canceledList = await rest.fetchCanceledOrders(S)
    expect(canceledList.map((o) => o.id)).toEqual(expect.arrayContaining([limit.id, post.id]))

    // cancel-all: KNOWN_CCXT.cancelAllParse — the venue's reply names each order once.
    const all = await rest.cancelAllOrders(S)
    const info = (all[0]?.info ?? {}) as Record<string, unknown>
    expect(info.orderId).toBeDefined()
    expect((await rest.fetchOpenOrders()).map((o) => o.symbol)).toEqual([E])
    const raw = (await rest.privatePostCancelallorders({})) as { cancelStatus: { status: string; cancelledOrders: unknown[] } }
    expect(raw.cancelStatus).toMatchObject({ status: "cancelled", cancelledOrders: [expect.anything()] })
    expect(await rest.fetchOpenOrders()).toEqual([])
    const after = (await rest.cancelAllOrdersAfter(60_000)) as { status: { triggerTime: string } }
    expect(Date.parse(after.status.triggerTime)).toBeGreaterThan(Date.now())
    await rest.cancelAllOrdersAfter(0)
  })

  it("positions, balance (margin), my trades, ledger, funding, OHLCV, trades, position history", async () => {
    const positions = await rest.fetchPositions()
    expect(positions).toHaveLength(1)
    expect(positions[0]).toMatchObject({ symbol: S, side: "long", contracts: 0.015 })
    // Venue precision: the average entry price has at most 10 decimals.
    expect(String(positions[0]?.entryPrice).split(".")[1]?.length ?? 0).toBeLessThanOrEqual(10)

    const balance = await rest.fetchBalance()
    const usd = balance.USD as { free: number; total: number; used: number }
    expect(usd.total).toBeLessThan(100000)
    expect(usd.free).toBeLessThan(usd.total)
    const accounts = (await rest.privateGetAccounts()) as { accounts: { flex: Record<string, unknown> } }
    expect(accounts.accounts.flex).toMatchObject({ type: "multiCollateralMarginAccount" })
    for (const field of ["initialMargin", "initialMarginWithOrders", "maintenanceMargin", "availableMargin", "marginEquity", "portfolioValue", "pnl"]) {
      expect(typeof accounts.accounts.flex[field]).toBe("number")
    }
    expect(accounts.accounts.flex.initialMargin as number).toBeGreaterThan(0)

    const mine = await rest.fetchMyTrades(S)
    expect(mine.length).toBeGreaterThanOrEqual(3)
    expect(mine.every((t) => t.symbol === S && t.takerOrMaker === "taker")).toBe(true)

    await postAdmin(sim.url, "funding")
    const funding = await rest.fetchFundingHistory(S)
    expect(funding).toHaveLength(1)
    expect(funding[0]?.amount as number).toBeLessThan(0)
    const rates = await rest.fetchFundingRateHistory(S)
    expect(rates.map((r) => r.fundingRate)).toEqual([0.00001])

    const ledger = await rest.fetchLedger()
    expect(ledger.map((l) => l.type)).toEqual(expect.arrayContaining(["trade", "fee"]))
    const paged = (await rest.historyGetAccountLog({ count: 2 })) as { logs: unknown[]; continuationToken?: string }
    expect(paged.logs).toHaveLength(2)
    expect(paged.continuationToken).toBeDefined()
    const next = (await rest.historyGetAccountLog({ count: 2, continuationToken: paged.continuationToken })) as { logs: Array<{ id: number }> }
    expect(next.logs.map((l) => l.id)).not.toEqual((paged.logs as Array<{ id: number }>).map((l) => l.id))

    const candles = await rest.fetchOHLCV(S, "1m")
    expect(candles.length).toBeGreaterThan(0)
    expect(candles.reduce((sum, c) => sum + (c[5] as number), 0)).toBeCloseTo(0.025, 8)
    const mark = await rest.fetchMarkOHLCV(S, "1m")
    expect(mark.length).toBeGreaterThan(0)
    const trades = await rest.fetchTrades(S)
    expect(trades.length).toBeGreaterThanOrEqual(3)
    const history = await rest.fetchPositionsHistory([S])
    expect(history.length).toBeGreaterThan(0)
  })

  it("insufficient margin is the venue's insufficientAvailableFunds", async () => {
    // 100 BTC at ~50 000 needs ~100 000 USD of initial margin at 2%: beyond the account's 100 000.
    await expect(rest.createOrder(S, "limit", "buy", 100, 50000)).rejects.toThrow(ccxt.InsufficientFunds)
    expect(await rest.fetchOpenOrders()).toEqual([])
  })

  it("the skipped methods are ones ccxt implements for this venue, each with a reason; known ccxt deviations are named", () => {
    for (const [method, reason] of Object.entries(SKIPPED)) {
      expect(rest.has[method] ?? pro.has[method], method).toBeTruthy()
      expect(reason.length).toBeGreaterThan(10)
    }
    expect(Object.keys(KNOWN_CCXT)).toEqual(["batchPriceField", "timeInForceCase", "cancelAllParse", "canceledFromHistory", "fetchOrderByClientId"])
  })

  it("unknown paths answer as errors, not crashes", async () => {
    expect(await getJson(`${sim.url}/derivatives/api/v3/nosuchendpoint`)).toMatchObject({ result: "error", error: "notFound" })
  })

  it("pro WebSocket: order book, ticker, trades, orders, my trades, balance, positions", { timeout: 15_000 }, async () => {
    const book = await pro.watchOrderBook(S)
    expect(book.bids.length).toBeGreaterThan(0)
    expect(book.asks[0]?.[0] as number).toBeGreaterThan(book.bids[0]?.[0] as number)
    const ticker = await pro.watchTicker(S)
    expect(ticker).toMatchObject({ symbol: S })
    expect(ticker.bid).toBe(book.bids[0]?.[0])

    // Snapshots first: the account's fills, position and balances as they stand.
    expect((await pro.watchMyTrades(S)).length).toBeGreaterThan(0)
    const positions = await pro.watchPositions([S])
    expect(positions[0]).toMatchObject({ symbol: S, side: "long", contracts: 0.015 })
    const balance = await pro.watchBalance()
    expect(balance.info).toMatchObject({ feed: "balances_snapshot" })
    const flex = (balance.info as { flex_futures: Record<string, number> }).flex_futures
    expect(flex.initial_margin).toBeGreaterThan(0)
    expect(flex.available_margin).toBeLessThan(flex.collateral_value as number)
    await pro.watchTrades(S)

    // A resting order reaches watchOrders; a market order's fill reaches watchTrades, watchMyTrades, watchPositions.
    // (A market order that fills on arrival is only a cancel frame with order_id on open_orders, as at the venue:
    // ccxt ignores a cancel frame of an order it has not seen.)
    const nextOrders = pro.watchOrders(S)
    const nextTrades = pro.watchTrades(S)
    const nextMine = pro.watchMyTrades(S)
    const nextPositions = pro.watchPositions([S])
    const resting = await rest.createOrder(S, "limit", "buy", 0.01, (book.bids[0]?.[0] as number) - 3000)
    expect((await nextOrders).map((o) => o.id)).toContain(resting.id)
    const market = await rest.createOrder(S, "market", "buy", 0.01)
    expect(market.status).toBe("closed")
    const trades = await nextTrades
    expect(trades[trades.length - 1]).toMatchObject({ symbol: S, side: "buy", amount: 0.01 })
    expect((await nextMine).some((t) => t.order === market.id)).toBe(true)
    expect((await nextPositions)[0]).toMatchObject({ symbol: S, side: "long", contracts: 0.025 })
    await rest.cancelAllOrders()
  })
})
