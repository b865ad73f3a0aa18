import { Schema } from "effect"

/**
 * Config key `alerts` (docs/portfolio-risk.md, "Alerts"): rules → channels. A rule matches
 * signals of one `cause` (a cause of the trading state, `reconciliation`, `strategyFault`, or `*`);
 * with a `threshold` it matches the portfolio risk monitor's limit use (figure / limit ≥ threshold)
 * instead of the cause being raised; `cooldownSeconds` keeps one rule quiet per cause and scope.
 * Channels: `log`, `inspector`, and each webhook by its name.
 */
const optional = <S extends Schema.Schema.Any>(schema: S) => Schema.optionalWith(schema, { exact: true })
const withDefault = <S extends Schema.Schema.AnyNoContext>(schema: S, value: () => Schema.Schema.Type<S>) => Schema.optionalWith(schema, { exact: true, default: value })
const Name = Schema.String.pipe(Schema.pattern(/^[A-Za-z0-9._-]{1,64}$/)).annotations({ description: "a name [A-Za-z0-9._-]{1,64}" })
const HttpUrl = Schema.String.pipe(
  Schema.filter((s) => {
    try {
      return ["http:", "https:"].includes(new URL(s).protocol)
    } catch {
      return false
    }
  }),
  Schema.annotations({ description: "an http(s) URL" })
)

export const SEVERITIES = ["info", "warning", "high", "critical"] as const
export type Severity = (typeof SEVERITIES)[number]
export const ALERT_CAUSES = ["*", "operator", "journal", "audit", "dailyLoss", "reconciliation", "portfolioVar", "portfolioStress", "lossBreaker", "strategyFault"] as const
export type AlertCause = (typeof ALERT_CAUSES)[number]

export const WebhookConfig = Schema.Struct({
  name: Name,
  url: HttpUrl,
  /** Per attempt. */
  timeoutMs: withDefault(Schema.Int.pipe(Schema.between(100, 60_000)), () => 3_000),
  /** Attempts after the first. */
  retries: withDefault(Schema.Int.pipe(Schema.between(0, 20)), () => 5),
  /** First retry delay; doubled each time, capped at 60 s. */
  backoffMs: withDefault(Schema.Int.pipe(Schema.between(10, 60_000)), () => 500),
  /** Alerts waiting for this webhook beyond which the oldest is dropped (counted). */
  maxQueue: withDefault(Schema.Int.pipe(Schema.between(1, 100_000)), () => 1_000)
})
export type WebhookConfig = typeof WebhookConfig.Type

export const AlertRuleConfig = Schema.Struct({
  name: optional(Name),
  cause: Schema.Literal(...ALERT_CAUSES),
  severity: Schema.Literal(...SEVERITIES),
  /** Limit use (figure / limit) at or beyond which the rule fires, e.g. 0.8; only for the monitor's causes. */
  threshold: optional(Schema.Number.pipe(Schema.between(0, 100))),
  cooldownSeconds: withDefault(Schema.Number.pipe(Schema.between(0, 86_400)), () => 60),
  /** `log`, `inspector`, or a webhook's name; default: every channel. */
  channels: optional(Schema.Array(Name))
})
export type AlertRuleConfig = typeof AlertRuleConfig.Type

export const AlertsConfig = Schema.Struct({
  webhooks: withDefault(Schema.Array(WebhookConfig), () => []),
  rules: optional(Schema.Array(AlertRuleConfig))
})
export type AlertsConfig = typeof AlertsConfig.Type

/** Without `rules`: every cause raised or lifted alerts (critical for halts, high otherwise). */
export const DEFAULT_RULES: ReadonlyArray<AlertRuleConfig> = [
  { name: "halts", cause: "*", severity: "critical", cooldownSeconds: 0 },
  { name: "var-near-limit", cause: "portfolioVar", severity: "warning", threshold: 0.8, cooldownSeconds: 300 },
  { name: "strategy-faults", cause: "strategyFault", severity: "high", cooldownSeconds: 60 }
]

/** The first bad key (path under `alerts`, and why), or undefined. */
export const checkAlerts = (c: AlertsConfig): { readonly path: string; readonly reason: string } | undefined => {
  const names = new Set<string>()
  for (const [i, w] of c.webhooks.entries()) {
    if (w.name === "log" || w.name === "inspector") return { path: `alerts.webhooks[${i}].name`, reason: `expected a name other than the built-in channels log and inspector, got ${JSON.stringify(w.name)}` }
    if (names.has(w.name)) return { path: `alerts.webhooks[${i}].name`, reason: `expected a unique name, got ${JSON.stringify(w.name)} twice` }
    names.add(w.name)
  }
  for (const [i, r] of (c.rules ?? []).entries()) {
    for (const [j, ch] of (r.channels ?? []).entries()) {
      if (ch !== "log" && ch !== "inspector" && !names.has(ch)) return { path: `alerts.rules[${i}].channels[${j}]`, reason: `expected log, inspector or a webhook's name (${[...names].join(", ") || "none configured"}), got ${JSON.stringify(ch)}` }
    }
    if (r.threshold !== undefined && !["portfolioVar", "portfolioStress", "lossBreaker"].includes(r.cause)) {
      return { path: `alerts.rules[${i}].threshold`, reason: `expected a threshold only on portfolioVar, portfolioStress or lossBreaker (the monitor's limits), got one on ${r.cause}` }
    }
  }
  return undefined
}
