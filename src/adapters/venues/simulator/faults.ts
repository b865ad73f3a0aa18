/**
 * Fault switches of the simulator, set from config at start and changed at run time through
 * `POST /__admin/faults`. They exist to test the client: reconnects, resyncs, retries, dedupe.
 */
export interface Faults {
  /** The next N Kraken-surface REST requests get an HTTP 5xx. */
  restFailures: number
  restFailureStatus: number
  /** Added before every REST reply and every WebSocket message. */
  latencyMs: number
  /** Private `fills` messages are held back this long (open_orders updates are not). */
  fillDelayMs: number
  /** Every private `fills` message is sent twice. */
  duplicateFills: boolean
  /** Products whose public messages (book, trade, ticker) are not sent; their `seq` still advances. */
  staleProducts: string[]
}

export const defaultFaults = (): Faults => ({
  restFailures: 0,
  restFailureStatus: 500,
  latencyMs: 0,
  fillDelayMs: 0,
  duplicateFills: false,
  staleProducts: []
})

/** Merges a partial update (already decoded) into the switches. */
export const updateFaults = (faults: Faults, patch: Record<string, unknown>): Faults => {
  const next = { ...faults }
  const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : undefined)
  next.restFailures = num(patch.restFailures) ?? next.restFailures
  next.restFailureStatus = num(patch.restFailureStatus) ?? next.restFailureStatus
  next.latencyMs = num(patch.latencyMs) ?? next.latencyMs
  next.fillDelayMs = num(patch.fillDelayMs) ?? next.fillDelayMs
  if (typeof patch.duplicateFills === "boolean") next.duplicateFills = patch.duplicateFills
  if (Array.isArray(patch.staleProducts) && patch.staleProducts.every((p) => typeof p === "string")) {
    next.staleProducts = patch.staleProducts as string[]
  }
  return next
}
