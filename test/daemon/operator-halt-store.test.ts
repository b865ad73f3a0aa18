import { Effect, Either } from "effect"
import { expect, it } from "vitest"
import { makeSimulatedClock } from "../../src/actors/clock.js"
import type { CanonicalEvent } from "../../src/domain/events/index.js"
import type { AccountId } from "../../src/domain/ids.js"
import type { LedgerCause } from "../../src/domain/ledger.js"
import { OperatorActions } from "../../src/daemon/operator-actions.js"
import { loadOperatorCause, newerOperatorCause } from "../../src/daemon/operator-cause-store.js"
import { PositionMismatches } from "../../src/daemon/position-mismatch.js"
import type { TradingNode } from "../../src/daemon/trading-node.js"
import { makeMemoryStore } from "../../src/persistence/memory-store.js"
import { faultyStore } from "../../src/simulation/faulty-store.js"

// An operator's halt must never be lost once acknowledged. During a journal outage its record
// waits in the journal's in-memory backlog, which a crash loses: the halt is written to the store
// too, and the answer waits until one of them has it. Recovery takes the newer of the two.

const ACCOUNT = "acct" as AccountId
const flush = async (): Promise<void> => {
  for (let k = 0; k < 10; k++) await new Promise((r) => setImmediate(r))
}

const rig = async () => {
  const clock = makeSimulatedClock(1_000_000)
  const memory = makeMemoryStore()
  await Effect.runPromise(memory.migrate())
  const faults = { storeDown: false, journalDown: false }
  const store = faultyStore(memory, { refuse: () => (faults.storeDown ? "down" : undefined), stall: () => undefined, setTimer: clock.setTimer })
  // The journal's append resolves once the record is durable: never while it is down (the backlog).
  const backlog: Array<() => void> = []
  const journal = {
    append: (_e: CanonicalEvent) => (faults.journalDown ? new Promise<unknown>((resolve) => backlog.push(() => resolve(undefined))) : Promise.resolve(undefined)),
    get backlogSize() {
      return backlog.length
    }
  }
  const state = { status: "active", controls: [] as string[] }
  const trading = {
    risk: { causes: () => [], get status() {
      return state.status
    } },
    control: (e: { _tag: string }) => {
      state.controls.push(e._tag)
      state.status = e._tag === "Halt" ? "halted" : e._tag === "Resume" ? "active" : "reducing"
    },
    orders: { liveOrders: 0 },
    operatorCancelAll: () => "approved"
  } as unknown as TradingNode
  const actions = new OperatorActions({ account: ACCOUNT, now: clock.now, trading, journal, mismatches: new PositionMismatches(), adoptVenuePositions: () => Effect.succeed([]), setTimer: clock.setTimer, randomSuffix: () => "x", store, durableWithinMs: 5_000 })
  return { clock, memory, faults, actions, state, backlog }
}

it("a halt made during a journal outage is acknowledged once the store has it, and a recovery that lost the journal's record restores it from the store", async () => {
  const r = await rig()
  r.faults.journalDown = true
  const answer = await Effect.runPromise(Effect.either(r.actions.halt({ who: "alice", why: "incident" })))
  expect(Either.isRight(answer)).toBe(true)
  expect(r.state.status).toBe("halted") // at once
  const stored = await Effect.runPromise(loadOperatorCause(r.memory, ACCOUNT))
  expect(stored).toMatchObject({ level: "halted", who: "operator:alice", why: "incident" })
  // The node dies with the record in the backlog: the recovered ledger has no operator cause.
  expect(newerOperatorCause(undefined, stored)).toMatchObject({ level: "halted", who: "operator:alice" })
})

it("a halt with the journal and the store both down stands in the process but is answered as not durable; the store write is retried until it lands", async () => {
  const r = await rig()
  r.faults.journalDown = true
  r.faults.storeDown = true
  const pending = Effect.runPromise(Effect.either(r.actions.halt({ who: "bob", why: "both down" })))
  await flush()
  expect(r.state.status).toBe("halted")
  r.clock.advance(5_000)
  const answer = await pending
  expect(Either.isLeft(answer) ? answer.left.code : "acknowledged").toBe("Unavailable")
  expect(Either.isLeft(answer) ? answer.left.message : "").toContain("would not survive a crash")
  r.faults.storeDown = false
  r.clock.advance(1_000)
  await flush()
  expect(await Effect.runPromise(loadOperatorCause(r.memory, ACCOUNT))).toMatchObject({ level: "halted", who: "operator:bob" })
})

it("a resume is refused while the store cannot take it (the store's halt would outlive it), and applied once both have it", async () => {
  const r = await rig()
  await Effect.runPromise(r.actions.halt({ who: "carol", why: "x" }))
  // The fake trading node reports no operator cause; the resume checks for one.
  ;(r.actions as unknown as { deps: { trading: { risk: { causes: () => unknown[] } } } }).deps.trading.risk.causes = () => [{ cause: "operator", level: "halted", who: "operator:carol", why: "x", since: 0 }]
  r.faults.storeDown = true
  const refused = await Effect.runPromise(Effect.either(r.actions.resume({ who: "carol", why: "back" })))
  expect(Either.isLeft(refused) ? refused.left.code : "applied").toBe("Unavailable")
  expect(r.state.status).toBe("halted")
  expect(await Effect.runPromise(loadOperatorCause(r.memory, ACCOUNT))).toMatchObject({ level: "halted" })
  r.faults.storeDown = false
  const applied = await Effect.runPromise(Effect.either(r.actions.resume({ who: "carol", why: "back" })))
  expect(Either.isRight(applied)).toBe(true)
  expect(r.state.status).toBe("active")
  expect(await Effect.runPromise(loadOperatorCause(r.memory, ACCOUNT))).toMatchObject({ level: "active" })
})

it("recovery takes the newer of the ledger's operator cause and the store's", () => {
  const ledger = (level: "halted" | "reducing", since: number): LedgerCause => ({ cause: "operator", level, by: "operator:a", why: "l", since })
  const stored = (level: "active" | "halted" | "reducing", since: number) => ({ level, who: "operator:b", why: "s", since })
  expect(newerOperatorCause(undefined, undefined)).toBeUndefined()
  expect(newerOperatorCause(ledger("halted", 10), undefined)).toMatchObject({ level: "halted", who: "operator:a" })
  // The store could not be written when the halt was made: the ledger's is newer.
  expect(newerOperatorCause(ledger("halted", 10), stored("active", 5))).toMatchObject({ level: "halted", who: "operator:a" })
  // The journal lost the halt (a crash during an outage): the store's.
  expect(newerOperatorCause(undefined, stored("halted", 20))).toMatchObject({ level: "halted", who: "operator:b" })
  expect(newerOperatorCause(ledger("reducing", 10), stored("halted", 20))).toMatchObject({ level: "halted", who: "operator:b" })
  // A resume both had.
  expect(newerOperatorCause(undefined, stored("active", 30))).toBeUndefined()
})
