import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { randomBytes } from "node:crypto"
import { join } from "node:path"
import { Effect, Layer, Option, Schedule, type Scope } from "effect"
import { createActor } from "xstate"
import { wallClock, WallClockLive, xstateClock, type ClockService } from "../actors/clock.js"
import { InspectionStream } from "../actors/inspection.js"
import { MetricsRegistry } from "../actors/metrics.js"
import { marketDataLayer } from "../actors/ports/market-data.js"
import type { JournalService } from "../actors/ports/journal.js"
import { RequestBudgetClosed, type RequestBudgetService } from "../actors/ports/request-budget.js"
import { Snapshots, type SnapshotsService, SnapshotError } from "../actors/ports/snapshots.js"
import type { StoreService } from "../actors/ports/store.js"
import { StrategyHost } from "../actors/strategy/strategy-host.js"
import { openParityRecorder } from "./parity-recorder.js"
import type { Supervisor } from "../actors/supervisor/index.js"
import { openFileJournal, type FileJournal } from "../adapters/journal/file/file-journal.js"
import { kafkaTopicRetention, startFileJournalRetention } from "./journal-retention.js"
import { openKafkaJournal } from "../adapters/journal/kafka/kafka-journal.js"
import { envelopeSource, makeKrakenMarketDataPort, makeKrakenRestClient, makeKrakenVenueGateway, mapInstruments, SettlementWatcher } from "../adapters/venues/kraken-futures/index.js"
import type { AccountId, InstrumentId } from "../domain/ids.js"
import type { Instrument } from "../domain/instrument.js"
import type { OrderEvent } from "../domain/events/orders.js"
import { nodeMachine } from "../machines/node.machine.js"
import { makePostgresStore } from "../persistence/postgres.js"
import { openPgliteStore } from "../persistence/pglite.js"
import { controlApi } from "./control-api/server.js"
import type { NodeState } from "./control.js"
import { fsyncPolicyOf, type Config, type StrategyConfig } from "./config.js"
import { log } from "./log.js"
import { makeReportSource } from "./report-source.js"
import { startRuntimeMetrics } from "./runtime-metrics.js"
import { tradingMetrics } from "./trading-metrics.js"
import { DaemonControlImpl } from "./daemon-control.js"
import { EventJournal } from "./event-journal.js"
import { StrategyCatalog } from "./strategy-catalog.js"
import { startStrategies } from "./strategy-roster.js"
import { TradingNode } from "./trading-node.js"
import { AlertEngine } from "./alerts/alerts.js"
import { accountOf } from "./portfolio-risk/accounts.js"
import { alertMetrics, portfolioRiskMetrics, riskView } from "./portfolio-risk/surface.js"
import { PortfolioRiskMonitor } from "./portfolio-risk/monitor.js"
import { accountsSupervisor } from "./trading-core-child.js"
import { describeReconcile, reconcileWithVenue, restoreTradingNode } from "./reconcile.js"
import { describeUndecodable, ledgerActorId, recoverLedger, saveLedgerSnapshot } from "./recovery.js"
import { writeAheadBudget, writeAheadGateway } from "./write-ahead.js"
import { metricsOfCauses } from "./cause-metrics.js"
import { OperatorActions } from "./operator-actions.js"
import { adoptVenuePositions, PositionMismatches } from "./position-mismatch.js"
import { EMBEDDED_SYMBOLS, openVenue } from "./venue.js"
import { demoStrategies, withDemoDefaults } from "./demo-defaults.js"
import type { AccountHooks } from "./account-hooks.js"
import { RateBudgets } from "../actors/risk/rate-budgets.js"
import type { VenueCostModel } from "../domain/venue-rates.js"

export const VERSION = "0.1.0"


