import fc from "fast-check"
import { Either } from "effect"
import { describe, expect, it } from "vitest"
import { Decimal, dec, ZERO } from "../../src/domain/decimal.js"
import type { OrderIntent, SubmitOrder } from "../../src/domain/events/intents.js"
import type { ClientOrderId, InstrumentId, StrategyId } from "../../src/domain/ids.js"
import type { Instrument } from "../../src/domain/instrument.js"
import { applyFill, positionFor, unrealizedPnl, type Position } from "../../src/domain/position.js"
import { seededRandom } from "../../src/actors/venue-gateway/fake-venue.js"
import { makeCore, type JournalEntry } from "./orders/rig.js"
import { ACCOUNT, accountLimits, eth, ethLimits, instrumentLimits, XBT, xbt } from "./risk/fixtures.js"

/**
 * A random strategy against a random venue: intents, fills, replies in random order, book moves
 * and operator actions. Afterwards every invariant is recomputed from the journal alone (the
 * decisions, the venue facts, the book and intent notes, the gateway calls), with Decimals and
 * the plain definitions of each limit — not with the risk actor's integer aggregates.
 */
const LIMITS = { ...accountLimits, maxGrossExposure: dec(600_000), maxNetExposure: dec(400_000), maxOpenOrders: 6, dailyLossLimit: dec(3_000) }
const STRATEGY_RATE = { maxActions: 2, windowMs: 1_000 }
const INSTRUMENTS: ReadonlyArray<{ readonly inst: Instrument; readonly limits: typeof instrumentLimits; readonly baseMidTicks: number }> = [
  { inst: xbt, limits: instrumentLimits, baseMidTicks: 100_000 },
  { inst: eth, limits: ethLimits, baseMidTicks: 300_000 }
]

interface RunStats {
  readonly approvals: number
  readonly denials: Map<string, number>
  readonly haltedCancelApprovals: number
  readonly gatewayCalls: number
  readonly fills: number
}

