import { readFile } from "node:fs/promises"
import { Data, Effect, Either, Schema } from "effect"
import { AccountId, DecimalFromString, describeParseError, InstrumentId, StrategyId } from "../domain/schema.js"
import { venueRateModels, type VenueCostModel } from "../domain/venue-rates.js"
import { appUrlOf } from "../persistence/migrations.js"
import { checkRules, REMOVED_KEYS, removedKeyError } from "./config-rules.js"
import { AlertsConfig, checkAlerts } from "./alerts/config.js"
import { checkPortfolioRisk, PortfolioRiskConfig, type PortfolioRiskSettings } from "./portfolio-risk/config.js"
import { Decimal } from "../domain/decimal.js"

export { RISK_DEFAULTS, riskLimit, TOKEN_MIN_LENGTH } from "./config-rules.js"

/**
 * Daemon configuration: an optional JSON file, then environment variables on top (env wins).
 * With neither, the daemon runs fully embedded: simulator venue, file journal, PGlite store.
 * Every value is decoded with Schema (types, unknown keys), then checked against the rules in
 * `config-rules.ts` (signs, ranges, relations between keys, what a venue needs); a bad one is a
 * `ConfigError` naming the key path (or the environment variable), what was expected and what was
 * given. Every key that is accepted is used for what its name says.
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

/**
 * `simulator`: the exchange simulator — in-process on loopback unless `baseUrl` points at one
 * started with `troupe simulator`. `kraken-futures`: the real venue, so `baseUrl`, `wsUrl` and the
 * credentials are required (never a silent fall-back to the simulator). Both speak the Kraken
 * Futures API through the same adapter, so instruments are `kraken-futures:<symbol>` either way.
 */
export const VENUE_KINDS = ["simulator", "kraken-futures"] as const
export type VenueKind = (typeof VENUE_KINDS)[number]

// A DNS name or an IP address (IPv6 in brackets), as it appears in a `Host` header without the port.
const HOST_NAME = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*|\[[0-9a-f:.]+\])$/i
const HostName = Schema.String.pipe(
  Schema.filter((s) => s.length <= 253 && HOST_NAME.test(s)),
  Schema.annotations({ description: "a host name without port (e.g. troupe.internal, 10.0.0.5, [fd00::5])" })
)

export const VenueConfig = Schema.Struct({
  id: withDefault(Schema.Literal(...VENUE_KINDS), () => "simulator" as const),
  account: withDefault(AccountId, () => "default" as typeof AccountId.Type),
  baseUrl: optional(Url(["http:", "https:"])),
  wsUrl: optional(Url(["ws:", "wss:"])),
  apiKey: optional(NonEmpty),
  apiSecret: optional(NonEmpty)
})
export type VenueConfig = typeof VenueConfig.Type

/**
 * Per-account risk limits; an absent one takes its value from `RISK_DEFAULTS`. Money and
 * quantities are decimal text and must be positive; see `config-rules.ts` for the relations.
 * There is no account-wide `ordersPerSecond`: the venue's rate budget, reserved in the risk actor
 * for every request, is that limit (an extra, lower cap would be a second budget to keep honest).
 */
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
  /** Intents per second one strategy instance may send (default 20). */
  strategyOrdersPerSecond: optional(PositiveInt),
  /** Initial margin per unit of notional for risk's margin check ("0.02" = 50×; default 0.02). */
  initialMarginRate: optional(DecimalFromString),
  /** When the venue has not (or no longer) reported the available margin: deny orders that add risk (default) or allow them. */
  marginWhenUnknown: optional(Schema.Literal("deny", "allow"))
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
   * A journal record that does not decode at recovery stops the account (fail closed) unless
   * this is true (or `--skip-undecodable-journal-records`): then each is skipped, logged and counted.
   */
  skipUndecodableJournalRecords: withDefault(Schema.Boolean, () => false),
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
/**
 * Write-ahead durability of the file journal: what "journaled" means before an order goes out.
 * `fsync`: on disk (fdatasync, group-committed) — survives a power loss. `os`: written to the OS
 * (the kernel's page cache), fsynced in the background every OS_DURABILITY_SYNC_MS — survives a
 * process crash, kill -9 included, not a power loss or kernel crash. See docs/architecture.md
 * "Benches and durability". The Kafka journal is always acks=all.
 */
export const JournalDurability = Schema.Literal("fsync", "os")
export type JournalDurability = typeof JournalDurability.Type
/** Background fsync period of the `os` durability: the most a power loss can take back. */
export const OS_DURABILITY_SYNC_MS = 5
/** The file journal's fsync policy for a durability (`adapters/journal/file` FsyncPolicy). */
export const fsyncPolicyOf = (durability: JournalDurability): { readonly kind: "always" } | { readonly kind: "background"; readonly ms: number } =>
  durability === "fsync" ? { kind: "always" } : { kind: "background", ms: OS_DURABILITY_SYNC_MS }

