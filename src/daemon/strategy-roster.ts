import { Effect, Either, Stream } from "effect"
import type { JournalService } from "../actors/ports/journal.js"
import type { StrategyHost } from "../actors/strategy/strategy-host.js"
import { decodeEvent } from "../domain/codec.js"
import type { OperatorAction } from "../domain/events/operator.js"
import type { RestartType } from "../actors/supervisor/index.js"
import type { StrategyCatalog } from "./strategy-catalog.js"

/**
 * Which strategies run, as the operator left them: the configured ones and those added at run
 * time, folded from the journaled strategy commands (`OperatorAction`, topic `control`). The
 * journal is the source of truth, so the roster survives any restart, kill -9 included (each
 * command is durable before it takes effect).
 *
 * Fold rules, in journal order:
 * - `strategy.add` registers the strategy with its module (`file`) and params, running;
 * - `strategy.stop` marks it stopped (a configured strategy too): it comes back registered but
 *   not started (state `ready`) until `troupe strategy start`;
 * - `strategy.start` / `strategy.restart` mark it running again;
 * - `strategy.reconfigure` replaces its params (a configured strategy keeps them over the file's);
 * - an action followed by its failure event (`failedAction`) never took effect and is skipped.
 */
export interface RosterEntry {
  readonly id: string
  /** Module path or catalog kind, for strategies added at run time. */
  readonly file: string | undefined
  /** Params as last set by add or reconfigure (decoded JSON); undefined: the config's. */
  readonly params: unknown
  readonly stopped: boolean
}

const parseParams = (text: string | undefined): unknown => {
  if (text === undefined) return undefined
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}

export const foldStrategyCommands = (events: ReadonlyArray<OperatorAction>): ReadonlyMap<string, RosterEntry> => {
  const failed = new Set(events.flatMap((e) => (e.failedAction === undefined ? [] : [e.failedAction])))
  const roster = new Map<string, RosterEntry>()
  for (const e of events) {
    if (e.failedAction !== undefined || failed.has(e.id) || e.strategy === undefined) continue
    const id = e.strategy as string
    const current: RosterEntry = roster.get(id) ?? { id, file: undefined, params: undefined, stopped: false }
    switch (e.action) {
      case "strategy.add":
        roster.set(id, { id, file: e.file, params: parseParams(e.after?.params), stopped: false })
        break
      case "strategy.stop":
        roster.set(id, { ...current, stopped: true })
        break
      case "strategy.start":
      case "strategy.restart":
        roster.set(id, { ...current, stopped: false })
        break
      case "strategy.reconfigure": {
        const params = parseParams(e.after?.params)
        if (params !== undefined) roster.set(id, { ...current, params })
        break
      }
      default:
        break
    }
  }
  return roster
}

/** Every operator action in the journal's `control` topic, in order (undecodable records are counted). */
export const readOperatorActions = (journal: JournalService): Effect.Effect<{ readonly actions: ReadonlyArray<OperatorAction>; readonly undecodable: number }, unknown> =>
  Effect.gen(function* () {
    const actions: OperatorAction[] = []
    let undecodable = 0
    const ends = yield* journal.endOffsets()
    for (const end of ends) {
      if (end.topic !== "control" || BigInt(end.offset) === 0n) continue
      yield* Stream.runForEach(journal.read({ topic: end.topic, partition: end.partition, offset: "0" }), (record) =>
        Effect.sync(() => {
          const decoded = decodeEvent(record.payload)
          if (Either.isLeft(decoded)) undecodable++
          else if (decoded.right._tag === "OperatorAction") actions.push(decoded.right)
        })
      )
    }
    return { actions, undecodable }
  })

export interface ConfiguredStrategy {
  readonly id: string
  readonly kind: string
  readonly params: unknown
  readonly restart?: RestartType
  readonly enabled: boolean
}

export interface StartStrategiesDeps {
  readonly host: StrategyHost
  readonly catalog: StrategyCatalog
  readonly journal: JournalService
  readonly log: (message: string) => void
}

/**
 * Starts the configured strategies and those the operator added at run time, as the journal
 * left them (stopped ones registered, not started). Nothing here is journaled again: it is the
 * state the journaled commands already describe.
 */
export const startStrategies = (deps: StartStrategiesDeps, configured: ReadonlyArray<ConfiguredStrategy>): Effect.Effect<{ readonly started: number; readonly stopped: number; readonly fromJournal: number }> =>
  Effect.gen(function* () {
    const read = yield* readOperatorActions(deps.journal).pipe(Effect.either)
    if (Either.isLeft(read)) deps.log(`strategy commands could not be read from the journal (${String(read.left)}): starting the configured strategies only`)
    else if (read.right.undecodable > 0) deps.log(`strategy roster: ${read.right.undecodable} control records did not decode and were skipped`)
    const roster = Either.isRight(read) ? foldStrategyCommands(read.right.actions) : new Map<string, RosterEntry>()
    let started = 0
    let stopped = 0
    let fromJournal = 0
    const add = (id: string, kind: string, params: unknown, restart: RestartType | undefined, stop: boolean) =>
      Effect.gen(function* () {
        const definition = yield* deps.catalog.load(kind).pipe(Effect.either)
        if (Either.isLeft(definition)) {
          deps.log(`strategy ${id} not started: ${definition.left.message}`)
          return
        }
        const added = yield* deps.host.add({ definition: definition.right, params, id, start: !stop, ...(restart === undefined ? {} : { restart }) }).pipe(Effect.either)
        if (Either.isLeft(added)) deps.log(`strategy ${id} not started: ${added.left.message || added.left._tag}`)
        else if (stop) stopped++
        else started++
      })
    const configuredIds = new Set<string>()
    for (const s of configured) {
      configuredIds.add(s.id)
      const r = roster.get(s.id)
      if (!s.enabled) continue
      yield* add(s.id, s.kind, r?.params ?? s.params, s.restart, r?.stopped ?? false)
    }
    for (const r of roster.values()) {
      if (configuredIds.has(r.id) || r.file === undefined) continue
      fromJournal++
      yield* add(r.id, r.file, r.params ?? {}, undefined, r.stopped)
    }
    return { started, stopped, fromJournal }
  })
