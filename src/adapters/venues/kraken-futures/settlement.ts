import { Either } from "effect"
import type { ClockService } from "../../../actors/clock.js"
import { parseDecimal, type Decimal } from "../../../domain/decimal.js"
import type { InstrumentId } from "../../../domain/ids.js"
import type { Instrument } from "../../../domain/instrument.js"
import { signRest } from "./auth.js"
import { parseExactJson } from "./json-exact.js"

/**
 * Settlement of dated futures (`FI_`, `FF_`). The venue closes every position at its last
 * trading time and writes the settlement to the account log (`info: "settlement"`, with the
 * contract, `trade_price` = the settlement price, `realized_pnl` and a `booking_uid`); there is no
 * fill on the private feed. This watcher reads the account log after each dated instrument's
 * expiry (signed like v3, path `/api/history/v3/account-log`, outside `/derivatives`) and hands
 * each settlement to the portfolio once — the booking uid dedupes repeats, across restarts too
 * (the ledger remembers it). It polls until the row appears (`pollMs`, at most `attempts`).
 */

export interface Settlement {
  readonly instrument: InstrumentId
  /** The venue's booking uid of the cash row. */
  readonly settlementId: string
  readonly price: Decimal
  /** The venue's booking time (epoch ms). */
  readonly ts: number
  /** The venue's realized PnL of the settlement in `asset` (for logs and checks; Troupe computes its own). */
  readonly realizedPnl: Decimal | undefined
  readonly asset: string
}

export interface SettlementWatcherConfig {
  /** The REST base up to `/derivatives` (as the REST client's); the history API is at its host root. */
  readonly restBase: string
  readonly credentials: { readonly apiKey: string; readonly secret: string }
  readonly instruments: ReadonlyArray<Instrument>
  readonly clock: ClockService
  /** Books one settlement; false when it was a repeat (already booked). */
  readonly onSettlement: (s: Settlement) => boolean
  readonly onLog?: (level: "info" | "warn", message: string) => void
  /** After expiry, first look after `graceMs` (default 1000), then every `pollMs` (default 5000), `attempts` times (default 60). */
  readonly graceMs?: number
  readonly pollMs?: number
  readonly attempts?: number
  readonly fetch?: typeof fetch
}

export const historyRoot = (restBase: string): string => restBase.replace(/\/+$/, "").replace(/\/derivatives$/, "")

/** The settlement rows (cash rows: `asset` is not the contract) of the account log, parsed exactly. */
export const parseSettlementRows = (body: unknown, instruments: ReadonlyArray<Instrument>): Settlement[] => {
  const logs = (body as { logs?: unknown } | null)?.logs
  if (!Array.isArray(logs)) return []
  const bySymbol = new Map(instruments.map((i) => [i.symbol.toUpperCase(), i]))
  const out: Settlement[] = []
  for (const raw of logs) {
    if (typeof raw !== "object" || raw === null) continue
    const r = raw as Record<string, unknown>
    if (r.info !== "settlement" || typeof r.contract !== "string" || typeof r.asset !== "string") continue
    if (r.asset.toLowerCase() === r.contract.toLowerCase()) continue // the position-size row
    const instrument = bySymbol.get(r.contract.toUpperCase())
    const price = decimalOf(r.trade_price)
    const uid = r.booking_uid
    const ts = typeof r.date === "string" ? Date.parse(r.date) : NaN
    if (instrument === undefined || price === undefined || !price.greaterThan(0) || typeof uid !== "string" || uid === "" || uid.length > 128 || !Number.isSafeInteger(ts)) continue
    out.push({ instrument: instrument.id, settlementId: uid, price, ts, realizedPnl: decimalOf(r.realized_pnl), asset: r.asset })
  }
  return out
}

// parseExactJson keeps numbers as their text.
const decimalOf = (u: unknown): Decimal | undefined => {
  if (typeof u !== "string") return undefined
  const d = parseDecimal(u)
  return Either.isRight(d) && d.right.isFinite() ? d.right : undefined
}

export class SettlementWatcher {
  private readonly timers = new Set<() => void>()
  private stopped = false
  private readonly doFetch: typeof fetch

  constructor(private readonly config: SettlementWatcherConfig) {
    this.doFetch = config.fetch ?? fetch
  }

  /** Arms one look per dated instrument: at expiry + grace (at once for one already expired). */
  start(): void {
    const now = this.config.clock.now()
    for (const i of this.config.instruments) {
      if (i.expiry === undefined) continue
      this.later(Math.max(0, i.expiry - now) + (this.config.graceMs ?? 1000), () => void this.look(i, this.config.attempts ?? 60))
    }
  }

  stop(): void {
    this.stopped = true
    for (const cancel of this.timers) cancel()
    this.timers.clear()
  }

  /** One read of the account log's settlement rows (exported for operators and tests). */
  async read(since?: number): Promise<Either.Either<Settlement[], string>> {
    const endpointPath = "/api/history/v3/account-log"
    const query = `info=settlement${since === undefined ? "" : `&since=${since}`}`
    const headers = {
      Accept: "application/json",
      APIKey: this.config.credentials.apiKey,
      Authent: signRest({ secret: this.config.credentials.secret, postData: query, nonce: "", endpointPath })
    }
    try {
      const res = await this.doFetch(`${historyRoot(this.config.restBase)}${endpointPath}?${query}`, { headers, signal: AbortSignal.timeout(10_000) })
      const text = await res.text()
      if (res.status !== 200) return Either.left(`account-log: HTTP ${res.status} ${text.slice(0, 120)}`)
      const json = parseExactJson(text, "history/account-log")
      if (Either.isLeft(json)) return Either.left(`account-log: ${json.left.message}`)
      return Either.right(parseSettlementRows(json.right, this.config.instruments))
    } catch (e) {
      return Either.left(`account-log: ${e instanceof Error ? e.message : String(e)}`)
    }
  }

  private async look(instrument: Instrument, attemptsLeft: number): Promise<void> {
    if (this.stopped) return
    const rows = await this.read(instrument.expiry === undefined ? undefined : instrument.expiry - 60_000)
    if (this.stopped) return
    const mine = Either.isRight(rows) ? rows.right.filter((s) => s.instrument === instrument.id) : []
    if (Either.isLeft(rows)) this.config.onLog?.("warn", `settlement of ${instrument.symbol}: ${rows.left}`)
    for (const s of mine) {
      if (this.config.onSettlement(s)) this.config.onLog?.("info", `settlement of ${instrument.symbol} booked at ${s.price.toString()} (${s.settlementId})`)
    }
    if (mine.length > 0) return
    if (attemptsLeft <= 1) {
      this.config.onLog?.("warn", `settlement of ${instrument.symbol}: no settlement in the account log after expiry; reconciliation will adopt the venue's position`)
      return
    }
    this.later(this.config.pollMs ?? 5000, () => void this.look(instrument, attemptsLeft - 1))
  }

  private later(ms: number, fn: () => void): void {
    const cancel = this.config.clock.setTimer(ms, () => {
      this.timers.delete(cancel)
      fn()
    })
    this.timers.add(cancel)
  }
}
