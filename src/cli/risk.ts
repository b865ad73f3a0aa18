import { parseCommand, printJson, type Io } from "./args.js"
import { call, resolveTarget } from "./daemon-client.js"
import { renderTable } from "./table.js"

export const RISK_USAGE = "usage: troupe risk [--port N] [--json]"

const money = (n: number | null): string => (n === null ? "-" : n.toFixed(2))
const text = (s: string | null): string => (s === null ? "-" : Number(s).toFixed(2))

/**
 * `troupe risk`: the portfolio risk monitor's limits, current values and headroom per account and
 * firm-wide (docs/portfolio-risk.md), then the stress scenarios and the newest alerts.
 */
export const runRisk = async (argv: ReadonlyArray<string>, io: Io): Promise<number> => {
  const { values } = parseCommand("risk", argv, {}, RISK_USAGE)
  const risk = await call(resolveTarget(values.port), "risk", (c) => c.node.risk())
  if (values.json) {
    printJson(io, risk)
    return 0
  }
  if (!risk.enabled || risk.settings === null) {
    io.out("portfolio risk monitor: off (config key portfolioRisk)\n")
  } else {
    const s = risk.settings
    io.out(
      `portfolio risk: ${risk.evaluations} evaluations every ${s.everyMs} ms; window ${s.window} returns of ${s.returnIntervalMs / 1000} s (VaR enforced from ${s.minHistory}); ` +
        `limits: VaR99 ${pct(s.varLimit)}, stress ${pct(s.stressLimit)}, day loss ${pct(s.lossLimit)} (halt${s.cancelOnBreaker ? ", cancel open orders" : ""}) of portfolio value; hysteresis ${pct(s.hysteresis)}\n`
    )
    const rows = risk.scopes.flatMap((v) => [
      [v.scope, "VaR 1d 99%", money(v.var99), money(v.limits.var), money(v.headroom.var), v.breached.portfolioVar ? "BREACHED" : v.enforced ? "ok" : `not enforced (${v.observations}/${s.minHistory} returns)`],
      [v.scope, "stress", money(v.stressLoss), money(v.limits.stress), money(v.headroom.stress), v.breached.portfolioStress ? `BREACHED (${v.worstScenario ?? "-"})` : `ok (${v.worstScenario ?? "-"})`],
      [v.scope, "day loss", text(v.dayLoss), text(v.limits.loss), text(v.headroom.loss), v.breached.lossBreaker ? "TRIPPED" : "ok"]
    ])
    io.out(renderTable(["SCOPE", "LIMIT", "VALUE", "LIMIT VALUE", "HEADROOM", "STATE"], rows))
    for (const v of risk.scopes) {
      io.out(`${v.scope}: portfolio value ${v.portfolioValue ?? "unknown"}, gross ${money(v.gross)}, net ${money(v.net)}; VaR95 ${money(v.var95)}, ES99 ${money(v.es99)}, ES95 ${money(v.es95)}, parametric VaR99 ${money(v.parametricVar99)}\n`)
      if (v.scenarios.length > 0) io.out(renderTable(["SCENARIO", "P&L"], v.scenarios.map((x) => [x.name, money(x.pnl)])))
    }
  }
  if (risk.alerts.length > 0) {
    io.out("alerts (newest last):\n")
    io.out(renderTable(["AT", "SEVERITY", "RULE", "SCOPE", "ALERT"], risk.alerts.slice(-10).map((a) => [new Date(a.at).toISOString(), a.severity, a.rule, a.scope, a.text])))
  }
  for (const w of risk.webhooks) io.out(`webhook ${w.name}: ${w.delivered} delivered, ${w.queued} queued${w.inFlight ? " (one in flight)" : ""}, ${w.failedAttempts} failed attempts, ${w.gaveUp} given up, ${w.dropped} dropped\n`)
  return 0
}

const pct = (fraction: string): string => `${(Number(fraction) * 100).toString()}%`
