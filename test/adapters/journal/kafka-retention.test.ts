import { randomUUID } from "node:crypto"
import { Effect } from "effect"
import { ConfigResourceTypes, Kafka, logLevel } from "kafkajs"
import { describe, expect, inject, it } from "vitest"
import { DEFAULT_TOPIC_RETENTION, openKafkaJournal } from "../../../src/adapters/journal/kafka/kafka-journal.js"
import { kafkaTopicRetention } from "../../../src/daemon/journal-retention.js"

const brokers = (inject("kafkaBrokers") ?? "").split(",").filter((s) => s.length > 0)

describe("kafka topic retention", () => {
  it("creates every topic with explicit retention.ms and retention.bytes: the defaults, or the configured override", async () => {
    const prefix = `r${randomUUID().slice(0, 8)}.`
    const retention = kafkaTopicRetention({ md: { hours: 2, mb: 100 }, orders: { hours: -1, mb: -1 } })
    const j = await Effect.runPromise(openKafkaJournal({ brokers, topicPrefix: prefix, partitions: { md: 1, orders: 1 }, retention, logLevel: logLevel.NOTHING }))
    const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin()
    try {
      await admin.connect()
      const described = await admin.describeConfigs({
        includeSynonyms: false,
        resources: ["md", "orders", "control", "strategy"].map((t) => ({ type: ConfigResourceTypes.TOPIC, name: prefix + t, configNames: ["retention.ms", "retention.bytes"] }))
      })
      const got = Object.fromEntries(
        described.resources.map((r) => [r.resourceName.slice(prefix.length), Object.fromEntries(r.configEntries.map((e) => [e.configName, e.configValue]))])
      )
      expect(got).toEqual({
        md: { "retention.ms": String(2 * 3_600_000), "retention.bytes": String(100 * 1024 * 1024) },
        orders: { "retention.ms": "-1", "retention.bytes": "-1" },
        control: { "retention.ms": String(DEFAULT_TOPIC_RETENTION.control.ms), "retention.bytes": "-1" },
        strategy: { "retention.ms": String(7 * 86_400_000), "retention.bytes": String(4 * 1024 ** 3) }
      })
      // Nothing deleted yet: every partition starts at 0 (recovery compares its needs with this).
      const starts = await Effect.runPromise(j.startOffsets!())
      expect(starts.map((o) => o.offset)).toEqual(starts.map(() => "0"))
    } finally {
      await admin.disconnect()
      await Effect.runPromise(j.close())
    }
  }, 60_000)
})
