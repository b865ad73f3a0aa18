import fc from "fast-check"
import { afterAll, describe, expect, it } from "vitest"
import { Decimal } from "../../../src/domain/decimal.js"
import { defaultInstrument } from "../../../src/adapters/venues/simulator/instruments.js"
import { MatchingEngine, type EditCommand, type OrderRef, type SendCommand } from "../../../src/adapters/venues/simulator/matching-engine.js"
import { DecimalMatchingEngine } from "./oracle/decimal-matching-engine.js"

/**
 * The integer engine against the Decimal engine it replaced (kept unchanged as the oracle):
 * on random order flows — every order type, both sides, reduce-only, client order ids and
 * their reuse, edits of size and price (priority kept or lost), cancels, cancel-all, stops,
 * suspensions, self-trades, prices and sizes on and off the grid, zero and negative — both
 * return the same statuses, reply events and effects, command by command, and end with the
 * same book, queues, orders, fills, positions and snapshot. JSON compares Decimals by value.
 */

// Two grids: XBT (tick 0.5, a step that is not a power of ten; lot 0.0001) and ETH (0.1, 0.001).
const SYMBOLS = ["PF_XBTUSD", "PF_ETHUSD"] as const
const MID: Record<string, { base: string; tick: string; lot: string }> = {
  PF_XBTUSD: { base: "60000", tick: "0.5", lot: "0.0001" },
  PF_ETHUSD: { base: "3000", tick: "0.1", lot: "0.001" }
}
const ACCOUNTS = ["a", "b", "c"] as const

const priceArb = (symbol: string): fc.Arbitrary<Decimal> => {
  const m = MID[symbol] as { base: string; tick: string }
  return fc.oneof(
    { weight: 12, arbitrary: fc.integer({ min: -4, max: 4 }).map((k) => new Decimal(m.base).plus(new Decimal(m.tick).times(k))) },
    // Off the tick (half a tick, a tenth), zero, negative, too many decimals.
    { weight: 1, arbitrary: fc.constantFrom("0.25", "0.05", "0.00001").map((off) => new Decimal(m.base).plus(off)) },
    { weight: 1, arbitrary: fc.constantFrom(new Decimal(0), new Decimal("-1"), new Decimal(m.base).neg()) }
  )
}

const sizeArb = (symbol: string): fc.Arbitrary<Decimal> => {
  const lot = new Decimal((MID[symbol] as { lot: string }).lot)
  return fc.oneof(
    { weight: 12, arbitrary: fc.integer({ min: 1, max: 8 }).map((n) => lot.times(n)) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 9 }).map((n) => lot.times(n).plus(lot.div(10))) },
    { weight: 1, arbitrary: fc.constantFrom(new Decimal(0), new Decimal("-1"), new Decimal("1e-12")) }
  )
}

type Op =
  | { readonly op: "send"; readonly cmd: SendCommand }
  | { readonly op: "edit"; readonly pick: number; readonly byCli: boolean; readonly size: Decimal | undefined; readonly limitPrice: Decimal | undefined; readonly stopPrice: Decimal | undefined }
  | { readonly op: "cancel"; readonly pick: number; readonly byCli: boolean }
  | { readonly op: "cancelAll"; readonly account: string; readonly symbol: string | undefined }
  | { readonly op: "suspend"; readonly symbol: string; readonly suspended: boolean }

const sendArb: fc.Arbitrary<Op> = fc.constantFrom(...SYMBOLS).chain((symbol) =>
  fc.record({
    account: fc.constantFrom(...ACCOUNTS),
    orderType: fc.oneof({ weight: 20, arbitrary: fc.constantFrom("lmt", "lmt", "lmt", "post", "ioc", "mkt", "fok", "stp", "take_profit") }, { weight: 1, arbitrary: fc.constant("trailing_stop") }),
    side: fc.oneof({ weight: 30, arbitrary: fc.constantFrom("buy", "sell") }, { weight: 1, arbitrary: fc.constant("hold") }),
    size: fc.option(sizeArb(symbol), { nil: undefined, freq: 30 }),
    limitPrice: fc.option(priceArb(symbol), { nil: undefined, freq: 8 }),
    stopPrice: fc.option(priceArb(symbol), { nil: undefined, freq: 2 }),
    cliOrdId: fc.option(fc.constantFrom("x1", "x2", "x3", "x4", "x5", "x6", "x7", "x".repeat(101)), { nil: undefined, freq: 2 }),
    reduceOnly: fc.oneof({ weight: 4, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) })
  }).map((r): Op => ({ op: "send", cmd: { symbol, ...r } }))
)

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 10, arbitrary: sendArb },
  {
    weight: 3,
    arbitrary: fc.constantFrom(...SYMBOLS).chain((symbol) =>
      fc.record({
        op: fc.constant("edit" as const), pick: fc.nat(), byCli: fc.boolean(),
        size: fc.option(sizeArb(symbol), { nil: undefined, freq: 3 }), limitPrice: fc.option(priceArb(symbol), { nil: undefined, freq: 2 }), stopPrice: fc.oneof({ weight: 6, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: priceArb(symbol) })
      })
    )
  },
  { weight: 3, arbitrary: fc.record({ op: fc.constant("cancel" as const), pick: fc.nat(), byCli: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("cancelAll" as const), account: fc.constantFrom(...ACCOUNTS), symbol: fc.option(fc.constantFrom(...SYMBOLS), { nil: undefined }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("suspend" as const), symbol: fc.constantFrom(...SYMBOLS), suspended: fc.constantFrom(true, false, false, false) }) }
)

