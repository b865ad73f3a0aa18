import { existsSync, readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { Effect, Either, Stream } from "effect"
import { journalOffset } from "../actors/ports/journal.js"
import type { ClockService } from "../actors/clock.js"
import type { Decision } from "../actors/strategy/ports.js"
import { eventOfInput, viewOfInput, type StrategyInputRecord } from "../actors/strategy/strategy-inputs.js"
import { StrategyRuntime } from "../actors/strategy/strategy-runtime.js"
import { openFileJournal } from "../adapters/journal/file/file-journal.js"
import { PARITY_DIR } from "../daemon/parity-recorder.js"
import { decodeEvent, encodeEventObject } from "../domain/codec.js"
import type { OrderIntent } from "../domain/events/intents.js"
import type { Trade } from "../domain/events/market.js"
import type { OrderEvent } from "../domain/events/orders.js"
import type { AccountId, InstrumentId, StrategyId } from "../domain/ids.js"
import { makeInstrument, type Instrument } from "../domain/instrument.js"
import { decodeParams, type AnyStrategyDefinition } from "../strategies/ports.js"

/**
 * Parity: does a live run's decision sequence come back when its strategies are re-run on what
 * they received? The daemon records each strategy's inputs (`journal.recordMarketData`,
 * daemon/parity-recorder.ts); this re-runs the same `StrategyRuntime` — the daemon's own, with
 * its open-order book, positions, id sequence and timers — on those inputs in recorded order, on a
 * clock that shows each input's recorded time, and compares the intents each input produced with
 * the intents the live run journaled for it (`orders` topic, matched by the envelope ids the
 * recording lists per input). See docs/architecture.md "Parity" for what parity means when timing
 * differs: decisions are compared per strategy, input by input, never by wall time.
 *
 * Risk's answers and the venue's come from the recording (denials and order events are inputs),
 * not from a re-run of risk and a venue: a re-run would answer differently wherever timing did
 * (rate budget windows, queue positions), and parity is about the strategy's decisions.
 */

export interface ParityOptions {
  /** A journal directory (file journal) holding `parity/`, or a TROUPE_HOME holding `journal/`. */
  readonly dir: string
  readonly loadDefinition: (id: string) => Promise<AnyStrategyDefinition>
  /** Params changed over the recorded ones (shallow merge), for one strategy or, without `strategy`, every one. */
  readonly override?: { readonly strategy?: string; readonly params: Readonly<Record<string, unknown>> }
}

/** An intent as compared: every field but the envelope's (id, time, source). */
export type IntentText = Readonly<Record<string, unknown>>

export interface ParityDivergence {
  readonly run: number
  readonly strategy: string
  /** 1-based line of the recording (run file) and the input on it. */
  readonly line: number
  readonly input: string
  readonly t: number
  /** Which intent of the input differed (0-based). */
  readonly position: number
  readonly expected: IntentText | null
  readonly got: IntentText | null
  readonly why: string
}

export interface ParityResult {
  readonly dir: string
  readonly runs: ReadonlyArray<number>
  readonly strategies: ReadonlyArray<string>
  readonly inputs: number
  /** Intents compared equal. */
  readonly matched: number
  /** Strategies whose decisions diverged (each stops at its first divergence). */
  readonly divergences: number
  readonly first: ParityDivergence | undefined
  /** Intents the live run journaled for the recorded strategies that no recorded input produced. */
  readonly unattributed: number
  /** The first few of them (envelope ids). */
  readonly unattributedIds: ReadonlyArray<string>
}

export class ParityInputError extends Error {
  override readonly name = "ParityInputError"
}

const resolveDirs = (dir: string): { journalDir: string; parityDir: string } => {
  for (const journalDir of [dir, join(dir, "journal")]) {
    const parityDir = join(journalDir, PARITY_DIR)
    if (existsSync(parityDir)) return { journalDir, parityDir }
  }
  throw new ParityInputError(`${dir} holds no parity recording (${PARITY_DIR}/): run the daemon with journal.recordMarketData: true`)
}

const INTENT_TAGS = new Set(["SubmitOrder", "ModifyOrder", "CancelOrder", "CancelAll"])

/** The journal's strategy intents by envelope id. */
const journaledIntents = (journalDir: string): Promise<Map<string, OrderIntent>> =>
  Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const journal = yield* Effect.acquireRelease(openFileJournal({ dir: journalDir, fsync: { kind: "never" } }), (j) => j.close())
        const out = new Map<string, OrderIntent>()
        yield* journal.read(journalOffset("orders", 0, 0)).pipe(
          Stream.runForEach((record) =>
            Effect.sync(() => {
              const decoded = decodeEvent(record.payload)
              if (Either.isLeft(decoded) || !INTENT_TAGS.has(decoded.right._tag)) return
              const intent = decoded.right as OrderIntent
              if (intent._tag === "CancelAll" && intent.strategy === undefined) return
              out.set(intent.id, intent)
            })
          )
        )
        return out
      })
    )
  )

