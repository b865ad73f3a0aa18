import type { ClockService } from "../clock.js"
import type { VenueGatewayService } from "../ports/venue-gateway.js"
import type { RiskActor } from "../risk/risk.actor.js"

export interface DeadMansSwitchConfig {
  /** How often to re-arm; Kraken recommends 15–20 s for a 60 s timeout. */
  readonly intervalMs: number
  readonly timeoutSec: number
  /** Retry delay when risk denies the refresh (rate budget exhausted). */
  readonly retryMs: number
}

export const DEFAULT_DEAD_MANS_SWITCH: DeadMansSwitchConfig = { intervalMs: 15_000, timeoutSec: 60, retryMs: 1_000 }

/**
 * Keeps the venue's dead man's switch (`cancelallordersafter`) armed for one venue account: if
 * the daemon dies or loses the venue, the venue cancels every order after `timeoutSec`. Each
 * refresh is an intent like any other: approved by risk, with its rate cost (25 on Kraken).
 */
export class DeadMansSwitch {
  private cancelTimer: (() => void) | undefined
  refreshes = 0
  denials = 0

  constructor(
    private readonly clock: ClockService,
    private readonly risk: RiskActor,
    private readonly gateway: VenueGatewayService,
    readonly config: DeadMansSwitchConfig = DEFAULT_DEAD_MANS_SWITCH
  ) {}

  start(): void {
    this.refresh()
  }

  /** Stops refreshing; with `disarm` also tells the venue to forget the timer (timeout 0). */
  stop(opts: { readonly disarm?: boolean } = {}): void {
    this.cancelTimer?.()
    this.cancelTimer = undefined
    if (opts.disarm === true) {
      const d = this.risk.approveDeadMansSwitch(0)
      if (d._tag === "Approved") this.gateway.send(d.action)
    }
  }

  private refresh(): void {
    const d = this.risk.approveDeadMansSwitch(this.config.timeoutSec)
    if (d._tag === "Approved") {
      this.gateway.send(d.action)
      this.refreshes++
    } else this.denials++
    this.cancelTimer = this.clock.setTimer(d._tag === "Approved" ? this.config.intervalMs : this.config.retryMs, () => this.refresh())
  }
}
