import type { VenueRead } from "../../src/actors/ports/request-budget.js"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Exit, Layer, Option, Scope } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { wallClock, WallClockLive } from "../../src/actors/clock.js"
import { InspectionStream } from "../../src/actors/inspection.js"
import { MetricsRegistry } from "../../src/actors/metrics.js"
import { marketDataLayer } from "../../src/actors/ports/market-data.js"
import { Snapshots } from "../../src/actors/ports/snapshots.js"
import { makeSupervisor, supervisorChild, type Supervisor, type TreeNode } from "../../src/actors/supervisor/index.js"
import { openFileJournal, type FileJournal } from "../../src/adapters/journal/file/file-journal.js"
import { makeKrakenMarketDataPort, makeKrakenRestClient, makeKrakenVenueGateway, mapInstruments, type KrakenMarketDataPort, type KrakenVenueGateway } from "../../src/adapters/venues/kraken-futures/index.js"
import { startSimulator, type Simulator } from "../../src/adapters/venues/simulator/server.js"
import { EventJournal } from "../../src/daemon/event-journal.js"
import { accountsSupervisor } from "../../src/daemon/trading-core-child.js"
import { TradingNode } from "../../src/daemon/trading-node.js"
import { dec } from "../../src/domain/decimal.js"
import type { SubmitOrder } from "../../src/domain/events/intents.js"
import type { AccountId, ClientOrderId, StrategyId } from "../../src/domain/ids.js"
import type { Instrument } from "../../src/domain/instrument.js"
import { TradingLedger } from "../../src/domain/ledger.js"
import { openPgliteStore, type PgliteStoreHandle } from "../../src/persistence/pglite.js"

// Must-show 7 of issue 14: two accounts' trading cores (real TradingNode: risk, orders,
// portfolio) under the real supervisor, trading the simulator over loopback through the real
// Kraken adapter. A throw inside account A's risk path crashes A's core; the `accounts`
// supervisor restarts it rebuilt from A's ledger (the fold of the journal's orders topic), venue
// reports that came while it was down are handled by the new core, and B trades on throughout.
const SECRET = Buffer.from("supervision-secret-supervision").toString("base64")
const A = "acct-a" as AccountId
const B = "acct-b" as AccountId
let sim: Simulator
let instrument: Instrument
let fileJournal: FileJournal
let store: PgliteStoreHandle

const until = async (what: string, ok: () => boolean, ms = 10_000): Promise<void> => {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (ok()) return
    await new Promise((r) => setTimeout(r, 10))
  }
  throw new Error(`timed out waiting for ${what}`)
}

beforeAll(async () => {
  sim = await startSimulator({
    port: 0,
    instruments: ["PF_XBTUSD"],
    accounts: [
      { name: A, apiKey: "key-a", apiSecret: SECRET },
      { name: B, apiKey: "key-b", apiSecret: SECRET }
    ],
    market: { kind: "none" }
  })
  const rest = makeKrakenRestClient({ baseUrl: `${sim.url}/derivatives`, credentials: { apiKey: "key-a", secret: SECRET } })
  instrument = mapInstruments(await Effect.runPromise(rest.instruments())).instruments.map((k) => k.instrument).find((i) => i.symbol === "PF_XBTUSD")!
  const dir = mkdtempSync(join(tmpdir(), "troupe-supervision-"))
  fileJournal = await Effect.runPromise(openFileJournal({ dir: join(dir, "journal"), fsync: { kind: "never" } }))
  store = await openPgliteStore({ dataDir: join(dir, "pglite") })
  await Effect.runPromise(store.store.migrate())
}, 60_000)

afterAll(async () => {
  await sim?.stop()
  await Effect.runPromise(fileJournal.close())
  await Effect.runPromise(store.store.close())
})

const findNode = (t: TreeNode, id: string): TreeNode | undefined => (t.id === id ? t : t.children.map((c) => findNode(c, id)).find((x) => x !== undefined))

