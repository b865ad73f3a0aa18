import { mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Either } from "effect"
import { describe, expect, it } from "vitest"
import { ConfigError, loadConfig, parseConfig, redactConfig, type Config } from "../../src/daemon/config.js"

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
    expect(c.journal).toEqual({ kind: "file", topicPrefix: "troupe.", retention: { hours: 24, maxMb: 1024, everySeconds: 300 }, kafkaRetention: {} })
    expect(c.store).toEqual({ kind: "pglite" })
    expect(c.kafkaBrokers).toEqual([])
    expect(c.strategies).toEqual([])
    expect("token" in c).toBe(false)
  })
})

describe("environment overrides", () => {
  it("environment variables win over the file", () => {
    const c = ok(
      { home: "/var/lib/troupe", port: 8000, token: "from-file", databaseUrl: "postgres://file/db" },
      {
        TROUPE_HOME: "/srv/troupe",
        TROUPE_PORT: "7500",
        TROUPE_TOKEN: "s3cret",
        DATABASE_URL: "postgresql://u:p@db:5432/troupe",
        KAFKA_BROKERS: "k1:9092, k2:9093"
      }
    )
    expect(c.home).toBe("/srv/troupe")
    expect(c.port).toBe(7500)
    expect(c.token).toBe("s3cret")
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
    const c = ok({ venue: { id: "kraken-futures", apiKey: "file-key" } }, { TROUPE_VENUE_API_KEY: "env-key", TROUPE_VENUE_API_SECRET: "env-secret" })
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
        { id: "mm1", kind: "market-maker", instruments: ["simulator:PF_XBTUSD"] },
        { id: "mm2", kind: "market-maker", instruments: ["PF_XBTUSD"] }
      ]
    })
    expect(e.path).toBe("strategies[1].instruments[0]")
    expect(e.reason).toContain("venue:symbol")
  })

  it("fills strategy defaults and rejects duplicate strategy ids", () => {
    const s = { id: "mm1", kind: "market-maker", instruments: ["simulator:PF_XBTUSD"] }
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
