import { afterAll, beforeAll, describe, expect, inject, it } from "vitest"
import { AccountFence, AccountFenced, openEpochStore, type EpochStore } from "../../src/cluster/fence.js"
import { throwawayDatabase } from "../daemon/daemon-harness.js"

// The ownership fence on a real Postgres: a claim moves the epoch; a check that starts after
// another node's claim fails, and from then on the fence refuses without asking.

let db: { readonly url: string; readonly drop: () => Promise<void> }
let store: EpochStore

beforeAll(async () => {
  db = await throwawayDatabase(inject("databaseUrl"), "troupe_fence")
  store = await openEpochStore(db.url)
}, 30_000)

afterAll(async () => {
  await store?.close()
  await db?.drop()
})

describe("account fence", () => {
  it("each claim takes the next epoch and records the claiming node", async () => {
    expect(await store.claim("acct-1", "n1")).toBe(1)
    expect(await store.claim("acct-1", "n2")).toBe(2)
    expect(await store.current("acct-1")).toEqual({ epoch: 2, nodeId: "n2" })
    expect(await store.claim("acct-other", "n1")).toBe(1)
  })

  it("concurrent claims never hand out the same epoch", async () => {
    const epochs = await Promise.all(Array.from({ length: 20 }, (_, i) => store.claim("acct-race", `n${i}`)))
    expect(new Set(epochs).size).toBe(20)
    expect(Math.max(...epochs)).toBe(20)
  })

  it("a check after another node's claim fails with AccountFenced, tells the owner once, and keeps refusing", async () => {
    const epoch = await store.claim("acct-2", "old")
    const told: AccountFenced[] = []
    const fence = new AccountFence("acct-2", epoch, store, (e) => told.push(e))
    await expect(fence.check()).resolves.toBeUndefined()
    await store.claim("acct-2", "new")
    const error = await fence.check().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(AccountFenced)
    expect((error as AccountFenced).current).toBe(epoch + 1)
    expect((error as AccountFenced).owner).toBe("new")
    const reads = fence.checks
    await expect(fence.check()).rejects.toBeInstanceOf(AccountFenced)
    expect(fence.checks).toBe(reads)
    expect(told).toHaveLength(1)
  })

  it("checks asked while a read is in flight share the next read, which starts after them", async () => {
    const epoch = await store.claim("acct-3", "me")
    // The first read answers (the old epoch) only once the thief's claim has committed, so the
    // read the later checks share starts after the claim, however the machine schedules them.
    let claimed!: () => void
    const claimCommitted = new Promise<void>((r) => (claimed = r))
    let reads = 0
    const gated: EpochStore = { ...store, current: async (a) => { const r = await store.current(a); if (reads++ === 0) await claimCommitted; return r } }
    const fence = new AccountFence("acct-3", epoch, gated, () => undefined)
    const first = fence.check()
    // Asked while the first read is in flight: they share the next read.
    const later = Array.from({ length: 50 }, () => fence.check())
    await store.claim("acct-3", "thief")
    claimed()
    await expect(first).resolves.toBeUndefined()
    const results = await Promise.allSettled(later)
    expect(results.every((r) => r.status === "rejected")).toBe(true)
    expect(fence.checks).toBe(2)
  })
})
