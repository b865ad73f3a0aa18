import { Decimal, ZERO } from "../../domain/decimal.js"
import { evaluatePortfolio, nextBreach, nextBreaker, ReturnWindow, type PortfolioFigures, type RiskPosition } from "../../domain/portfolio-risk/index.js"
import type { PortfolioRiskSettings } from "./config.js"

/** The causes of the trading state the monitor raises (machines/trading-state.machine.ts). */
export type PortfolioCause = "portfolioVar" | "portfolioStress" | "lossBreaker"
export const PORTFOLIO_CAUSES: ReadonlyArray<PortfolioCause> = ["portfolioVar", "portfolioStress", "lossBreaker"]

/** What the monitor needs of one account (a TradingNode, wired in `accountOf`). */
export interface RiskAccountPort {
  readonly account: string
  /** Signed values of the positions (quote currency, from exact decimals), with venue and base asset. */
  positions(): ReadonlyArray<RiskPosition>
  /** The current marks of the account's instruments. */
  marks(): ReadonlyArray<readonly [string, number]>
  /** Realized + unrealized loss since the day's start, net of fees (negative: a gain). */
  dayLoss(): Decimal
  /** The venue's equity, else undefined (the config's `portfolioValue` then applies). */
  equity(): Decimal | undefined
  /** Raise or lift a cause of the account's trading state. */
  setCause(cause: PortfolioCause, raised: boolean, why: string): void
  /** The breaker tripped: cancel every open order. */
  cancelAll(why: string): void
}

/** One signal for the alerts: a limit's use (figure / limit) and whether it is raised. */
export interface RiskSignal {
  readonly cause: PortfolioCause
  readonly scope: string
  readonly utilization: number
  readonly raised: boolean
  readonly text: string
  readonly at: number
}

export interface ScopeView {
  /** An account id, or `firm` (every account of the node). */
  readonly scope: string
  readonly at: number
  readonly portfolioValue: string | null
  readonly observations: number
  /** VaR is enforced once the window holds `minHistory` returns. */
  readonly enforced: boolean
  readonly var99: number
  readonly var95: number
  readonly es99: number
  readonly es95: number
  readonly parametricVar99: number
  readonly parametricVar95: number
  readonly stressLoss: number
  readonly worstScenario: string | null
  readonly scenarios: ReadonlyArray<{ readonly name: string; readonly pnl: number }>
  readonly gross: number
  readonly net: number
  readonly dayLoss: string
  /** Limits in the quote currency (null while the portfolio value is unknown). */
  readonly limits: { readonly var: number | null; readonly stress: number | null; readonly loss: string | null }
  /** Limit − figure (null when unknown). */
  readonly headroom: { readonly var: number | null; readonly stress: number | null; readonly loss: string | null }
  readonly breached: { readonly portfolioVar: boolean; readonly portfolioStress: boolean; readonly lossBreaker: boolean }
  /** Milliseconds the evaluation took (the slice it held the event loop). */
  readonly evalMs: number
}

export interface PortfolioRiskView {
  readonly settings: { readonly everyMs: number; readonly window: number; readonly returnIntervalMs: number; readonly minHistory: number; readonly varLimit: string; readonly stressLimit: string; readonly lossLimit: string; readonly hysteresis: string; readonly cancelOnBreaker: boolean }
  readonly evaluations: number
  readonly scopes: ReadonlyArray<ScopeView>
}

export interface MonitorDeps {
  readonly now: () => number
  readonly onSignal?: (s: RiskSignal) => void
  readonly onEvaluated?: (v: ScopeView) => void
  readonly log?: (m: string) => void
}

type Flags = { portfolioVar: boolean; portfolioStress: boolean; lossBreaker: boolean }
const cleared = (): Flags => ({ portfolioVar: false, portfolioStress: false, lossBreaker: false })

const fmt = (n: number): string => (Number.isFinite(n) ? n.toFixed(2) : "n/a")
const pct = (d: Decimal): string => `${d.times(100).toString()}%`

/**
 * The portfolio risk monitor (docs/portfolio-risk.md): on a cadence (`everyMs`) and after fills,
 * it records the marks into the return window, then evaluates each account and the firm (all
 * accounts) — VaR/ES, stress, the day's loss — each in its own macrotask (setImmediate), so no
 * slice holds the event loop longer than one evaluation (bench `risk.portfolio_eval`). A limit
 * crossed raises its cause of the trading state on the account (the firm's: on every account);
 * its recovery past the hysteresis lifts it. Only changes are sent: an operator who lifts a cause
 * explicitly while it is still breached is not overruled until the figure has recovered once.
 */
