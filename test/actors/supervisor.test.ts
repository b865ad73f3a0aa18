import { Effect, Exit, Fiber, Scope } from "effect"
import { describe, expect, it } from "vitest"
import { TroupeClock } from "../../src/actors/clock.js"
import {
  childReady,
  makeSupervisor,
  supervisorChild,
  worker
} from "../../src/actors/supervisor/index.js"
import type { Supervisor, TreeNode } from "../../src/actors/supervisor/index.js"
import { Probe, waitUntil } from "./supervisor-harness.js"

const child = (node: TreeNode, id: string): TreeNode => {
  const found = node.children.find((c) => c.id === id)
  if (found === undefined) throw new Error(`no child ${id} in ${node.id}`)
  return found
}

describe("restart strategies", () => {
  it("one_for_one restarts only the crashed child", async () => {
    const p = new Probe()
    const counts = await p.run(
      Effect.gen(function* () {
        const sup = yield* makeSupervisor({ id: "root", strategy: "one_for_one", children: ["a", "b", "c"].map((id) => p.worker(id)), observer: p.observer })
        yield* p.running(["a", "b", "c"])
        yield* p.send(sup, "b", "crash")
        return p.startCounts(["a", "b", "c"])
      })
    )
    expect(counts).toEqual({ a: 1, b: 2, c: 1 })
    // The trailing entries are the shutdown at the end of the test.
    expect(p.log).toEqual(["start:a", "start:b", "start:c", "stop:b", "start:b", "stop:c", "stop:b", "stop:a"])
  })

  it("one_for_all stops the siblings in reverse order and restarts all children in order", async () => {
    const p = new Probe()
    const counts = await p.run(
      Effect.gen(function* () {
        const sup = yield* makeSupervisor({ id: "root", strategy: "one_for_all", children: ["a", "b", "c"].map((id) => p.worker(id)), observer: p.observer })
        yield* p.running(["a", "b", "c"])
        yield* p.send(sup, "b", "crash")
        return p.startCounts(["a", "b", "c"])
      })
    )
    expect(counts).toEqual({ a: 2, b: 2, c: 2 })
    expect(p.log.slice(3, 9)).toEqual(["stop:b", "stop:c", "stop:a", "start:a", "start:b", "start:c"])
  })

  it("rest_for_one restarts the crashed child and the children started after it", async () => {
    const p = new Probe()
    const ids = ["a", "b", "c", "d"]
    const counts = await p.run(
      Effect.gen(function* () {
        const sup = yield* makeSupervisor({ id: "root", strategy: "rest_for_one", children: ids.map((id) => p.worker(id)), observer: p.observer })
        yield* p.running(ids)
        yield* p.send(sup, "b", "crash")
        return p.startCounts(ids)
      })
    )
    expect(counts).toEqual({ a: 1, b: 2, c: 2, d: 2 })
    expect(p.log.slice(4, 10)).toEqual(["stop:b", "stop:d", "stop:c", "start:b", "start:c", "start:d"])
  })
})

describe("restart types", () => {
  it("a transient child is not restarted after a normal exit but is after a failure", async () => {
    const p = new Probe()
    const result = await p.run(
      Effect.gen(function* () {
        const sup = yield* makeSupervisor({
          id: "root",
          strategy: "one_for_one",
          children: [p.worker("ends", "transient"), p.worker("crashes", "transient")],
          observer: p.observer
        })
        yield* p.send(sup, "ends", "exit")
        yield* p.send(sup, "crashes", "crash")
        return { counts: p.startCounts(["ends", "crashes"]), tree: yield* sup.tree }
      })
    )
    expect(result.counts).toEqual({ ends: 1, crashes: 2 })
    expect(child(result.tree, "ends").state).toBe("stopped")
    expect(child(result.tree, "crashes").state).toBe("running")
  })

  it("a temporary child is never restarted, whether it fails or ends", async () => {
    const p = new Probe()
    const result = await p.run(
      Effect.gen(function* () {
        const sup = yield* makeSupervisor({
          id: "root",
          strategy: "one_for_one",
          children: [p.worker("fails", "temporary"), p.worker("ends", "temporary")],
          observer: p.observer
        })
        yield* p.send(sup, "fails", "crash")
        yield* p.send(sup, "ends", "exit")
        return { counts: p.startCounts(["fails", "ends"]), tree: yield* sup.tree }
      })
    )
    expect(result.counts).toEqual({ fails: 1, ends: 1 })
    expect(child(result.tree, "fails").state).toBe("failed")
    expect(child(result.tree, "ends").state).toBe("stopped")
  })

  it("a permanent child is restarted even after a normal exit", async () => {
    const p = new Probe()
    const starts = await p.run(
      Effect.gen(function* () {
        const sup = yield* makeSupervisor({ id: "root", strategy: "one_for_one", children: [p.worker("a")], observer: p.observer })
        yield* p.send(sup, "a", "exit")
        return p.startsOf("a")
      })
    )
    expect(starts).toBe(2)
  })
})

