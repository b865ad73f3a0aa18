// Subpath imports: the package's index loads every module, which costs the CLI's start.
import * as HttpApi from "@effect/platform/HttpApi"
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiMiddleware from "@effect/platform/HttpApiMiddleware"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as HttpApiSecurity from "@effect/platform/HttpApiSecurity"
import * as OpenApi from "@effect/platform/OpenApi"
import { Schema } from "effect"
import { AddStrategyBody, OperatorBody, StrategyActionBody } from "./bodies.js"
import { RiskViewSchema } from "./risk-view.js"
import {
  ActorDetailView,
  ActorTreeNodeView,
  MachineGraphView,
  MachineSummaryView,
  NodeStatusView,
  OperatorResultView,
  OrderPageView,
  OrderViewSchema,
  PositionViewSchema,
  ReadinessView,
  ReconcileAcceptView,
  ReportSourceSchema,
  StrategyPageView,
  StrategyViewSchema
} from "./views.js"

/**
 * The control API as data: every route with its method, path, parameters, body, answers and
 * error statuses, written once with `@effect/platform`'s `HttpApi`. The server (`server.ts`)
 * routes by this definition and refuses to start if a route has no handler; the OpenAPI
 * document (`GET /api/openapi.json`) is generated from it; the CLI's client
 * (`src/cli/daemon-client.ts`) is derived from it. A route exists in all three or in none.
 *
 * The transport stays our own `node:http` server (host check, bearer token compared in constant
 * time, 64 KiB body limit, the WebSocket upgrade, the error shape below); see
 * docs/architecture.md, "Operator surface".
 */

const optional = <S extends Schema.Schema.Any>(schema: S) => Schema.optionalWith(schema, { exact: true })

/** Every error answer: `{"error":{"status":409,"message":"...","field":"why"}}`. */
export const ErrorBody = Schema.Struct({
  error: Schema.Struct({
    status: Schema.Int,
    message: Schema.String.annotations({ description: "one sentence for a person: what went wrong and, where it helps, what to do" }),
    field: optional(Schema.String.annotations({ description: "the body field or query parameter at fault (`why`, `params.size`, `limit`)" }))
  })
}).annotations({ identifier: "Error" })
export type ErrorBody = typeof ErrorBody.Type

/** The endpoint answering `ErrorBody` with these statuses too (the type already has `ErrorBody`: every route may answer 405, 421, 500). */
const withErrors = <E extends HttpApiEndpoint.HttpApiEndpoint.Any>(endpoint: E, ...statuses: ReadonlyArray<number>): E =>
  statuses.reduce((e, status) => (e as unknown as HttpApiEndpoint.HttpApiEndpoint.AnyWithProps).addError(ErrorBody, { status }) as unknown as E, endpoint)

/** `Authorization: Bearer <token>` (the token the daemon prints at start, also in `$TROUPE_HOME/token`). */
export class BearerToken extends HttpApiMiddleware.Tag<BearerToken>()("BearerToken", {
  security: { bearer: HttpApiSecurity.bearer }
}) {}

const Text = (contentType: string) => HttpApiSchema.Text({ contentType })
const Id = (description: string) => Schema.Struct({ id: Schema.String.annotations({ description }) })
const BoolParam = Schema.Literal("1", "0", "true", "false")

// ---- open routes: probes and the inspector's files (no token) ------------------------------------

const probes = HttpApiGroup.make("probes")
  .add(HttpApiEndpoint.get("healthz", "/healthz").addSuccess(Schema.Struct({ ok: Schema.Literal(true) })).annotate(OpenApi.Description, "The process is up."))
  .add(
    withErrors(HttpApiEndpoint.get("readyz", "/readyz").addSuccess(ReadinessView), 503).annotate(OpenApi.Description, "200 only while the node is `running`; 503 names the node state.")
  )
  .add(
    HttpApiEndpoint.get("metrics", "/metrics")
      .addSuccess(Text("text/plain; version=0.0.4; charset=utf-8"))
      .annotate(OpenApi.Description, "Prometheus text exposition (format 0.0.4): the daemon's metrics, the control API's own and the Node runtime's.")
  )
  .annotate(OpenApi.Description, "Liveness, readiness and metrics: no token.")

