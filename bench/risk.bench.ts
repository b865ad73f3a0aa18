import { dec } from "../src/domain/decimal.js"
import type { SubmitOrder } from "../src/domain/events/intents.js"
import { makeCore } from "../test/actors/orders/rig.js"
import { accountLimits, ETH, makeRisk, submit, XBT } from "../test/actors/risk/fixtures.js"
import { KRAKEN_FUTURES_COSTS } from "../src/actors/risk/index.js"
import { percentile, rateFigure, round, throughput, type Bench, type Figure } from "./harness.js"

/**
 * risk.check: one full pre-trade check (every check, rate limiters included) of a submit that
 * passes them all, with 1,000 open orders resting on the account. Timed per call with
 * process.hrtime.bigint; the baseline is an empty function timed the same way (the timer floor).
 * risk.pipeline: intents/s through risk → order (compiled machine step, src/machines/order.step.ts)
 * → fake gateway, replies included; the baseline is risk's decisions alone on the same intents.
 */
const CALLS = 200_000

const timePerCall = (fn: () => unknown): Float64Array => {
  const out = new Float64Array(CALLS)
  for (let k = 0; k < 20_000; k++) fn() // warm-up
  for (let k = 0; k < CALLS; k++) {
    const t0 = process.hrtime.bigint()
    fn()
    out[k] = Number(process.hrtime.bigint() - t0)
  }
  return out.sort()
}

const riskCheck: Bench = {
  name: "risk.check",
  run: async () => {
    const { risk, clock } = makeRisk({
      limits: { ...accountLimits, maxOpenOrders: 5_000, maxGrossExposure: dec(1_000_000_000), maxNetExposure: dec(1_000_000_000) },
      strategyRate: { maxActions: 100_000, windowMs: 1_000 }
    })
    // 1,000 resting orders: XBT bids below and asks above the mid, ETH likewise (distinct prices).
    for (let k = 0; k < 1_000; k++) {
      const xbtSide = k % 4 < 2
      const buy = k % 2 === 0
      const step = Math.floor(k / 4) + 1
      const intent: SubmitOrder = xbtSide
        ? submit({ instrument: XBT, side: buy ? "buy" : "sell", qty: "0.001", price: (buy ? 49_990 - step * 0.5 : 50_010 + step * 0.5).toFixed(1) })
        : submit({ instrument: ETH, side: buy ? "buy" : "sell", qty: "0.01", price: (buy ? 2_990 - step * 0.01 : 3_010 + step * 0.01).toFixed(2) })
      const d = risk.decide(intent)
      if (d._tag !== "Approved") throw new Error(`setup order ${k} denied: ${d.event.reason} ${d.event.detail}`)
      clock.advance(300) // stay inside the venue budget (40 submits per 10 s, less its 500 ms margin)
    }
    clock.advance(10_000)
    if (risk.openOrderCount !== 1_000) throw new Error(`expected 1000 open orders, got ${risk.openOrderCount}`)
    const probe = submit({ instrument: XBT, side: "buy", qty: "0.5", price: "50000" })
    if (risk.check(probe) !== undefined) throw new Error("the probe must pass every check")
    const empty = (): undefined => undefined
    const base = timePerCall(empty)
    const times = timePerCall(() => risk.check(probe))
    const p50 = percentile(times, 50)
    const p99 = percentile(times, 99)
    const b50 = percentile(base, 50)
    const figure: Figure = {
      name: "risk.check",
      value: p50,
      unit: "ns",
      baseline: "empty call",
      baseline_value: b50,
      ratio: round(p50 / b50, 3),
      p50_ns: p50,
      p99_ns: p99,
      baseline_p99_ns: percentile(base, 99),
      p50_net_ns: p50 - b50,
      open_orders: risk.openOrderCount,
      calls: CALLS
    }
    return [figure]
  }
}

const riskPipeline: Bench = {
  name: "risk.pipeline",
  run: async () => {
    const core = makeCore({
      keepJournal: false,
      risk: { limits: { ...accountLimits, maxOpenOrders: 1_000_000 }, strategyRate: { maxActions: 1_000_000_000, windowMs: 1_000 }, venueRate: { budget: 1e15, windowMs: 10_000, reserve: 0, costs: KRAKEN_FUTURES_COSTS } }
    })
    // Each item: submit at a fresh id, then cancel it; venue accepts and acks, replies delivered.
    const items = Array.from({ length: 2_000 }, (_, k) => k)
    let n = 0
    const pipeline = (): void => {
        const s = submit({ instrument: XBT, side: "buy", qty: "0.001", price: "49900" })
        core.manager.handle(s)
        core.venue.flush()
        core.manager.handle({ _tag: "CancelOrder", id: `c-${++n}`, ts: 0, source: "bench", account: s.account, strategy: s.strategy, instrument: XBT, clientOrderId: s.clientOrderId })
        core.venue.flush()
    }
    // Baseline: the risk decision alone for the same submit + cancel pair.
    const { risk } = makeRisk({ limits: { ...accountLimits, maxOpenOrders: 1_000_000 }, strategyRate: { maxActions: 1_000_000_000, windowMs: 1_000 }, venueRate: { budget: 1e15, windowMs: 10_000, reserve: 0, costs: KRAKEN_FUTURES_COSTS } })
    const riskOnly = (): void => {
        const s = submit({ instrument: XBT, side: "buy", qty: "0.001", price: "49900" })
        risk.decide(s)
        risk.decide({ _tag: "CancelOrder", id: `c-${++n}`, ts: 0, source: "bench", account: s.account, strategy: s.strategy, instrument: XBT, clientOrderId: s.clientOrderId })
        risk.onOrderEvent({ _tag: "OrderCanceled", id: `x-${n}`, ts: 0, source: "bench", account: s.account, instrument: XBT, clientOrderId: s.clientOrderId })
    }
    // Turns, round after round (best round each): a load spike on a shared machine hits both.
    let rate = 0
    let riskRate = 0
    for (let round = 0; round < 3; round++) {
      rate = Math.max(rate, throughput(items, pipeline, { rounds: 1, minMs: 500 }))
      riskRate = Math.max(riskRate, throughput(items, riskOnly, { rounds: 1, minMs: 500 }))
    }
    // Two intents per item.
    return [{ ...rateFigure("risk.pipeline", rate * 2, "risk decisions only", riskRate * 2), unit: "intents/s" }]
  }
}

export const benches: ReadonlyArray<Bench> = [riskCheck, riskPipeline]
