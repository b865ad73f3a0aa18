import { riskView } from "../portfolio-risk/surface.js"
import { Effect, Either, type Schema } from "effect"
import { allStateNodes, exportMachine, findMachine, machines, toGraphJson } from "../../machines/index.js"
import { ControlError, type DaemonControl, type OperatorCommand, type StrategyAction } from "../control.js"
import { AddStrategyBody, decodeBody, OperatorBody, StrategyActionBody, type BodyError } from "./bodies.js"
import { openApiDocument } from "./api.js"
import { parseOrderQuery, searchOrders, strategyPage, type StrategyPage } from "./order-search.js"
import { HttpError, type HandlerTable, type Reply, type RouteRequest } from "./router.js"
import { INSPECTOR_CSP, readInspectorFile } from "./static.js"

/**
 * What each endpoint of `api.ts` does, as thin handlers over `DaemonControl`. Request bodies are
 * decoded with the endpoint's own payload schema from the definition.
 */

export interface HandlerDeps {
  readonly control: DaemonControl
  /** The `/metrics` body (the daemon's registry, plus the API's own when it keeps one). */
  readonly metricsText: () => Effect.Effect<string>
  readonly staticDir: string
  /** Each strategy's PnL sampled over time; none when absent. */
  readonly pnlHistory?: (strategyId: string) => StrategyPage["pnlHistory"]
}

const ok = <S>(json: S): Reply<S> => ({ status: 200, json })
const text = (body: string | Buffer, contentType: string, headers?: Readonly<Record<string, string>>): Reply<never> => ({ status: 200, text: body, contentType, ...(headers === undefined ? {} : { headers }) })
const redirect = (location: string): Reply<never> => ({ status: 302, empty: true, headers: { location } })

const decoded = <A, I>(schema: Schema.Schema<A, I>, req: RouteRequest): Effect.Effect<A, HttpError> =>
  Effect.flatMap(req.body(), (body) =>
    Either.match(decodeBody(schema, body), {
      onLeft: (e: BodyError) => Effect.fail(new HttpError({ status: 400, message: e.message, field: e.field })),
      onRight: Effect.succeed
    })
  )

// The definition's payload schemas (`api.ts` declares these very objects).
const OperatorPayload = OperatorBody
const AddStrategyPayload = AddStrategyBody
const StrategyActionPayload = StrategyActionBody

const STRATEGY_ACTIONS: ReadonlyArray<StrategyAction> = ["start", "stop", "restart", "reconfigure"]

const param = (req: RouteRequest, name: string): string => req.params[name] ?? ""