const inspector = HttpApiGroup.make("inspector")
  .add(HttpApiEndpoint.get("root", "/").addSuccess(HttpApiSchema.Empty(302)).annotate(OpenApi.Description, "Redirects to `/inspector/`."))
  .add(HttpApiEndpoint.get("inspectorRedirect", "/inspector").addSuccess(HttpApiSchema.Empty(302)).annotate(OpenApi.Description, "Redirects to `/inspector/`."))
  .add(HttpApiEndpoint.get("page", "/inspector/").addSuccess(Text("text/html; charset=utf-8")).annotate(OpenApi.Description, "The inspector page (it asks for the token itself)."))
  .add(
    withErrors(
      HttpApiEndpoint.get("file", "/inspector/:file")
        .setPath(Schema.Struct({ file: Schema.String.annotations({ description: "a file of the inspector folder: `app.js`, `style.css`, ..." }) }))
        .addSuccess(Text("text/javascript; charset=utf-8")),
      404
    ).annotate(OpenApi.Description, "The inspector's scripts, styles and images (html, js, css, svg).")
  )
  .add(
    withErrors(
      HttpApiEndpoint.get("vendor", "/inspector/vendor/:file")
        .setPath(Schema.Struct({ file: Schema.Literal("elk.bundled.js", "elk-api.js", "elk-worker.min.js") }))
        .addSuccess(Text("text/javascript; charset=utf-8")),
      404
    ).annotate(OpenApi.Description, "The ELK layout engine, from `node_modules/elkjs`.")
  )
  .annotate(OpenApi.Description, "The inspector's static files: no token (they hold no data).")

// ---- /api: the bearer token on every route ------------------------------------------------------

const node = HttpApiGroup.make("node")
  .add(HttpApiEndpoint.get("status", "/api/status").addSuccess(NodeStatusView).annotate(OpenApi.Description, "Node state, trading state per account with its causes, uptime, counts."))
  .add(HttpApiEndpoint.get("actors", "/api/actors").addSuccess(ActorTreeNodeView).annotate(OpenApi.Description, "The supervision tree with states, restarts and machines."))
  .add(
    withErrors(HttpApiEndpoint.get("actor", "/api/actors/:id").setPath(Id("an actor id, percent-encoded")).addSuccess(ActorDetailView), 400, 404).annotate(
      OpenApi.Description,
      "One actor: its machine state, context and last transitions (time travel)."
    )
  )
  .add(HttpApiEndpoint.get("positions", "/api/positions").addSuccess(Schema.Array(PositionViewSchema)).annotate(OpenApi.Description, "Positions and PnL (decimals as text)."))
  .add(
    HttpApiEndpoint.get("risk", "/api/risk")
      .addSuccess(RiskViewSchema)
      .annotate(OpenApi.Description, "Portfolio risk: VaR/ES, stress and the day's loss against their limits, with headroom, per account and firm-wide; the newest alerts and each webhook's deliveries.")
  )
  .add(
    withErrors(HttpApiEndpoint.get("reportSource", "/api/report/source").addSuccess(ReportSourceSchema), 404, 503).annotate(
      OpenApi.Description,
      "The post-trade report's input from the daemon's own store (`troupe report` while the daemon runs)."
    )
  )
  .add(
    withErrors(HttpApiEndpoint.get("stream", "/api/stream").addSuccess(HttpApiSchema.Empty(101)), 426).annotate(
      OpenApi.Description,
      "WebSocket upgrade: inspection and canonical events as JSON messages. The token goes in the `Authorization` header, the `token` query parameter, or the first message `{\"token\":\"...\"}`. A plain GET answers 426."
    )
  )
  .add(HttpApiEndpoint.get("openapi", "/api/openapi.json").addSuccess(Schema.Record({ key: Schema.String, value: Schema.Unknown })).annotate(OpenApi.Description, "This document."))
  .annotate(OpenApi.Description, "The node, its actors, positions and the report's source.")

const orders = HttpApiGroup.make("orders")
  .add(
    withErrors(
      HttpApiEndpoint.get("list", "/api/orders")
        .setUrlParams(Schema.Struct({ open: optional(BoolParam.annotations({ description: "1 or true: live orders only" })) }))
        .addSuccess(Schema.Array(OrderViewSchema)),
      400
    ).annotate(OpenApi.Description, "Every order the daemon holds (live and recently finished).")
  )
  .add(
    withErrors(
      HttpApiEndpoint.get("search", "/api/orders/search")
        .setUrlParams(
          Schema.Struct({
            id: optional(Schema.String.annotations({ description: "substring of the client or venue order id" })),
            instrument: optional(Schema.String),
            strategy: optional(Schema.String),
            state: optional(Schema.String.annotations({ description: "the order machine's state, or its last segment" })),
            open: optional(BoolParam),
            from: optional(Schema.String.annotations({ description: "epoch ms or ISO-8601, inclusive" })),
            to: optional(Schema.String.annotations({ description: "epoch ms or ISO-8601, inclusive" })),
            limit: optional(Schema.String.annotations({ description: "page size, an integer 1..500 (default 100)" })),
            cursor: optional(Schema.String.annotations({ description: "the `next` of the previous page" })),
            facets: optional(BoolParam.annotations({ description: "1: also the distinct instruments, strategies and states" }))
          })
        )
        .addSuccess(OrderPageView),
      400
    ).annotate(OpenApi.Description, "Orders behind a filter, newest first, paged by a stable cursor.")
  )
  .annotate(OpenApi.Description, "Orders.")