/** Retention of the embedded file journal: the policy is in daemon/journal-retention.ts. */
export const FileRetentionConfig = Schema.Struct({
  /** Hours of history every topic keeps (orders/control: also only what snapshot and audit trail cover). */
  hours: withDefault(PositiveInt, () => 24),
  /** Cap per topic, MiB, for `md` and `strategy` (nothing is rebuilt from them). */
  maxMb: withDefault(PositiveInt, () => 1024),
  /** Seconds between retention passes. */
  everySeconds: withDefault(PositiveInt, () => 300)
})
export type FileRetentionConfig = typeof FileRetentionConfig.Type

/** Kafka `retention.ms` / `retention.bytes` (per partition) of a topic the daemon creates; -1 = unlimited. */
const Unlimited = Schema.Literal(-1)
const KafkaTopicRetention = Schema.Struct({
  hours: Schema.Union(PositiveInt, Unlimited).annotations({ description: "a positive integer, or -1 for unlimited" }),
  mb: Schema.Union(PositiveInt, Unlimited).annotations({ description: "a positive integer, or -1 for unlimited" })
})
const KafkaRetentionConfig = Schema.Struct({
  orders: optional(KafkaTopicRetention),
  control: optional(KafkaTopicRetention),
  md: optional(KafkaTopicRetention),
  strategy: optional(KafkaTopicRetention)
})
export type KafkaRetentionConfig = typeof KafkaRetentionConfig.Type
const TopicPrefix = Schema.String.pipe(Schema.pattern(/^[A-Za-z0-9._-]{0,200}$/)).annotations({ description: "Kafka topic characters [A-Za-z0-9._-]" })
const StoreKind = Schema.Literal("pglite", "postgres")

/** The JSON file. Every key is optional; unknown keys are errors (a typo must not pass silently). */
export const ConfigFile = Schema.Struct({
  home: optional(NonEmpty),
  port: optional(Port),
  /** Names the control API answers to besides loopback (a proxy's or tunnel's); see host-check.ts. */
  allowedHosts: optional(Schema.Array(HostName)),
  token: optional(NonEmpty),
  /** The schema owner's login: migrations only. */
  databaseUrl: optional(Url(["postgres:", "postgresql:"])),
  /** The daemon's own login (the application role); default: `databaseUrl` as user `troupe_app`. */
  appDatabaseUrl: optional(Url(["postgres:", "postgresql:"])),
  kafkaBrokers: optional(Schema.Array(Broker)),
  venue: withDefault(VenueConfig, () => Schema.decodeSync(VenueConfig)({})),
  risk: withDefault(RiskLimitsConfig, () => ({})),
  /** Per-venue rate budgets (`{ "binance-usdm": { "weightPerMinute": 1200 } }`); checked by `venueRateModels`. */
  rateLimits: optional(Schema.Record({ key: Schema.String, value: Schema.Unknown })),
  strategies: withDefault(Schema.Array(StrategyConfig), () => []),
  journal: withDefault(
    Schema.Struct({
      kind: optional(JournalKind),
      /** File journal only; default `fsync`. */
      durability: optional(JournalDurability),
      topicPrefix: withDefault(TopicPrefix, () => "troupe."),
      retention: withDefault(FileRetentionConfig, () => Schema.decodeSync(FileRetentionConfig)({})),
      kafkaRetention: withDefault(KafkaRetentionConfig, () => ({})),
      /** Record what the strategies receive, for `troupe replay --parity` (docs/architecture.md "Parity"). */
      recordMarketData: withDefault(Schema.Boolean, () => false)
    }),
    () => ({ topicPrefix: "troupe.", retention: Schema.decodeSync(FileRetentionConfig)({}), kafkaRetention: {}, recordMarketData: false })
  ),
  store: withDefault(Schema.Struct({ kind: optional(StoreKind) }), () => ({})),
  recovery: withDefault(RecoveryConfig, () => Schema.decodeSync(RecoveryConfig)({})),
  /** The portfolio risk monitor (docs/portfolio-risk.md); absent: none. */
  portfolioRisk: optional(PortfolioRiskConfig),
  /** Alert rules and channels (docs/portfolio-risk.md, "Alerts"); absent: the default rules, log and inspector. */
  alerts: optional(AlertsConfig)
})
export type ConfigFile = typeof ConfigFile.Type

