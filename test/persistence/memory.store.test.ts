import { Effect } from "effect"
import { makeMemoryStore } from "../../src/persistence/memory-store.js"
import { storeContract } from "./store.contract.js"

// The simulation's store: the same contract as Postgres and PGlite, without SQL.
storeContract("in-memory", async () => {
  const store = makeMemoryStore()
  const firstMigration = await Effect.runPromise(store.migrate())
  return { store, firstMigration, close: () => Effect.runPromise(store.close()) }
})
