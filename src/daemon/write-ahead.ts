import type { ClockService } from "../actors/clock.js"
import type { RequestBudgetService } from "../actors/ports/request-budget.js"
import type { VenueGatewayService, VenueReport } from "../actors/ports/venue-gateway.js"
import type { ApprovedAction } from "../actors/risk/index.js"
import { Hop, hopTrace } from "../actors/trace/hop-trace.js"
import { CostWindow, KRAKEN_FUTURES_RATE, unjournaledAllowance, type RateWindowConfig, type VenueCall } from "../actors/risk/rate-limiter.js"

/**
 * The write-ahead rule, and the rate budget's soundness across a journal outage and a crash.
 *
 * **The invariant.** The venue counts a request from when it *arrives*, for its window (Kraken:
 * 10 s); risk's limiter counts it from when its cost was spent — the *stamp*, also the time of its
 * journaled `VenueRequestSent` — for the window plus a margin (500 ms). So the limiter is never
 * less strict than the venue when every request
 *   (1) reaches the venue within the margin of its stamp, and
 *   (2) is known to every node that trades in its window: its `VenueRequestSent` is durable before
 *       it is sent (a restarted node restores the journal's), or it is one of the few sent
 *       without (cancels during a journal outage), which are held to `unjournaledAllowance` per
 *       window (the cancel reserve) and which a restarted node counts as spent at its start.
 * (1) is kept by measuring each send's wait for the journal against `maxWaitMs` (half the margin,
 * the other half for the network) on a timer (monotonic: a step of the wall clock does not hide a
 * wait): a late read reserves its cost again, a late submit or modify is not sent, a late cancel
 * is charged again (`respend`, journaled). Spending twice errs on the safe side.
 * (Found by the simulation: safety seed 1048 — reads reserved during an outage went out 1.5 s
 * later when the journal came back, stamped when reserved, and a restarted node's limiter let
 * them go a second before the venue did.)
 */
export interface WriteAheadOptions {
  /** The venue's rate limits (the allowance and its window): default Kraken Futures'. */
  readonly rate?: RateWindowConfig
  /** The longest wait for the journal between a request's stamp and its send (default half the margin). */
  readonly maxWaitMs?: number
  /**
   * Charges a cancel's cost again, now, journaled (risk's `respend`, looked up at call time: a
   * rebuilt core's). Without it a late or unjournaled cancel is sent as it is (a test's gateway).
   */
  readonly respend?: (call: VenueCall) => Promise<void>
}

/** What the write-ahead gateway needs of the journal. */
export interface DurabilityGate {
  /** True once every durable append made so far is durable; false if one failed (backlogged). */
  readonly durable: () => Promise<boolean>
  /** The same answer in the caller's turn when it is known (undefined: ask `durable`). */
  readonly durableNow?: () => boolean | undefined
}

const defaultMaxWait = (rate: RateWindowConfig): number => Math.floor((rate.marginMs ?? 0) / 2)

/** A flag raised `ms` from now on the clock's (monotonic) timers. */
const deadline = (clock: ClockService, ms: number): { readonly passed: () => boolean; readonly cancel: () => void } => {
  let passed = false
  const cancel = clock.setTimer(ms, () => {
    passed = true
  })
  return { passed: () => passed, cancel }
}

const sleep = (clock: ClockService, ms: number): Promise<void> => new Promise((resolve) => clock.setTimer(ms, resolve))

const isCancel = (kind: ApprovedAction["action"]["kind"]): boolean => kind === "cancel" || kind === "cancelAll" || kind === "cancelAllAfter"

/**
 * Holds every venue call until the journal appends made before it (the intent, risk's
 * decision, OrderSubmitted, the spend record) are durable. If the journal could not take them —
 * or took longer than `maxWaitMs` — a submit or a modify is not sent: it comes back rejected
 * ("journal unavailable: not sent"). Cancels still go out: taking risk off must not wait for the
 * journal (their records are in the backlog and are journaled when it drains) — within the
 * unjournaled allowance, and charged again when late (see above).
 */
