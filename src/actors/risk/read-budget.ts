import type { ClockService } from "../clock.js"
import { RequestBudgetClosed, type RequestBudgetService, type VenueRead } from "../ports/request-budget.js"
import type { VenueRateLimiter } from "./rate-limiter.js"

interface Waiter {
  readonly call: VenueRead
  readonly costs: Readonly<Record<string, number>>
  readonly resolve: () => void
  readonly reject: (e: RequestBudgetClosed) => void
}

const RESOLVED: Promise<void> = Promise.resolve()

/**
 * Reads pay the venue's budgets too (every budget the read costs in, e.g. Binance's request
 * weight of the address): a read is reserved here (the risk actor's `RequestBudget`)
 * and sent only once its cost fits under the budget less the cancel reserve. A read that does not
 * fit waits in line (first come first served) for the window to free the cost; while reads wait,
 * risk counts their cost as taken when it checks submits and modifies (`held`), so the freed
 * budget goes to the reads first and a busy strategy cannot starve reconciliation. Cancels keep
 * their reserve and are not held back.
 */
export class ReadBudget implements RequestBudgetService {
  private readonly line: Waiter[] = []
  private readonly heldCosts: Record<string, number> = {}
  private cancelTimer: (() => void) | undefined
  private closed = false

  constructor(
    private readonly rate: VenueRateLimiter,
    private readonly clock: ClockService,
    /** Called as each read's cost is spent, before the caller may send it (journals it). */
    private readonly onSpent: (call: VenueRead, cost: number) => void
  ) {}

  /** The cost of the reads waiting in line, per budget (risk keeps it free for them). */
  get held(): Readonly<Record<string, number>> {
    return this.heldCosts
  }

  get waiting(): number {
    return this.line.length
  }

  readonly reserve = (call: VenueRead): Promise<void> => {
    if (this.closed) return Promise.reject(new RequestBudgetClosed({ call }))
    if (this.line.length === 0 && this.rate.fits(call)) {
      this.spend(call)
      return RESOLVED
    }
    return new Promise<void>((resolve, reject) => {
      const costs = this.rate.costsOf(call)
      this.line.push({ call, costs, resolve, reject })
      this.hold(costs, 1)
      this.schedule()
    })
  }

  /** Refuses every waiting and later read (the trading core is stopping). */
  close(): void {
    this.closed = true
    this.cancelTimer?.()
    this.cancelTimer = undefined
    for (const w of this.line.splice(0)) w.reject(new RequestBudgetClosed({ call: w.call }))
    for (const k of Object.keys(this.heldCosts)) this.heldCosts[k] = 0
  }

  private hold(costs: Readonly<Record<string, number>>, sign: 1 | -1): void {
    for (const [k, v] of Object.entries(costs)) this.heldCosts[k] = (this.heldCosts[k] ?? 0) + sign * v
  }

  private spend(call: VenueRead): void {
    this.rate.spend(call)
    this.onSpent(call, this.rate.costOf(call))
  }

  private drain(): void {
    this.cancelTimer = undefined
    while (this.line.length > 0) {
      const w = this.line[0] as Waiter
      if (!this.rate.fits(w.call)) break
      this.line.shift()
      this.hold(w.costs, -1)
      this.spend(w.call)
      w.resolve()
    }
    if (this.line.length > 0) this.schedule()
  }

  private schedule(): void {
    if (this.cancelTimer !== undefined || this.closed) return
    const head = this.line[0]
    if (head === undefined) return
    const at = this.rate.fitsAt(head.call)
    // A read costing more than the budget less the reserve could never be sent (not so with any
    // venue's real costs): look again each window rather than never.
    const delay = Number.isFinite(at) ? Math.max(1, at - this.rate.now()) : this.rate.longestWindowMs
    this.cancelTimer = this.clock.setTimer(delay, () => this.drain())
  }
}
