import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from "node:fs"
import { open, rename } from "node:fs/promises"
import { dirname } from "node:path"
import { Decimal } from "../../../domain/decimal.js"
import type { EngineSnapshot } from "./matching-engine.js"
import type { FillView, OrderView, PositionView } from "./engine-types.js"

/**
 * The embedded simulator's state file: what a client of its accounts can observe (open orders,
 * positions, retained fills) and the id generator's state, so a restarted simulator serves the
 * same venue. Decimals are strings. `clean` is false while the simulator runs: a file left by a
 * crash makes the restored generator skip ahead, so ids drawn after the last save never repeat.
 */
export const STATE_VERSION = 1

export interface SimulatorState {
  readonly clean: boolean
  readonly snapshot: EngineSnapshot
}

/** Draws skipped after an unclean stop: far more than the engine draws between two saves. */
export const CRASH_SKIP_DRAWS = 1 << 24
const MULBERRY_STEP = 0x6d2b79f5

export const skipAhead = (rngState: number, draws: number): number => (rngState + Math.imul(MULBERRY_STEP, draws)) >>> 0

export class StateFileError extends Error {
  override readonly name = "StateFileError"
}

const str = (d: Decimal): string => d.toFixed()
const opt = (d: Decimal | undefined): string | null => (d === undefined ? null : d.toFixed())

export const encodeState = (state: SimulatorState): string => {
  const s = state.snapshot
  return JSON.stringify({
    version: STATE_VERSION,
    clean: state.clean,
    rngState: s.rngState,
    orders: s.orders.map((o) => ({ ...o, cliOrdId: o.cliOrdId ?? null, size: str(o.size), filled: str(o.filled), limitPrice: opt(o.limitPrice), stopPrice: opt(o.stopPrice) })),
    positions: s.positions.map((p) => ({ ...p, balance: str(p.balance), entryPrice: str(p.entryPrice), realizedPnl: str(p.realizedPnl), feesPaid: str(p.feesPaid) })),
    fills: s.fills.map((f) => ({
      account: f.account, seq: f.seq,
      fills: f.fills.map((x) => ({ ...x, cliOrdId: x.cliOrdId ?? null, price: str(x.price), qty: str(x.qty), fee: str(x.fee), remainingOrderQty: str(x.remainingOrderQty) }))
    }))
  })
}

type Obj = Record<string, unknown>
const fail = (what: string): never => {
  throw new StateFileError(what)
}
const obj = (u: unknown, what: string): Obj => (typeof u === "object" && u !== null && !Array.isArray(u) ? (u as Obj) : fail(`${what} is not an object`))
const arr = (u: unknown, what: string): unknown[] => (Array.isArray(u) ? u : fail(`${what} is not an array`))
const text = (o: Obj, k: string): string => (typeof o[k] === "string" ? (o[k] as string) : fail(`${k} is not a string`))
const num = (o: Obj, k: string): number => (typeof o[k] === "number" && Number.isFinite(o[k]) ? (o[k] as number) : fail(`${k} is not a number`))
const bool = (o: Obj, k: string): boolean => (typeof o[k] === "boolean" ? (o[k] as boolean) : fail(`${k} is not a boolean`))
const decimal = (o: Obj, k: string): Decimal => {
  const v = text(o, k)
  try {
    const d = new Decimal(v)
    return d.isFinite() ? d : fail(`${k} is not a finite decimal`)
  } catch {
    return fail(`${k} is not a decimal: ${JSON.stringify(v.slice(0, 40))}`)
  }
}
const optDecimal = (o: Obj, k: string): Decimal | undefined => (o[k] === null || o[k] === undefined ? undefined : decimal(o, k))
const optText = (o: Obj, k: string): string | undefined => (o[k] === null || o[k] === undefined ? undefined : text(o, k))
const oneOf = <T extends string>(o: Obj, k: string, values: ReadonlyArray<T>): T => {
  const v = text(o, k)
  return (values as ReadonlyArray<string>).includes(v) ? (v as T) : fail(`${k} is not one of ${values.join(", ")}`)
}