describe("restart intensity and escalation", () => {
  const escalationTree = (p: Probe, inner: { current: Supervisor<never> | undefined }) =>
    makeSupervisor({
      id: "root",
      strategy: "one_for_one",
      observer: p.observer,
      children: [
        p.worker("other"),
        supervisorChild(
          { id: "inner", strategy: "one_for_one", children: [p.worker("x"), p.worker("y")] },
          { onStarted: (s) => (inner.current = s) }
        )
      ]
    })

  it("a sixth crash within 10 s makes the child supervisor give up and its parent restarts the subtree", async () => {
    const p = new Probe()
    const inner: { current: Supervisor<never> | undefined } = { current: undefined }
    const result = await p.run(
      Effect.gen(function* () {
        const root = yield* escalationTree(p, inner)
        yield* p.running(["other", "x", "y"])
        const first = inner.current
        if (first === undefined) throw new Error("inner supervisor did not start")
        for (let i = 0; i < 5; i++) {
          p.clock.advance(1_000)
          yield* p.send(first, "x", "crash")
        }
        const beforeGiveUp = p.startCounts(["other", "x", "y"])
        yield* Effect.sync(() => p.clock.advance(1_000))
        const restartsBefore = p.events.filter((e) => e._tag === "ChildRestarted" && e.child === "inner").length
        yield* Effect.forkDaemon(p.send(first, "x", "crash").pipe(Effect.ignore))
        expect(restartsBefore).toBe(0)
        yield* waitUntil(() => p.events.some((e) => e._tag === "ChildRestarted" && e.child === "inner"), "inner restarted")
        yield* root.settled
        return { beforeGiveUp, after: p.startCounts(["other", "x", "y"]), tree: yield* root.tree, first, second: inner.current }
      })
    )
    expect(result.beforeGiveUp).toEqual({ other: 1, x: 6, y: 1 })
    expect(p.events.filter((e) => e._tag === "SupervisorGaveUp").map((e) => e.supervisor)).toEqual(["root/inner"])
    expect(result.after).toEqual({ other: 1, x: 7, y: 2 })
    expect(result.second).toBeDefined()
    expect(result.second).not.toBe(result.first)
    const innerNode = child(result.tree, "inner")
    expect(innerNode.restarts).toBe(1)
    expect(innerNode.state).toBe("running")
    expect(innerNode.children.map((c) => [c.id, c.state, c.restarts])).toEqual([
      ["x", "running", 0],
      ["y", "running", 0]
    ])
    expect(child(result.tree, "other").restarts).toBe(0)
  })

  it("crashes spread over more than the period do not exceed the intensity", async () => {
    const p = new Probe()
    const inner: { current: Supervisor<never> | undefined } = { current: undefined }
    const result = await p.run(
      Effect.gen(function* () {
        const root = yield* escalationTree(p, inner)
        const sup = inner.current
        if (sup === undefined) throw new Error("inner supervisor did not start")
        for (let i = 0; i < 8; i++) {
          p.clock.advance(2_500)
          yield* p.send(sup, "x", "crash")
        }
        return { tree: yield* root.tree, counts: p.startCounts(["x", "y"]) }
      })
    )
    expect(p.events.some((e) => e._tag === "SupervisorGaveUp")).toBe(false)
    expect(result.counts).toEqual({ x: 9, y: 1 })
    expect(child(child(result.tree, "inner"), "x").restarts).toBe(8)
    expect(child(result.tree, "inner").restarts).toBe(0)
  })

  it("a supervisor that gives up stops its children in reverse order and fails join", async () => {
    const p = new Probe()
    const exit = await p.run(
      Effect.gen(function* () {
        const sup = yield* makeSupervisor({
          id: "root",
          strategy: "one_for_one",
          intensity: { maxRestarts: 1, periodMs: 5_000 },
          children: ["a", "b", "c"].map((id) => p.worker(id)),
          observer: p.observer
        })
        yield* p.running(["a", "b", "c"])
        yield* p.send(sup, "b", "crash")
        yield* Effect.forkDaemon(p.send(sup, "b", "crash").pipe(Effect.ignore))
        return yield* Effect.exit(sup.join)
      })
    )
    expect(Exit.isFailure(exit)).toBe(true)
    expect(p.log).toEqual(["start:a", "start:b", "start:c", "stop:b", "start:b", "stop:b", "stop:c", "stop:a"])
    expect(p.startCounts(["a", "b", "c"])).toEqual({ a: 1, b: 2, c: 1 })
  })
})

