import { Brand, Data, Either } from "effect"

/** A venue name, lower-case: `kraken-futures`, `simulator`. */
export type VenueId = string & Brand.Brand<"VenueId">
/** `venue:symbol`, e.g. `kraken-futures:PF_XBTUSD`. */
export type InstrumentId = string & Brand.Brand<"InstrumentId">
/** Our id for an order, unique per account; deterministic from (strategy, run, sequence). */
export type ClientOrderId = string & Brand.Brand<"ClientOrderId">
/** The venue's id for an order. */
export type VenueOrderId = string & Brand.Brand<"VenueOrderId">
export type AccountId = string & Brand.Brand<"AccountId">
export type StrategyId = string & Brand.Brand<"StrategyId">
export type FillId = string & Brand.Brand<"FillId">

export class InvalidId extends Data.TaggedError("InvalidId")<{ readonly kind: string; readonly input: string; readonly reason: string }> {
  override get message(): string {
    return `invalid ${this.kind} ${JSON.stringify(this.input.slice(0, 120))}: ${this.reason}`
  }
}

const VENUE = /^[a-z][a-z0-9-]{0,31}$/
const SYMBOL = /^[A-Za-z0-9_.\-/]{1,64}$/
// Kraken's cliOrdId allows up to 100 characters; we keep to a safe alphabet.
const CLIENT_ORDER_ID = /^[A-Za-z0-9_.:-]{1,100}$/
const TOKEN = /^[A-Za-z0-9_.:-]{1,128}$/

export const VenueId = (s: string): Either.Either<VenueId, InvalidId> =>
  VENUE.test(s) ? Either.right(s as VenueId) : Either.left(new InvalidId({ kind: "venue id", input: s, reason: "expected lower-case letters, digits and '-'" }))

export const instrumentId = (venue: string, symbol: string): Either.Either<InstrumentId, InvalidId> => parseInstrumentId(`${venue}:${symbol}`)

export const parseInstrumentId = (s: string): Either.Either<InstrumentId, InvalidId> => {
  const colon = s.indexOf(":")
  if (colon < 0) return Either.left(new InvalidId({ kind: "instrument id", input: s, reason: "expected venue:symbol" }))
  const venue = s.slice(0, colon)
  const symbol = s.slice(colon + 1)
  if (!VENUE.test(venue)) return Either.left(new InvalidId({ kind: "instrument id", input: s, reason: "bad venue part" }))
  if (!SYMBOL.test(symbol)) return Either.left(new InvalidId({ kind: "instrument id", input: s, reason: "bad symbol part" }))
  return Either.right(s as InstrumentId)
}

export const venueOf = (id: InstrumentId): VenueId => id.slice(0, id.indexOf(":")) as VenueId
export const symbolOf = (id: InstrumentId): string => id.slice(id.indexOf(":") + 1)

export const parseClientOrderId = (s: string): Either.Either<ClientOrderId, InvalidId> =>
  CLIENT_ORDER_ID.test(s)
    ? Either.right(s as ClientOrderId)
    : Either.left(new InvalidId({ kind: "client order id", input: s, reason: "expected 1-100 of [A-Za-z0-9_.:-]" }))

/**
 * Deterministic client order id: the same (strategy, run, sequence) always gives the same id,
 * so a resend after a crash is recognised by the venue (`clientOrderIdAlreadyExist`) and by us.
 */
export const makeClientOrderId = (strategy: StrategyId, run: number, sequence: number): ClientOrderId =>
  `${strategy}-${run.toString(36)}-${sequence.toString(36)}` as ClientOrderId

/** The run number inside a client order id made by `makeClientOrderId`, if it is one. */
export const runOfClientOrderId = (cid: string): number | undefined => {
  const parts = cid.split("-")
  if (parts.length < 3) return undefined
  const text = parts[parts.length - 2] as string
  if (!/^[0-9a-z]{1,10}$/.test(text)) return undefined
  const run = Number.parseInt(text, 36)
  return Number.isSafeInteger(run) ? run : undefined
}

const token = (kind: string) => <B extends string>(s: string): Either.Either<B, InvalidId> =>
  TOKEN.test(s) ? Either.right(s as B) : Either.left(new InvalidId({ kind, input: s, reason: "expected 1-128 of [A-Za-z0-9_.:-]" }))

export const parseAccountId = token("account id")<AccountId>
export const parseStrategyId = token("strategy id")<StrategyId>
export const parseVenueOrderId = token("venue order id")<VenueOrderId>
export const parseFillId = token("fill id")<FillId>