const order = (u: unknown): OrderView => {
  const o = obj(u, "order")
  return {
    orderId: text(o, "orderId"), account: text(o, "account"), cliOrdId: optText(o, "cliOrdId"), symbol: text(o, "symbol"),
    side: oneOf(o, "side", ["buy", "sell"]), type: oneOf(o, "type", ["lmt", "post", "ioc", "mkt", "fok", "stp", "take_profit"]),
    size: decimal(o, "size"), filled: decimal(o, "filled"), limitPrice: optDecimal(o, "limitPrice"), stopPrice: optDecimal(o, "stopPrice"),
    reduceOnly: bool(o, "reduceOnly"), receivedTime: num(o, "receivedTime"), lastUpdateTime: num(o, "lastUpdateTime"),
    state: oneOf(o, "state", ["untriggered", "open", "filled", "cancelled"]), triggered: bool(o, "triggered")
  }
}

const position = (u: unknown): PositionView => {
  const p = obj(u, "position")
  return {
    account: text(p, "account"), symbol: text(p, "symbol"), balance: decimal(p, "balance"), entryPrice: decimal(p, "entryPrice"),
    realizedPnl: decimal(p, "realizedPnl"), feesPaid: decimal(p, "feesPaid"), lastFillTime: num(p, "lastFillTime")
  }
}

const fill = (u: unknown): FillView => {
  const f = obj(u, "fill")
  return {
    fillId: text(f, "fillId"), orderId: text(f, "orderId"), cliOrdId: optText(f, "cliOrdId"), account: text(f, "account"), symbol: text(f, "symbol"),
    side: oneOf(f, "side", ["buy", "sell"]), price: decimal(f, "price"), qty: decimal(f, "qty"), liquidity: oneOf(f, "liquidity", ["maker", "taker"]),
    fee: decimal(f, "fee"), feeCurrency: text(f, "feeCurrency"), time: num(f, "time"), seq: num(f, "seq"),
    orderType: oneOf(f, "orderType", ["lmt", "post", "ioc", "mkt", "fok", "stp", "take_profit"]), remainingOrderQty: decimal(f, "remainingOrderQty")
  }
}

/** Parses and validates a state file's text; throws StateFileError on anything malformed. */
export const decodeState = (content: string): SimulatorState => {
  let parsed: unknown
  try {
    parsed = JSON.parse(content)
  } catch (e) {
    return fail(`not JSON (${e instanceof Error ? e.message : String(e)})`)
  }
  const root = obj(parsed, "state")
  if (root.version !== STATE_VERSION) fail(`unknown version ${JSON.stringify(root.version)}`)
  return {
    clean: bool(root, "clean"),
    snapshot: {
      rngState: num(root, "rngState") >>> 0,
      orders: arr(root.orders, "orders").map(order),
      positions: arr(root.positions, "positions").map(position),
      fills: arr(root.fills, "fills").map((u) => {
        const f = obj(u, "fills entry")
        return { account: text(f, "account"), seq: num(f, "seq"), fills: arr(f.fills, "fills").map(fill) }
      })
    }
  }
}

/** Reads the state file: undefined if there is none; throws StateFileError if it is unreadable or malformed. */
export const readStateFile = (file: string): SimulatorState | undefined => {
  let content: string
  try {
    content = readFileSync(file, "utf8")
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined
    return fail(`cannot read: ${e instanceof Error ? e.message : String(e)}`)
  }
  return decodeState(content)
}

const fsyncDir = (dir: string): void => {
  try {
    const fd = openSync(dir, "r")
    try {
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
  } catch {
    // Not every platform lets a directory be opened for fsync; the rename is still atomic.
  }
}

/** Crash-safe write (temp file, fsync, rename) on the caller's thread: for stop. */
export const writeStateFileSync = (file: string, content: string): void => {
  mkdirSync(dirname(file), { recursive: true })
  const tmp = `${file}.tmp`
  const fd = openSync(tmp, "w", 0o600)
  try {
    writeSync(fd, content)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  renameSync(tmp, file)
  fsyncDir(dirname(file))
}

/** The same write without blocking the event loop: for the periodic saves. */
export const writeStateFile = async (file: string, content: string): Promise<void> => {
  mkdirSync(dirname(file), { recursive: true })
  const tmp = `${file}.tmp`
  const handle = await open(tmp, "w", 0o600)
  try {
    await handle.writeFile(content)
    await handle.sync()
  } finally {
    await handle.close()
  }
  await rename(tmp, file)
  fsyncDir(dirname(file))
}