const run = (seed: number, steps: number): RunStats => {
  const rnd = seededRandom(seed)
  const core = makeCore({ risk: { limits: LIMITS, strategyRate: STRATEGY_RATE }, venue: { seed: seed ^ 0x5eed, rejectRate: 0.1 } })
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1))
  const mids = new Map<string, number>()
  const setMid = (k: number, ticks: number) => {
    const { inst } = INSTRUMENTS[k]!
    mids.set(inst.id, ticks)
    core.setBook(inst.id, inst.tickSize.times(ticks - 1), inst.tickSize.times(ticks + 1))
  }
  INSTRUMENTS.forEach((x, k) => setMid(k, x.baseMidTicks))
  const cids: ClientOrderId[] = []
  let seq = 0
  const env = () => ({ id: `p-${seed}-${++seq}`, ts: core.clock.now(), source: "random-strategy" })
  const strategy = () => (rnd() < 0.5 ? "s1" : "s2") as StrategyId

  for (let step = 0; step < steps; step++) {
    core.clock.advance(int(0, 50))
    if (step % 5_000 === 4_999) core.startDay()
    const r = rnd()
    if (r < 0.3) {
      const k = rnd() < 0.7 ? 0 : 1
      const { inst, limits } = INSTRUMENTS[k]!
      const mid = mids.get(inst.id)!
      const maxLots = limits.maxOrderQty.dividedBy(inst.lotSize).toNumber()
      let qty = inst.lotSize.times(int(1, Math.floor(maxLots * 1.2)))
      if (rnd() < 0.02) qty = qty.plus(inst.lotSize.dividedBy(2))
      const bandTicks = Math.floor((mid * limits.priceBandBps) / 10_000)
      let price = inst.tickSize.times(mid + int(-Math.floor(bandTicks * 1.3), Math.floor(bandTicks * 1.3)))
      if (rnd() < 0.02) price = price.plus(inst.tickSize.dividedBy(2))
      const t = rnd()
      const orderType = t < 0.7 ? "limit" : t < 0.8 ? "postOnly" : t < 0.92 ? "ioc" : "market"
      const reuse = rnd() < 0.03 && cids.length > 0
      const clientOrderId = reuse ? cids[int(0, cids.length - 1)]! : (`c-${seed}-${++seq}` as ClientOrderId)
      if (!reuse) cids.push(clientOrderId)
      const intent: SubmitOrder = {
        _tag: "SubmitOrder", ...env(), account: ACCOUNT, strategy: strategy(), instrument: inst.id, clientOrderId,
        side: rnd() < 0.5 ? "buy" : "sell", orderType, qty, reduceOnly: false, ...(orderType === "market" ? {} : { price })
      }
      core.handle(intent)
    } else if (r < 0.4 && cids.length > 0) {
      const cid = cids[Math.max(0, cids.length - 1 - int(0, 30))]!
      const o = core.venue.openOrders.get(cid)
      const inst = o === undefined ? xbt : o.instrument === XBT ? xbt : eth
      const mid = mids.get(inst.id)!
      const change = rnd() < 0.5 ? { qty: inst.lotSize.times(int(1, 3000)) } : { price: inst.tickSize.times(mid + int(-200, 200)) }
      core.handle({ _tag: "ModifyOrder", ...env(), account: ACCOUNT, strategy: strategy(), instrument: inst.id, clientOrderId: cid, ...change })
    } else if (r < 0.5 && cids.length > 0) {
      const cid = cids[Math.max(0, cids.length - 1 - int(0, 40))]!
      const inst = core.venue.openOrders.get(cid)?.instrument ?? XBT
      core.handle({ _tag: "CancelOrder", ...env(), account: ACCOUNT, strategy: strategy(), instrument: inst, clientOrderId: cid })
    } else if (r < 0.505) {
      core.handle({ _tag: "CancelAll", ...env(), account: ACCOUNT })
    } else if (r < 0.7) {
      for (let n = int(1, 3); n > 0; n--) core.venue.deliverNext(true)
    } else if (r < 0.8) {
      core.venue.fillRandom(
        (i) => (i === XBT ? xbt.lotSize : eth.lotSize),
        (i) => (i === XBT ? xbt : eth).tickSize.times(mids.get(i)!)
      )
    } else if (r < 0.88) {
      const k = rnd() < 0.6 ? 0 : 1
      const x = INSTRUMENTS[k]!
      const mid = mids.get(x.inst.id)!
      const pull = Math.round((x.baseMidTicks - mid) * 0.02)
      setMid(k, Math.max(100, mid + pull + int(-Math.floor(x.baseMidTicks / 2_000), Math.floor(x.baseMidTicks / 2_000))))
    } else if (r < 0.8815) {
      const o = rnd()
      const who = { ...env(), account: ACCOUNT, who: "ops", why: "random operator" }
      core.manager.control(o < 0.2 ? { _tag: "Halt", ...who } : o < 0.35 ? { _tag: "ReduceOnly", ...who } : { _tag: "Resume", ...who }, { cancelAll: o < 0.1 })
    }
  }
  core.venue.flush()
  expect(core.venue.forged).toEqual([])
  return verify(core.journal, core)
}

const lotsOfInst = (id: string) => (id === XBT ? xbt : eth)
const limitsOf = (id: string) => (id === XBT ? instrumentLimits : ethLimits)

interface ModelOrder {
  readonly inst: InstrumentId
  readonly side: "buy" | "sell"
  readonly type: SubmitOrder["orderType"]
  readonly strategy: string
  qty: Decimal
  filled: Decimal
  price: Decimal | undefined
  pendingQty: Decimal | undefined
  pendingPrice: Decimal | undefined
}

const leaves = (o: ModelOrder) => Decimal.max(o.qty, o.pendingQty ?? ZERO).minus(o.filled)

