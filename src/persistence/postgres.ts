import { Effect, Layer } from "effect"
import pg from "pg"
import { Store, StoreError, type StoreService } from "../actors/ports/store.js"
import { APP_ROLE, runMigrations, SCHEMA_NAME } from "./migrations.js"
import { pgPoolClient, pgSingleClient, type SqlClient } from "./sql-client.js"
import { makeSqlStore } from "./sql-store.js"

export interface PostgresStoreConfig {
  /** Login as the schema owner (migrations run as this user). */
  readonly url: string
  /** Schema holding Troupe's tables; default `troupe`. */
  readonly schema?: string
  /**
   * The role the application's pooled connections assume after login (`SET ROLE` at session
   * start), so the audit trail is append-only for the running daemon. The login user must be a
   * member of it (superusers are). `null` keeps the login user's own rights.
   */
  readonly appRole?: string | null
  readonly poolSize?: number
}

export interface PostgresStoreHandle {
  readonly store: StoreService
  /** The application's pooled connections, for tests and admin tooling. */
  readonly app: SqlClient
}

/** A pooled Postgres store. Call `migrate` (the layer does) before using it. */
export const makePostgresStore = (config: PostgresStoreConfig): PostgresStoreHandle => {
  const schema = config.schema ?? "troupe"
  if (!SCHEMA_NAME.test(schema)) throw new Error(`invalid schema name ${JSON.stringify(schema)}`)
  const appRole = config.appRole === undefined ? APP_ROLE : config.appRole
  if (appRole !== null && !SCHEMA_NAME.test(appRole)) throw new Error(`invalid role name ${JSON.stringify(appRole)}`)
  // Session settings in the startup packet: every pooled connection has them before its first query.
  const options = `-c search_path=${schema}${appRole === null ? "" : ` -c role=${appRole}`}`
  const pool = new pg.Pool({ connectionString: config.url, max: config.poolSize ?? 4, options })
  // An idle client's error (server restart) must not crash the process; the next query fails typed.
  pool.on("error", () => undefined)
  const app = pgPoolClient(pool)
  const migrate = async (): Promise<{ applied: number[]; current: number }> => {
    const owner = new pg.Client({ connectionString: config.url })
    await owner.connect()
    const client = pgSingleClient(owner)
    try {
      return await runMigrations(client, schema)
    } finally {
      await client.close().catch(() => undefined)
    }
  }
  return { store: makeSqlStore({ app, migrate, close: () => app.close() }), app }
}

/** The Postgres store as the `Store` service: migrated on acquire, pool ended on release. */
export const PostgresStoreLive = (config: PostgresStoreConfig): Layer.Layer<Store, StoreError> =>
  Layer.scoped(
    Store,
    Effect.acquireRelease(
      Effect.try({ try: () => makePostgresStore(config).store, catch: (cause) => new StoreError({ op: "open", code: undefined, cause }) }).pipe(
        Effect.tap((store) => store.migrate().pipe(Effect.tapError(() => store.close())))
      ),
      (store) => store.close()
    )
  )
