/**
 * Decode failure counters a WS client exposes to its owner (metrics, inspector). Counted per
 * reason so a dashboard can tell a venue format change from line noise.
 */
export interface DecodeStats {
  readonly frames: number
  readonly decodeErrors: number
  readonly byReason: Readonly<Record<string, number>>
  readonly lastError?: { readonly reason: string; readonly shape: string }
}

export class DecodeCounter {
  frames = 0
  decodeErrors = 0
  private readonly reasons: Record<string, number> = {}
  private last: { readonly reason: string; readonly shape: string } | undefined

  frame(): void {
    this.frames++
  }

  error(reason: string, shape: string): void {
    this.decodeErrors++
    // Bucket by the first words so unbounded reasons (with values in them) do not explode the map.
    const bucket = reason.split(/[:(\n]/, 1)[0]?.slice(0, 60) ?? reason
    this.reasons[bucket] = (this.reasons[bucket] ?? 0) + 1
    this.last = { reason, shape }
  }

  snapshot(): DecodeStats {
    const base = { frames: this.frames, decodeErrors: this.decodeErrors, byReason: { ...this.reasons } }
    return this.last === undefined ? base : { ...base, lastError: this.last }
  }
}
