import { parentPort, workerData } from "node:worker_threads"
import { Kafka, logLevel, type Consumer } from "kafkajs"
import { accountsTopic, ensureTopic, tradingGroup } from "./kafka-topics.js"

/**
 * The group member of a trading node (src/cluster/ownership.ts), in a worker thread of its own:
 * kafkajs heartbeats from its fetch loop, and an account recovering on the node's main thread
 * (folding a journal, re-projecting the audit trail) stalled that loop past a short session
 * timeout — the group then evicted a live node and its accounts flapped between the nodes. Here
 * the heartbeats only need this thread to be scheduled.
 *
 * In: `workerData` (WorkerConfig), then "stop". Out: `{ kind: "ready" }`, `{ kind: "assignment",
 * partitions }`, `{ kind: "log", message }`, `{ kind: "stopped" }`, `{ kind: "failed", message }`.
 */
export interface WorkerConfig {
  readonly brokers: ReadonlyArray<string>
  readonly topicPrefix: string
  readonly nodeId: string
  readonly partitions: number
  readonly sessionTimeoutMs: number
  readonly heartbeatMs: number
}

export type WorkerMessage =
  | { readonly kind: "ready" }
  | { readonly kind: "assignment"; readonly partitions: ReadonlyArray<number> }
  | { readonly kind: "log"; readonly message: string }
  | { readonly kind: "stopped" }
  | { readonly kind: "failed"; readonly message: string }

const port = parentPort
if (port === null) throw new Error("ownership-worker runs in a worker thread")
const config = workerData as WorkerConfig
const post = (m: WorkerMessage): void => port.postMessage(m)
const topic = accountsTopic(config.topicPrefix)

const main = async (): Promise<Consumer> => {
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
    heartbeatInterval: config.heartbeatMs,
    // Members rejoin within this after a rebalance starts; a dead one is dropped at its session timeout anyway.
    rebalanceTimeout: Math.max(config.sessionTimeoutMs * 2, 3_000),
    // kafkajs heartbeats from its fetch loop: an empty topic must not hold the loop in a long fetch.
    maxWaitTimeInMs: Math.min(250, config.heartbeatMs),
    allowAutoTopicCreation: false
  })
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    const assigned = [...(e.payload.memberAssignment[topic] ?? [])].sort((a, b) => a - b)
    post({ kind: "log", message: `cluster: joined ${tradingGroup(config.topicPrefix)} as ${e.payload.memberId.slice(-12)} (leader ${e.payload.isLeader}); partitions [${assigned.join(", ")}]` })
    post({ kind: "assignment", partitions: assigned })
  })
  consumer.on(consumer.events.CRASH, (e) => {
    post({ kind: "log", message: `cluster: group consumer crashed (${String(e.payload.error).slice(0, 200)}); ${e.payload.restart ? "rejoining" : "NOT rejoining"}: owning nothing meanwhile` })
    post({ kind: "assignment", partitions: [] })
  })
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: false })
  await consumer.run({ autoCommit: false, eachBatch: async () => undefined })
  return consumer
}

main().then(
  (consumer) => {
    post({ kind: "ready" })
    port.on("message", (m: unknown) => {
      if (m !== "stop") return
      void consumer
        .disconnect()
        .catch(() => undefined)
        .then(() => {
          post({ kind: "stopped" })
          port.close()
        })
    })
  },
  (e: unknown) => {
    post({ kind: "failed", message: String(e) })
    port.close()
  }
)
