import { readFile } from "node:fs/promises"
import { Data, Effect, Either, Schema } from "effect"
import { AccountId, DecimalFromString, describeParseError, InstrumentId, StrategyId, VenueId } from "../domain/schema.js"

/**
 * Daemon configuration: an optional JSON file, then environment variables on top (env wins).
 * With neither, the daemon runs fully embedded: simulator venue, file journal, PGlite store.
 * Every value is decoded with Schema; a bad one is a `ConfigError` naming the key path (or the
 * environment variable), what was expected and what was given.
 */

export class ConfigError extends Data.TaggedError("ConfigError")<{
  /** `risk.maxOrderQty`, `strategies[1].id`, or an environment variable such as `KAFKA_BROKERS`. */
  readonly path: string
  /** "expected ..., got ..." */
  readonly reason: string
}> {
  override get message(): string {
    return `config error at ${this.path.length > 0 ? this.path : "(file)"}: ${this.reason}`
  }
}

const optional = <S extends Schema.Schema.Any>(schema: S) => Schema.optionalWith(schema, { exact: true })
const withDefault = <S extends Schema.Schema.AnyNoContext>(schema: S, value: () => Schema.Schema.Type<S>) =>
  Schema.optionalWith(schema, { exact: true, default: value })

const NonEmpty = Schema.String.pipe(Schema.minLength(1)).annotations({ description: "a non-empty string" })
const Port = Schema.Int.pipe(Schema.between(0, 65535)).annotations({ description: "a port number 0..65535 (0 picks a free one)" })
const PositiveInt = Schema.Int.pipe(Schema.positive()).annotations({ description: "a positive integer" })
const Url = (schemes: ReadonlyArray<string>) =>
  Schema.String.pipe(
    Schema.filter((s) => {
      try {
        return schemes.includes(new URL(s).protocol)
      } catch {
        return false
      }
    }),
    Schema.annotations({ description: `a URL (${schemes.join(" or ")})` })
  )
const BROKER = /^[A-Za-z0-9.\-_[\]:]+:(\d{1,5})$/
const Broker = Schema.String.pipe(
  Schema.filter((s) => {
    const m = BROKER.exec(s)
    return m !== null && Number(m[1]) > 0 && Number(m[1]) <= 65535
  }),
  Schema.annotations({ description: "host:port" })
)

export const VenueConfig = Schema.Struct({
  /** Which adapter: `simulator` (local, default) or `kraken-futures`. */
  id: withDefault(VenueId, () => "simulator" as typeof VenueId.Type),
  account: withDefault(AccountId, () => "default" as typeof AccountId.Type),
  baseUrl: optional(Url(["http:", "https:"])),
  wsUrl: optional(Url(["ws:", "wss:"])),
  apiKey: optional(NonEmpty),
  apiSecret: optional(NonEmpty)
})
export type VenueConfig = typeof VenueConfig.Type

/** Per-account limits; an absent limit is not checked. Money and quantities are decimal text. */
export const RiskLimitsConfig = Schema.Struct({
  maxOrderQty: optional(DecimalFromString),
  maxNotional: optional(DecimalFromString),
  /** Largest allowed distance of a limit price from the reference price, as a fraction ("0.05"). */
  priceBand: optional(DecimalFromString),
  maxPosition: optional(DecimalFromString),
  maxGrossExposure: optional(DecimalFromString),
  maxNetExposure: optional(DecimalFromString),
  maxOpenOrders: optional(PositiveInt),
  dailyLossLimit: optional(DecimalFromString),
  ordersPerSecond: optional(PositiveInt),
  strategyOrdersPerSecond: optional(PositiveInt)
})
export type RiskLimitsConfig = typeof RiskLimitsConfig.Type

export const StrategyConfig = Schema.Struct({
  id: StrategyId,
  /** The registered strategy implementation, e.g. `market-maker`. */
  kind: NonEmpty,
  instruments: Schema.Array(InstrumentId),
  restart: withDefault(Schema.Literal("permanent", "transient", "temporary"), () => "permanent" as const),
  enabled: withDefault(Schema.Boolean, () => true),
  /** Strategy-specific; the strategy decodes it with its own Schema. */
  params: withDefault(Schema.Record({ key: Schema.String, value: Schema.Unknown }), () => ({}))
})
export type StrategyConfig = typeof StrategyConfig.Type

