import type { MetricsRegistry } from "../actors/metrics.js"
import type { StrategyHost } from "../actors/strategy/strategy-host.js"
import { strategyOfClientOrderId } from "../analytics/store-source.js"
import type { OrderEvent } from "../domain/events/orders.js"
import type { InstrumentId } from "../domain/ids.js"
import type { TradingNode } from "./trading-node.js"

/**
 * What a desk watches on a dashboard, per strategy and instrument: fills, traded notional,
 * positions, realized and unrealized PnL (quote currency). Counters move on each fill; positions
 * and PnL are read at scrape time. Metric values are floats: for charts and alerts only — the
 * ledger, risk and reports keep exact decimals.
 */
export const tradingMetrics = (metrics: MetricsRegistry, trading: TradingNode, account: string, strategies: () => StrategyHost | undefined): ((e: OrderEvent) => void) => {
  for (const a of trading.instrumentActors) {
    const instrument = a.instrumentId
    const labels = { account, instrument }
    metrics.sampled("position_contracts", "net position in contracts (+ long, - short), per instrument", "gauge", labels, () => trading.portfolio.position(instrument)?.quantity.toNumber() ?? 0)
    metrics.sampled("realized_pnl", "realized PnL net of fees, quote currency, per instrument", "gauge", labels, () => trading.portfolio.position(instrument)?.realizedPnl.toNumber() ?? 0)
    metrics.sampled("unrealized_pnl", "unrealized PnL at the book's mid, quote currency, per instrument", "gauge", labels, () => trading.portfolio.unrealized(instrument).toNumber())
  }
  const seen = new Set<string>()
  const strategyPosition = (strategy: string, instrument: string) => strategies()?.status(strategy)?.positions.find((p) => p.instrumentId === instrument)
  return (e) => {
    if (e._tag !== "OrderFilled") return
    const strategy = strategyOfClientOrderId(e.clientOrderId)
    const labels = { strategy, instrument: e.instrument }
    const contractSize = trading.instrument(e.instrument as InstrumentId)?.contractSize
    metrics.counter("fills_total", "fills, per strategy and instrument", labels).inc()
    metrics.counter("traded_notional_total", "traded notional (price x quantity x contract size), quote currency, per strategy and instrument", labels).inc(e.price.times(e.qty).times(contractSize ?? 1).toNumber())
    const key = `${strategy} ${e.instrument}`
    if (seen.has(key)) return
    seen.add(key)
    metrics.sampled("strategy_position_contracts", "a strategy's net position in contracts, per instrument", "gauge", labels, () => strategyPosition(strategy, e.instrument)?.quantity.toNumber() ?? 0)
    metrics.sampled("strategy_realized_pnl", "a strategy's realized PnL net of fees, quote currency, per instrument", "gauge", labels, () => strategyPosition(strategy, e.instrument)?.realizedPnl.toNumber() ?? 0)
  }
}
