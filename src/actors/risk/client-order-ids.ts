/**
 * The client order ids an account has used, in bounded memory, for the risk actor's duplicate
 * check. A duplicate is always caught; what is bounded is how much is remembered to catch it.
 *
 * Rule. Our ids are `<strategy>-<run>-<sequence>` (domain `makeClientOrderId`): a strategy's
 * sequence only goes up within a run, and a restart takes a run number higher than any the
 * journal holds. So per (strategy, run) the actor keeps a high-water mark of the sequence and
 * the exact set of the last `window` sequences below it; a sequence at or below
 * `mark - window` counts as used without being looked up (a strategy never goes back that far:
 * it is refused, which can only cost an order, never let a duplicate through). Per strategy only
 * the newest `runsPerStrategy` runs are kept; an id of an older run also counts as used (its run
 * ended before a newer one started). Memory: strategies × runsPerStrategy × window sequences.
 *
 * Ids of any other form (tests, foreign tools) are remembered exactly, the newest `otherIds` of
 * them; an older one is no longer recognised here — the venue refuses a client order id that is
 * still open (`clientOrderIdAlreadyExist`), and the journal holds every id ever sent.
 */
export interface ClientOrderIdLimits {
  /** Sequences remembered exactly below each run's high-water mark. */
  readonly window: number
  readonly runsPerStrategy: number
  readonly otherIds: number
}

export const CLIENT_ORDER_ID_LIMITS: ClientOrderIdLimits = { window: 4096, runsPerStrategy: 4, otherIds: 100_000 }

interface RunIds {
  readonly run: number
  mark: number
  readonly recent: Set<number>
}

const SEQ = /^[0-9a-z]{1,10}$/

/** `<strategy>-<run>-<seq>` split from the end (strategy ids may contain '-'); undefined for other forms. */
const parse = (cid: string): { strategy: string; run: number; seq: number } | undefined => {
  const b = cid.lastIndexOf("-")
  if (b <= 0) return undefined
  const a = cid.lastIndexOf("-", b - 1)
  if (a <= 0) return undefined
  const runText = cid.slice(a + 1, b)
  const seqText = cid.slice(b + 1)
  if (!SEQ.test(runText) || !SEQ.test(seqText)) return undefined
  const run = Number.parseInt(runText, 36)
  const seq = Number.parseInt(seqText, 36)
  if (!Number.isSafeInteger(run) || !Number.isSafeInteger(seq)) return undefined
  // Only the canonical spelling: "x-01-2" is not what makeClientOrderId would make for run 1.
  if (run.toString(36) !== runText || seq.toString(36) !== seqText) return undefined
  return { strategy: cid.slice(0, a), run, seq }
}

export class ClientOrderIds {
  /** Per strategy, its newest runs, oldest first. */
  private readonly runs = new Map<string, RunIds[]>()
  private readonly other = new Set<string>()

  constructor(private readonly limits: ClientOrderIdLimits = CLIENT_ORDER_ID_LIMITS) {}

  /** True when the id was used before (or is too old to tell apart from one that was). */
  has(cid: string): boolean {
    const p = parse(cid)
    if (p === undefined) return this.other.has(cid)
    const runs = this.runs.get(p.strategy)
    if (runs === undefined) return false
    const r = runs.find((x) => x.run === p.run)
    if (r === undefined) return runs.length >= this.limits.runsPerStrategy && p.run < (runs[0] as RunIds).run
    if (p.seq > r.mark) return false
    return p.seq <= r.mark - this.limits.window || r.recent.has(p.seq)
  }

  add(cid: string): void {
    const p = parse(cid)
    if (p === undefined) {
      this.other.add(cid)
      if (this.other.size > this.limits.otherIds) this.other.delete(this.other.values().next().value as string)
      return
    }
    let runs = this.runs.get(p.strategy)
    if (runs === undefined) {
      runs = []
      this.runs.set(p.strategy, runs)
    }
    let r = runs.find((x) => x.run === p.run)
    if (r === undefined) {
      // An id older than every run kept is already counted as used: nothing to remember.
      if (runs.length >= this.limits.runsPerStrategy && p.run < (runs[0] as RunIds).run) return
      r = { run: p.run, mark: -1, recent: new Set() }
      runs.push(r)
      runs.sort((x, y) => x.run - y.run)
      if (runs.length > this.limits.runsPerStrategy) runs.shift()
    }
    if (p.seq <= r.mark - this.limits.window) return
    r.recent.add(p.seq)
    if (p.seq > r.mark) r.mark = p.seq
    // Amortised pruning: once the set holds twice the window, drop what fell below it.
    if (r.recent.size > 2 * this.limits.window) {
      const floor = r.mark - this.limits.window
      for (const s of r.recent) if (s <= floor) r.recent.delete(s)
    }
  }

  /** How many entries are held (for the soak bench and tests: it must not grow with orders). */
  get size(): number {
    let n = this.other.size
    for (const runs of this.runs.values()) for (const r of runs) n += r.recent.size
    return n
  }
}
