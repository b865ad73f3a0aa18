import ccxt, { type Exchange as CcxtExchange } from "ccxt"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startSimulator, type Simulator } from "../../../src/adapters/venues/simulator/server.js"

/**
 * Conformance: ccxt's `binanceusdm` (REST and pro WebSocket, unmodified, only its URLs pointed
 * at the simulator's Binance face) through the unified methods it implements for this venue,
 * built like the krakenfutures one. Every method ccxt marks as implemented is either exercised
 * here (TESTED) or listed in SKIPPED with its reason; a test checks that the two cover `has`.
 */

const unsimulated = (what: string) => `${what} is not simulated (outside issue 19's face: USD-M perpetuals, cross margin, one-way mode)`

export const SKIPPED: Readonly<Record<string, string>> = {
  ...Object.fromEntries(["addMargin", "reduceMargin", "fetchMarginAdjustmentHistory"].map((m) => [m, unsimulated("isolated margin")])),
  ...Object.fromEntries(["borrowCrossMargin", "borrowIsolatedMargin", "repayCrossMargin", "repayIsolatedMargin", "fetchBorrowInterest", "fetchBorrowRateHistory", "fetchCrossBorrowRate", "fetchIsolatedBorrowRates"].map((m) => [m, unsimulated("margin borrowing (sapi)")])),
  ...Object.fromEntries(["fetchConvertCurrencies", "fetchConvertQuote", "fetchConvertTrade", "fetchConvertTradeHistory", "createConvertTrade"].map((m) => [m, unsimulated("conversion (sapi)")])),
  ...Object.fromEntries(["fetchCurrencies", "fetchDepositAddress", "fetchDeposits", "fetchWithdrawals", "withdraw", "transfer", "fetchTransfers", "fetchDepositWithdrawFees", "fetchTransactionFees", "fetchStatus"].map((m) => [m, unsimulated("the wallet (sapi)")])),
  ...Object.fromEntries(["fetchGreeks", "fetchAllGreeks", "fetchOption"].map((m) => [m, unsimulated("options (eapi)")])),
  fetchPosition: "ccxt's binanceusdm fetchPosition supports option markets only (NotSupported for swaps); fetchPositions covers positions",
  ...Object.fromEntries(["fetchSettlementHistory", "fetchMySettlementHistory"].map((m) => [m, unsimulated("delivery settlement (perpetuals only)")])),
  ...Object.fromEntries(["fetchADLRank", "fetchPositionADLRank", "fetchPositionsADLRank"].map((m) => [m, unsimulated("auto-deleveraging")])),
  ...Object.fromEntries(["fetchLongShortRatioHistory", "fetchOpenInterest", "fetchOpenInterestHistory"].map((m) => [m, unsimulated("market analytics (futures/data, openInterest)")])),
  ...Object.fromEntries(["fetchIndexOHLCV", "fetchPremiumIndexOHLCV"].map((m) => [m, unsimulated("an index apart from the mark")])),
  ...Object.fromEntries(["fetchLedger", "fetchLedgerEntry", "fetchFundingHistory"].map((m) => [m, unsimulated("the income history (/fapi/v1/income)")])),
  fetchMyLiquidations: unsimulated("forced-order history (/fapi/v1/forceOrders)"),
  ...Object.fromEntries(["fetchTradingFee", "fetchTradingFees"].map((m) => [m, unsimulated("commission rates (/fapi/v1/commissionRate)")])),
  ...Object.fromEntries(["fetchLeverages", "fetchMarginMode", "fetchMarginModes"].map((m) => [m, unsimulated("per-symbol configuration (/fapi/v1/symbolConfig)")])),
  setPositionMode: unsimulated("hedge mode (the face answers -4059/-4068)"),
  createTrailingPercentOrder: unsimulated("TRAILING_STOP_MARKET"),
  ...Object.fromEntries(["createMarketOrderWithCost", "createMarketBuyOrderWithCost", "createMarketSellOrderWithCost"].map((m) => [m, "ccxt supports orders by cost on spot markets only (quoteOrderQty)"])),
  ...Object.fromEntries(["watchLiquidations", "watchLiquidationsForSymbols", "watchMyLiquidations", "watchMyLiquidationsForSymbols"].map((m) => [m, unsimulated("the forceOrder stream")])),
  ...Object.fromEntries(["watchOHLCV", "watchOHLCVForSymbols", "unWatchOHLCV", "unWatchOHLCVForSymbols", "fetchOHLCVWs"].map((m) => [m, unsimulated("kline streams and WS-API klines")])),
  ...Object.fromEntries(["fetchOrderBookWs", "fetchTickerWs", "fetchTradesWs"].map((m) => [m, unsimulated("WS-API market data (depth, ticker.price) — REST and streams serve it")])),
  ...Object.fromEntries(["fetchMyTradesWs", "fetchOrdersWs", "fetchOpenOrdersWs", "cancelAllOrdersWs"].map((m) => [m, "ccxt implements these over WS-API methods binance offers for spot only"])),
  fetchOrderTrades: "ccxt's binanceusdm fetchOrderTrades supports spot markets only (NotSupported); fetchMyTrades with params.orderId covers it",
  watchOrdersForSymbols: "ccxt 4.5 marks it implemented but throws NotSupported ('not supported yet') for binanceusdm",
  fetchPositionForSymbolWs: "ccxt 4.5 marks it implemented but has no such method on binanceusdm (fetchPositionWs is the one)",
  ws: "a capability flag, not a method"
}