describe("shutdown", () => {
  it("closing the supervisor's scope stops the children in reverse start order", async () => {
    const p = new Probe()
    await p.run(
      Effect.gen(function* () {
        const scope = yield* Scope.make()
        yield* Scope.extend(makeSupervisor({ id: "root", strategy: "one_for_one", children: ["a", "b", "c"].map((id) => p.worker(id)) }), scope)
        yield* Scope.close(scope, Exit.void)
      })
    )
    expect(p.log).toEqual(["start:a", "start:b", "start:c", "stop:c", "stop:b", "stop:a"])
  })

  it("a child that ignores interruption is abandoned after its shutdown timeout and the shutdown goes on", async () => {
    const p = new Probe()
    const stubborn = worker(
      "stubborn",
      Effect.uninterruptible(Effect.never).pipe(Effect.onInterrupt(() => Effect.sync(() => p.log.push("stop:stubborn")))),
      { shutdownTimeoutMs: 3_000 }
    )
    await p.run(
      Effect.gen(function* () {
        const scope = yield* Scope.make()
        yield* Scope.extend(
          makeSupervisor({ id: "root", strategy: "one_for_one", children: [p.worker("a"), stubborn, p.worker("c")], observer: p.observer }),
          scope
        )
        const closing = yield* Effect.fork(Scope.close(scope, Exit.void))
        yield* waitUntil(() => p.log.includes("stop:c") && p.clock.pendingTimers() > 0, "stop of the stubborn child started")
        p.clock.advance(2_999)
        yield* Effect.sleep("20 millis")
        expect(p.log).not.toContain("stop:a")
        expect(p.events.some((e) => e._tag === "ChildKilled")).toBe(false)
        p.clock.advance(1)
        yield* Fiber.join(closing)
      })
    )
    expect(p.log.slice(2).filter((s) => s !== "start:c")).toEqual(["stop:c", "stop:a"])
    expect(p.events.filter((e) => e._tag === "ChildKilled")).toEqual([
      { _tag: "ChildKilled", supervisor: "root", child: "stubborn", timeoutMs: 3_000, at: 3_000 }
    ])
  })
})

describe("dynamic children", () => {
  it("children can be started and stopped at run time, one per order", async () => {
    const p = new Probe()
    const result = await p.run(
      Effect.gen(function* () {
        const orders = yield* makeSupervisor({ id: "orders", strategy: "one_for_one", children: [], observer: p.observer })
        yield* orders.startChild(p.worker("order-1", "transient"))
        yield* orders.startChild(p.worker("order-2", "transient"))
        const duplicate = yield* Effect.flip(orders.startChild(p.worker("order-1", "transient")))
        const listed = (yield* orders.tree).children.map((c) => c.id)
        yield* orders.stopChild("order-1")
        const missing = yield* Effect.flip(orders.stopChild("order-1"))
        yield* p.send(orders, "order-2", "exit")
        return { duplicate, listed, missing, after: (yield* orders.tree).children.map((c) => c.id) }
      })
    )
    expect(result.duplicate._tag).toBe("ChildAlreadyExists")
    expect(result.listed).toEqual(["order-1", "order-2"])
    expect(result.missing._tag).toBe("ChildNotFound")
    expect(p.log).toEqual(["start:order-1", "start:order-2", "stop:order-1", "stop:order-2"])
    expect(result.after).toEqual([])
  })

  it("a dynamic child that crashes is restarted like a static one", async () => {
    const p = new Probe()
    const starts = await p.run(
      Effect.gen(function* () {
        const orders = yield* makeSupervisor({ id: "orders", strategy: "one_for_one", children: [], observer: p.observer })
        yield* orders.startChild(p.worker("order-1", "transient"))
        yield* p.send(orders, "order-1", "crash")
        return p.startsOf("order-1")
      })
    )
    expect(starts).toBe(2)
  })

  it("commands to a supervisor that has stopped fail with SupervisorNotRunning", async () => {
    const p = new Probe()
    const error = await p.run(
      Effect.gen(function* () {
        const scope = yield* Scope.make()
        const sup = yield* Scope.extend(makeSupervisor({ id: "orders", strategy: "one_for_one", children: [] }), scope)
        yield* Scope.close(scope, Exit.void)
        return yield* Effect.flip(sup.startChild(p.worker("late")))
      })
    )
    expect(error._tag).toBe("SupervisorNotRunning")
    expect(p.startsOf("late")).toBe(0)
  })
})

