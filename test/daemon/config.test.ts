import { mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Either } from "effect"
import { describe, expect, it } from "vitest"
import { ConfigError, loadConfig, parseConfig, redactConfig, RISK_DEFAULTS, riskLimit, TOKEN_MIN_LENGTH, type Config } from "../../src/daemon/config.js"
import { checkLimitsForInstruments } from "../../src/daemon/config-rules.js"
import { accountLimitsOf } from "../../src/daemon/trading-node.js"
import { Decimal } from "../../src/domain/decimal.js"

const ok = (file: unknown, env: Record<string, string> = {}): Config => {
  const r = parseConfig(file, env)
  if (Either.isLeft(r)) throw new Error(`expected a config, got ${r.left.message}`)
  return r.right
}
const fail = (file: unknown, env: Record<string, string> = {}): ConfigError => {
  const r = parseConfig(file, env)
  if (Either.isRight(r)) throw new Error("expected a config error")
  expect(r.left).toBeInstanceOf(ConfigError)
  return r.left
}

describe("config defaults", () => {
  it("with no file and no environment runs embedded: simulator, file journal, PGlite, port 7400", () => {
    const c = ok(undefined)
    expect(c.home).toBe("./.troupe")
    expect(c.port).toBe(7400)
    expect(c.venue.id).toBe("simulator")
    expect(c.journal).toEqual({ kind: "file", durability: "fsync", topicPrefix: "troupe.", retention: { hours: 24, maxMb: 1024, everySeconds: 300 }, kafkaRetention: {}, recordMarketData: false })
    expect(c.store).toEqual({ kind: "pglite" })
    expect(c.kafkaBrokers).toEqual([])
    expect(c.strategies).toEqual([])
    expect("token" in c).toBe(false)
  })
})

describe("environment overrides", () => {
  it("environment variables win over the file", () => {
    const c = ok(
      { home: "/var/lib/troupe", port: 8000, token: "from-file-from-file", databaseUrl: "postgres://file/db" },
      {
        TROUPE_HOME: "/srv/troupe",
        TROUPE_PORT: "7500",
        TROUPE_TOKEN: "s3cret-s3cret-s3cret",
        DATABASE_URL: "postgresql://u:p@db:5432/troupe",
        KAFKA_BROKERS: "k1:9092, k2:9093"
      }
    )
    expect(c.home).toBe("/srv/troupe")
    expect(c.port).toBe(7500)
    expect(c.token).toBe("s3cret-s3cret-s3cret")
    expect(c.databaseUrl).toBe("postgresql://u:p@db:5432/troupe")
    expect(c.kafkaBrokers).toEqual(["k1:9092", "k2:9093"])
  })

  it("DATABASE_URL and KAFKA_BROKERS switch the store to Postgres and the journal to Kafka", () => {
    const c = ok(undefined, { DATABASE_URL: "postgres://localhost/troupe", KAFKA_BROKERS: "127.0.0.1:9092" })
    expect(c.store.kind).toBe("postgres")
    expect(c.journal.kind).toBe("kafka")
  })

  it("an explicit file journal stays a file journal even when Kafka brokers are set", () => {
    expect(ok({ journal: { kind: "file" } }, { KAFKA_BROKERS: "k:9092" }).journal.kind).toBe("file")
  })

  it("a blank environment variable counts as unset", () => {
    expect(ok({ port: 9000 }, { TROUPE_PORT: "  " }).port).toBe(9000)
  })

  it("venue API credentials can come from the environment", () => {
    const c = ok({ venue: { id: "kraken-futures", baseUrl: "https://futures.kraken.com/derivatives", wsUrl: "wss://futures.kraken.com/ws/v1", apiKey: "file-key" } }, { TROUPE_VENUE_API_KEY: "env-key", TROUPE_VENUE_API_SECRET: "env-secret" })
    expect(c.venue.apiKey).toBe("env-key")
    expect(c.venue.apiSecret).toBe("env-secret")
    expect(redactConfig(c).venue.apiSecret).toBe("***")
  })

  it("names KAFKA_BROKERS when an entry is not host:port", () => {
    const e = fail(undefined, { KAFKA_BROKERS: "k1:9092,broker-without-port" })
    expect(e.path).toBe("KAFKA_BROKERS")
    expect(e.message).toBe('config error at KAFKA_BROKERS: expected host:port, got "broker-without-port"')
  })

  it("names TROUPE_PORT when it is not a port number", () => {
    expect(fail(undefined, { TROUPE_PORT: "http" }).message).toBe('config error at TROUPE_PORT: expected a port number 0..65535, got "http"')
    expect(fail(undefined, { TROUPE_PORT: "70000" }).path).toBe("TROUPE_PORT")
  })

  it("names DATABASE_URL when it is not a postgres URL", () => {
    const e = fail(undefined, { DATABASE_URL: "mysql://x/y" })
    expect(e.path).toBe("DATABASE_URL")
    expect(e.reason).toContain("postgres:")
  })
})

