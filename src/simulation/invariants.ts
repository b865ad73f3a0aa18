import { createHash } from "node:crypto"
import { Either } from "effect"
import type { JournalOffset } from "../actors/ports/journal.js"
import type { ApprovedAction } from "../actors/risk/approval.js"
import type { FillView } from "../adapters/venues/simulator/engine-types.js"
import type { MatchingEngine } from "../adapters/venues/simulator/matching-engine.js"
import { RISK_DEFAULTS, riskLimit, type RiskLimitsConfig } from "../daemon/config.js"
import type { TradingNode } from "../daemon/trading-node.js"
import { decodeEvent } from "../domain/codec.js"
import { Decimal } from "../domain/decimal.js"
import type { CanonicalEvent } from "../domain/events/index.js"
import { symbolOf, type AccountId } from "../domain/ids.js"
import type { Instrument } from "../domain/instrument.js"
import { TradingLedger } from "../domain/ledger.js"
import type { MemoryJournal } from "./memory-journal.js"

/**
 * The invariants every simulated run must keep. Checked where they can be seen first: at the
 * venue as each approved action arrives (before the venue applies it), as the journal takes each
 * record, and at the end of the run (after every in-flight report has landed).
 */
export const INVARIANTS = [
  "forgedAction",
  "duplicateClientOrderId",
  "approvalNotJournaled",
  "approvalViolatesLimit",
  "rateBudgetExceeded",
  "operatorHaltLifted",
  "filledAboveQuantity",
  "fillNotJournaledOnce",
  "eventIdRepeated",
  "positionMismatch",
  "ledgerFoldMismatch",
  "notConverged"
] as const
export type InvariantName = (typeof INVARIANTS)[number]

export interface Violation {
  readonly invariant: InvariantName
  /** Simulated time (ms since the epoch). */
  readonly at: number
  readonly detail: string
  /** The events just before it (journal records and venue arrivals), oldest first. */
  readonly context: ReadonlyArray<string>
}

export interface InvariantDeps {
  readonly account: AccountId
  readonly venueAccount: string
  readonly limits: RiskLimitsConfig
  readonly instruments: (id: string) => Instrument | undefined
  readonly engine: MatchingEngine
  readonly journal: MemoryJournal
  readonly now: () => number
}

const CONTEXT = 25
const MAX_VIOLATIONS = 20

/** What must be the same between two ledgers that saw the same journal: orders, positions, causes. */
export const ledgerState = (ledger: TradingLedger): string => {
  const s = ledger.toSnapshot()
  return JSON.stringify({ orders: s.orders, positions: s.positions, causes: s.causes, lastFillTs: s.lastFillTs })
}
export const ledgerHash = (ledger: TradingLedger): string => createHash("sha256").update(ledgerState(ledger)).digest("hex").slice(0, 16)

export class Invariants {
  readonly violations: Violation[] = []
  private readonly recent: string[] = []
  private readonly journaledIds = new Set<string>()
  private readonly submittedAtVenue = new Set<string>()
  private readonly fills = new Map<string, FillView>()
  /** Set while the operator's halt stands: when it was raised. */
  private haltedSince: number | undefined

  constructor(private readonly deps: InvariantDeps) {}

  get venueFills(): number {
    return this.fills.size
  }

  private note(line: string): void {
    this.recent.push(`${new Date(this.deps.now()).toISOString()} ${line}`)
    if (this.recent.length > CONTEXT) this.recent.shift()
  }

  violate(invariant: InvariantName, detail: string): void {
    if (this.violations.length >= MAX_VIOLATIONS) return
    this.violations.push({ invariant, at: this.deps.now(), detail, context: [...this.recent] })
  }

  // ---- as the run goes -------------------------------------------------------------------------

  /** True once the operator's current halt is in the journal (the ledger a restart recovers has it). */
  haltDurable = false

