/**
 * A small seeded PRNG (mulberry32) so every id, price step and participant decision of the
 * simulator is reproducible from one seed. Not for cryptography.
 */
export interface Random {
  /** Uniform in [0, 1). */
  readonly next: () => number
  /** Uniform integer in [min, max] (both inclusive). */
  readonly int: (min: number, max: number) => number
  /** An RFC 4122 v4-shaped id, as Kraken uses for order and fill ids. */
  readonly uuid: () => string
}

export const seededRandom = (seed: number): Random => {
  let state = seed >>> 0
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (min: number, max: number): number => min + Math.floor(next() * (max - min + 1))
  const hex = (n: number): string => {
    let s = ""
    for (let i = 0; i < n; i++) s += int(0, 15).toString(16)
    return s
  }
  const uuid = (): string => `${hex(8)}-${hex(4)}-4${hex(3)}-${(8 + int(0, 3)).toString(16)}${hex(3)}-${hex(12)}`
  return { next, int, uuid }
}