/** Snapshots, restart policy and the audit bound ("no audit, no trade"). */
export const RecoveryConfig = Schema.Struct({
  /** A ledger snapshot after this many journaled order events ... */
  snapshotEveryEvents: withDefault(PositiveInt, () => 10_000),
  /** ... or this many seconds, whichever comes first (and one at graceful shutdown). */
  snapshotEverySeconds: withDefault(PositiveInt, () => 30),
  /**
   * Orders still open at the venue after a restart belong to strategy instances that are gone:
   * cancel them (default) or keep them working (tracked, risk-counted, cancelable by operators).
   */
  cancelRecoveredOrders: withDefault(Schema.Boolean, () => true),
  /** Journaled events not yet in the audit trail beyond which new risk halts ... */
  auditLagBound: withDefault(PositiveInt, () => 50_000),
  /** ... or the age in seconds of the oldest of them (a store outage longer than this halts). */
  auditLagSeconds: withDefault(PositiveInt, () => 10),
  /**
   * A position that still differs from the venue's after reconciliation (fills we never saw do
   * not explain it): `reduce-only` (default, fail closed) — the account goes reduce-only with the
   * cause "reconciliation" until an operator runs `troupe reconcile accept`; `adopt-venue` takes
   * the venue's position at once. A first start on an account (empty ledger) always adopts.
   */
  onPositionMismatch: withDefault(Schema.Literal("reduce-only", "adopt-venue"), () => "reduce-only" as const)
})
export type RecoveryConfig = typeof RecoveryConfig.Type

const JournalKind = Schema.Literal("file", "kafka")
const TopicPrefix = Schema.String.pipe(Schema.pattern(/^[A-Za-z0-9._-]{0,200}$/)).annotations({ description: "Kafka topic characters [A-Za-z0-9._-]" })
const StoreKind = Schema.Literal("pglite", "postgres")

/** The JSON file. Every key is optional; unknown keys are errors (a typo must not pass silently). */
export const ConfigFile = Schema.Struct({
  home: optional(NonEmpty),
  port: optional(Port),
  token: optional(NonEmpty),
  databaseUrl: optional(Url(["postgres:", "postgresql:"])),
  kafkaBrokers: optional(Schema.Array(Broker)),
  venue: withDefault(VenueConfig, () => Schema.decodeSync(VenueConfig)({})),
  risk: withDefault(RiskLimitsConfig, () => ({})),
  strategies: withDefault(Schema.Array(StrategyConfig), () => []),
  journal: withDefault(Schema.Struct({ kind: optional(JournalKind), topicPrefix: withDefault(TopicPrefix, () => "troupe.") }), () => ({
    topicPrefix: "troupe."
  })),
  store: withDefault(Schema.Struct({ kind: optional(StoreKind) }), () => ({})),
  recovery: withDefault(RecoveryConfig, () => Schema.decodeSync(RecoveryConfig)({}))
})
export type ConfigFile = typeof ConfigFile.Type

export interface Config {
  /** State directory (file journal, PGlite data, run counter); relative to the working directory. */
  readonly home: string
  /** Control API, inspector and metrics port. */
  readonly port: number
  /** Bearer token for the control API; absent = loopback-only without auth. */
  readonly token?: string
  readonly databaseUrl?: string
  /** Empty when Kafka is not used. */
  readonly kafkaBrokers: ReadonlyArray<string>
  readonly venue: VenueConfig
  readonly risk: RiskLimitsConfig
  readonly strategies: ReadonlyArray<StrategyConfig>
  readonly journal: { readonly kind: "file" | "kafka"; readonly topicPrefix: string }
  readonly store: { readonly kind: "pglite" | "postgres" }
  readonly recovery: RecoveryConfig
}

export const DEFAULT_HOME = "./.troupe"
export const DEFAULT_PORT = 7400

export type Env = Readonly<Record<string, string | undefined>>

// Environment variables: each is decoded on its own so an error names the variable.
interface EnvOverrides {
  home?: string
  port?: number
  token?: string
  databaseUrl?: string
  kafkaBrokers?: ReadonlyArray<string>
  apiKey?: string
  apiSecret?: string
}

const envValue = <A>(env: Env, name: string, schema: Schema.Schema<A, string>): Either.Either<A | undefined, ConfigError> => {
  const raw = env[name]
  if (raw === undefined || raw.trim() === "") return Either.right(undefined)
  return Either.mapLeft(Schema.decodeEither(schema)(raw.trim()), (e) => new ConfigError({ path: name, reason: describeParseError(e).reason }))
}

const BrokerList = Schema.transform(Schema.String, Schema.Array(Broker), {
  strict: true,
  decode: (s) => s.split(",").map((b) => b.trim()),
  encode: (bs) => bs.join(",")
})

