import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { makeBinanceRestClient } from "../../../src/adapters/venues/binance-usdm/rest.js"

/**
 * The reconciliation logic of `placeOrder` on the paths the face cannot produce (a bare 502,
 * a dead connection): a stub venue that counts what it was sent. The invariant: one POST per
 * placeOrder, whatever happens; the verdict comes from queries by client order id.
 */
const venue = (post: () => Response | Promise<Response>, query: () => Response | Promise<Response>) => {
  const calls: string[] = []
  const fetchStub = (async (url: string | URL | Request, init?: RequestInit) => {
    calls.push(`${init?.method ?? "GET"} ${String(url).split("?")[0]}`)
    return init?.method === "POST" ? post() : query()
  }) as typeof fetch
  const client = makeBinanceRestClient({ baseUrl: "http://venue.invalid", apiKey: "k", secret: "s", fetch: fetchStub, reconcile: { attempts: 3, delayMs: 1 } })
  return { client, calls }
}
const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status })
const req = { symbol: "BTCUSDT", side: "BUY", type: "LIMIT", timeInForce: "GTC", quantity: "0.01", price: "100", clientOrderId: "c-1" } as const

describe("Binance USD-M placeOrder reconciliation", () => {
  it("a 502 the venue answered, and no order under the client id: NotPlaced after one query, one POST", async () => {
    const v = venue(() => new Response("<html>Bad Gateway</html>", { status: 502 }), () => json(400, { code: -2013, msg: "Order does not exist." }))
    const r = await Effect.runPromise(v.client.placeOrder(req))
    expect(r._tag).toBe("NotPlaced")
    expect(v.calls).toEqual(["POST http://venue.invalid/fapi/v1/order", "GET http://venue.invalid/fapi/v1/order"])
  })

  it("a dead connection and a venue that stays unreachable: Unresolved after the attempts, never a resend", async () => {
    const v = venue(
      () => Promise.reject(new TypeError("fetch failed")),
      () => Promise.reject(new TypeError("fetch failed"))
    )
    const r = await Effect.runPromise(v.client.placeOrder(req))
    expect(r._tag).toBe("Unresolved")
    expect(v.calls.filter((c) => c.startsWith("POST"))).toHaveLength(1)
    expect(v.calls.filter((c) => c.startsWith("GET"))).toHaveLength(3)
  })

  it("a dead connection, then the query finds the order: Placed (reconciled)", async () => {
    const order = { orderId: 7, clientOrderId: "c-1", symbol: "BTCUSDT", status: "NEW", side: "BUY", type: "LIMIT", price: "100", origQty: "0.01", executedQty: "0", avgPrice: "0" }
    const v = venue(() => Promise.reject(new TypeError("fetch failed")), () => json(200, order))
    const r = await Effect.runPromise(v.client.placeOrder(req))
    expect(r._tag === "Placed" && [r.reconciled, r.order.orderId]).toEqual([true, 7])
    expect(v.calls).toHaveLength(2)
  })

  it("a reply that is not an order is an unknown outcome, reconciled", async () => {
    const v = venue(() => json(200, { surprise: true }), () => json(400, { code: -2013, msg: "Order does not exist." }))
    const r = await Effect.runPromise(v.client.placeOrder(req))
    // The venue's reply was unreadable, not a 5xx: it may still be acting, so not "NotPlaced".
    expect(r._tag).toBe("Unresolved")
    expect(v.calls.filter((c) => c.startsWith("POST"))).toHaveLength(1)
  })
})
