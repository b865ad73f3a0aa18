import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { makeSimulatedClock } from "../../../src/actors/clock.js"
import type { VenueRead } from "../../../src/actors/ports/request-budget.js"
import type { CancelAll, CancelOrder } from "../../../src/domain/events/intents.js"
import type { VenueCall } from "../../../src/domain/events/venue.js"
import type { ClientOrderId } from "../../../src/domain/ids.js"
import { binanceUsdmModel } from "../../../src/domain/venue-rates.js"
import { BTC, makeAccounts, order } from "./binance-rig.js"

// Two accounts on one address (Binance USD-M), random interleavings of submits, cancels, cancel-alls,
// the dead man's switch and reads, bursts of each, the venue's headers, another process spending the
// address's weight, time passing and the wall clock stepping back. Every request that risk lets
// out (each `VenueRequestSent`) reaches a model of the venue after up to 450 ms (less than the
// 500 ms send margin); the venue counts in FIXED windows (its own, at a random alignment) by true
// time: request weight per address per minute, orders per account per 10 s and per minute.
//
// Properties: (1) at every approval, for each key (the address, each account), our recorded spends
// in any window (ours by every account, on risk's own time line) stay within the limit; (2) the
// venue never counts more than its limit in any of its windows — ours and the other process's.

const MODEL = binanceUsdmModel()
const LIMIT = Object.fromEntries(MODEL.budgets.map((b) => [b.name, b])) as Record<"weight1m" | "orders10s" | "orders1m", (typeof MODEL.budgets)[number]>
const READS: ReadonlyArray<VenueRead> = ["openorders", "openpositions", "fills", "orderStatus", "account", "depthSnapshot", "exchangeInfo", "listenKey"]

type Step =
  | { readonly k: "submit"; readonly acct: number; readonly n: number }
  | { readonly k: "cancel"; readonly acct: number; readonly n: number }
  | { readonly k: "cancelAll"; readonly acct: number }
  | { readonly k: "dms"; readonly acct: number }
  | { readonly k: "read"; readonly acct: number; readonly call: VenueRead; readonly n: number }
  | { readonly k: "advance"; readonly ms: number }
  | { readonly k: "back"; readonly ms: number }
  | { readonly k: "header"; readonly acct: number }
  | { readonly k: "external"; readonly weight: number }

const acct = fc.integer({ min: 0, max: 1 })
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ k: fc.constant("submit" as const), acct, n: fc.integer({ min: 1, max: 80 }) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant("cancel" as const), acct, n: fc.integer({ min: 1, max: 40 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("cancelAll" as const), acct }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("dms" as const), acct }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant("read" as const), acct, call: fc.constantFrom(...READS), n: fc.integer({ min: 1, max: 30 }) }) },
  { weight: 5, arbitrary: fc.record({ k: fc.constant("advance" as const), ms: fc.integer({ min: 0, max: 4_000 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("back" as const), ms: fc.integer({ min: 1, max: 90_000 }) }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant("header" as const), acct }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("external" as const), weight: fc.integer({ min: 1, max: 600 }) }) }
)

interface Sent {
  readonly acct: number
  readonly call: VenueCall
  /** Risk's time line (StepSafeTime) and true time at the send; true arrival at the venue. */
  readonly ours: number
  readonly arrive: number
}

const peaks = { weight1m: 0, orders10s: 0, orders1m: 0, approvals: 0, external: 0 }