export const makeHandlers = ({ control, metricsText, staticDir, pnlHistory }: HandlerDeps): HandlerTable => {
  const operatorCommand = (command: "halt" | "reduce" | "resume" | "cancelAll" | "reconcileAccept", req: RouteRequest) =>
    Effect.gen(function* () {
      const body = yield* decoded(OperatorPayload, req)
      if (body.cause !== undefined && command !== "resume") return yield* new HttpError({ status: 400, message: "field cause: only resume lifts a cause", field: "cause" })
      if (body.cancelAll !== undefined && command !== "halt" && command !== "reduce") return yield* new HttpError({ status: 400, message: "field cancelAll: only halt and reduce take it", field: "cancelAll" })
      const cmd: OperatorCommand = {
        who: body.who ?? "api",
        why: body.why,
        ...(body.cancelAll === undefined ? {} : { cancelAll: body.cancelAll }),
        ...(body.cause === undefined ? {} : { cause: body.cause }),
        client: req.client
      }
      return cmd
    })
  const operatorRoute = (command: "halt" | "reduce" | "resume" | "cancelAll") => (req: RouteRequest) =>
    Effect.flatMap(operatorCommand(command, req), (cmd) => Effect.map(control[command](cmd), ok))

  const inspectorFile = (rest: string) =>
    Effect.flatMap(
      Effect.promise(() => readInspectorFile(staticDir, rest)),
      (file) =>
        file === undefined
          ? Effect.fail(new HttpError({ status: 404, message: `no inspector file /inspector/${rest}` }))
          : Effect.succeed(text(file.body, file.contentType, { "content-security-policy": INSPECTOR_CSP, "cache-control": "no-cache" }))
    )

  const document = openApiDocument()

  return {
    probes: {
      healthz: () => Effect.succeed(ok({ ok: true as const })),
      readyz: () => Effect.flatMap(control.ready(), (r) => (r.ready ? Effect.succeed(ok(r)) : Effect.fail(new HttpError({ status: 503, message: `not ready: the node is ${r.node}` })))),
      metrics: () => Effect.map(metricsText(), (body) => text(body, "text/plain; version=0.0.4; charset=utf-8"))
    },
    inspector: {
      root: () => Effect.succeed(redirect("/inspector/")),
      inspectorRedirect: () => Effect.succeed(redirect("/inspector/")),
      page: () => inspectorFile(""),
      file: (req) => inspectorFile(param(req, "file")),
      vendor: (req) => inspectorFile(`vendor/${param(req, "file")}`)
    },
    node: {
      status: () => Effect.map(control.status(), ok),
      actors: () => Effect.map(control.actors(), ok),
      actor: (req) => Effect.map(control.actor(param(req, "id")), ok),
      positions: () => Effect.map(control.positions(), ok),
      risk: () => Effect.map(control.portfolioRisk?.() ?? Effect.succeed(riskView(undefined, undefined)), ok),
      reportSource: () =>
        control.reportSource === undefined ? Effect.fail(new HttpError({ status: 404, message: "this daemon does not serve the report's source" })) : Effect.map(control.reportSource(), ok),
      // The upgrade is answered before routing (server.ts); a plain GET lands here.
      stream: () => Effect.fail(new HttpError({ status: 426, message: "/api/stream is a WebSocket: connect with an Upgrade: websocket request", headers: { upgrade: "websocket" } })),
      openapi: () => Effect.succeed(ok(document))
    },
    orders: {
      list: (req) => {
        const open = req.url.searchParams.get("open")
        if (open !== null && !["1", "0", "true", "false"].includes(open)) {
          return Effect.fail(new HttpError({ status: 400, message: `query open: expected 1 | 0 | true | false, got ${JSON.stringify(open)}`, field: "open" }))
        }
        return Effect.map(control.orders(open === null ? {} : { open: open === "1" || open === "true" }), ok)
      },
      search: (req) =>
        Either.match(parseOrderQuery(req.url.searchParams), {
          onLeft: (e) => Effect.fail(new HttpError({ status: 400, message: e.message, field: e.field })),
          onRight: (q) => Effect.map(control.orders({}), (all) => ok(searchOrders(all, q)))
        })
    },
    strategies: {
      list: () => Effect.map(control.strategies(), ok),
      add: (req) =>
        Effect.gen(function* () {
          const body = yield* decoded(AddStrategyPayload, req)
          return ok(
            yield* control.strategyCommand({
              action: "add",
              file: body.file,
              ...(body.id === undefined ? {} : { id: body.id }),
              ...(body.params === undefined ? {} : { params: body.params }),
              who: body.who ?? "api",
              ...(body.why === undefined ? {} : { why: body.why }),
              client: req.client
            })
          )
        }),
      page: (req) =>
        Effect.gen(function* () {
          const id = param(req, "id")
          const strategy = (yield* control.strategies()).find((s) => s.id === id)
          if (strategy === undefined) return yield* new ControlError({ code: "NotFound", message: `no strategy ${JSON.stringify(id)}` })
          return ok(strategyPage(strategy, yield* control.positions(), yield* control.orders({}), pnlHistory?.(id) ?? []))
        }),
      action: (req) =>
        Effect.gen(function* () {
          const id = param(req, "id")
          const action = param(req, "action")
          const known = STRATEGY_ACTIONS.find((a) => a === action)
          if (known === undefined) return yield* new HttpError({ status: 404, message: `no strategy action ${JSON.stringify(action)} (${STRATEGY_ACTIONS.join(", ")})` })
          const body = yield* decoded(StrategyActionPayload, req)
          if (known === "reconfigure" && body.params === undefined) return yield* new HttpError({ status: 400, message: "field params: expected an object, got nothing (missing)", field: "params" })
          return ok(
            yield* control.strategyCommand({
              id,
              action: known,
              ...(body.params === undefined ? {} : { params: body.params }),
              who: body.who ?? "api",
              ...(body.why === undefined ? {} : { why: body.why }),
              client: req.client
            })
          )
        })
    },
    operator: {
      halt: operatorRoute("halt"),
      reduce: operatorRoute("reduce"),
      resume: operatorRoute("resume"),
      cancelAll: operatorRoute("cancelAll"),
      reconcileAccept: (req) => Effect.flatMap(operatorCommand("reconcileAccept", req), (cmd) => Effect.map(control.reconcileAccept(cmd), ok))
    },
    machines: {
      list: () => Effect.succeed(ok(machines.map((m) => ({ name: m.name, version: m.version, description: m.description })))),
      get: (req) => {
        const name = param(req, "name")
        const entry = findMachine(name)
        if (entry === undefined) return Effect.fail(new HttpError({ status: 404, message: `no machine ${JSON.stringify(name)} (${machines.map((m) => m.name).join(", ")})` }))
        const format = req.url.searchParams.get("format") ?? "json"
        // The inspector also needs each state's type (history pseudo-states are drawn as their parent).
        if (format === "json") {
          const states = allStateNodes(entry.machine).map((n) => ({ id: n.id, type: n.type }))
          return Effect.succeed(ok({ ...toGraphJson(entry.machine, entry.version), states }))
        }
        if (format === "mermaid") return Effect.succeed(text(exportMachine(entry, "mermaid"), "text/plain; charset=utf-8"))
        return Effect.fail(new HttpError({ status: 400, message: `query format: expected json | mermaid, got ${JSON.stringify(format)}`, field: "format" }))
      }
    }
  }
}
