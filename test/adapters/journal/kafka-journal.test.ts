import { randomUUID } from "node:crypto"
import { Chunk, Effect, Either, Stream } from "effect"
import fc from "fast-check"
import { logLevel, Partitioners, type PartitionMetadata } from "kafkajs"
import { afterEach, describe, expect, inject, it, vi } from "vitest"
import { journalOffset, type JournalOffset, type JournalRecord, type JournalTopic } from "../../../src/actors/ports/journal.js"
import { openKafkaJournal, type KafkaJournal, type KafkaJournalConfig } from "../../../src/adapters/journal/kafka/kafka-journal.js"
import { murmur2, partitionForKey } from "../../../src/adapters/journal/kafka/partitioner.js"

const brokers = (inject("kafkaBrokers") ?? "").split(",").filter((s) => s.length > 0)
const TS = 1_700_000_000_000

const opened: KafkaJournal[] = []
afterEach(async () => {
  await Promise.all(opened.splice(0).map((j) => Effect.runPromise(j.close())))
})

const open = async (config: Partial<KafkaJournalConfig> = {}): Promise<KafkaJournal> => {
  const j = await Effect.runPromise(
    openKafkaJournal({ brokers, topicPrefix: `t${randomUUID().slice(0, 8)}.`, partitions: { md: 3, orders: 4 }, now: () => TS, logLevel: logLevel.NOTHING, ...config })
  )
  opened.push(j)
  return j
}

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s)
const text = (b: Uint8Array): string => new TextDecoder().decode(b)

const read = (j: KafkaJournal, from: JournalOffset): Promise<JournalRecord[]> =>
  Effect.runPromise(Stream.runCollect(j.read(from)).pipe(Effect.map(Chunk.toArray)))

const readTopic = async (j: KafkaJournal, topic: JournalTopic): Promise<JournalRecord[]> => {
  const n = j.topics.get(topic)?.partitions ?? 0
  const parts = await Promise.all(Array.from({ length: n }, (_, p) => read(j, journalOffset(topic, p, 0))))
  return parts.flat()
}

describe("kafka partitioner", () => {
  it("murmur2 matches the Java client's test vectors", () => {
    // org.apache.kafka.common.utils.UtilsTest#testMurmur2
    const vectors: ReadonlyArray<[string, number]> = [
      ["21", -973932308],
      ["foobar", -790332482],
      ["a-little-bit-long-string", -985981536],
      ["a-little-bit-longer-string", -1486304829],
      ["lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971],
      ["abc", 479470107]
    ]
    for (const [key, hash] of vectors) expect(murmur2(bytes(key))).toBe(hash)
  })

  it("puts every key where kafkajs's DefaultPartitioner would", () => {
    const kafkajs = Partitioners.DefaultPartitioner()
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 40 }), fc.integer({ min: 1, max: 64 }), (key, n) => {
        const partitionMetadata: PartitionMetadata[] = Array.from({ length: n }, (_, i) => ({ partitionId: i, leader: 1, partitionErrorCode: 0, replicas: [1], isr: [1] }))
        expect(partitionForKey(key, n)).toBe(kafkajs({ topic: "t", partitionMetadata, message: { key, value: null } }))
      })
    )
  })
})