/** Recomputes every limit from the journal and checks it held at each approval. */
const verify = (journal: ReadonlyArray<JournalEntry>, core: ReturnType<typeof makeCore>): RunStats => {
  const intents = new Map<string, OrderIntent>()
  const mids = new Map<string, Decimal>()
  const positions = new Map<string, Position>([
    [XBT, Either.getOrThrow(positionFor(xbt))],
    [eth.id, Either.getOrThrow(positionFor(eth))]
  ])
  const fillIds = new Set<string>()
  const open = new Map<string, ModelOrder>()
  const usedCids = new Set<string>()
  const approvals = new Map<string, boolean>()
  const calls: Array<{ ts: number; cost: number; call: string }> = []
  const strategyActs = new Map<string, number[]>()
  const denials = new Map<string, number>()
  let status = "active"
  let approvalsCount = 0
  let haltedCancelApprovals = 0

  const side = (inst: string, s: "buy" | "sell") => {
    let sum = ZERO
    for (const o of open.values()) if (o.inst === inst && o.side === s) sum = sum.plus(leaves(o))
    return sum
  }
  const exposures = (extra?: { inst: string; side: "buy" | "sell"; qty: Decimal }) => {
    let gross = ZERO
    let long = ZERO
    let short = ZERO
    for (const [inst, p] of positions) {
      const m = mids.get(inst)!
      const buy = side(inst, "buy").plus(extra?.inst === inst && extra.side === "buy" ? extra.qty : ZERO)
      const sell = side(inst, "sell").plus(extra?.inst === inst && extra.side === "sell" ? extra.qty : ZERO)
      const l = p.quantity.plus(buy).times(m)
      const s = p.quantity.minus(sell).times(m)
      gross = gross.plus(Decimal.max(l.abs(), s.abs()))
      long = long.plus(l)
      short = short.plus(s)
    }
    return { gross, net: Decimal.max(long.abs(), short.abs()) }
  }
  let dayBase = ZERO
  const totalPnl = () => {
    let total = ZERO
    for (const [inst, p] of positions) total = total.plus(p.realizedPnl).plus(unrealizedPnl(p, mids.get(inst)!))
    return total
  }
  const pnl = () => totalPnl().minus(dayBase)
  const checkGrowth = (inst: string, s: "buy" | "sell", add: Decimal, what: string) => {
    const p = positions.get(inst)!.quantity
    const worst = s === "buy" ? p.plus(side(inst, "buy")).plus(add) : p.minus(side(inst, "sell")).minus(add).negated()
    expect(worst.lessThanOrEqualTo(limitsOf(inst).maxPosition), `${what}: position ${worst.toString()}`).toBe(true)
    const before = exposures()
    const after = exposures({ inst, side: s, qty: add })
    expect(after.gross.lessThanOrEqualTo(LIMITS.maxGrossExposure) || after.gross.lessThanOrEqualTo(before.gross), `${what}: gross ${after.gross.toString()}`).toBe(true)
    expect(after.net.lessThanOrEqualTo(LIMITS.maxNetExposure) || after.net.lessThanOrEqualTo(before.net), `${what}: net ${after.net.toString()}`).toBe(true)
  }
  const noSelfTrade = (inst: string, s: "buy" | "sell", price: Decimal | undefined, self: string, what: string) => {
    for (const [cid, o] of open) {
      if (cid === self || o.inst !== inst || o.side === s || (o.type !== "limit" && o.type !== "postOnly") || !leaves(o).greaterThan(0)) continue
      for (const their of [o.price, o.pendingPrice]) {
        if (their === undefined) continue
        const crosses = price === undefined || (s === "buy" ? price.greaterThanOrEqualTo(their) : price.lessThanOrEqualTo(their))
        expect(crosses, `${what}: crosses own ${o.side} at ${their.toString()}`).toBe(false)
      }
    }
  }
  const strategyRate = (strategy: string, ts: number) => {
    const acts = (strategyActs.get(strategy) ?? []).filter((t) => t > ts - STRATEGY_RATE.windowMs)
    acts.push(ts)
    strategyActs.set(strategy, acts)
    expect(acts.length).toBeLessThanOrEqual(STRATEGY_RATE.maxActions)
  }

  for (const e of journal) {
    switch (e._tag) {
      case "Intent":
        intents.set(e.intent.id, e.intent)
        break
      case "DayStart":
        dayBase = totalPnl()
        break
      case "Book":
        mids.set(e.instrument, e.bid.plus(e.ask).dividedBy(2))
        break
      case "TradingStateChanged":
        status = e.to
        break
      case "RiskDenied": {
        denials.set(e.reason, (denials.get(e.reason) ?? 0) + 1)
        const intent = intents.get(e.intentId)
        if (status === "halted" && (intent?._tag === "CancelOrder" || intent?._tag === "CancelAll")) expect(e.reason).toBe("RATE_LIMIT")
        break
      }
      case "RiskApproved": {
        approvalsCount++
        approvals.set(e.id, false)
        const intent = intents.get(e.intentId)
        if (intent === undefined) break // the dead man's switch or an operator cancel-all
        const what = `${intent._tag} ${e.intentId}`
        if (intent._tag === "SubmitOrder") {
          const inst = lotsOfInst(intent.instrument)
          const lim = limitsOf(intent.instrument)
          const mid = mids.get(intent.instrument)!
          const pos = positions.get(intent.instrument)!.quantity
          expect(status === "active" || (status === "reducing" && (intent.side === "buy" ? pos.isNegative() && side(intent.instrument, "buy").plus(intent.qty).lessThanOrEqualTo(pos.negated()) : pos.isPositive() && side(intent.instrument, "sell").plus(intent.qty).lessThanOrEqualTo(pos))), `${what} in ${status}`).toBe(true)
          if (status === "active") expect(pnl().greaterThanOrEqualTo(LIMITS.dailyLossLimit.negated()), `${what}: daily pnl ${pnl().toString()}`).toBe(true)
          expect(usedCids.has(intent.clientOrderId), `${what}: duplicate id`).toBe(false)
          expect(intent.qty.modulo(inst.lotSize).isZero() && intent.qty.greaterThanOrEqualTo(inst.minQty) && intent.qty.lessThanOrEqualTo(Decimal.min(inst.maxQty, lim.maxOrderQty)), `${what}: qty ${intent.qty.toString()}`).toBe(true)
          const price = intent.orderType === "market" ? undefined : intent.price
          if (price !== undefined) {
            expect(price.modulo(inst.tickSize).isZero(), `${what}: tick`).toBe(true)
            expect(price.minus(mid).abs().times(10_000).lessThanOrEqualTo(mid.times(lim.priceBandBps)), `${what}: band ${price.toString()} vs ${mid.toString()}`).toBe(true)
          }
          expect(intent.qty.times(price ?? mid).lessThanOrEqualTo(lim.maxOrderNotional), `${what}: notional`).toBe(true)
          expect(open.size + 1, `${what}: open orders`).toBeLessThanOrEqual(LIMITS.maxOpenOrders)
          noSelfTrade(intent.instrument, intent.side, price, intent.clientOrderId, what)
          checkGrowth(intent.instrument, intent.side, intent.qty, what)
          strategyRate(intent.strategy, e.ts)
          usedCids.add(intent.clientOrderId)
          open.set(intent.clientOrderId, { inst: intent.instrument, side: intent.side, type: intent.orderType, strategy: intent.strategy, qty: intent.qty, filled: ZERO, price, pendingQty: undefined, pendingPrice: undefined })
        } else if (intent._tag === "ModifyOrder") {
          expect(status, what).toBe("active")
          const o = open.get(intent.clientOrderId)
          expect(o, `${what}: order is open`).toBeDefined()
          if (o === undefined) break
          const add = intent.qty === undefined ? ZERO : Decimal.max(ZERO, intent.qty.minus(Decimal.max(o.qty, o.pendingQty ?? ZERO)))
          if (add.greaterThan(0)) checkGrowth(o.inst, o.side, add, what)
          if (intent.qty !== undefined) expect(intent.qty.lessThanOrEqualTo(limitsOf(o.inst).maxOrderQty), `${what}: qty`).toBe(true)
          if (intent.price !== undefined && (o.type === "limit" || o.type === "postOnly")) noSelfTrade(o.inst, o.side, intent.price, intent.clientOrderId, what)
          strategyRate(o.strategy, e.ts)
          if (intent.qty !== undefined) o.pendingQty = intent.qty
          if (intent.price !== undefined) o.pendingPrice = intent.price
        } else if (status === "halted") haltedCancelApprovals++
        break
      }
      case "GatewayCall": {
        expect(approvals.get(e.approvalId), `call ${e.approvalId} has an unused approval before it`).toBe(false)
        approvals.set(e.approvalId, true)
        calls.push({ ts: e.ts, cost: e.cost, call: e.call })
        let used = 0
        for (let k = calls.length - 1; k >= 0 && calls[k]!.ts > e.ts - 10_000; k--) used += calls[k]!.cost
        expect(used, `rate window at ${e.ts}`).toBeLessThanOrEqual(e.call === "sendorder" || e.call === "editorder" ? 400 : 500)
        break
      }
      case "OrderFilled": {
        if (fillIds.has(e.fillId)) break
        fillIds.add(e.fillId)
        positions.set(e.instrument, applyFill(positions.get(e.instrument)!, {
          fillId: e.fillId, clientOrderId: e.clientOrderId, venueOrderId: e.venueOrderId, instrumentId: e.instrument, side: e.side,
          price: e.price, quantity: e.qty, fee: e.fee, feeCurrency: e.feeCurrency, liquidity: e.liquidity, ts: e.ts
        }))
        const o = open.get(e.clientOrderId)
        if (o !== undefined) {
          o.filled = o.filled.plus(e.qty)
          if (o.filled.greaterThanOrEqualTo(o.qty) && o.pendingQty === undefined) open.delete(e.clientOrderId)
        }
        break
      }
      case "OrderRejected":
      case "OrderCanceled":
      case "OrderExpired":
        open.delete(e.clientOrderId)
        break
      case "OrderModified": {
        const o = open.get(e.clientOrderId)
        if (o === undefined) break
        o.qty = e.qty ?? o.qty
        o.price = e.price ?? o.price
        o.pendingQty = undefined
        o.pendingPrice = undefined
        if (o.filled.greaterThanOrEqualTo(o.qty)) open.delete(e.clientOrderId)
        break
      }
      case "OrderModifyRejected": {
        const o = open.get(e.clientOrderId)
        if (o !== undefined) {
          o.pendingQty = undefined
          o.pendingPrice = undefined
        }
        break
      }
      default:
        break
    }
  }

  // Positions equal the sum of the venue's fills, in the portfolio and in the model.
  for (const inst of [xbt, eth]) {
    const sum = core.venue.fills.filter((f) => f.instrument === inst.id).reduce((s, f) => (f.side === "buy" ? s.plus(f.qty) : s.minus(f.qty)), ZERO)
    expect(core.portfolio.position(inst.id)!.quantity.toString()).toBe(sum.toString())
    expect(positions.get(inst.id)!.quantity.toString()).toBe(sum.toString())
  }
  return { approvals: approvalsCount, denials, haltedCancelApprovals, gatewayCalls: calls.length, fills: fillIds.size }
}

describe("the trading core under a random strategy and a random venue", () => {
  it("holds every limit at every approval, stays in the rate budget, journals approvals before calls and keeps positions equal to fills", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), (seed) => {
        run(seed, 2_000)
      }),
      { numRuns: 8 }
    )
  })

  it("holds the same invariants over one long seeded run of 100,000 steps, with every kind of denial exercised", () => {
    const stats = run(20_261_121, 100_000)
    console.log(JSON.stringify({ ...stats, denials: Object.fromEntries(stats.denials) }))
    expect(stats.approvals).toBeGreaterThan(5_000)
    expect(stats.gatewayCalls).toBeGreaterThan(5_000)
    expect(stats.fills).toBeGreaterThan(1_000)
    expect(stats.haltedCancelApprovals).toBeGreaterThan(0)
    for (const reason of ["RATE_LIMIT", "PRICE_BAND", "MAX_ORDER_QTY", "MAX_POSITION", "MAX_OPEN_ORDERS", "SELF_TRADE", "DUPLICATE_CLIENT_ORDER_ID", "TRADING_HALTED", "STRATEGY_RATE_LIMIT"]) {
      expect(stats.denials.get(reason) ?? 0, reason).toBeGreaterThan(0)
    }
  }, 60_000)
})
