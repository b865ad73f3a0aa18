import { get } from "node:https"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import WebSocket from "ws"
import { startSimulator, type Simulator } from "../../../src/adapters/venues/simulator/server.js"
import { selfSignedCertificate, type TlsMaterial } from "../../../src/adapters/venues/simulator/tls.js"

describe("simulator over TLS (self-signed, made with openssl)", () => {
  let sim: Simulator
  let tls: TlsMaterial
  beforeAll(async () => {
    tls = selfSignedCertificate()
    sim = await startSimulator({ tls, market: { kind: "none" } })
  })
  afterAll(() => sim.stop())

  it("serves https and wss to a client that trusts the certificate, and names the api base and fingerprint", async () => {
    expect(sim.url.startsWith("https://")).toBe(true)
    expect(sim.apiBase).toBe(`${sim.url}/derivatives/api/`)
    expect(sim.fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/)
    const body = await new Promise<string>((resolve, reject) => {
      get(`${sim.apiBase}v3/instruments`, { ca: tls.cert }, (res) => {
        let text = ""
        res.on("data", (c: Buffer) => (text += c.toString()))
        res.on("end", () => resolve(text))
      }).on("error", reject)
    })
    expect(JSON.parse(body)).toMatchObject({ result: "success" })
    const first = await new Promise<string>((resolve, reject) => {
      const ws = new WebSocket(sim.wsUrl, { ca: tls.cert })
      ws.once("message", (d: Buffer) => {
        resolve(d.toString())
        ws.close()
      })
      ws.once("error", reject)
    })
    expect(JSON.parse(first)).toEqual({ event: "info", version: 1 })
  })

  it("refuses a client that does not trust it (it is self-signed)", async () => {
    const err = await new Promise<Error>((resolve) => {
      get(`${sim.apiBase}v3/instruments`, (res) => res.resume()).on("error", resolve)
    })
    expect(err.message).toMatch(/self[- ]signed/i)
  })
})