const readEnv = (env: Env): Either.Either<EnvOverrides, ConfigError> =>
  Either.gen(function* () {
    const out: EnvOverrides = {}
    const home = yield* envValue(env, "TROUPE_HOME", NonEmpty)
    if (home !== undefined) out.home = home
    const portText = env["TROUPE_PORT"]?.trim()
    if (portText !== undefined && portText !== "") {
      const port = /^\d{1,5}$/.test(portText) ? Number(portText) : Number.NaN
      if (!(port >= 0 && port <= 65535)) {
        return yield* Either.left(new ConfigError({ path: "TROUPE_PORT", reason: `expected a port number 0..65535, got ${JSON.stringify(portText)}` }))
      }
      out.port = port
    }
    const token = yield* envValue(env, "TROUPE_TOKEN", NonEmpty)
    if (token !== undefined) out.token = token
    const databaseUrl = yield* envValue(env, "DATABASE_URL", Url(["postgres:", "postgresql:"]))
    if (databaseUrl !== undefined) out.databaseUrl = databaseUrl
    const brokers = yield* envValue(env, "KAFKA_BROKERS", BrokerList)
    if (brokers !== undefined) out.kafkaBrokers = brokers
    const apiKey = yield* envValue(env, "TROUPE_VENUE_API_KEY", NonEmpty)
    if (apiKey !== undefined) out.apiKey = apiKey
    const apiSecret = yield* envValue(env, "TROUPE_VENUE_API_SECRET", NonEmpty)
    if (apiSecret !== undefined) out.apiSecret = apiSecret
    return out
  })

/**
 * Builds the config from the decoded-JSON file content (`undefined` = no file) and the
 * environment. Pure, so the control API and tests can use it without touching the disk.
 */
export const parseConfig = (file: unknown, env: Env): Either.Either<Config, ConfigError> =>
  Either.gen(function* () {
    const decoded = yield* Either.mapLeft(
      Schema.decodeUnknownEither(ConfigFile, { errors: "first", onExcessProperty: "error" })(file ?? {}),
      (e) => new ConfigError(describeParseError(e))
    )
    const over = yield* readEnv(env)

    const seen = new Set<string>()
    for (const [i, s] of decoded.strategies.entries()) {
      if (seen.has(s.id)) return yield* Either.left(new ConfigError({ path: `strategies[${i}].id`, reason: `expected a unique strategy id, got ${JSON.stringify(s.id)} twice` }))
      seen.add(s.id)
    }

    const databaseUrl = over.databaseUrl ?? decoded.databaseUrl
    const kafkaBrokers = over.kafkaBrokers ?? decoded.kafkaBrokers ?? []
    const token = over.token ?? decoded.token
    const journalKind = decoded.journal.kind ?? (kafkaBrokers.length > 0 ? "kafka" : "file")
    if (journalKind === "kafka" && kafkaBrokers.length === 0) {
      return yield* Either.left(new ConfigError({ path: "journal.kind", reason: `expected KAFKA_BROKERS (or kafkaBrokers) to be set for "kafka", got none` }))
    }
    const storeKind = decoded.store.kind ?? (databaseUrl !== undefined ? "postgres" : "pglite")
    if (storeKind === "postgres" && databaseUrl === undefined) {
      return yield* Either.left(new ConfigError({ path: "store.kind", reason: `expected DATABASE_URL (or databaseUrl) to be set for "postgres", got none` }))
    }
    const venue: VenueConfig = {
      ...decoded.venue,
      ...(over.apiKey !== undefined ? { apiKey: over.apiKey } : {}),
      ...(over.apiSecret !== undefined ? { apiSecret: over.apiSecret } : {})
    }
    const config: Config = {
      home: over.home ?? decoded.home ?? DEFAULT_HOME,
      port: over.port ?? decoded.port ?? DEFAULT_PORT,
      ...(token !== undefined ? { token } : {}),
      ...(databaseUrl !== undefined ? { databaseUrl } : {}),
      kafkaBrokers,
      venue,
      risk: decoded.risk,
      strategies: decoded.strategies,
      journal: { kind: journalKind, topicPrefix: decoded.journal.topicPrefix },
      store: { kind: storeKind },
      recovery: decoded.recovery
    }
    return config
  })

/** Reads the JSON file at `path` (if given) and applies `env` (default: `process.env`). */
export const loadConfig = (options: { readonly path?: string; readonly env?: Env } = {}): Effect.Effect<Config, ConfigError> =>
  Effect.gen(function* () {
    const env = options.env ?? process.env
    let file: unknown = undefined
    if (options.path !== undefined) {
      const path = options.path
      const text = yield* Effect.tryPromise({
        try: () => readFile(path, "utf8"),
        catch: (cause) => new ConfigError({ path: "", reason: `expected a readable config file at ${path}, got ${cause instanceof Error ? cause.message : String(cause)}` })
      })
      file = yield* Effect.try({
        try: () => JSON.parse(text) as unknown,
        catch: (cause) => new ConfigError({ path: "", reason: `expected JSON in ${path}, got ${cause instanceof Error ? cause.message : String(cause)}` })
      })
    }
    return yield* parseConfig(file, env)
  })

/** The config with secrets masked, for logs and the control API. */
export const redactConfig = (config: Config): Config => ({
  ...config,
  ...(config.token !== undefined ? { token: "***" } : {}),
  ...(config.databaseUrl !== undefined ? { databaseUrl: config.databaseUrl.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@") } : {}),
  venue: {
    ...config.venue,
    ...(config.venue.apiKey !== undefined ? { apiKey: "***" } : {}),
    ...(config.venue.apiSecret !== undefined ? { apiSecret: "***" } : {})
  }
})