  onJournaled(e: CanonicalEvent, o: JournalOffset): void {
    this.journaledIds.add(e.id)
    if (e._tag === "TradingStateChanged" && this.haltedSince !== undefined) {
      const t = e as unknown as { readonly cause?: string; readonly level?: string; readonly to?: string }
      if (t.cause === "operator" && (t.level ?? t.to) === "halted") this.haltDurable = true
    }
    if (o.topic === "orders" || o.topic === "control") {
      const c = (e as { clientOrderId?: string }).clientOrderId
      this.note(`journal ${o.topic}@${o.offset} ${e._tag}${c === undefined ? "" : ` ${c}`}`)
    }
  }

  /** Every event the node hands to its journal, synchronously, in the order it was made. */
  onEmitted(e: CanonicalEvent): void {
    if (e._tag !== "RiskApproved" || this.haltedSince === undefined) return
    if (e.intent === "SubmitOrder" || e.intent === "ModifyOrder") {
      this.violate("operatorHaltLifted", `${e.intent} ${e.clientOrderId ?? ""} approved (${e.id}) while the operator's halt (since ${new Date(this.haltedSince).toISOString()}) stands`)
    }
  }

  onForged = (): void => this.violate("forgedAction", "a value that is not a genuine approval reached the venue gateway")

  onSubmitAtVenue = (cliOrdId: string): void => {
    if (this.submittedAtVenue.has(cliOrdId)) this.violate("duplicateClientOrderId", `client order id ${cliOrdId} was sent to the venue twice`)
    this.submittedAtVenue.add(cliOrdId)
  }

  onVenueFill = (fill: FillView): void => {
    this.fills.set(fill.fillId, fill)
    this.note(`venue fill ${fill.fillId.slice(0, 8)} ${fill.cliOrdId ?? "?"} ${fill.side} ${fill.qty.toFixed()}@${fill.price.toFixed()}`)
  }

  onRateRefused = (call: string, cost: number): void => this.violate("rateBudgetExceeded", `the venue refused ${call} (cost ${cost}): apiLimitExceeded by its own accounting`)

  onArrive = (action: ApprovedAction): void => {
    const a = action.action
    const id = a.kind === "cancelAllAfter" ? "" : a.kind === "cancelAll" ? (a.intent.strategy ?? "*") : a.intent.clientOrderId
    this.note(`venue ← ${a.kind} ${id} (approval ${action.approvalId})`)
    if (a.kind !== "submit" && a.kind !== "modify") return
    // Write-ahead: the approval (and, for a submit, OrderSubmitted) is in the journal before the venue acts.
    if (!this.journaledIds.has(action.approvalId)) this.violate("approvalNotJournaled", `${a.kind} ${a.intent.clientOrderId} reached the venue before its approval ${action.approvalId} was journaled`)
    if (a.kind === "submit") this.checkLimits(a.intent.instrument, a.intent.side, a.intent.qty, a.intent.price, a.intent.reduceOnly, a.intent.clientOrderId)
  }

