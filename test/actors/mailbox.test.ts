import { Effect, Fiber } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { makeMailbox } from "../../src/actors/mailbox.js"

describe("dropOldest mailbox (market data)", () => {
  it("keeps the newest messages when full and counts the dropped ones", () => {
    const mb = makeMailbox<number>("md", 3, "dropOldest")
    for (let i = 1; i <= 5; i++) expect(mb.tryOffer(i)).toBe(true)
    expect(mb.depth).toBe(3)
    expect(mb.dropped).toBe(2)
    expect(mb.pollUpTo(10)).toEqual([3, 4, 5])
    expect(mb.depth).toBe(0)
    expect(mb.poll()).toBeUndefined()
  })

  it("holds exactly the last `capacity` messages of any interleaving of offers and polls", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.array(fc.oneof(fc.integer({ min: 0, max: 1_000 }), fc.constant<"poll">("poll")), { maxLength: 200 }), (capacity, ops) => {
        const mb = makeMailbox<number>("md", capacity, "dropOldest")
        const model: number[] = []
        let dropped = 0
        for (const op of ops) {
          if (op === "poll") {
            expect(mb.poll()).toBe(model.shift())
          } else {
            mb.tryOffer(op)
            model.push(op)
            if (model.length > capacity) {
              model.shift()
              dropped++
            }
          }
        }
        expect(mb.depth).toBe(model.length)
        expect(mb.dropped).toBe(dropped)
        expect(mb.pollUpTo(capacity)).toEqual(model)
      })
    )
  })
})

describe("backpressure mailbox (orders, risk)", () => {
  it("a fast producer and a slow consumer: every message arrives, in order, none dropped", async () => {
    const n = 2_000
    const mb = makeMailbox<number>("orders", 8, "backpressure")
    let maxBlocked = 0
    const received = await Effect.runPromise(
      Effect.gen(function* () {
        const producer = yield* Effect.fork(Effect.forEach(Array.from({ length: n }, (_, i) => i), (i) => mb.offer(i), { discard: true }))
        const out: number[] = []
        while (out.length < n) {
          out.push(yield* mb.take)
          maxBlocked = Math.max(maxBlocked, mb.blockedSenders)
          if (out.length % 100 === 0) yield* Effect.sleep("1 millis")
          else yield* Effect.yieldNow()
        }
        yield* Fiber.join(producer)
        return out
      })
    )
    expect(received).toEqual(Array.from({ length: n }, (_, i) => i))
    expect(mb.dropped).toBe(0)
    expect(maxBlocked).toBe(1)
    expect(mb.depth).toBe(0)
  })

  it("promise-based senders outside Effect wait for room and keep their order", async () => {
    const n = 500
    const mb = makeMailbox<number>("risk", 4, "backpressure")
    const producers = [0, 1].map(async (p) => {
      for (let i = 0; i < n; i++) await mb.offerAsync(p * n + i)
    })
    const received: number[] = []
    while (received.length < 2 * n) {
      const m = mb.poll()
      if (m === undefined) await new Promise((r) => setTimeout(r, 0))
      else received.push(m)
    }
    await Promise.all(producers)
    expect(received.filter((m) => m < n)).toEqual(Array.from({ length: n }, (_, i) => i))
    expect(received.filter((m) => m >= n)).toEqual(Array.from({ length: n }, (_, i) => n + i))
    expect(mb.dropped).toBe(0)
  })

  it("refuses tryOffer when full, and a new sender does not overtake one already waiting", async () => {
    const mb = makeMailbox<string>("orders", 1, "backpressure")
    expect(mb.tryOffer("a")).toBe(true)
    expect(mb.tryOffer("b")).toBe(false)
    const waiting = mb.offerAsync("b")
    expect(mb.blockedSenders).toBe(1)
    expect(mb.poll()).toBe("a")
    expect(mb.tryOffer("c")).toBe(false)
    await waiting
    expect(mb.pollUpTo(5)).toEqual(["b"])
  })

  it("offering with room returns one shared resolved promise, so the hot path allocates none", () => {
    const mb = makeMailbox<number>("orders", 4, "backpressure")
    expect(mb.offerAsync(1)).toBe(mb.offerAsync(2))
    expect(mb.depth).toBe(2)
  })

  it("interrupting a waiting sender withdraws its message", async () => {
    const mb = makeMailbox<string>("orders", 1, "backpressure")
    const left = await Effect.runPromise(
      Effect.gen(function* () {
        yield* mb.offer("kept")
        const blocked = yield* Effect.fork(mb.offer("withdrawn"))
        yield* Effect.yieldNow()
        expect(mb.blockedSenders).toBe(1)
        yield* Fiber.interrupt(blocked)
        return [mb.blockedSenders, mb.pollUpTo(5)] as const
      })
    )
    expect(left).toEqual([0, ["kept"]])
  })

  it("closing fails blocked senders and waiting takers but leaves buffered messages to drain", async () => {
    const mb = makeMailbox<string>("orders", 1, "backpressure")
    await mb.offerAsync("buffered")
    const blocked = mb.offerAsync("never-accepted")
    mb.close()
    await expect(blocked).rejects.toMatchObject({ _tag: "MailboxClosed" })
    await expect(mb.offerAsync("late")).rejects.toMatchObject({ _tag: "MailboxClosed" })
    const results = await Effect.runPromise(Effect.all([Effect.either(mb.take), Effect.either(mb.take)]))
    expect(results[0]).toMatchObject({ _tag: "Right", right: "buffered" })
    expect(results[1]).toMatchObject({ _tag: "Left", left: { _tag: "MailboxClosed" } })
  })

  it("a taker waiting on an empty mailbox receives the next message directly", async () => {
    const mb = makeMailbox<number>("orders", 2, "backpressure")
    const got = await Effect.runPromise(
      Effect.gen(function* () {
        const taker = yield* Effect.fork(mb.take)
        yield* Effect.yieldNow()
        yield* mb.offer(42)
        return yield* Fiber.join(taker)
      })
    )
    expect(got).toBe(42)
    expect(mb.depth).toBe(0)
  })
})