describe("config file validation", () => {
  it("decodes risk limits as exact Decimals", () => {
    const c = ok({ risk: { maxOrderQty: "12.5", maxNotional: "1000000.00000001", maxOpenOrders: 50 } })
    expect(c.risk.maxOrderQty?.toFixed()).toBe("12.5")
    expect(c.risk.maxNotional?.toFixed()).toBe("1000000.00000001")
    expect(c.risk.maxOpenOrders).toBe(50)
  })

  it("names the key path, the expectation and the given value for bad decimal text", () => {
    const e = fail({ risk: { maxOrderQty: "12.5x" } })
    expect(e.path).toBe("risk.maxOrderQty")
    expect(e.message).toMatch(/^config error at risk\.maxOrderQty: expected a decimal string, got "12\.5x"/)
  })

  it("refuses a money limit written as a JSON number, because it was a float before we saw it", () => {
    const e = fail({ risk: { maxNotional: 0.1 } })
    expect(e.path).toBe("risk.maxNotional")
    expect(e.reason).toContain("expected a decimal string, got the number 0.1")
  })

  it("names an unknown key so a typo does not silently drop a limit", () => {
    const e = fail({ risk: { maxOrderQtyy: "1" } })
    expect(e.path).toBe("risk.maxOrderQtyy")
    expect(e.reason).toContain("unknown key")
  })

  it("names the index of a bad strategy entry", () => {
    const e = fail({
      strategies: [
        { id: "mm1", kind: "avellaneda-stoikov", instruments: ["kraken-futures:PF_XBTUSD"] },
        { id: "mm2", kind: "avellaneda-stoikov", instruments: ["PF_XBTUSD"] }
      ]
    })
    expect(e.path).toBe("strategies[1].instruments[0]")
    expect(e.reason).toContain("venue:symbol")
  })

  it("fills strategy defaults and rejects duplicate strategy ids", () => {
    const s = { id: "mm1", kind: "avellaneda-stoikov", instruments: ["kraken-futures:PF_XBTUSD"] }
    expect(ok({ strategies: [s] }).strategies[0]).toEqual({ ...s, restart: "permanent", enabled: true, params: {} })
    expect(fail({ strategies: [s, s] }).path).toBe("strategies[1].id")
  })

  it("names journal.kind when Kafka is asked for but no brokers are given", () => {
    const e = fail({ journal: { kind: "kafka" } })
    expect(e.path).toBe("journal.kind")
    expect(e.reason).toContain("KAFKA_BROKERS")
  })

  it("names store.kind for an unknown store", () => {
    const e = fail({ store: { kind: "sqlite" } })
    expect(e.path).toBe("store.kind")
    expect(e.reason).toContain('"pglite" | "postgres"')
  })

  it("keeps a configured topic prefix and a wrong port type names the key", () => {
    expect(ok({ journal: { topicPrefix: "prod." } }).journal.topicPrefix).toBe("prod.")
    expect(fail({ port: "7400" }).path).toBe("port")
    expect(fail({ journal: { topicPrefix: "troupe/" } }).message).toBe('config error at journal.topicPrefix: expected Kafka topic characters [A-Za-z0-9._-], got "troupe/"')
  })
})

