import { Either, Schema } from "effect"
import { describeParseError } from "../../domain/schema.js"

/**
 * Request bodies of the control API, decoded at the edge. Unknown keys are refused (a
 * misspelled `cancelAll` must not silently do nothing), and a failure names the field.
 */

const Text = (description: string, max: number) =>
  Schema.String.pipe(Schema.minLength(1), Schema.maxLength(max)).annotations({ description })
const optional = <S extends Schema.Schema.Any>(schema: S) => Schema.optionalWith(schema, { exact: true })
const Params = Schema.Record({ key: Schema.String, value: Schema.Unknown })

/** POST /api/halt | /api/reduce | /api/resume | /api/cancel-all | /api/reconcile/accept. `who` defaults to "api" when absent. */
export const OperatorBody = Schema.Struct({
  who: optional(Text("a non-empty name (at most 200 characters)", 200)),
  why: Text("a non-empty reason (at most 2000 characters)", 2_000),
  cancelAll: optional(Schema.Boolean),
  /** resume only: lift this automatic cause instead of the operator's own. */
  cause: optional(Schema.Literal("journal", "audit", "dailyLoss", "reconciliation", "venueBan", "portfolioVar", "portfolioStress", "lossBreaker"))
})
export type OperatorBody = typeof OperatorBody.Type

/** Who asked and why, for the audit trail of a strategy command (`who` defaults to "api"). */
const auditFields = {
  who: optional(Text("a non-empty name (at most 200 characters)", 200)),
  why: optional(Text("a non-empty reason (at most 2000 characters)", 2_000))
} as const

/** POST /api/strategies/:id/{start|stop|restart|reconfigure}; `params` is for reconfigure. */
export const StrategyActionBody = Schema.Struct({
  params: optional(Params),
  ...auditFields
})
export type StrategyActionBody = typeof StrategyActionBody.Type

/** POST /api/strategies: add a strategy from a module file. */
export const AddStrategyBody = Schema.Struct({
  file: Text("a path of a strategy module", 4_096),
  id: optional(Text("a strategy id", 200)),
  params: optional(Params),
  ...auditFields
})
export type AddStrategyBody = typeof AddStrategyBody.Type

export interface BodyError {
  /** `why`, `params.size`, or "" for the body as a whole. */
  readonly field: string
  readonly message: string
}

/** Parses JSON text and decodes it; an empty body decodes as `{}`. */
export const decodeBody = <A, I>(schema: Schema.Schema<A, I>, text: string): Either.Either<A, BodyError> => {
  let json: unknown
  try {
    json = text.trim() === "" ? {} : JSON.parse(text)
  } catch (e) {
    return Either.left({ field: "", message: `the body is not JSON: ${e instanceof Error ? e.message : String(e)}` })
  }
  return Either.mapLeft(Schema.decodeUnknownEither(schema, { errors: "first", onExcessProperty: "error" })(json), (error) => {
    const { path, reason } = describeParseError(error)
    return { field: path, message: path === "" ? `body: ${reason}` : `field ${path}: ${reason}` }
  })
}
