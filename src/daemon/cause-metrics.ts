import type { MetricsRegistry } from "../actors/metrics.js"
import { TRADING_CAUSES } from "../machines/trading-state.machine.js"
import type { TradingNode } from "./trading-node.js"

const LEVEL = { active: 0, reducing: 1, halted: 2 } as const

/**
 * The trading state on `/metrics`: the effective state, and one series per cause (so an alert
 * can say which cause holds the account and since when; who and why are in `status`, the
 * inspector and the audit trail — free text does not belong in labels).
 */
export const metricsOfCauses = (metrics: MetricsRegistry, account: string, trading: TradingNode): void => {
  metrics.sampled("trading_state", "effective trading state: 0 active, 1 reducing (reduce-only), 2 halted", "gauge", { account }, () => LEVEL[trading.risk.status])
  for (const cause of TRADING_CAUSES) {
    const of = () => trading.risk.causes().find((c) => c.cause === cause)
    metrics.sampled("trading_cause_active", "a cause of the trading state is active: 0 no, 1 reducing, 2 halted", "gauge", { account, cause }, () => {
      const c = of()
      return c === undefined ? 0 : LEVEL[c.level]
    })
    metrics.sampled("trading_cause_since_seconds", "when the active cause was raised (epoch seconds; 0 when not active)", "gauge", { account, cause }, () => Math.floor((of()?.since ?? 0) / 1000))
  }
}