export const intentText = (intent: OrderIntent): IntentText => {
  const { id: _id, ts: _ts, source: _source, ...rest } = encodeEventObject(intent) as unknown as Record<string, unknown>
  return rest
}

const sameIntent = (a: IntentText, b: IntentText): boolean => JSON.stringify(a) === JSON.stringify(b)

const describe = (r: StrategyInputRecord): string => {
  switch (r.k) {
    case "book":
      return `book ${r.i} bid ${r.b === null ? "-" : `${r.b[1]}@${r.b[0]}`} ask ${r.a === null ? "-" : `${r.a[1]}@${r.a[0]}`}`
    case "order": {
      const e = r.e as { _tag?: string; clientOrderId?: string }
      return `order event ${e._tag ?? "?"} ${e.clientOrderId ?? ""}`.trim()
    }
    case "trade":
      return "trade"
    case "denied":
      return `denied ${r.d.intent} ${r.d.clientOrderId ?? ""} (${r.d.reason})`
    case "timer":
      return `timer #${r.n}`
    case "flags":
      return `lifecycle active=${r.active} reduceOnly=${r.reduceOnly}`
    case "strategy":
      return `strategy ${r.def} added`
    default:
      return r.k
  }
}

interface Replaying {
  readonly rt: StrategyRuntime
  readonly clock: { t: number }
  readonly sent: OrderIntent[]
  diverged: boolean
}

const parseRecords = (file: string): StrategyInputRecord[] => {
  const lines = readFileSync(file, "utf8").split("\n")
  const out: StrategyInputRecord[] = []
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    if (line === "") continue
    try {
      out.push(JSON.parse(line) as StrategyInputRecord)
    } catch {
      // A run cut by a crash may end in half a line; anything else is a broken recording.
      if (i < lines.length - 1) throw new ParityInputError(`${file}:${i + 1}: not a JSON line`)
    }
  }
  return out
}

