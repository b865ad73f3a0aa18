import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Option } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { JournalOffset } from "../../src/actors/ports/journal.js"
import { openFileJournal, type FileJournal } from "../../src/adapters/journal/file/file-journal.js"
import { describeUndecodable, ledgerActorId, recoverLedger, saveLedgerSnapshot, type UndecodableRecord } from "../../src/daemon/recovery.js"
import { keyOf } from "../../src/daemon/event-journal.js"
import { encodeEvent } from "../../src/domain/codec.js"
import { dec } from "../../src/domain/decimal.js"
import { topicOf, type CanonicalEvent } from "../../src/domain/events/index.js"
import { LEDGER_VERSION, TradingLedger } from "../../src/domain/ledger.js"
import { openPgliteStore, type PgliteStoreHandle } from "../../src/persistence/pglite.js"
import { ACCOUNT, eth, xbt } from "../actors/risk/fixtures.js"

// Recovery of the trading ledger: from the journal alone, from a snapshot plus the journal after
// its offsets, and from a snapshot this build cannot read (another ledger version, or garbage) —
// all three give the same orders, positions, fills and trading state. The audit projection is
// handed everything after its high watermark.

const instruments = (id: string) => [xbt, eth].find((i) => i.id === id)
let journal: FileJournal
let store: PgliteStoreHandle
const events: CanonicalEvent[] = []

const seeded = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

/** A seeded order flow: submits, acks, partial and full fills (some repeated), cancels, one never acknowledged. */
const orderFlow = (n: number): CanonicalEvent[] => {
  const rnd = seeded(42)
  const out: CanonicalEvent[] = []
  let ts = 1_700_000_000_000
  const env = (source: string) => ({ id: `${source}-${out.length}`, ts: ++ts, source })
  for (let i = 0; i < n; i++) {
    const inst = rnd() < 0.5 ? xbt : eth
    const side = rnd() < 0.5 ? ("buy" as const) : ("sell" as const)
    const qty = inst === xbt ? dec("0.004") : dec("0.2")
    const price = inst === xbt ? dec(100_000 + Math.floor(rnd() * 100)).div(2) : dec(300_000 + Math.floor(rnd() * 100)).div(100)
    const cid = `mm-1-r1-${i.toString(36)}`
    const ref = { account: ACCOUNT, instrument: inst.id, clientOrderId: cid }
    out.push({ _tag: "OrderSubmitted", ...env("orders"), ...ref, strategy: "mm-1", side, orderType: "limit", qty, price, reduceOnly: false } as never)
    const fate = rnd()
    if (fate < 0.05) continue // never acknowledged: the process died right after sending
    out.push({ _tag: "OrderAccepted", ...env("gw"), ...ref, venueOrderId: `v-${i}` } as never)
    const fill = (k: number, q: string) => {
      const e = { _tag: "OrderFilled", ...env("gw"), ...ref, venueOrderId: `v-${i}`, fillId: `f-${i}-${k}`, side, price, qty: dec(q), fee: dec("0.01"), feeCurrency: "USD", liquidity: "maker" } as never
      out.push(e)
      if (rnd() < 0.2) out.push({ ...(e as object), id: `dup-${out.length}` } as never) // the venue repeats it (feed snapshot)
    }
    if (fate < 0.4) fill(0, qty.toString())
    else if (fate < 0.6) {
      fill(0, qty.div(2).toString())
      out.push({ _tag: "OrderCancelRequested", ...env("orders"), ...ref } as never)
      out.push({ _tag: "OrderCanceled", ...env("gw"), ...ref } as never)
    } else if (fate < 0.8) {
      out.push({ _tag: "OrderCanceled", ...env("gw"), ...ref } as never)
    } else if (fate < 0.9) fill(0, qty.div(4).toString()) // partially filled, still open
    // else: open, untouched
    if (i === Math.floor(n / 2)) out.push({ _tag: "TradingStateChanged", ...env("risk"), account: ACCOUNT, from: "active", to: "halted", by: "operator:alice", why: "lunch" } as never)
  }
  return out
}

const append = async (e: CanonicalEvent): Promise<JournalOffset> =>
  Effect.runPromise(journal.append(topicOf[e._tag], keyOf(e), encodeEvent(e), { durable: false }))

const comparable = (l: TradingLedger) => {
  const s = l.toSnapshot()
  return { orders: [...s.orders].sort((a, b) => String((a.submitted as { clientOrderId: string }).clientOrderId).localeCompare(String((b.submitted as { clientOrderId: string }).clientOrderId))), positions: s.positions, tradingState: s.tradingState, lastFillTs: s.lastFillTs }
}

const recover = (reprojected: JournalOffset[] = []) =>
  Effect.runPromise(recoverLedger({ actorId: ledgerActorId(ACCOUNT), journal, store: store.store, instruments, reproject: (_, o) => void reprojected.push(o), now: Date.now }))

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), "troupe-recovery-"))
  journal = await Effect.runPromise(openFileJournal({ dir: join(dir, "journal"), fsync: { kind: "never" } }))
  store = await openPgliteStore({ dataDir: join(dir, "pglite") })
  await Effect.runPromise(store.store.migrate())
  events.push(...orderFlow(400))
}, 60_000)

afterAll(async () => {
  await Effect.runPromise(journal.close())
  await Effect.runPromise(store.store.close())
})

