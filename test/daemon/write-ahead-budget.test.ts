import { expect, it } from "vitest"
import type { RequestBudgetService, VenueRead } from "../../src/actors/ports/request-budget.js"
import { writeAheadBudget } from "../../src/daemon/write-ahead.js"

// A read goes out only once its reservation — and the spend record risk journals with it — is in
// the journal: during an outage it waits, so a crash cannot leave the venue counting a read that
// the restarted rate limiter (restored from the journal) does not know.
it("a read is released only after its budget is reserved and the journal has settled", async () => {
  const order: string[] = []
  let settle: () => void = () => undefined
  const inner: RequestBudgetService = {
    reserve: (call: VenueRead) => {
      order.push(`reserved ${call}`)
      return Promise.resolve()
    }
  }
  const journal = {
    settled: () =>
      new Promise<void>((resolve) => {
        order.push("waiting for the journal")
        settle = () => {
          order.push("journal settled")
          resolve()
        }
      })
  }
  const read = writeAheadBudget(inner, journal)
    .reserve("openorders")
    .then(() => order.push("sent"))
  await new Promise((r) => setImmediate(r))
  expect(order).toEqual(["reserved openorders", "waiting for the journal"])
  settle()
  await read
  expect(order).toEqual(["reserved openorders", "waiting for the journal", "journal settled", "sent"])
})

it("a read the budget refuses (closed) is refused, without waiting for the journal", async () => {
  let asked = 0
  const closed: RequestBudgetService = { reserve: () => Promise.reject(new Error("closed")) }
  const read = writeAheadBudget(closed, {
    settled: () => {
      asked++
      return Promise.resolve()
    }
  }).reserve("fills")
  await expect(read).rejects.toThrow("closed")
  expect(asked).toBe(0)
})
