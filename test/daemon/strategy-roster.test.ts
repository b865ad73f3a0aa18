import { describe, expect, it } from "vitest"
import type { OperatorAction } from "../../src/domain/events/operator.js"
import { foldStrategyCommands } from "../../src/daemon/strategy-roster.js"

let n = 0
const action = (a: OperatorAction["action"], strategy: string, extra: Partial<OperatorAction> = {}): OperatorAction =>
  ({ _tag: "OperatorAction", id: `operator/acct-r1-${++n}`, ts: n, source: "operator:alice", action: a, who: "alice", why: "test", client: "troupe-cli/0.1.0 127.0.0.1", strategy, ...extra }) as OperatorAction

describe("the strategy roster folded from the journaled strategy commands", () => {
  it("brings back a strategy added at run time with its latest params, running", () => {
    const roster = foldStrategyCommands([
      action("strategy.add", "mo-eth", { file: "/s/momentum.ts", after: { state: "running", params: '{"lookback":20}' } }),
      action("strategy.reconfigure", "mo-eth", { before: { state: "running", params: '{"lookback":20}' }, after: { state: "running", params: '{"lookback":30}' } })
    ])
    expect(roster.get("mo-eth")).toEqual({ id: "mo-eth", file: "/s/momentum.ts", params: { lookback: 30 }, stopped: false })
  })

  it("keeps a stopped strategy stopped, configured or added, until it is started again", () => {
    const roster = foldStrategyCommands([
      action("strategy.add", "mo-eth", { file: "/s/momentum.ts", after: { state: "running", params: "{}" } }),
      action("strategy.stop", "mo-eth"),
      action("strategy.stop", "mm-sol"),
      action("strategy.stop", "mm-xbt"),
      action("strategy.start", "mm-xbt")
    ])
    expect(roster.get("mo-eth")?.stopped).toBe(true)
    expect(roster.get("mm-sol")).toEqual({ id: "mm-sol", file: undefined, params: undefined, stopped: true })
    expect(roster.get("mm-xbt")?.stopped).toBe(false)
  })

  it("skips an action whose failure was journaled after it (it never took effect)", () => {
    const add = action("strategy.add", "bad", { file: "/s/momentum.ts", after: { state: "running", params: '{"lookback":"x"}' } })
    const stop = action("strategy.stop", "mm-eth")
    const roster = foldStrategyCommands([
      add,
      action("strategy.add", "bad", { file: "/s/momentum.ts", failedAction: add.id, failure: "params invalid" }),
      stop,
      action("strategy.stop", "mm-eth", { failedAction: stop.id, failure: "no such strategy" })
    ])
    expect([...roster.keys()]).toEqual([])
  })

  it("ignores operator actions that are not strategy commands", () => {
    expect(foldStrategyCommands([action("halt", "mm-eth")]).size).toBe(0)
  })
})
