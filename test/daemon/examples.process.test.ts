import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { api, startDaemon, until, waitReady, writeConfig, type DaemonProcess } from "./daemon-harness.js"

// Each example strategy trades in the daemon against the simulator (embedded defaults, configured
// strategies): the market maker quotes both sides, the momentum taker and the pairs strategy get
// their orders filled (the default daemon test sees the market maker filled too). The same three run in replay in test/replay/examples.replay.test.ts.

const home = mkdtempSync(join(tmpdir(), "troupe-examples-"))
let daemon: DaemonProcess | undefined

afterAll(() => {
  if (daemon !== undefined && daemon.child.exitCode === null) daemon.child.kill("SIGKILL")
})

interface OrderView {
  readonly strategy?: string
  readonly state: string
  readonly filledQty: string
}

describe("the example strategies in the daemon", () => {
  it("each places orders and gets fills against the simulator", async () => {
    const config = writeConfig(home, {
      strategies: [
        {
          id: "as-sol",
          kind: "avellaneda-stoikov",
          instruments: ["kraken-futures:PF_SOLUSD"],
          params: { instrument: "kraken-futures:PF_SOLUSD", gamma: 0.1, k: 1.5, horizonMs: 60_000, sigmaWindow: 20, orderQty: "1", maxInventory: "5", requoteTicks: 2 }
        },
        {
          id: "mo-eth",
          kind: "momentum-breakout",
          instruments: ["kraken-futures:PF_ETHUSD"],
          params: { instrument: "kraken-futures:PF_ETHUSD", lookback: 5, orderQty: "0.01", maxPosition: "0.05", cooldownMs: 500 }
        },
        {
          id: "pairs",
          kind: "pairs-zscore",
          instruments: ["kraken-futures:PF_XBTUSD", "kraken-futures:PF_ETHUSD"],
          params: { legA: "kraken-futures:PF_XBTUSD", legB: "kraken-futures:PF_ETHUSD", window: 10, entryZ: 0.5, exitZ: 0.1, qtyA: "0.001", qtyB: "0.01" }
        }
      ]
    })
    daemon = await startDaemon(home, config)
    await waitReady(daemon, 120_000)
    const d = daemon
    // The takers (momentum, pairs) must get fills; the market maker must quote both sides (its
    // fills depend on the synthetic takers reaching its price, which can take minutes on SOL).
    const activity = async () => {
      const orders = await api<Array<OrderView & { side: string }>>(d, home, "/api/orders")
      const filled = (s: string) => orders.some((o) => o.strategy === s && o.filledQty !== "0")
      const quoted = (s: string, side: string) => orders.some((o) => o.strategy === s && o.side === side)
      return { momentum: filled("mo-eth"), pairs: filled("pairs"), makerBid: quoted("as-sol", "buy"), makerAsk: quoted("as-sol", "sell") }
    }
    const seen = await until(
      "fills for the takers and two-sided quotes from the market maker",
      async () => {
        const a = await activity()
        return Object.values(a).every(Boolean) ? a : undefined
      },
      120_000,
      () => d.stderr
    )
    expect(seen).toEqual({ momentum: true, pairs: true, makerBid: true, makerAsk: true })
    d.child.kill("SIGTERM")
    expect(await d.exit).toBe(0)
  }, 240_000)
})
