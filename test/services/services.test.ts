import { inject, describe, it, expect } from "vitest"
import { Kafka, logLevel } from "kafkajs"
import pg from "pg"

describe("test services", () => {
  it("the Kafka broker started by the test run answers a kafkajs admin", async () => {
    const brokers = inject("kafkaBrokers")
    expect(brokers).not.toBe("")
    const admin = new Kafka({ brokers: brokers.split(","), clientId: "t", logLevel: logLevel.NOTHING }).admin()
    await admin.connect()
    const cluster = await admin.describeCluster()
    await admin.disconnect()
    expect(cluster.brokers.length).toBe(1)
  })

  it("the Postgres database of this run is a fresh throwaway one", async () => {
    const client = new pg.Client({ connectionString: inject("databaseUrl") })
    await client.connect()
    const { rows } = await client.query<{ db: string; tables: string }>(
      "select current_database() as db, (select count(*) from information_schema.tables where table_schema = 'public') as tables"
    )
    await client.end()
    expect(rows[0]?.db).toMatch(/^troupe_test_/)
    expect(rows[0]?.tables).toBe("0")
  })
})
