import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { signChallenge, signRequest } from "../../../src/adapters/venues/simulator/auth.js"
import { startSimulator, type Simulator } from "../../../src/adapters/venues/simulator/server.js"
import { FeedClient, getJson, manualClock, postAdmin, privateCall, sleep, type Msg } from "./helpers.js"

const DOC_SECRET = "7zxMEF5p/Z8l2p2U7Ghv6x14Af+Fx+92tPgUdVQ748FOIrEoT9bgT+bTRfXc5pz8na+hL/QdrCVG7bh9KpT0eMTm"
const me = { name: "me", apiKey: "key-me", apiSecret: DOC_SECRET }
const SYM = "PF_XBTUSD"

describe("simulator protocol vectors", () => {
  it("computes the documented Authent test vector", () => {
    expect(signRequest("c2VjcmV0", "orderType=lmt&symbol=PF_XBTUSD&side=buy&size=1&limitPrice=100", "", "/api/v3/sendorder")).toBe(
      "m9u8/TZdsqdu3I6xjvbn+dd00otCMh53YZphPgytiUJjFhnPPgamwmV2BFH/LtBXfuV85q1o9/PGAKz4pydOoA=="
    )
  })

  it("computes the documented signed challenge test vector", () => {
    expect(signChallenge(DOC_SECRET, "c100b894-1729-464d-ace1-52dbce11db42")).toBe(
      "4JEpF3ix66GA2B+ooK128Ift4XQVtc137N9yeg4Kqsn9PI0Kpzbysl9M1IeCEdjg0zl00wkVqcsnG4bmnlMb3A=="
    )
  })
})

