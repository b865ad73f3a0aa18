/**
 * Event ids that are unique forever, not only within one process: every id carries the run
 * number (kept in `$TROUPE_HOME/run`, never below the journal's highest run + 1, see
 * `daemon.ts`), so a per-process sequence that starts again at 1 after a restart cannot repeat
 * an id of an earlier run. Format: `<source>-r<run>-<seq>`.
 *
 * `run` is read at each call: the daemon learns its final run number only after recovery (the
 * journal may know a higher run than the home directory), and components made before that
 * read the corrected number from then on. Components built without a run (unit tests, replay)
 * use run 0.
 */
export type RunNumber = () => number

export const noRun: RunNumber = () => 0

export const eventId = (source: string, run: number, seq: number): string => `${source}-r${run}-${seq}`

/**
 * The last sequence number per source, kept outside the components that make ids: a trading core
 * rebuilt within one run (a supervised restart) continues its sources' sequences instead of
 * starting again at 1 and repeating ids of the core it replaces.
 */
export class IdSequences {
  private readonly last = new Map<string, number>()

  next(source: string): number {
    const n = (this.last.get(source) ?? 0) + 1
    this.last.set(source, n)
    return n
  }
}

/** A sequence of ids for one source (continuing `sequences`' when given). */
export const eventIds = (source: string, run: RunNumber = noRun, sequences?: IdSequences): (() => string) => {
  if (sequences !== undefined) return () => eventId(source, run(), sequences.next(source))
  let seq = 0
  return () => eventId(source, run(), ++seq)
}
