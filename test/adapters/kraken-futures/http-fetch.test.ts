import { createServer, type Server } from "node:http"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { makeKeepAliveFetch } from "../../../src/adapters/venues/kraken-futures/http-fetch.js"
import { freePort } from "../../services/free-port.js"

// The REST client's transport: node:http with keep-alive, behaving as the client expects of
// fetch — status and body text, a POST body, one connection reused, a timeout as TimeoutError,
// a refused connection as TypeError with the socket code in its cause.

let server: Server
let base = ""
let connections = 0
const client = makeKeepAliveFetch()

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = ""
    req.on("data", (c: Buffer) => (body += c.toString()))
    req.on("end", () => {
      if (req.url === "/slow") return void setTimeout(() => res.end("late"), 2_000)
      res.statusCode = req.url === "/missing" ? 404 : 200
      res.setHeader("content-type", "application/json")
      res.end(JSON.stringify({ method: req.method, url: req.url, body, apiKey: req.headers["apikey"] ?? null }))
    })
  })
  server.on("connection", () => connections++)
  const port = await freePort()
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", r))
  base = `http://127.0.0.1:${port}`
})

afterAll(async () => {
  client.close()
  server.closeAllConnections()
  await new Promise((r) => server.close(r))
})

describe("keep-alive fetch", () => {
  it("sends method, headers and body, answers status and text, and reuses one connection", async () => {
    const before = connections
    const a = await client.fetch(`${base}/derivatives/api/v3/sendorder?x=1`, { method: "POST", headers: { APIKey: "k1", "Content-Type": "application/x-www-form-urlencoded" }, body: "size=0.001&side=buy" })
    expect(a.status).toBe(200)
    expect(a.ok).toBe(true)
    expect(JSON.parse(await a.text())).toEqual({ method: "POST", url: "/derivatives/api/v3/sendorder?x=1", body: "size=0.001&side=buy", apiKey: "k1" })
    const b = await client.fetch(`${base}/missing`)
    expect(b.status).toBe(404)
    expect(b.ok).toBe(false)
    expect(connections - before).toBe(1)
  })

  it("rejects with the signal's TimeoutError when the reply is late", async () => {
    await expect(client.fetch(`${base}/slow`, { signal: AbortSignal.timeout(100) })).rejects.toMatchObject({ name: "TimeoutError" })
  })

  it("rejects a refused connection with TypeError whose cause has the socket code", async () => {
    const port = await freePort()
    const e = await client.fetch(`http://127.0.0.1:${port}/`).catch((x: unknown) => x)
    expect(e).toBeInstanceOf(TypeError)
    expect(((e as TypeError).cause as { code?: string }).code).toBe("ECONNREFUSED")
  })
})