describe("simulator server on loopback", () => {
  let sim: Simulator
  beforeAll(async () => {
    sim = await startSimulator({
      accounts: [me, { name: "vector", apiKey: "key-vector", apiSecret: "c2VjcmV0" }],
      market: { kind: "synthetic", rate: 400, levels: 8 },
      heartbeatMs: 100,
      seed: 3
    })
  })
  afterAll(async () => {
    await sim.stop()
  })

  it("accepts the documented Authent vector request and refuses a wrong secret with authenticationError", async () => {
    const postData = "orderType=lmt&symbol=PF_XBTUSD&side=buy&size=1&limitPrice=100"
    const res = await getJson(`${sim.url}/derivatives/api/v3/sendorder?${postData}`, {
      method: "POST", headers: { APIKey: "key-vector", Authent: "m9u8/TZdsqdu3I6xjvbn+dd00otCMh53YZphPgytiUJjFhnPPgamwmV2BFH/LtBXfuV85q1o9/PGAKz4pydOoA==" }
    })
    expect(res.result).toBe("success")
    expect((res.sendStatus as Msg).status).toBe("placed")
    const wrong = await privateCall(sim.url, { apiKey: "key-me", apiSecret: "c2VjcmV0" }, "openorders", {}, "GET")
    expect(wrong.body).toMatchObject({ result: "error", error: "authenticationError" })
  })

  it("lists instruments and serves the order book as the engine holds it", async () => {
    const instruments = await getJson(`${sim.url}/derivatives/api/v3/instruments`)
    const list = instruments.instruments as Msg[]
    expect(list.map((i) => i.symbol)).toEqual(["PF_XBTUSD", "PF_ETHUSD"])
    expect(list[0]).toMatchObject({ type: "flexible_futures", tickSize: 0.5, contractValueTradePrecision: 4, tradeable: true })
    const book = await getJson(`${sim.url}/derivatives/api/v3/orderbook?symbol=${SYM}`)
    const bids = (book.orderBook as { bids: number[][] }).bids
    expect(bids.length).toBeGreaterThan(0)
    const tickers = await getJson(`${sim.url}/derivatives/api/v3/tickers`)
    expect((tickers.tickers as Msg[])[0]?.symbol).toBe(SYM)
  })

  it("reconstructs exactly the engine's book from the snapshot and one-level deltas", async () => {
    const client = await FeedClient.open(sim.wsUrl)
    await client.next((m) => m.event === "info")
    client.send({ event: "subscribe", feed: "book", product_ids: [SYM] })
    const snapshot = await client.next((m) => m.feed === "book_snapshot")
    await sleep(300)
    sim.admin.pauseMarket()
    await sleep(100)
    const book = { buy: new Map<number, number>(), sell: new Map<number, number>() }
    for (const l of snapshot.bids as Array<{ price: number; qty: number }>) book.buy.set(l.price, l.qty)
    for (const l of snapshot.asks as Array<{ price: number; qty: number }>) book.sell.set(l.price, l.qty)
    let seq = snapshot.seq as number
    const deltas = client.messages.filter((m) => m.feed === "book" && m.event === undefined)
    expect(deltas.length).toBeGreaterThan(10)
    for (const d of deltas) {
      expect(d.seq).toBe(seq + 1)
      seq = d.seq as number
      const side = book[d.side as "buy" | "sell"]
      if (d.qty === 0) side.delete(d.price as number)
      else side.set(d.price as number, d.qty as number)
    }
    const truth = await getJson(`${sim.url}/__admin/books/${SYM}`)
    const sorted = (m: Map<number, number>, desc: boolean) => [...m.entries()].sort((a, b) => (desc ? b[0] - a[0] : a[0] - b[0]))
    expect(sorted(book.buy, true)).toEqual(truth.bids)
    expect(sorted(book.sell, false)).toEqual(truth.asks)
    expect(truth.seq).toBe(seq)
    client.close()
    sim.admin.resumeMarket()
  })

  it("shows an injected sequence gap to a book subscriber", async () => {
    sim.admin.pauseMarket()
    const client = await FeedClient.open(sim.wsUrl)
    client.send({ event: "subscribe", feed: "book", product_ids: [SYM] })
    const snapshot = await client.next((m) => m.feed === "book_snapshot")
    await postAdmin(sim.url, "faults/gap", { symbol: SYM })
    await postAdmin(sim.url, "orders", { account: "other", symbol: SYM, side: "buy", size: "0.5", limitPrice: "1000", orderType: "lmt" })
    const delta = await client.next((m) => m.feed === "book" && m.event === undefined)
    expect(delta.seq).toBe((snapshot.seq as number) + 2)
    client.close()
    sim.admin.resumeMarket()
  })

  it("answers bad JSON with a Json Error and keeps the connection open", async () => {
    const client = await FeedClient.open(sim.wsUrl)
    client.send("{not json")
    expect(await client.next((m) => m.event === "error")).toEqual({ event: "error", message: "Json Error" })
    client.send({ event: "subscribe", feed: "heartbeat" })
    await client.next((m) => m.feed === "heartbeat")
    expect(client.closed).toBe(false)
    client.close()
  })

  it("verifies the signed challenge and streams our orders and fills on the private feeds", async () => {
    sim.admin.pauseMarket()
    const client = await FeedClient.open(sim.wsUrl)
    client.send({ event: "challenge", api_key: me.apiKey })
    const challenge = (await client.next((m) => m.event === "challenge")).message as string
    const creds = { api_key: me.apiKey, original_challenge: challenge, signed_challenge: signChallenge(me.apiSecret, challenge) }
    client.send({ event: "subscribe", feed: "fills", ...creds, signed_challenge: signChallenge("c2VjcmV0", challenge) })
    expect((await client.next((m) => m.event === "subscribed_failed")).feed).toBe("fills")
    client.send({ event: "subscribe", feed: "open_orders", ...creds })
    client.send({ event: "subscribe", feed: "fills", ...creds })
    client.send({ event: "subscribe", feed: "open_positions", ...creds })
    await client.next((m) => m.feed === "open_orders_snapshot")
    await client.next((m) => m.feed === "fills_snapshot")

    // Best bid of the paused synthetic market plus one tick: we are alone at the top of the book.
    const top = ((await getJson(`${sim.url}/__admin/books/${SYM}`)).bids as number[][])[0]?.[0] ?? 0
    const price = String(top + 0.5)
    const placed = await privateCall(sim.url, me, "sendorder", { orderType: "lmt", symbol: SYM, side: "buy", size: "0.25", limitPrice: price, cliOrdId: "t-1" })
    const status = placed.body.sendStatus as Msg
    expect(status.status).toBe("placed")
    const orderId = status.order_id as string
    expect((status.orderEvents as Msg[])[0]).toMatchObject({ type: "PLACE" })
    const update = await client.next((m) => m.feed === "open_orders" && (m.order as Msg | undefined)?.order_id === orderId)
    expect(update).toMatchObject({ is_cancel: false, reason: "new_placed_order_by_user", order: { qty: 0.25, limit_price: top + 0.5, direction: 0, cli_ord_id: "t-1" } })

    const dup = await privateCall(sim.url, me, "sendorder", { orderType: "lmt", symbol: SYM, side: "buy", size: "0.25", limitPrice: price, cliOrdId: "t-1" })
    expect((dup.body.sendStatus as Msg).status).toBe("clientOrderIdAlreadyExist")

    await postAdmin(sim.url, "orders", { account: "other", symbol: SYM, side: "sell", size: "0.1", limitPrice: price, orderType: "ioc" })
    const fill = await client.next((m) => m.feed === "fills" && m.event === undefined)
    expect((fill.fills as Msg[])[0]).toMatchObject({ order_id: orderId, qty: 0.1, price: top + 0.5, buy: true, fill_type: "maker", cli_ord_id: "t-1" })
    const positions = await client.next((m) => m.feed === "open_positions" && m.event === undefined && (m.positions as Msg[]).length > 0)
    expect((positions.positions as Msg[])[0]).toMatchObject({ instrument: SYM, balance: 0.1 })

    const rest = await privateCall(sim.url, me, "fills", {}, "GET")
    expect((rest.body.fills as Msg[])[0]).toMatchObject({ order_id: orderId, size: 0.1, fillType: "maker" })
    const open = await privateCall(sim.url, me, "openorders", {}, "GET")
    expect((open.body.openOrders as Msg[]).find((o) => o.order_id === orderId)).toMatchObject({ unfilledSize: 0.15, filledSize: 0.1, status: "partiallyFilled" })
    const pos = await privateCall(sim.url, me, "openpositions", {}, "GET")
    expect((pos.body.openPositions as Msg[])[0]).toMatchObject({ symbol: SYM, side: "long", size: 0.1 })

    const edited = await privateCall(sim.url, me, "editorder", { orderId, size: "0.2", limitPrice: price })
    expect((edited.body.editStatus as Msg).status).toBe("edited")
    const cancelled = await privateCall(sim.url, me, "cancelorder", { cliOrdId: "t-1" })
    expect((cancelled.body.cancelStatus as Msg).status).toBe("cancelled")
    const cancelFrame = await client.next((m) => m.feed === "open_orders" && m.order_id === orderId && m.is_cancel === true)
    // As the real venue: a cancel frame names the order by `order_id` only.
    expect(Object.keys(cancelFrame).sort()).toEqual(["feed", "is_cancel", "order_id", "reason"])
    const truth = await getJson(`${sim.url}/__admin/accounts/me`)
    expect((truth.openOrders as Msg[]).length).toBe(0)
    expect((truth.fills as Msg[]).length).toBe(1)
    client.close()
    sim.admin.resumeMarket()
  })

  it("places, edits and cancels in one batchorder", async () => {
    const json = JSON.stringify({ batchOrder: [
      { order: "send", order_tag: "1", orderType: "post", symbol: SYM, side: "buy", size: 0.01, limit_price: 800, cliOrdId: "batch-1" },
      { order: "edit", cliOrdId: "batch-1", new_size: 0.02, limit_price: 800 },
      { order: "cancel", cliOrdId: "batch-1" }
    ] })
    const postData = new URLSearchParams({ json }).toString()
    const res = await getJson(`${sim.url}/derivatives/api/v3/batchorder`, {
      method: "POST", body: postData,
      headers: { APIKey: me.apiKey, Authent: signRequest(me.apiSecret, postData, "", "/api/v3/batchorder"), "content-type": "application/x-www-form-urlencoded" }
    })
    expect((res.batchStatus as Msg[]).map((s) => s.status)).toEqual(["placed", "edited", "cancelled"])
  })

  it("fails the next REST request with a 5xx when the fault is set", async () => {
    await postAdmin(sim.url, "faults", { restFailures: 1 })
    const failed = await privateCall(sim.url, me, "openorders", {}, "GET")
    expect(failed.status).toBe(500)
    const next = await privateCall(sim.url, me, "openorders", {}, "GET")
    expect(next.status).toBe(200)
  })
})