/** Decimals by value (decimal.js's toJSON), undefined fields dropped: what a client could tell apart. */
const json = (x: unknown): unknown => JSON.parse(JSON.stringify(x) ?? "null")

type Engine = MatchingEngine | DecimalMatchingEngine

const makeBoth = (seed: number): [MatchingEngine, DecimalMatchingEngine] => {
  const instruments = SYMBOLS.map(defaultInstrument)
  return [new MatchingEngine({ instruments, seed }), new DecimalMatchingEngine({ instruments, seed })]
}

/** Every observable query of an engine, in one value. */
const observe = (e: Engine): unknown =>
  json({
    depth: SYMBOLS.map((s) => e.depth(s)),
    queues: SYMBOLS.map((s) => e.queues(s)),
    best: SYMBOLS.map((s) => [e.bestBid(s), e.bestAsk(s), e.lastPrice(s)]),
    accounts: ACCOUNTS.map((a) => ({ open: e.openOrders(a), all: e.allOrders(a), fills: e.fills(a), positions: e.positions(a) })),
    snapshot: e.snapshot([...ACCOUNTS])
  })

/** Runs one op on an engine; refs are picked from the orders seen so far (the same on both). */
const apply = (e: Engine, op: Op, now: number, seen: ReadonlyArray<{ account: string; orderId: string; cliOrdId: string | undefined }>): unknown => {
  const ref = (pick: number, byCli: boolean): OrderRef => {
    // Mostly the newest orders, which are the ones still open.
    const o = seen[seen.length - 1 - (pick % Math.min(seen.length, 6))]
    if (o === undefined) return { account: "a", orderId: "none" }
    return byCli && o.cliOrdId !== undefined ? { account: o.account, cliOrdId: o.cliOrdId } : { account: o.account, orderId: o.orderId }
  }
  switch (op.op) {
    case "send":
      return e.send(op.cmd, now)
    case "edit": {
      const cmd: EditCommand = { ...ref(op.pick, op.byCli), size: op.size, limitPrice: op.limitPrice, stopPrice: op.stopPrice }
      return e.edit(cmd, now)
    }
    case "cancel":
      return e.cancel(ref(op.pick, op.byCli), now)
    case "cancelAll":
      return e.cancelAll(op.account, op.symbol, now)
    case "suspend":
      e.setSuspended(op.symbol, op.suspended)
      return op.suspended
  }
}