describe("supervised trading cores, one per account", () => {
  it("a throw in one account's risk path restarts that account's core from the ledger, the other account's orders keep flowing, and the error is counted", async () => {
    const metrics = new MetricsRegistry()
    const logs: string[] = []
    const journal = new EventJournal({ journal: fileJournal, store: store.store, metrics })
    const ledgers = new Map<string, TradingLedger>([
      [A, new TradingLedger((id) => (id === instrument.id ? instrument : undefined))],
      [B, new TradingLedger((id) => (id === instrument.id ? instrument : undefined))]
    ])
    // As the daemon: the ledger folds the orders topic (here one ledger per account).
    journal.onAppended = (e, o) => {
      const account = (e as { account?: string }).account
      if (o.topic === "orders" && account !== undefined) ledgers.get(account)?.apply(e, o)
    }
    // A's restart waits for this gate, so the test can act while A's core is down.
    let openGate = (): void => undefined
    const gate = new Promise<void>((r) => (openGate = r))
    // One market data connection per account, as each account's instrument actors own their books.
    const feeds: KrakenMarketDataPort[] = []
    const gateways: KrakenVenueGateway[] = []
    const node = (account: AccountId, key: string): TradingNode => {
      const marketData = makeKrakenMarketDataPort({ url: sim.wsUrl })
      feeds.push(marketData)
      const rest = makeKrakenRestClient({ baseUrl: `${sim.url}/derivatives`, credentials: { apiKey: key, secret: SECRET } })
      // The core (and its risk actor) is rebuilt on a restart: the budget is looked up at call time.
      const budget = { reserve: (call: VenueRead) => built.risk.requestBudget.reserve(call) }
      const gateway = makeKrakenVenueGateway({ account, rest, budget, privateFeed: { url: sim.wsUrl, apiKey: key, secret: SECRET } })
      gateways.push(gateway)
      const built: TradingNode = new TradingNode({
        account,
        clock: wallClock,
        instruments: [instrument],
        limits: {},
        gateway,
        marketData,
        journal,
        metrics,
        inspection: new InspectionStream(16),
        publish: () => undefined,
        onOrderEvent: () => undefined,
        log: (m) => void logs.push(m)
      })
      return built
    }
    const a = node(A, "key-a")
    const b = node(B, "key-b")
    for (const g of gateways) g.start()
    for (const f of feeds) f.start()
    await until("private feeds", () => gateways.every((g) => g.counters().feedAuthenticated))

    const noSnapshots = { save: () => Effect.void, load: () => Effect.succeed(Option.none()) }
    const layer = Layer.mergeAll(Layer.succeed(Snapshots, noSnapshots), WallClockLive)
    const instruments = (id: string, n: TradingNode, feed: KrakenMarketDataPort) => {
      const spec = supervisorChild({ id, strategy: "one_for_one", children: n.instrumentActors.map((x) => x.host.child) })
      return { ...spec, start: spec.start.pipe(Effect.provide(marketDataLayer(feed))) }
    }
    const scope = Effect.runSync(Scope.make())
    const root: Supervisor<never> = (await Effect.runPromise(
      makeSupervisor({
        id: "root",
        strategy: "one_for_one",
        children: [
          instruments("instruments-a", a, feeds[0]!),
          instruments("instruments-b", b, feeds[1]!),
          accountsSupervisor([
            { node: a, ledger: () => ledgers.get(A)!, settle: () => gate.then(() => journal.durable()) },
            { node: b, ledger: () => ledgers.get(B)!, settle: () => journal.durable() }
          ])
        ]
      }).pipe(Scope.extend(scope), Effect.provide(layer))
    )) as Supervisor<never>
    try {
      let seq = 0
      const submit = (n: TradingNode, side: "buy" | "sell", price: string, qty = "0.01"): SubmitOrder => ({
        _tag: "SubmitOrder",
        id: `t-${++seq}`,
        ts: Date.now(),
        source: "test",
        account: n.account,
        strategy: "s" as StrategyId,
        instrument: instrument.id,
        clientOrderId: `s-${n.account}-${++seq}` as ClientOrderId,
        side,
        orderType: "limit",
        qty: dec(qty),
        price: dec(price),
        reduceOnly: false
      })
      const accepted = (n: TradingNode, cid: string) => /accepted|partiallyFilled/.test(n.orders.order(cid)?.status ?? "")
      // Another participant's two-sided book: mid 60 000. Wait until both risks have it.
      sim.admin.placeAs({ account: "mm", symbol: "PF_XBTUSD", side: "buy", orderType: "lmt", size: "1", limitPrice: "59990" })
      sim.admin.placeAs({ account: "mm", symbol: "PF_XBTUSD", side: "sell", orderType: "lmt", size: "1", limitPrice: "60010" })
      // A's order is the best bid, so the venue's later sell at its price fills it first.
      const first = submit(a, "buy", "59995")
      await until("books reach risk", () => a.instrumentActors.every((x) => /live|stale/.test(x.state() ?? "")) && b.instrumentActors.every((x) => /live|stale/.test(x.state() ?? ""))).catch((e: unknown) => {
        throw new Error(`${String(e)}: ${JSON.stringify([...a.instrumentActors, ...b.instrumentActors].map((x) => [x.state(), x.stats]))}`)
      })
      await new Promise((r) => setTimeout(r, 200))
      expect((await a.intentGateway.submit(first))._tag).toBe("Approved")
      const b1 = submit(b, "buy", "59900")
      expect((await b.intentGateway.submit(b1))._tag).toBe("Approved")
      await until("both resting", () => accepted(a, first.clientOrderId) && accepted(b, b1.clientOrderId))
      await journal.durable()
      expect(ledgers.get(A)!.orders.get(first.clientOrderId)?.acknowledged).toBe(true)

      // The fault: A's risk throws while deciding.
      const crashedRisk = a.risk
      ;(crashedRisk as unknown as { decide: () => never }).decide = () => {
        throw new Error("injected: a risk check blew up")
      }
      const doomed = submit(a, "buy", "59800")
      await expect(a.intentGateway.submit(doomed)).rejects.toMatchObject({ _tag: "TradingCoreUnavailable", account: A })
      expect(a.down).toBe(true)
      await expect(a.intentGateway.submit(submit(a, "buy", "59800"))).rejects.toMatchObject({ _tag: "TradingCoreUnavailable", reason: "trading core restarting" })

      // While A is down: the venue fills A's resting order (the report is held for the new core),
      // and B's orders keep flowing.
      sim.admin.placeAs({ account: "mm", symbol: "PF_XBTUSD", side: "sell", orderType: "ioc", size: "0.01", limitPrice: "59995" })
      const bWhileDown = [submit(b, "buy", "59850"), submit(b, "sell", "60150")]
      for (const o of bWhileDown) expect((await b.intentGateway.submit(o))._tag).toBe("Approved")
      await until("B's orders accepted while A is down", () => bWhileDown.every((o) => accepted(b, o.clientOrderId)))
      expect(a.down).toBe(true)

      openGate()
      await until("A's core restarted", () => !a.down && a.restarts === 1)
      // A new core, given the ledger: A's resting order is live again in orders and risk, and
      // the fill that came while it was down was handled by it.
      expect(a.risk).not.toBe(crashedRisk)
      await until("the held fill reaches the new core", () => a.orders.order(first.clientOrderId)?.status === "filled")
      expect(a.portfolio.position(instrument.id)?.quantity.toString()).toBe("0.01")
      expect(a.risk.openOrderCount).toBe(0)
      expect(a.orders.order(doomed.clientOrderId)).toBeUndefined()
      // ... and trades again.
      const after = submit(a, "buy", "59700")
      expect((await a.intentGateway.submit(after))._tag).toBe("Approved")
      await until("A trades after the restart", () => accepted(a, after.clientOrderId))
      expect(a.risk.openOrderCount).toBe(1)

      // B was never touched.
      expect(b.restarts).toBe(0)
      expect(b.risk.openOrderCount).toBe(3)
      // Observed, counted, logged once with its context.
      expect(metrics.value("trading_core_errors_total", { account: A, where: "risk/orders intent" })).toBe(1)
      expect(metrics.value("trading_core_errors_total", { account: B, where: "risk/orders intent" })).toBeUndefined()
      expect(metrics.value("trading_core_restarts_total", { account: A })).toBe(1)
      const crashLogs = logs.filter((l) => l.includes("injected: a risk check blew up"))
      expect(crashLogs.length).toBe(1)
      expect(crashLogs[0]).toContain(`trading core of account ${A} failed in risk/orders intent (SubmitOrder ${doomed.clientOrderId})`)
      const tree = await Effect.runPromise(root.tree)
      expect(findNode(tree, `account-${A}`)?.restarts).toBe(1)
      expect(findNode(tree, `account-${B}`)?.restarts).toBe(0)
      expect(findNode(tree, "accounts")?.state).toBe("running")
    } finally {
      await Effect.runPromise(Scope.close(scope, Exit.void))
      await Effect.runPromise(a.stop())
      await Effect.runPromise(b.stop())
      await Promise.all([...gateways.map((g) => g.stop()), ...feeds.map((f) => f.stop())])
      await journal.close()
    }
  }, 60_000)
})
