import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { signRequest } from "../../../src/adapters/venues/simulator/auth.js"
import { startSimulator, type Simulator } from "../../../src/adapters/venues/simulator/server.js"

const me = { name: "me", apiKey: "nonce-key", apiSecret: Buffer.from("nonce-secret").toString("base64") }
let sim: Simulator

const call = async (nonce: string): Promise<string> => {
  const authent = signRequest(me.apiSecret, "", nonce, "/api/v3/openorders")
  const res = await fetch(`${sim.url}/derivatives/api/v3/openorders`, { headers: { APIKey: me.apiKey, Authent: authent, Nonce: nonce } })
  const body = (await res.json()) as { result: string; error?: string }
  return body.result === "success" ? "success" : (body.error ?? "?")
}

beforeAll(async () => {
  sim = await startSimulator({ accounts: [me], market: { kind: "none" } })
})
afterAll(() => sim.stop())

describe("simulator nonces", () => {
  it("accepts concurrent requests whose nonces arrive out of order, refuses a repeat and one far below", async () => {
    const base = BigInt(Date.now()) * 1000n
    expect(await call(String(base + 5n))).toBe("success")
    // Sent concurrently, this one was generated first but arrives second: within the threshold.
    expect(await call(String(base + 3n))).toBe("success")
    expect(await call(String(base + 3n))).toBe("nonceDuplicate")
    expect(await call(String(base - 11_000_000n))).toBe("nonceBelowThreshold")
  })
})
