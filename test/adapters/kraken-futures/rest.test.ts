import { createServer, type IncomingMessage, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { Effect, Either } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { signRest } from "../../../src/adapters/venues/kraken-futures/auth.js"
import { batchJson, makeKrakenRestClient, type KrakenRestClient } from "../../../src/adapters/venues/kraken-futures/rest.js"
import { dec } from "../../../src/domain/decimal.js"

interface Seen {
  method: string
  url: string
  headers: IncomingMessage["headers"]
  body: string
}

// A scripted venue: each test sets the next reply; the server records what it was sent.
let next: { status: number; body: string } = { status: 200, body: "{}" }
let seen: Seen | undefined
let server: Server
let baseUrl = ""
const SECRET = "c2VjcmV0"
let client: KrakenRestClient

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = ""
    req.on("data", (c: Buffer) => (body += c.toString("utf8")))
    req.on("end", () => {
      seen = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, body }
      res.writeHead(next.status, { "content-type": "application/json" })
      res.end(next.body)
    })
  })
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r))
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/derivatives`
  client = makeKrakenRestClient({ baseUrl, credentials: { apiKey: "key-1", secret: SECRET }, nonce: () => "42", timeoutMs: 2000 })
})
afterAll(() => new Promise<void>((r) => server.close(() => r())))

const reply = (body: string, status = 200) => {
  next = { status, body }
}
const run = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(Effect.either(e))

describe("kraken-futures REST client", () => {
  it("sends sendorder parameters in the query string, signed over exactly that string", async () => {
    reply('{"result":"success","sendStatus":{"order_id":"o-1","status":"placed","receivedTime":"t","orderEvents":[{"type":"PLACE","order":{}}]},"serverTime":"t"}')
    const r = await run(client.sendOrder({ orderType: "lmt", symbol: "PF_XBTUSD", side: "buy", size: dec("0.0001"), limitPrice: dec("34981.5"), cliOrdId: "s-1-a" }))
    const query = "orderType=lmt&symbol=PF_XBTUSD&side=buy&size=0.0001&limitPrice=34981.5&cliOrdId=s-1-a"
    expect(seen?.method).toBe("POST")
    expect(seen?.url).toBe(`/derivatives/api/v3/sendorder?${query}`)
    expect(seen?.headers["apikey"]).toBe("key-1")
    expect(seen?.headers["nonce"]).toBe("42")
    expect(seen?.headers["authent"]).toBe(signRest({ secret: SECRET, postData: query, nonce: "42", endpointPath: "/api/v3/sendorder" }))
    expect(Either.getOrThrow(r)).toMatchObject({ status: "placed", outcome: { kind: "accepted" }, venueOrderId: "o-1", executions: [] })
  })

  it("immediate executions in a sendorder reply keep exact price and size", async () => {
    reply('{"result":"success","sendStatus":{"order_id":"o-2","status":"placed","orderEvents":[{"type":"EXECUTION","executionId":"e-1","price":0.1,"amount":1e-8}]}}')
    const r = Either.getOrThrow(await run(client.sendOrder({ orderType: "ioc", symbol: "PF_XBTUSD", side: "sell", size: dec(1), limitPrice: dec("0.1") })))
    expect(r.executions[0]?.price.toString()).toBe("0.1")
    expect(r.executions[0]?.qty.toFixed()).toBe("0.00000001")
  })

  it("a rejecting sendStatus is a rejected outcome with the status as reason", async () => {
    reply('{"result":"success","sendStatus":{"status":"postWouldExecute","orderEvents":[{"type":"REJECT","reason":"POST_WOULD_EXECUTE"}]}}')
    const r = Either.getOrThrow(await run(client.sendOrder({ orderType: "post", symbol: "PF_XBTUSD", side: "buy", size: dec(1), limitPrice: dec(1) })))
    expect(r.outcome).toEqual({ kind: "rejected", reason: "postWouldExecute" })
    expect(r.rejectReasons).toEqual(["POST_WOULD_EXECUTE"])
  })

  it("clientOrderIdAlreadyExist is a DuplicateClientOrderId error, not a rejection", async () => {
    reply('{"result":"success","sendStatus":{"status":"clientOrderIdAlreadyExist"}}')
    const r = await run(client.sendOrder({ orderType: "lmt", symbol: "PF_XBTUSD", side: "buy", size: dec(1), limitPrice: dec(1), cliOrdId: "dup" }))
    expect(Either.flip(r).pipe(Either.getOrThrow)).toMatchObject({ _tag: "DuplicateClientOrderId", clientOrderId: "dup" })
  })

  it("an unknown sendStatus is an UnexpectedStatus error", async () => {
    reply('{"result":"success","sendStatus":{"status":"brandNew"}}')
    const r = await run(client.sendOrder({ orderType: "lmt", symbol: "PF_XBTUSD", side: "buy", size: dec(1), limitPrice: dec(1) }))
    expect(Either.isLeft(r) && r.left._tag).toBe("UnexpectedStatus")
  })

  it("apiLimitExceeded is RateLimited and HTTP 429 too", async () => {
    reply('{"result":"error","serverTime":"t","error":"apiLimitExceeded"}')
    const a = await run(client.cancelOrder({ orderId: "o-1" }))
    expect(Either.isLeft(a) && a.left._tag).toBe("RateLimited")
    reply("slow down", 429)
    const b = await run(client.openOrders())
    expect(Either.isLeft(b) && b.left._tag).toBe("RateLimited")
  })

  it("HTTP 5xx and a refused connection are VenueUnavailable values, never throws", async () => {
    reply("<html>bad gateway</html>", 502)
    const a = await run(client.cancelOrder({ cliOrdId: "c-1" }))
    expect(Either.isLeft(a) && a.left).toMatchObject({ _tag: "VenueUnavailable", cause: "http", status: 502, mayHaveReached: true })
    const dead = makeKrakenRestClient({ baseUrl: "http://127.0.0.1:1/derivatives", credentials: { apiKey: "k", secret: SECRET } })
    const b = await run(dead.openOrders())
    expect(Either.isLeft(b) && b.left).toMatchObject({ _tag: "VenueUnavailable", cause: "network", mayHaveReached: false })
  })

  it("a reply that is not JSON or not the documented shape is a VenueDecodeError", async () => {
    reply("not json")
    const a = await run(client.openPositions())
    expect(Either.isLeft(a) && a.left._tag).toBe("VenueDecodeError")
    reply('{"result":"success","openPositions":[{"symbol":"PF_XBTUSD","side":"long","size":"abc","price":1}]}')
    const b = await run(client.openPositions())
    expect(Either.isLeft(b) && b.left._tag).toBe("VenueDecodeError")
  })

  it("cancelorder by client order id uses cliOrdId and maps filled to a cancel rejection", async () => {
    reply('{"result":"success","cancelStatus":{"status":"filled","order_id":"o-9"}}')
    const r = Either.getOrThrow(await run(client.cancelOrder({ cliOrdId: "c-9" })))
    expect(seen?.url).toBe("/derivatives/api/v3/cancelorder?cliOrdId=c-9")
    expect(r).toEqual({ status: "filled", outcome: { kind: "cancelRejected", reason: "filled" }, venueOrderId: "o-9" })
  })

  it("editorder maps orderForEditNotFound to a modify rejection", async () => {
    reply('{"result":"success","editStatus":{"status":"orderForEditNotFound"}}')
    const r = Either.getOrThrow(await run(client.editOrder({ ref: { orderId: "o-1" }, limitPrice: dec("100.5") })))
    expect(seen?.url).toBe("/derivatives/api/v3/editorder?orderId=o-1&limitPrice=100.5")
    expect(r.outcome).toEqual({ kind: "modifyRejected", reason: "orderForEditNotFound" })
  })

  it("batchorder posts json= in the body with exact numbers and signs the body", async () => {
    reply('{"result":"success","batchStatus":[{"status":"placed","order_tag":"1","order_id":"o-1"},{"status":"notFound","order_id":"o-2"}]}')
    const r = Either.getOrThrow(
      await run(
        client.batchOrder([
          { order: "send", orderTag: "1", orderType: "lmt", symbol: "PF_XBTUSD", side: "buy", size: dec("0.1"), limitPrice: dec("34981.5") },
          { order: "cancel", ref: { orderId: "o-2" } }
        ])
      )
    )
    expect(seen?.body.startsWith("json=")).toBe(true)
    const sent = decodeURIComponent(seen!.body.slice(5))
    expect(sent).toContain('"size":0.1')
    expect(sent).toContain('"limitPrice":34981.5')
    expect(seen?.headers["authent"]).toBe(signRest({ secret: SECRET, postData: seen!.body, nonce: "42", endpointPath: "/api/v3/batchorder" }))
    expect(r.map((x) => x.outcome.kind)).toEqual(["accepted", "cancelRejected"])
  })

  it("batch JSON never writes a Decimal in exponent form", () => {
    const json = batchJson([{ order: "send", orderTag: "t", orderType: "lmt", symbol: "S", side: "buy", size: dec("1e-8"), limitPrice: dec("1e21") }])
    expect(json).toContain('"size":0.00000001')
    expect(json).toContain('"limitPrice":1000000000000000000000')
  })

  it("a private call without credentials fails as AuthenticationFailed before any request", async () => {
    const anon = makeKrakenRestClient({ baseUrl })
    const r = await run(anon.openOrders())
    expect(Either.isLeft(r) && r.left._tag).toBe("AuthenticationFailed")
  })
})