export const runParity = async (options: ParityOptions): Promise<ParityResult> => {
  const { journalDir, parityDir } = resolveDirs(options.dir)
  const files = readdirSync(parityDir)
    .map((name) => /^run-(\d+)\.jsonl$/.exec(name))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ run: Number(m[1]), file: join(parityDir, m[0]) }))
    .sort((a, b) => a.run - b.run)
  if (files.length === 0) throw new ParityInputError(`${parityDir} holds no recorded run`)
  const live = await journaledIntents(journalDir)
  const definitions = new Map<string, AnyStrategyDefinition>()
  const strategies = new Set<string>()
  const attributed = new Set<string>()
  let inputs = 0
  let matched = 0
  let divergences = 0
  let first: ParityDivergence | undefined

  for (const { run, file } of files) {
    const replaying = new Map<string, Replaying>()
    const records = parseRecords(file)
    for (let index = 0; index < records.length; index++) {
      const r = records[index]!
      inputs++
      for (const id of r.o) attributed.add(id)
      const diverge = (position: number, expected: IntentText | null, got: IntentText | null, why: string): void => {
        const state = replaying.get(r.s)
        if (state !== undefined) state.diverged = true
        divergences++
        first ??= { run, strategy: r.s, line: index + 1, input: describe(r), t: r.t, position, expected, got, why }
      }
      if (r.k === "strategy") {
        strategies.add(r.s)
        let definition = definitions.get(r.def)
        if (definition === undefined) {
          definition = await options.loadDefinition(r.def)
          definitions.set(r.def, definition)
        }
        const override = options.override !== undefined && (options.override.strategy === undefined || options.override.strategy === r.s) ? options.override.params : undefined
        const raw = override === undefined ? r.p : { ...(r.p as Record<string, unknown>), ...override }
        const params = decodeParams(r.s, definition.params, raw)
        if (Either.isLeft(params)) throw new ParityInputError(params.left.message)
        const instruments = new Map<InstrumentId, Instrument>()
        for (const text of r.ins) {
          const made = makeInstrument(text)
          if (Either.isLeft(made)) throw new ParityInputError(`${file}:${index + 1}: instrument ${text.id}: ${made.left.message}`)
          instruments.set(made.right.id, made.right)
        }
        const clock = { t: r.t }
        const sent: OrderIntent[] = []
        const approved: Promise<Decision> = Promise.resolve({ _tag: "Approved" })
        const clockService: ClockService = { now: () => clock.t, setTimer: () => () => undefined, sleep: () => Effect.void }
        const rt = new StrategyRuntime(
          r.s as StrategyId,
          definition,
          params.right,
          instruments,
          {
            account: r.account as AccountId,
            run: r.run,
            clock: clockService,
            gateway: {
              submit: (intent) => {
                sent.push(intent)
                return approved
              }
            },
            feed: { subscribeBook: () => () => undefined },
            records: () => undefined,
            log: () => undefined
          },
          r.account as AccountId
        )
        replaying.set(r.s, { rt, clock, sent, diverged: false })
        continue
      }
      const state = replaying.get(r.s)
      if (state === undefined) throw new ParityInputError(`${file}:${index + 1}: an input of ${r.s} before the strategy was recorded`)
      if (state.diverged) continue
      const { rt } = state
      state.clock.t = r.t
      state.sent.length = 0
      let unarmed: number | undefined
      switch (r.k) {
        case "begin":
          rt.begin(() => undefined)
          break
        case "start":
          rt.start()
          break
        case "end":
          rt.end()
          break
        case "book":
          rt.onBook(viewOfInput(r))
          break
        case "trade":
          rt.onTrade(eventOfInput(r) as Trade)
          break
        case "order":
          rt.onOrderEvent(eventOfInput(r) as OrderEvent)
          break
        case "denied":
          rt.denied(r.d)
          break
        case "timer":
          if (!rt.fireTimer(r.n)) unarmed = r.n
          break
        case "params": {
          const params = decodeParams(r.s, rt.definition.params, r.p)
          if (Either.isLeft(params)) throw new ParityInputError(`${file}:${index + 1}: ${params.left.message}`)
          rt.applyParams(params.right)
          break
        }
        case "stop":
          rt.runOnStop()
          break
        case "cancelAll":
          rt.cancelAll()
          break
        case "flatten":
          rt.flatten()
          break
        case "flags":
          rt.setFlags(r.active, r.reduceOnly)
          break
      }
      if (unarmed !== undefined) {
        diverge(0, null, null, `the live run fired timer #${unarmed}, which the replay did not arm (or canceled)`)
        continue
      }
      const got = state.sent.map(intentText)
      const expected = r.o.map((id) => live.get(id))
      for (let k = 0; k < Math.max(got.length, expected.length); k++) {
        const e = expected[k]
        const g = got[k]
        if (k < expected.length && e === undefined) {
          diverge(k, null, g ?? null, `the recording says the live run sent intent ${r.o[k]}, but the journal does not hold it`)
          break
        }
        const et = e === undefined ? null : intentText(e)
        const gt = g ?? null
        if (et === null || gt === null || !sameIntent(et, gt)) {
          diverge(k, et, gt, et === null ? "the replay sent an intent the live run did not" : gt === null ? "the live run sent an intent the replay did not" : "the intents differ")
          break
        }
        matched++
      }
    }
  }
  // The order manager turns a strategy's CancelAll into one CancelOrder per live order (`<id>/<k>`):
  // risk's and the order path's doing, from the live orders at that moment, not a decision of the strategy.
  const expandedCancelAll = (id: string): boolean => {
    const parent = id.slice(0, id.lastIndexOf("/"))
    return attributed.has(parent) && live.get(parent)?._tag === "CancelAll"
  }
  let unattributed = 0
  const unattributedIds: string[] = []
  for (const [id, intent] of live) {
    const strategy = "strategy" in intent ? intent.strategy : undefined
    if (strategy !== undefined && strategies.has(strategy) && files.some((f) => id.startsWith(`strategy/${strategy}/${f.run}/`)) && !attributed.has(id) && !expandedCancelAll(id)) {
      unattributed++
      if (unattributedIds.length < 10) unattributedIds.push(id)
    }
  }
  return { dir: options.dir, runs: files.map((f) => f.run), strategies: [...strategies], inputs, matched, divergences, first, unattributed, unattributedIds }
}
