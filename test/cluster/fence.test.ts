import { afterAll, beforeAll, describe, expect, inject, it } from "vitest"
import { AccountFence, AccountFenced, leaseTiming, openEpochStore, type EpochStore } from "../../src/cluster/fence.js"
import { throwawayDatabase } from "../daemon/daemon-harness.js"

// The ownership fence on a real Postgres: a claim moves the epoch and reports how long the
// previous owner's lease still runs; the owner's lease is renewed in the background and checked
// locally (no round trip per request); once another node claimed, the next renewal fails, the
// fence says so once and refuses from then on.

let db: { readonly url: string; readonly drop: () => Promise<void> }
let store: EpochStore
const fences: AccountFence[] = []
const fence = (...args: ConstructorParameters<typeof AccountFence>): AccountFence => {
  const f = new AccountFence(...args)
  fences.push(f)
  return f
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

beforeAll(async () => {
  db = await throwawayDatabase(inject("databaseUrl"), "troupe_fence")
  store = await openEpochStore(db.url)
}, 30_000)

afterAll(async () => {
  for (const f of fences) f.close()
  await store?.close()
  await db?.drop()
})

describe("account fence", () => {
  it("each claim takes the next epoch and records the claiming node", async () => {
    expect((await store.claim("acct-1", "n1")).epoch).toBe(1)
    expect((await store.claim("acct-1", "n2")).epoch).toBe(2)
    expect(await store.current("acct-1")).toEqual({ epoch: 2, nodeId: "n2" })
    expect((await store.claim("acct-other", "n1")).epoch).toBe(1)
  })

  it("concurrent claims never hand out the same epoch", async () => {
    const epochs = await Promise.all(Array.from({ length: 20 }, (_, i) => store.claim("acct-race", `n${i}`)))
    expect(new Set(epochs.map((c) => c.epoch)).size).toBe(20)
    expect(Math.max(...epochs.map((c) => c.epoch))).toBe(20)
  })

  it("the lease is checked locally: many checks, one renewal per period", async () => {
    const { epoch, waitMs } = await store.claim("acct-local", "me")
    expect(waitMs).toBe(0)
    const f = fence("acct-local", epoch, store, { leaseMs: 2_000, renewEveryMs: 600 }, () => undefined).start()
    await f.check()
    const before = f.renewals
    for (let i = 0; i < 10_000; i++) await f.check()
    expect(f.valid()).toBe(true)
    expect(f.renewals).toBe(before)
  })

  it("a claim over a live lease reports how long it still runs (by the database's clock)", async () => {
    const { epoch } = await store.claim("acct-wait", "old")
    const f = fence("acct-wait", epoch, store, { leaseMs: 1_500, renewEveryMs: 500 }, () => undefined).start()
    await f.check()
    const claim = await store.claim("acct-wait", "new")
    expect(claim.epoch).toBe(epoch + 1)
    expect(claim.waitMs).toBeGreaterThan(500)
    expect(claim.waitMs).toBeLessThanOrEqual(1_500)
    // The old owner's lease still holds locally until it ends — never past the database's end.
    const claimedAt = performance.now()
    while (f.valid()) await sleep(5)
    expect(performance.now() - claimedAt).toBeLessThanOrEqual(claim.waitMs)
  })

  it("after another node's claim the next renewal fails: AccountFenced, told once, refused from then on without asking", async () => {
    const { epoch } = await store.claim("acct-2", "old")
    const told: AccountFenced[] = []
    const f = fence("acct-2", epoch, store, { leaseMs: 400, renewEveryMs: 100 }, (e) => told.push(e)).start()
    await expect(f.check()).resolves.toBeUndefined()
    await store.claim("acct-2", "new")
    await sleep(500)
    const error = await f.check().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(AccountFenced)
    expect((error as AccountFenced).current).toBe(epoch + 1)
    expect((error as AccountFenced).owner).toBe("new")
    expect(f.valid()).toBe(false)
    const renewals = f.renewals
    await sleep(300)
    await expect(f.check()).rejects.toBeInstanceOf(AccountFenced)
    expect(f.renewals).toBe(renewals)
    expect(told).toHaveLength(1)
  })

  it("a lapsed lease (a stalled or paused owner) is renewed before a check passes; the new owner's fence waits out the old lease", async () => {
    const { epoch } = await store.claim("acct-3", "me")
    const f = fence("acct-3", epoch, store, { leaseMs: 300, renewEveryMs: 100 }, () => undefined)
    // Not started: no background renewals, as if the event loop had stalled.
    await f.check()
    const n = f.renewals
    await sleep(350)
    expect(f.valid()).toBe(false)
    await f.check()
    expect(f.renewals).toBe(n + 1)

    // The new owner claims while that lease runs: its fence passes nothing before the old lease ends.
    const claim = await store.claim("acct-3", "next")
    const claimedAt = performance.now()
    const g = fence("acct-3", claim.epoch, store, { leaseMs: 300, renewEveryMs: 100 }, () => undefined, claim.waitMs).start()
    await g.check()
    expect(performance.now() - claimedAt).toBeGreaterThanOrEqual(claim.waitMs)
    await expect(f.check()).rejects.toBeInstanceOf(AccountFenced)
  })

  it("default timing: a lease below the session timeout, renewed several times within it", () => {
    expect(leaseTiming(2_000)).toEqual({ leaseMs: 1_500, renewEveryMs: 500 })
    expect(leaseTiming(6_000, 3_000)).toEqual({ leaseMs: 3_000, renewEveryMs: 1_000 })
  })
})
