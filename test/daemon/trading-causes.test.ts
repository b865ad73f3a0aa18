import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Stream } from "effect"
import { beforeAll, describe, expect, it } from "vitest"
import { makeSimulatedClock } from "../../src/actors/clock.js"
import { InspectionStream } from "../../src/actors/inspection.js"
import { MetricsRegistry } from "../../src/actors/metrics.js"
import { JournalIoError, type JournalService } from "../../src/actors/ports/journal.js"
import { openFileJournal, type FileJournal } from "../../src/adapters/journal/file/file-journal.js"
import { metricsOfCauses } from "../../src/daemon/cause-metrics.js"
import type { NodeStatus } from "../../src/daemon/control.js"
import { DaemonControlImpl } from "../../src/daemon/daemon-control.js"
import { EventJournal } from "../../src/daemon/event-journal.js"
import { OperatorActions } from "../../src/daemon/operator-actions.js"
import { PositionMismatches } from "../../src/daemon/position-mismatch.js"
import { restoreTradingNode } from "../../src/daemon/reconcile.js"
import { StrategyCatalog } from "../../src/daemon/strategy-catalog.js"
import { TradingNode } from "../../src/daemon/trading-node.js"
import { dec } from "../../src/domain/decimal.js"
import type { AccountId } from "../../src/domain/ids.js"
import { makeInstrument } from "../../src/domain/instrument.js"
import { TradingLedger } from "../../src/domain/ledger.js"
import { decodeEvent } from "../../src/domain/codec.js"
import { openPgliteStore, type PgliteStoreHandle } from "../../src/persistence/pglite.js"
import { Either } from "effect"

// Must-show 2: the trading state keeps its causes apart. A real EventJournal over the file
// journal (made to fail on demand: the outage), a real PGlite audit trail, the daemon's own
// control and operator actions — `status` is read as the CLI reads it.

const ACCOUNT = "acct" as AccountId
const instrument = Either.getOrThrow(
  makeInstrument({ id: "kraken-futures:PF_XBTUSD", kind: "linearPerpetual", base: "XBT", quote: "USD", tickSize: "0.5", lotSize: "0.001", minQty: "0.001", maxQty: "100", contractSize: "1", tradable: true })
)
let dir: string

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "troupe-causes-"))
})

const rig = async (name: string) => {
  const file: FileJournal = await Effect.runPromise(openFileJournal({ dir: join(dir, name), fsync: { kind: "never" } }))
  // One audit trail per journal: rows are keyed by journal offset.
  const store: PgliteStoreHandle = await openPgliteStore({ dataDir: undefined })
  await Effect.runPromise(store.store.migrate())
  const outage = { down: false }
  // The journal as the daemon sees it, with an outage switch: appends fail while it is down.
  // Only `append` is the journal's way in: the adapter's Promise and caller-turn paths are left out.
  const { appendNow: _appendNow, appendWritten: _appendWritten, ...effectOnly } = file
  const flaky: JournalService = {
    ...effectOnly,
    append: (topic, key, payload, options) =>
      outage.down ? Effect.fail(new JournalIoError({ op: "append", topic, cause: new Error("journal down (test outage)") })) : file.append(topic, key, payload, options)
  }
  const clock = makeSimulatedClock(1_800_000_000_000)
  const late: { trading?: TradingNode } = {}
  const journal = new EventJournal({ journal: flaky, store: store.store, projectEveryMs: 50, onCause: (cause, raised, why) => late.trading?.risk.automaticCause(cause, raised, why) })
  const metrics = new MetricsRegistry()
  const trading = new TradingNode({
    account: ACCOUNT,
    clock,
    instruments: [instrument],
    limits: { dailyLossLimit: dec("1000") },
    gateway: { account: ACCOUNT, send: () => undefined, subscribe: () => () => undefined },
    marketData: { subscribe: () => () => undefined, resync: () => undefined },
    journal,
    metrics,
    inspection: new InspectionStream(16),
    publish: () => undefined,
    onOrderEvent: () => undefined
  })
  late.trading = trading
  const ledger = new TradingLedger((id) => (id === instrument.id ? instrument : undefined))
  journal.onAppended = (e, o) => {
    if (o.topic === "orders") ledger.apply(e, o)
  }
  metricsOfCauses(metrics, ACCOUNT, trading)
  const mismatches = new PositionMismatches()
  const operatorActions = new OperatorActions({ account: ACCOUNT, now: clock.now, trading, journal, mismatches, adoptVenuePositions: () => Effect.succeed([]) })
  const control = new DaemonControlImpl({
    version: "test",
    startedAt: clock.now(),
    now: clock.now,
    nodeState: () => "running",
    root: () => undefined,
    trading,
    strategies: () => undefined,
    catalog: new StrategyCatalog(),
    metrics,
    inspection: new InspectionStream(16),
    account: ACCOUNT,
    operatorActions,
    mismatches
  }).control
  const status = (): Promise<NodeStatus> => Effect.runPromise(control.status())
  const causesOf = async () => (await status()).causes?.[ACCOUNT]?.map((c) => c.cause) ?? []
  const as = (who: string, why: string) => ({ who, why, client: "test 127.0.0.1" })
  const close = async () => {
    await Effect.runPromise(trading.stop())
    await journal.close()
    await Effect.runPromise(file.close())
    await Effect.runPromise(store.store.close())
  }
  return { store, ledger, file, outage, clock, journal, trading, metrics, control, status, causesOf, as, close }
}

