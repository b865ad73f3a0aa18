import { makeSimulatedClock } from "../src/actors/clock.js"
import { MatchingEngine, type EditCommand, type OrderRef, type SendCommand } from "../src/adapters/venues/simulator/matching-engine.js"
import { replayInstruments } from "../src/replay/instruments.js"
import { parseRecording } from "../src/replay/market-input.js"
import { RecordedLiquidity, REPLAY_MAKER_ACCOUNT, REPLAY_TAKER_ACCOUNT } from "../src/replay/recorded-liquidity.js"
import { ReplayExchange } from "../src/replay/replay-exchange.js"
import { DecimalMatchingEngine } from "../test/adapters/simulator/oracle/decimal-matching-engine.js"
import { syntheticRecording } from "../test/replay/fixtures/synthetic-recording.js"
import { rateFigure, type Bench, type Figure } from "./harness.js"

/**
 * engine.integer: engine commands per wall second on the integer matching engine, beside the
 * Decimal engine it replaced (kept as the test oracle) on the same commands, same run.
 *
 * The commands are those the replay's recorded liquidity sends for the seeded synthetic market
 * (post-only level orders, their edits and cancels, recorded trades as IOCs), captured once and
 * then run on a fresh engine of each kind, alternating, best of five. Both engines draw the same
 * ids, so edits and cancels by order id act on the same orders; the final books are compared.
 * Left out: everything around the engine (feeds, frames, actors) — replay.full measures that.
 */
const MESSAGES = Number(process.env["ENGINE_BENCH_MESSAGES"] ?? 20_000)

type Command =
  | { readonly op: "send"; readonly cmd: SendCommand; readonly now: number }
  | { readonly op: "edit"; readonly cmd: EditCommand; readonly now: number }
  | { readonly op: "cancel"; readonly cmd: OrderRef; readonly now: number }

const capture = (): { commands: Command[]; instruments: ReturnType<typeof replayInstruments>["sim"] } => {
  const input = parseRecording(syntheticRecording({ seed: 11, messages: MESSAGES }), "synthetic-11")
  const clock = makeSimulatedClock(input.messages[0]?.ts ?? 0)
  const { sim } = replayInstruments(input)
  const exchange = new ReplayExchange(sim, 1, clock)
  const engine = exchange.engine
  const commands: Command[] = []
  const send = engine.send.bind(engine)
  const edit = engine.edit.bind(engine)
  const cancel = engine.cancel.bind(engine)
  engine.send = (cmd, now) => (commands.push({ op: "send", cmd, now }), send(cmd, now))
  engine.edit = (cmd, now) => (commands.push({ op: "edit", cmd, now }), edit(cmd, now))
  engine.cancel = (cmd, now, reason) => (commands.push({ op: "cancel", cmd, now }), cancel(cmd, now, reason))
  const liquidity = new RecordedLiquidity(exchange)
  exchange.routeTo((effects) => {
    for (const e of effects) if ((e.kind === "fill" || e.kind === "order") && e.account === REPLAY_MAKER_ACCOUNT) liquidity.onEffect(e)
  })
  for (const m of input.messages) {
    if (m.ts > clock.now()) clock.setTime(m.ts)
    liquidity.apply(m)
  }
  return { commands, instruments: sim }
}

const runOn = (engine: MatchingEngine | DecimalMatchingEngine, commands: ReadonlyArray<Command>): { rate: number; depth: string } => {
  for (const account of [REPLAY_MAKER_ACCOUNT, REPLAY_TAKER_ACCOUNT]) engine.skipBooking(account)
  const start = performance.now()
  for (const c of commands) {
    if (c.op === "send") engine.send(c.cmd, c.now)
    else if (c.op === "edit") engine.edit(c.cmd, c.now)
    else engine.cancel(c.cmd, c.now)
  }
  const ms = performance.now() - start
  const depth = JSON.stringify(engine.instruments().map((i) => engine.depth(i.symbol)))
  return { rate: (commands.length / ms) * 1000, depth }
}

const run = async (): Promise<ReadonlyArray<Figure>> => {
  const { commands, instruments } = capture()
  const fresh = () => ({ integer: new MatchingEngine({ instruments, seed: 1 }), decimal: new DecimalMatchingEngine({ instruments, seed: 1 }) })
  let integer = 0
  let decimal = 0
  for (let round = 0; round < 6; round++) {
    const { integer: i, decimal: d } = fresh()
    const a = runOn(i, commands)
    const b = runOn(d, commands)
    if (a.depth !== b.depth) throw new Error("engine bench: the integer and Decimal engines ended with different books")
    // Round 0 is the warm-up (JIT) of both.
    if (round === 0) continue
    integer = Math.max(integer, a.rate)
    decimal = Math.max(decimal, b.rate)
  }
  return [rateFigure("engine.integer", integer, "engine.decimal_oracle", decimal, { commands: commands.length, unit_of_work: "engine command (send/edit/cancel)" })]
}

export const benches: ReadonlyArray<Bench> = [{ name: "engine.integer", run }]