describe("retention config", () => {
  it("takes the file journal's write-ahead durability: fsync by default, os when asked; anything else or with Kafka is a typed error", () => {
    expect(ok({}).journal.durability).toBe("fsync")
    expect(ok({ journal: { durability: "os" } }).journal.durability).toBe("os")
    expect(ok({ journal: { kind: "file", durability: "os" } }, { KAFKA_BROKERS: "k:9092" }).journal.durability).toBe("os")
    const bad = fail({ journal: { durability: "async" } })
    expect(bad.path).toBe("journal.durability")
    expect(bad.message).toMatch(/^config error at journal\.durability: expected "fsync" \| "os", got "async"/)
    const kafka = fail({ journal: { durability: "os" } }, { KAFKA_BROKERS: "k:9092" })
    expect(kafka.path).toBe("journal.durability")
  })

  it("takes the file journal's retention and Kafka topic retention, -1 meaning unlimited", () => {
    const c = ok({ journal: { retention: { hours: 6, maxMb: 512 }, kafkaRetention: { md: { hours: 12, mb: 2048 }, orders: { hours: -1, mb: -1 } } } })
    expect(c.journal.retention).toEqual({ hours: 6, maxMb: 512, everySeconds: 300 })
    expect(c.journal.kafkaRetention).toEqual({ md: { hours: 12, mb: 2048 }, orders: { hours: -1, mb: -1 } })
  })

  it("refuses a retention of zero hours or a Kafka retention of 0 MiB, naming the key", () => {
    expect(fail({ journal: { retention: { hours: 0 } } }).path).toBe("journal.retention.hours")
    expect(fail({ journal: { kafkaRetention: { md: { hours: 1, mb: 0 } } } }).path).toBe("journal.kafkaRetention.md.mb")
    expect(fail({ journal: { kafkaRetention: { trades: { hours: 1, mb: 1 } } } }).path).toBe("journal.kafkaRetention.trades")
  })
})

