import { join } from "node:path"
import { PGlite } from "@electric-sql/pglite"
import { Effect, Layer } from "effect"
import { Store, StoreError, type StoreService } from "../actors/ports/store.js"
import { APP_ROLE, runMigrations, SCHEMA_NAME } from "./migrations.js"
import { pgliteClient, type SqlClient } from "./sql-client.js"
import { makeSqlStore } from "./sql-store.js"

/** Where the embedded database lives by default: `$TROUPE_HOME/pglite` (`~/.troupe/pglite`). */
export const defaultPgliteDir = (env: Record<string, string | undefined> = process.env): string =>
  join(env.TROUPE_HOME ?? ".troupe", "pglite")

export interface PgliteStoreConfig {
  /** Data directory; `undefined` = in memory (tests only: nothing survives). */
  readonly dataDir: string | undefined
  readonly schema?: string
}

export interface PgliteStoreHandle {
  readonly store: StoreService
  /** The single embedded session the store uses, for tests and admin tooling. */
  readonly app: SqlClient
}

/**
 * Embedded Postgres (WASM) with the same migrations as the server. PGlite has one session:
 * after migrating it `SET ROLE troupe_app`, so the daemon runs with the same rights as against
 * a real server; `migrate` switches back to the owner inside its own transaction.
 */
export const openPgliteStore = async (config: PgliteStoreConfig): Promise<PgliteStoreHandle> => {
  const schema = config.schema ?? "troupe"
  if (!SCHEMA_NAME.test(schema)) throw new Error(`invalid schema name ${JSON.stringify(schema)}`)
  const db = config.dataDir === undefined ? await PGlite.create() : await PGlite.create(config.dataDir)
  const app = pgliteClient(db)
  const migrate = async (): Promise<{ applied: number[]; current: number }> => {
    const asApp = `set search_path to ${schema}; set role ${APP_ROLE}`
    await app.exec("reset role")
    const report = await runMigrations(app, schema).catch(async (e: unknown) => {
      await app.exec(asApp).catch(() => undefined)
      throw e
    })
    await app.exec(asApp)
    return report
  }
  return { store: makeSqlStore({ app, migrate, close: () => app.close() }), app }
}

/** The PGlite store as the `Store` service: migrated on acquire, closed on release. */
export const PgliteStoreLive = (config: PgliteStoreConfig): Layer.Layer<Store, StoreError> =>
  Layer.scoped(
    Store,
    Effect.acquireRelease(
      Effect.tryPromise({ try: () => openPgliteStore(config), catch: (cause) => new StoreError({ op: "open", code: undefined, cause }) }).pipe(
        Effect.map((h) => h.store),
        Effect.tap((store) => store.migrate().pipe(Effect.tapError(() => store.close())))
      ),
      (store) => store.close()
    )
  )
