import type { CancelAll } from "../../domain/events/intents.js"
import type { RiskPosition } from "../../domain/portfolio-risk/index.js"
import type { TradingNode } from "../trading-node.js"
import type { RiskAccountPort } from "./monitor.js"

/**
 * A trading node as the portfolio risk monitor sees it: reads of the current core's portfolio
 * (values and marks converted from their exact decimals once per evaluation), the venue's equity,
 * and the two things it may do — set a cause of the trading state (held while the core is down,
 * like every automatic cause) and cancel every open order when the breaker trips.
 */
export const accountOf = (node: TradingNode, now: () => number): RiskAccountPort => {
  let seq = 0
  return {
    account: node.account,
    positions: () => {
      const out: RiskPosition[] = []
      for (const r of node.portfolio.riskView()) if (!r.value.isZero()) out.push({ instrument: r.instrument.id, venue: r.instrument.venue, base: r.instrument.base, value: r.value.toNumber() })
      return out
    },
    marks: () => {
      const out: Array<readonly [string, number]> = []
      for (const r of node.portfolio.riskView()) if (r.mark !== undefined) out.push([r.instrument.id, r.mark.toNumber()])
      return out
    },
    dayLoss: () => node.portfolio.dailyPnl().negated(),
    equity: () => node.venueEquity(),
    setCause: (cause, raised, why) => node.automaticCause(cause, raised, why),
    cancelAll: () => {
      if (node.down) return
      const at = now()
      const intent: CancelAll = { _tag: "CancelAll", id: `risk/${node.account}-${at}-${++seq}-loss-breaker`, ts: at, source: "risk:loss-breaker", account: node.account }
      // Through the intent gateway: journaled first, then decided by risk (a cancel always passes).
      void node.intentGateway.submit(intent).catch(() => undefined)
    }
  }
}