/** The control API token: configured, or generated once into `$TROUPE_HOME/token` (mode 0600). */
export const ensureToken = (home: string, configured: string | undefined): string => {
  if (configured !== undefined) return configured
  const file = join(home, "token")
  if (existsSync(file)) return readFileSync(file, "utf8").trim()
  const token = randomBytes(24).toString("base64url")
  writeFileSync(file, token + "\n", { mode: 0o600 })
  chmodSync(file, 0o600)
  return token
}

/**
 * Monotonic run number: part of every client order id, so ids never repeat across runs. Kept in
 * `$TROUPE_HOME/run` and never below the journal's highest run + 1 (a new home on an old journal).
 */
const nextRun = (home: string, atLeast = 0): number => {
  const file = join(home, "run")
  const prev = existsSync(file) ? Number.parseInt(readFileSync(file, "utf8"), 10) : 0
  const run = Math.max((Number.isSafeInteger(prev) ? prev : 0) + 1, atLeast)
  writeFileSync(file, `${run}\n`)
  return run
}

/** Embedded default: the demo strategies (see demo-defaults.ts). */
export const defaultStrategies = (): ReadonlyArray<StrategyConfig> => demoStrategies()

const storeSnapshots = (store: StoreService): SnapshotsService => ({
  save: (r) =>
    store
      .saveSnapshot({ actorId: r.actorId, machineVersion: r.machineVersion, snapshot: r.snapshot, offsets: r.offsets, takenAt: r.takenAt })
      .pipe(Effect.mapError((cause) => new SnapshotError({ actorId: r.actorId, operation: "save", cause }))),
  load: (actorId) =>
    store.loadSnapshot(actorId).pipe(
      Effect.map(Option.map((s) => ({ actorId: s.actorId, machineVersion: s.machineVersion, snapshot: s.snapshot as never, offsets: s.offsets, takenAt: s.takenAt }))),
      Effect.mapError((cause) => new SnapshotError({ actorId, operation: "load", cause }))
    )
})

const deferred = (): { readonly promise: Promise<void>; readonly resolve: () => void } => {
  let resolve = (): void => undefined
  const promise = new Promise<void>((r) => (resolve = r))
  return { promise, resolve }
}

export interface DaemonOptions {
  readonly config: Config
  readonly cancelOrdersOnStop?: boolean
  /** Set by a cluster's trading node for each account it owns (src/cluster/); absent on `--role all`. */
  readonly hooks?: AccountHooks
}

/**
 * The composition root. Runs until interrupted (SIGTERM/SIGINT through the Node runtime):
 * then it drains — strategies stop, open orders are canceled, the journal and the audit
 * projection are flushed, final snapshots are written — and the scope closes everything.
 */
