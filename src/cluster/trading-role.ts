import { join } from "node:path"
import { Cause, Effect, Exit, Fiber, type Scope } from "effect"
import { runDaemonProgram } from "../daemon/daemon.js"
import type { Config } from "../daemon/config.js"
import { log } from "../daemon/log.js"
import type { AccountId } from "../domain/ids.js"
import type { ClusterFile } from "./cluster-config.js"
import { AccountFence, fencedGateway, fencedJournal, leaseTiming, openEpochStore, type AccountFenced } from "./fence.js"
import { openMdFeed } from "./md-feed.js"
import { joinOwnership } from "./ownership.js"

/**
 * A trading node (docs/cluster.md): owns the accounts whose placement partitions the group
 * assigns it. Each owned account runs the daemon's own composition (`runDaemonProgram`: recovery
 * from the snapshot and the journal, reconciliation, risk, orders, strategies) with books from
 * the md topic and every venue request and journal append behind the account's fence. Accounts
 * start after a claim (epoch + 1) and stop — drained: strategies stopped, orders canceled, the
 * ledger snapshotted — when the assignment moves them or the fence says they were taken over.
 */
export interface TradingRoleOptions {
  readonly config: Config
  readonly cluster: ClusterFile
  readonly nodeId: string
}

interface Running {
  readonly fiber: Fiber.RuntimeFiber<never, unknown>
  readonly fence: AccountFence
}

const STOP_WAIT_MS = 15_000
const REASSERT_AFTER_MS = 2_000
const RESTART_AFTER_MS = 2_000

