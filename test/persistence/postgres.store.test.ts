import { randomBytes } from "node:crypto"
import { Effect } from "effect"
import pg from "pg"
import { inject } from "vitest"
import { makePostgresStore } from "../../src/persistence/postgres.js"
import { storeContract } from "./store.contract.js"

const url = inject("databaseUrl")

storeContract(
  "Postgres",
  async () => {
    // Our own schema in the run's throwaway database: other test files use it too.
    const schema = `store_test_${randomBytes(4).toString("hex")}`
    const { store, app } = makePostgresStore({ url, schema })
    const firstMigration = await Effect.runPromise(store.migrate())
    const owner = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` })
    await owner.connect()
    return {
      store,
      firstMigration,
      sql: { app, asOwner: (sql) => owner.query(sql) },
      close: async () => {
        await owner.query(`drop schema ${schema} cascade`).catch(() => undefined)
        await owner.end()
        await Effect.runPromise(store.close())
      }
    }
  },
  url === "" ? "TROUPE_TEST_SERVICES=none: no Postgres" : undefined
)