describe("ledger recovery", () => {
  let fromJournal: ReturnType<typeof comparable>
  const offsets: JournalOffset[] = []

  it("rebuilds orders, positions, fills and the trading state from a snapshot plus the journal after it", async () => {
    for (const e of events.slice(0, Math.floor(events.length / 2))) offsets.push(await append(e))
    // The live fold (what the daemon keeps as it appends) snapshotted half way.
    const live = new TradingLedger(instruments)
    events.slice(0, offsets.length).forEach((e, i) => live.apply(e, offsets[i]))
    await Effect.runPromise(saveLedgerSnapshot(store.store, ledgerActorId(ACCOUNT), live, 1))
    for (const e of events.slice(offsets.length)) offsets.push(await append(e))

    // The snapshot plus the journal after it equals the fold of everything.
    const r = await recover()
    expect(r.snapshot).toBe("snapshot")
    fromJournal = comparable(r.ledger)
    const full = new TradingLedger(instruments)
    events.forEach((e) => full.apply(e))
    expect(fromJournal).toEqual(comparable(full))

    // Hand-checked facts of the flow: duplicates counted once, the halt survives, positions sum the fills.
    const fills = new Map<string, { side: string; qty: string; instrument: string }>()
    for (const e of events) if (e._tag === "OrderFilled") fills.set(e.fillId, { side: e.side, qty: e.qty.toString(), instrument: e.instrument })
    const net = (id: string) => [...fills.values()].filter((f) => f.instrument === id).reduce((a, f) => (f.side === "buy" ? a.plus(f.qty) : a.minus(f.qty)), dec(0))
    expect(r.ledger.positions.get(xbt.id)?.quantity.toString()).toBe(net(xbt.id).toString())
    expect(r.ledger.positions.get(eth.id)?.quantity.toString()).toBe(net(eth.id).toString())
    expect(r.ledger.tradingState).toEqual({ state: "halted", by: "operator:alice", why: "lunch" })
    // The next run must use client order ids above every one sent (ids are `strategy-run-seq`).
    expect(r.ledger.maxRun).toBe(Number.parseInt("r1", 36))
    const unacked = [...r.ledger.orders.values()].filter((o) => !o.acknowledged)
    expect(unacked.length).toBeGreaterThan(0)
    expect([...r.ledger.orders.values()].every((o) => o.filled.lessThan(o.qty))).toBe(true)
  })

  it("replays only the journal after the snapshot's offsets", async () => {
    const r = await recover()
    expect(r.replayed).toBe(events.length - Math.floor(events.length / 2))
  })

  it("rebuilds from the journal when the snapshot is of an older ledger version", async () => {
    const saved = Option.getOrThrow(await Effect.runPromise(store.store.loadSnapshot(ledgerActorId(ACCOUNT))))
    await Effect.runPromise(store.store.saveSnapshot({ ...saved, machineVersion: "ledger-v0" }))
    const r = await recover()
    expect(r.snapshot).toMatch(/rebuilt from the journal \(snapshot of version ledger-v0, this build reads ledger-v1\)/)
    expect(r.replayed).toBe(events.length)
    expect(comparable(r.ledger)).toEqual(fromJournal)
  })

  it("rebuilds from the journal when the snapshot does not decode", async () => {
    await Effect.runPromise(store.store.saveSnapshot({ actorId: ledgerActorId(ACCOUNT), machineVersion: LEDGER_VERSION, snapshot: { version: LEDGER_VERSION, orders: [{ submitted: { _tag: "nonsense" } }] }, offsets: [], takenAt: 2 }))
    const r = await recover()
    expect(r.snapshot).toMatch(/rebuilt from the journal/)
    expect(comparable(r.ledger)).toEqual(fromJournal)
  })

  it("hands every journaled record after the audit high watermark to the projection", async () => {
    const reprojected: JournalOffset[] = []
    await recover(reprojected)
    // Nothing was projected yet: every audited topic is re-projected from the start.
    expect(reprojected.length).toBe(offsets.filter((o) => o.topic === "orders" || o.topic === "control").length)
  })

  it("names every record that does not decode by topic, partition and offset, and folds the rest", async () => {
    const bad = await Effect.runPromise(journal.append("orders", `${ACCOUNT}/${xbt.id}`, new Uint8Array([0xc1, 0x00, 0xff]), { durable: false }))
    const seen: UndecodableRecord[] = []
    const r = await Effect.runPromise(
      recoverLedger({ actorId: ledgerActorId(ACCOUNT), journal, store: store.store, instruments, reproject: () => undefined, now: Date.now, onUndecodable: (u) => void seen.push(u) })
    )
    expect(r.undecodable).toBe(1)
    expect(r.undecodableRecords).toEqual(seen)
    expect(seen).toEqual([{ topic: "orders", partition: bad.partition, offset: bad.offset, key: `${ACCOUNT}/${xbt.id}`, error: expect.any(String) }])
    expect(describeUndecodable(seen[0]!)).toMatch(new RegExp(`^orders/${bad.partition}@${bad.offset} \\(key ${ACCOUNT}/`))
    // Everything that decodes is still folded: the ledger is the same as before the bad record.
    expect(comparable(r.ledger)).toEqual(fromJournal)
  })
})