describe("tree and readiness", () => {
  it("the tree lists every child with its state, restarts and uptime, nested supervisors included", async () => {
    const p = new Probe()
    const inner: { current: Supervisor<never> | undefined } = { current: undefined }
    const tree = await p.run(
      Effect.gen(function* () {
        const root = yield* makeSupervisor({
          id: "root",
          strategy: "one_for_one",
          observer: p.observer,
          children: [
            p.worker("a"),
            p.worker("b"),
            supervisorChild({ id: "infra", strategy: "rest_for_one", children: [p.worker("store")] }, { onStarted: (s) => (inner.current = s) })
          ]
        })
        p.clock.advance(1_000)
        yield* p.send(root, "b", "crash")
        p.clock.advance(500)
        yield* p.send(root, "b", "crash")
        p.clock.advance(250)
        return yield* root.tree
      })
    )
    expect(tree).toMatchObject({ id: "root", kind: "supervisor", state: "running", restarts: 0, uptimeMs: 1_750, strategy: "one_for_one" })
    expect(child(tree, "a")).toEqual({ id: "a", kind: "worker", state: "running", restarts: 0, uptimeMs: 1_750, children: [] })
    expect(child(tree, "b")).toEqual({ id: "b", kind: "worker", state: "running", restarts: 2, uptimeMs: 250, children: [] })
    expect(child(tree, "infra")).toMatchObject({ kind: "supervisor", strategy: "rest_for_one", state: "running", restarts: 0 })
    expect(child(child(tree, "infra"), "store")).toMatchObject({ kind: "worker", state: "running", restarts: 0 })
  })

  it("a child that awaits readiness holds back its later siblings until it is ready", async () => {
    const p = new Probe()
    const store = worker(
      "store",
      Effect.gen(function* () {
        p.log.push("start:store")
        const clock = yield* TroupeClock
        yield* clock.sleep(2_000)
        p.log.push("ready:store")
        yield* childReady
        yield* Effect.never
      }),
      { awaitReady: true }
    )
    await p.run(
      Effect.gen(function* () {
        const starting = yield* Effect.fork(makeSupervisor({ id: "infra", strategy: "rest_for_one", children: [store, p.worker("journal")] }))
        yield* waitUntil(() => p.clock.pendingTimers() > 0, "store sleeping")
        expect(p.log).toEqual(["start:store"])
        p.clock.advance(2_000)
        yield* Fiber.join(starting)
      })
    )
    expect(p.log.slice(0, 3)).toEqual(["start:store", "ready:store", "start:journal"])
  })

  it("every start, exit and restart is reported to the observer with the supervisor's path", async () => {
    const p = new Probe()
    await p.run(
      Effect.gen(function* () {
        const root = yield* makeSupervisor({ id: "root", strategy: "one_for_one", children: [p.worker("a")], observer: p.observer })
        p.clock.advance(10)
        yield* p.send(root, "a", "crash")
      })
    )
    expect(p.events.slice(0, 4).map((e) => [e._tag, e.supervisor, "child" in e ? e.child : "", e.at])).toEqual([
      ["ChildStarted", "root", "a", 0],
      ["ChildExited", "root", "a", 10],
      ["ChildStarted", "root", "a", 10],
      ["ChildRestarted", "root", "a", 10]
    ])
    const exited = p.events[1]
    expect(exited?._tag === "ChildExited" && exited.reason).toBe("failure")
  })
})
