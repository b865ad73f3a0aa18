import { expect, it } from "vitest"
import { makeSimulatedClock } from "../../src/actors/clock.js"
import type { RequestBudgetService, VenueRead } from "../../src/actors/ports/request-budget.js"
import type { VenueReport } from "../../src/actors/ports/venue-gateway.js"
import type { ApprovedAction } from "../../src/actors/risk/approval.js"
import { KRAKEN_FUTURES_RATE, VenueRateLimiter } from "../../src/actors/risk/rate-limiter.js"
import { writeAheadBudget, writeAheadGateway } from "../../src/daemon/write-ahead.js"
import { cancel, cid, makeRisk, submit } from "../actors/risk/fixtures.js"

const tick = (): Promise<void> => new Promise((r) => setImmediate(r))

/** A journal whose `settled()` the test resolves by hand. */
const manualJournal = (order: string[]) => {
  const waiting: Array<() => void> = []
  return {
    settled: () =>
      new Promise<void>((resolve) => {
        order.push("waiting for the journal")
        waiting.push(() => {
          order.push("journal settled")
          resolve()
        })
      }),
    settle: () => waiting.shift()?.()
  }
}

// A read goes out only once the journal is healthy, its cost is reserved, and its spend record is
// in the journal: nothing is reserved during an outage (the reservation's time is the spend's
// stamp, which must not be older than the limiter's margin when the read leaves), so a crash
// cannot leave the venue counting a read the restarted limiter does not know, nor counting it
// longer than the limiter does.
it("a read waits for the journal, is reserved, and is released once its record is in the journal", async () => {
  const order: string[] = []
  const clock = makeSimulatedClock(0)
  const inner: RequestBudgetService = {
    reserve: (call: VenueRead) => {
      order.push(`reserved ${call}`)
      return Promise.resolve()
    }
  }
  const journal = manualJournal(order)
  const read = writeAheadBudget(inner, journal, clock)
    .reserve("openorders")
    .then(() => order.push("sent"))
  await tick()
  expect(order).toEqual(["waiting for the journal"]) // an outage: nothing reserved yet
  clock.advance(1_500)
  journal.settle()
  await tick()
  expect(order).toEqual(["waiting for the journal", "journal settled", "reserved openorders", "waiting for the journal"])
  journal.settle()
  await read
  expect(order.at(-1)).toBe("sent")
  expect(order.filter((o) => o.startsWith("reserved"))).toHaveLength(1)
})

// Safety seed 1048: reads reserved during an outage went out 1.5 s later, stamped when reserved.
it("a read whose record took longer than half the rate margin to be journaled is reserved again", async () => {
  const order: string[] = []
  const clock = makeSimulatedClock(0)
  let reserved = 0
  const inner: RequestBudgetService = {
    reserve: () => {
      reserved++
      order.push(`reserved at ${clock.now()}`)
      return Promise.resolve()
    }
  }
  const journal = manualJournal(order)
  let sent = false
  const read = writeAheadBudget(inner, journal, clock)
    .reserve("openpositions")
    .then(() => (sent = true))
  journal.settle()
  await tick()
  expect(reserved).toBe(1)
  clock.advance(KRAKEN_FUTURES_RATE.marginMs! / 2 + 1) // the record is slow to be written
  journal.settle()
  await tick()
  expect(sent).toBe(false)
  journal.settle() // healthy again: reserve afresh
  await tick()
  expect(reserved).toBe(2)
  journal.settle() // this time at once
  await read
  expect(sent).toBe(true)
  expect(order.filter((o) => o.startsWith("reserved"))).toEqual(["reserved at 0", "reserved at 251"])
})

it("a read the budget refuses (closed) is refused", async () => {
  const closed: RequestBudgetService = { reserve: () => Promise.reject(new Error("closed")) }
  const read = writeAheadBudget(closed, { settled: () => Promise.resolve() }, makeSimulatedClock(0)).reserve("fills")
  await expect(read).rejects.toThrow("closed")
})

