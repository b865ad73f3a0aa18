import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Effect, Either, Exit, Layer, Option, Scheduler, Scope } from "effect"
import { makeSimulatedClock, simulatedClockLayer, type SimulatedClock } from "../actors/clock.js"
import { InspectionStream } from "../actors/inspection.js"
import { MetricsRegistry } from "../actors/metrics.js"
import { marketDataLayer } from "../actors/ports/market-data.js"
import { Snapshots, type SnapshotsService } from "../actors/ports/snapshots.js"
import type { StoreService } from "../actors/ports/store.js"
import { StrategyHost, type StrategySpec } from "../actors/strategy/strategy-host.js"
import { EventJournal } from "../daemon/event-journal.js"
import { TradingNode } from "../daemon/trading-node.js"
import type { RiskLimitsConfig } from "../daemon/config.js"
import type { CanonicalEvent } from "../domain/events/index.js"
import type { AccountId, InstrumentId, StrategyId } from "../domain/ids.js"
import type { Position } from "../domain/position.js"
import { openPgliteStore } from "../persistence/pglite.js"
import { decodeParams, type AnyStrategyDefinition } from "../strategies/ports.js"
import { replayInstruments, REPLAY_VENUE } from "./instruments.js"
import type { MarketInput, MarketMessage } from "./market-input.js"
import type { JournalService } from "../actors/ports/journal.js"
import { ReplayMarketData } from "./market-data.js"
import { RecordedLiquidity, REPLAY_MAKER_ACCOUNT } from "./recorded-liquidity.js"
import { openReplayOutputJournal, type ReplayOutputJournal } from "./output-journal.js"
import { ReplayExchange } from "./replay-exchange.js"
import { ReplayVenueGateway } from "./venue-gateway.js"

/**
 * Replay / backtest: the daemon's own trading stack — instrument actors, the strategy host with
 * the user's strategy, risk, the order manager and its order actors, the portfolio, wired by the
 * daemon's `TradingNode` — on a simulated clock, against the simulator's matching engine fed by
 * recorded market data. See docs/architecture.md "Replay" for the decisions, in short:
 *
 * - Time is the recording's. Messages with the same time are one batch; before time moves on,
 *   the system is drained (every mailbox, view, decision, order and venue report handled), then
 *   the simulated timers due up to the next message fire at their own times, each followed by a
 *   drain. The actors run exactly as in the daemon (mailboxes, microtasks); only "when does the
 *   next market message arrive" is decided by the replay, from simulated time only.
 * - Every id, timestamp and sequence number comes from the simulated clock, seeded PRNGs and
 *   counters; Effect fibers run on a microtask-only scheduler, so nothing waits on a wall-clock
 *   timer. The output journal is byte-identical across runs of the same input.
 * - The output is a file journal (every canonical event the run produced) and, projected from it
 *   by the daemon's EventJournal, a PGlite store that `troupe report` reads.
 */

export interface ReplayOptions {
  readonly input: MarketInput
  readonly strategy: AnyStrategyDefinition
  /** Raw params (decoded by the strategy's Schema, as the daemon does). */
  readonly params: unknown
  /** Default: the definition's id. */
  readonly strategyId?: string
  /** The output directory: `journal/` and `pglite/` go there. It must not hold a previous run. */
  readonly outDir: string
  /** Simulated ms per wall ms; `undefined` or Infinity: as fast as possible. */
  readonly speed?: number
  /** Write the PGlite store for `troupe report` (default true). Without it only the journal is written. */
  readonly store?: boolean
  readonly account?: string
  /** Seed of the matching engine's ids. */
  readonly seed?: number
  readonly limits?: RiskLimitsConfig
  /** Stop the strategy at the end (cancel its open orders), as the daemon does on shutdown. Default true. */
  readonly stopAtEnd?: boolean
  readonly onProgress?: (progress: ReplayProgress) => void
  readonly log?: (level: "debug" | "info" | "warn" | "error", message: string) => void
  /** Strategies run beside `strategy` (each its own id), as the daemon runs several. */
  readonly moreStrategies?: ReadonlyArray<{ readonly strategy: AnyStrategyDefinition; readonly params: unknown; readonly strategyId: string }>
  /**
   * Market messages produced as the run goes (a long synthetic market that would not fit in
   * memory) instead of `input.messages`; `input` still gives the symbols, specs and start time.
   */
  readonly stream?: { readonly total: number; readonly messages: Iterable<MarketMessage> }
  /** Another journal than the output journal (the soak bench: the daemon's file journal with retention). */
  readonly openJournal?: (dir: string, now: () => number) => Promise<JournalService>
  /** Called with the run's EventJournal before anything is appended (e.g. to fold a ledger from `onAppended`). */
  readonly onJournal?: (journal: EventJournal) => void
  /** Work at fixed simulated intervals, between drains (the soak bench samples memory here). */
  readonly every?: { readonly simMs: number; readonly run: (simTime: number, journal: EventJournal) => Promise<void> }
}