export interface Config {
  /** State directory (file journal, PGlite data, run counter); relative to the working directory. */
  readonly home: string
  /** Control API, inspector and metrics port. */
  readonly port: number
  /** `Host` names the control API accepts besides loopback ones. */
  readonly allowedHosts: ReadonlyArray<string>
  /** Bearer token for the control API (at least TOKEN_MIN_LENGTH characters); absent = generated. */
  readonly token?: string
  /** Owner login, for migrations. */
  readonly databaseUrl?: string
  /** Application-role login, for everything else (set whenever `databaseUrl` is). */
  readonly appDatabaseUrl?: string
  /** Empty when Kafka is not used. */
  readonly kafkaBrokers: ReadonlyArray<string>
  readonly venue: VenueConfig
  readonly risk: RiskLimitsConfig
  /** Each venue's rate-budget cost model (defaults with the file's `rateLimits` on top). */
  readonly rateLimits: ReadonlyMap<string, VenueCostModel>
  readonly strategies: ReadonlyArray<StrategyConfig>
  readonly journal: {
    readonly kind: "file" | "kafka"
    /** Write-ahead durability of the file journal (the Kafka journal is acks=all). */
    readonly durability: JournalDurability
    readonly topicPrefix: string
    readonly retention: FileRetentionConfig
    /** Overrides of DEFAULT_TOPIC_RETENTION (kafka-journal.ts) for topics the daemon creates. */
    readonly kafkaRetention: KafkaRetentionConfig
    /** Record the strategies' inputs beside the journal for parity replay (`parity-recorder.ts`). */
    readonly recordMarketData: boolean
  }
  readonly store: { readonly kind: "pglite" | "postgres" }
  readonly recovery: RecoveryConfig
  /** Checked settings of the portfolio risk monitor; absent: no monitor. */
  readonly portfolioRisk?: PortfolioRiskSettings
  readonly alerts?: AlertsConfig
}

export const DEFAULT_HOME = "./.troupe"
export const DEFAULT_PORT = 7400

export type Env = Readonly<Record<string, string | undefined>>