export const runDaemonProgram = (options: DaemonOptions): Effect.Effect<never, unknown, Scope.Scope> =>
  Effect.gen(function* () {
    // With no strategies configured (the demo), the demo's strategies and explicit risk limits.
    const config = withDemoDefaults(options.config)
    const clock: ClockService = wallClock
    const startedAt = clock.now()
    mkdirSync(config.home, { recursive: true })
    const token = ensureToken(config.home, config.token)
    const instance = nextRun(config.home)
    // The run number in every event id; corrected after recovery if the journal knows a higher one.
    const runRef = { value: instance }
    const runNow = (): number => runRef.value
    const account = config.venue.account as AccountId
    const metrics = new MetricsRegistry()
    const inspection = new InspectionStream(4096)

    const node = createActor(nodeMachine, { input: { nodeId: `troupe-${process.pid}` }, clock: xstateClock(clock) }).start()
    const nodeState = (): NodeState => {
      const v = node.getSnapshot().value
      return (typeof v === "string" ? v : Object.keys(v)[0]) as NodeState
    }
    node.subscribe((s) => inspection.publish({ actorId: "node", kind: "node", type: "transition", state: s.value, event: null, ts: clock.now() }))

    // The store and the journal: embedded (PGlite, file) unless DATABASE_URL / KAFKA_BROKERS.
    const store: StoreService = yield* Effect.acquireRelease(
      Effect.promise(async () => {
        if (config.store.kind === "postgres" && config.databaseUrl !== undefined) return makePostgresStore({ url: config.databaseUrl, ...(config.appDatabaseUrl !== undefined ? { appUrl: config.appDatabaseUrl } : {}) }).store
        return (await openPgliteStore({ dataDir: join(config.home, "pglite") })).store
      }),
      (s) => s.close().pipe(Effect.ignore)
    )
    yield* store.migrate()
    const bounded: { fileJournal?: FileJournal } = {}
    const openJournal: Effect.Effect<JournalService> =
      config.journal.kind === "kafka"
        ? openKafkaJournal({ brokers: config.kafkaBrokers, topicPrefix: config.journal.topicPrefix, clientId: `troupe-${instance}`, retention: kafkaTopicRetention(config.journal.kafkaRetention) }).pipe(Effect.orDie)
        : openFileJournal({ dir: join(config.home, "journal"), fsync: fsyncPolicyOf(config.journal.durability), now: clock.now }).pipe(
            Effect.tap((j) => Effect.sync(() => (bounded.fileJournal = j))),
            Effect.orDie
          )
    const openedJournal = yield* Effect.acquireRelease(openJournal, (j) => j.close().pipe(Effect.ignore))
    const journalService = options.hooks?.journal(openedJournal) ?? openedJournal
    // Filled in as the parts come up; callbacks created earlier read them through here.
    const late: { trading?: TradingNode; root?: Supervisor; control?: DaemonControlImpl; strategies?: StrategyHost; onFillMetrics?: (e: OrderEvent) => void; alerts?: AlertEngine; portfolioRisk?: PortfolioRiskMonitor } = {}
    // A cause raised before the trading node exists (the journal failing while the daemon starts)
    // is held here and raised on the node when it is built: it must not trade on a failing journal.
    const earlyCauses = new Map<Parameters<TradingNode["risk"]["automaticCause"]>[0], { readonly raised: boolean; readonly why: string }>()
    const journal = new EventJournal({
      journal: journalService,
      store,
      metrics,
      auditLagBound: config.recovery.auditLagBound,
      auditLagMs: config.recovery.auditLagSeconds * 1000,
      now: clock.now,
      onHealth: (healthy, reason) => log(`journal/audit ${healthy ? "healthy" : "UNHEALTHY"}: ${reason}`),
      // No audit, no trade: each is its own cause of the trading state, lifted by its own
      // recovery — never by resuming the operator's (see "Trading state causes").
      onCause: (cause, raised, why) => {
        if (late.trading === undefined) earlyCauses.set(cause, { raised, why })
        else late.trading.automaticCause(cause, raised, why)
      }
    })
    yield* Effect.addFinalizer(() => Effect.promise(() => journal.close()))

    // The venue: in-process simulator on embedded defaults, the real Kraken Futures adapter either way.
    const symbols = config.strategies.length > 0 ? [...new Set(config.strategies.flatMap((s) => s.instruments.map((i) => i.slice(i.indexOf(":") + 1))))] : [...EMBEDDED_SYMBOLS]
    const venue = yield* Effect.acquireRelease(
      Effect.promise(() => openVenue(config.venue, symbols, config.home)),
      (v) => Effect.promise(() => v.simulator?.stop() ?? Promise.resolve())
    )
    const rest = makeKrakenRestClient({ baseUrl: venue.restBase, credentials: { apiKey: venue.apiKey, secret: venue.apiSecret } })
    const loaded = mapInstruments(yield* rest.instruments())
    const instruments: Instrument[] = loaded.instruments.map((k) => k.instrument).filter((i) => symbols.includes(i.symbol))
    if (instruments.length === 0) return yield* Effect.die(new Error(`the venue lists none of the instruments ${symbols.join(", ")}`))

    const fillsSubscribed = deferred()
    // The gateway's reads are billed to the account's risk actor. The trading node (and its risk
    // actor) is built with the gateway, so the budget is looked up at call time — the gateway makes
    // no request before it is started, after the node exists. A read goes out only once its spend
    // record is journaled (writeAheadBudget): a crash must not leave the venue counting reads that
    // the restarted node's limiter, restored from the journal, does not know.
    const requestBudget: RequestBudgetService = writeAheadBudget(
      { reserve: (call) => (late.trading === undefined ? Promise.reject(new RequestBudgetClosed({ call })) : late.trading.risk.requestBudget.reserve(call)) },
      journal
    )
    const gateway = makeKrakenVenueGateway({
      account,
      rest,
      budget: requestBudget,
      privateFeed: { url: venue.wsUrl, apiKey: venue.apiKey, secret: venue.apiSecret },
      clock,
      run: runNow,
      onLog: (entry) => log(`gateway ${entry.level}: ${entry.message}`),
      onFeedSignal: (signal) => {
        if (signal._tag === "Subscribed" && signal.feed === "fills") fillsSubscribed.resolve()
      }
    })
    const marketData = options.hooks?.marketData() ?? makeKrakenMarketDataPort({ url: venue.wsUrl, env: envelopeSource("kraken-futures/md", clock.now, runNow) })

    const catalog = new StrategyCatalog()
    // Every account's rate windows (one per daemon: a per-address budget is shared by its accounts).
    const rateBudgets = new RateBudgets(clock)
    yield* Effect.addFinalizer(() => Effect.sync(() => rateBudgets.close()))
    const trading = new TradingNode({
      account,
      clock,
      instruments,
      limits: config.risk,
      gateway: writeAheadGateway(options.hooks?.gateway(gateway) ?? gateway, journal, clock, runNow),
      run: runNow,
      marketData,
      journal,
      metrics,
      inspection,
      publish: (e) => {
        late.control?.publish(e)
        late.alerts?.onEvent(e)
      },
      onOrderEvent: (e: OrderEvent) => {
        late.strategies?.onOrderEvent(e)
        late.control?.onOrderEvent(e)
        late.onFillMetrics?.(e)
        if (e._tag === "OrderFilled") late.portfolioRisk?.afterFill()
      },
      log,
      // The account's venue speaks Kraken Futures (the real one or the simulator's Kraken face).
      ...(config.rateLimits.get("kraken-futures") === undefined ? {} : { venueRate: config.rateLimits.get("kraken-futures") as VenueCostModel }),
      rateBudgets
    })
    late.trading = trading
    for (const [cause, c] of earlyCauses) if (c.raised) trading.automaticCause(cause, true, c.why)
    const mismatches = new PositionMismatches()
    const operatorActions = new OperatorActions({
      account,
      now: clock.now,
      trading,
      journal,
      mismatches,
      adoptVenuePositions: () => adoptVenuePositions({ rest, trading, instruments }),
      publish: (e) => late.control?.publish(e)
    })
    const runtime = startRuntimeMetrics(VERSION)
    yield* Effect.addFinalizer(() => Effect.sync(() => runtime.stop()))
    const control = new DaemonControlImpl({
      version: VERSION,
      startedAt,
      now: clock.now,
      nodeState,
      root: () => late.root,
      trading,
      strategies: () => late.strategies,
      catalog,
      metrics,
      inspection,
      account,
      journal,
      run: runNow,
      operatorActions,
      mismatches,
      runtimeMetrics: runtime.registry,
      reportSource: makeReportSource(store, config.store.kind === "postgres" ? "the daemon's Postgres store" : `the daemon's PGlite store at ${join(config.home, "pglite")}`),
      portfolioRisk: () => riskView(late.portfolioRisk, late.alerts)
    })
    late.control = control
    // Alerts: journaled, then to the log, the inspector's banner (the stream) and webhooks; never waited for.
    const alerts = new AlertEngine(config.alerts, {
      now: clock.now,
      log,
      record: (e) => {
        void journal.append(e).catch(() => undefined)
        control.publish(e)
      }
    })
    late.alerts = alerts
    yield* Effect.addFinalizer(() => Effect.sync(() => alerts.close()))
    alertMetrics(metrics, alerts)
    metricsOfCauses(metrics, account, trading)
    late.onFillMetrics = tradingMetrics(metrics, trading, account, () => late.strategies)
    metrics.sampled("journal_audit_lag", "canonical events appended to the journal but not yet projected to the audit trail", "gauge", {}, () => journal.lag())
    metrics.sampled("orders_live", "live orders (not terminal): what status and the halt reply count", "gauge", {}, () => trading.orders.liveOrders)
    metrics.sampled("orders_retained", "order actors held: live ones and finished ones kept for late fills", "gauge", {}, () => trading.orders.retainedOrders)
    metrics.sampled("fills_duplicate_dropped_total", "venue fills dropped before the journal as repeats of fills already counted", "counter", {}, () => trading.orders.duplicateFills)
    metrics.sampled("market_frames_total", "market data frames received from the venue (rate: msgs/s)", "counter", {}, () => marketData.counters().frames)
    metrics.sampled("market_bad_frames_total", "market data frames that did not decode (counted, skipped)", "counter", {}, () => marketData.counters().badFrames)
    metrics.sampled("market_resyncs_total", "book resynchronisations (gaps, crossed books)", "counter", {}, () => marketData.counters().resyncs)
    metrics.sampled("rate_budget_used", "venue rate budget used in the current 10 s window", "gauge", { account }, () => trading.risk.rateUsedAtVenue)
    // One gauge per budget, keyed as the venue keys it (an address's budget is shared by its accounts).
    for (const u of trading.risk.rateUsage()) {
      const labels = { account, venue: u.venue, budget: u.budget, scope: u.scope }
      const of = () => trading.risk.rateUsage().find((x) => x.budget === u.budget)
      metrics.sampled("rate_budget_usage", "venue rate budget spent in the venue's own window (ours and what its headers report beyond ours), by budget", "gauge", labels, () => of()?.used ?? 0)
      metrics.sampled("rate_budget_limit", "venue rate budget's limit per window, by budget", "gauge", labels, () => u.limit)
      metrics.sampled("rate_budget_held", "venue rate budget on hold: 0 no, 1 backing off after a 429, 2 banned by a 418", "gauge", labels, () => {
        const held = of()?.held
        return held === "banned" ? 2 : held === "backoff" ? 1 : 0
      })
    }
    metrics.sampled("rate_reads_waiting", "venue reads waiting for rate budget", "gauge", { account }, () => trading.risk.readsWaiting)

    const api = yield* controlApi({ port: config.port, host: "127.0.0.1", allowedHosts: config.allowedHosts, token, control: control.control, metrics })
    node.send({ type: "STARTED" })

    // Recovery: the ledger from its snapshot and the journal after it, handed to the actors.
    const ledgerId = ledgerActorId(account)
    const skipUndecodable = config.recovery.skipUndecodableJournalRecords
    const recovered = yield* recoverLedger({
      actorId: ledgerId,
      journal: journalService,
      store,
      instruments: (id) => trading.instrument(id as InstrumentId),
      reproject: (e, o) => journal.reproject(e, o),
      now: clock.now,
      // A cluster's accounts share the journal's topics: fold only this account's records.
      ...(options.hooks === undefined ? {} : { account }),
      onUndecodable: (r) => {
        metrics.counter("journal_undecodable_records_total", "journal records that did not decode at recovery", { topic: r.topic, skipped: String(skipUndecodable) }).inc()
        log(`recovery: journal record ${describeUndecodable(r)}${skipUndecodable ? ": SKIPPED (skipUndecodableJournalRecords)" : ""}`)
      }
    })
    const ledger = recovered.ledger
    // Fail closed: a ledger that lacks a record may be wrong about orders and positions.
    const first = recovered.undecodableRecords[0]
    if (first !== undefined && !skipUndecodable) {
      trading.block(
        `${recovered.undecodable} journal record(s) did not decode at recovery, the first at ${first.topic}/${first.partition}@${first.offset}; ` +
          `account ${account} does not trade: repair the journal, or restart with --skip-undecodable-journal-records to skip them`
      )
    }
    metrics.sampled("trading_blocked", "1 while the account does not trade because recovery failed closed", "gauge", { account }, () => (trading.blocked === undefined ? 0 : 1))
    const run = ledger.maxRun >= instance ? nextRun(config.home, ledger.maxRun + 1) : instance
    runRef.value = run
    const restoredOrders = restoreTradingNode(trading, ledger)
    const snapshots = {
      lastApplied: ledger.applied,
      inFlight: undefined as Promise<void> | undefined,
      /** One save at a time; a periodic save while one is running is skipped (the next one covers it). */
      save: (): Promise<void> => {
        if (snapshots.inFlight !== undefined) return snapshots.inFlight
        const applied = ledger.applied
        snapshots.inFlight = Effect.runPromise(Effect.either(saveLedgerSnapshot(store, ledgerId, ledger, clock.now()))).then((r) => {
          snapshots.inFlight = undefined
          if (r._tag === "Right") snapshots.lastApplied = applied
          else log(`ledger snapshot failed: ${String(r.left)}`)
        })
        return snapshots.inFlight
      },
      /** At shutdown: after any save in flight, one more of the final state. */
      saveFinal: async (): Promise<void> => {
        await snapshots.inFlight
        await snapshots.save()
      }
    }
    // The ledger folds the orders topic (what recovery replays); other topics do not change it.
    journal.onAppended = (e, o) => {
      if (o.topic !== "orders") return
      ledger.apply(e, o)
      if (ledger.applied - snapshots.lastApplied >= config.recovery.snapshotEveryEvents) void snapshots.save()
    }
    const snapshotTimer = setInterval(() => {
      if (ledger.applied > snapshots.lastApplied) void snapshots.save()
    }, config.recovery.snapshotEverySeconds * 1000)
    snapshotTimer.unref()
    yield* Effect.addFinalizer(() => Effect.sync(() => clearInterval(snapshotTimer)))
    if (bounded.fileJournal !== undefined) {
      const stopRetention = startFileJournalRetention({ journal: bounded.fileJournal, store, ledgerActorId: ledgerId, policy: config.journal.retention, now: clock.now, log })
      yield* Effect.addFinalizer(() => Effect.sync(stopRetention))
    }
    log(`recovered in ${recovered.ms} ms: ledger from ${recovered.snapshot}, ${recovered.replayed} journal events replayed, ${restoredOrders} live orders, ${recovered.reprojected} events re-projected to the audit trail`)
    metrics.sampled("recovery_seconds", "time from start to recovered state (journal and snapshot), in seconds", "gauge", {}, () => recovered.ms / 1000)
    if (trading.blocked !== undefined) {
      // The node stays up (status, metrics, the inspector) but failed: no reconciliation (it would
      // journal conclusions drawn from an incomplete ledger) and no strategies.
      log(`TRADING STOPPED: ${trading.blocked}`)
      node.send({ type: "FATAL", error: trading.blocked })
    } else node.send({ type: "RECOVERED" })

    // Reconciliation: the venue's view against ours, through the live feeds and REST.
    yield* Effect.acquireRelease(
      Effect.sync(() => {
        gateway.start()
        marketData.start()
      }),
      () => Effect.promise(() => Promise.allSettled([gateway.stop(), marketData.stop()]))
    )
    if (trading.blocked === undefined) {
      yield* Effect.promise(() => Promise.race([fillsSubscribed.promise.then(() => new Promise((r) => setTimeout(r, 300))), new Promise((r) => setTimeout(r, 5_000))]))
      // The venue may be slow to answer right after a restart: retry (every step is idempotent —
      // fills are deduplicated by id, finished orders are skipped) before giving up.
      const reconciled = yield* reconcileWithVenue({ account, clock, rest, budget: trading.risk.requestBudget, trading, instruments, log, run: runNow }, ledger, { cancelRecoveredOrders: config.recovery.cancelRecoveredOrders, onPositionMismatch: config.recovery.onPositionMismatch }).pipe(
        Effect.tapError((e) => Effect.sync(() => log(`reconciliation failed, retrying: ${String(e)}`))),
        Effect.retry(Schedule.exponential("500 millis").pipe(Schedule.intersect(Schedule.recurs(6))))
      )
      mismatches.set(reconciled.mismatches)
      log(`reconciled in ${clock.now() - startedAt} ms since start: ${describeReconcile(reconciled)}`)
      node.send({ type: "RECONCILED", differences: reconciled.differences })
    }

    // The supervision tree: instruments (one actor each), the account's trading core (restarted
    // from the ledger after a crash) and strategies (dynamic).
    const layer = Layer.mergeAll(marketDataLayer(marketData), Layer.succeed(Snapshots, storeSnapshots(store)), WallClockLive)
    // journal.recordMarketData: what the strategies received, for `troupe replay --parity` (parity-recorder.ts).
    const parity = config.journal.recordMarketData
      ? yield* Effect.acquireRelease(
          Effect.sync(() => openParityRecorder({ journalDir: join(config.home, "journal"), run, retentionHours: config.journal.retention.hours, metrics, log })),
          (r) => Effect.sync(() => r.close())
        )
      : undefined
    const root = yield* trading
      .supervisionTree("root", (sup) => {
        late.strategies = new StrategyHost({
          supervisor: sup,
          account,
          run,
          clock,
          gateway: trading.intentGateway,
          feed: { subscribeBook: trading.subscribeBook },
          records: (r) => void journal.append(r).catch(() => undefined),
          ...(parity === undefined ? {} : { inputs: parity.sink }),
          instruments: (id) => trading.instrument(id),
          log: (level, strategy, message) => log(`strategy ${strategy} ${level}: ${message}`),
          onTransition: (strategy, step) => {
            inspection.publish({ actorId: strategy, kind: "strategy", type: "transition", state: step.to, event: step.event, ts: step.ts })
            if (step.to === "faulted" || step.to === "degraded") alerts.signal({ cause: "strategyFault", scope: strategy, change: "fault", text: `strategy ${strategy} is ${String(step.to)}`, at: step.ts })
          }
        })
      }, accountsSupervisor([{ node: trading, ledger: () => ledger, settle: () => journal.settled() }]))
      .pipe(Effect.provide(layer))
    late.root = root
    trading.deadMansSwitch.start()

    // Dated futures: the venue settles them at expiry in its account log; the portfolio books it once.
    if (trading.blocked === undefined && instruments.some((i) => i.expiry !== undefined)) {
      const settlements = new SettlementWatcher({
        restBase: venue.restBase,
        credentials: { apiKey: venue.apiKey, secret: venue.apiSecret },
        instruments,
        clock,
        onSettlement: (s) => {
          const booked = trading.portfolio.onSettlement(s.instrument, s.settlementId, s.price, s.ts)
          if (booked) late.strategies?.onSettlement(s.instrument, s.price)
          return booked
        },
        onLog: (level, message) => log(`settlement ${level}: ${message}`)
      })
      yield* Effect.acquireRelease(Effect.sync(() => settlements.start()), () => Effect.sync(() => settlements.stop()))
    }

    // The portfolio risk monitor (docs/portfolio-risk.md): off the order path, on its own cadence.
    if (config.portfolioRisk !== undefined) {
      const monitor = new PortfolioRiskMonitor(config.portfolioRisk, [accountOf(trading, clock.now)], {
        now: clock.now,
        log,
        onSignal: (sig) => alerts.signal({ cause: sig.cause, scope: sig.scope, change: "threshold", utilization: sig.utilization, text: sig.text, at: sig.at })
      })
      late.portfolioRisk = monitor
      portfolioRiskMetrics(metrics, monitor)
      yield* Effect.acquireRelease(Effect.sync(() => monitor.start()), () => Effect.sync(() => monitor.stop()))
    }

    // The configured strategies and those added at run time, as the journaled commands left them.
    const strategies = config.strategies.length > 0 ? config.strategies : defaultStrategies()
    if (late.strategies !== undefined && trading.blocked === undefined) {
      const roster = yield* startStrategies({ host: late.strategies, catalog, journal: journalService, log }, strategies)
      log(`strategies: ${roster.started} started, ${roster.stopped} left stopped by the operator, ${roster.fromJournal} added at run time`)
    }

    yield* Effect.addFinalizer(() =>
      Effect.gen(function* () {
        const openAtStop = trading.orders.liveOrders
        log(`draining: stopping strategies, ${options.cancelOrdersOnStop !== false ? "canceling" : "keeping (--keep-orders)"} ${openAtStop} open order${openAtStop === 1 ? "" : "s"}, flushing the journal`)
        node.send({ type: "SHUTDOWN" })
        const host = late.strategies
        for (const s of host?.list() ?? []) yield* host!.stop(s.id).pipe(Effect.ignore)
        if (options.cancelOrdersOnStop !== false && trading.orders.liveOrders > 0) {
          trading.control({ _tag: "Halt", id: `node-drain-${clock.now()}`, ts: clock.now(), source: "node", who: "troupe", why: "shutdown", account }, { cancelAll: true })
          // Until the venue confirms every cancel, for at most 2 s.
          for (let waited = 0; trading.orders.liveOrders > 0 && waited < 2_000; waited += 50) yield* Effect.sleep("50 millis")
        }
        if (options.cancelOrdersOnStop !== false) {
          const left = trading.orders.liveOrders
          log(`drain: ${openAtStop - left} of ${openAtStop} open order${openAtStop === 1 ? "" : "s"} canceled${left > 0 ? `; ${left} still open at the venue (no cancel confirmation in 2 s): the next start cancels them (recovery.cancelRecoveredOrders)` : ""}`)
        }
        trading.deadMansSwitch.stop()
        yield* trading.stop()
        const left = yield* Effect.promise(() => journal.close())
        if (left.unjournaled > 0) log(`LOST: ${left.unjournaled} events could not be journaled (the journal stayed unavailable through shutdown)`)
        if (left.unprojected > 0) log(`${left.unprojected} audit rows not projected yet: they are re-projected from the journal at the next start`)
        yield* Effect.promise(() => snapshots.saveFinal())
        node.send({ type: "DRAINED" })
        log(`stopped (journal ${journal.appended} events, audit ${journal.projected} rows)`)
      })
    )

    log(`running (run ${run}, ${instruments.length} instruments, venue ${venue.simulator === undefined ? venue.restBase : `simulator at ${venue.restBase}`})`)
    // Starting held back (an operator's halt kept from the last run, a recovery cause) is said once, with each cause.
    if (trading.risk.status !== "active") {
      const causes = trading.risk.causes().map((c) => `${c.cause} (${c.level}, by ${c.who} since ${new Date(c.since).toISOString()}: ${c.why})`)
      log(`trading is ${trading.risk.status.toUpperCase()} at start: ${causes.join("; ") || "no cause recorded"} — \`troupe status\` shows it; \`troupe resume\` lifts an operator's halt or reduce-only, \`troupe resume --cause C\` an automatic cause`)
    }
    process.stdout.write(`Troupe is running. Inspector: ${api.url}/#token=${token}\nControl API token in ${join(config.home, "token")}; stop with Ctrl-C.\n`)
    return yield* root.join
  })