/** The gateway under test: what reaches the venue, and what comes back to the node. */
const rig = (durable: () => Promise<boolean>) => {
  const { clock, risk, events } = makeRisk()
  const sent: ApprovedAction[] = []
  const reports: VenueReport[] = []
  const gateway = writeAheadGateway({ account: risk.account, send: (a) => sent.push(a), subscribe: () => () => undefined }, { durable }, clock, () => 1, { respend: (call) => risk.respend(call) })
  gateway.subscribe((r) => reports.push(r))
  const approve = (intent: Parameters<typeof risk.decide>[0]): ApprovedAction => {
    const d = risk.decide(intent)
    if (d._tag !== "Approved") throw new Error(`denied: ${d.event.reason}`)
    return d.action
  }
  return { clock, risk, events, sent, reports, gateway, approve }
}

it("a submit whose journal wait is longer than half the rate margin is not sent (its stamp would be stale at the venue)", async () => {
  let release: (ok: boolean) => void = () => undefined
  const r = rig(() => new Promise<boolean>((resolve) => (release = resolve)))
  r.gateway.send(r.approve(submit({ qty: "0.1" })))
  r.clock.advance(300)
  release(true)
  await tick()
  expect(r.sent).toHaveLength(0)
  expect(r.reports.map((x) => [x._tag, (x as { reason?: string }).reason])).toEqual([["OrderRejected", "journal slow: not sent"]])
  r.gateway.send(r.approve(submit({ qty: "0.1" })))
  r.clock.advance(100)
  release(true)
  await tick()
  expect(r.sent).toHaveLength(1)
})

it("a cancel during a journal outage is charged again and sent within the unjournaled allowance, which is full for a window after the start", async () => {
  const r = rig(() => Promise.resolve(false)) // the journal is down throughout
  const spentBefore = r.risk.rateUsed
  r.gateway.send(r.approve(cancel(cid())))
  await tick()
  // The process just started: its predecessor may have sent a window's allowance unrecorded.
  expect(r.sent).toHaveLength(0)
  expect(r.risk.rateUsed).toBe(spentBefore + 10) // only the approval's charge so far
  for (let t = 0; t < 10_600 && r.sent.length === 0; t += 100) {
    r.clock.advance(100)
    await tick()
  }
  expect(r.sent).toHaveLength(1)
  // Charged again when it left (a fresh stamp for the live limiter), its record in the backlog.
  expect(r.events.filter((e) => e._tag === "VenueRequestSent" && e.call === "cancelorder")).toHaveLength(2)
  // Ten cancels (cost 10) fill the allowance of 100 a window: the eleventh waits.
  for (let k = 0; k < 10; k++) r.gateway.send(r.approve(cancel(cid())))
  for (let k = 0; k < 5; k++) await tick()
  expect(r.sent).toHaveLength(10)
  r.clock.advance(1_000)
  for (let k = 0; k < 5; k++) await tick()
  expect(r.sent).toHaveLength(10)
})

it("a cancel whose records are durable in time is sent at once, charged once", async () => {
  const r = rig(() => Promise.resolve(true))
  r.gateway.send(r.approve(cancel(cid())))
  await tick()
  expect(r.sent).toHaveLength(1)
  expect(r.events.filter((e) => e._tag === "VenueRequestSent")).toHaveLength(1)
})

it("a restarted limiter counts the unjournaled allowance as spent at its start, for one window", () => {
  const clock = makeSimulatedClock(100_000)
  const limiter = new VenueRateLimiter(clock)
  limiter.restore([{ at: 95_000, cost: 50 }], 100)
  expect(limiter.used()).toBe(150)
  clock.advance(6_000) // the journaled spend is out of the window (+ margin); the allowance is not
  expect(limiter.used()).toBe(100)
  clock.advance(4_600)
  expect(limiter.used()).toBe(0)
})
