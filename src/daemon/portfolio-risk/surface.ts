import type { MetricsRegistry } from "../../actors/metrics.js"
import type { AlertEngine } from "../alerts/alerts.js"
import type { RiskView } from "../control-api/risk-view.js"
import type { PortfolioRiskMonitor, ScopeView } from "./monitor.js"

const num = (n: number | null): number | null => (n === null || !Number.isFinite(n) ? null : n)

/** The monitor and the alerts as `GET /api/risk` shows them (`troupe risk`). */
export const riskView = (monitor: PortfolioRiskMonitor | undefined, alerts: AlertEngine | undefined): RiskView => {
  const v = monitor?.view()
  return {
    enabled: monitor !== undefined,
    settings: v?.settings ?? null,
    evaluations: v?.evaluations ?? 0,
    scopes: (v?.scopes ?? []).map((s: ScopeView) => ({
      ...s,
      var99: num(s.var99),
      var95: num(s.var95),
      es99: num(s.es99),
      es95: num(s.es95),
      parametricVar99: num(s.parametricVar99),
      parametricVar95: num(s.parametricVar95),
      scenarios: s.scenarios.map((x) => ({ name: x.name, pnl: x.pnl })),
      limits: { var: num(s.limits.var), stress: num(s.limits.stress), loss: s.limits.loss },
      headroom: { var: num(s.headroom.var), stress: num(s.headroom.stress), loss: s.headroom.loss }
    })),
    alerts: [...(alerts?.latest() ?? [])],
    webhooks: [...(alerts?.webhookStats() ?? [])]
  }
}

/** `/metrics`: the monitor's figures, limits and breaches per scope (an account, or `firm`). */
export const portfolioRiskMetrics = (metrics: MetricsRegistry, monitor: PortfolioRiskMonitor): void => {
  const scopeOf = (scope: string) => monitor.view().scopes.find((s) => s.scope === scope)
  const finite = (n: number | null | undefined): number => (n === null || n === undefined || !Number.isFinite(n) ? 0 : n)
  metrics.sampled("portfolio_risk_evaluations_total", "evaluations of the portfolio risk monitor", "counter", {}, () => monitor.evaluations)
  metrics.sampled("portfolio_risk_window_returns", "returns held in the portfolio risk monitor's window", "gauge", {}, () => monitor.window.length)
  for (const scope of monitor.scopes()) {
    const g = (name: string, help: string, labels: Record<string, string>, read: (s: ScopeView) => number | null) => metrics.sampled(name, help, "gauge", { scope, ...labels }, () => finite(((s) => (s === undefined ? 0 : read(s)))(scopeOf(scope))))
    g("portfolio_var", "1-day historical value-at-risk (quote currency)", { confidence: "0.99" }, (s) => s.var99)
    g("portfolio_var", "1-day historical value-at-risk (quote currency)", { confidence: "0.95" }, (s) => s.var95)
    g("portfolio_es", "1-day historical expected shortfall (quote currency)", { confidence: "0.99" }, (s) => s.es99)
    g("portfolio_parametric_var", "1-day parametric (variance-covariance) value-at-risk", { confidence: "0.99" }, (s) => s.parametricVar99)
    g("portfolio_stress_loss", "worst stress scenario loss (quote currency)", {}, (s) => s.stressLoss)
    g("portfolio_day_loss", "loss since the day's start, realized + unrealized, net of fees", {}, (s) => Number(s.dayLoss))
    g("portfolio_value", "portfolio value the limits are fractions of (0 while unknown)", {}, (s) => (s.portfolioValue === null ? 0 : Number(s.portfolioValue)))
    g("portfolio_limit", "a portfolio risk limit in the quote currency", { limit: "var" }, (s) => s.limits.var)
    g("portfolio_limit", "a portfolio risk limit in the quote currency", { limit: "stress" }, (s) => s.limits.stress)
    g("portfolio_limit", "a portfolio risk limit in the quote currency", { limit: "loss" }, (s) => (s.limits.loss === null ? null : Number(s.limits.loss)))
    g("portfolio_limit_breached", "1 while a portfolio risk limit is breached (its cause raised)", { limit: "var" }, (s) => (s.breached.portfolioVar ? 1 : 0))
    g("portfolio_limit_breached", "1 while a portfolio risk limit is breached (its cause raised)", { limit: "stress" }, (s) => (s.breached.portfolioStress ? 1 : 0))
    g("portfolio_limit_breached", "1 while a portfolio risk limit is breached (its cause raised)", { limit: "loss" }, (s) => (s.breached.lossBreaker ? 1 : 0))
    g("portfolio_risk_eval_ms", "the last evaluation's time, ms (the slice it held the event loop)", {}, (s) => s.evalMs)
  }
}

/** `/metrics`: alerts fired and each webhook's deliveries. */
export const alertMetrics = (metrics: MetricsRegistry, alerts: AlertEngine): void => {
  metrics.sampled("alerts_fired_total", "alerts fired (journaled and sent to their channels)", "counter", {}, () => alerts.fired)
  metrics.sampled("alerts_suppressed_total", "alerts held back by their rule's cool-down", "counter", {}, () => alerts.suppressed)
  for (const [name, w] of alerts.webhooks) {
    metrics.sampled("alert_webhook_delivered_total", "alerts a webhook accepted (2xx)", "counter", { webhook: name }, () => w.delivered)
    metrics.sampled("alert_webhook_failed_attempts_total", "webhook attempts that failed (network, timeout, non-2xx)", "counter", { webhook: name }, () => w.failedAttempts)
    metrics.sampled("alert_webhook_gave_up_total", "alerts a webhook never took after every retry", "counter", { webhook: name }, () => w.gaveUp)
    metrics.sampled("alert_webhook_dropped_total", "alerts dropped from a full webhook queue", "counter", { webhook: name }, () => w.dropped)
  }
}
