import type { HttpApi, HttpApiEndpoint, HttpApiGroup, HttpApiMiddleware } from "@effect/platform"
import { Data, type Effect } from "effect"
import type { ControlError } from "../control.js"
import { BearerToken, controlApiSpec } from "./api.js"

/**
 * The server's routing table, derived from the API definition (`api.ts`): one route per
 * endpoint, with its method, its path as a pattern, whether it needs the bearer token, and the
 * handler registered for it under the same group and name. A handler table that misses an
 * endpoint (or names one the definition lacks) does not compile, and `routeTable` refuses it at
 * start as well; so the served routes and the OpenAPI document are the same set by construction.
 */

export class HttpError extends Data.TaggedError("HttpError")<{
  readonly status: number
  readonly message: string
  readonly field?: string
  readonly headers?: Readonly<Record<string, string>>
}> {}

/** What a handler answers: JSON of the endpoint's success type, text (metrics, files, Mermaid), or an empty answer with headers (redirects). */
export type Reply<S = unknown> =
  | { readonly status: number; readonly json: S }
  | { readonly status: number; readonly text: string | Buffer; readonly contentType: string; readonly headers?: Readonly<Record<string, string>> }
  | { readonly status: number; readonly empty: true; readonly headers: Readonly<Record<string, string>> }

export interface RouteRequest {
  readonly url: URL
  /** Path parameters by name, percent-decoded. */
  readonly params: Readonly<Record<string, string>>
  readonly body: () => Effect.Effect<string, HttpError>
  /** Which client asked, for the audit trail: its User-Agent and address. */
  readonly client: string
}

export type Handler<S = unknown> = (req: RouteRequest) => Effect.Effect<Reply<S>, HttpError | ControlError>

type Groups = typeof controlApiSpec extends HttpApi.HttpApi<infer _Id, infer G, infer _E, infer _R> ? G : never

/** A handler for every endpoint of every group, each typed by its endpoint's success schema. */
export type HandlerTable = {
  readonly [G in Groups as HttpApiGroup.HttpApiGroup.Name<G>]: {
    readonly [E in HttpApiGroup.HttpApiGroup.Endpoints<G> as HttpApiEndpoint.HttpApiEndpoint.Name<E>]: Handler<HttpApiEndpoint.HttpApiEndpoint.Success<E>>
  }
}

export interface Route {
  /** `group.endpoint`, the OpenAPI `operationId`. */
  readonly name: string
  readonly method: string
  /** As in the definition: `/api/actors/:id`. */
  readonly path: string
  readonly pattern: RegExp
  readonly paramNames: ReadonlyArray<string>
  /** Needs `Authorization: Bearer <token>`. */
  readonly authenticated: boolean
  readonly handler: Handler
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

/** `/api/actors/:id` → `^/api/actors/([^/]+)$` and `["id"]`. */
export const compilePath = (path: string): { readonly pattern: RegExp; readonly paramNames: ReadonlyArray<string> } => {
  const paramNames: string[] = []
  const source = path
    .split("/")
    .map((segment) => {
      const m = /^:(\w+)$/.exec(segment)
      if (m === null) return escape(segment)
      paramNames.push(m[1] as string)
      return "([^/]+)"
    })
    .join("/")
  return { pattern: new RegExp(`^${source}$`), paramNames }
}

export const routeTable = (handlers: HandlerTable): ReadonlyArray<Route> => {
  const table = handlers as unknown as Readonly<Record<string, Readonly<Record<string, Handler>> | undefined>>
  const routes: Route[] = []
  const seen = new Set<string>()
  for (const group of Object.values(controlApiSpec.groups) as unknown as ReadonlyArray<HttpApiGroup.HttpApiGroup.AnyWithProps>) {
    for (const endpoint of Object.values(group.endpoints)) {
      const name = `${group.identifier}.${endpoint.name}`
      const handler = table[group.identifier]?.[endpoint.name]
      if (handler === undefined) throw new Error(`control API: no handler for ${name} (${endpoint.method} ${endpoint.path})`)
      seen.add(name)
      routes.push({ name, method: endpoint.method, path: endpoint.path, ...compilePath(endpoint.path), authenticated: endpoint.middlewares.has(BearerToken as unknown as HttpApiMiddleware.TagClassAny), handler })
    }
  }
  for (const [group, endpoints] of Object.entries(table)) {
    for (const endpoint of Object.keys(endpoints ?? {})) {
      if (!seen.has(`${group}.${endpoint}`)) throw new Error(`control API: a handler for ${group}.${endpoint}, which the API definition does not have`)
    }
  }
  return routes
}
