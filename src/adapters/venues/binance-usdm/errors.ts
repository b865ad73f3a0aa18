import { Data } from "effect"

/**
 * Everything that can go wrong talking to Binance USD-M, as tagged values. Nothing here is
 * thrown across the adapter boundary.
 */

/**
 * Venue input that failed to decode. `shape` is a short, bounded description of the offending
 * input for logs and metrics, never the whole payload.
 */
export class VenueDecodeError extends Data.TaggedError("VenueDecodeError")<{
  readonly source: string
  readonly reason: string
  readonly shape: string
}> {}

/** A bounded description of an input for error reports: its kind, length and first characters. */
export const shapeOf = (input: unknown): string => {
  if (typeof input === "string") return `string(${input.length}) ${JSON.stringify(input.slice(0, 80))}`
  if (input === null) return "null"
  if (Array.isArray(input)) return `array(${input.length})`
  if (typeof input === "object") return `object{${Object.keys(input).slice(0, 12).join(",")}}`
  return typeof input
}
