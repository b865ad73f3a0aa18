import { Kafka, logLevel, type Consumer } from "kafkajs"
import { accountsTopic, ensureTopic, tradingGroup } from "./kafka-topics.js"

/**
 * Account ownership from Kafka's group protocol (docs/cluster.md, "Accounts"): every trading
 * node is a member of one group on the placement topic, whose partition i is account i. Each
 * (re)join hands `onAssignment` the partitions this node now holds; the caller diffs it against
 * what it runs (kafkajs's eager protocol revokes everything on every rebalance, so "a rebalance
 * started" says nothing about what is lost). A crashed consumer means nothing is owned until it
 * rejoins.
 */
export interface OwnershipConfig {
  readonly brokers: ReadonlyArray<string>
  readonly topicPrefix: string
  readonly nodeId: string
  readonly partitions: number
  readonly sessionTimeoutMs: number
  readonly onAssignment: (partitions: ReadonlyArray<number>) => void
  readonly log: (message: string) => void
}

export interface Ownership {
  readonly stop: () => Promise<void>
}

export const joinOwnership = async (config: OwnershipConfig): Promise<Ownership> => {
  const topic = accountsTopic(config.topicPrefix)
  const kafka = new Kafka({ clientId: `troupe-trading-${config.nodeId}`, brokers: [...config.brokers], logLevel: logLevel.NOTHING })
  const admin = kafka.admin()
  await admin.connect()
  try {
    await ensureTopic(admin, topic, config.partitions)
  } finally {
    await admin.disconnect()
  }
  const consumer: Consumer = kafka.consumer({
    groupId: tradingGroup(config.topicPrefix),
    sessionTimeout: config.sessionTimeoutMs,
    heartbeatInterval: Math.max(500, Math.floor(config.sessionTimeoutMs / 6)),
    rebalanceTimeout: Math.max(config.sessionTimeoutMs, 10_000),
    // kafkajs heartbeats from its fetch loop: an empty topic must not hold the loop in a long fetch.
    maxWaitTimeInMs: 250,
    allowAutoTopicCreation: false
  })
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    const assigned = [...(e.payload.memberAssignment[topic] ?? [])].sort((a, b) => a - b)
    config.log(`cluster: joined ${tradingGroup(config.topicPrefix)} as ${e.payload.memberId.slice(-12)} (leader ${e.payload.isLeader}); partitions [${assigned.join(", ")}]`)
    config.onAssignment(assigned)
  })
  consumer.on(consumer.events.CRASH, (e) => {
    config.log(`cluster: group consumer crashed (${String(e.payload.error).slice(0, 200)}); ${e.payload.restart ? "rejoining" : "NOT rejoining"}: owning nothing meanwhile`)
    config.onAssignment([])
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
