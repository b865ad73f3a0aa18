import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Stream } from "effect"
import { InspectionStream } from "../src/actors/inspection.js"
import { MetricsRegistry } from "../src/actors/metrics.js"
import { makeSimulatedClock } from "../src/actors/clock.js"
import type { JournalEntry, JournalOffset } from "../src/actors/ports/journal.js"
import { openFileJournal } from "../src/adapters/journal/file/file-journal.js"
import { EventJournal, keyOf } from "../src/daemon/event-journal.js"
import { restoreTradingNode } from "../src/daemon/reconcile.js"
import { ledgerActorId, recoverLedger, saveLedgerSnapshot } from "../src/daemon/recovery.js"
import { TradingNode } from "../src/daemon/trading-node.js"
import { decodeEvent, encodeEvent } from "../src/domain/codec.js"
import { dec } from "../src/domain/decimal.js"
import type { CanonicalEvent } from "../src/domain/events/index.js"
import type { AccountId } from "../src/domain/ids.js"
import { makeInstrument, type Instrument } from "../src/domain/instrument.js"
import { TradingLedger } from "../src/domain/ledger.js"
import { openPgliteStore } from "../src/persistence/pglite.js"
import { Either } from "effect"
import { round, type Bench, type Figure } from "./harness.js"

// recovery.1m: seconds from start to live (journal and store opened, ledger snapshot loaded, the
// journal after it replayed, orders/positions/risk restored into a trading node) for a journal of
// 999,999 order events with a ledger snapshot every 10,000 events — so the last 9,999 are replayed,
// the worst case of that policy. Venue reconciliation is not included (it is network round trips
// to the venue, not work of ours). Baseline in the same run: the full rebuild from offset 0 (what
// a snapshot-less or unreadable-snapshot start costs).
//
// replay.journal: events/s reading the whole journal back and decoding every event (the replay
// path of recovery and of `troupe replay --from <journal>`), against decoding the same payloads
// held in memory (no I/O) in the same run.

const EVENTS = 999_999
const SNAPSHOT_EVERY = 10_000
const ACCOUNT = "bench" as AccountId
const instrument = (symbol: string, tick: string, lot: string): Instrument =>
  Either.getOrThrow(makeInstrument({ id: `kraken-futures:${symbol}`, kind: "linearPerpetual", base: symbol.slice(3, 6), quote: "USD", tickSize: tick, lotSize: lot, minQty: lot, maxQty: "1000", contractSize: "1", tradable: true }))
const instruments = [instrument("PF_XBTUSD", "0.5", "0.001"), instrument("PF_ETHUSD", "0.01", "0.01"), instrument("PF_SOLUSD", "0.01", "0.1")]
const byId = (id: string) => instruments.find((i) => i.id === id)

/** A market maker's order flow: submit, accept, then a fill or a cancel a little later; ~100 orders live at any time. */
function* orderFlow(): Generator<CanonicalEvent> {
  let n = 0
  let ts = 1_700_000_000_000
  const live: Array<{ cid: string; inst: Instrument; side: "buy" | "sell"; qty: string; price: string; vid: string }> = []
  const env = (source: string) => ({ id: `${source}-${n}`, ts: ++ts, source })
  while (n < EVENTS) {
    if (live.length < 100) {
      const inst = instruments[n % 3]!
      const o = { cid: `mm-r1-${n.toString(36)}`, inst, side: n % 2 === 0 ? ("buy" as const) : ("sell" as const), qty: inst.lotSize.times(4).toString(), price: inst.tickSize.times(100_000 + (n % 50)).toString(), vid: `v${n}` }
      const ref = { account: ACCOUNT, instrument: inst.id, clientOrderId: o.cid }
      n++
      yield { _tag: "OrderSubmitted", ...env("orders"), ...ref, strategy: "mm", side: o.side, orderType: "limit", qty: dec(o.qty), price: dec(o.price), reduceOnly: false } as never
      n++
      yield { _tag: "OrderAccepted", ...env("gw"), ...ref, venueOrderId: o.vid } as never
      live.push(o)
    } else {
      const o = live.shift()!
      const ref = { account: ACCOUNT, instrument: o.inst.id, clientOrderId: o.cid }
      n++
      if (n % 2 === 0) {
        yield { _tag: "OrderFilled", ...env("gw"), ...ref, venueOrderId: o.vid, fillId: `f${n}`, side: o.side, price: dec(o.price), qty: dec(o.qty), fee: dec("0.01"), feeCurrency: "USD", liquidity: "maker" } as never
        n++
        yield { _tag: "PositionChanged", ...env("portfolio"), account: ACCOUNT, instrument: o.inst.id, qty: dec(0), avgPrice: dec(0), realizedPnl: dec(0), fillId: `f${n - 1}` } as never
      } else yield { _tag: "OrderCanceled", ...env("gw"), ...ref } as never
    }
  }
}

const noGateway = { account: ACCOUNT, send: () => undefined, subscribe: () => () => undefined }
const noMarketData = { subscribe: () => () => undefined, resync: () => undefined }