export class PortfolioRiskMonitor {
  readonly window: ReturnWindow
  private readonly flags = new Map<string, Flags>()
  /** What each account's causes were last set to by the monitor. */
  private readonly sent = new Map<string, Flags>()
  private readonly views = new Map<string, ScopeView>()
  private timer: ReturnType<typeof setInterval> | undefined
  private pending: ReturnType<typeof setTimeout> | undefined
  private running = false
  private lastRun = 0
  evaluations = 0

  constructor(
    readonly settings: PortfolioRiskSettings,
    private readonly accounts: ReadonlyArray<RiskAccountPort>,
    private readonly deps: MonitorDeps
  ) {
    this.window = new ReturnWindow({ capacity: settings.window, intervalMs: settings.returnIntervalMs })
  }

  start(): void {
    if (this.timer !== undefined) return
    this.timer = setInterval(() => void this.run(), this.settings.everyMs)
    this.timer.unref?.()
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer)
    if (this.pending !== undefined) clearTimeout(this.pending)
    this.timer = undefined
    this.pending = undefined
  }

  /** A fill moved a position: evaluate soon (at most one extra run per 100 ms, never inline). */
  afterFill(): void {
    if (this.pending !== undefined || this.timer === undefined) return
    const wait = Math.max(0, 100 - (this.deps.now() - this.lastRun))
    this.pending = setTimeout(() => {
      this.pending = undefined
      void this.run()
    }, wait)
    this.pending.unref?.()
  }

  /** One round: sample marks, then each account and the firm in their own slices. */
  async run(): Promise<void> {
    if (this.running) return
    this.running = true
    try {
      this.lastRun = this.deps.now()
      this.sample()
      const firm: RiskPosition[] = []
      let firmLoss = ZERO
      let firmValue: Decimal | undefined = ZERO
      const checked = new Map<string, Flags>()
      for (const a of this.accounts) {
        await yieldSlice()
        const positions = a.positions()
        const loss = a.dayLoss()
        const value = a.equity() ?? this.settings.portfolioValue
        firm.push(...positions)
        firmLoss = firmLoss.plus(loss)
        firmValue = firmValue === undefined || value === undefined ? undefined : firmValue.plus(value)
        checked.set(a.account, this.evaluate(a.account, positions, loss, value))
      }
      await yieldSlice()
      const firmFlags = this.accounts.length > 1 ? this.evaluate("firm", firm, firmLoss, firmValue) : cleared()
      for (const a of this.accounts) this.apply(a, checked.get(a.account) ?? cleared(), firmFlags)
      this.evaluations++
    } catch (e) {
      this.deps.log?.(`portfolio risk: evaluation failed: ${e instanceof Error ? e.message : String(e)}`)
    } finally {
      this.running = false
    }
  }

  /** The marks of every account's instruments into the return window (one return per interval). */
  sample(): void {
    const marks = new Map<string, number>()
    for (const a of this.accounts) for (const [i, m] of a.marks()) marks.set(i, m)
    this.window.observe(this.deps.now(), marks)
  }

  private evaluate(scope: string, positions: ReadonlyArray<RiskPosition>, dayLoss: Decimal, value: Decimal | undefined): Flags {
    const t0 = performance.now()
    const s = this.settings
    const f: PortfolioFigures = evaluatePortfolio(this.window, positions, s.scenarios, s.minHistory)
    const h = s.hysteresis.toNumber()
    const prev = this.flags.get(scope) ?? cleared()
    const varLimit = value === undefined ? Number.NaN : value.times(s.varLimit).toNumber()
    const stressLimit = value === undefined ? Number.NaN : value.times(s.stressLimit).toNumber()
    const lossLimit = value?.times(s.lossLimit)
    const next: Flags = {
      portfolioVar: f.enforced ? nextBreach(prev.portfolioVar, f.measures.var99, varLimit, h) : prev.portfolioVar,
      portfolioStress: nextBreach(prev.portfolioStress, f.stressLoss, stressLimit, h),
      lossBreaker: value === undefined ? prev.lossBreaker : nextBreaker(prev.lossBreaker, dayLoss, value, s.lossLimit, h)
    }
    this.flags.set(scope, next)
    const now = this.deps.now()
    const view: ScopeView = {
      scope,
      at: now,
      portfolioValue: value?.toString() ?? null,
      observations: f.measures.observations,
      enforced: f.enforced,
      var99: f.measures.var99,
      var95: f.measures.var95,
      es99: f.measures.es99,
      es95: f.measures.es95,
      parametricVar99: f.measures.parametricVar99,
      parametricVar95: f.measures.parametricVar95,
      stressLoss: f.stressLoss,
      worstScenario: f.worstScenario ?? null,
      scenarios: f.stress,
      gross: f.gross,
      net: f.net,
      dayLoss: dayLoss.toString(),
      limits: { var: value === undefined ? null : varLimit, stress: value === undefined ? null : stressLimit, loss: lossLimit?.toString() ?? null },
      headroom: {
        var: value === undefined || !Number.isFinite(f.measures.var99) ? null : varLimit - f.measures.var99,
        stress: value === undefined ? null : stressLimit - f.stressLoss,
        loss: lossLimit === undefined ? null : lossLimit.minus(dayLoss).toString()
      },
      breached: next,
      evalMs: performance.now() - t0
    }
    this.views.set(scope, view)
    this.deps.onEvaluated?.(view)
    if (this.deps.onSignal !== undefined && value !== undefined) {
      const why = this.whyOf(scope, view, value)
      if (f.enforced && Number.isFinite(f.measures.var99)) this.deps.onSignal({ cause: "portfolioVar", scope, utilization: f.measures.var99 / varLimit, raised: next.portfolioVar, text: why.portfolioVar, at: now })
      this.deps.onSignal({ cause: "portfolioStress", scope, utilization: f.stressLoss / stressLimit, raised: next.portfolioStress, text: why.portfolioStress, at: now })
      this.deps.onSignal({ cause: "lossBreaker", scope, utilization: lossLimit === undefined || lossLimit.isZero() ? 0 : dayLoss.dividedBy(lossLimit).toNumber(), raised: next.lossBreaker, text: why.lossBreaker, at: now })
    }
    return next
  }

  private whyOf(scope: string, v: ScopeView, value: Decimal): Record<PortfolioCause, string> {
    const s = this.settings
    const where = scope === "firm" ? "firm-wide" : `account ${scope}`
    return {
      portfolioVar: `1-day 99% VaR ${fmt(v.var99)} vs limit ${fmt(v.limits.var ?? Number.NaN)} (${pct(s.varLimit)} of portfolio value ${value.toString()}), ${where}`,
      portfolioStress: `stress loss ${fmt(v.stressLoss)} (${v.worstScenario ?? "no scenario"}) vs limit ${fmt(v.limits.stress ?? Number.NaN)} (${pct(s.stressLimit)} of ${value.toString()}), ${where}`,
      lossBreaker: `day's loss ${v.dayLoss} vs ${v.limits.loss ?? "n/a"} (${pct(s.lossLimit)} of ${value.toString()}), ${where}`
    }
  }

  /** Each cause of the account: raised when its own or the firm's limit is breached; changes only. */
  private apply(a: RiskAccountPort, own: Flags, firm: Flags): void {
    const before = this.sent.get(a.account) ?? cleared()
    const after: Flags = { portfolioVar: own.portfolioVar || firm.portfolioVar, portfolioStress: own.portfolioStress || firm.portfolioStress, lossBreaker: own.lossBreaker || firm.lossBreaker }
    const view = this.views.get(a.account)
    const firmView = this.views.get("firm")
    for (const cause of PORTFOLIO_CAUSES) {
      if (before[cause] === after[cause]) continue
      const v = own[cause] || !firm[cause] ? view : firmView
      const value = v?.portfolioValue
      const text = v === undefined || value === null || value === undefined ? cause : this.whyOf(v.scope, v, new Decimal(value))[cause]
      const why = after[cause] ? `${text}: limit breached` : `${text}: back under the limit less the hysteresis (${pct(this.settings.hysteresis)})`
      a.setCause(cause, after[cause], why)
      if (cause === "lossBreaker" && after[cause] && this.settings.cancelOnBreaker) a.cancelAll(why)
    }
    this.sent.set(a.account, after)
  }

  /** The scopes evaluated: each account, and `firm` when there is more than one. */
  scopes(): ReadonlyArray<string> {
    return [...this.accounts.map((a) => a.account), ...(this.accounts.length > 1 ? ["firm"] : [])]
  }

  view(): PortfolioRiskView {
    const s = this.settings
    return {
      settings: { everyMs: s.everyMs, window: s.window, returnIntervalMs: s.returnIntervalMs, minHistory: s.minHistory, varLimit: s.varLimit.toString(), stressLimit: s.stressLimit.toString(), lossLimit: s.lossLimit.toString(), hysteresis: s.hysteresis.toString(), cancelOnBreaker: s.cancelOnBreaker },
      evaluations: this.evaluations,
      scopes: [...this.views.values()]
    }
  }
}

const yieldSlice = (): Promise<void> => new Promise((r) => setImmediate(r))