// Environment variables: each is decoded on its own so an error names the variable.
interface EnvOverrides {
  home?: string
  port?: number
  allowedHosts?: ReadonlyArray<string>
  token?: string
  databaseUrl?: string
  appDatabaseUrl?: string
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

const HostList = Schema.transform(Schema.String, Schema.Array(HostName), {
  strict: true,
  decode: (s) => s.split(",").map((h) => h.trim()),
  encode: (hs) => hs.join(",")
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
    const allowedHosts = yield* envValue(env, "TROUPE_ALLOWED_HOSTS", HostList)
    if (allowedHosts !== undefined) out.allowedHosts = allowedHosts
    const token = yield* envValue(env, "TROUPE_TOKEN", NonEmpty)
    if (token !== undefined) out.token = token
    const databaseUrl = yield* envValue(env, "DATABASE_URL", Url(["postgres:", "postgresql:"]))
    if (databaseUrl !== undefined) out.databaseUrl = databaseUrl
    const appDatabaseUrl = yield* envValue(env, "TROUPE_APP_DATABASE_URL", Url(["postgres:", "postgresql:"]))
    if (appDatabaseUrl !== undefined) out.appDatabaseUrl = appDatabaseUrl
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
    const removed = removedKeyError(file, REMOVED_KEYS)
    if (removed !== undefined) return yield* Either.left(new ConfigError(removed))
    const decoded = yield* Either.mapLeft(
      Schema.decodeUnknownEither(ConfigFile, { errors: "first", onExcessProperty: "error" })(file ?? {}),
      (e) => new ConfigError(describeParseError(e))
    )
    const over = yield* readEnv(env)

    const databaseUrl = over.databaseUrl ?? decoded.databaseUrl
    const kafkaBrokers = over.kafkaBrokers ?? decoded.kafkaBrokers ?? []
    const token = over.token ?? decoded.token
    const appDatabaseUrl = over.appDatabaseUrl ?? decoded.appDatabaseUrl
    const journalKind = decoded.journal.kind ?? (kafkaBrokers.length > 0 ? "kafka" : "file")
    if (journalKind === "kafka" && kafkaBrokers.length === 0) {
      return yield* Either.left(new ConfigError({ path: "journal.kind", reason: `expected KAFKA_BROKERS (or kafkaBrokers) to be set for "kafka", got none` }))
    }
    if (journalKind === "kafka" && decoded.journal.durability !== undefined) {
      return yield* Either.left(new ConfigError({ path: "journal.durability", reason: 'expected no journal.durability with the Kafka journal (it is always acks=all; the setting would be ignored), got one' }))
    }
    const storeKind = decoded.store.kind ?? (databaseUrl !== undefined ? "postgres" : "pglite")
    // The same file asking for both would have one of them silently ignored. (The environment's
    // DATABASE_URL / KAFKA_BROKERS may be there for other tools, so an explicit kind wins over them.)
    if (decoded.store.kind === "pglite" && decoded.databaseUrl !== undefined) {
      return yield* Either.left(new ConfigError({ path: "databaseUrl", reason: 'expected no databaseUrl with store.kind "pglite" (it would be ignored), got one' }))
    }
    if (decoded.journal.kind === "file" && decoded.kafkaBrokers !== undefined) {
      return yield* Either.left(new ConfigError({ path: "kafkaBrokers", reason: 'expected no kafkaBrokers with journal.kind "file" (they would be ignored), got some' }))
    }
    if (storeKind === "postgres" && databaseUrl === undefined) {
      return yield* Either.left(new ConfigError({ path: "store.kind", reason: `expected DATABASE_URL (or databaseUrl) to be set for "postgres", got none` }))
    }
    const venue: VenueConfig = {
      ...decoded.venue,
      ...(over.apiKey !== undefined ? { apiKey: over.apiKey } : {}),
      ...(over.apiSecret !== undefined ? { apiSecret: over.apiSecret } : {})
    }
    const broken = checkRules({
      risk: decoded.risk,
      venue,
      strategies: decoded.strategies,
      token: token === undefined ? undefined : { value: token, path: over.token !== undefined ? "TROUPE_TOKEN" : "token" },
      databaseUrl,
      appDatabaseUrl: appDatabaseUrl === undefined ? undefined : { value: appDatabaseUrl, path: over.appDatabaseUrl !== undefined ? "TROUPE_APP_DATABASE_URL" : "appDatabaseUrl" }
    })
    if (broken !== undefined) return yield* Either.left(new ConfigError(broken))
    const rateLimits = venueRateModels(decoded.rateLimits)
    if (Either.isLeft(rateLimits)) return yield* Either.left(new ConfigError({ path: rateLimits.left.path, reason: rateLimits.left.reason }))
    const portfolioRisk = decoded.portfolioRisk === undefined ? undefined : checkPortfolioRisk(decoded.portfolioRisk, (t) => new Decimal(t))
    if (portfolioRisk !== undefined && "path" in portfolioRisk) return yield* Either.left(new ConfigError(portfolioRisk))
    const badAlerts = decoded.alerts === undefined ? undefined : checkAlerts(decoded.alerts)
    if (badAlerts !== undefined) return yield* Either.left(new ConfigError(badAlerts))
    const config: Config = {
      home: over.home ?? decoded.home ?? DEFAULT_HOME,
      port: over.port ?? decoded.port ?? DEFAULT_PORT,
      allowedHosts: over.allowedHosts ?? decoded.allowedHosts ?? [],
      ...(token !== undefined ? { token } : {}),
      ...(databaseUrl !== undefined ? { databaseUrl, appDatabaseUrl: appDatabaseUrl ?? appUrlOf(databaseUrl) } : {}),
      kafkaBrokers,
      venue,
      risk: decoded.risk,
      rateLimits: rateLimits.right,
      strategies: decoded.strategies,
      journal: { kind: journalKind, durability: decoded.journal.durability ?? "fsync", topicPrefix: decoded.journal.topicPrefix, retention: decoded.journal.retention, kafkaRetention: decoded.journal.kafkaRetention, recordMarketData: decoded.journal.recordMarketData },
      store: { kind: storeKind },
      recovery: decoded.recovery,
      ...(portfolioRisk === undefined ? {} : { portfolioRisk }),
      ...(decoded.alerts === undefined ? {} : { alerts: decoded.alerts })
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

const maskPassword = (url: string): string => url.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@")

/** The config with secrets masked, for logs and the control API. */
export const redactConfig = (config: Config): Config => ({
  ...config,
  ...(config.token !== undefined ? { token: "***" } : {}),
  ...(config.databaseUrl !== undefined ? { databaseUrl: maskPassword(config.databaseUrl) } : {}),
  ...(config.appDatabaseUrl !== undefined ? { appDatabaseUrl: maskPassword(config.appDatabaseUrl) } : {}),
  venue: {
    ...config.venue,
    ...(config.venue.apiKey !== undefined ? { apiKey: "***" } : {}),
    ...(config.venue.apiSecret !== undefined ? { apiSecret: "***" } : {})
  },
  // A chat tool's incoming-webhook URL is its secret: only the origin is shown.
  ...(config.alerts !== undefined ? { alerts: { ...config.alerts, webhooks: config.alerts.webhooks.map((w) => ({ ...w, url: `${new URL(w.url).origin}/***` })) } } : {})
})
