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

// The keep-alive race: the server closes an idle socket while the event loop is busy, so the
// client has not yet seen the FIN and writes its next request on that socket. The server runs in
// another process (a venue is another machine) so that it closes the socket while we are blocked.
describe("a request on a keep-alive socket the server already closed", () => {
  const SERVER = `
    const net = require("node:net")
    let requests = 0
    const s = net.createServer((sock) => {
      sock.on("data", (d) => {
        if (!d.toString().startsWith("GET") && !d.toString().startsWith("POST")) return
        requests++
        sock.write("HTTP/1.1 200 OK\\r\\nContent-Length: " + String(requests).length + "\\r\\nConnection: keep-alive\\r\\n\\r\\n" + requests)
        // Closes the idle connection 20 ms later, as a keep-alive timeout does.
        setTimeout(() => sock.destroy(), 20)
      })
    })
    s.listen(0, "127.0.0.1", () => process.stdout.write(String(s.address().port) + "\\n"))
  `
  const busy = (ms: number) => {
    const end = Date.now() + ms
    while (Date.now() < end);
  }
  const withServer = async <A>(f: (base: string) => Promise<A>): Promise<A> => {
    const { spawn } = await import("node:child_process")
    const child = spawn(process.execPath, ["-e", SERVER], { stdio: ["ignore", "pipe", "inherit"] })
    try {
      const port = await new Promise<string>((r) => child.stdout.once("data", (d: Buffer) => r(d.toString().trim())))
      return await f(`http://127.0.0.1:${port}`)
    } finally {
      child.kill()
    }
  }

  it("a read is sent again on a fresh socket (it never reached the server)", async () => {
    await withServer(async (base) => {
      const c = makeKeepAliveFetch()
      try {
        expect(await (await c.fetch(`${base}/a`)).text()).toBe("1")
        busy(200) // the server closes the socket meanwhile; we do not see it yet
        expect(await (await c.fetch(`${base}/b`)).text()).toBe("2")
      } finally {
        c.close()
      }
    })
  })

  it("a write is not resent: it fails with the socket's code (the REST client reconciles it by client order id)", async () => {
    await withServer(async (base) => {
      const c = makeKeepAliveFetch()
      try {
        expect(await (await c.fetch(`${base}/a`)).text()).toBe("1")
        busy(200)
        const error = await c.fetch(`${base}/b`, { method: "POST", body: "x" }).then(
          () => undefined,
          (e: unknown) => e
        )
        expect(error).toBeInstanceOf(TypeError)
        expect(["ECONNRESET", "EPIPE"]).toContain(((error as TypeError).cause as { code?: string }).code)
        // The next request (a fresh socket) is the server's second: the write never reached it.
        expect(await (await c.fetch(`${base}/c`)).text()).toBe("2")
      } finally {
        c.close()
      }
    })
  })
})