describe("loadConfig", () => {
  it("reads a JSON file and applies the environment on top", async () => {
    const dir = await mkdtemp(join(tmpdir(), "troupe-config-"))
    try {
      const path = join(dir, "troupe.json")
      await writeFile(path, JSON.stringify({ port: 7401, risk: { maxPosition: "3" } }))
      const c = await Effect.runPromise(loadConfig({ path, env: { TROUPE_HOME: dir } }))
      expect(c.port).toBe(7401)
      expect(c.home).toBe(dir)
      expect(c.risk.maxPosition?.toFixed()).toBe("3")
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it("fails with a ConfigError, not a throw, for a missing file or invalid JSON", async () => {
    const dir = await mkdtemp(join(tmpdir(), "troupe-config-"))
    try {
      const missing = await Effect.runPromise(Effect.either(loadConfig({ path: join(dir, "nope.json"), env: {} })))
      expect(Either.isLeft(missing) && missing.left._tag === "ConfigError" && missing.left.reason.includes("readable config file")).toBe(true)
      const path = join(dir, "bad.json")
      await writeFile(path, "{ port: ")
      const bad = await Effect.runPromise(Effect.either(loadConfig({ path, env: {} })))
      expect(Either.isLeft(bad) && bad.left.reason.includes("expected JSON")).toBe(true)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})

// One test per rule of src/daemon/config-rules.ts: the exact message an operator reads.
describe("config rules: every limit is checked, with the key path in the message", () => {
  const message = (file: unknown, env: Record<string, string> = {}): string => fail(file, env).message

  it.each(["maxOrderQty", "maxNotional", "maxPosition", "maxGrossExposure", "maxNetExposure", "dailyLossLimit"])(
    "refuses a negative or zero risk.%s, which would deny every order while the daemon looks healthy",
    (key) => {
      expect(message({ risk: { [key]: "-1" } })).toBe(`config error at risk.${key}: expected a decimal greater than 0, got "-1"`)
      expect(message({ risk: { [key]: "0" } })).toBe(`config error at risk.${key}: expected a decimal greater than 0, got "0"`)
    }
  )

  it("refuses a negative price band with the key path, not the risk actor's internal name", () => {
    expect(message({ risk: { priceBand: "-0.05" } })).toBe(
      'config error at risk.priceBand: expected a fraction of the reference price above 0 and at most 1, in whole basis points (a multiple of 0.0001), got "-0.05"'
    )
  })

  it("refuses a price band above 1 or finer than a basis point (it would round to a band of 0)", () => {
    expect(message({ risk: { priceBand: "1.5" } })).toBe(
      'config error at risk.priceBand: expected a fraction of the reference price above 0 and at most 1, in whole basis points (a multiple of 0.0001), got "1.5"'
    )
    expect(message({ risk: { priceBand: "0.00005" } })).toBe(
      'config error at risk.priceBand: expected a fraction of the reference price above 0 and at most 1, in whole basis points (a multiple of 0.0001), got "0.00005"'
    )
    expect(ok({ risk: { priceBand: "0.0001" } }).risk.priceBand?.toString()).toBe("0.0001")
    expect(ok({ risk: { priceBand: "1" } }).risk.priceBand?.toString()).toBe("1")
  })

  it("refuses an initial-margin rate of 0 or above 1, and takes the margin policy for an unknown figure", () => {
    expect(message({ risk: { initialMarginRate: "0" } })).toBe('config error at risk.initialMarginRate: expected a fraction of the notional above 0 and at most 1, got "0"')
    expect(message({ risk: { initialMarginRate: "1.2" } })).toBe('config error at risk.initialMarginRate: expected a fraction of the notional above 0 and at most 1, got "1.2"')
    expect(ok({ risk: { initialMarginRate: "0.05", marginWhenUnknown: "allow" } }).risk).toMatchObject({ marginWhenUnknown: "allow" })
    expect(ok({ risk: { initialMarginRate: "0.05" } }).risk.initialMarginRate?.toString()).toBe("0.05")
  })

  it("refuses maxOrderQty above maxPosition, set or default: such an order could never be placed", () => {
    expect(message({ risk: { maxOrderQty: "20", maxPosition: "10" } })).toBe(
      'config error at risk.maxOrderQty: expected at most risk.maxPosition (10): a larger order could never be placed, got "20"'
    )
    expect(message({ risk: { maxOrderQty: "500" } })).toBe(
      'config error at risk.maxOrderQty: expected at most risk.maxPosition (100, its default): a larger order could never be placed, got "500"'
    )
    expect(ok({ risk: { maxOrderQty: "10", maxPosition: "10" } }).risk.maxOrderQty?.toString()).toBe("10")
  })

  it("refuses maxNetExposure above maxGrossExposure, set or default: net never exceeds gross", () => {
    expect(message({ risk: { maxNetExposure: "2000", maxGrossExposure: "1000" } })).toBe(
      'config error at risk.maxNetExposure: expected at most risk.maxGrossExposure (1000): net exposure never exceeds gross, got "2000"'
    )
    expect(message({ risk: { maxNetExposure: "2000000" } })).toBe(
      'config error at risk.maxNetExposure: expected at most risk.maxGrossExposure (1000000, its default): net exposure never exceeds gross, got "2000000"'
    )
  })

  it("refuses a non-integer or non-positive count limit", () => {
    expect(message({ risk: { maxOpenOrders: 1.5 } })).toBe("config error at risk.maxOpenOrders: expected an integer, got 1.5")
    expect(message({ risk: { maxOpenOrders: 0 } })).toBe("config error at risk.maxOpenOrders: expected a positive integer, got 0")
    expect(message({ risk: { strategyOrdersPerSecond: -3 } })).toBe("config error at risk.strategyOrdersPerSecond: expected a positive integer, got -3")
    expect(message({ recovery: { auditLagSeconds: 0 } })).toBe("config error at recovery.auditLagSeconds: expected a positive integer, got 0")
    expect(message({ recovery: { snapshotEveryEvents: 2.5 } })).toBe("config error at recovery.snapshotEveryEvents: expected an integer, got 2.5")
  })

  it("refuses risk.ordersPerSecond, removed because the venue rate budget is the account's limit", () => {
    expect(message({ risk: { ordersPerSecond: 5 } })).toBe(
      "config error at risk.ordersPerSecond: expected a known key, got a removed one: the account's venue requests are limited by the venue's rate budget, reserved in the risk actor for every request; to cap one strategy use risk.strategyOrdersPerSecond"
    )
  })

  it("applies an unset limit's documented default, so the risk actor and the rules agree", () => {
    expect(accountLimitsOf({})).toEqual({
      maxGrossExposure: new Decimal(RISK_DEFAULTS.maxGrossExposure),
      maxNetExposure: new Decimal(RISK_DEFAULTS.maxNetExposure),
      maxOpenOrders: 200,
      dailyLossLimit: new Decimal(RISK_DEFAULTS.dailyLossLimit)
    })
    expect(riskLimit(ok({ risk: { priceBand: "0.0125" } }).risk, "priceBand").times(10_000).toNumber()).toBe(125)
  })
})

describe("config rules: the venue key selects the venue or is refused", () => {
  const message = (file: unknown, env: Record<string, string> = {}): string => fail(file, env).message
  const live = { id: "kraken-futures", baseUrl: "https://futures.kraken.com/derivatives", wsUrl: "wss://futures.kraken.com/ws/v1", apiKey: "k", apiSecret: "s" }

  it("refuses venue.id kraken-futures without a baseUrl instead of trading the embedded simulator", () => {
    expect(message({ venue: { id: "kraken-futures" } })).toBe(
      'config error at venue.baseUrl: expected the REST base URL of Kraken Futures (e.g. "https://futures.kraken.com/derivatives") for venue.id "kraken-futures", got none'
    )
  })

  it("refuses an unknown venue id", () => {
    expect(message({ venue: { id: "binance" } })).toBe('config error at venue.id: expected "simulator" | "kraken-futures", got "binance"')
  })

  it("requires the WebSocket URL and both credentials with a baseUrl, naming the missing one", () => {
    const { wsUrl: _w, ...noWs } = live
    expect(message({ venue: noWs })).toBe("config error at venue.wsUrl: expected the venue's WebSocket URL because venue.baseUrl is set, got none")
    const { apiKey: _k, ...noKey } = live
    expect(message({ venue: noKey })).toBe("config error at venue.apiKey: expected an API key (venue.apiKey or TROUPE_VENUE_API_KEY) because venue.baseUrl is set, got none")
    const { apiSecret: _s, ...noSecret } = live
    expect(message({ venue: noSecret })).toBe("config error at venue.apiSecret: expected an API secret (venue.apiSecret or TROUPE_VENUE_API_SECRET) because venue.baseUrl is set, got none")
    expect(ok({ venue: noSecret }, { TROUPE_VENUE_API_SECRET: "from-env" }).venue.apiSecret).toBe("from-env")
  })

  it("refuses a wsUrl without a baseUrl, which the embedded simulator would ignore", () => {
    expect(message({ venue: { wsUrl: "ws://127.0.0.1:9/ws/v1" } })).toBe(
      "config error at venue.wsUrl: expected venue.baseUrl with it (the embedded simulator chooses its own URLs), got a wsUrl alone"
    )
  })

  it("refuses a venue URL with the wrong scheme", () => {
    expect(message({ venue: { ...live, baseUrl: "ftp://futures.kraken.com" } })).toBe('config error at venue.baseUrl: expected a URL (http: or https:), got "ftp://futures.kraken.com"')
  })

  it("accepts the simulator at an external baseUrl and kraken-futures with everything it needs", () => {
    expect(ok({ venue: live }).venue.id).toBe("kraken-futures")
    expect(ok({ venue: { ...live, id: "simulator", baseUrl: "http://127.0.0.1:7411/derivatives", wsUrl: "ws://127.0.0.1:7411/ws/v1" } }).venue.id).toBe("simulator")
  })
})

describe("config rules: token, database logins and strategies", () => {
  const message = (file: unknown, env: Record<string, string> = {}): string => fail(file, env).message

  it("refuses a one-character TROUPE_TOKEN, saying the minimum and never echoing the secret", () => {
    expect(message(undefined, { TROUPE_TOKEN: "x" })).toBe(`config error at TROUPE_TOKEN: expected at least ${TOKEN_MIN_LENGTH} characters, got 1`)
    expect(TOKEN_MIN_LENGTH).toBe(16)
    expect(message({ token: "short-token" })).toBe("config error at token: expected at least 16 characters, got 11")
    expect(ok(undefined, { TROUPE_TOKEN: "a".repeat(16) }).token).toBe("a".repeat(16))
  })

  it("derives the daemon's own database login (troupe_app) from the owner's URL unless one is given", () => {
    const c = ok(undefined, { DATABASE_URL: "postgres://owner:pw@db:5432/troupe" })
    expect(c.appDatabaseUrl).toBe("postgres://troupe_app@db:5432/troupe")
    expect(redactConfig(ok(undefined, { DATABASE_URL: "postgres://owner:pw@db/t", TROUPE_APP_DATABASE_URL: "postgres://app:pw2@db/t" })).appDatabaseUrl).toBe("postgres://app:***@db/t")
  })

  it("refuses an application login equal to the owner's, or one without an owner URL for migrations", () => {
    expect(message(undefined, { DATABASE_URL: "postgres://owner@db/t", TROUPE_APP_DATABASE_URL: "postgres://owner:x@db/t" })).toBe(
      "config error at TROUPE_APP_DATABASE_URL: expected a login other than the owner's (DATABASE_URL): the daemon must not be able to drop the audit trigger, got the same user"
    )
    expect(message({ appDatabaseUrl: "postgres://troupe_app@db/t" })).toBe(
      "config error at appDatabaseUrl: expected DATABASE_URL (or databaseUrl, the owner's login for migrations) with it, got none"
    )
  })

  it("refuses a strategy kind that is neither built in nor a file", () => {
    expect(message({ strategies: [{ id: "a", kind: "market-makr", instruments: ["kraken-futures:PF_XBTUSD"] }] })).toBe(
      'config error at strategies[0].kind: expected a built-in strategy (avellaneda-stoikov, momentum-breakout, pairs-zscore) or a strategy file (.ts, .js, .mjs), got "market-makr"'
    )
    expect(ok({ strategies: [{ id: "a", kind: "./strategies/mine.ts", instruments: ["kraken-futures:PF_XBTUSD"] }] }).strategies[0]?.kind).toBe("./strategies/mine.ts")
  })

  it("refuses a strategy without instruments or with another venue's instrument ids", () => {
    expect(message({ strategies: [{ id: "a", kind: "momentum-breakout", instruments: [] }] })).toBe("config error at strategies[0].instruments: expected at least one instrument, got none")
    expect(message({ strategies: [{ id: "a", kind: "momentum-breakout", instruments: ["simulator:PF_XBTUSD"] }] })).toBe(
      'config error at strategies[0].instruments[0]: expected a kraken-futures:<symbol> instrument (the simulator speaks the Kraken Futures API too), got "simulator:PF_XBTUSD"'
    )
  })

  it("refuses a file that names a store or journal kind and also the other kind's address", () => {
    expect(message({ store: { kind: "pglite" }, databaseUrl: "postgres://db/t" })).toBe('config error at databaseUrl: expected no databaseUrl with store.kind "pglite" (it would be ignored), got one')
    expect(message({ journal: { kind: "file" }, kafkaBrokers: ["k:9092"] })).toBe('config error at kafkaBrokers: expected no kafkaBrokers with journal.kind "file" (they would be ignored), got some')
    expect(ok({ store: { kind: "pglite" } }, { DATABASE_URL: "postgres://db/t" }).store.kind).toBe("pglite")
  })

  it("refuses a duplicate strategy id with the index of the second", () => {
    const s = { id: "mm1", kind: "avellaneda-stoikov", instruments: ["kraken-futures:PF_XBTUSD"] }
    expect(message({ strategies: [s, s] })).toBe('config error at strategies[1].id: expected a unique strategy id, got "mm1" twice')
  })
})

describe("config rules: limits against the venue's instruments and the control API's hosts", () => {
  const xbt = { id: "kraken-futures:PF_XBTUSD", minQty: new Decimal("0.0001"), lotSize: new Decimal("0.0001") }

  it("refuses a maxOrderQty or maxPosition below an instrument's smallest order, naming the instrument", () => {
    expect(new ConfigError(checkLimitsForInstruments({ maxOrderQty: new Decimal("0.00005") }, [xbt])!).message).toBe(
      'config error at risk.maxOrderQty: expected at least the smallest order of kraken-futures:PF_XBTUSD (0.0001): every order on it would be denied, got "0.00005"'
    )
    expect(checkLimitsForInstruments({ maxPosition: new Decimal("0.00001"), maxOrderQty: new Decimal("0.00001") }, [xbt])?.path).toBe("risk.maxOrderQty")
    expect(checkLimitsForInstruments({ maxOrderQty: new Decimal("0.0001") }, [xbt])).toBeUndefined()
  })

  it("takes extra control-API host names from the file or TROUPE_ALLOWED_HOSTS and refuses a name with a port or a scheme", () => {
    expect(ok(undefined).allowedHosts).toEqual([])
    expect(ok({ allowedHosts: ["troupe.internal", "10.0.0.5", "[fd00::5]"] }).allowedHosts).toEqual(["troupe.internal", "10.0.0.5", "[fd00::5]"])
    expect(ok({ allowedHosts: ["a.example"] }, { TROUPE_ALLOWED_HOSTS: "b.example, c.example" }).allowedHosts).toEqual(["b.example", "c.example"])
    expect(fail({ allowedHosts: ["troupe.internal:8443"] }).message).toBe(
      'config error at allowedHosts[0]: expected a host name without port (e.g. troupe.internal, 10.0.0.5, [fd00::5]), got "troupe.internal:8443"'
    )
    expect(fail(undefined, { TROUPE_ALLOWED_HOSTS: "https://x.example" }).message).toBe(
      'config error at TROUPE_ALLOWED_HOSTS: expected a host name without port (e.g. troupe.internal, 10.0.0.5, [fd00::5]), got "https://x.example"'
    )
  })
})