describe("simulator limits and timers", () => {
  it("answers apiLimitExceeded once the 500-per-10s cost budget is spent", async () => {
    const sim = await startSimulator({ accounts: [me], market: { kind: "none" } })
    try {
      const statuses: unknown[] = []
      for (let i = 0; i < 21; i++) statuses.push((await privateCall(sim.url, me, "cancelallorders")).body.error ?? "ok")
      expect(statuses.slice(0, 20).every((s) => s === "ok")).toBe(true)
      expect(statuses[20]).toBe("apiLimitExceeded")
    } finally {
      await sim.stop()
    }
  })

  it("cancels the account's orders when the dead man's switch fires", async () => {
    const clock = manualClock()
    const sim = await startSimulator({ accounts: [me], market: { kind: "none" }, clock })
    try {
      await privateCall(sim.url, me, "sendorder", { orderType: "lmt", symbol: SYM, side: "buy", size: "1", limitPrice: "1000" })
      const armed = await privateCall(sim.url, me, "cancelallordersafter", { timeout: "60" })
      const status = armed.body.status as Msg
      expect(Date.parse(status.triggerTime as string) - Date.parse(status.currentTime as string)).toBe(60_000)
      clock.advance(59_000)
      expect(sim.admin.exchange.engine.openOrders("me")).toHaveLength(1)
      clock.advance(1_000)
      expect(sim.admin.exchange.engine.openOrders("me")).toHaveLength(0)
      const all = sim.admin.exchange.engine.allOrders("me")
      expect(all[0]?.state).toBe("cancelled")
    } finally {
      await sim.stop()
    }
  })
})

