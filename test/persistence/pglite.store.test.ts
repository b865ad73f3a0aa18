import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { openPgliteStore } from "../../src/persistence/pglite.js"
import { storeContract } from "./store.contract.js"

storeContract("PGlite", async () => {
  const dir = mkdtempSync(join(tmpdir(), "troupe-pglite-"))
  const { store, app } = await openPgliteStore({ dataDir: dir })
  const firstMigration = await Effect.runPromise(store.migrate())
  return {
    store,
    firstMigration,
    sql: {
      app,
      asOwner: async (sql) => {
        await app.exec("reset role")
        try {
          return await app.query(sql)
        } finally {
          await app.exec("set role troupe_app")
        }
      }
    },
    close: async () => {
      await Effect.runPromise(store.close())
      rmSync(dir, { recursive: true, force: true })
    }
  }
})