  /** The submit against the account's limits, with the venue's own view of position and open orders. */
  private checkLimits(instrument: string, side: "buy" | "sell", qty: Decimal, price: Decimal | undefined, reduceOnly: boolean, cliOrdId: string): void {
    const { limits, engine, venueAccount } = this.deps
    const spec = this.deps.instruments(instrument)
    const maxQty = spec === undefined ? riskLimit(limits, "maxOrderQty") : Decimal.min(riskLimit(limits, "maxOrderQty"), spec.maxQty)
    if (qty.gt(maxQty)) this.violate("approvalViolatesLimit", `${cliOrdId}: qty ${qty.toFixed()} above maxOrderQty ${maxQty.toFixed()}`)
    if (price !== undefined && qty.times(price).gt(riskLimit(limits, "maxNotional"))) {
      this.violate("approvalViolatesLimit", `${cliOrdId}: notional ${qty.times(price).toFixed()} above maxNotional ${riskLimit(limits, "maxNotional").toFixed()}`)
    }
    const open = engine.openOrders(venueAccount)
    const maxOpen = limits.maxOpenOrders ?? RISK_DEFAULTS.maxOpenOrders
    if (open.length + 1 > maxOpen) this.violate("approvalViolatesLimit", `${cliOrdId}: ${open.length + 1} open orders at the venue, above maxOpenOrders ${maxOpen}`)
    if (reduceOnly) return
    const symbol = symbolOf(instrument as never)
    const position = engine.position(venueAccount, symbol)?.balance ?? new Decimal(0)
    const sameSide = open.filter((o) => o.symbol === symbol && o.side === side).reduce((sum, o) => sum.plus(o.size.minus(o.filled)), new Decimal(0))
    const worst = side === "buy" ? position.plus(sameSide).plus(qty) : position.minus(sameSide).minus(qty)
    const maxPosition = riskLimit(limits, "maxPosition")
    if (worst.abs().gt(maxPosition) && worst.abs().gt(position.abs())) {
      this.violate("approvalViolatesLimit", `${cliOrdId}: position ${position.toFixed()} with open ${side}s ${sameSide.toFixed()} and this ${qty.toFixed()} could reach ${worst.toFixed()}, beyond maxPosition ${maxPosition.toFixed()}`)
    }
  }

  onOperatorHalt(at: number): void {
    this.haltedSince = at
    this.haltDurable = false
    this.note("operator HALT")
  }

  onOperatorResume(_at: number): void {
    this.haltedSince = undefined
    this.note("operator RESUME")
  }

  onRestart(): void {
    this.note("node CRASH: restarting from snapshot + journal")
  }

  /** After a restart, or at the end, while the operator's halt stands: the node must say halted. */
  expectHalted(status: string): void {
    if (status !== "halted") this.violate("operatorHaltLifted", `the operator's halt stands but the node's trading state is ${status}`)
  }

  // ---- at the end ------------------------------------------------------------------------------

  /** Every journaled event of the orders topic, decoded, in journal order. */
  private ordersTopic(): CanonicalEvent[] {
    const out: CanonicalEvent[] = []
    for (const r of this.deps.journal.records("orders")) {
      const d = decodeEvent(r.payload)
      if (Either.isRight(d)) out.push(d.right)
      else this.violate("ledgerFoldMismatch", `journal orders@${r.offset.offset} does not decode: ${d.left.reason}`)
    }
    return out
  }

