import { Validator } from "@seriousme/openapi-schema-validator"
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { openApiDocument } from "../../../src/daemon/control-api/api.js"
import { makeHandlers } from "../../../src/daemon/control-api/handlers.js"
import { routeTable } from "../../../src/daemon/control-api/router.js"
import { startControlApi, type ControlApi } from "../../../src/daemon/control-api/server.js"
import { makeFakeControl } from "./fake-control.js"

// The OpenAPI document is generated from the same definition the server routes by; these
// tests hold the two to each other and the document to the OpenAPI 3.1 schema.

type Doc = { openapi: string; paths: Record<string, Record<string, { operationId: string; security?: unknown[]; responses: Record<string, unknown> }>> }
const doc = openApiDocument() as unknown as Doc

const TOKEN = "openapi-test-token"
let api: ControlApi
beforeAll(async () => {
  api = await startControlApi({ port: 0, token: TOKEN, control: makeFakeControl() })
})
afterAll(() => api.close())

/** `/api/actors/:id` as OpenAPI writes it: `/api/actors/{id}`. */
const openApiPath = (path: string): string => path.replace(/:(\w+)/g, "{$1}")

describe("the control API's OpenAPI document", () => {
  it("validates against the OpenAPI 3.1 schema", async () => {
    const validator = new Validator({ strict: false })
    const result = await validator.validate(doc as unknown as Record<string, unknown>)
    expect(result.errors ?? []).toEqual([])
    expect([result.valid, validator.version]).toEqual([true, "3.1"])
  })

  it("lists every route the server registers, and no other", () => {
    const registered = routeTable(makeHandlers({ control: makeFakeControl(), metricsText: () => Effect.succeed(""), staticDir: "." }))
      .map((r) => `${r.method} ${openApiPath(r.path)} ${r.name}`)
      .sort()
    const documented = Object.entries(doc.paths)
      .flatMap(([path, operations]) => Object.entries(operations).map(([method, op]) => `${method.toUpperCase()} ${path} ${op.operationId}`))
      .sort()
    expect(documented).toEqual(registered)
    // The routes the README and the CLI rely on are among them (a table emptied by mistake fails here too).
    for (const route of ["GET /api/status", "POST /api/strategies", "POST /api/halt", "GET /metrics", "GET /api/openapi.json", "GET /api/stream"]) {
      expect(registered.some((r) => r.startsWith(`${route} `))).toBe(true)
    }
  })

  it("marks every /api route as needing the bearer token and no other, and gives every route its error answers", () => {
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const op of Object.values(operations)) {
        expect([path, (op.security ?? []).length > 0]).toEqual([path, path.startsWith("/api/")])
        expect([path, "421" in op.responses, "500" in op.responses]).toEqual([path, true, true])
        if (path.startsWith("/api/")) expect([path, "401" in op.responses]).toEqual([path, true])
      }
    }
  })

  it("is served at /api/openapi.json with the token, and refused without it", async () => {
    const refused = await fetch(`${api.url}/api/openapi.json`)
    expect(refused.status).toBe(401)
    const res = await fetch(`${api.url}/api/openapi.json`, { headers: { authorization: `Bearer ${TOKEN}` } })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual(JSON.parse(JSON.stringify(doc)))
  })

  it("answers a plain GET of the stream with 426, as documented", async () => {
    const res = await fetch(`${api.url}/api/stream`, { headers: { authorization: `Bearer ${TOKEN}` } })
    expect(res.status).toBe(426)
    expect("426" in (doc.paths["/api/stream"]?.["get"]?.responses ?? {})).toBe(true)
  })
})
