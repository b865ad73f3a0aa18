import { spawn } from "node:child_process"
import { request as httpRequest } from "node:http"
import { networkInterfaces } from "node:os"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { adminAccess } from "../../../src/adapters/venues/simulator/admin-api.js"
import { startSimulator, type Simulator } from "../../../src/adapters/venues/simulator/server.js"
import { TROUPE_BIN } from "../../services/build.js"

const ADMIN_TOKEN = "admin-token-0123456789"
const me = { name: "me", apiKey: "k", apiSecret: Buffer.from("secret-secret-secret").toString("base64") }

/** GET with a chosen Host and Authorization, from a chosen local address. */
const get = (url: string, options: { host?: string; auth?: string } = {}) =>
  new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
    const u = new URL(url)
    const headers: Record<string, string> = { host: options.host ?? u.host, ...(options.auth === undefined ? {} : { authorization: options.auth }) }
    const req = httpRequest({ host: u.hostname.replace(/^\[|\]$/g, ""), port: u.port, path: u.pathname, headers, setHost: false }, (res) => {
      let text = ""
      res.on("data", (c: Buffer) => (text += c.toString()))
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }))
    })
    req.on("error", reject)
    req.end()
  })

describe("who may use the simulator's admin API", () => {
  it("refuses a peer that is not on loopback, a foreign Host and a missing or wrong token", () => {
    const open = adminAccess(undefined)
    expect(open({ remoteAddress: "127.0.0.1", host: "127.0.0.1:7411", authorization: undefined })).toBeUndefined()
    expect(open({ remoteAddress: "::ffff:127.0.0.1", host: "localhost", authorization: undefined })).toBeUndefined()
    expect(open({ remoteAddress: "::1", host: "[::1]:7411", authorization: undefined })).toBeUndefined()
    expect(open({ remoteAddress: "192.0.2.7", host: "127.0.0.1:7411", authorization: undefined })).toEqual({
      status: 403,
      body: { error: "forbidden", reason: "the admin API answers loopback clients only" }
    })
    expect(open({ remoteAddress: "127.0.0.1", host: "rebind.attacker.example:7411", authorization: undefined })).toEqual({
      status: 403,
      body: { error: "forbidden", reason: "the admin API answers requests to a loopback host name only" }
    })
    const guarded = adminAccess(ADMIN_TOKEN)
    const unauthorized = { status: 401, body: { error: "unauthorized", reason: "send Authorization: Bearer <admin token>" } }
    expect(guarded({ remoteAddress: "127.0.0.1", host: "localhost", authorization: undefined })).toEqual(unauthorized)
    expect(guarded({ remoteAddress: "127.0.0.1", host: "localhost", authorization: `Bearer ${ADMIN_TOKEN}x` })).toEqual(unauthorized)
    expect(guarded({ remoteAddress: "127.0.0.1", host: "localhost", authorization: `Bearer ${ADMIN_TOKEN}` })).toBeUndefined()
  })

  describe("over HTTP", () => {
    let sim: Simulator
    beforeAll(async () => {
      // Bound to every address, so a non-loopback peer can reach it at all.
      sim = await startSimulator({ host: "0.0.0.0", accounts: [me], market: { kind: "none" }, adminToken: ADMIN_TOKEN })
    })
    afterAll(() => sim.stop())
    const local = () => `http://127.0.0.1:${sim.port}`

    it("answers a loopback client with the token and refuses one without", async () => {
      expect(await get(`${local()}/__admin/accounts/me`, { auth: `Bearer ${ADMIN_TOKEN}` })).toMatchObject({ status: 200, body: { account: "me" } })
      expect((await get(`${local()}/__admin/accounts/me`)).status).toBe(401)
      expect((await get(`${local()}/__admin/accounts/me`, { auth: `Bearer ${ADMIN_TOKEN}`, host: "rebind.attacker.example" })).status).toBe(403)
      expect((await get(`${local()}/__admin/books/%zz`, { auth: `Bearer ${ADMIN_TOKEN}` })).status).toBe(400)
    })

    it("refuses a client on another address even with the token, while the Kraken API still answers it", async () => {
      const external = Object.values(networkInterfaces())
        .flat()
        .find((i) => i !== undefined && !i.internal && i.family === "IPv4")
      // Without a non-loopback interface there is no other peer to be: the unit test above covers the rule.
      if (external === undefined) return
      const base = `http://${external.address}:${sim.port}`
      expect(await get(`${base}/__admin/accounts/me`, { auth: `Bearer ${ADMIN_TOKEN}`, host: `127.0.0.1:${sim.port}` })).toEqual({
        status: 403,
        body: { error: "forbidden", reason: "the admin API answers loopback clients only" }
      })
      expect((await get(`${base}/derivatives/api/v3/instruments`)).status).toBe(200)
    })
  })

  it("troupe simulator --admin-token requires the token on /__admin/ and refuses a short one", async () => {
    const run = (args: ReadonlyArray<string>) => {
      const child = spawn(process.execPath, [TROUPE_BIN, "simulator", ...args], { stdio: ["ignore", "pipe", "pipe"] })
      let out = ""
      let err = ""
      child.stdout.on("data", (b: Buffer) => (out += b.toString()))
      child.stderr.on("data", (b: Buffer) => (err += b.toString()))
      return { child, out: () => out, err: () => err, exit: new Promise<number | null>((r) => child.once("exit", (c) => r(c))) }
    }
    const short = run(["--admin-token", "short"])
    expect(await short.exit).toBe(64)
    expect(short.err()).toBe("troupe simulator: --admin-token must have at least 16 characters\n")

    const sim = run(["--port", "0", "--admin-token", ADMIN_TOKEN, "--rate", "0"])
    try {
      const deadline = Date.now() + 60_000
      while (!/admin: +(http:\/\/\S+)\/__admin\//.test(sim.out()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
      const url = /admin: +(http:\/\/\S+)\/__admin\/ \(loopback only, Bearer token\)/.exec(sim.out())?.[1]
      expect(url).toBeDefined()
      expect((await get(`${url}/__admin/time`)).status).toBe(401)
      expect((await get(`${url}/__admin/time`, { auth: `Bearer ${ADMIN_TOKEN}` })).status).toBe(200)
    } finally {
      sim.child.kill("SIGTERM")
      expect(await sim.exit).toBe(0)
    }
  }, 90_000)
})
