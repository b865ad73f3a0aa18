import type { PGlite, Transaction } from "@electric-sql/pglite"
import type pg from "pg"

/**
 * The few operations the store needs from a SQL connection, so Postgres and PGlite run the
 * exact same statements. `exec` runs a parameterless multi-statement script (migrations).
 */
export interface SqlSession {
  readonly query: <R extends object>(text: string, params?: ReadonlyArray<unknown>) => Promise<R[]>
  readonly exec: (script: string) => Promise<void>
}

export interface SqlClient extends SqlSession {
  readonly transaction: <A>(fn: (tx: SqlSession) => Promise<A>) => Promise<A>
  readonly close: () => Promise<void>
}

const pgSession = (c: pg.Pool | pg.PoolClient | pg.Client): SqlSession => ({
  query: async <R extends object>(text: string, params?: ReadonlyArray<unknown>) => (await c.query(text, params as unknown[] | undefined)).rows as R[],
  exec: async (script) => {
    await c.query(script)
  }
})

export const pgPoolClient = (pool: pg.Pool): SqlClient => ({
  ...pgSession(pool),
  transaction: async (fn) => {
    const client = await pool.connect()
    try {
      await client.query("begin")
      const a = await fn(pgSession(client))
      await client.query("commit")
      return a
    } catch (e) {
      await client.query("rollback").catch(() => undefined)
      throw e
    } finally {
      client.release()
    }
  },
  close: () => pool.end()
})

/** A single dedicated connection (the migration connection runs as the schema owner). */
export const pgSingleClient = (client: pg.Client): SqlClient => ({
  ...pgSession(client),
  transaction: async (fn) => {
    await client.query("begin")
    try {
      const a = await fn(pgSession(client))
      await client.query("commit")
      return a
    } catch (e) {
      await client.query("rollback").catch(() => undefined)
      throw e
    }
  },
  close: () => client.end()
})

const pgliteSession = (db: PGlite | Transaction): SqlSession => ({
  query: async <R extends object>(text: string, params?: ReadonlyArray<unknown>) => (await db.query<R>(text, params as unknown[] | undefined)).rows,
  exec: async (script) => {
    await db.exec(script)
  }
})

export const pgliteClient = (db: PGlite): SqlClient => ({
  ...pgliteSession(db),
  transaction: (fn) => db.transaction((tx) => fn(pgliteSession(tx))),
  close: () => db.close()
})
