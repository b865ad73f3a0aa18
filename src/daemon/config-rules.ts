import { Decimal } from "../domain/decimal.js"
import { StrategyCatalog } from "./strategy-catalog.js"

/**
 * The rules a config must meet beyond its types: signs, ranges, relations between keys, and what
 * the chosen venue needs. Each broken rule is reported as the key path and "expected ..., got ...",
 * the first one found. The schema in `config.ts` has already checked
 * types and unknown keys; these are the checks a type cannot express.
 */

export interface RuleBroken {
  readonly path: string
  readonly reason: string
}

/** The value of each risk limit left out of the config (decimal text, as in the file). */
export const RISK_DEFAULTS = {
  maxOrderQty: "1000",
  maxNotional: "250000",
  priceBand: "0.05",
  maxPosition: "100",
  maxGrossExposure: "1000000",
  maxNetExposure: "500000",
  maxOpenOrders: 200,
  dailyLossLimit: "50000",
  strategyOrdersPerSecond: 20
} as const

type DecimalLimit = "maxOrderQty" | "maxNotional" | "priceBand" | "maxPosition" | "maxGrossExposure" | "maxNetExposure" | "dailyLossLimit"

// The decoded config as these rules see it (structural, so config.ts can import this module).
type RiskLimitsConfig = { readonly [K in DecimalLimit]?: Decimal } & { readonly initialMarginRate?: Decimal }
interface VenueConfig {
  readonly id: string
  readonly baseUrl?: string
  readonly wsUrl?: string
  readonly apiKey?: string
  readonly apiSecret?: string
}
interface StrategyConfig {
  readonly id: string
  readonly kind: string
  readonly instruments: ReadonlyArray<string>
}

/** A decimal limit as configured, else its default. */
export const riskLimit = (risk: RiskLimitsConfig, key: DecimalLimit): Decimal => risk[key] ?? new Decimal(RISK_DEFAULTS[key])

/** The control-API token must not be guessable: the generated one has 32 characters. */
export const TOKEN_MIN_LENGTH = 16

/**
 * Keys that once existed and are refused with the reason, rather than the bare "unknown key":
 * someone who sets them expects an effect they would not get.
 */
export const REMOVED_KEYS: ReadonlyArray<RuleBroken> = [
  {
    path: "risk.ordersPerSecond",
    reason:
      "expected a known key, got a removed one: the account's venue requests are limited by the venue's rate budget, reserved in the risk actor for every request; to cap one strategy use risk.strategyOrdersPerSecond"
  }
]

const lookup = (value: unknown, path: string): { readonly found: boolean } => {
  let at: unknown = value
  for (const key of path.split(".")) {
    if (typeof at !== "object" || at === null || !Object.prototype.hasOwnProperty.call(at, key)) return { found: false }
    at = (at as Record<string, unknown>)[key]
  }
  return { found: true }
}

/** The first removed key present in the raw (not yet decoded) file content. */
export const removedKeyError = (file: unknown, removed: ReadonlyArray<RuleBroken>): RuleBroken | undefined =>
  removed.find((r) => lookup(file, r.path).found)

const text = (d: Decimal): string => JSON.stringify(d.toString())

const POSITIVE_DECIMALS: ReadonlyArray<Exclude<DecimalLimit, "priceBand">> = [
  "maxOrderQty",
  "maxNotional",
  "maxPosition",
  "maxGrossExposure",
  "maxNetExposure",
  "dailyLossLimit"
]

const BASIS_POINT = new Decimal("0.0001")

const checkRisk = (risk: RiskLimitsConfig): RuleBroken | undefined => {
  for (const key of POSITIVE_DECIMALS) {
    const v = risk[key]
    // Zero or less would deny every order (or halt at once) while the daemon looks healthy.
    if (v !== undefined && !v.greaterThan(0)) return { path: `risk.${key}`, reason: `expected a decimal greater than 0, got ${text(v)}` }
  }
  const im = risk.initialMarginRate
  // 0 would check nothing; above 1 would ask for more margin than the notional.
  if (im !== undefined && (!im.greaterThan(0) || im.greaterThan(1))) return { path: "risk.initialMarginRate", reason: `expected a fraction of the notional above 0 and at most 1, got ${text(im)}` }
  const band = risk.priceBand
  if (band !== undefined) {
    // The risk check works in whole basis points; a finer band would be rounded (to 0: deny all).
    if (!band.greaterThan(0) || band.greaterThan(1) || !band.modulo(BASIS_POINT).isZero()) {
      return { path: "risk.priceBand", reason: `expected a fraction of the reference price above 0 and at most 1, in whole basis points (a multiple of 0.0001), got ${text(band)}` }
    }
  }
  if (risk.maxOrderQty !== undefined) {
    const maxPosition = riskLimit(risk, "maxPosition")
    if (risk.maxOrderQty.greaterThan(maxPosition)) {
      const of = risk.maxPosition === undefined ? `${maxPosition.toString()}, its default` : maxPosition.toString()
      return { path: "risk.maxOrderQty", reason: `expected at most risk.maxPosition (${of}): a larger order could never be placed, got ${text(risk.maxOrderQty)}` }
    }
  }
  if (risk.maxNetExposure !== undefined) {
    const gross = riskLimit(risk, "maxGrossExposure")
    if (risk.maxNetExposure.greaterThan(gross)) {
      const of = risk.maxGrossExposure === undefined ? `${gross.toString()}, its default` : gross.toString()
      return { path: "risk.maxNetExposure", reason: `expected at most risk.maxGrossExposure (${of}): net exposure never exceeds gross, got ${text(risk.maxNetExposure)}` }
    }
  }
  return undefined
}

