import { Data, Effect, Layer } from "effect"
import pg from "pg"
import { Store, StoreError, type StoreService } from "../actors/ports/store.js"
import { APP_ROLE, appUrlOf, runMigrations, SCHEMA_NAME } from "./migrations.js"
import { pgPoolClient, pgSingleClient, type SqlClient } from "./sql-client.js"
import { makeSqlStore } from "./sql-store.js"

export interface PostgresStoreConfig {
  /** Login as the schema owner: used for migrations only, on a connection of its own. */
  readonly url: string
  /**
   * The application's login, for every other query: the role `troupe_app` (or a member of it),
   * never the owner, so the running daemon cannot drop the audit trigger or touch audit rows
   * however its SQL is written (a `SET ROLE` alone could be undone with `RESET ROLE`).
   * Default: `url` with user `troupe_app` and no password (see `appUrlOf`).
   */
  readonly appUrl?: string
  /** Schema holding Troupe's tables; default `troupe`. */
  readonly schema?: string
  readonly poolSize?: number
}

export interface PostgresStoreHandle {
  readonly store: StoreService
  /** The application's pooled connections, for tests and admin tooling. */
  readonly app: SqlClient
}

export class AppLoginUnsafe extends Data.TaggedError("AppLoginUnsafe")<{ readonly user: string; readonly why: string }> {
  override get message(): string {
    return `the application's database login ${JSON.stringify(this.user)} ${this.why}: it could drop the audit trigger; give the daemon a login that is ${APP_ROLE} or a plain member of it (appDatabaseUrl / TROUPE_APP_DATABASE_URL)`
  }
}

/** A pooled Postgres store. Call `migrate` (the layer does) before using it. */
export const makePostgresStore = (config: PostgresStoreConfig): PostgresStoreHandle => {
  const schema = config.schema ?? "troupe"
  if (!SCHEMA_NAME.test(schema)) throw new Error(`invalid schema name ${JSON.stringify(schema)}`)
  const appUrl = config.appUrl ?? appUrlOf(config.url)
  // Session settings in the startup packet: every pooled connection has them before its first
  // query. `role` gives a member login the app role's rights (a no-op for troupe_app itself).
  const options = `-c search_path=${schema} -c role=${APP_ROLE}`
  const pool = new pg.Pool({ connectionString: appUrl, max: config.poolSize ?? 4, options })
  // An idle client's error (server restart) must not crash the process; the next query fails typed.
  pool.on("error", () => undefined)
  const app = pgPoolClient(pool)
  const migrate = async (): Promise<{ applied: number[]; current: number }> => {
    const owner = new pg.Client({ connectionString: config.url })
    await owner.connect()
    const client = pgSingleClient(owner)
    try {
      const report = await runMigrations(client, schema)
      // Migration 1 creates the role NOLOGIN; the derived login needs it to log in (a password,
      // where the server asks for one, is the operator's to set: ALTER ROLE troupe_app PASSWORD).
      if (decodeURIComponent(new URL(appUrl).username) === APP_ROLE) await client.exec(ENABLE_APP_LOGIN)
      await assertAppLoginSafe(app, schema)
      return report
    } finally {
      await client.close().catch(() => undefined)
    }
  }
  return { store: makeSqlStore({ app, migrate, close: () => app.close() }), app }
}

const ENABLE_APP_LOGIN = `do $$ begin
  if exists (select 1 from pg_roles where rolname = '${APP_ROLE}' and not rolcanlogin) then
    alter role ${APP_ROLE} login;
  end if;
end $$`

/**
 * Fails closed when the application's login could undo the audit trail's protection: a
 * superuser, the schema's owner, the audit table's owner, or a member of either owner.
 */
const assertAppLoginSafe = async (app: SqlClient, schema: string): Promise<void> => {
  const rows = await app.query<{ user: string; superuser: boolean; owns: boolean }>(
    `select session_user::text as user,
            (select rolsuper from pg_roles where rolname = session_user) as superuser,
            (pg_has_role(session_user, (select nspowner from pg_namespace where nspname = $1), 'MEMBER')
             or pg_has_role(session_user, (select relowner from pg_class where oid = to_regclass($2)), 'MEMBER')) as owns`,
    [schema, `${schema}.audit_events`]
  )
  const r = rows[0]
  if (r === undefined) throw new AppLoginUnsafe({ user: "?", why: "could not be checked" })
  if (r.superuser) throw new AppLoginUnsafe({ user: r.user, why: "is a superuser" })
  if (r.owns) throw new AppLoginUnsafe({ user: r.user, why: `owns (or is a member of the owner of) the schema ${schema}` })
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