describe("simulator connection faults", () => {
  it("drops every WebSocket and sends each private fill twice when asked", async () => {
    const sim = await startSimulator({ accounts: [me], market: { kind: "none" } })
    try {
      const client = await FeedClient.open(sim.wsUrl)
      client.send({ event: "challenge", api_key: me.apiKey })
      const challenge = (await client.next((m) => m.event === "challenge")).message as string
      client.send({ event: "subscribe", feed: "fills", api_key: me.apiKey, original_challenge: challenge, signed_challenge: signChallenge(me.apiSecret, challenge) })
      await client.next((m) => m.feed === "fills_snapshot")
      sim.admin.setFaults({ duplicateFills: true })
      await privateCall(sim.url, me, "sendorder", { orderType: "lmt", symbol: SYM, side: "buy", size: "1", limitPrice: "1000" })
      await postAdmin(sim.url, "orders", { account: "other", symbol: SYM, side: "sell", size: "1", limitPrice: "1000", orderType: "ioc" })
      await client.next((m) => m.feed === "fills" && m.event === undefined)
      await sleep(50)
      const fills = client.messages.filter((m) => m.feed === "fills" && m.event === undefined)
      expect(fills).toHaveLength(2)
      expect(fills[0]).toEqual(fills[1])
      expect((await postAdmin(sim.url, "faults/drop-connections")).dropped).toBe(1)
      await sleep(50)
      expect(client.closed).toBe(true)
    } finally {
      await sim.stop()
    }
  })
})
