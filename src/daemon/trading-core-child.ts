import { Deferred, Effect, Exit } from "effect"
import type { TroupeClock } from "../actors/clock.js"
import { supervisorChild, type ChildSpec } from "../actors/supervisor/index.js"
import type { TradingLedger } from "../domain/ledger.js"
import { restoreTradingNode } from "./reconcile.js"
import type { TradingCoreCrashed, TradingNode } from "./trading-node.js"

/**
 * One account's trading core (risk, orders, portfolio) as a supervised child. The child lives as
 * long as the core works; a crash of the core (`TradingNode.crash`: a throw in risk, the order
 * manager or the portfolio, an order machine error) fails the child, and the supervisor's
 * restart rebuilds the core from the ledger — the in-memory fold of the orders topic, so exactly
 * what a restart of the daemon would recover — after every event the old core handed to the
 * journal has reached the ledger (`settle`). Reports the venue sent meanwhile were held by the
 * node and are handled by the new core. Other accounts' children are untouched (one_for_one).
 */
export interface TradingCoreChildOptions {
  readonly node: TradingNode
  /** The account's ledger as it is now. */
  readonly ledger: () => TradingLedger
  /** Resolves once every journal append made so far has been folded into the ledger. */
  readonly settle?: () => Promise<unknown>
  /** Hands the ledger to a new core; default `restoreTradingNode` (what recovery does). */
  readonly restore?: (node: TradingNode, ledger: TradingLedger) => void
}

export const tradingCoreChild = (options: TradingCoreChildOptions): ChildSpec<TroupeClock> => {
  const { node } = options
  const restore = options.restore ?? ((n: TradingNode, ledger: TradingLedger) => void restoreTradingNode(n, ledger))
  return {
    id: `account-${node.account}`,
    kind: "worker",
    restart: "permanent",
    shutdownTimeoutMs: 5_000,
    start: Effect.gen(function* () {
      if (node.down) {
        yield* Effect.promise(() => options.settle?.() ?? Promise.resolve())
        node.restartCore((n) => restore(n, options.ledger()))
      }
      const crashed = yield* Deferred.make<never, TradingCoreCrashed>()
      const onCrash = (crash: TradingCoreCrashed): void => {
        Deferred.unsafeDone(crashed, Exit.fail(crash))
      }
      node.onCrash = onCrash
      yield* Effect.addFinalizer(() =>
        Effect.sync(() => {
          if (node.onCrash === onCrash) node.onCrash = undefined
        })
      )
      // A crash between two incarnations (no one listening) is seen here: restart at once.
      if (node.down) return yield* Effect.fail(new Error(`account ${node.account}: trading core went down while its supervisor restarted it`))
      return yield* Deferred.await(crashed)
    })
  }
}

/** The `accounts` supervisor of the default tree: one trading core child per account, one_for_one. */
export const accountsSupervisor = (accounts: ReadonlyArray<TradingCoreChildOptions>): ChildSpec<TroupeClock> =>
  supervisorChild<TroupeClock>({ id: "accounts", strategy: "one_for_one", children: accounts.map(tradingCoreChild) })