describe.skipIf(brokers.length === 0)("kafka journal (real broker)", () => {
  it("creates its topics up front with the configured partition counts", async () => {
    const j = await open()
    expect([...j.topics.entries()].map(([t, i]) => [t, i.partitions])).toEqual([
      ["md", 3],
      ["orders", 4],
      ["strategy", 1],
      ["control", 1]
    ])
    expect([...j.topics.values()][0]?.name.endsWith(".md")).toBe(true)
    expect(j.healthy()).toBe(true)
  })

  it("reads back what was appended, with keys, timestamps and per-partition offsets", async () => {
    const j = await open()
    const key = "acct-1/PF_XBTUSD"
    const p = j.partitionFor("orders", key)
    const a = await Effect.runPromise(j.append("orders", key, bytes("a"), { durable: true }))
    const [b, c] = await Effect.runPromise(j.appendBatch("orders", [{ key, payload: bytes("b") }, { key, payload: new Uint8Array() }], { durable: true }))
    expect([a, b, c]).toEqual([journalOffset("orders", p, 0), journalOffset("orders", p, 1), journalOffset("orders", p, 2)])
    const md = await Effect.runPromise(j.append("md", "PF_ETHUSD", bytes("tick"), { durable: false }))
    expect(md).toEqual(journalOffset("md", j.partitionFor("md", "PF_ETHUSD"), 0))

    const records = await read(j, journalOffset("orders", p, 0))
    expect(records.map((r) => [r.offset, r.key, text(r.payload), r.ts])).toEqual([
      [a, key, "a", TS],
      [b, key, "b", TS],
      [c, key, "", TS]
    ])
    expect((await read(j, md)).map((r) => text(r.payload))).toEqual(["tick"])
  })

  it("appendNow (the Promise path) gives the same offsets and records as append", async () => {
    const j = await open()
    const key = "acct-2/PF_ETHUSD"
    const p = j.partitionFor("orders", key)
    const offsets = await Promise.all(["x", "y", "z"].map((t) => j.appendNow!("orders", key, bytes(t), { durable: true })))
    expect(offsets).toEqual([0, 1, 2].map((o) => journalOffset("orders", p, o)))
    expect((await read(j, offsets[0]!)).map((r) => text(r.payload))).toEqual(["x", "y", "z"])
    await Effect.runPromise(j.close())
    await expect(j.appendNow!("orders", key, bytes("late"), { durable: true })).rejects.toMatchObject({ _tag: "JournalClosedError" })
  })

  it("loses, duplicates and reorders nothing under 5,000 concurrent durable appends over 50 keys (kafkajs#1005)", async () => {
    const j = await open()
    const keys = Array.from({ length: 50 }, (_, i) => `acct-${i % 5}/INST-${i}`)
    const offsets = await Promise.all(
      Array.from({ length: 5000 }, (_, i) => Effect.runPromise(j.append("orders", keys[i % 50] as string, bytes(String(i)), { durable: true })))
    )
    const ids = offsets.map((o) => `${o.partition}@${o.offset}`)
    expect(new Set(ids).size).toBe(5000)
    for (let i = 0; i < 5000; i++) expect(offsets[i]?.partition).toBe(j.partitionFor("orders", keys[i % 50] as string))
    // Group commit: far fewer produce requests than appends.
    expect(j.health().durable.requests).toBeLessThan(500)

    const records = await readTopic(j, "orders")
    expect(records.length).toBe(5000)
    const byOffset = new Map(records.map((r) => [`${r.offset.partition}@${r.offset.offset}`, r]))
    for (let i = 0; i < 5000; i++) {
      const r = byOffset.get(ids[i] as string)
      expect(r && [r.key, text(r.payload)]).toEqual([keys[i % 50], String(i)])
    }
    // Per key, the log holds the appends in the order they were made.
    const seqs = new Map<string, number[]>()
    for (const r of records) seqs.set(r.key, [...(seqs.get(r.key) ?? []), Number(text(r.payload))])
    for (const [, s] of seqs) expect(s).toEqual([...s].sort((x, y) => x - y))
    expect(seqs.size).toBe(50)
  })

  it("reads from a middle offset up to the end offset at the time the read starts", async () => {
    const j = await open()
    const key = "control-key"
    await Effect.runPromise(j.appendBatch("control", Array.from({ length: 10 }, (_, i) => ({ key, payload: bytes(`c${i}`) })), { durable: true }))
    const stream = j.read(journalOffset("control", 0, 4))
    // Appended after the read was defined but before it runs: included (the end is taken at start).
    await Effect.runPromise(j.append("control", key, bytes("c10"), { durable: true }))
    expect((await Effect.runPromise(Stream.runCollect(stream))).pipe(Chunk.toArray).map((r) => text(r.payload))).toEqual(["c4", "c5", "c6", "c7", "c8", "c9", "c10"])
    expect(await read(j, journalOffset("control", 0, 11))).toEqual([])

    const beyond = await Effect.runPromise(Effect.either(Stream.runCollect(j.read(journalOffset("control", 0, 12)))))
    expect(Either.isLeft(beyond) && beyond.left._tag).toBe("JournalOffsetError")
    const noPartition = await Effect.runPromise(Effect.either(Stream.runCollect(j.read(journalOffset("control", 1, 0)))))
    expect(Either.isLeft(noPartition) && noPartition.left._tag).toBe("JournalOffsetError")
  })

  it("reports the exclusive end offset of every topic and partition", async () => {
    const j = await open()
    const appended = await Effect.runPromise(
      j.appendBatch("md", Array.from({ length: 30 }, (_, i) => ({ key: `INST-${i % 7}`, payload: bytes(`m${i}`) })), { durable: false })
    )
    const ends = await Effect.runPromise(j.endOffsets())
    expect(ends.map((o) => `${o.topic}/${o.partition}`)).toEqual(["md/0", "md/1", "md/2", "orders/0", "orders/1", "orders/2", "orders/3", "strategy/0", "control/0"])
    for (const end of ends.filter((o) => o.topic === "md")) {
      expect(end.offset).toBe(String(appended.filter((o) => o.partition === end.partition).length))
    }
    expect(ends.filter((o) => o.topic !== "md").every((o) => o.offset === "0")).toBe(true)
    // An end offset can be passed to read unchanged: nothing after it yet.
    expect(await read(j, ends[0] as JournalOffset)).toEqual([])
  })

  it("fire-and-forget publish reaches the log and reports a full backlog as a typed error", async () => {
    const j = await open({ maxQueuedFast: 100 })
    const results = Array.from({ length: 300 }, (_, i) => j.publish("md", "PF_XBTUSD", bytes(`p${i}`)))
    const refused = results.filter((r) => r !== undefined)
    expect(refused.length).toBeGreaterThan(0)
    expect(refused[0]?._tag).toBe("JournalIoError")
    expect(j.health().fast.refused).toBe(refused.length)
    await vi.waitFor(() => expect(j.health().fast.queued).toBe(0))
    await Effect.runPromise(j.append("md", "PF_XBTUSD", bytes("last"), { durable: false }))
    const got = (await read(j, journalOffset("md", j.partitionFor("md", "PF_XBTUSD"), 0))).map((r) => text(r.payload))
    // Accepted records are all there, in publish order.
    expect(got).toEqual([...results.flatMap((r, i) => (r === undefined ? [`p${i}`] : [])), "last"])
  })

  it("refuses appends and reads once closed, and is then unhealthy", async () => {
    const j = await open()
    await Effect.runPromise(j.close())
    await Effect.runPromise(j.close())
    expect(j.healthy()).toBe(false)
    const append = await Effect.runPromise(Effect.either(j.append("orders", "k", bytes("x"), { durable: true })))
    expect(Either.isLeft(append) && append.left._tag).toBe("JournalClosedError")
    const ends = await Effect.runPromise(Effect.either(j.endOffsets()))
    expect(Either.isLeft(ends) && ends.left._tag).toBe("JournalClosedError")
  })

  it("a refused durable request fails its appends with a typed error and marks the journal unhealthy until the next success", async () => {
    const j = await open()
    // Over the broker's 1 MiB message.max.bytes: the broker refuses the whole request.
    const tooBig = await Effect.runPromise(Effect.either(j.append("orders", "k", new Uint8Array(1_200_000), { durable: true })))
    expect(Either.isLeft(tooBig) && tooBig.left._tag).toBe("JournalIoError")
    expect(j.healthy()).toBe(false)
    expect(j.health().lastError?._tag).toBe("JournalIoError")
    // A fresh producer takes over: the next append succeeds and gets the first offset.
    const next = await Effect.runPromise(j.append("orders", "k", bytes("ok"), { durable: true }))
    expect(next.offset).toBe("0")
    expect(j.healthy()).toBe(true)
  })

  it("opening fails with a typed error when no broker answers", async () => {
    const dead = await Effect.runPromise(
      openKafkaJournal({ brokers: ["127.0.0.1:1"], logLevel: logLevel.NOTHING, retry: { retries: 0, initialRetryTime: 50 }, topicPrefix: "never." }).pipe(Effect.either)
    )
    expect(Either.isLeft(dead) && dead.left._tag).toBe("JournalIoError")
  })
})