export const benches: Bench[] = [
  {
    name: "recovery.1m",
    run: async (): Promise<Figure[]> => {
      const dir = mkdtempSync(join(tmpdir(), "troupe-bench-recovery-"))
      try {
        const storeDir = join(dir, "pglite")
        const journalDir = join(dir, "journal")
        // ---- build the journal and the snapshots (not measured) ----
        const payloads: Uint8Array[] = []
        {
          const journal = await Effect.runPromise(openFileJournal({ dir: journalDir, fsync: { kind: "never" } }))
          const { store } = await openPgliteStore({ dataDir: storeDir })
          await Effect.runPromise(store.migrate())
          const ledger = new TradingLedger(byId)
          let batch: { event: CanonicalEvent; entry: JournalEntry }[] = []
          const flush = async () => {
            const offsets = await Effect.runPromise(journal.appendBatch("orders", batch.map((b) => b.entry), { durable: false }))
            batch.forEach((b, i) => ledger.apply(b.event, offsets[i] as JournalOffset))
            batch = []
          }
          for (const event of orderFlow()) {
            const payload = encodeEvent(event)
            payloads.push(payload)
            batch.push({ event, entry: { key: keyOf(event), payload } })
            if (batch.length === 1_000) await flush()
            if (ledger.applied > 0 && ledger.applied % SNAPSHOT_EVERY === 0 && batch.length === 0) await Effect.runPromise(saveLedgerSnapshot(store, ledgerActorId(ACCOUNT), ledger, Date.now()))
          }
          await flush()
          // The audit projection is caught up (as it is after a normal run): one row at the end.
          const end = (await Effect.runPromise(journal.endOffsets())).find((o) => o.topic === "orders")!
          await Effect.runPromise(store.appendAudit([{ source: { ...end, offset: (BigInt(end.offset) - 1n).toString() }, eventId: "bench-last", eventType: "OrderCanceled", kind: "venue_reply", ts: 0, account: ACCOUNT, instrument: null, clientOrderId: null, payload: {} }]))
          await Effect.runPromise(journal.close())
          await Effect.runPromise(store.close())
        }

        // ---- measured: start → live ----
        const recoverOnce = async (useSnapshot: boolean): Promise<{ seconds: number; replayed: number; orders: number }> => {
          const t0 = performance.now()
          const journal = await Effect.runPromise(openFileJournal({ dir: journalDir, fsync: { kind: "never" } }))
          const { store } = await openPgliteStore({ dataDir: storeDir })
          await Effect.runPromise(store.migrate())
          const events = new EventJournal({ journal, store })
          const actorId = useSnapshot ? ledgerActorId(ACCOUNT) : "no-such-snapshot"
          const r = await Effect.runPromise(recoverLedger({ actorId, journal, store, instruments: byId, reproject: (e, o) => events.reproject(e, o), now: Date.now }))
          const clock = makeSimulatedClock(0)
          const trading = new TradingNode({
            account: ACCOUNT,
            clock,
            instruments,
            limits: { maxOpenOrders: 10_000 },
            gateway: noGateway,
            marketData: noMarketData,
            journal: events,
            metrics: new MetricsRegistry(),
            inspection: new InspectionStream(16),
            publish: () => undefined,
            onOrderEvent: () => undefined
          })
          const orders = restoreTradingNode(trading, r.ledger)
          const seconds = (performance.now() - t0) / 1000
          await Effect.runPromise(trading.stop())
          await events.close().catch(() => undefined)
          await Effect.runPromise(journal.close())
          await Effect.runPromise(store.close())
          return { seconds, replayed: r.replayed, orders }
        }
        const full = await recoverOnce(false)
        const runs = [await recoverOnce(true), await recoverOnce(true), await recoverOnce(true)]
        const best = runs.reduce((a, b) => (a.seconds <= b.seconds ? a : b))

        // ---- replay.journal: read + decode everything ----
        const journal = await Effect.runPromise(openFileJournal({ dir: journalDir, fsync: { kind: "never" } }))
        let t0 = performance.now()
        const records = await Effect.runPromise(Stream.runFold(journal.read({ topic: "orders", partition: 0, offset: "0" }), 0, (n, r) => (Either.isRight(decodeEvent(r.payload)) ? n + 1 : n)))
        const readRate = records / ((performance.now() - t0) / 1000)
        await Effect.runPromise(journal.close())
        t0 = performance.now()
        let decoded = 0
        for (const p of payloads) if (Either.isRight(decodeEvent(p))) decoded++
        const decodeRate = decoded / ((performance.now() - t0) / 1000)
        return [
          {
            name: "recovery.1m",
            value: round(best.seconds, 3),
            unit: "seconds",
            baseline: "full rebuild from offset 0 (no snapshot)",
            baseline_value: round(full.seconds, 3),
            ratio: round(best.seconds / full.seconds, 3),
            journal_events: EVENTS,
            replayed_after_snapshot: best.replayed,
            live_orders_restored: best.orders,
            goal_seconds: 3
          },
          {
            name: "replay.journal",
            value: Math.round(readRate),
            unit: "events/s",
            baseline: "decodeEvent of the same payloads in memory",
            baseline_value: Math.round(decodeRate),
            ratio: round(readRate / decodeRate, 3),
            events: records
          }
        ]
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    }
  }
]
