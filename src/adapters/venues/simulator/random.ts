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
  /** The generator's internal state: `seededRandom(state())` continues the same sequence. */
  readonly state: () => number
}

const HEX = "0123456789abcdef"

export const seededRandom = (seed: number): Random => {
  let state = seed >>> 0
  const nextU32 = (): number => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return (t ^ (t >>> 14)) >>> 0
  }
  const next = (): number => nextU32() / 4294967296
  const int = (min: number, max: number): number => min + Math.floor(next() * (max - min + 1))
  // One PRNG draw per hex digit, as `int(0, 15)` would take it (its top four bits): ids are
  // part of a replay's output, so the sequence must not change with the implementation.
  const hex = (n: number): string => {
    let s = ""
    for (let i = 0; i < n; i++) s += HEX[nextU32() >>> 28] as string
    return s
  }
  const uuid = (): string => {
    const a = hex(8)
    const b = hex(4)
    const c = hex(3)
    const variant = HEX[8 + (nextU32() >>> 30)] as string
    return `${a}-${b}-4${c}-${variant}${hex(3)}-${hex(12)}`
  }
  return { next, int, uuid, state: () => state }
}