const strategies = HttpApiGroup.make("strategies")
  .add(HttpApiEndpoint.get("list", "/api/strategies").addSuccess(Schema.Array(StrategyViewSchema)).annotate(OpenApi.Description, "Every strategy with its state and parameters."))
  .add(
    withErrors(HttpApiEndpoint.post("add", "/api/strategies").setPayload(AddStrategyBody).addSuccess(StrategyViewSchema), 400, 409, 413, 422, 503).annotate(
      OpenApi.Description,
      "Load a strategy module (an absolute path on the daemon's machine) and start it."
    )
  )
  .add(
    withErrors(HttpApiEndpoint.get("page", "/api/strategies/:id/page").setPath(Id("a strategy id")).addSuccess(StrategyPageView), 400, 404).annotate(
      OpenApi.Description,
      "The inspector's strategy page: parameters, positions, open orders, PnL."
    )
  )
  .add(
    withErrors(
      HttpApiEndpoint.post("action", "/api/strategies/:id/:action")
        .setPath(Schema.Struct({ id: Schema.String, action: Schema.Literal("start", "stop", "restart", "reconfigure") }))
        .setPayload(StrategyActionBody)
        .addSuccess(StrategyViewSchema),
      400,
      404,
      409,
      413,
      422,
      503
    ).annotate(OpenApi.Description, "Start, stop, restart or reconfigure (`params` required) a strategy without stopping the daemon.")
  )
  .annotate(OpenApi.Description, "Strategies, managed while the daemon runs.")

const operatorEndpoint = <const Name extends string, const Path extends `/${string}`>(name: Name, path: Path, description: string) =>
  withErrors(HttpApiEndpoint.post(name, path).setPayload(OperatorBody).addSuccess(OperatorResultView), 400, 409, 413, 503).annotate(OpenApi.Description, description)

const operator = HttpApiGroup.make("operator")
  .add(operatorEndpoint("halt", "/api/halt", "Halt every account (submits and modifies denied, cancels pass); `cancelAll` also cancels every open order."))
  .add(operatorEndpoint("reduce", "/api/reduce", "Reduce-only on every account; `cancelAll` also cancels every open order."))
  .add(operatorEndpoint("resume", "/api/resume", "Lift the operator's halt or reduce-only, or with `cause` one automatic cause."))
  .add(operatorEndpoint("cancelAll", "/api/cancel-all", "Cancel every open order of every account; the trading state is unchanged."))
  .add(
    withErrors(HttpApiEndpoint.post("reconcileAccept", "/api/reconcile/accept").setPayload(OperatorBody).addSuccess(ReconcileAcceptView), 400, 409, 413, 503).annotate(
      OpenApi.Description,
      "Take the venue's side of every position mismatch and lift the reconciliation cause."
    )
  )
  .annotate(OpenApi.Description, "The kill switch. Every command is journaled and audited with who, why and the client.")

const machineRoutes = HttpApiGroup.make("machines")
  .add(HttpApiEndpoint.get("list", "/api/machines").addSuccess(Schema.Array(MachineSummaryView)).annotate(OpenApi.Description, "The lifecycle machines."))
  .add(
    withErrors(
      HttpApiEndpoint.get("get", "/api/machines/:name")
        .setPath(Schema.Struct({ name: Schema.String.annotations({ description: "`order`, `book-sync`, `strategy`, ..." }) }))
        .setUrlParams(Schema.Struct({ format: optional(Schema.Literal("json", "mermaid")) }))
        .addSuccess(MachineGraphView)
        .addSuccess(Text("text/plain; charset=utf-8")),
      400,
      404
    ).annotate(OpenApi.Description, "A machine's graph as JSON, or `format=mermaid` for a Mermaid `stateDiagram-v2`.")
  )
  .annotate(OpenApi.Description, "The lifecycle machines' definitions.")

export const controlApiSpec = HttpApi.make("troupe")
  .add(probes)
  .add(inspector)
  .add(node.middleware(BearerToken).addError(ErrorBody, { status: 401 }))
  .add(orders.middleware(BearerToken).addError(ErrorBody, { status: 401 }))
  .add(strategies.middleware(BearerToken).addError(ErrorBody, { status: 401 }))
  .add(operator.middleware(BearerToken).addError(ErrorBody, { status: 401 }))
  .add(machineRoutes.middleware(BearerToken).addError(ErrorBody, { status: 401 }))
  .addError(ErrorBody, { status: 405 })
  .addError(ErrorBody, { status: 421 })
  .addError(ErrorBody, { status: 500 })
  .annotate(OpenApi.Title, "Troupe control API")
  .annotate(OpenApi.Version, "0.1.0")
  .annotate(
    OpenApi.Description,
    "Control a running Troupe daemon: status, actors, orders, positions, strategies, the kill switch. Loopback by default; every request must carry a `Host` the daemon answers to (else 421)."
  )

