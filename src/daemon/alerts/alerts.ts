import type { AlertRaised } from "../../domain/events/alert.js"
import type { CanonicalEvent } from "../../domain/events/index.js"
import { DEFAULT_RULES, type AlertRuleConfig, type AlertsConfig, type Severity } from "./config.js"
import { WebhookChannel, type WebhookStats } from "./webhook.js"

/**
 * Alerts (docs/portfolio-risk.md, "Alerts"). Signals come from the events the node publishes
 * (`TradingStateChanged` with its cause: an operator's halt, journal or audit trouble, the daily
 * loss, a reconciliation mismatch, the portfolio risk limits; `ReconciliationNeeded`), from the
 * portfolio risk monitor (limit use, for threshold rules) and from strategy faults. Each rule that
 * matches and is not cooling down makes one alert: journaled first (`AlertRaised`), then handed to
 * its channels — the log, the inspector's banner (the newest alerts, on `/api/risk` and the
 * stream), webhooks (queued; see webhook.ts). Nothing here waits: `signal` returns at once.
 */
export interface AlertSignal {
  /** A cause of the trading state, `reconciliation`, `strategyFault`, ... */
  readonly cause: string
  /** An account, `firm`, a strategy id. */
  readonly scope: string
  readonly change: AlertRaised["change"]
  readonly text: string
  readonly at: number
  /** Figure / limit: only threshold rules look at it. */
  readonly utilization?: number
}

export interface AlertView {
  readonly id: string
  readonly at: number
  readonly rule: string
  readonly severity: Severity
  readonly cause: string
  readonly scope: string
  readonly change: AlertRaised["change"]
  readonly text: string
}

export interface AlertDeps {
  readonly now: () => number
  readonly log: (m: string) => void
  /** Journals the alert (fire and forget: the journal's own backlog keeps it). */
  readonly record: (e: AlertRaised) => void
  /** The inspector's banner: the alert to every stream subscriber. */
  readonly banner?: (a: AlertView) => void
}

const BANNER_KEEP = 50

export class AlertEngine {
  private readonly rules: ReadonlyArray<AlertRuleConfig>
  readonly webhooks: ReadonlyMap<string, WebhookChannel>
  private readonly lastFired = new Map<string, number>()
  private readonly recent: AlertView[] = []
  private seq = 0
  fired = 0
  suppressed = 0

  constructor(
    config: AlertsConfig | undefined,
    private readonly deps: AlertDeps
  ) {
    this.rules = config?.rules ?? DEFAULT_RULES
    this.webhooks = new Map((config?.webhooks ?? []).map((w) => [w.name, new WebhookChannel(w, deps.log)] as const))
  }

  /** The node's canonical events: trading-state changes and reconciliation trouble alert. */
  onEvent(e: CanonicalEvent): void {
    if (e._tag === "TradingStateChanged") {
      const cause = e.cause ?? "operator"
      const change = e.change ?? "raised"
      this.signal({ cause, scope: e.account ?? "node", change, text: `${cause} ${change} on ${e.account ?? "node"}: ${e.from} → ${e.to}${e.why === undefined ? "" : ` (${e.why})`}`, at: e.ts })
    } else if (e._tag === "ReconciliationNeeded") {
      this.signal({ cause: "reconciliation", scope: e.account, change: "raised", text: `venue report for ${e.clientOrderId} on ${e.instrument} needs reconciliation (${e.kind})`, at: e.ts })
    }
  }

  signal(s: AlertSignal): void {
    for (const [i, rule] of this.rules.entries()) {
      if (rule.cause !== "*" && rule.cause !== s.cause) continue
      if (rule.threshold !== undefined) {
        if (s.change !== "threshold" || s.utilization === undefined || !(s.utilization >= rule.threshold)) continue
      } else if (s.change === "threshold") continue
      const key = `${i}|${s.cause}|${s.scope}|${s.change === "lifted" ? "lifted" : "on"}`
      const last = this.lastFired.get(key)
      if (last !== undefined && s.at - last < rule.cooldownSeconds * 1000) {
        this.suppressed++
        continue
      }
      this.lastFired.set(key, s.at)
      this.fire(rule, i, s)
    }
  }

  private fire(rule: AlertRuleConfig, index: number, s: AlertSignal): void {
    const name = rule.name ?? `rule${index}`
    const severity = rule.severity
    const view: AlertView = { id: `alert/${this.deps.now()}-${++this.seq}`, at: s.at, rule: name, severity, cause: s.cause, scope: s.scope, change: s.change, text: s.text.slice(0, 1024) }
    this.fired++
    const event: AlertRaised = { _tag: "AlertRaised", id: view.id, ts: view.at, source: "node:alerts", rule: name, severity, cause: s.cause.slice(0, 64), scope: s.scope.slice(0, 256), change: s.change, text: view.text, ...(s.utilization === undefined || !Number.isFinite(s.utilization) ? {} : { utilization: s.utilization }) }
    try {
      this.deps.record(event)
    } catch (e) {
      this.deps.log(`alert ${view.id}: not journaled: ${e instanceof Error ? e.message : String(e)}`)
    }
    const channels = rule.channels ?? ["log", "inspector", ...this.webhooks.keys()]
    for (const ch of channels) {
      if (ch === "log") this.deps.log(`ALERT ${severity.toUpperCase()} [${name}] ${view.text}`)
      else if (ch === "inspector") {
        this.recent.push(view)
        if (this.recent.length > BANNER_KEEP) this.recent.shift()
        this.deps.banner?.(view)
      } else this.webhooks.get(ch)?.enqueue({ text: `[${severity.toUpperCase()}] ${view.text}`, alert: view })
    }
  }

  /** The newest alerts shown in the inspector's banner, newest last. */
  latest(): ReadonlyArray<AlertView> {
    return [...this.recent]
  }

  webhookStats(): ReadonlyArray<WebhookStats> {
    return [...this.webhooks.values()].map((w) => w.stats())
  }

  close(): void {
    for (const w of this.webhooks.values()) w.close()
  }
}
