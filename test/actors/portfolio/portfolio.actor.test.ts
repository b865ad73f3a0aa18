import { describe, expect, it } from "vitest"
import { dec } from "../../../src/domain/decimal.js"
import type { OrderFilled } from "../../../src/domain/events/orders.js"
import type { ClientOrderId, FillId, VenueOrderId } from "../../../src/domain/ids.js"
import { ACCOUNT, ETH, submit, XBT, xbt } from "../risk/fixtures.js"
import { PortfolioActor } from "../../../src/actors/portfolio/portfolio.actor.js"
import { makeSimulatedClock } from "../../../src/actors/clock.js"
import { makeCore } from "../orders/rig.js"

let k = 0
const fill = (side: "buy" | "sell", qty: string, price: string, fee = "1", instrument = XBT): OrderFilled => ({
  _tag: "OrderFilled",
  id: `f${++k}`,
  ts: 0,
  source: "venue",
  account: ACCOUNT,
  instrument,
  clientOrderId: "ext" as ClientOrderId,
  venueOrderId: "v" as VenueOrderId,
  fillId: `fill-${k}` as FillId,
  side,
  price: dec(price),
  qty: dec(qty),
  fee: dec(fee),
  feeCurrency: "USD",
  liquidity: "taker"
})

describe("the portfolio", () => {
  it("nets fills into one position with average entry, realized PnL net of fees and unrealized PnL at the mid", () => {
    const { portfolio, setBook } = makeCore()
    portfolio.onFill(fill("buy", "2", "50000"))
    portfolio.onFill(fill("buy", "1", "50300"))
    portfolio.onFill(fill("sell", "1", "50500"))
    const p = portfolio.position(XBT)!
    expect(p.quantity.toString()).toBe("2")
    expect(p.avgEntryPrice.toString()).toBe("50100")
    expect(p.realizedPnl.toString()).toBe("397") // (50500 - 50100) - 3 fees
    setBook(XBT, dec("50199.5"), dec("50200.5"))
    expect(portfolio.unrealized(XBT).toString()).toBe("200")
    expect(portfolio.dailyPnl().toString()).toBe("597")
    expect(portfolio.exposures().gross.toString()).toBe("100400")
  })

  it("a fill delivered twice counts once", () => {
    const { portfolio } = makeCore()
    const f = fill("sell", "1", "50000")
    expect(portfolio.onFill(f)).toBe(true)
    expect(portfolio.onFill(f)).toBe(false)
    expect(portfolio.position(XBT)!.quantity.toString()).toBe("-1")
    expect(portfolio.duplicateFills).toBe(1)
  })

  it("a venue mark price wins over the book mid, and gross and net exposure add up across instruments", () => {
    const { portfolio, setBook } = makeCore()
    portfolio.onFill(fill("buy", "1", "50000", "0"))
    portfolio.onFill(fill("sell", "10", "3000", "0", ETH))
    portfolio.onMark(XBT, dec("51000"))
    setBook(XBT, dec("49999.5"), dec("50000.5"))
    setBook(ETH, dec("2999.99"), dec("3000.01"))
    const e = portfolio.exposures()
    expect([e.gross.toString(), e.net.toString()]).toEqual(["81000", "21000"])
    expect(portfolio.unrealized(XBT).toString()).toBe("1000")
  })

  it("positions and daily PnL feed risk: a loss beyond the daily limit halts the account", () => {
    const core = makeCore()
    core.portfolio.onFill(fill("buy", "1", "50000", "0"))
    core.setBook(XBT, dec("48999.5"), dec("49000.5"))
    expect(core.risk.status).toBe("active")
    core.setBook(XBT, dec("48998.5"), dec("48999.5"))
    expect(core.risk.status).toBe("halted")
    const d = core.manager.handle(submit({ price: "49000" }))
    expect(d._tag === "Denied" && d.event.reason).toBe("DAILY_LOSS_LIMIT")
  })
})

describe("the portfolio's memory of fills", () => {
  it("a repeat of the first fill after 20 times its memory of others still counts once", () => {
    const portfolio = new PortfolioActor({ account: ACCOUNT, clock: makeSimulatedClock(0), emit: () => undefined, fillIdCapacity: 500 })
    portfolio.registerInstrument(xbt)
    const at = (f: OrderFilled, venueTs: number): OrderFilled => ({ ...f, venueTs })
    const first = at(fill("buy", "0.001", "50000", "0"), 1)
    expect(portfolio.onFill(first)).toBe(true)
    for (let i = 0; i < 10_000; i++) portfolio.onFill(at(fill(i % 2 === 0 ? "sell" : "buy", "0.001", "50000", "0"), 2 + i))
    const qty = portfolio.position(XBT)!.quantity.toString()
    expect(portfolio.onFill(first)).toBe(false)
    expect(portfolio.position(XBT)!.quantity.toString()).toBe(qty)
    expect(portfolio.duplicateFills).toBe(1)
  })
})
