import { readFileSync } from "node:fs"
import { Either, ParseResult, Schema } from "effect"

/**
 * The cluster file (`--cluster FILE`): the accounts trading nodes share out (partition i of the
 * placement topic is account i — keep the order when adding accounts at the end), the session
 * timeout that bounds failure detection, and the md nodes' settings.
 */
const AccountEntry = Schema.Struct({
  account: Schema.String.pipe(Schema.pattern(/^[A-Za-z0-9_.-]{1,64}$/)),
  apiKey: Schema.String.pipe(Schema.minLength(1)),
  apiSecret: Schema.String.pipe(Schema.minLength(1))
})

export const ClusterFile = Schema.Struct({
  accounts: Schema.Array(AccountEntry).pipe(Schema.minItems(1)),
  sessionTimeoutMs: Schema.optionalWith(Schema.Int.pipe(Schema.between(1_000, 300_000)), { default: () => 6_000 }),
  /** The fence's lease (default ¾ of the session timeout) and its renewal period (default a third of the lease). */
  leaseMs: Schema.optional(Schema.Int.pipe(Schema.between(100, 300_000))),
  renewEveryMs: Schema.optional(Schema.Int.pipe(Schema.between(20, 300_000))),
  md: Schema.optionalWith(
    Schema.Struct({
      instruments: Schema.optional(Schema.Array(Schema.String)),
      productsPerConnection: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 1_000)), { default: () => 50 }),
      snapshotEveryMs: Schema.optionalWith(Schema.Int.pipe(Schema.between(100, 60_000)), { default: () => 1_000 }),
      /** Share the instruments among the md nodes in this many shares (docs/cluster-scale.md); absent: every md node serves them all. */
      shares: Schema.optional(Schema.Int.pipe(Schema.between(1, 1_000))),
      handoverOverlapMs: Schema.optional(Schema.Int.pipe(Schema.between(0, 60_000)))
    }),
    { default: () => ({ productsPerConnection: 50, snapshotEveryMs: 1_000 }) }
  )
})
export type ClusterFile = typeof ClusterFile.Type

export const loadClusterFile = (path: string): Either.Either<ClusterFile, string> => {
  let raw: unknown
  try {
    raw = JSON.parse(readFileSync(path, "utf8"))
  } catch (e) {
    return Either.left(`cannot read the cluster file ${path}: ${e instanceof Error ? e.message : String(e)}`)
  }
  const decoded = Schema.decodeUnknownEither(ClusterFile)(raw)
  if (Either.isLeft(decoded)) return Either.left(`cluster file ${path}: ${ParseResult.TreeFormatter.formatErrorSync(decoded.left)}`)
  const ids = decoded.right.accounts.map((a) => a.account)
  const dup = ids.find((a, i) => ids.indexOf(a) !== i)
  if (dup !== undefined) return Either.left(`cluster file ${path}: account ${dup} is listed twice`)
  const { sessionTimeoutMs, leaseMs, renewEveryMs } = decoded.right
  if (leaseMs !== undefined && leaseMs >= sessionTimeoutMs) return Either.left(`cluster file ${path}: leaseMs (${leaseMs}) must be below sessionTimeoutMs (${sessionTimeoutMs}): a new owner would wait out a lease longer than the detection`)
  if (renewEveryMs !== undefined && renewEveryMs >= (leaseMs ?? Math.floor(sessionTimeoutMs * 0.75))) return Either.left(`cluster file ${path}: renewEveryMs (${renewEveryMs}) must be below the lease`)
  return Either.right(decoded.right)
}
