import type { Admin } from "kafkajs"

/** The cluster's own topics (beside the journal's): market data and account placement. */
export const mdTopic = (prefix: string): string => `${prefix}cluster.md`
export const accountsTopic = (prefix: string): string => `${prefix}cluster.accounts`
export const tradingGroup = (prefix: string): string => `${prefix}cluster.trading`

/** Creates `topic` (replicated min(3, brokers) times unless told) with at least `partitions` partitions (adds partitions to a smaller one) and waits for leaders. */
export const ensureTopic = async (admin: Admin, topic: string, partitions: number, replicationFactor?: number): Promise<void> => {
  const existing = await admin.listTopics()
  if (!existing.includes(topic)) {
    // Unset: 3 replicas on a cluster of 3 brokers or more (docs/cluster.md, "A Kafka cluster").
    const replication = replicationFactor ?? Math.min(3, (await admin.describeCluster()).brokers.length)
    await admin.createTopics({ waitForLeaders: false, topics: [{ topic, numPartitions: partitions, replicationFactor: replication }] }).catch((e: unknown) => {
      // Another node created it first.
      if (!String(e).includes("already exists") && !String((e as { type?: string }).type).includes("TOPIC_ALREADY_EXISTS")) throw e
    })
  }
  for (let attempt = 0; ; attempt++) {
    // Right after the create the broker may not know the topic yet (UNKNOWN_TOPIC_OR_PARTITION): ask again.
    const meta = await admin.fetchTopicMetadata({ topics: [topic] }).catch((e: unknown) => {
      if (attempt > 100) throw e
      return undefined
    })
    const have = meta?.topics[0]?.partitions ?? []
    if (meta === undefined) {
      // retried below
    } else if (have.length < partitions) {
      await admin.createPartitions({ topicPartitions: [{ topic, count: partitions }] }).catch(() => undefined)
    } else if (have.every((p) => p.leader >= 0)) return
    if (attempt > 100) throw new Error(`topic ${topic}: no leader for every partition after ${attempt} attempts`)
    await new Promise((r) => setTimeout(r, 100))
  }
}
