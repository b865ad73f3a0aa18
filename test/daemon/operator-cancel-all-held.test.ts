import { Effect, Either } from "effect"
import { expect, it } from "vitest"
import { makeSimulatedClock } from "../../src/actors/clock.js"
import { InspectionStream } from "../../src/actors/inspection.js"
import { MetricsRegistry } from "../../src/actors/metrics.js"
import type { ApprovedAction } from "../../src/actors/risk/approval.js"
import { EventJournal } from "../../src/daemon/event-journal.js"
import { TradingNode } from "../../src/daemon/trading-node.js"
import { dec } from "../../src/domain/decimal.js"
import type { AccountId } from "../../src/domain/ids.js"
import { makeInstrument } from "../../src/domain/instrument.js"
import { makeMemoryStore } from "../../src/persistence/memory-store.js"
import { makeMemoryJournal } from "../../src/simulation/memory-journal.js"

// Found while driving the daemon's OperatorActions in the simulation: an operator's cancel-all
// (alone, or with a halt) made while the account's trading core was down went to the stopped
// core's order manager, which dropped it. It is now held by the trading node, like the halt, and
// sent by the rebuilt core.

const ACCOUNT = "acct" as AccountId
const instrument = Either.getOrThrow(
  makeInstrument({ id: "kraken-futures:PF_XBTUSD", kind: "linearPerpetual", base: "XBT", quote: "USD", tickSize: "0.5", lotSize: "0.001", minQty: "0.001", maxQty: "100", contractSize: "1", tradable: true })
)

it("an operator's cancel-all while the trading core is down is held and sent by the rebuilt core", async () => {
  const clock = makeSimulatedClock(1_800_000_000_000)
  const store = makeMemoryStore()
  await Effect.runPromise(store.migrate())
  const journal = new EventJournal({ journal: makeMemoryJournal(clock.now).session(), store, setTimer: clock.setTimer, now: clock.now })
  const sent: ApprovedAction[] = []
  const trading = new TradingNode({
    account: ACCOUNT,
    clock,
    instruments: [instrument],
    limits: { dailyLossLimit: dec("1000") },
    gateway: { account: ACCOUNT, send: (a) => sent.push(a), subscribe: () => () => undefined },
    marketData: { subscribe: () => () => undefined, resync: () => undefined },
    journal,
    metrics: new MetricsRegistry(),
    inspection: new InspectionStream(16),
    publish: () => undefined,
    onOrderEvent: () => undefined,
    log: () => undefined
  })
  const cancelAll = (id: string) => ({ _tag: "CancelAll" as const, id, ts: clock.now(), source: "operator:alice", account: ACCOUNT })
  expect(trading.operatorCancelAll(cancelAll("op-1"))).toBe("approved")
  expect(sent.map((a) => a.action.kind)).toEqual(["cancelAll"])
  trading.crash("test", "injected", new Error("boom"))
  expect(trading.down).toBe(true)
  expect(trading.operatorCancelAll(cancelAll("op-2"))).toBe("held")
  expect(sent).toHaveLength(1)
  trading.restartCore(() => undefined)
  expect(sent.map((a) => a.action.kind)).toEqual(["cancelAll", "cancelAll"])
  await Effect.runPromise(trading.stop())
  await journal.close()
})