const checkVenue = (venue: VenueConfig): RuleBroken | undefined => {
  if (venue.baseUrl === undefined) {
    if (venue.id === "kraken-futures") {
      return {
        path: "venue.baseUrl",
        reason: 'expected the REST base URL of Kraken Futures (e.g. "https://futures.kraken.com/derivatives") for venue.id "kraken-futures", got none'
      }
    }
    // The embedded simulator picks its own port: a wsUrl alone would be ignored.
    if (venue.wsUrl !== undefined) return { path: "venue.wsUrl", reason: "expected venue.baseUrl with it (the embedded simulator chooses its own URLs), got a wsUrl alone" }
    return undefined
  }
  if (venue.wsUrl === undefined) return { path: "venue.wsUrl", reason: "expected the venue's WebSocket URL because venue.baseUrl is set, got none" }
  if (venue.apiKey === undefined) return { path: "venue.apiKey", reason: "expected an API key (venue.apiKey or TROUPE_VENUE_API_KEY) because venue.baseUrl is set, got none" }
  if (venue.apiSecret === undefined) return { path: "venue.apiSecret", reason: "expected an API secret (venue.apiSecret or TROUPE_VENUE_API_SECRET) because venue.baseUrl is set, got none" }
  return undefined
}

/** Both venues are spoken to through the Kraken Futures adapter, so its instrument ids are the only ones. */
const INSTRUMENT_VENUE = "kraken-futures"
const STRATEGY_FILE = /\.(ts|mts|cts|js|mjs|cjs)$/

const checkStrategies = (strategies: ReadonlyArray<StrategyConfig>): RuleBroken | undefined => {
  const builtIn = new StrategyCatalog().kinds()
  const seen = new Set<string>()
  for (const [i, s] of strategies.entries()) {
    if (seen.has(s.id)) return { path: `strategies[${i}].id`, reason: `expected a unique strategy id, got ${JSON.stringify(s.id)} twice` }
    seen.add(s.id)
    if (!builtIn.includes(s.kind) && !STRATEGY_FILE.test(s.kind)) {
      return { path: `strategies[${i}].kind`, reason: `expected a built-in strategy (${builtIn.join(", ")}) or a strategy file (.ts, .js, .mjs), got ${JSON.stringify(s.kind)}` }
    }
    if (s.instruments.length === 0) return { path: `strategies[${i}].instruments`, reason: "expected at least one instrument, got none" }
    for (const [j, instrument] of s.instruments.entries()) {
      if (!instrument.startsWith(`${INSTRUMENT_VENUE}:`)) {
        return {
          path: `strategies[${i}].instruments[${j}]`,
          reason: `expected a ${INSTRUMENT_VENUE}:<symbol> instrument (the simulator speaks the Kraken Futures API too), got ${JSON.stringify(instrument)}`
        }
      }
    }
  }
  return undefined
}

/** What the per-instrument rules need of an instrument (the venue lists them at start-up). */
interface InstrumentInput {
  readonly id: string
  readonly minQty: Decimal
  readonly lotSize: Decimal
}

/**
 * The rules that need the venue's instruments, checked when they are known (start-up, before the
 * risk actor takes the limits): a quantity limit below an instrument's smallest order would deny
 * every order on it.
 */
export const checkLimitsForInstruments = (risk: RiskLimitsConfig, instruments: ReadonlyArray<InstrumentInput>): RuleBroken | undefined => {
  for (const key of ["maxOrderQty", "maxPosition"] as const) {
    const limit = risk[key]
    if (limit === undefined) continue
    for (const i of instruments) {
      const smallest = Decimal.max(i.minQty, i.lotSize)
      if (limit.lessThan(smallest)) {
        return { path: `risk.${key}`, reason: `expected at least the smallest order of ${i.id} (${smallest.toString()}): every order on it would be denied, got ${text(limit)}` }
      }
    }
  }
  return undefined
}

export interface RulesInput {
  readonly risk: RiskLimitsConfig
  readonly venue: VenueConfig
  readonly strategies: ReadonlyArray<StrategyConfig>
  /** The token in effect and where it came from (`TROUPE_TOKEN` or `token`). */
  readonly token: { readonly value: string; readonly path: string } | undefined
  readonly databaseUrl: string | undefined
  readonly appDatabaseUrl: { readonly value: string; readonly path: string } | undefined
}

export const checkRules = (input: RulesInput): RuleBroken | undefined => {
  if (input.token !== undefined && input.token.value.length < TOKEN_MIN_LENGTH) {
    // The length only: the value is a secret and must not reach a log.
    return { path: input.token.path, reason: `expected at least ${TOKEN_MIN_LENGTH} characters, got ${input.token.value.length}` }
  }
  if (input.appDatabaseUrl !== undefined && input.databaseUrl === undefined) {
    return { path: input.appDatabaseUrl.path, reason: "expected DATABASE_URL (or databaseUrl, the owner's login for migrations) with it, got none" }
  }
  if (input.appDatabaseUrl !== undefined && input.databaseUrl !== undefined && sameLogin(input.appDatabaseUrl.value, input.databaseUrl)) {
    return { path: input.appDatabaseUrl.path, reason: "expected a login other than the owner's (DATABASE_URL): the daemon must not be able to drop the audit trigger, got the same user" }
  }
  return checkRisk(input.risk) ?? checkVenue(input.venue) ?? checkStrategies(input.strategies)
}

const sameLogin = (a: string, b: string): boolean => {
  const ua = new URL(a)
  const ub = new URL(b)
  return ua.host === ub.host && ua.pathname === ub.pathname && decodeURIComponent(ua.username) === decodeURIComponent(ub.username)
}