export const TESTED = [
  "fetchMarkets", "fetchTime", "fetchOrderBook", "fetchL2OrderBook", "fetchTicker", "fetchTickers", "fetchBidsAsks", "fetchLastPrices", "fetchMarkPrice", "fetchMarkPrices",
  "fetchFundingRate", "fetchFundingRates", "fetchFundingRateHistory", "fetchFundingIntervals", "fetchTrades", "fetchOHLCV", "fetchMarkOHLCV", "fetchBalance",
  "createOrder", "createLimitOrder", "createLimitBuyOrder", "createLimitSellOrder", "createMarketOrder", "createMarketBuyOrder", "createMarketSellOrder", "createPostOnlyOrder",
  "createReduceOnlyOrder", "createStopOrder", "createStopMarketOrder", "createStopLimitOrder", "createStopLossOrder", "createTakeProfitOrder", "createTriggerOrder",
  "createOrders", "editOrder", "editOrders", "cancelOrder", "cancelOrders", "cancelAllOrders", "fetchOrder", "fetchOpenOrder", "fetchOpenOrders", "fetchOrders",
  "fetchMyTrades", "fetchPositions", "fetchPositionsRisk", "fetchPositionMode", "fetchLeverageTiers", "setLeverage", "setMarginMode",
  "watchOrderBook", "watchOrderBookForSymbols", "unWatchOrderBook", "unWatchOrderBookForSymbols", "watchTrades", "watchTradesForSymbols", "unWatchTrades", "unWatchTradesForSymbols",
  "watchTicker", "watchTickers", "unWatchTicker", "unWatchTickers", "watchBidsAsks", "unWatchBidsAsks", "watchMarkPrice", "watchMarkPrices", "unWatchMarkPrice", "unWatchMarkPrices",
  "watchOrders", "watchMyTrades", "watchBalance", "watchPositions",
  "createOrderWs", "createMarketOrderWs", "editOrderWs", "cancelOrderWs", "fetchOrderWs", "fetchBalanceWs", "fetchPositionsWs", "fetchPositionWs"
] as const

const me = { name: "me", apiKey: "key-ccxt-binance", apiSecret: "ccxt-binance-secret" }
const S = "BTC/USDT:USDT"
const E = "ETH/USDT:USDT"

const idOf = (o: { id?: string | undefined }): string => {
  if (o.id === undefined) throw new Error("order without id")
  return o.id
}

