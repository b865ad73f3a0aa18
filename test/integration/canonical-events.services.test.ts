import { Arbitrary, Either, FastCheck as fc, Schema } from "effect"
import { Kafka, logLevel } from "kafkajs"
import pg from "pg"
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest"
import { decodeEvent, encodeEvent, encodeEventObject } from "../../src/domain/codec.js"
import { eventSchemas, eventTags, topicOf, type CanonicalEvent } from "../../src/domain/events/index.js"

// Canonical events through the real services: every event type produced to and consumed from
// the real Kafka broker, and written to and read back from the real Postgres, decoding exactly.

const sampleEvents = (perTag: number): CanonicalEvent[] =>
  eventTags.flatMap((tag) => fc.sample(Arbitrary.make(eventSchemas[tag] as unknown as Schema.Schema<CanonicalEvent>), { numRuns: perTag, seed: 42 }))

/** Equality on the wire form: Decimals compare by their exact text. */
const wire = (e: CanonicalEvent): unknown => encodeEventObject(e)

describe("canonical events through the real Kafka broker", () => {
  const brokers = inject("kafkaBrokers").split(",")
  const kafka = new Kafka({ brokers, clientId: "troupe-test-events", logLevel: logLevel.NOTHING })
  const topic = `troupe.it.events.${Date.now()}`

  beforeAll(async () => {
    const admin = kafka.admin()
    await admin.connect()
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true })
    await admin.disconnect()
  })

  it("every event type produced as msgpack is consumed and decoded to an equal event, in order per key", async () => {
    const events = sampleEvents(8)
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
    await producer.connect()
    await producer.send({ topic, acks: -1, messages: events.map((e) => ({ key: topicOf[e._tag], value: Buffer.from(encodeEvent(e)) })) })
    await producer.disconnect()

    const consumer = kafka.consumer({ groupId: `${topic}.reader` })
    await consumer.connect()
    await consumer.subscribe({ topic, fromBeginning: true })
    const received: Array<{ key: string; event: CanonicalEvent }> = []
    const failures: string[] = []
    await new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message }) => {
          const decoded = decodeEvent(message.value ?? new Uint8Array())
          if (Either.isLeft(decoded)) failures.push(decoded.left.message)
          else received.push({ key: message.key?.toString() ?? "", event: decoded.right })
          if (received.length + failures.length === events.length) resolve()
        }
      })
    })
    await consumer.disconnect()

    expect(failures).toEqual([])
    // Kafka orders per partition (per key), so compare per key in send order.
    for (const key of new Set(events.map((e) => topicOf[e._tag]))) {
      const sent = events.filter((e) => topicOf[e._tag] === key).map(wire)
      const got = received.filter((r) => r.key === key).map((r) => wire(r.event))
      expect(got).toEqual(sent)
    }
  })
})

describe("canonical events in the real Postgres", () => {
  const pool = new pg.Pool({ connectionString: inject("databaseUrl"), max: 2 })
  afterAll(() => pool.end())

  it("every event type written as msgpack bytes and as JSON is read back and decoded to an equal event", async () => {
    // Its own schema: other test files share this run's database.
    await pool.query("create schema it_canonical_events")
    await pool.query("create table it_canonical_events.events (seq bigserial primary key, tag text not null, body bytea not null, doc jsonb not null)")
    const events = sampleEvents(5)
    for (const e of events) {
      await pool.query("insert into it_canonical_events.events (tag, body, doc) values ($1, $2, $3)", [e._tag, Buffer.from(encodeEvent(e)), JSON.stringify(wire(e))])
    }
    const { rows } = await pool.query<{ tag: string; body: Buffer; doc: unknown }>("select tag, body, doc from it_canonical_events.events order by seq")
    expect(rows.length).toBe(events.length)
    rows.forEach((row, i) => {
      const sent = events[i] as CanonicalEvent
      const decoded = decodeEvent(row.body)
      expect(Either.isRight(decoded) && wire(decoded.right)).toEqual(wire(sent))
      expect(row.tag).toBe(sent._tag)
      // The JSON projection keeps Decimals as exact text.
      expect(row.doc).toEqual(wire(sent))
    })
  })
})