  final(node: { readonly trading: TradingNode; readonly ledger: TradingLedger } | undefined, venue: { readonly pending: number; readonly describePending: () => string }, operatorHalted: boolean): void {
    const { engine, venueAccount } = this.deps
    const events = this.ordersTopic()
    // Each venue fill journaled exactly once; no journaled fill the venue did not make.
    const journaledFills = new Map<string, number>()
    const filledBy = new Map<string, Decimal>()
    const maxQty = new Map<string, Decimal>()
    const fillSum = new Map<string, Decimal>()
    for (const e of events) {
      if (e._tag === "OrderFilled") {
        journaledFills.set(e.fillId, (journaledFills.get(e.fillId) ?? 0) + 1)
        filledBy.set(e.clientOrderId, (filledBy.get(e.clientOrderId) ?? new Decimal(0)).plus(e.qty))
        const signed = e.side === "buy" ? e.qty : e.qty.negated()
        fillSum.set(e.instrument, (fillSum.get(e.instrument) ?? new Decimal(0)).plus(signed))
      } else if (e._tag === "OrderSubmitted") {
        const q = maxQty.get(e.clientOrderId)
        maxQty.set(e.clientOrderId, q === undefined ? e.qty : Decimal.max(q, e.qty))
      } else if (e._tag === "OrderModified" && e.qty !== undefined) {
        const q = maxQty.get(e.clientOrderId)
        maxQty.set(e.clientOrderId, q === undefined ? e.qty : Decimal.max(q, e.qty))
      }
    }
    for (const [fillId, f] of this.fills) {
      const n = journaledFills.get(fillId) ?? 0
      if (n !== 1) this.violate("fillNotJournaledOnce", `venue fill ${fillId} (${f.cliOrdId ?? "?"} ${f.side} ${f.qty.toFixed()}) journaled ${n} times`)
    }
    for (const [fillId, n] of journaledFills) if (!this.fills.has(fillId)) this.violate("fillNotJournaledOnce", `journaled fill ${fillId} (${n}x) that the venue never made`)
    // Event ids are unique forever: across node restarts (the run number) and core restarts (continued sequences).
    const ids = new Set<string>()
    for (const e of events) {
      if (ids.has(e.id)) {
        this.violate("eventIdRepeated", `${e._tag} ${e.id} journaled under an id already used`)
        break
      }
      ids.add(e.id)
    }
    for (const [cliOrdId, filled] of filledBy) {
      const q = maxQty.get(cliOrdId)
      if (q !== undefined && filled.gt(q)) this.violate("filledAboveQuantity", `${cliOrdId}: filled ${filled.toFixed()} above its quantity ${q.toFixed()}`)
    }
    // A fresh fold of the whole journal gives the live ledger.
    const fresh = new TradingLedger(this.deps.instruments)
    for (const e of events) fresh.apply(e)
    if (node !== undefined && ledgerState(fresh) !== ledgerState(node.ledger)) {
      const a = JSON.parse(ledgerState(fresh)) as Record<string, unknown>
      const b = JSON.parse(ledgerState(node.ledger)) as Record<string, unknown>
      const parts = Object.keys(a).filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]))
      const first = parts[0]
      this.violate(
        "ledgerFoldMismatch",
        `a fresh fold of the journal (${ledgerHash(fresh)}) differs from the live ledger (${ledgerHash(node.ledger)}) in ${parts.join(", ")}` +
          (first === undefined ? "" : `: fresh ${JSON.stringify(a[first]).slice(0, 400)} live ${JSON.stringify(b[first]).slice(0, 400)}`)
      )
    }
    // Position = sum of fills = the venue's position = the live portfolio's.
    const symbols = new Set<string>([...fillSum.keys(), ...[...fresh.positions.keys()]])
    for (const p of engine.positions(venueAccount)) symbols.add(`kraken-futures:${p.symbol}`)
    for (const instrument of symbols) {
      const sum = fillSum.get(instrument) ?? new Decimal(0)
      const ledger = fresh.positions.get(instrument)?.quantity ?? new Decimal(0)
      const atVenue = engine.position(venueAccount, symbolOf(instrument as never))?.balance ?? new Decimal(0)
      const live = node?.trading.portfolio.position(instrument as never)?.quantity ?? new Decimal(0)
      if (!(sum.eq(ledger) && sum.eq(atVenue) && sum.eq(live))) {
        this.violate("positionMismatch", `${instrument}: journaled fills sum to ${sum.toFixed()}, ledger ${ledger.toFixed()}, venue ${atVenue.toFixed()}, live portfolio ${live.toFixed()}`)
      }
    }
    if (operatorHalted && node !== undefined) this.expectHalted(node.trading.risk.status)
    // Converged: nothing in flight, and the orders the ledger holds open are the venue's open orders.
    if (venue.pending > 0) this.violate("notConverged", `${venue.pending} venue calls, reads or reports still in flight after the settle time (${venue.describePending()})`)
    if (node !== undefined) {
      const atVenue = new Set(engine.openOrders(venueAccount).map((o) => o.cliOrdId ?? o.orderId))
      const ours = new Set(node.ledger.orders.keys())
      const onlyVenue = [...atVenue].filter((c) => !ours.has(c))
      const onlyOurs = [...ours].filter((c) => !atVenue.has(c))
      if (onlyVenue.length > 0 || onlyOurs.length > 0) {
        this.violate("notConverged", `open orders differ after the settle time: only at the venue [${onlyVenue.slice(0, 5).join(", ")}], only in the ledger [${onlyOurs.slice(0, 5).join(", ")}]`)
      }
    }
  }
}
