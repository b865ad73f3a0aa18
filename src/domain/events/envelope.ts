import { Schema } from "effect"
import { Timestamp } from "../schema.js"

/**
 * Every canonical event starts with the same envelope, so the journal, the audit trail and
 * the inspector can handle any event without knowing its type.
 */
export const EventId = Schema.String.pipe(Schema.minLength(1), Schema.maxLength(128)).annotations({
  identifier: "EventId",
  description: "a non-empty event id of at most 128 characters"
})

export const envelope = {
  /** Unique per event (the producer makes it, e.g. `node-run-seq`); dedupe key on replay. */
  id: EventId,
  /** When the event was emitted, from the injected clock (integer ms). */
  ts: Timestamp,
  /** Who emitted it: an actor id (`risk/acct-1`), an adapter (`kraken-futures/md`), `operator`. */
  source: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(256))
} as const

/** Shorthand for optional fields: absent on the wire and in memory, never `undefined`. */
export const optional = <S extends Schema.Schema.Any>(schema: S) => Schema.optionalWith(schema, { exact: true })