export interface ReplayProgress {
  readonly done: number
  readonly total: number
  readonly wallMs: number
  /** Market messages per wall second so far. */
  readonly rate: number
  readonly etaMs: number
  readonly simTime: number
}

export interface ReplayResult {
  readonly source: string
  readonly outDir: string
  readonly journalDir: string
  readonly storeDir: string | undefined
  readonly strategy: string
  readonly messages: number
  readonly skipped: number
  readonly startTime: number
  readonly endTime: number
  /** Canonical events the run produced, by type (what the output journal holds). */
  readonly events: Readonly<Record<string, number>>
  readonly fills: number
  readonly orders: number
  readonly positions: ReadonlyArray<{ readonly instrument: string; readonly quantity: string; readonly avgEntryPrice: string; readonly realizedPnl: string; readonly fees: string }>
  readonly strategyState: string
  readonly strategyRestarts: number
  readonly lastError: string | null
  /** Recorded levels the engine refused (post-only levels that would have crossed our orders). */
  readonly refusedLevels: number
  /** Of the refused levels, those off the instrument's tick grid (bad recorded input). */
  readonly offTickLevels: number
  /** Wall time of the market loop (not part of summary.json: it is not deterministic). */
  readonly wallMs: number
}

export class ReplayOutputExists extends Error {
  override readonly name = "ReplayOutputExists"
}

const noSnapshots: SnapshotsService = { save: () => Effect.void, load: () => Effect.succeed(Option.none()) }

/** A store that takes nothing: for runs without `--out` store (journal only). */
const nullStore = {
  appendAudit: (rows) => Effect.succeed(rows.length),
  insertFills: (rows) => Effect.succeed(rows.length),
  upsertPosition: () => Effect.succeed(true),
  close: () => Effect.void
} as Pick<StoreService, "appendAudit" | "insertFills" | "upsertPosition" | "close"> as StoreService

/** Effect fibers on microtasks only (the default scheduler falls back to setTimeout every 2048 rounds). */
const microtaskScheduler = new Scheduler.MixedScheduler(Number.MAX_SAFE_INTEGER)

const immediate = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

const positionRow = (p: Position) => ({
  instrument: p.instrumentId as string,
  quantity: p.quantity.toString(),
  avgEntryPrice: p.avgEntryPrice.toString(),
  realizedPnl: p.realizedPnl.toString(),
  fees: p.fees.toString(),
  /** Inverse contracts: PnL and fees in the base currency (XBT), else in the quote currency. */
  pnlCurrency: p.inverse === true ? "base" : "quote"
})

const prepareOut = (outDir: string, withStore: boolean): { journalDir: string; storeDir: string | undefined } => {
  const journalDir = join(outDir, "journal")
  const storeDir = withStore ? join(outDir, "pglite") : undefined
  for (const d of [journalDir, storeDir]) {
    if (d !== undefined && existsSync(d) && readdirSync(d).length > 0) throw new ReplayOutputExists(`${d} already holds a run: choose another --out (or --force)`)
  }
  mkdirSync(journalDir, { recursive: true })
  return { journalDir, storeDir }
}

/** Removes a previous run's output (`--force`). */
export const clearReplayOutput = (outDir: string): void => {
  for (const name of ["journal", "pglite", "summary.json"]) rmSync(join(outDir, name), { recursive: true, force: true })
}

