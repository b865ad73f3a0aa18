import { afterEach, describe, expect, it } from "vitest"
import { signRequest } from "../../../src/adapters/venues/simulator/auth.js"
import { defaultInstrument } from "../../../src/adapters/venues/simulator/instruments.js"
import { startSimulator, type Simulator } from "../../../src/adapters/venues/simulator/server.js"
import { getJson, manualClock, postAdmin, privateCall, type Msg } from "./helpers.js"

const me = { name: "me", apiKey: "key-expiry", apiSecret: Buffer.from("expiry-secret-expiry").toString("base64") }
const FF = "FF_XBTUSD_231115"

describe("simulator: dated futures expire and settle (the simulator's settlement model)", () => {
  let sim: Simulator | undefined
  afterEach(async () => {
    await sim?.stop()
    sim = undefined
  })

  it("settles a linear future at the time-weighted mark of the window, books it in USD and stops trading", async () => {
    const clock = manualClock()
    const expiry = clock.now() + 60_000
    sim = await startSimulator({
      accounts: [{ ...me, collateralUsd: "100000" }], market: { kind: "none" }, clock,
      instruments: [{ ...defaultInstrument(FF), lastTradingTime: expiry }], model: { fundingIntervalMs: 0, settlementWindowMs: 30_000 }
    })
    const s = sim
    const instruments = (await getJson(`${s.url}/derivatives/api/v3/instruments`)).instruments as Msg[]
    expect(instruments[0]).toMatchObject({ symbol: FF, type: "flexible_futures", lastTradingTime: new Date(expiry).toISOString(), tradeable: true })
    await postAdmin(s.url, "orders", { account: "mm", symbol: FF, side: "sell", size: "0.1", limitPrice: "60000" })
    expect(((await privateCall(s.url, me, "sendorder", { orderType: "lmt", symbol: FF, side: "buy", size: "0.1", limitPrice: "60000" })).body.sendStatus as Msg).status).toBe("placed")
    // Mark 61 000 (mid of 60 999 / 61 001) until 15 s before expiry; then another participant lifts the
    // ask and a new one at 63 001 makes the mid 62 000: the last 30 s average 61 500.
    await postAdmin(s.url, "orders", { account: "mm", symbol: FF, side: "buy", size: "1", limitPrice: "60999" })
    await postAdmin(s.url, "orders", { account: "mm", symbol: FF, side: "sell", size: "1", limitPrice: "61001" })
    clock.advance(45_000)
    await postAdmin(s.url, "orders", { account: "taker", symbol: FF, side: "buy", size: "1", limitPrice: "61001" })
    await postAdmin(s.url, "orders", { account: "mm", symbol: FF, side: "sell", size: "1", limitPrice: "63001" })
    // A resting order of ours, to be cancelled at expiry.
    expect(((await privateCall(s.url, me, "sendorder", { orderType: "lmt", symbol: FF, side: "buy", size: "0.1", limitPrice: "50000", cliOrdId: "rest" })).body.sendStatus as Msg).status).toBe("placed")
    clock.advance(15_000)

    const path = "/api/history/v3/account-log"
    const res = await fetch(`${s.url}${path}?info=settlement`, { headers: { APIKey: me.apiKey, Authent: signRequest(me.apiSecret, "info=settlement", "", path) } })
    const rows = ((await res.json()) as { logs: Msg[] }).logs
    const cash = rows.find((r) => r.asset === "usd")
    expect(cash).toMatchObject({ info: "settlement", contract: FF.toLowerCase(), trade_price: 61500, realized_pnl: 150, margin_account: "flex" })
    expect(rows.find((r) => r.asset === FF.toLowerCase())).toMatchObject({ old_balance: 0.1, new_balance: 0 })
    expect((await privateCall(s.url, me, "openpositions", {}, "GET")).body.openPositions).toEqual([])
    expect((await privateCall(s.url, me, "openorders", {}, "GET")).body.openOrders).toEqual([])
    expect(((await privateCall(s.url, me, "sendorder", { orderType: "lmt", symbol: FF, side: "buy", size: "0.1", limitPrice: "61500" })).body.sendStatus as Msg).status).toBe("marketInactive")
    expect(((await getJson(`${s.url}/derivatives/api/v3/instruments`)).instruments as Msg[])[0]).toMatchObject({ tradeable: false })
  })
})
