import { writeFileSync } from "node:fs"
import { performance } from "node:perf_hooks"

/**
 * Per-hop timestamps on the order path, for finding where the time between a market data frame
 * and the order's request goes. Off by default: every stamp site is `if (hopTrace.on) ...`, one
 * read of a constant field. On with `TROUPE_HOP_TRACE=<file>` (the rows are written there as
 * JSON when the process exits) — the `tick_to_order` bench sets it and prints the table.
 *
 * What a row holds (monotonic `performance.now()` in ms, with sub-µs resolution), one per order
 * submitted by a strategy, in a preallocated ring of `ROWS` rows:
 * - `frameIn`: the market data frame the book last applied before the view (stamped when the
 *   socket emitted it), `bookApply`: that frame applied to the book, `view`: the view handed to
 *   the strategy — all three kept per instrument, copied into the row when the strategy submits;
 * - `intent`: the intent reached the trading node, `intentJournal`: the intent was handed to the
 *   journal (encoded, and under `os` written), `risk`: risk decided, `machine`: the order
 *   machine's send effect ran, `journal`: `OrderSubmitted` was handed to the journal (and, under
 *   `os`, written), `durable`: the write-ahead gate let the action through, `gateway`: the venue
 *   gateway built the request, `fetch`: the HTTP client was called, `written`: the request bytes
 *   were handed to the socket (`ClientRequest#end`).
 * The synchronous hops (intent → journal) stamp the row being submitted; the later ones find it
 * by client order id (a map, only while tracing).
 */
export const HOPS = ["frameIn", "bookApply", "view", "intent", "intentJournal", "risk", "machine", "journal", "durable", "gateway", "fetch", "written"] as const
export type Hop = (typeof HOPS)[number]
export const Hop = Object.fromEntries(HOPS.map((h, i) => [h, i])) as { readonly [K in Hop]: number }

const ROWS = 4096
const H = HOPS.length

interface InstrumentStamps {
  /** Frame-in stamps of frames queued to the instrument, in arrival order (a small FIFO). */
  readonly fifo: Float64Array
  head: number
  size: number
  frameIn: number
  bookApply: number
}

const FIFO = 1024

export class HopTrace {
  /** Read at every stamp site; false unless tracing was asked for. */
  readonly on: boolean
  private readonly rows: Float64Array
  private count = 0
  /** The row of the intent being handled synchronously, or -1. */
  private current = -1
  private readonly byOrder = new Map<string, number>()
  private readonly instruments = new Map<string, InstrumentStamps>()
  /** The stamp of the socket frame being dispatched right now (NaN outside one). */
  private frame = Number.NaN
  /** The last view handed to a strategy: its instrument's frame and apply stamps and when. */
  private viewFrameIn = Number.NaN
  private viewApply = Number.NaN
  private viewAt = Number.NaN

  constructor(on: boolean) {
    this.on = on
    this.rows = new Float64Array(on ? ROWS * H : 0)
  }

  now(): number {
    return performance.now()
  }

  /** A socket frame arrives (before it is routed): the stamp the instrument's queue will take. */
  frameArrived(): void {
    this.frame = performance.now()
  }

  /** The frame being dispatched now was queued to `instrument`. */
  queued(instrument: string): void {
    const s = this.stampsOf(instrument)
    if (s.size === FIFO) {
      s.head = (s.head + 1) % FIFO
      s.size--
    }
    s.fifo[(s.head + s.size) % FIFO] = this.frame
    s.size++
  }

  /** `instrument` took the next frame of its queue off (applied or not). */
  taken(instrument: string, applied: boolean): void {
    const s = this.stampsOf(instrument)
    if (s.size === 0) return
    const t = s.fifo[s.head] as number
    s.head = (s.head + 1) % FIFO
    s.size--
    if (!applied) return
    s.frameIn = t
    s.bookApply = performance.now()
  }

  /** A view of `instrument` reaches a strategy. */
  view(instrument: string): void {
    const s = this.stampsOf(instrument)
    this.viewFrameIn = s.frameIn
    this.viewApply = s.bookApply
    this.viewAt = performance.now()
  }

  /** An intent reaches the trading node: a new row (for submits), current until `done`. */
  intent(clientOrderId: string | undefined): void {
    if (clientOrderId === undefined) return
    const row = this.count % ROWS
    this.count++
    const base = row * H
    this.rows.fill(Number.NaN, base, base + H)
    this.rows[base + Hop.frameIn] = this.viewFrameIn
    this.rows[base + Hop.bookApply] = this.viewApply
    this.rows[base + Hop.view] = this.viewAt
    this.rows[base + Hop.intent] = performance.now()
    this.current = row
    if (this.byOrder.size > ROWS) this.byOrder.clear()
    this.byOrder.set(clientOrderId, row)
  }

  /** A synchronous hop of the intent being handled. */
  mark(hop: number): void {
    if (this.current < 0) return
    const i = this.current * H + hop
    if (Number.isNaN(this.rows[i] as number)) this.rows[i] = performance.now()
  }

  /** The intent's synchronous part is over. */
  done(): void {
    this.current = -1
  }

  /** A later hop of the order `clientOrderId` (the first stamp of each hop counts). */
  markOrder(clientOrderId: string, hop: number): void {
    const row = this.byOrder.get(clientOrderId)
    if (row === undefined) return
    const i = row * H + hop
    if (Number.isNaN(this.rows[i] as number)) this.rows[i] = performance.now()
    if (hop === Hop.written) this.byOrder.delete(clientOrderId)
  }

  /** A request to `url`: its `cliOrdId` parameter names the order (only read while tracing). */
  markRequest(url: URL, hop: number): void {
    const cid = url.searchParams.get("cliOrdId")
    if (cid !== null) this.markOrder(cid, hop)
  }

  /** Rows oldest first, each hop in epoch ms (`performance.timeOrigin` + the stamp) or null. */
  dump(): { readonly hops: ReadonlyArray<string>; readonly rows: ReadonlyArray<ReadonlyArray<number | null>> } {
    const n = Math.min(this.count, ROWS)
    const first = this.count - n
    const out: Array<Array<number | null>> = []
    for (let k = 0; k < n; k++) {
      const base = ((first + k) % ROWS) * H
      const row: Array<number | null> = []
      for (let h = 0; h < H; h++) {
        const v = this.rows[base + h] as number
        row.push(Number.isNaN(v) ? null : performance.timeOrigin + v)
      }
      out.push(row)
    }
    return { hops: HOPS, rows: out }
  }

  private stampsOf(instrument: string): InstrumentStamps {
    let s = this.instruments.get(instrument)
    if (s === undefined) {
      s = { fifo: new Float64Array(FIFO), head: 0, size: 0, frameIn: Number.NaN, bookApply: Number.NaN }
      this.instruments.set(instrument, s)
    }
    return s
  }
}

const out = process.env["TROUPE_HOP_TRACE"]

/** The process's trace: on only when `TROUPE_HOP_TRACE` names a file. */
export const hopTrace = new HopTrace(out !== undefined && out !== "")

if (hopTrace.on && out !== undefined) {
  process.on("exit", () => {
    try {
      writeFileSync(out, JSON.stringify(hopTrace.dump()))
    } catch {
      // tracing must never change how the process ends
    }
  })
}