describe("ccxt binanceusdm against the simulator's Binance face (conformance)", () => {
  let sim: Simulator
  let rest: CcxtExchange
  let pro: CcxtExchange
  let bid: number
  let ask: number
  beforeAll(async () => {
    // A populated, still market (rate 0): every book change comes from this test.
    sim = await startSimulator({ accounts: [{ ...me, collateralUsd: "100000" }], market: { kind: "synthetic", rate: 0 }, instruments: ["BTCUSDT", "ETHUSDT"], model: { fundingIntervalMs: 0 }, binance: { tickMs: 250 } })
    const face = sim.binance as NonNullable<Simulator["binance"]>
    const u = face.url
    const api = { fapiPublic: `${u}/fapi/v1`, fapiPublicV2: `${u}/fapi/v2`, fapiPublicV3: `${u}/fapi/v3`, fapiPrivate: `${u}/fapi/v1`, fapiPrivateV2: `${u}/fapi/v2`, fapiPrivateV3: `${u}/fapi/v3`, fapiData: `${u}/futures/data` }
    // fetchCurrencies would call sapi (the wallet), which the face does not serve.
    const options = { fetchCurrencies: false, warnOnFetchOpenOrdersWithoutSymbol: false }
    rest = new ccxt.binanceusdm({ apiKey: me.apiKey, secret: me.apiSecret, enableRateLimit: false, options })
    Object.assign(rest.urls.api as object, api)
    pro = new ccxt.pro.binanceusdm({ apiKey: me.apiKey, secret: me.apiSecret, enableRateLimit: false, options })
    Object.assign(pro.urls.api as object, api)
    const ws = (pro.urls.api as { ws: { future: string; "ws-api": { future: string } } }).ws
    ws.future = face.wsBase
    ws["ws-api"].future = face.wsApiUrl
    await pro.loadHttpProxyAgent()
    const book = await rest.fetchOrderBook(S, 5)
    bid = book.bids[0]?.[0] as number
    ask = book.asks[0]?.[0] as number
  })
  afterAll(async () => {
    await pro.close()
    await sim.stop()
  })

  it("markets, time, order book, tickers, mark prices, funding, trades, candles", async () => {
    const markets = await rest.loadMarkets()
    expect(markets[S]).toMatchObject({ id: "BTCUSDT", type: "swap", linear: true, settle: "USDT", contractSize: 1, active: true, precision: { amount: 0.001, price: 0.1 }, limits: { cost: { min: 5 } } })
    expect((await rest.fetchMarkets()).map((m) => m?.symbol).sort()).toEqual([S, E])
    expect(Math.abs((await rest.fetchTime()) as number - Date.now())).toBeLessThan(2000)
    const book = await rest.fetchOrderBook(S, 5)
    expect(book.bids).toHaveLength(5)
    expect(book.bids[0]?.[0] as number).toBeLessThan(book.asks[0]?.[0] as number)
    expect((await rest.fetchL2OrderBook(S, 5)).asks[0]).toEqual(book.asks[0])
    const ticker = await rest.fetchTicker(S)
    expect(ticker.symbol).toBe(S)
    expect(Object.keys(await rest.fetchTickers()).sort()).toEqual([S, E])
    expect((await rest.fetchBidsAsks([S]))[S]).toMatchObject({ bid: book.bids[0]?.[0], ask: book.asks[0]?.[0] })
    expect(Object.keys(await rest.fetchLastPrices()).sort()).toEqual([S, E])
    const mark = await rest.fetchMarkPrice(S)
    expect(mark.markPrice).toBeCloseTo(((book.bids[0]?.[0] as number) + (book.asks[0]?.[0] as number)) / 2, 6)
    expect(Object.keys(await rest.fetchMarkPrices()).sort()).toEqual([S, E])
    expect((await rest.fetchFundingRate(S)).fundingRate).toBe(0.00001)
    expect(Object.keys(await rest.fetchFundingRates()).sort()).toEqual([S, E])
    sim.admin.exchange.fund()
    expect((await rest.fetchFundingRateHistory(S))[0]).toMatchObject({ symbol: S, fundingRate: 0.00001 })
    expect((await rest.fetchFundingIntervals([S]))[S]).toMatchObject({ symbol: S })
    await rest.createOrder(S, "market", "buy", 0.002)
    const trades = await rest.fetchTrades(S)
    expect(trades[trades.length - 1]).toMatchObject({ symbol: S, side: "buy" })
    const candles = await rest.fetchOHLCV(S, "1m")
    expect(candles.length).toBeGreaterThan(0)
    expect(candles[candles.length - 1]?.[5]).toBeGreaterThan(0)
    expect((await rest.fetchMarkOHLCV(S, "1m")).length).toBeGreaterThan(0)
  })

  it("orders of every kind, with the venue's statuses", async () => {
    const limit = await rest.createOrder(S, "limit", "buy", 0.01, bid - 100)
    expect(limit).toMatchObject({ symbol: S, status: "open", type: "limit", side: "buy", amount: 0.01, price: bid - 100, filled: 0 })
    expect(limit.clientOrderId).toMatch(/^x-/)
    expect(await rest.fetchOrder(idOf(limit), S)).toMatchObject({ id: limit.id, status: "open" })
    expect(await rest.fetchOpenOrder(idOf(limit), S)).toMatchObject({ id: limit.id })
    const edited = await rest.editOrder(idOf(limit), S, "limit", "buy", 0.02, bid - 90)
    expect(edited).toMatchObject({ id: limit.id, amount: 0.02, price: bid - 90, status: "open" })
    const helpers = [
      await rest.createLimitOrder(S, "buy", 0.01, bid - 110), await rest.createLimitBuyOrder(S, 0.01, bid - 120), await rest.createLimitSellOrder(S, 0.01, ask + 120),
      await rest.createPostOnlyOrder(S, "limit", "buy", 0.01, bid - 130)
    ]
    expect(helpers.map((o) => o.status)).toEqual(["open", "open", "open", "open"])
    expect(helpers[3]?.postOnly).toBe(true)
    await expect(rest.createPostOnlyOrder(S, "limit", "buy", 0.01, ask + 1)).rejects.toThrow(ccxt.InvalidOrder)
    const open = await rest.fetchOpenOrders(S)
    expect(open.map((o) => o.id).sort()).toEqual([limit.id, ...helpers.map((o) => o.id)].sort())
    const cancelled = await rest.cancelOrder(idOf(limit), S)
    expect(cancelled.status).toBe("canceled")
    await expect(rest.cancelOrder(idOf(limit), S)).rejects.toThrow(ccxt.OrderNotFound)
    const two = await rest.cancelOrders([idOf(helpers[0] as { id: string }), idOf(helpers[1] as { id: string })], S)
    expect(two.map((o) => o.status)).toEqual(["canceled", "canceled"])

    const market = await rest.createMarketOrder(S, "buy", 0.01)
    expect(market).toMatchObject({ status: "closed", filled: 0.01, type: "market" })
    expect(market.average).toBeGreaterThan(0)
    expect((await rest.createMarketBuyOrder(S, 0.01)).status).toBe("closed")
    expect((await rest.createMarketSellOrder(S, 0.01)).status).toBe("closed")
    const ofMarket = await rest.fetchMyTrades(S, undefined, undefined, { orderId: market.id })
    expect(ofMarket.every((t) => t.order === market.id)).toBe(true)
    expect(ofMarket.reduce((s, t) => s + (t.amount as number), 0)).toBeCloseTo(0.01, 9)
    // An IOC with nothing to take is EXPIRED at the venue: ccxt says expired.
    const ioc = await rest.createOrder(S, "limit", "buy", 0.01, bid - 500, { timeInForce: "IOC" })
    expect(ioc.status).toBe("expired")
    const reduce = await rest.createReduceOnlyOrder(S, "limit", "sell", 0.005, ask + 200)
    expect(reduce.reduceOnly).toBe(true)

    const batch = await rest.createOrders([{ symbol: S, type: "limit", side: "buy", amount: 0.01, price: bid - 200 }, { symbol: S, type: "limit", side: "buy", amount: 0.01, price: bid * 2 }])
    expect(batch[0]?.status).toBe("open")
    // A batch item the venue refuses comes back in place, as ccxt's rejected order.
    expect(batch[1]?.status).toBe("rejected")
    // ccxt's OrderRequest type has no `id`, but its editOrders reads one from each request.
    const edit = { id: idOf(batch[0] as { id: string }), symbol: S, type: "limit", side: "buy", amount: 0.015, price: bid - 201 }
    const moved = await rest.editOrders([edit as unknown as Parameters<CcxtExchange["editOrders"]>[0][number]])
    expect(moved[0]).toMatchObject({ amount: 0.015, price: bid - 201 })

    // Conditional orders go through the algo-order endpoints.
    const stop = await rest.createOrder(S, "market", "sell", 0.01, undefined, { triggerPrice: bid - 1000, reduceOnly: true })
    expect(stop).toMatchObject({ status: "open", triggerPrice: bid - 1000 })
    const triggers = [
      await rest.createStopMarketOrder(S, "sell", 0.01, bid - 1100), await rest.createStopLimitOrder(S, "sell", 0.01, bid - 1210, bid - 1200),
      await rest.createStopLossOrder(S, "market", "sell", 0.01, undefined, bid - 1300), await rest.createTakeProfitOrder(S, "market", "sell", 0.01, undefined, ask + 1300),
      await rest.createTriggerOrder(S, "market", "sell", 0.01, undefined, bid - 1400), await rest.createStopOrder(S, "market", "sell", 0.01, undefined, bid - 1500)
    ]
    expect(triggers.every((o) => o.status === "open")).toBe(true)
    const openTriggers = await rest.fetchOpenOrders(S, undefined, undefined, { trigger: true })
    expect(openTriggers).toHaveLength(7)
    expect(await rest.fetchOrder(idOf(stop), S, { trigger: true })).toMatchObject({ id: stop.id, status: "open" })
    expect((await rest.cancelOrder(idOf(stop), S, { trigger: true })).id).toBe(stop.id)
    expect(await rest.fetchOpenOrders(S, undefined, undefined, { trigger: true })).toHaveLength(6)
    await rest.cancelAllOrders(S, { trigger: true })
    expect(await rest.fetchOpenOrders(S, undefined, undefined, { trigger: true })).toHaveLength(0)

    const all = await rest.fetchOrders(S)
    expect(all.some((o) => o.id === cancelled.id && o.status === "canceled")).toBe(true)
    expect(all.some((o) => o.id === market.id && o.status === "closed")).toBe(true)
    await rest.cancelAllOrders(S)
    expect(await rest.fetchOpenOrders(S)).toEqual([])
  })

  it("positions, balance, my trades, leverage, margin mode, position mode", async () => {
    const positions = await rest.fetchPositions([S])
    const engine = sim.admin.exchange.engine.position("me", "BTCUSDT")
    expect(positions[0]).toMatchObject({ symbol: S, side: "long", contracts: Number(engine?.balance.toFixed()), marginMode: "cross" })
    expect((await rest.fetchPositionsRisk([S]))[0]).toMatchObject({ symbol: S })
    const balance = await rest.fetchBalance()
    const margin = sim.admin.exchange.margin("me")
    expect(balance.USDT?.free).toBeCloseTo(margin.available.toNumber(), 6)
    expect(balance.USDT?.total).toBeCloseTo(margin.equity.toNumber(), 6)
    const mine = await rest.fetchMyTrades(S)
    expect(mine.length).toBe(sim.admin.exchange.engine.fills("me").filter((f) => f.symbol === "BTCUSDT").length)
    expect(await rest.setLeverage(10, S)).toMatchObject({ leverage: 10 })
    // Cross is the only margin mode: ccxt raises MarginModeAlreadySet on the venue's -4046.
    await expect(rest.setMarginMode("cross", S)).rejects.toThrow(ccxt.MarginModeAlreadySet)
    expect((await rest.fetchPositionMode(S)).hedged).toBe(false)
    expect((await rest.fetchLeverageTiers([S]))[S]?.[0]).toMatchObject({ maxLeverage: 50, maintenanceMarginRate: 0.01 })
  })

  it("insufficient margin and the reduce-only refusal are typed ccxt errors", async () => {
    await expect(rest.createOrder(E, "limit", "buy", 5000, 2990)).rejects.toThrow(ccxt.ExchangeError)
    await expect(rest.createOrder(E, "market", "sell", 0.1, undefined, { reduceOnly: true })).rejects.toThrow(ccxt.ExchangeError)
  })

  it("pro WebSocket: order book, trades, tickers, bids/asks, mark prices, and their unwatch", { timeout: 20_000 }, async () => {
    const book = await pro.watchOrderBook(S)
    expect(book.bids.length).toBeGreaterThan(0)
    expect(book.asks[0]?.[0] as number).toBeGreaterThan(book.bids[0]?.[0] as number)
    const books = await pro.watchOrderBookForSymbols([S, E])
    expect([S, E]).toContain(books.symbol)
    // The local book follows the diff stream: a new level appears in it.
    const level = bid - 2
    const next = pro.watchOrderBook(S)
    sim.admin.placeAs({ account: "maker", symbol: "BTCUSDT", orderType: "lmt", side: "buy", size: "0.777", limitPrice: level.toFixed(1) })
    const updated = await next
    expect(updated.bids.find(([p]) => p === level)?.[1]).toBeGreaterThanOrEqual(0.777)
    const trades = pro.watchTrades(S)
    const tradesForSymbols = pro.watchTradesForSymbols([S])
    await new Promise((r) => setTimeout(r, 300))
    await rest.createOrder(S, "market", "buy", 0.003)
    expect((await trades).at(-1)).toMatchObject({ symbol: S, side: "buy", amount: 0.003 })
    expect((await tradesForSymbols).at(-1)).toMatchObject({ symbol: S })
    expect((await pro.watchTicker(S)).symbol).toBe(S)
    expect(Object.keys(await pro.watchTickers([S, E])).length).toBeGreaterThan(0)
    const bidsAsks = pro.watchBidsAsks([S])
    await new Promise((r) => setTimeout(r, 300))
    sim.admin.placeAs({ account: "maker", symbol: "BTCUSDT", orderType: "lmt", side: "buy", size: "0.5", limitPrice: (updated.bids[0]?.[0] as number).toFixed(1) })
    expect((await bidsAsks)[S]).toMatchObject({ symbol: S })
    expect((await pro.watchMarkPrice(S)).markPrice).toBeGreaterThan(0)
    expect(Object.keys(await pro.watchMarkPrices([S, E])).length).toBeGreaterThan(0)
    await pro.unWatchOrderBook(S)
    await pro.unWatchOrderBookForSymbols([E])
    await pro.unWatchTrades(S)
    await pro.unWatchTradesForSymbols([S])
    await pro.unWatchTicker(S)
    await pro.unWatchTickers([S, E])
    await pro.unWatchBidsAsks([S])
    await pro.unWatchMarkPrice(S)
    await pro.unWatchMarkPrices([S, E])
  })

  it("pro WebSocket: orders, my trades, balance and positions over the user data stream; orders over the WebSocket API", { timeout: 20_000 }, async () => {
    const orders = pro.watchOrders(S)
    await new Promise((r) => setTimeout(r, 500))
    const resting = await pro.createOrderWs(S, "limit", "buy", 0.01, bid - 400)
    expect(resting).toMatchObject({ status: "open", amount: 0.01, price: bid - 400 })
    expect((await orders).map((o) => o.id)).toContain(resting.id)
    const edited = await pro.editOrderWs(idOf(resting), S, "limit", "buy", 0.02, bid - 401)
    expect(edited).toMatchObject({ id: resting.id, amount: 0.02, price: bid - 401 })
    expect(await pro.fetchOrderWs(idOf(resting), S)).toMatchObject({ id: resting.id, status: "open" })
    const cancelled = pro.watchOrders(S)
    expect((await pro.cancelOrderWs(idOf(resting), S)).status).toBe("canceled")
    expect((await cancelled).find((o) => o.id === resting.id)?.status).toBe("canceled")

    const mine = pro.watchMyTrades(S)
    const balance = pro.watchBalance()
    const positions = pro.watchPositions([S])
    await new Promise((r) => setTimeout(r, 300))
    const market = await pro.createMarketOrderWs(S, "buy", 0.004)
    expect(market.status).toBe("closed")
    expect((await mine).some((t) => t.order === market.id)).toBe(true)
    expect((await balance).USDT?.total).toBeGreaterThan(0)
    const engine = sim.admin.exchange.engine.position("me", "BTCUSDT")
    expect((await positions).find((p) => p.symbol === S)?.contracts).toBe(Number(engine?.balance.toFixed()))
    expect((await pro.fetchBalanceWs()).USDT?.free).toBeGreaterThan(0)
    expect((await pro.fetchPositionsWs([S]))[0]).toMatchObject({ symbol: S })
    // ccxt's fetchPositionWs answers a list (of the one symbol) for this venue.
    expect((await pro.fetchPositionWs(S)) as unknown).toEqual([expect.objectContaining({ symbol: S })])
  })

  it("every method ccxt implements for this venue is tested here or skipped with a reason", () => {
    const implemented = new Set<string>()
    for (const ex of [rest, pro]) for (const [method, has] of Object.entries(ex.has)) if (has === true && /^[a-z]/.test(method)) implemented.add(method)
    for (const flag of ["spot", "margin", "swap", "future", "option", "publicAPI", "privateAPI", "sandbox"]) implemented.delete(flag)
    const covered = new Set<string>([...TESTED, ...Object.keys(SKIPPED)])
    expect([...implemented].filter((m) => !covered.has(m))).toEqual([])
    for (const m of TESTED) expect(SKIPPED[m], m).toBeUndefined()
    for (const reason of Object.values(SKIPPED)) expect(reason.length).toBeGreaterThan(10)
  })
})