export const runReplay = async (options: ReplayOptions): Promise<ReplayResult> => {
  const { input } = options
  const log = options.log ?? (() => undefined)
  const withStore = options.store !== false
  // Params that do not decode are refused before anything is written (the host decodes them again).
  const decoded = decodeParams(options.strategyId ?? options.strategy.id, options.strategy.params, options.params)
  if (Either.isLeft(decoded)) throw decoded.left
  const { journalDir, storeDir } = prepareOut(options.outDir, withStore)
  const account = (options.account ?? "replay") as AccountId
  const first = input.messages[0]
  const clock: SimulatedClock = makeSimulatedClock(first?.ts ?? 0)

  const { sim, domain } = replayInstruments(input)
  const exchange = new ReplayExchange(sim, options.seed ?? 1, clock)
  const marketData = new ReplayMarketData(exchange.engine, REPLAY_VENUE, clock.now)
  const gateway = new ReplayVenueGateway(account, account, REPLAY_VENUE, exchange, clock)
  const liquidity = new RecordedLiquidity(exchange)
  exchange.routeTo((effects) => {
    for (const e of effects) {
      switch (e.kind) {
        case "book":
          marketData.book(e.symbol, e.side, e.price, e.qty)
          break
        case "trade":
          marketData.trade(e.symbol, e.tradeId, e.price, e.qty, e.takerSide, e.time)
          break
        case "fill":
        case "order":
          if (e.account === account) gateway.onEffect(e)
          else if (e.account === REPLAY_MAKER_ACCOUNT) liquidity.onEffect(e)
          break
        case "position":
          break
      }
    }
  })

  const journalService: Pick<ReplayOutputJournal, "flush"> & JournalService =
    options.openJournal === undefined
      ? await Effect.runPromise(openReplayOutputJournal(journalDir, clock.now))
      : { ...(await options.openJournal(journalDir, clock.now)), flush: () => Effect.void }
  const storeHandle = storeDir === undefined ? undefined : await openPgliteStore({ dataDir: storeDir })
  const store = storeHandle?.store ?? nullStore
  if (storeHandle !== undefined) await Effect.runPromise(store.migrate())
  // The projection runs once, at the end: during the run it would only compete for the CPU.
  const journal = new EventJournal({ journal: journalService, store, projectEveryMs: 2 ** 31 - 1, auditLagBound: Number.POSITIVE_INFINITY, auditLagMs: Number.POSITIVE_INFINITY, now: clock.now })
  options.onJournal?.(journal)

  const events: Record<string, number> = {}
  const count = (e: CanonicalEvent): void => {
    events[e._tag] = (events[e._tag] ?? 0) + 1
  }
  const late: { host?: StrategyHost } = {}
  const trading = new TradingNode({
    account,
    clock,
    instruments: domain,
    limits: options.limits ?? {},
    gateway,
    marketData,
    journal,
    metrics: new MetricsRegistry(),
    inspection: new InspectionStream(16),
    publish: count,
    onOrderEvent: (e) => late.host?.onOrderEvent(e)
  })
  const byId = new Map(domain.map((i) => [i.id as string, i]))
  // Dated futures stop trading at their last trading time (the engine refuses orders, cancels the
  // open ones) and settle, on simulated time, as in the simulator; the portfolio books each
  // settlement of a position it holds (the daemon reads the same from the venue's account log).
  exchange.onSettlement((symbol, price, time) => {
    const id = `${REPLAY_VENUE}:${symbol}` as InstrumentId
    const held = trading.portfolio.position(id)
    if (held === undefined || held.quantity.isZero()) return
    if (trading.portfolio.onSettlement(id, `settlement-${symbol}-${time}`, price, time)) late.host?.onSettlement(id, price)
    log("info", `${symbol} expired at ${new Date(time).toISOString()}: settled at ${price.toFixed()}`)
  })
  exchange.startExpiries()

  const scope = Effect.runSync(Scope.make())
  const run = <A, E>(effect: Effect.Effect<A, E, Scope.Scope>): Promise<A> =>
    Effect.runPromise(effect.pipe(Scope.extend(scope), Effect.withScheduler(microtaskScheduler)))
  let wallMs = 0
  try {
    const layer = Layer.mergeAll(marketDataLayer(marketData), Layer.succeed(Snapshots, noSnapshots), simulatedClockLayer(clock))
    await run(
      trading.supervisionTree("replay", (sup) => {
        late.host = new StrategyHost({
          supervisor: sup,
          account,
          run: 1,
          clock,
          gateway: trading.intentGateway,
          feed: { subscribeBook: trading.subscribeBook, subscribeTrades: marketData.subscribeTrades },
          records: (r) => {
            count(r)
            void journal.append(r).catch(() => undefined)
          },
          instruments: (id) => byId.get(id),
          log: (level, strategy, message) => log(level, `strategy ${strategy}: ${message}`)
        })
      }).pipe(Effect.provide(layer))
    )

    const busy = (): boolean => gateway.backlog > 0 || trading.instrumentActors.some((a) => a.host.ref.depth() > 0)
    /** Until every actor has handled what the last messages caused (see the module note). */
    const drain = async (): Promise<void> => {
      do await immediate()
      while (busy())
    }
    const live = (): boolean => trading.instrumentActors.every((a) => a.state() === "live")
    for (let i = 0; i < 1000 && (!live() || late.host === undefined); i++) await drain()
    const host = late.host
    if (host === undefined || !live()) throw new Error("replay: the instrument actors or the strategy host did not start")

    const spec: StrategySpec = { definition: options.strategy, params: options.params, ...(options.strategyId === undefined ? {} : { id: options.strategyId }) }
    const added = await run(Effect.either(host.add(spec)))
    if (Either.isLeft(added)) throw new Error(added.left.message || added.left._tag)
    const strategyId: StrategyId = added.right
    for (const more of options.moreStrategies ?? []) {
      const extra = await run(Effect.either(host.add({ definition: more.strategy, params: more.params, id: more.strategyId })))
      if (Either.isLeft(extra)) throw new Error(extra.left.message || extra.left._tag)
    }
    await drain()

    // ---- the market loop ----------------------------------------------------------------------
    const messages: Iterable<MarketMessage> = options.stream?.messages ?? input.messages
    const total = options.stream?.total ?? input.messages.length
    const every = options.every
    let nextEvery = every === undefined ? Number.POSITIVE_INFINITY : clock.now() + every.simMs
    const speed = options.speed !== undefined && Number.isFinite(options.speed) && options.speed > 0 ? options.speed : undefined
    const wallStart = performance.now()
    const simStart = clock.now()
    const pace = async (t: number): Promise<void> => {
      if (speed === undefined) return
      const wait = wallStart + (t - simStart) / speed - performance.now()
      if (wait >= 1) await new Promise((r) => setTimeout(r, wait))
    }
    let lastReport = wallStart
    const report = (done: number): void => {
      const wall = performance.now() - wallStart
      const rate = wall > 0 ? (done / wall) * 1000 : 0
      options.onProgress?.({ done, total, wallMs: wall, rate, etaMs: rate > 0 ? ((total - done) / rate) * 1000 : Number.POSITIVE_INFINITY, simTime: clock.now() })
    }
    let i = -1
    for (const m of messages) {
      i++
      if (m.ts > clock.now()) {
        await drain()
        while (every !== undefined && m.ts >= nextEvery) {
          await every.run(clock.now(), journal)
          nextEvery += every.simMs
        }
        for (let due = clock.nextTimerAt(); due !== undefined && due <= m.ts; due = clock.nextTimerAt()) {
          await pace(due)
          clock.setTime(due)
          await drain()
        }
        await pace(m.ts)
        clock.setTime(m.ts)
      }
      liquidity.apply(m)
      if ((i & 1023) === 1023 && options.onProgress !== undefined) {
        const now = performance.now()
        if (now - lastReport >= 200) {
          lastReport = now
          report(i + 1)
        }
      }
    }
    await drain()
    // The run's output is part of the run: the time includes writing it.
    await Effect.runPromise(journalService.flush())
    wallMs = performance.now() - wallStart
    report(total)

    // ---- the end: as the daemon's shutdown, the strategy stops and its orders are canceled ---------
    if (options.stopAtEnd !== false) {
      await run(Effect.ignore(host.stop(strategyId)))
      await drain()
    }
    const status = host.status(strategyId)
    const result: ReplayResult = {
      source: input.source,
      outDir: options.outDir,
      journalDir,
      storeDir,
      strategy: strategyId,
      messages: total,
      skipped: input.skipped,
      startTime: simStart,
      endTime: clock.now(),
      events: Object.fromEntries(Object.entries(events).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
      fills: events["OrderFilled"] ?? 0,
      orders: events["OrderSubmitted"] ?? 0,
      positions: (status?.positions ?? []).map(positionRow),
      strategyState: status?.state ?? "unknown",
      strategyRestarts: status?.restarts ?? 0,
      lastError: status?.lastError ?? null,
      refusedLevels: liquidity.refused,
      offTickLevels: liquidity.offTickLevels,
      wallMs
    }
    await Effect.runPromise(trading.stop())
    await Effect.runPromise(Scope.close(scope, Exit.void))
    // The projection: everything, in journal order, before the store closes.
    while (storeHandle !== undefined && journal.lag() > 0) {
      const before = journal.lag()
      await journal.project()
      if (journal.lag() === before) throw new Error("replay: the store refused the projection")
    }
    await journal.close()
    const { wallMs: _wall, ...deterministic } = result
    writeFileSync(join(options.outDir, "summary.json"), JSON.stringify(deterministic, null, 2) + "\n")
    return result
  } finally {
    await Effect.runPromise(Scope.close(scope, Exit.void))
    await Effect.runPromise(journalService.close())
    await Effect.runPromise(store.close())
    exchange.stop()
  }
}
