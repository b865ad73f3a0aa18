import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { startSimulator, type Simulator } from "../../../src/adapters/venues/simulator/server.js"
import { postAdmin, privateCall, sleep, type Msg } from "./helpers.js"

const me = { name: "me", apiKey: "key-me", apiSecret: "c2VjcmV0" }
const SYM = "PF_XBTUSD"

describe("simulator state file", () => {
  let dir: string
  let file: string
  const running: Simulator[] = []
  const start = async (extra: { onStateError?: (m: string) => void; stateSaveMs?: number; apiKey?: string } = {}): Promise<Simulator> => {
    const sim = await startSimulator({
      accounts: [{ ...me, apiKey: extra.apiKey ?? me.apiKey }],
      market: { kind: "none" },
      seed: 7,
      stateFile: file,
      ...(extra.stateSaveMs === undefined ? {} : { stateSaveMs: extra.stateSaveMs }),
      onStateError: extra.onStateError ?? ((m) => {
        throw new Error(`unexpected state error: ${m}`)
      })
    })
    running.push(sim)
    return sim
  }
  const stop = async (sim: Simulator): Promise<void> => {
    running.splice(running.indexOf(sim), 1)
    await sim.stop()
  }
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "troupe-simstate-"))
    file = join(dir, "simulator", "state.json")
  })
  afterEach(async () => {
    for (const sim of running.splice(0)) await sim.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  it("restores resting orders, positions, fills and id counters after a restart", async () => {
    const first = await start()
    expect(first.state).toEqual({ restored: false, error: undefined })
    const placed = await privateCall(first.url, me, "sendorder", { orderType: "lmt", symbol: SYM, side: "buy", size: "0.25", limitPrice: "50000.5", cliOrdId: "keep-1" })
    const orderId = (placed.body.sendStatus as Msg).order_id as string
    expect((placed.body.sendStatus as Msg).status).toBe("placed")
    await privateCall(first.url, me, "sendorder", { orderType: "lmt", symbol: SYM, side: "sell", size: "0.5", limitPrice: "60000" })
    const hit = await postAdmin(first.url, "orders", { account: "other", symbol: SYM, side: "sell", size: "0.1", limitPrice: "50000.5", orderType: "ioc" })
    expect(hit).toBeDefined()
    const fillsBefore = ((await privateCall(first.url, me, "fills", {}, "GET")).body.fills as Msg[])
    expect(fillsBefore).toHaveLength(1)
    const openBefore = ((await privateCall(first.url, me, "openorders", {}, "GET")).body.openOrders as Msg[])
    expect(openBefore).toHaveLength(2)
    await stop(first)
    expect(JSON.parse(readFileSync(file, "utf8"))).toMatchObject({ version: 1, clean: true })

    // A new daemon start: new simulator, new API key for the same account, same file.
    const creds = { apiKey: "key-me-2", apiSecret: me.apiSecret }
    const second = await start({ apiKey: creds.apiKey })
    expect(second.state).toEqual({ restored: true, error: undefined })
    const open = ((await privateCall(second.url, creds, "openorders", {}, "GET")).body.openOrders as Msg[])
    expect(open).toHaveLength(2)
    expect(open.find((o) => o.order_id === orderId)).toMatchObject({ cliOrdId: "keep-1", side: "buy", limitPrice: 50000.5, unfilledSize: 0.15, filledSize: 0.1, status: "partiallyFilled" })
    const positions = ((await privateCall(second.url, creds, "openpositions", {}, "GET")).body.openPositions as Msg[])
    expect(positions).toHaveLength(1)
    expect(positions[0]).toMatchObject({ symbol: SYM, side: "long", size: 0.1, price: 50000.5 })
    const fills = ((await privateCall(second.url, creds, "fills", {}, "GET")).body.fills as Msg[])
    expect(fills).toEqual(fillsBefore)

    // The client order id is still taken, and the restored order is in the book at its price.
    const dup = await privateCall(second.url, creds, "sendorder", { orderType: "lmt", symbol: SYM, side: "buy", size: "0.1", limitPrice: "49000", cliOrdId: "keep-1" })
    expect((dup.body.sendStatus as Msg).status).toBe("clientOrderIdAlreadyExist")
    await postAdmin(second.url, "orders", { account: "other", symbol: SYM, side: "sell", size: "0.15", limitPrice: "50000.5", orderType: "ioc" })
    const after = ((await privateCall(second.url, creds, "openorders", {}, "GET")).body.openOrders as Msg[])
    expect(after.map((o) => o.order_id)).not.toContain(orderId)
    const posAfter = ((await privateCall(second.url, creds, "openpositions", {}, "GET")).body.openPositions as Msg[])
    expect(posAfter[0]).toMatchObject({ size: 0.25 })

    // A new order's venue id was never used before.
    const fresh = await privateCall(second.url, creds, "sendorder", { orderType: "lmt", symbol: SYM, side: "buy", size: "0.1", limitPrice: "40000" })
    const freshId = (fresh.body.sendStatus as Msg).order_id as string
    const used = new Set([...openBefore.map((o) => o.order_id), ...fillsBefore.map((f) => f.fill_id)])
    expect(freshId).toMatch(/^[0-9a-f-]{36}$/)
    expect(used.has(freshId)).toBe(false)
  })

  it("after a crash (file not marked clean) ids drawn since the last save are not drawn again", async () => {
    const first = await start({ stateSaveMs: 20 })
    await privateCall(first.url, me, "sendorder", { orderType: "lmt", symbol: SYM, side: "buy", size: "0.1", limitPrice: "45000" })
    await sleep(150)
    const crashed = join(dir, "crashed.json")
    copyFileSync(file, crashed)
    expect(JSON.parse(readFileSync(crashed, "utf8"))).toMatchObject({ clean: false })
    // Placed after the last save the crash kept: the venue forgets it, but must not reuse its id.
    const lost = await privateCall(first.url, me, "sendorder", { orderType: "lmt", symbol: SYM, side: "buy", size: "0.1", limitPrice: "44000" })
    const lostId = (lost.body.sendStatus as Msg).order_id as string
    await stop(first)
    copyFileSync(crashed, file)

    const second = await start()
    expect(second.state.restored).toBe(true)
    expect(((await privateCall(second.url, me, "openorders", {}, "GET")).body.openOrders as Msg[])).toHaveLength(1)
    const next = await privateCall(second.url, me, "sendorder", { orderType: "lmt", symbol: SYM, side: "buy", size: "0.1", limitPrice: "44000" })
    expect((next.body.sendStatus as Msg).order_id).not.toBe(lostId)
  })

  it("a corrupt state file is reported and moved aside, and the venue starts fresh", async () => {
    const seed = await start()
    await stop(seed)
    writeFileSync(file, "{\"version\":1,\"clean\":true,\"rngState\":5,\"orders\":[{\"orderId\":")
    const errors: string[] = []
    const sim = await start({ onStateError: (m) => errors.push(m) })
    expect(sim.state.restored).toBe(false)
    expect(sim.state.error).toMatch(/not JSON/)
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatch(/unusable.*starting with a fresh venue/)
    expect(readdirSync(join(dir, "simulator")).some((f) => f.startsWith("state.json.corrupt-"))).toBe(true)
    expect(((await privateCall(sim.url, me, "openorders", {}, "GET")).body.openOrders as Msg[])).toHaveLength(0)
    const placed = await privateCall(sim.url, me, "sendorder", { orderType: "lmt", symbol: SYM, side: "buy", size: "0.1", limitPrice: "45000" })
    expect((placed.body.sendStatus as Msg).status).toBe("placed")
    await stop(sim)
    expect(existsSync(file)).toBe(true)

    // A well-formed file with a bad decimal is refused the same way.
    writeFileSync(file, readFileSync(file, "utf8").replace(/"size":"0\.1"/, "\"size\":\"lots\""))
    const errors2: string[] = []
    const again = await start({ onStateError: (m) => errors2.push(m) })
    expect(again.state.error).toMatch(/size is not a decimal/)
    expect(((await privateCall(again.url, me, "openorders", {}, "GET")).body.openOrders as Msg[])).toHaveLength(0)
  })
})