export const runTradingRole = (options: TradingRoleOptions): Effect.Effect<never, unknown, Scope.Scope> =>
  Effect.gen(function* () {
    const { config, cluster, nodeId } = options
    if (config.journal.kind !== "kafka" || config.databaseUrl === undefined) {
      return yield* Effect.die(new Error("a trading node needs KAFKA_BROKERS and DATABASE_URL (the cluster shares the journal and the store)"))
    }
    const databaseUrl = config.databaseUrl
    const say = (m: string): void => log(`node ${nodeId}: ${m}`)
    const timing = leaseTiming(cluster.sessionTimeoutMs, cluster.leaseMs, cluster.renewEveryMs)
    const epochs = yield* Effect.acquireRelease(Effect.promise(() => openEpochStore(databaseUrl)), (s) => Effect.promise(() => s.close()))
    const md = yield* Effect.acquireRelease(
      Effect.promise(() => openMdFeed({ brokers: config.kafkaBrokers, topicPrefix: config.journal.topicPrefix, nodeId, log: say })),
      (f) => Effect.promise(() => f.stop().catch(() => undefined))
    )
    const running = new Map<string, Running>()
    // Starts and stops one at a time, in the order the assignments and fences asked for them.
    let work: Promise<void> = Promise.resolve()
    const serially = (f: () => Promise<void>): void => {
      work = work.then(f).catch((e: unknown) => say(`cluster: ${String(e)}`))
    }

    /** Stops the account's runtime; with `only`, just the runtime of that fence (not a newer claim's). */
    const stopAccount = async (account: string, why: string, only?: AccountFence): Promise<void> => {
      const r = running.get(account)
      if (r === undefined || (only !== undefined && r.fence !== only)) return
      running.delete(account)
      say(`account ${account}: stopping (${why})`)
      const done = Effect.runPromise(Fiber.interrupt(r.fiber))
      const late = await Promise.race([done.then(() => false), new Promise<boolean>((res) => setTimeout(() => res(true), STOP_WAIT_MS))])
      say(late ? `account ${account}: did not stop within ${STOP_WAIT_MS} ms (left to finish; its fence refuses it anything)` : `account ${account}: stopped`)
    }

    // What the group's latest assignment gives this node.
    let assigned = new Set<string>()
    const onFenced = (e: AccountFenced, fence: AccountFence): void => {
      say(`FENCED: ${e.message}`)
      serially(async () => {
        // A runtime left to finish after a slow stop may be fenced after this node claimed again: stop only its own.
        if (running.get(e.account)?.fence !== fence) return
        await stopAccount(e.account, "fenced", fence)
        // Fenced while the group still says the account is ours: another node claimed it under an
        // older or newer generation. Give the group a heartbeat to tell us, then claim it back
        // only if it still says so (a stale claim is itself fenced by the next assignment).
        await new Promise((r) => setTimeout(r, REASSERT_AFTER_MS))
        if (assigned.has(e.account) && !running.has(e.account)) {
          say(`account ${e.account}: still assigned to this node after being fenced: claiming it again`)
          await startAccount(e.account)
        }
      })
    }

    const startAccount = async (account: string): Promise<void> => {
      if (running.has(account) || !assigned.has(account)) return
      const entry = cluster.accounts.find((a) => a.account === account)
      if (entry === undefined) return
      const { epoch, waitMs } = await epochs.claim(account, nodeId)
      const fence: AccountFence = new AccountFence(account, epoch, epochs, timing, (e) => onFenced(e, fence), waitMs).start()
      say(`account ${account}: claimed at epoch ${epoch}; ${waitMs > 0 ? `waiting ${waitMs} ms for the previous owner's lease to end, then ` : ""}recovering`)
      const accountConfig: Config = {
        ...config,
        home: join(config.home, "accounts", account),
        port: 0,
        venue: { ...config.venue, account: account as AccountId, apiKey: entry.apiKey, apiSecret: entry.apiSecret }
      }
      // The previous owner may act (append, send) until its lease ends: recovery reads the journal
      // after that, so that it sees everything the previous owner could still write.
      const daemon = Effect.scoped(
        runDaemonProgram({
          config: accountConfig,
          cancelOrdersOnStop: true,
          hooks: {
            marketData: () => md.port(),
            gateway: (inner) => fencedGateway(inner, fence, Date.now),
            journal: (inner) => fencedJournal(inner, fence)
          }
        })
      )
      const program = Effect.sleep(waitMs).pipe(
        Effect.zipRight(daemon),
        Effect.ensuring(Effect.sync(() => fence.close()))
      )
      const fiber = Effect.runFork(program)
      running.set(account, { fiber, fence })
      fiber.addObserver((exit) => {
        const failed = Exit.isFailure(exit) && !Cause.isInterruptedOnly(exit.cause)
        if (failed) say(`account ${account}: failed: ${Cause.pretty(exit.cause).split("\n").slice(0, 4).join(" | ")}`)
        if (running.get(account)?.fiber !== fiber) return
        running.delete(account)
        // A failed start (the venue or a store unavailable for a moment) while the group still
        // gives this node the account: start it again, with a new claim, after a pause.
        if (failed && fence.lost === undefined) {
          setTimeout(() => {
            if (assigned.has(account) && !running.has(account)) {
              say(`account ${account}: starting again after its failure (still assigned to this node)`)
              serially(() => startAccount(account))
            }
          }, RESTART_AFTER_MS)
        }
      })
    }

    const onAssignment = (partitions: ReadonlyArray<number>): void => {
      const wanted = new Set(partitions.flatMap((p) => (cluster.accounts[p] === undefined ? [] : [cluster.accounts[p].account])))
      assigned = wanted
      serially(async () => {
        for (const account of [...running.keys()]) if (!assigned.has(account)) await stopAccount(account, "assigned to another node")
        // The newest assignment, not the one this callback was made for: another may have come meanwhile.
        for (const account of assigned) await startAccount(account)
      })
    }

    const ownership = yield* Effect.acquireRelease(
      Effect.promise(() =>
        joinOwnership({ brokers: config.kafkaBrokers, topicPrefix: config.journal.topicPrefix, nodeId, partitions: cluster.accounts.length, sessionTimeoutMs: cluster.sessionTimeoutMs, onAssignment, log: say })
      ),
      (o) => Effect.promise(() => o.stop())
    )
    void ownership
    yield* Effect.addFinalizer(() =>
      Effect.promise(async () => {
        await work
        for (const account of [...running.keys()]) await stopAccount(account, "node stopping")
      })
    )
    say(`trading node running: ${cluster.accounts.length} accounts in the cluster, session timeout ${cluster.sessionTimeoutMs} ms, lease ${timing.leaseMs} ms renewed every ${timing.renewEveryMs} ms`)
    return yield* Effect.never
  })