/** What the random flows exercised (status and whether it traded, per op and order type): guards the generator. */
const STATS = new Map<string, number>()
afterAll(() => {
  if (process.env["ORACLE_STATS"] !== undefined) console.log([...STATS].sort())
})
describe("integer matching engine against the Decimal oracle", () => {
  it("returns the same outcomes, effects, book, orders, fills and positions on random order flows", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.array(opArb, { minLength: 10, maxLength: 80, size: "max" }), (seed, ops) => {
        const [integer, oracle] = makeBoth(seed)
        const seen: Array<{ account: string; orderId: string; cliOrdId: string | undefined }> = []
        ops.forEach((op, i) => {
          const now = 1_000 + i
          // Refs: mostly orders open now (edits and cancels that act), else any placed before (finished ones too).
          const open = ACCOUNTS.flatMap((a) => oracle.openOrders(a))
          const pool = i % 3 === 2 || open.length === 0 ? seen : open
          const got = json(apply(integer, op, now, pool))
          const want = json(apply(oracle, op, now, pool))
          expect(got).toEqual(want)
          const w = want as { status?: string; events?: Array<{ type: string }> } | null
          if (op.op === "send" || op.op === "edit") {
            const key = `${op.op}:${op.op === "send" ? op.cmd.orderType : ""}:${w?.status ?? ""}:${(w?.events ?? []).some((ev) => ev.type === "EXECUTION") ? "x" : ""}`
            STATS.set(key, (STATS.get(key) ?? 0) + 1)
          }
          const placed = want as { status?: string; order?: { orderId: string; account: string; cliOrdId?: string } } | null
          const order = placed?.status === "placed" ? placed.order : undefined
          if (order !== undefined) seen.push({ account: order.account, orderId: order.orderId, cliOrdId: order.cliOrdId })
        })
        expect(observe(integer)).toEqual(observe(oracle))
      }),
      { numRuns: 80 }
    )
  })

  it("the random flows traded with every order type and edited resting orders (the comparison above is not vacuous)", () => {
    const count = (prefix: string, suffix = ""): number => [...STATS].filter(([k]) => k.startsWith(prefix) && k.endsWith(suffix)).reduce((n, [, v]) => n + v, 0)
    for (const type of ["lmt", "ioc", "mkt", "fok"]) expect(count(`send:${type}:placed:`, "x")).toBeGreaterThan(0)
    expect(count("send:stp:placed")).toBeGreaterThan(0)
    expect(count("send:take_profit:placed")).toBeGreaterThan(0)
    expect(count("send:post:postWouldExecute")).toBeGreaterThan(0)
    expect(count("edit::edited")).toBeGreaterThan(10)
  })

  it("restores a snapshot to the same state as the oracle, and keeps matching the same after it", () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 40 }), fc.array(sendArb, { minLength: 1, maxLength: 20 }), (before, after) => {
        const [integer, oracle] = makeBoth(5)
        const seen: Array<{ account: string; orderId: string; cliOrdId: string | undefined }> = []
        before.forEach((op, i) => {
          const out = json(apply(oracle, op, i, seen)) as { order?: { orderId: string; account: string; cliOrdId?: string } } | null
          apply(integer, op, i, seen)
          if (out?.order !== undefined) seen.push({ account: out.order.account, orderId: out.order.orderId, cliOrdId: out.order.cliOrdId })
        })
        const [integer2, oracle2] = makeBoth(9)
        expect(integer2.restore(integer.snapshot([...ACCOUNTS]))).toEqual({ offGrid: 0 })
        oracle2.restore(oracle.snapshot([...ACCOUNTS]))
        expect(observe(integer2)).toEqual(observe(oracle2))
        after.forEach((op, i) => expect(json(apply(integer2, op, 100 + i, []))).toEqual(json(apply(oracle2, op, 100 + i, []))))
        expect(observe(integer2)).toEqual(observe(oracle2))
      }),
      { numRuns: 60 }
    )
  })

  it("fills a resting order at a tick that is not a power of ten and reports it as Decimal text", () => {
    const [e] = makeBoth(3)
    e.send({ account: "m", symbol: "PF_XBTUSD", orderType: "lmt", side: "sell", size: new Decimal("0.0003"), limitPrice: new Decimal("60000.5") }, 1)
    const take = e.send({ account: "t", symbol: "PF_XBTUSD", orderType: "ioc", side: "buy", size: new Decimal("0.0001"), limitPrice: new Decimal("60001") }, 2)
    expect(take.events.filter((ev) => ev.type === "EXECUTION").map((ev) => ev.type === "EXECUTION" && [ev.price.toString(), ev.amount.toString()])).toEqual([["60000.5", "0.0001"]])
    expect(e.depthSteps("PF_XBTUSD").asks).toEqual([[120001, 2]])
    expect(e.depth("PF_XBTUSD").asks.map(([p, q]) => [p.toString(), q.toString()])).toEqual([["60000.5", "0.0002"]])
  })

  it("refuses a price off the tick and a size off the lot instead of rounding them", () => {
    const [e] = makeBoth(3)
    const offTick = e.send({ account: "a", symbol: "PF_XBTUSD", orderType: "lmt", side: "buy", size: new Decimal("0.0001"), limitPrice: new Decimal("60000.25") }, 1)
    const offLot = e.send({ account: "a", symbol: "PF_XBTUSD", orderType: "lmt", side: "buy", size: new Decimal("0.00015"), limitPrice: new Decimal("60000") }, 1)
    expect([offTick.status, offLot.status]).toEqual(["invalidPrice", "invalidSize"])
    expect(e.depth("PF_XBTUSD").bids).toEqual([])
  })
})
