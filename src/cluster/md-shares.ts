import { Kafka, logLevel, type Consumer } from "kafkajs"
import { ensureTopic } from "./kafka-topics.js"

/**
 * md nodes share the cluster's instruments through Kafka's group protocol (docs/cluster-scale.md,
 * "md shares"): every md node is a member of `<prefix>cluster.md-nodes` on the topic
 * `<prefix>cluster.md-instruments`, whose partition p is one share of the instruments. The group
 * spreads the shares over the live md nodes (kafkajs's round-robin assigner: as even as the
 * count allows); a node that joins takes shares from the others, and the shares of one that leaves
 * (or stops heartbeating for the session timeout) go to the survivors. Nothing is written to the
 * topic; it exists for its partitions.
 */
export const mdInstrumentsTopic = (prefix: string): string => `${prefix}cluster.md-instruments`
export const mdGroup = (prefix: string): string => `${prefix}cluster.md-nodes`

export interface MdShareGroupConfig {
  readonly brokers: ReadonlyArray<string>
  readonly topicPrefix: string
  readonly nodeId: string
  readonly partitions: number
  readonly sessionTimeoutMs: number
  readonly onAssignment: (partitions: ReadonlyArray<number>) => void
  readonly log: (message: string) => void
}

export interface MdShareGroup {
  readonly stop: () => Promise<void>
}

export const joinMdShares = async (config: MdShareGroupConfig): Promise<MdShareGroup> => {
  const topic = mdInstrumentsTopic(config.topicPrefix)
  const kafka = new Kafka({ clientId: `troupe-md-shares-${config.nodeId}`, brokers: [...config.brokers], logLevel: logLevel.NOTHING })
  const admin = kafka.admin()
  await admin.connect()
  try {
    await ensureTopic(admin, topic, config.partitions)
  } finally {
    await admin.disconnect()
  }
  const consumer: Consumer = kafka.consumer({
    groupId: mdGroup(config.topicPrefix),
    sessionTimeout: config.sessionTimeoutMs,
    heartbeatInterval: Math.max(500, Math.floor(config.sessionTimeoutMs / 6)),
    rebalanceTimeout: Math.max(config.sessionTimeoutMs, 10_000),
    // kafkajs heartbeats from its fetch loop: an empty topic must not hold the loop in a long fetch.
    maxWaitTimeInMs: 250,
    allowAutoTopicCreation: false
  })
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    const assigned = [...(e.payload.memberAssignment[topic] ?? [])].sort((a, b) => a - b)
    config.log(`md: joined ${mdGroup(config.topicPrefix)} (leader ${e.payload.isLeader}); shares [${assigned.join(", ")}]`)
    config.onAssignment(assigned)
  })
  consumer.on(consumer.events.CRASH, (e) => {
    // Keep serving what it has: two md nodes relaying one instrument is harmless (same venue seq); none is a gap.
    config.log(`md: share group consumer crashed (${String(e.payload.error).slice(0, 200)}); ${e.payload.restart ? "rejoining" : "NOT rejoining"}`)
  })
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: false })
  await consumer.run({ autoCommit: false, eachBatch: async () => undefined })
  return {
    stop: async () => {
      await consumer.disconnect().catch(() => undefined)
    }
  }
}