export const writeAheadGateway = (inner: VenueGatewayService, journal: DurabilityGate, clock: ClockService, run: () => number = () => 0, options: WriteAheadOptions = {}): VenueGatewayService => {
  const rate = options.rate ?? KRAKEN_FUTURES_RATE
  const maxWaitMs = options.maxWaitMs ?? defaultMaxWait(rate)
  const limit = unjournaledAllowance(rate)
  // What this process sent without its record durable, over the window plus the margin. Full at the
  // start: the previous process may have sent that much unrecorded just before it died.
  const unjournaled = new CostWindow(limit, rate.windowMs + (rate.marginMs ?? 0), 16)
  unjournaled.spend(clock.now(), limit)
  const local = new Set<(r: VenueReport) => void>()
  let seq = 0
  const report = (r: VenueReport): void => {
    for (const l of local) l(r)
  }
  const refuse = (action: ApprovedAction, reason: string): void => {
    const a = action.action
    const envelope = { id: `write-ahead/${action.account}-r${run()}-${++seq}`, ts: clock.now(), source: `write-ahead/${action.account}` }
    if (a.kind === "submit") {
      report({ _tag: "OrderRejected", ...envelope, account: a.intent.account, instrument: a.intent.instrument, clientOrderId: a.intent.clientOrderId, reason })
    } else if (a.kind === "modify") {
      report({ _tag: "OrderModifyRejected", ...envelope, account: a.intent.account, instrument: a.intent.instrument, clientOrderId: a.intent.clientOrderId, reason })
    }
  }
  /** The wall clock may step back: the allowance's window runs on the time the limiter would see, never backwards. */
  let lastNow = clock.now()
  const now = (): number => (lastNow = Math.max(lastNow, clock.now()))
  /** A cancel not sent at once: charged again (fresh stamp), then sent when durable or within the allowance. */
  const sendCancel = async (action: ApprovedAction): Promise<void> => {
    const respend = options.respend
    if (respend === undefined) return inner.send(action)
    for (;;) {
      // While the journal is down and the allowance is spent, wait (charging again would only burn budget).
      if (!unjournaled.fits(now(), action.cost) && !(await journal.durable())) {
        await sleep(clock, 100)
        continue
      }
      try {
        await respend(action.call)
      } catch {
        // The core is down (its budget closed): its rebuilt successor's budget takes it.
        await sleep(clock, 100)
        continue
      }
      const fresh = deadline(clock, maxWaitMs)
      const ok = await journal.durable()
      fresh.cancel()
      if (fresh.passed()) continue
      if (ok) return inner.send(action)
      if (unjournaled.fits(now(), action.cost)) {
        unjournaled.spend(now(), action.cost)
        return inner.send(action)
      }
    }
  }
  return {
    account: inner.account,
    ...(inner.subscribeAccount === undefined ? {} : { subscribeAccount: inner.subscribeAccount }),
    subscribe: (listener) => {
      local.add(listener)
      const off = inner.subscribe(listener)
      return () => {
        local.delete(listener)
        off()
      }
    },
    send: (action) => {
      const fresh = deadline(clock, maxWaitMs)
      const decide = (ok: boolean): void => {
        fresh.cancel()
        const late = fresh.passed()
        if (hopTrace.on && action.action.kind === "submit") hopTrace.markOrder(action.action.intent.clientOrderId, Hop.durable)
        if (ok && !late) return inner.send(action)
        if (isCancel(action.action.kind)) return void sendCancel(action)
        refuse(action, ok ? "journal slow: not sent" : "journal unavailable: not sent")
      }
      // Everything appended so far is already written (the `os` policy's caller-turn write):
      // sent in this turn. Otherwise the action waits for the appends before it, as always.
      if (journal.durableNow?.() === true) decide(true)
      else void journal.durable().then(decide)
    }
  }
}

/**
 * The read side of the write-ahead rule: a read (the gateway's check of an unknown outcome,
 * reconciliation, fill paging) is sent only once its cost is reserved AND the journal has taken
 * everything appended before — its `VenueRequestSent` included — within `maxWaitMs` of the
 * reservation (see above). During an outage nothing is reserved: the read waits for the journal
 * first (trading is halted by the journal cause anyway); a read whose record took longer reserves
 * again. A reservation that never went out costs the budget but not the venue, which errs on the
 * safe side. (Found by the simulation: seeds 732, 866, 912 — reads sent during an outage, their
 * records lost in a crash; seed 1048 — reads reserved during an outage, sent after it.)
 */
export const writeAheadBudget = (inner: RequestBudgetService, journal: { readonly settled: () => Promise<void> }, clock: ClockService, options: Pick<WriteAheadOptions, "rate" | "maxWaitMs"> = {}): RequestBudgetService => {
  const maxWaitMs = options.maxWaitMs ?? defaultMaxWait(options.rate ?? KRAKEN_FUTURES_RATE)
  return {
    reserve: async (call) => {
      for (;;) {
        await journal.settled()
        await inner.reserve(call)
        const fresh = deadline(clock, maxWaitMs)
        await journal.settled()
        fresh.cancel()
        if (!fresh.passed()) return
      }
    }
  }
}