const until = async (what: string, cond: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> => {
  const end = Date.now() + ms
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

describe("trading state causes", () => {
  it("an operator's halt survives a journal outage and the journal's recovery: still halted, by the operator", async () => {
    const r = await rig("journal-outage")
    await Effect.runPromise(r.control.halt(r.as("alice", "venue incident")))
    expect(await r.causesOf()).toEqual(["operator"])

    r.outage.down = true
    // Anything the node journals now fails: a resume attempt is refused (its record cannot be written).
    const refused = await Effect.runPromise(Effect.either(r.control.resume(r.as("mallory", "try while down"))))
    void r.journal.append({ _tag: "CancelAll", id: "probe-1", ts: r.clock.now(), source: "test", account: ACCOUNT })
    await until("the journal cause", async () => (await r.causesOf()).includes("journal"))
    expect((await r.status()).trading[ACCOUNT]).toBe("halted")
    expect(refused._tag === "Left" ? refused.left.code : "applied").toBe("Unavailable")

    r.outage.down = false
    await until("the journal's recovery", async () => !(await r.causesOf()).includes("journal"))
    const s = await r.status()
    expect(s.trading[ACCOUNT]).toBe("halted")
    expect(s.causes?.[ACCOUNT]).toEqual([{ cause: "operator", level: "halted", who: "operator:alice", why: "venue incident", since: expect.any(Number) }])
    expect(r.metrics.value("trading_cause_active", { account: ACCOUNT, cause: "operator" })).toBe(2)
    expect(r.metrics.value("trading_cause_active", { account: ACCOUNT, cause: "journal" })).toBe(0)

    // Only the operator lifts it: then the account is active.
    await Effect.runPromise(r.control.resume(r.as("alice", "incident over")))
    expect((await r.status()).trading[ACCOUNT]).toBe("active")
    expect(await r.causesOf()).toEqual([])
    await r.close()
  }, 90_000)

  it("a daily-loss breach and an operator's reduce-only are separate: lifting either leaves the other", async () => {
    const r = await rig("loss-and-reduce")
    r.trading.risk.onDailyPnl(dec("-1500"))
    await Effect.runPromise(r.control.reduce(r.as("bob", "flatten before the close")))
    let s = await r.status()
    expect(s.trading[ACCOUNT]).toBe("halted")
    expect(s.causes?.[ACCOUNT]?.map((c) => [c.cause, c.level, c.who])).toEqual([
      ["operator", "reducing", "operator:bob"],
      ["dailyLoss", "halted", "risk:daily-loss"]
    ])
    expect(s.causes?.[ACCOUNT]?.find((c) => c.cause === "dailyLoss")?.why).toBe("daily loss 1500 beyond limit 1000")

    // Lift the operator's: the loss still halts.
    await Effect.runPromise(r.control.resume(r.as("bob", "reduce no longer needed")))
    s = await r.status()
    expect([s.trading[ACCOUNT], s.causes?.[ACCOUNT]?.map((c) => c.cause)]).toEqual(["halted", ["dailyLoss"]])

    // Again both; now the loss recovers on its own: the operator's reduce-only stays.
    await Effect.runPromise(r.control.reduce(r.as("bob", "flatten again")))
    r.trading.risk.onDailyPnl(dec("-200"))
    s = await r.status()
    expect([s.trading[ACCOUNT], s.causes?.[ACCOUNT]?.map((c) => c.cause)]).toEqual(["reducing", ["operator"]])

    // And lifting the loss explicitly (an operator, audited) also leaves the reduce-only in place.
    r.trading.risk.onDailyPnl(dec("-1200"))
    expect(await r.causesOf()).toEqual(["operator", "dailyLoss"])
    await Effect.runPromise(r.control.resume({ ...r.as("carol", "loss reviewed, limit to be raised"), cause: "dailyLoss" }))
    s = await r.status()
    expect([s.trading[ACCOUNT], s.causes?.[ACCOUNT]?.map((c) => c.cause)]).toEqual(["reducing", ["operator"]])
    // Acknowledged: a further move of the same loss does not raise it again until it has recovered.
    r.trading.risk.onDailyPnl(dec("-1300"))
    expect(await r.causesOf()).toEqual(["operator"])

    // Every operator action is in the audit trail, with who, why, client, before and after.
    await until("the audit rows", async () => {
      await r.journal.project()
      const rows = await Effect.runPromise(r.store.store.queryAudit({ account: ACCOUNT, limit: 10_000 }))
      return rows.filter((x) => x.eventType === "OperatorAction").length >= 4
    })
    const rows = (await Effect.runPromise(r.store.store.queryAudit({ account: ACCOUNT, limit: 10_000 }))).filter((x) => x.eventType === "OperatorAction")
    const actions = rows.map((x) => x.payload as { action: string; who: string; client?: string; before?: Record<string, string>; after?: Record<string, string>; target?: string })
    const mine = actions.filter((a) => a.who === "bob" || a.who === "carol")
    expect(mine.map((a) => a.action)).toEqual(["reduce", "resume", "reduce", "lift"])
    expect(rows.every((x) => x.kind === "operator_action")).toBe(true)
    expect(mine[0]).toMatchObject({ client: "test 127.0.0.1", before: { state: "halted", causes: "dailyLoss:halted" }, after: { state: "halted", causes: "dailyLoss:halted, operator:reducing" } })
    expect(mine[1]).toMatchObject({ before: { state: "halted" }, after: { state: "halted", causes: "dailyLoss:halted" } })
    expect(mine[3]).toMatchObject({ target: "dailyLoss", before: { causes: "operator:reducing, dailyLoss:halted" }, after: { state: "reducing", causes: "operator:reducing" } })
    // The causes themselves are journaled (TradingStateChanged with cause, change and since).
    const changes = (await Effect.runPromise(r.store.store.queryAudit({ account: ACCOUNT, limit: 10_000 }))).filter((x) => x.eventType === "TradingStateChanged").map((x) => x.payload as { cause?: string; change?: string })
    expect(changes.slice(0, 2)).toEqual([expect.objectContaining({ cause: "dailyLoss", change: "raised" }), expect.objectContaining({ cause: "operator", change: "raised" })])
    await r.close()
  }, 90_000)

  it("the operator's cause comes back after a restart with who, why and since; automatic causes are re-detected", async () => {
    const r = await rig("restart")
    r.trading.risk.onDailyPnl(dec("-5000"))
    await Effect.runPromise(r.control.halt(r.as("dave", "weekend")))
    const before = (await r.status()).causes?.[ACCOUNT]?.find((c) => c.cause === "operator")
    // The ledger folds the journal's orders topic as each append completes, as the daemon does.
    await r.journal.durable()
    const ledger = r.ledger
    expect([...ledger.causes.keys()].sort()).toEqual(["dailyLoss", "operator"])
    const snap = TradingLedger.fromSnapshot(JSON.parse(JSON.stringify(ledger.toSnapshot())), () => instrument)
    await r.close()

    const again = await rig("restart-2")
    restoreTradingNode(again.trading, Either.getOrThrow(snap))
    const after = (await again.status()).causes?.[ACCOUNT]
    expect(after).toEqual([{ ...before, since: before?.since }])
    expect((await again.status()).trading[ACCOUNT]).toBe("halted")
    await again.close()
  }, 90_000)

  it("a trading core restart in a running daemon keeps every cause — the journal's outage, a mismatch, the operator's — each then lifted only by its own recovery or an operator", async () => {
    const r = await rig("core-restart")
    await Effect.runPromise(r.control.reduce(r.as("erin", "thin book")))
    r.trading.risk.automaticCause("reconciliation", true, "position differs from the venue's")
    r.outage.down = true
    void r.journal.append({ _tag: "CancelAll", id: "probe-2", ts: r.clock.now(), source: "test", account: ACCOUNT })
    await until("the journal cause", async () => (await r.causesOf()).includes("journal"))
    const before = (await r.status()).causes?.[ACCOUNT]
    expect(before?.map((c) => c.cause).sort()).toEqual(["journal", "operator", "reconciliation"])

    // The core crashes and is rebuilt from the ledger while the journal is still down: the
    // journal's own record of these causes may not have reached the ledger; the old core's are current.
    r.trading.crash("risk", "test", new Error("boom"))
    r.trading.restartCore((n) => void restoreTradingNode(n, r.ledger))
    expect((await r.status()).causes?.[ACCOUNT]).toEqual(before)
    expect((await r.status()).trading[ACCOUNT]).toBe("halted")

    // The journal recovers: its cause lifts; the others stay until an operator acts.
    r.outage.down = false
    await until("the journal's recovery", async () => !(await r.causesOf()).includes("journal"))
    expect((await r.causesOf()).sort()).toEqual(["operator", "reconciliation"])
    expect((await r.status()).trading[ACCOUNT]).toBe("reducing")

    // The rebuilt core's risk, portfolio and orders continue the old core's id sequences: the
    // journal holds no event id twice (ids are unique forever, core restarts included).
    r.trading.risk.onBook(instrument.id, dec("59999.5"), dec("60000.5"))
    r.trading.orders.handle({ _tag: "SubmitOrder", id: "i-1", ts: r.clock.now(), source: "test", account: ACCOUNT, strategy: "s" as never, instrument: instrument.id, clientOrderId: "s-1-1" as never, side: "sell", orderType: "limit", qty: dec("0.001"), price: dec("61000"), reduceOnly: true })
    await r.journal.durable()
    const ids: string[] = []
    const end = (await Effect.runPromise(r.file.endOffsets())).filter((o) => o.topic === "orders")
    for (const e of end)
      await Effect.runPromise(Stream.runForEach(Stream.take(r.file.read({ topic: "orders", partition: e.partition, offset: "0" }), Number(e.offset)), (rec) => Effect.sync(() => ids.push((Either.getOrThrow(decodeEvent(rec.payload)) as { id: string }).id))))
    expect(ids.length).toBeGreaterThan(3)
    expect(ids.filter((id, k) => ids.indexOf(id) !== k)).toEqual([])
    await r.close()
  }, 90_000)
})

