import { Worker } from "node:worker_threads"
import type { WorkerConfig, WorkerMessage } from "./ownership-worker.js"

/**
 * Account ownership from Kafka's group protocol (docs/cluster.md, "Accounts"): every trading
 * node is a member of one group on the placement topic, whose partition i is account i. Each
 * (re)join hands `onAssignment` the partitions this node now holds; the caller diffs it against
 * what it runs (kafkajs's eager protocol revokes everything on every rebalance, so "a rebalance
 * started" says nothing about what is lost). A crashed consumer means nothing is owned until it
 * rejoins. The member runs in a worker thread (ownership-worker.ts): its heartbeats do not wait
 * for the node's main thread.
 */
export interface OwnershipConfig {
  readonly brokers: ReadonlyArray<string>
  readonly topicPrefix: string
  readonly nodeId: string
  readonly partitions: number
  readonly sessionTimeoutMs: number
  readonly heartbeatMs?: number
  readonly onAssignment: (partitions: ReadonlyArray<number>) => void
  readonly log: (message: string) => void
}

export interface Ownership {
  readonly stop: () => Promise<void>
}

/** The 500 ms heartbeats for a 2 s session; a third of the session at most. */
export const heartbeatFor = (sessionTimeoutMs: number): number => Math.max(100, Math.min(500, Math.floor(sessionTimeoutMs / 3)))

/**
 * The worker's module: compiled JS next to this file, or (running the sources through tsx) the
 * .ts file, loaded after registering tsx in the worker.
 */
const workerSource = (): string => {
  const self = import.meta.url
  if (self.endsWith(".js")) return `import(${JSON.stringify(new URL("./ownership-worker.js", self).href)})`
  const tsx = import.meta.resolve("tsx/esm/api")
  return `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(new URL("./ownership-worker.ts", self).href)}) })`
}

export const joinOwnership = (config: OwnershipConfig): Promise<Ownership> =>
  new Promise((resolve, reject) => {
    const data: WorkerConfig = {
      brokers: config.brokers,
      topicPrefix: config.topicPrefix,
      nodeId: config.nodeId,
      partitions: config.partitions,
      sessionTimeoutMs: config.sessionTimeoutMs,
      heartbeatMs: config.heartbeatMs ?? heartbeatFor(config.sessionTimeoutMs)
    }
    const worker = new Worker(workerSource(), { eval: true, workerData: data })
    let ready = false
    let stopped: (() => void) | undefined
    worker.on("message", (m: WorkerMessage) => {
      if (m.kind === "assignment") config.onAssignment(m.partitions)
      else if (m.kind === "log") config.log(m.message)
      else if (m.kind === "stopped") stopped?.()
      else if (m.kind === "failed") {
        if (!ready) reject(new Error(`the ownership worker failed: ${m.message}`))
        else config.log(`cluster: ownership worker failed: ${m.message}`)
      } else {
        ready = true
        resolve({
          stop: () =>
            new Promise<void>((done) => {
              stopped = done
              worker.postMessage("stop")
              // A worker that does not answer is ended: the node is stopping anyway.
              setTimeout(() => void worker.terminate().then(() => done()), 10_000).unref()
            })
        })
      }
    })
    worker.on("error", (e) => {
      if (!ready) reject(e)
      else {
        config.log(`cluster: ownership worker died (${String(e).slice(0, 200)}): owning nothing`)
        config.onAssignment([])
      }
    })
    worker.on("exit", () => stopped?.())
  })
