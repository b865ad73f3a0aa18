import { readdirSync, readFileSync, statSync } from "node:fs"
import { join, relative } from "node:path"
import { describe, expect, it } from "vitest"
import { ApprovedAction } from "../../../src/actors/risk/approval.js"
import type { VenueGatewayService } from "../../../src/actors/ports/venue-gateway.js"
import { makeRisk, submit } from "./fixtures.js"

const srcRoot = new URL("../../../src/", import.meta.url).pathname

const walk = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => {
    const p = join(dir, name)
    return statSync(p).isDirectory() ? walk(p) : p.endsWith(".ts") ? [p] : []
  })

describe("approved actions", () => {
  it("only the risk package imports the minting function", () => {
    const offenders = walk(srcRoot).filter((f) => {
      const rel = relative(srcRoot, f)
      if (rel.startsWith("actors/risk/")) return false
      return /mintApproval/.test(readFileSync(f, "utf8"))
    })
    expect(offenders).toEqual([])
  })

  it("a gateway cannot be handed anything but an ApprovedAction, and a look-alike is not genuine", () => {
    const send: VenueGatewayService["send"] = () => {}
    const lookAlike = { approvalId: "x", account: "a", call: "sendorder", cost: 10, action: { kind: "cancelAll" }, approvedAt: 0 }
    // @ts-expect-error a structural copy is not an ApprovedAction (private constructor and #brand)
    send(lookAlike)
    // @ts-expect-error the constructor is private
    const forged = new ApprovedAction("x", "a", "sendorder", 10, { kind: "cancelAll" }, 0)
    expect(ApprovedAction.isGenuine(lookAlike)).toBe(false)
    expect(ApprovedAction.isGenuine(forged)).toBe(true) // only reachable by defeating the type system
    const { risk, events } = makeRisk()
    const d = risk.decide(submit())
    expect(d._tag).toBe("Approved")
    if (d._tag !== "Approved") return
    expect(ApprovedAction.isGenuine(d.action)).toBe(true)
    expect(d.action.approvalId).toBe(d.event.id)
    // The decision, then the request's cost (what a restart restores into the rate window).
    expect(events.at(-2)).toBe(d.event)
    expect(events.at(-1)).toMatchObject({ _tag: "VenueRequestSent", account: d.event.account, call: "sendorder", cost: 10, ts: d.event.ts })
  })
})