/** The inline JSON Schema of `ErrorBody` (the only error body with a top-level `error` object). */
const isErrorBody = (v: unknown): boolean => typeof v === "object" && v !== null && (v as { properties?: { error?: unknown } }).properties?.error !== undefined

const ERROR_REF = { $ref: "#/components/schemas/Error" }

/**
 * The OpenAPI 3.1 document of `controlApiSpec`. Two corrections to what `OpenApi.fromApi`
 * writes: our error answers are all `Error` (one named component, not copies inline), and the
 * 400 that HttpApi declares on every route for its own decoder (`HttpApiDecodeError`, which this
 * server never sends) is kept only where a route can really answer 400, as `Error`.
 */
export const openApiDocument = (): Record<string, unknown> => {
  // A copy: `fromApi` caches its answer per API, and this function edits it.
  const doc = structuredClone(OpenApi.fromApi(controlApiSpec)) as unknown as {
    paths: Record<string, Record<string, { responses: Record<string, { description: string; content?: Record<string, { schema: unknown }> }> }>>
    components: { schemas: Record<string, unknown> }
  }
  let errorSchema: unknown
  for (const operations of Object.values(doc.paths)) {
    for (const operation of Object.values(operations)) {
      for (const [status, response] of Object.entries(operation.responses)) {
        const json = response.content?.["application/json"]
        if (status === "101" || status === "302") response.description = ERROR_DESCRIPTIONS[status] as string
        if (json === undefined) continue
        if (Number(status) < 400) {
          // A route that answers JSON or text (`/api/machines/:name?format=mermaid`): the text is its own content type.
          const anyOf = (json.schema as { anyOf?: ReadonlyArray<{ type?: string }> }).anyOf
          const text = anyOf?.find((v) => v.type === "string")
          if (anyOf !== undefined && text !== undefined && response.content !== undefined) {
            const rest = anyOf.filter((v) => v !== text)
            json.schema = rest.length === 1 ? rest[0] : { anyOf: rest }
            response.content["text/plain; charset=utf-8"] = { schema: text }
          }
          continue
        }
        const schema = json.schema as { anyOf?: ReadonlyArray<unknown> }
        const variants = schema.anyOf ?? [schema]
        const ours = variants.find(isErrorBody)
        if (ours === undefined) {
          delete operation.responses[status]
          continue
        }
        errorSchema ??= ours
        json.schema = ERROR_REF
        if (status === "400") response.description = "Bad request: a malformed body, query parameter or path (`field` names it)"
        else response.description = ERROR_DESCRIPTIONS[status] ?? response.description
      }
    }
  }
  for (const name of ["HttpApiDecodeError", "Issue", "PropertyKey"]) delete doc.components.schemas[name]
  dropBuiltinIds(doc)
  doc.components.schemas["Error"] = errorSchema
  return doc as unknown as Record<string, unknown>
}

/**
 * Effect writes `Schema.Unknown` as `{"$id":"/schemas/unknown"}` wherever it occurs; one `$id`
 * used twice in a document is invalid JSON Schema (the validator refuses it), and `{}` means the
 * same: any value.
 */
const dropBuiltinIds = (node: unknown): void => {
  if (Array.isArray(node)) for (const item of node) dropBuiltinIds(item)
  else if (typeof node === "object" && node !== null) {
    const record = node as Record<string, unknown>
    if (typeof record["$id"] === "string" && record["$id"].startsWith("/schemas/")) delete record["$id"]
    for (const value of Object.values(record)) dropBuiltinIds(value)
  }
}

const ERROR_DESCRIPTIONS: Readonly<Record<string, string>> = {
  "101": "Switching protocols: the WebSocket stream",
  "302": "Found: redirects to `/inspector/`",
  "401": "Unauthorized: no or a wrong bearer token",
  "404": "Not found",
  "405": "Method not allowed (the `Allow` header lists the allowed ones)",
  "409": "Conflict with the current state (a strategy already running, the node draining)",
  "413": "The body is larger than 64 KiB",
  "421": "The `Host` header names a host this daemon does not answer to (DNS-rebinding guard)",
  "422": "The strategy refused the parameters",
  "426": "Upgrade required: this route is a WebSocket",
  "500": "Internal error (the daemon's log has the cause)",
  "503": "Unavailable: the node is not running yet, or is draining"
}