const run = (steps: ReadonlyArray<Step>, seed: number, align: number): void => {
  const clock = makeSimulatedClock(1_800_000_000_000)
  let back = 0
  const wall = { ...clock, now: () => clock.now() - back }
  let rnd = seed >>> 0
  const delay = () => {
    rnd = (Math.imul(rnd, 1_664_525) + 1_013_904_223) >>> 0
    return rnd % 451
  }
  const { budgets, accounts } = makeAccounts([{ id: "a" }, { id: "b" }], { clock, wall })
  const sent: Sent[] = []
  let inFlight: Sent[] = []

  // The venue: fixed windows by true time, at a random alignment; counts per key and window index.
  const counts = new Map<string, number>()
  const windowKey = (key: string, windowMs: number, t: number) => `${key}@${Math.floor((t + align) / windowMs)}`
  const count = (key: string, windowMs: number, t: number, cost: number, limit: number) => {
    const k = windowKey(key, windowMs, t)
    const v = (counts.get(k) ?? 0) + cost
    counts.set(k, v)
    expect(v, `the venue counts ${v} > ${limit} in ${k}`).toBeLessThanOrEqual(limit)
    return v
  }
  const arrive = (upTo: number) => {
    const due = inFlight.filter((s) => s.arrive <= upTo).sort((x, y) => x.arrive - y.arrive)
    inFlight = inFlight.filter((s) => s.arrive > upTo)
    for (const s of due) {
      const c = MODEL.costs[s.call]
      // One instrument: a per-symbol call costs once.
      if ((c["weight1m"] ?? 0) > 0) peaks.weight1m = Math.max(peaks.weight1m, count("ip", 60_000, s.arrive, c["weight1m"] ?? 0, LIMIT.weight1m.limit))
      if ((c["orders10s"] ?? 0) > 0) peaks.orders10s = Math.max(peaks.orders10s, count(`orders10s/${s.acct}`, 10_000, s.arrive, c["orders10s"] ?? 0, LIMIT.orders10s.limit))
      if ((c["orders1m"] ?? 0) > 0) peaks.orders1m = Math.max(peaks.orders1m, count(`orders1m/${s.acct}`, 60_000, s.arrive, c["orders1m"] ?? 0, LIMIT.orders1m.limit))
    }
  }
  const venueCount = (key: string, windowMs: number) => counts.get(windowKey(key, windowMs, clock.now())) ?? 0

  // Property (1), on risk's time line: our spends in any window (+ margin) of each key within the limit,
  // summed here independently of the limiter (a queue per key).
  const windows = [
    { name: "weight1m" as const, acct: undefined },
    ...[0, 1].flatMap((i) => [{ name: "orders10s" as const, acct: i }, { name: "orders1m" as const, acct: i }])
  ].map((k) => ({ ...k, spec: LIMIT[k.name], queue: [] as Array<{ at: number; cost: number }>, head: 0, sum: 0 }))
  const checkOurs = (s: Sent) => {
    for (const w of windows) {
      const cost = w.acct === undefined || w.acct === s.acct ? (MODEL.costs[s.call][w.name] ?? 0) : 0
      if (cost > 0) {
        w.queue.push({ at: s.ours, cost })
        w.sum += cost
      }
      while (w.head < w.queue.length && w.queue[w.head]!.at <= s.ours - w.spec.windowMs - w.spec.marginMs) w.sum -= w.queue[w.head++]!.cost
      expect(w.sum, `${w.name}${w.acct ?? ""} spends ${w.sum} in a window`).toBeLessThanOrEqual(w.spec.limit)
    }
  }

  accounts.forEach((account, i) => {
    const original = account.events.push.bind(account.events)
    account.events.push = (...es) => {
      for (const e of es) {
        if (e._tag !== "VenueRequestSent") continue
        const s: Sent = { acct: i, call: e.call, ours: budgets.now(), arrive: clock.now() + delay() }
        sent.push(s)
        inFlight.push(s)
        peaks.approvals++
        checkOurs(s)
      }
      return original(...es)
    }
  })

  let cancels = 0
  for (const st of steps) {
    arrive(clock.now())
    switch (st.k) {
      case "submit":
        for (let j = 0; j < st.n; j++) accounts[st.acct]!.risk.decide(order(accounts[st.acct]!.id, j % 2 === 0 ? "buy" : "sell"))
        break
      case "cancel":
        for (let j = 0; j < st.n; j++) {
          const c: CancelOrder = { _tag: "CancelOrder", id: `pc-${++cancels}`, ts: 0, source: "test", account: accounts[st.acct]!.id, strategy: "s" as CancelOrder["strategy"], instrument: BTC, clientOrderId: `pc-${cancels}` as ClientOrderId }
          accounts[st.acct]!.risk.decide(c)
        }
        break
      case "cancelAll": {
        const c: CancelAll = { _tag: "CancelAll", id: `pca-${++cancels}`, ts: 0, source: "test", account: accounts[st.acct]!.id }
        accounts[st.acct]!.risk.decide(c)
        break
      }
      case "dms":
        accounts[st.acct]!.risk.approveDeadMansSwitch(60)
        break
      case "read":
        for (let j = 0; j < st.n; j++) accounts[st.acct]!.risk.requestBudget.reserve(st.call).catch(() => {})
        break
      case "advance": {
        // In small steps, so that requests arrive (and timers fire) in order.
        let left = st.ms
        while (left > 0) {
          const d = Math.min(left, 100)
          clock.advance(d)
          arrive(clock.now())
          left -= d
        }
        break
      }
      case "back":
        back += st.ms
        break
      case "header":
        accounts[st.acct]!.risk.rateReports.syncFromHeaders({
          "x-mbx-used-weight-1m": String(venueCount("ip", 60_000)),
          "x-mbx-order-count-10s": String(venueCount(`orders10s/${st.acct}`, 10_000)),
          "x-mbx-order-count-1m": String(venueCount(`orders1m/${st.acct}`, 60_000))
        })
        break
      case "external": {
        // Another process on the address spends weight now; the venue's next reply tells us.
        const k = windowKey("ip", 60_000, clock.now())
        const room = LIMIT.weight1m.limit - (counts.get(k) ?? 0) - inFlight.reduce((x, s) => x + (MODEL.costs[s.call]["weight1m"] ?? 0), 0)
        const w = Math.min(st.weight, Math.max(0, room))
        if (w === 0) break
        counts.set(k, (counts.get(k) ?? 0) + w)
        peaks.external += w
        accounts[0]!.risk.rateReports.syncFromHeaders({ "x-mbx-used-weight-1m": String(counts.get(k)) })
        break
      }
    }
  }
  clock.advance(1_000)
  arrive(Number.POSITIVE_INFINITY)
  for (const a of accounts) a.risk.stop()
  budgets.close()
}

describe("Binance budgets over random interleavings of two accounts on one address", () => {
  it("never approve beyond a limit in any window, and the venue never counts beyond its limit", () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 20, maxLength: 160 }), fc.integer(), fc.integer({ min: 0, max: 59_999 }), (steps, seed, align) => run(steps, seed, align)),
      { numRuns: 40 }
    )
    // Not vacuous: the runs reached the limits (the venue's busiest windows), with the other process's weight.
    console.log(`busiest venue windows: ${JSON.stringify(peaks)}`)
    expect(peaks.orders10s).toBeGreaterThanOrEqual(LIMIT.orders10s.limit * 0.8)
    expect(peaks.weight1m).toBeGreaterThanOrEqual((LIMIT.weight1m.limit - LIMIT.weight1m.reserve) * 0.8)
    expect(peaks.external).toBeGreaterThan(0)
    expect(peaks.approvals).toBeGreaterThan(10_000)
  })
})
