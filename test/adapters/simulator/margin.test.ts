import { afterEach, describe, expect, it } from "vitest"
import { signRequest } from "../../../src/adapters/venues/simulator/auth.js"
import { startSimulator, type Simulator } from "../../../src/adapters/venues/simulator/server.js"
import { getJson, postAdmin, privateCall, type Msg } from "./helpers.js"

const me = { name: "me", apiKey: "key-margin", apiSecret: Buffer.from("margin-secret-margin").toString("base64") }
const SYM = "PF_XBTUSD"

describe("simulator margin, liquidation and funding models", () => {
  let sim: Simulator | undefined
  afterEach(async () => {
    await sim?.stop()
    sim = undefined
  })
  const start = async (collateralUsd: string): Promise<Simulator> => {
    sim = await startSimulator({ accounts: [{ ...me, collateralUsd }], market: { kind: "none" }, model: { fundingIntervalMs: 0 } })
    return sim
  }
  const flex = async (s: Simulator) => ((await privateCall(s.url, me, "accounts", {}, "GET")).body.accounts as { flex: Record<string, number> }).flex

  it("an order beyond available margin is insufficientAvailableFunds and leaves nothing on the book", async () => {
    const s = await start("1000")
    // 1 BTC at 60 000 needs 1 200 USD initial margin at 2%: more than 1 000.
    const refused = await privateCall(s.url, me, "sendorder", { orderType: "lmt", symbol: SYM, side: "buy", size: "1", limitPrice: "60000" })
    expect(refused.body.sendStatus).toMatchObject({ status: "insufficientAvailableFunds", orderEvents: [] })
    // 0.8 BTC needs 960: accepted, and it now holds initial margin.
    const placed = await privateCall(s.url, me, "sendorder", { orderType: "lmt", symbol: SYM, side: "buy", size: "0.8", limitPrice: "60000" })
    expect((placed.body.sendStatus as Msg).status).toBe("placed")
    expect(await flex(s)).toMatchObject({ initialMargin: 0, initialMarginWithOrders: 960, availableMargin: 40, marginEquity: 1000 })
    const second = await privateCall(s.url, me, "sendorder", { orderType: "lmt", symbol: SYM, side: "buy", size: "0.1", limitPrice: "60000" })
    expect((second.body.sendStatus as Msg).status).toBe("insufficientAvailableFunds")
  })

  it("a position below maintenance margin is liquidated: liquidation fills, flat position, account-log rows", async () => {
    const s = await start("100")
    await postAdmin(s.url, "orders", { account: "mm", symbol: SYM, side: "sell", size: "0.04", limitPrice: "60001" })
    const buy = await privateCall(s.url, me, "sendorder", { orderType: "mkt", symbol: SYM, side: "buy", size: "0.04" })
    expect((buy.body.sendStatus as Msg).status).toBe("placed")
    expect(((await privateCall(s.url, me, "openpositions", {}, "GET")).body.openPositions as Msg[])[0]).toMatchObject({ side: "long", size: 0.04, price: 60001 })
    // Equity 100 − 1.20002 fee; at a mark of ~57 000 the loss (~120) takes it below maintenance (~22.8).
    await postAdmin(s.url, "orders", { account: "mm", symbol: SYM, side: "buy", size: "0.04", limitPrice: "57000" })
    await postAdmin(s.url, "orders", { account: "mm", symbol: SYM, side: "sell", size: "0.04", limitPrice: "57001" })
    expect((await privateCall(s.url, me, "openpositions", {}, "GET")).body.openPositions).toEqual([])
    const fills = (await privateCall(s.url, me, "fills", {}, "GET")).body.fills as Msg[]
    expect(fills[0]).toMatchObject({ side: "sell", size: 0.04, price: 57000, fillType: "liquidation" })
    const log = await getJson(`${s.url}/api/history/v3/account-log`, {
      headers: { APIKey: me.apiKey, Authent: signRequest(me.apiSecret, "", "", "/api/history/v3/account-log") }
    })
    const infos = (log.logs as Msg[]).filter((r) => r.asset === "usd").map((r) => r.info)
    expect(infos).toEqual(["futures liquidation", "futures trade"])
    // Collateral: 100 − fee at entry − loss (0.04 × 3001) − fee at exit.
    const f = await flex(s)
    expect(f.balanceValue).toBeCloseTo(100 - 1.20002 - 120.04 - 1.14, 8)
  })

  it("funding: longs pay shorts relativeRate × mark per contract at each payment", async () => {
    const s = await start("100000")
    await postAdmin(s.url, "orders", { account: "mm", symbol: SYM, side: "sell", size: "1", limitPrice: "60000" })
    await privateCall(s.url, me, "sendorder", { orderType: "mkt", symbol: SYM, side: "buy", size: "1" })
    const before = (await flex(s)).balanceValue as number
    await postAdmin(s.url, "orders", { account: "mm", symbol: SYM, side: "buy", size: "1", limitPrice: "59999" })
    await postAdmin(s.url, "orders", { account: "mm", symbol: SYM, side: "sell", size: "1", limitPrice: "60001" })
    await postAdmin(s.url, "funding")
    const after = await flex(s)
    // Mark 60 000 × 0.00001 = 0.6 USD per contract, paid by the long.
    expect(after.realizedFunding).toBe(-0.6)
    expect(after.balanceValue).toBeCloseTo(before - 0.6, 10)
    const rates = await getJson(`${s.url}/derivatives/api/v4/historicalfundingrates?symbol=pf_xbtusd`)
    expect(rates.rates).toEqual([{ timestamp: expect.any(String), fundingRate: 0.6, relativeFundingRate: 0.00001 }])
  })
})
